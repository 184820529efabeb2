"""Sphinx configuration of txkoji's documentation (``bash scripts/docs``)."""

from __future__ import annotations

import importlib
import inspect
import os
import re
import sys
import typing
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS))

from inventories import intersphinx_mapping as _inventories  # noqa: E402
from sphinx.util.docutils import SphinxDirective  # noqa: E402

project = "txkoji"
author = "txkoji contributors"
copyright = "txkoji contributors, MIT license"  # noqa: A001 - Sphinx's name

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "sphinx.ext.graphviz",
]

html_theme = "furo"
html_title = "txkoji"
exclude_patterns = ["_build", "_screenshots", "Thumbs.db", ".DS_Store"]
default_role = "py:obj"
add_module_names = False

# Every cross-reference must resolve (the build runs with -W).
nitpicky = True
nitpick_ignore_regex = [
    # Projects with no Sphinx inventory to be had without the network.
    (
        "py:class",
        r"(munch|rich|OpenSSL|fedora_messaging|proton|cryptography)\..*",
    ),
]

intersphinx_mapping = _inventories(DOCS / "_build" / "inventories")

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True
autodoc_default_options = {"members": True, "show-inheritance": True}
graphviz_output_format = "svg"


def _require_docstring(
    app: Any, what: str, name: str, obj: Any, options: Any, lines: list[str]
) -> None:
    """Warn (an error under -W) about a public name without a docstring."""
    _note_module(what, name)
    if what in {"module", "class", "exception", "function", "method"} and not any(
        line.strip() for line in lines
    ):
        from sphinx.util import logging

        logging.getLogger(__name__).warning(
            "%s %s has no docstring", what, name, type="txkoji", subtype="docstring"
        )


#: The module autodoc is documenting now (set by its docstring event).
_documenting: list[str] = []


def _note_module(what: str, name: str) -> None:
    if what == "module":
        _documenting[:] = [name]


def _skip_reexport(
    app: Any, what: str, name: str, obj: Any, skip: bool, options: Any
) -> bool | None:
    """Document each name once, where it is defined: a package's page does
    not repeat what it re-exports from public modules (names defined in a
    private module are documented where they are exported)."""
    defined = getattr(obj, "__module__", None)
    if what != "module" or not _documenting or not isinstance(defined, str):
        return None
    if not (inspect.isclass(obj) or inspect.isroutine(obj)):
        return None  # data: its value's module says nothing
    if defined == _documenting[0]:
        return None
    private = any(part.startswith("_") for part in defined.split("."))
    if defined.startswith("txkoji") and private:
        return None
    return True


#: Names that annotations use unqualified (imported only for type
#: checking, so left as strings) and module aliases, with what they name.
_ALIASES = {
    "defer.": "twisted.internet.defer.",
    "webclient.": "twisted.web.client.",
    "Request": "twisted.web.server.Request",
    "Path": "pathlib.Path",
    "_thread.allocate_lock": "threading.Lock",
    "IOpenSSLTrustRoot": "twisted.internet._sslverify.IOpenSSLTrustRoot",
}
_INTERFACE = re.compile(r"<InterfaceClass ([\w.]+)>")


_TYPEVAR = re.compile(r"txkoji(?:\.\w+)*\._\w+")


def _bound(match: re.Match[str]) -> str:
    """A private bound TypeVar, shown as its bound."""
    var = _find(match.group(0))
    bound = getattr(var, "__bound__", None)
    if not isinstance(var, typing.TypeVar) or bound is None:
        return match.group(0)
    name = bound.__forward_arg__ if isinstance(bound, typing.ForwardRef) else bound
    module = match.group(0).rsplit(".", 1)[0]
    return f"{module}.{name}"


def _plain_signature(
    app: Any,
    what: str,
    name: str,
    obj: Any,
    options: Any,
    signature: str | None,
    return_annotation: str | None,
) -> tuple[str | None, str | None]:
    """Name zope interfaces and aliased modules as importable dotted names,
    so that they link to Twisted's docs."""

    def fix(text: str | None) -> str | None:
        if text is None:
            return None
        text = _INTERFACE.sub(r"\1", text)
        text = _TYPEVAR.sub(_bound, text)
        for alias, module in _ALIASES.items():
            text = re.sub(rf"(?<![\w.~]){re.escape(alias)}\b", module, text)
        return text

    return fix(signature), fix(return_annotation)


def _public_bases(
    app: Any, name: str, obj: Any, options: Any, bases: list[Any]
) -> None:
    """Show public bases only: a private base is replaced by its own."""
    index = 0
    while index < len(bases):
        base = bases[index]
        if getattr(base, "__name__", "").startswith("_") or _private_module(base):
            bases[index : index + 1] = [b for b in base.__bases__ if b is not object]
            continue
        if getattr(base, "__origin__", None) is typing.Generic:
            del bases[index]
            continue
        index += 1


def _private_module(base: Any) -> bool:
    module = getattr(base, "__module__", "") or ""
    return module.startswith("txkoji") and any(
        part.startswith("_") for part in module.split(".")
    )


def _find(dotted: str) -> Any:
    """The object a dotted name reaches from an importable module, or None."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for part in parts[cut:]:
            obj = getattr(obj, part, None)
            if obj is None:
                return None
        return obj
    return None


def _defined_name(dotted: str) -> str | None:
    """Where the object ``dotted`` names is defined (and so documented),
    when that is another name: ``txkoji.Connection`` gives
    ``txkoji.connection.Connection``, an inherited method the base class's,
    an imported Twisted class Twisted's."""
    if not dotted.startswith("txkoji."):
        return None
    owner_name, _, last = dotted.rpartition(".")
    obj = _find(dotted)
    if obj is None or inspect.ismodule(obj):
        return None
    if hasattr(obj, "__qualname__") and isinstance(
        getattr(obj, "__module__", None), str
    ):
        defined = f"{obj.__module__}.{obj.__qualname__}"
    else:  # an attribute: where the class that defines it is documented
        owner = _find(owner_name)
        if inspect.isclass(owner):
            for klass in owner.__mro__:
                if last in vars(klass):
                    owner = klass
                    break
            defined = f"{owner.__module__}.{owner.__qualname__}.{last}"
        else:
            defined = f"{_defined_name(owner_name) or owner_name}.{last}"
    return defined if defined != dotted else None


def _definitions(target: str) -> list[str]:
    """The dotted names that what ``target`` names has in each public txkoji
    module holding it: modules that cannot import each other name things
    bare, and data documented in one module is re-exported by another."""
    found = _find(target) if target.startswith("txkoji.") else None
    name = target.rsplit(".", 1)[1] if found is not None else target
    head = name.split(".", 1)[0]
    return [
        f"{modname}.{name}"
        for modname, module in sorted(sys.modules.items())
        if modname.startswith("txkoji")
        and not any(part.startswith("_") for part in modname.split("."))
        and head in vars(module)
        and (found is None or vars(module)[head] is found)
    ]


def _resolve(app: Any, env: Any, node: Any, contnode: Any, name: str) -> Any:
    """Resolve ``node`` as a reference to ``name``: here or in another
    project's inventory."""
    if name.startswith("txkoji."):
        return env.get_domain("py").resolve_xref(
            env, node["refdoc"], app.builder, node["reftype"], name, node, contnode
        )
    from sphinx.ext import intersphinx

    named = node.deepcopy()
    named["reftarget"] = name
    return intersphinx.missing_reference(app, env, named, contnode)


def _resolve_reexport(app: Any, env: Any, node: Any, contnode: Any) -> Any:
    """Resolve a reference to a re-exported or inherited name
    (``txkoji.Connection``, ``watch_tasks`` in :mod:`txkoji.watch`) to where
    it is documented."""
    if node.get("refdomain") != "py":
        return None
    interface = _INTERFACE.fullmatch(node["reftarget"])
    if interface is not None:  # the annotation of a property
        from docutils import nodes

        text = nodes.Text(interface.group(1).rsplit(".", 1)[1])
        return _resolve(app, env, node, text, interface.group(1))
    target = node["reftarget"].lstrip("~.")
    if target in _ALIASES:  # the type of an attribute, not in a signature
        return _resolve(app, env, node, contnode, _ALIASES[target])
    module = node.get("py:module")
    klass = node.get("py:class")
    candidates = [target]
    if module:
        candidates.append(f"{module}.{target}")
        if klass:
            candidates.append(f"{module}.{klass}.{target}")
    for candidate in candidates:
        defined = _defined_name(candidate)
        if defined is not None:
            found = _resolve(app, env, node, contnode, defined)
            if found is not None:
                return found
    for defined in _definitions(target):
        found = _resolve(app, env, node, contnode, defined)
        if found is not None:
            return found
    return None


class TxkojiHelp(SphinxDirective):
    """``.. txkoji-help:: [SUBCOMMAND]``: the command's ``--help``, from its
    own parser, so the page cannot fall behind the options."""

    optional_arguments = 1

    def run(self) -> list[Any]:
        """A literal block of the help text."""
        from docutils import nodes

        from txkoji.cli import parser

        os.environ["COLUMNS"] = "80"  # argparse wraps help to the terminal
        top = parser()
        command = self.arguments[0] if self.arguments else None
        if command is None:
            text = top.format_help()
        else:
            choices = next(
                a.choices
                for a in top._actions
                if a.dest == "command"  # noqa: SLF001
            )
            text = choices[command].format_help()
        block = nodes.literal_block(text, text)
        block["language"] = "none"
        return [block]


def setup(app: Any) -> None:
    """Hook the docstring check and the signature clean-ups into autodoc."""
    app.connect("autodoc-process-docstring", _require_docstring)
    app.connect("autodoc-skip-member", _skip_reexport)
    app.connect("autodoc-process-signature", _plain_signature)
    app.connect("autodoc-process-bases", _public_bases)
    app.connect("missing-reference", _resolve_reexport)
    app.add_directive("txkoji-help", TxkojiHelp)
