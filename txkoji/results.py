"""The result-typing registry: which hub method answers with which type.

One registry serves single calls and multicalls alike.  :data:`RESULT_TYPES`
is a plain table, ``method -> ("module:Class", shape)``, resolved the first
time a method is looked up, so typing does not depend on which modules were
imported.  Each entry becomes a :class:`ResultType`: the record class the
codec builds top-level structs into while it decodes (so a 10 MB
``listBuilds`` answer becomes ``Build`` objects with no second pass over the
data), and a ``shape`` saying what the answer must look like and how it is
finished (checked, the connection attached, flattened or converted).

An answer that is well-formed XML-RPC but of the wrong shape (an int where a
struct is expected, a list of ints where a list of structs is) is refused
with :class:`~txkoji.exceptions.KojiProtocolError` naming the method.

Layers that add typed methods call :func:`register`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from importlib import import_module
from typing import Any, ClassVar

from munch import Munch

from txkoji.exceptions import KojiProtocolError


class KojiRecord(Munch):  # type: ignore[misc]  # munch ships no type hints
    """Base class of txkoji's rich result objects.

    A ``Munch`` (a dict with attribute access) holding exactly what the hub
    sent.  The :class:`~txkoji.connection.Connection` that fetched it is an
    attribute, never a key, so ``dict(record)`` and ``json.dumps(record)``
    show only hub data.

    :cvar id_fields: the fields holding the record's own id (its web page
        link is built from them), each an integer or nil; an answer with
        anything else there is refused.
    """

    connection: Any = None
    id_fields: ClassVar[tuple[str, ...]] = ("id",)


#: The typed hub methods: ``method -> (record class as "module:Class" or
#: None, shape)``.  See :data:`SHAPES` for the shapes.
RESULT_TYPES: dict[str, tuple[str | None, str]] = {
    "getAverageBuildDuration": (None, "timedelta"),
    "getBuild": ("txkoji.build:Build", "one"),
    "listBuilds": ("txkoji.build:Build", "list"),
    "listTagged": ("txkoji.build:Build", "list"),
    "getLatestBuilds": ("txkoji.build:Build", "list"),
    "getTaskInfo": ("txkoji.task:Task", "one"),
    "listTasks": ("txkoji.task:Task", "list"),
    "getTaskChildren": ("txkoji.task:Task", "list"),
    "getTaskDescendents": ("txkoji.task:Task", "descendents"),
    "getPackage": ("txkoji.package:Package", "one"),
    "listPackages": ("txkoji.package:Package", "list"),
    "getChannel": ("txkoji.channel:Channel", "one"),
    "listChannels": ("txkoji.channel:Channel", "list"),
    "getTag": ("txkoji.tag:Tag", "one"),
    "listTags": ("txkoji.tag:Tag", "list"),
    "getBuildTarget": ("txkoji.target:Target", "one"),
    "getBuildTargets": ("txkoji.target:Target", "list"),
    "getUser": ("txkoji.user:User", "one"),
    "listUsers": ("txkoji.user:User", "list"),
    "getLoggedInUser": ("txkoji.user:User", "one"),
    "getHost": ("txkoji.host:Host", "one"),
    "listHosts": ("txkoji.host:Host", "list"),
}


def _describe(value: Any) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


def _wrong(method: str, value: Any, expected: str) -> KojiProtocolError:
    return KojiProtocolError(
        f"{method or 'the hub'} answered {_describe(value)}, not {expected}",
        method or None,
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_set_attribute = object.__setattr__


def _as_record(rtype: ResultType, value: Any, connection: Any) -> Any:
    """Return a struct as a record of the result type's class, carrying
    ``connection``; other values unchanged.

    :raises KojiProtocolError: when one of the record's ``id_fields`` holds
        something else than an integer or nil.
    """
    cls = rtype.record_class
    if cls is not None and type(value) is not cls and isinstance(value, dict):
        value = cls(value)
    if isinstance(value, KojiRecord):
        for name in value.id_fields:
            found = dict.get(value, name)  # Munch.get is slow Python code
            if found is not None and type(found) is not int and not _is_int(found):
                raise _wrong(rtype.method, found, f"an integer {name}")
        # Munch's __setattr__ is Python code that ends in this very call
        # (``connection`` is a class attribute, so never a key).
        _set_attribute(value, "connection", connection)
    return value


def _one(rtype: ResultType, value: Any, connection: Any) -> Any:
    """A struct, or nil (no such object)."""
    if value is not None and not isinstance(value, dict):
        raise _wrong(rtype.method, value, "a struct or nil")
    return _as_record(rtype, value, connection)


def _records(rtype: ResultType, value: Any, connection: Any, nil: bool) -> list[Any]:
    """Check a list of structs (and nils when ``nil``), and make each
    struct a record in place (a long answer is not copied)."""
    expected = "a list of structs" + (" or nils" if nil else "")
    if not isinstance(value, list):
        raise _wrong(rtype.method, value, expected)
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            if nil and item is None:
                continue
            raise _wrong(rtype.method, item, f"an item of {expected}")
        value[index] = _as_record(rtype, item, connection)
    return value


def _list(rtype: ResultType, value: Any, connection: Any) -> Any:
    """A list of structs."""
    return _records(rtype, value, connection, nil=False)


def _each(rtype: ResultType, value: Any, connection: Any) -> Any:
    """A list holding a struct or nil per id asked (``getTaskInfo([1, 2])``)."""
    return _records(rtype, value, connection, nil=True)


def _count(rtype: ResultType, value: Any, connection: Any) -> Any:
    """An integer (``queryOpts={"countOnly": True}``)."""
    if not _is_int(value):
        raise _wrong(rtype.method, value, "a count")
    return value


def _rows(rtype: ResultType, value: Any, connection: Any) -> Any:
    """A list of arrays (``queryOpts={"asList": True}``)."""
    if not isinstance(value, list) or not all(isinstance(row, list) for row in value):
        raise _wrong(rtype.method, value, "a list of rows")
    return value


def _one_or_each(rtype: ResultType, value: Any, connection: Any) -> Any:
    """Any answer of a one-record method when the call's params are
    unknown: a struct or nil, or a list of them (ids asked in a list)."""
    if isinstance(value, list):
        return _each(rtype, value, connection)
    return _one(rtype, value, connection)


def _list_count_or_rows(rtype: ResultType, value: Any, connection: Any) -> Any:
    """Any answer of a list method when the call's options are unknown."""
    if _is_int(value):
        return value
    if isinstance(value, list) and value and all(isinstance(r, list) for r in value):
        return value
    return _list(rtype, value, connection)


def _descendents(rtype: ResultType, value: Any, connection: Any) -> Any:
    """``{"<task id>": [child, ...]}``, flattened into one list of records
    ordered by task id."""
    expected = 'a struct {"<task id>": [task struct, ...]}'
    if not isinstance(value, dict):
        raise _wrong(rtype.method, value, expected)
    flat = []
    for children in value.values():
        if not isinstance(children, list):
            raise _wrong(rtype.method, children, "a list of task structs")
        for child in children:
            if not isinstance(child, dict) or not _is_int(child.get("id")):
                raise _wrong(rtype.method, child, "a task struct with an integer id")
            flat.append(_as_record(rtype, child, connection))
    flat.sort(key=lambda task: task["id"])
    return flat


def _timedelta(rtype: ResultType, value: Any, connection: Any) -> Any:
    """A number of seconds (or nil), as a ``timedelta``."""
    if value is None:
        return None
    expected = "a number of seconds within a timedelta's range"
    if not (_is_int(value) or isinstance(value, float)):
        raise _wrong(rtype.method, value, expected)
    if isinstance(value, float) and not math.isfinite(value):
        raise _wrong(rtype.method, value, expected)
    try:
        return timedelta(seconds=value)
    except OverflowError:
        raise _wrong(rtype.method, value, expected) from None


def _plain(rtype: ResultType, value: Any, connection: Any) -> Any:
    return value


#: How each shape is checked and finished: ``f(result_type, value,
#: connection) -> value``, raising KojiProtocolError for a wrong shape.
#: The codec builds records while decoding for ``one``, ``list`` and
#: ``descendents``; the other shapes only check.
SHAPES: dict[str, Callable[[ResultType, Any, Any], Any]] = {
    "one": _one_or_each,
    "list": _list_count_or_rows,
    "descendents": _descendents,
    "timedelta": _timedelta,
    "plain": _plain,
}

#: Stricter checks, chosen from a call's params (see :func:`result_type`).
CHECKS: dict[str, Callable[[ResultType, Any, Any], Any]] = {
    **SHAPES,
    "struct": _one,
    "records": _list,
    "each": _each,
    "count": _count,
    "rows": _rows,
}


@dataclass(frozen=True)
class ResultType:
    """How one hub method's answer is typed.

    :ivar record_class: class for the structs at the top of the answer (the
        answer itself, or the items of a top-level list, or for
        ``descendents`` the items of the lists inside the top struct).
    :ivar shape: one of :data:`SHAPES`: where the decoder builds records,
        and (unless ``check`` says otherwise) how the answer is checked.
    :ivar method: the hub method, named in the errors.
    :ivar check: a key of :data:`CHECKS` overriding the shape's check, or
        ``None``.
    """

    record_class: type | None = None
    shape: str = "one"
    method: str = ""
    check: str | None = None

    def finish(self, value: Any, connection: Any) -> Any:
        """Return the decoded ``value`` checked and converted for the
        caller, the connection attached to every record.

        :raises KojiProtocolError: when ``value`` has the wrong shape.
        """
        return CHECKS[self.check or self.shape](self, value, connection)

    def convert(self, value: Any, connection: Any) -> Any:
        """Return ``value`` (decoded with plain structs, or already with
        records) rebuilt into ``record_class`` where it is not yet, and
        finished: the path for multicall entries.

        :raises KojiProtocolError: when ``value`` has the wrong shape.
        """
        return self.finish(value, connection)


PLAIN = ResultType(shape="plain")

_RESOLVED: dict[str, ResultType] = {}


def register(method: str, record_class: type | None, shape: str = "one") -> None:
    """Type the answers of hub method ``method`` (the hook for layers that
    add typed methods; it overrides :data:`RESULT_TYPES`).

    :raises ValueError: when ``shape`` is not one of :data:`SHAPES`.
    """
    if shape not in SHAPES:
        raise ValueError(f"unknown result shape {shape!r} for {method}")
    _RESOLVED[method] = ResultType(record_class, shape, method)
    _REFINED.clear()


def _resolve(method: str) -> ResultType:
    rtype = _RESOLVED.get(method)
    if rtype is None:
        entry = RESULT_TYPES.get(method)
        if entry is None:
            return PLAIN
        where, shape = entry
        cls = None
        if where is not None:
            module, name = where.split(":")
            cls = getattr(import_module(module), name)
        rtype = _RESOLVED[method] = ResultType(cls, shape, method)
    return rtype


def _query_opts(params: list[Any]) -> Mapping[str, Any]:
    """The ``queryOpts`` of a call: the keyword argument, or a positional
    struct holding one of its keys."""
    for param in reversed(params):
        if isinstance(param, Mapping):
            if isinstance(param.get("queryOpts"), Mapping):
                return param["queryOpts"]
            if "countOnly" in param or "asList" in param:
                return param
    return {}


def result_type(method: str, params: list[Any] | None = None) -> ResultType:
    """Return the :class:`ResultType` of ``method`` (plain values when it
    has none).

    :param params: the call's XML-RPC params, when known: they refine the
        shape (a ``countOnly`` list call answers a count, an ``asList`` one
        rows, ``getTaskInfo`` of a list of ids a list).  Without them
        (multicall entries are typed so) any of these is accepted.
    """
    rtype = _resolve(method)
    if params is None:
        return rtype
    shape = rtype.shape
    if shape == "list":
        opts = _query_opts(params)
        if opts.get("countOnly"):
            return _refined(rtype, "count")
        if opts.get("asList"):
            return _refined(rtype, "rows")
        return _refined(rtype, "records")
    if shape == "one":
        if params and isinstance(params[0], list):
            return _refined(rtype, "each")
        return _refined(rtype, "struct")
    return rtype


#: The shape each check of :func:`result_type` decodes with, and whether
#: the decoder builds records for it.
_REFINEMENTS: dict[str, tuple[str, bool]] = {
    "count": ("plain", False),
    "rows": ("plain", False),
    "records": ("list", True),
    "each": ("list", True),
    "struct": ("one", True),
}

#: The refined types made so far, per ``(method, check)``: the same few
#: serve every call (cleared when :func:`register` retypes a method).
_REFINED: dict[tuple[str, str], ResultType] = {}


def _refined(rtype: ResultType, check: str) -> ResultType:
    refined = _REFINED.get((rtype.method, check))
    if refined is None:
        shape, records = _REFINEMENTS[check]
        refined = ResultType(
            rtype.record_class if records else None, shape, rtype.method, check
        )
        _REFINED[(rtype.method, check)] = refined
    return refined
