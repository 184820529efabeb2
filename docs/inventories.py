"""Intersphinx inventories built without the network.

The documentation links names such as :class:`~twisted.internet.defer.Deferred`
to the docs of Python, Twisted and treq.  Sphinx normally downloads each
project's ``objects.inv`` at build time; this machine (and CI) reach only
package registries, so the inventories come from what is installed:

* Python: the ``objects.inv`` that Debian's ``python3-doc`` package ships
  (``/usr/share/doc/python3.X/html/objects.inv``, the very file
  docs.python.org serves for that version).  Without it, one is written
  from the installed standard library, pointing at
  ``https://docs.python.org/3.X/library/MODULE.html#NAME``.
* Twisted: written from the installed Twisted, pointing at pydoctor's
  layout on https://docs.twisted.org/en/stable/api/ (a page per module
  and per class, functions and methods as anchors).
* treq: written from the installed treq, pointing at its one API page,
  https://treq.readthedocs.io/en/stable/api.html#NAME.

Their PyPI packages ship no inventory.  Debian's ``twisted-doc`` (about
100 MB, Twisted 22.4 in bookworm) and ``python-treq-doc`` (treq 22.2) do,
for older versions than the ones installed; the inventories written here
follow the same layout (the same URI for ``Deferred``, ``ensureDeferred``,
``Deferred.addCallback``, ``treq.client.HTTPClient``) for the versions
installed.  Run this file to write them (``python docs/inventories.py
DIR``); ``docs/conf.py`` does so before every build.
"""

from __future__ import annotations

import importlib
import inspect
import sys
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

#: Where the projects' documentation lives (the inventories' base URLs).
PYTHON_URL = "https://docs.python.org/{version}/"
TWISTED_URL = "https://docs.twisted.org/en/stable/api/"
TREQ_URL = "https://treq.readthedocs.io/en/stable/"

#: The Twisted modules whose names txkoji's signatures and docs use.
TWISTED_MODULES = (
    "twisted.internet.defer",
    "twisted.internet.interfaces",
    "twisted.internet.task",
    "twisted.internet.ssl",
    "twisted.internet._sslverify",
    "twisted.internet.error",
    "twisted.internet.protocol",
    "twisted.internet.endpoints",
    "twisted.internet.testing",
    "twisted.python.failure",
    "twisted.logger",
    "twisted.web.client",
    "twisted.web.error",
    "twisted.web.iweb",
    "twisted.web.http_headers",
    "twisted.web.resource",
    "twisted.web.server",
    "twisted.application.service",
)
#: The treq modules on its API page.
TREQ_MODULES = ("treq", "treq.client", "treq.testing")
#: Standard library modules for the fallback Python inventory.
STDLIB_MODULES = (
    "asyncio",
    "collections.abc",
    "datetime",
    "json",
    "os",
    "pathlib",
    "ssl",
    "typing",
    "argparse",
)

#: One inventory line: (name, role, uri).
Entry = tuple[str, str, str]


def _defined_in(module: object, name: str, value: object) -> bool:
    """Whether ``value`` is a public name that ``module`` itself defines."""
    return not name.startswith("_") and getattr(value, "__module__", None) == getattr(
        module, "__name__", None
    )


def _role(value: object) -> str | None:
    """The Python domain role of a module member, or None to leave it out."""
    if inspect.isclass(value) or type(value).__name__ == "InterfaceClass":
        return "py:class"
    if inspect.isfunction(value) or inspect.isbuiltin(value):
        return "py:function"
    return None


def _is_method(owner: object, attr: str) -> bool:
    """Whether ``owner.attr`` is a method (of a class or a zope interface)."""
    if inspect.isclass(owner):
        return callable(getattr(owner, attr, None))
    from zope.interface.interface import Method

    return isinstance(owner.get(attr), Method)  # type: ignore[attr-defined]


def module_entries(
    modname: str,
    module_uri: Callable[[str], str],
    member_uri: Callable[[str, str], str],
) -> Iterator[Entry]:
    """The inventory entries of one module: itself, the classes and
    functions it defines, and the methods and attributes of those classes.

    :param module_uri: the URI of a module's page.
    :param member_uri: the URI of a member, from its owner's and its own
        dotted names.
    """
    module = importlib.import_module(modname)
    yield modname, "py:module", module_uri(modname)
    exported = set(getattr(module, "__all__", ()))
    for name, value in sorted(vars(module).items()):
        role = _role(value)
        if role is None or not (name in exported or _defined_in(module, name, value)):
            continue
        full = f"{modname}.{name}"
        yield full, role, member_uri(modname, full)
        defined = f"{value.__module__}.{value.__name__}"
        if defined != full:
            # A name re-exported from a private module: annotations name it
            # by its definition, the docs by where it is exported.
            yield defined, role, member_uri(modname, full)
        if role != "py:class":
            continue
        for attr in sorted(vars(value)) if inspect.isclass(value) else value.names():
            if attr.startswith("_"):
                continue
            kind = "py:method" if _is_method(value, attr) else "py:attribute"
            yield f"{full}.{attr}", kind, member_uri(full, f"{full}.{attr}")


def twisted_entries() -> Iterator[Entry]:
    """Twisted's names, in pydoctor's layout: a page per module and class."""

    def member_uri(owner: str, full: str) -> str:
        return f"{owner}.html#{full.rsplit('.', 1)[1]}"

    for modname in TWISTED_MODULES:
        for name, role, uri in module_entries(
            modname, lambda m: f"{m}.html", member_uri
        ):
            if role == "py:class":  # a page of its own
                page, anchor = uri.split(".html#")
                uri = f"{page}.{anchor}.html"
            yield name, role, uri


def treq_entries() -> Iterator[Entry]:
    """treq's names, all on its one API page."""
    for modname in TREQ_MODULES:
        yield from module_entries(
            modname, lambda m: f"api.html#module-{m}", lambda _o, f: f"api.html#{f}"
        )


def stdlib_entries() -> Iterator[Entry]:
    """The standard library's names, a page per module under ``library/``."""
    for modname in STDLIB_MODULES:
        page = f"library/{modname}.html"
        yield from module_entries(
            modname,
            lambda m, page=page: f"{page}#module-{m}",
            lambda _o, f, page=page: f"{page}#{f}",
        )


def write_inventory(
    path: Path, project: str, version: str, entries: Iterator[Entry]
) -> None:
    """Write ``entries`` as a Sphinx (version 2) inventory file."""
    seen: set[str] = set()
    lines = []
    for name, role, uri in entries:
        key = f"{name} {role}"
        if key in seen:
            continue
        seen.add(key)
        lines.append(f"{name} {role} 1 {uri} -\n")
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {project}\n"
        f"# Version: {version}\n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    path.write_bytes(header.encode() + zlib.compress("".join(lines).encode()))


def debian_python_inventory() -> Path | None:
    """Debian's python3-doc inventory for the running Python, if installed."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    path = Path(f"/usr/share/doc/python{version}/html/objects.inv")
    return path if path.is_file() else None


def intersphinx_mapping(directory: Path) -> dict[str, tuple[str, str]]:
    """Write the inventories into ``directory`` (Python's only when Debian's
    is missing) and return Sphinx's ``intersphinx_mapping`` for them."""
    import treq
    import twisted

    directory.mkdir(parents=True, exist_ok=True)
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    python_inv = debian_python_inventory()
    if python_inv is None:
        python_inv = directory / "python.inv"
        write_inventory(python_inv, "Python", version, stdlib_entries())
    twisted_inv = directory / "twisted.inv"
    write_inventory(twisted_inv, "Twisted", twisted.__version__, twisted_entries())
    treq_inv = directory / "treq.inv"
    write_inventory(treq_inv, "treq", treq.__version__, treq_entries())
    return {
        "python": (PYTHON_URL.format(version=version), str(python_inv)),
        "twisted": (TWISTED_URL, str(twisted_inv)),
        "treq": (TREQ_URL, str(treq_inv)),
    }


if __name__ == "__main__":
    for project, (url, inventory) in intersphinx_mapping(Path(sys.argv[1])).items():
        print(f"{project}: {inventory} -> {url}")
