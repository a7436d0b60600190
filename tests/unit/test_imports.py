"""The helper package's modules import each other one way: no cycles, also
counting imports inside functions (a cycle there works until it does not)."""
import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "lecture_utils"


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set:
    """The lecture_utils modules that ``path`` imports, anywhere in it."""
    me = _module(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(max(node.level - 1, 0)):
                base = base.rpartition(".")[0]
            target = (f"{base}.{node.module}" if node.module else base) if node.level else node.module
            if not (target or "").startswith("lecture_utils"):
                continue
            for alias in node.names:  # `from . import data` imports a module
                candidate = f"{target}.{alias.name}"
                found.add(candidate if _exists(candidate) else target)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("lecture_utils")}
    return {m for m in found if m != me}


def _exists(module: str) -> bool:
    path = PACKAGE.parent.joinpath(*module.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def test_no_import_cycles():
    graph = {_module(p): _imports(p) for p in PACKAGE.rglob("*.py")}
    assert "lecture_utils.profile" not in graph["lecture_utils.data"]  # data is below profile

    def visit(node, path):
        if node in path:
            cycle = path[path.index(node):] + [node]
            raise AssertionError("import cycle: " + " -> ".join(cycle))
        for child in sorted(graph.get(node, ())):
            if child in graph:
                visit(child, path + [node])

    for module in sorted(graph):
        visit(module, [])


def test_the_cycle_finder_finds_a_cycle(tmp_path, monkeypatch):
    pkg = tmp_path / "lecture_utils"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from . import b\n")
    (pkg / "b.py").write_text("from .a import f\n")
    (pkg / "data.py").write_text("")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", pkg)
    try:
        test_no_import_cycles()
    except AssertionError as e:
        assert "lecture_utils.a -> lecture_utils.b -> lecture_utils.a" in str(e)
    else:
        raise AssertionError("the cycle a -> b -> a went unnoticed")


def test_the_course_never_imports_the_grading():
    """lecture_utils.grading uses the course's helpers (the data, the exercises),
    never the other way round: only the command line reaches into it."""
    grading = PACKAGE / "grading"
    assert (grading / "__init__.py").exists()
    for path in PACKAGE.rglob("*.py"):
        if grading in path.parents or path.name == "cli.py":
            continue
        reached = {m for m in _imports(path) if m.startswith("lecture_utils.grading")}
        assert not reached, f"{_module(path)} imports {sorted(reached)}"
