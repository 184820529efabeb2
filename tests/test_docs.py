"""The documentation site: every example it shows runs against the fake
hub, and every public name of txkoji is in its API reference."""

from __future__ import annotations

import ast
import doctest
import importlib
import importlib.util
import inspect
import os
import pkgutil
import re
import subprocess
import sys
import textwrap

import pytest
import pytest_twisted

import txkoji
from tests.test_examples import ROOT, fedora_profile, run_python

DOCS = ROOT / "docs"
GUIDE = ROOT / "examples" / "guide"

#: What each example of the guide prints (a part of its output).
GUIDE_OUTPUTS = {
    "first_call.py": "bash-5.2.26-1.fc40 COMPLETE",
    "task_tree.py": "build bash f40-candidate",
    "list_builds.py": "hub version 1.35.3",
    "multicall.py": "failed: 1000",
    "logged_in.py": "logged in as alice",
    "subsessions.py": "12 tasks through 4 subsessions",
    "downloads.py": "rpms: bash-5.2.26-2.fc40.x86_64.rpm\n"
    "logs of the failed build: build.noarch.log, build.x86_64.log, "
    "build.aarch64.log",
    "uploads.py": "uploaded 28000 bytes to cli-import/...\nscratch build: task ",
    "fault_injection.py": "the hub said it is offline",
    "memory_transport.py": "bash-5.2.26-3.fc40 FAILED",
    "watch_tasks.py": "50001 build None -> CLOSED",
    "feed.py": "BuildStateChange COMPLETE",
    "code_010.py": "bash-5.2.32-1.fc40 by alice",
    "simulator.py": "task 50601: FAILED\nf40-updates: bash-5.2.26-1.fc40, ",
}
#: Examples that need a message broker, run against the test RabbitMQ by
#: test_docs_bus_examples.py.
BROKER_EXAMPLES = {"bus_protonmsg.py", "bus_fedora.py"}


def included_examples() -> set[str]:
    """The files under examples/ that the pages include."""
    found = set()
    for page in DOCS.rglob("*.rst"):
        for match in re.finditer(
            r"^\.\. literalinclude:: /\.\./(examples/\S+)$", page.read_text(), re.M
        ):
            path = ROOT / match.group(1)
            assert path.is_file(), f"{page} includes a missing {match.group(1)}"
            found.add(str(path.relative_to(ROOT)))
    return found


def test_every_python_example_in_the_docs_is_a_file_that_runs():
    """No page shows Python that the tests cannot run: Python comes from
    examples/ (literalinclude), never from a code block."""
    for page in DOCS.rglob("*.rst"):
        assert ".. code-block:: python" not in page.read_text(), page
    guide = {p.name for p in GUIDE.glob("*.py")}
    assert set(GUIDE_OUTPUTS) | BROKER_EXAMPLES == guide
    included = included_examples()
    assert {f"examples/guide/{name}" for name in guide} <= included
    # The rest are the example scripts test_examples.py runs.
    assert {p for p in included if not p.startswith("examples/guide/")} <= {
        f"examples/{p.name}" for p in (ROOT / "examples").glob("*.py")
    }


@pytest.mark.parametrize("name", sorted(GUIDE_OUTPUTS))
@pytest_twisted.ensureDeferred
async def test_guide_example_runs(tls_hub_server, hub_pki, tmp_path, name):
    """Each example runs with a ``fedora`` profile pointing at the fake hub
    over HTTPS, with a client certificate for the logins."""
    env = fedora_profile(tmp_path, tls_hub_server, hub_pki)
    out = await run_python(str(GUIDE / name), env=env)
    assert GUIDE_OUTPUTS[name] in out, out


def public_modules() -> list[str]:
    """txkoji and every submodule with no private part in its name."""
    names = ["txkoji"]
    for info in pkgutil.walk_packages(txkoji.__path__, "txkoji."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return names


def public_names(modname: str) -> list[tuple[str, object]]:
    """A module's public names: its ``__all__``, else the classes and
    functions it defines without a leading underscore."""
    module = importlib.import_module(modname)
    exported = getattr(module, "__all__", None)
    if exported is not None:
        return [(name, getattr(module, name)) for name in exported]
    return [
        (name, value)
        for name, value in vars(module).items()
        if not name.startswith("_")
        and (inspect.isclass(value) or inspect.isfunction(value))
        and value.__module__ == modname
    ]


@pytest.fixture(scope="module")
def documented() -> set[str]:
    """The names in the built site's inventory (building it if needed:
    incremental when ``bash scripts/docs`` ran)."""
    from sphinx.util.inventory import InventoryFile

    html = DOCS / "_build" / "html"
    subprocess.run(
        [sys.executable, "-m", "sphinx", "-q", "-b", "html"]
        + ["-d", str(DOCS / "_build" / "doctrees"), str(DOCS), str(html)],
        check=True,
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    with open(html / "objects.inv", "rb") as stream:
        inventory = InventoryFile.load(stream, "", os.path.join)
    return {name for entries in inventory.values() for name in entries}


def documented_as(value: object, name: str, documented: set[str]) -> bool:
    """Whether ``value`` is documented where it is defined: a class or
    function by its qualified name, data by a module holding it under the
    same name."""
    if hasattr(value, "__qualname__") and hasattr(value, "__module__"):
        return f"{value.__module__}.{value.__qualname__}" in documented
    for entry in documented:
        owner, _, last = entry.rpartition(".")
        if last == name and owner in sys.modules:
            if getattr(sys.modules[owner], name, None) is value:
                return True
    return False


def test_every_public_name_is_in_the_api_reference(documented):
    missing = []
    for modname in public_modules():
        if modname not in documented:
            missing.append(modname)
        for name, value in public_names(modname):
            if f"{modname}.{name}" in documented:
                continue
            if not documented_as(value, name, documented):
                missing.append(f"{modname}.{name}")
    assert not missing, missing


def docstring_snippets() -> list[tuple[str, str]]:
    """The Python literal blocks (``::``) of the public modules' docstrings,
    shown in the API reference, as (where, code)."""
    snippets = []
    for modname in public_modules():
        module = importlib.import_module(modname)
        docs = [(modname, module.__doc__ or "")]
        docs += [
            (f"{modname}.{name}", inspect.getdoc(value) or "")
            for name, value in public_names(modname)
            if inspect.isclass(value) or inspect.isfunction(value)
        ]
        for where, doc in docs:
            for match in re.finditer(r"::\n\n((?:[ \t]+\S.*\n|\n)+)", doc + "\n"):
                code = textwrap.dedent(match.group(1))
                first = code.lstrip().split(None, 1)[0]
                if first in {"txkoji", "python", "$", "bash", "TXKOJI", "koji"}:
                    continue  # a command line, not Python
                snippets.append((where, code))
    return snippets


def test_docstring_snippets_parse_and_their_imports_resolve():
    """The reference's Python snippets are fragments (they use ``koji``,
    ``await`` at top level), so they are not run: each must parse, and
    every name it imports must exist."""
    snippets = docstring_snippets()
    assert len(snippets) >= 10, snippets  # the scan still finds them
    for where, code in snippets:
        if code.lstrip().startswith(">>>"):
            run_doctest(where, code)
            continue
        try:
            tree = compile(
                code,
                where,
                "exec",
                flags=ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT,
            )
        except SyntaxError as error:
            if code.lstrip().startswith(("[", "{", "<", "#")) or "=" not in code:
                continue  # data or text shown as a literal block
            raise AssertionError(f"{where}: {error}\n{code}") from None
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                module = importlib.import_module(node.module)
                for alias in node.names:
                    assert hasattr(module, alias.name) or importlib.util.find_spec(
                        f"{node.module}.{alias.name}"
                    ), f"{where}: from {node.module} import {alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    importlib.import_module(alias.name)


def run_doctest(where: str, code: str) -> None:
    """Run a ``>>>`` snippet in its module's namespace."""
    modname = where if where in sys.modules else where.rsplit(".", 1)[0]
    namespace = dict(vars(importlib.import_module(modname)))
    test = doctest.DocTestParser().get_doctest(code, namespace, where, None, 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    output: list[str] = []
    runner.run(test, out=output.append)
    assert runner.failures == 0, "".join(output)
