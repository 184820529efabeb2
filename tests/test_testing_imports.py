"""The fake hub's modules read top-down: no module of txkoji.testing
imports, even for type checking only, a module that imports it back."""

import ast
from pathlib import Path

import txkoji.testing

PACKAGE = Path(txkoji.testing.__file__).parent
PREFIX = "txkoji.testing"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(name: str) -> bool:
    relative = Path(*name.split("."))
    root = PACKAGE.parent.parent
    return (root / relative).with_suffix(".py").exists() or (
        root / relative / "__init__.py"
    ).exists()


def imports_of(path: Path) -> set[str]:
    """The txkoji.testing modules ``path`` imports, wherever the import
    statement stands (``if TYPE_CHECKING:`` blocks included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [
                f"{node.module}.{alias.name}"
                if is_module(f"{node.module}.{alias.name}")
                else node.module
                for alias in node.names
            ]
        else:
            continue
        found |= {name for name in names if name.startswith(PREFIX)}
    return found


def import_graph() -> dict[str, set[str]]:
    return {
        module_name(path): imports_of(path) - {module_name(path)}
        for path in PACKAGE.rglob("*.py")
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> list[str] | None:
        if name in path:
            return path[path.index(name) :] + [name]
        if name in done:
            return None
        for target in sorted(graph.get(name, ())):
            cycle = visit(target, [*path, name])
            if cycle:
                return cycle
        done.add(name)
        return None

    for name in sorted(graph):
        cycle = visit(name, [])
        if cycle:
            return cycle
    return None


def test_the_fake_hub_has_no_import_cycle():
    graph = import_graph()
    assert "txkoji.testing.dispatch" in graph and "txkoji.testing.hub" in graph
    assert find_cycle(graph) is None


def test_the_cycle_finder_sees_a_type_checking_cycle(tmp_path):
    source = tmp_path / "m.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from txkoji.testing.hub import FakeHub\n"
    )
    graph = {"txkoji.testing.m": imports_of(source), "txkoji.testing.hub": set()}
    graph["txkoji.testing.hub"] = {"txkoji.testing.m"}
    assert find_cycle(graph) == [
        "txkoji.testing.hub",
        "txkoji.testing.m",
        "txkoji.testing.hub",
    ]


def test_importing_txkoji_testing_registers_every_hub_method():
    from txkoji.testing import DEFAULT_METHODS

    for name in ("sslLogin", "logout", "getLoggedInUser", "queryHistory", "build"):
        assert name in DEFAULT_METHODS
