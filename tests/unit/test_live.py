"""Live-coding skeletons and the projector style."""
import matplotlib as mpl
import nbformat
import pytest

from lecture_utils import live, plots


def _notebook(tmp_path):
    nb = nbformat.v4.new_notebook()
    typed = nbformat.v4.new_code_cell("# build model A: Flatten, five SELU layers\nmodel_A = keras.Sequential()",
                                      metadata={"tags": ["live"]})
    typed.outputs = [nbformat.v4.new_output("stream", name="stdout", text="done\n")]
    typed.execution_count = 3
    no_comment = nbformat.v4.new_code_cell("x = 1\n# a comment later", metadata={"tags": ["live", "other"]})
    kept = nbformat.v4.new_code_cell("from lecture_utils.profile import setup_notebook")
    kept.outputs = [nbformat.v4.new_output("stream", name="stdout", text="Profile : full\n")]
    marked = nbformat.v4.new_code_cell("# NBVAL_CHECK_OUTPUT\n# freeze the reused layers\nx = 2",
                                       metadata={"tags": ["live"]})
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"), kept, typed, no_comment, marked]
    path = tmp_path / "06_transfer_learning.ipynb"
    nbformat.write(nb, path)
    return path


def test_live_cells_keep_their_first_comment_and_lose_code_and_outputs(tmp_path):
    source = _notebook(tmp_path)
    target, n = live.write_skeleton(source, tmp_path / "live")
    assert n == 3 and target.name == "06_transfer_learning_live.ipynb"
    cells = nbformat.read(target, as_version=4).cells
    assert cells[0].source == "# Title"
    assert cells[1].source.startswith("from lecture_utils") and cells[1].outputs  # untouched
    assert cells[2].source == "# build model A: Flatten, five SELU layers"
    assert cells[2].outputs == [] and cells[2].execution_count is None
    assert cells[3].source == "" and cells[3].metadata["tags"] == ["live", "other"]
    assert cells[4].source == "# freeze the reused layers"
    assert nbformat.read(source, as_version=4).cells[2].source.endswith("keras.Sequential()")  # source intact


def test_live_never_replaces_a_skeleton_without_force(tmp_path):
    source = _notebook(tmp_path)
    target, _ = live.write_skeleton(source, tmp_path)
    target.write_text(target.read_text().replace("five SELU layers", "five SELU layers (my note)"))
    with pytest.raises(FileExistsError, match="kept it. Use --force"):
        live.write_skeleton(source, tmp_path)
    assert "(my note)" in target.read_text()
    live.write_skeleton(source, tmp_path, force=True)
    assert "(my note)" not in target.read_text()


def test_live_bad_input(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such notebook"):
        live.write_skeleton(tmp_path / "missing.ipynb", tmp_path)
    (tmp_path / "bad.ipynb").write_text("not json")
    with pytest.raises(ValueError, match="is not a Jupyter notebook"):
        live.write_skeleton(tmp_path / "bad.ipynb", tmp_path)
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]), tmp_path / "plain.ipynb")
    with pytest.raises(ValueError, match="has no code cell tagged 'live'"):
        live.write_skeleton(tmp_path / "plain.ipynb", tmp_path / "out")


def test_presentation_style_on_and_off():
    before = mpl.rcParams["font.size"], mpl.rcParams["lines.linewidth"]
    plots.presentation_style()
    plots.presentation_style()          # twice: still restores the original settings
    assert mpl.rcParams["font.size"] == 16 and mpl.rcParams["lines.linewidth"] == 3.0
    plots.presentation_style(False)
    assert (mpl.rcParams["font.size"], mpl.rcParams["lines.linewidth"]) == before


def test_the_cli_writes_a_skeleton_of_a_lecture_notebook(tmp_path, capsys):
    from pathlib import Path

    from lecture_utils import cli

    notebook = Path(__file__).resolve().parents[2] / "notebooks" / "06_transfer_learning.ipynb"
    assert cli.main(["live", str(notebook), "-o", str(tmp_path)]) == 0
    assert "06_transfer_learning_live.ipynb: 4 cell(s) left for you to type" in capsys.readouterr().out
    cells = nbformat.read(tmp_path / "06_transfer_learning_live.ipynb", as_version=4).cells
    assert "# model B on A, exactly as on the slide" in [c.source for c in cells]
    assert cli.main(["live", str(notebook), "-o", str(tmp_path)]) == 2
    assert "kept it. Use --force" in capsys.readouterr().err
