"""The import structure of rgnb: no cycle among module-level imports, no science module on the execution layer,
and no module over 500 lines (read from the source with ast; nothing is imported)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "rgnb"
#: The execution layer: the papermill driver and the CLI that calls it.
EXECUTION = ("rgnb.execute", "papermill")
#: Modules allowed on the execution layer: the CLI entry point and the driver itself.
ENTRY_POINTS = ("rgnb.__main__", "rgnb.execute")
MAX_LINES = 500


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(path: Path, name: str, modules: dict[str, Path], top_level_only: bool) -> set[str]:
    """The modules ``path`` imports: every import, or only those run when the module loads (not inside a
    function, not under ``if TYPE_CHECKING``). ``from pkg import sub`` counts as an import of ``pkg.sub`` only
    (as ``import pkg.sub`` does: the package's own ``__init__`` is never counted for its submodules)."""
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if top_level_only and isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue
            if top_level_only and isinstance(child, ast.If) and _is_type_checking(child):
                for other in child.orelse:
                    visit(other)
                continue
            if isinstance(child, ast.Import):
                found.update(a.name for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    parts = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join(parts + ([base] if base else []))
                submodules = {f"{base}.{a.name}" for a in child.names} & set(modules)
                found.update(submodules)
                if len(submodules) < len(child.names):  # names defined in ``base`` itself
                    found.add(base)
            visit(child)

    visit(tree)
    return found


def _graph(top_level_only: bool) -> dict[str, set[str]]:
    modules = _modules()
    return {name: {m for m in _imports(path, name, modules, top_level_only) if m in modules and m != name}
            for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def connect(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return out


def test_the_graph_reads_the_known_imports():
    graph = _graph(top_level_only=True)
    assert "rgnb.chains.families" in graph["rgnb.chains.sampling"]
    assert "rgnb.chains" in graph["rgnb.mlp.data"]
    assert "rgnb.mlp.train" not in graph["rgnb.mlp.gate"]  # a TYPE_CHECKING import only
    assert "rgnb.mlp.train" in _graph(top_level_only=False)["rgnb.mlp.gate"]


def test_no_cycle_among_the_imports_run_at_load():
    assert _cycles(_graph(top_level_only=True)) == []


def test_no_science_module_imports_the_execution_layer():
    modules = _modules()
    offenders = {name: sorted(m for m in _imports(path, name, modules, top_level_only=False)
                              if m.startswith(EXECUTION))
                 for name, path in modules.items() if name not in ENTRY_POINTS}
    assert {k: v for k, v in offenders.items() if v} == {}


@pytest.mark.parametrize("name", sorted(_modules()))
def test_every_module_is_under_the_size_limit(name):
    assert len(_modules()[name].read_text().splitlines()) < MAX_LINES
