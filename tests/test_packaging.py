"""The set-up a user relies on: pyproject.toml and environment.yml agree, the
README's quickstart is the two commands, the console script is declared."""
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _name_and_spec(requirement: str) -> tuple[str, str]:
    m = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*(.*?)\s*", requirement)
    return m.group(1).lower().replace("_", "-"), m.group(3).replace(" ", "")


def test_pyproject_and_environment_yml_list_the_same_packages():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    declared = dict(map(_name_and_spec, project["dependencies"] + extras["dev"] + extras["jax"] + extras["site"]))
    conda = {}
    text = (ROOT / "environment.yml").read_text()
    for line in text.split("\ndependencies:\n", 1)[1].splitlines():
        # conda's packages, and pip's (indented under "- pip:") but the package itself
        m = re.fullmatch(r"  (?:    )?- ([A-Za-z0-9_.\-]+)\s*([<>=!~].*)?", line)
        if m and m.group(1) not in {"python", "pip"}:
            conda[m.group(1).lower().replace("_", "-")] = (m.group(2) or "").replace(" ", "")
    assert conda == declared, (
        "environment.yml and pyproject.toml disagree:\n"
        f"  only in pyproject.toml: {sorted(set(declared) - set(conda))}\n"
        f"  only in environment.yml: {sorted(set(conda) - set(declared))}\n"
        f"  different versions: {sorted(k for k in declared.keys() & conda.keys() if declared[k] != conda[k])}")
    assert "-e ." in text


def test_pyproject_declares_what_the_course_needs():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {_name_and_spec(r)[0] for r in project["dependencies"]}
    assert {"keras", "tensorflow", "numpy", "matplotlib", "ipywidgets", "jupyterlab"} <= names
    assert dict(map(_name_and_spec, project["dependencies"]))["keras"] == ">=3.0"
    assert {"pytest", "nbval"} <= {_name_and_spec(r)[0] for r in project["optional-dependencies"]["dev"]}
    assert project["optional-dependencies"]["gpu"] == ["tensorflow[and-cuda]>=2.16"]
    assert project["scripts"]["lecture-utils"] == "lecture_utils.cli:main"


def test_readme_quickstart_is_exactly_two_commands():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```(?:sh|bash|console)?\n(.*?)```", section, re.S).group(1)
    commands = [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert commands == ["make lab", "make test"]
    for topic in ("LECTURE_PROFILE=fast", "FASHION_MNIST_DIR", "KERAS_BACKEND=jax"):
        assert topic in readme


def test_ci_installs_the_data_and_chromium_then_runs_make_test():
    lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    installed = {word for line in lines if line.startswith("apt-get install -y -qq ")
                 for word in line.split()[4:]}
    assert {"dataset-fashion-mnist", "chromium"} <= installed  # chromium: tests/test_browser.py
    assert lines[-1] == "make test"
