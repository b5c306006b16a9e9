"""No import cycle inside ``dso_analytics``.

The graph is built with :mod:`ast` from the package's source (nothing is
imported).  What counts as an edge ``A -> B``:

- ``import B`` / ``from B import x`` anywhere in module ``A``: at module level
  AND inside functions or methods (a function-level import is still a
  dependency of ``A`` on ``B``; deferring it hides a cycle, it does not remove
  it).  ``from P import m`` where ``P.m`` is a module is an edge to ``P.m``.
- Relative imports are resolved against ``A``'s package.

What does not count:

- imports under ``if TYPE_CHECKING:`` (never executed; annotations only);
- the implicit import of parent packages (importing ``a.b.c`` runs
  ``a/__init__`` and ``a/b/__init__``; a package re-exporting its submodules is
  the normal layout, not a cycle; an explicit ``from a.b import x`` in a
  submodule of ``a.b`` still counts);
- names loaded by string (``importlib.import_module``), such as the lazy public
  API of ``dso_analytics/__init__.py``.

To see the cycles yourself: ``python -m pytest tests/unit/test_import_cycles.py``
prints every edge of each cycle with its file and line.
"""

from __future__ import annotations

import ast
from pathlib import Path

import dso_analytics

PACKAGE_DIR = Path(dso_analytics.__file__).resolve().parent


def _modules(package_dir: Path, package: str) -> dict[str, Path]:
    """Dotted module name -> source file, for every ``.py`` file of the package."""
    out: dict[str, Path] = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = [package, *path.relative_to(package_dir).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """``id`` of every node inside an ``if TYPE_CHECKING:`` body."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                skip.update(id(n) for n in ast.walk(child))
    return skip


def import_graph(package_dir: Path, package: str) -> dict[str, dict[str, list[str]]]:
    """Module -> {imported module of the package -> ["file:line", ...]}.

    Parameters
    ----------
    package_dir : Path
        The package's folder (the one holding its ``__init__.py``).
    package : str
        Its import name.

    Returns
    -------
    dict
        Every module of the package, with the package modules it imports (see
        the module docstring for what counts).
    """
    modules = _modules(package_dir, package)

    def owner(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, dict[str, list[str]]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        skip = _type_checking_nodes(tree)
        here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        edges: dict[str, list[str]] = {}
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = here[: len(here) - (node.level - 1)]
                    base = ".".join([*parent, base] if base else parent)
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    targets.append(sub if sub in modules else base)
            for target in targets:
                mod = owner(target)
                if mod is not None and mod != name:
                    where = f"{path.relative_to(package_dir.parent)}:{node.lineno}"
                    places = edges.setdefault(mod, [])
                    if where not in places:
                        places.append(where)
        graph[name] = edges
    return graph


def import_cycles(graph: dict[str, dict[str, list[str]]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp: list[str] = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def _describe(graph: dict[str, dict[str, list[str]]], cycle: list[str]) -> str:
    lines = [" <-> ".join(cycle)]
    for a in cycle:
        for b, places in sorted(graph[a].items()):
            if b in cycle:
                lines.append(f"  {a} -> {b} at {', '.join(places)}")
    return "\n".join(lines)


def test_dso_analytics_has_no_import_cycle() -> None:
    graph = import_graph(PACKAGE_DIR, "dso_analytics")
    assert len(graph) > 50  # the whole package was read
    assert "dso_analytics.ingest.generic" in graph["dso_analytics.ingest.profiles"]
    cycles = import_cycles(graph)
    assert not cycles, "import cycles:\n" + "\n".join(_describe(graph, c) for c in cycles)


def _write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_a_function_level_cycle_is_found(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    _write(pkg, "__init__.py", "")
    _write(pkg, "sub/__init__.py", "from pkg.sub.a import f\n")
    _write(pkg, "sub/a.py", "from pkg import base\n\ndef f():\n    from .b import g\n")
    _write(pkg, "sub/b.py", "import pkg.sub.a\n\ndef g():\n    pass\n")
    _write(pkg, "base.py", "")
    graph = import_graph(pkg, "pkg")
    assert graph["pkg.sub.a"] == {"pkg.base": ["pkg/sub/a.py:1"], "pkg.sub.b": ["pkg/sub/a.py:4"]}
    assert import_cycles(graph) == [["pkg.sub.a", "pkg.sub.b"]]
    assert "pkg.sub.a -> pkg.sub.b at pkg/sub/a.py:4" in _describe(
        graph, ["pkg.sub.a", "pkg.sub.b"]
    )


def test_type_checking_imports_and_parent_packages_do_not_count(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    _write(pkg, "__init__.py", "from pkg.a import f\n")
    _write(
        pkg,
        "a.py",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.b import g\n",
    )
    _write(pkg, "b.py", "from pkg.a import f\n")
    graph = import_graph(pkg, "pkg")
    assert graph["pkg.a"] == {}
    assert graph["pkg.b"] == {"pkg.a": ["pkg/b.py:1"]}
    assert import_cycles(graph) == []
    # an explicit import of the package from its own submodule does count
    _write(pkg, "a.py", "def f():\n    import pkg\n")
    assert import_cycles(import_graph(pkg, "pkg")) == [["pkg", "pkg.a"]]
