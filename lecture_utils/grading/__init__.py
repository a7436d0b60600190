"""Grading: ``lecture-utils grade``, each module named for its side of the sandbox.

On the host (the instructor's machine, or a cluster's worker), with the
batch's permissions:

- :mod:`~lecture_utils.grading.batch`: finds and identifies the submissions,
  builds the autograders, keeps the journal ``--resume`` reads, writes the CSV;
- :mod:`~lecture_utils.grading.submission`: one submission graded, its judge
  and its sandbox forked from the templates, in its memory group, under its
  time limit;
- :mod:`~lecture_utils.grading.cluster`: the submissions sent to a Dask cluster;
- :mod:`~lecture_utils.grading.memory`: one memory budget per submission (a
  memory cgroup);
- :mod:`~lecture_utils.grading.sandbox`: the bubblewrap command and the
  resource limits the sandbox starts under;
- :mod:`~lecture_utils.grading.safetext`: text that came from a submission,
  made safe for a terminal, a CSV or a report;
- :mod:`~lecture_utils.grading.grades`: the grades CSV read back and checked;
  item analysis and the common mistakes;
- :mod:`~lecture_utils.grading.report`: the class's report (static HTML) and
  each student's feedback;
- :mod:`~lecture_utils.grading.gradebook`: the gradebook for Canvas's and
  Moodle's import, matched to a roster.

Outside the sandbox, deciding the marks:

- :mod:`~lecture_utils.grading.judge`: reads the tests, asks the sandbox for
  the answers, runs the tests on them;
- :mod:`~lecture_utils.grading.checks`: what the tests call (also in the
  students' notebooks, for the public tests' immediate feedback).

Inside the sandbox, as untrusted as the student's code:

- :mod:`~lecture_utils.grading.inside`: runs the notebook, sends its answers.

Both sides:

- :mod:`~lecture_utils.grading.template`: the judge template (here) and the
  sandbox template (in bubblewrap), forked for each submission;
- :mod:`~lecture_utils.grading.wire`: what crosses between sandbox and judge:
  answers as data, never code.

Importing this package imports nothing else (no Keras): import the module you
need.
"""
