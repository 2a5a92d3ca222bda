"""The code stays ruff-clean (lint and format), type-checks (mypy) and keeps its layering
(import-linter), as configured in pyproject.toml."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("args", [["check"], ["format", "--check"]])
def test_ruff_is_clean(args):
    ruff = shutil.which("ruff")
    assert ruff, "ruff is a test dependency: pip install -e '.[test]'"
    result = subprocess.run(
        [ruff, *args, "src", "tests", "bench"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_passes_over_src():
    """(Its cache, .mypy_cache, is git-ignored: a rerun in the inner loop takes a second.)"""
    mypy = shutil.which("mypy")
    assert mypy, "mypy is a test dependency: pip install -e '.[test]'"
    result = subprocess.run(
        [mypy, "src/paperwire"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_type_ignores_are_few_and_narrow():
    """No blanket ``type: ignore``: each names its error code and has a comment saying why,
    after it or on the line above; fewer than ten in all (warn_unused_ignores drops stale
    ones)."""
    found = []
    for path in sorted((ROOT / "src").rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            if "type: ignore" not in line:
                continue
            where = f"{path.relative_to(ROOT)}:{i + 1}"
            found.append(where)
            m = re.search(r"# type: ignore\[[a-z-]+(, ?[a-z-]+)*\](.*)$", line)
            assert m, f"a type: ignore without an error code: {where}"
            why = "#" in m.group(2) or (i > 0 and lines[i - 1].strip().startswith("#"))
            assert why, f"a type: ignore without a reason: {where}"
    assert len(found) < 10, found


def test_layers_hold():
    """The import-linter contracts of pyproject.toml (docs/architecture.md): the core imports
    no slice, no domain imports the web layer or the CLI beyond the listed known edges, the
    sources know nothing of the store, and the store nothing of the slices above it."""
    lint = shutil.which("lint-imports")
    assert lint, "import-linter is a test dependency: pip install -e '.[test]'"
    result = subprocess.run([lint], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_no_import_cycle_inside_the_package():
    """No module of paperwire imports itself back through others (imports inside functions
    count too): a cycle is where layering starts to rot (docs/architecture.md)."""
    grimp = pytest.importorskip("grimp", reason="grimp comes with import-linter (the test extra)")
    graph = grimp.build_graph("paperwire")
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:  # Tarjan's strongly connected components, without recursion
            node, edges = work[-1]
            nxt = next(edges, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph.find_modules_directly_imported_by(nxt)))))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    comp.append(top)
                    if top == node:
                        break
                if len(comp) > 1:
                    cycles.append(sorted(comp))
    assert cycles == [], f"import cycles: {cycles}"
