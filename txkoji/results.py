"""The result-typing registry: which hub method answers with which type.

One registry serves single calls and multicalls alike.  Each entry names a
:class:`ResultType`: the record class the codec builds top-level structs
into while it decodes (so a 10 MB ``listBuilds`` answer becomes ``Build``
objects with no second pass over the data), and a ``shape`` saying how the
decoded value is finished (attach the connection, flatten, convert).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from munch import Munch


class KojiRecord(Munch):  # type: ignore[misc]  # munch ships no type hints
    """Base class of txkoji's rich result objects.

    A ``Munch`` (a dict with attribute access) holding exactly what the hub
    sent.  The :class:`~txkoji.connection.Connection` that fetched it is an
    attribute, never a key, so ``dict(record)`` and ``json.dumps(record)``
    show only hub data.
    """

    connection: Any = None


def _attach(value: Any, connection: Any) -> Any:
    if isinstance(value, KojiRecord):
        value.connection = connection
    return value


def _attach_all(values: Any, connection: Any) -> Any:
    if isinstance(values, list):
        for value in values:
            if isinstance(value, KojiRecord):
                value.connection = connection
    return values


def _flatten_descendents(value: Any, connection: Any) -> Any:
    """``getTaskDescendents`` answers ``{"<task id>": [child, ...]}``; turn
    that into one list of records, ordered by task id."""
    if not isinstance(value, dict):
        return value
    flat = []
    for children in value.values():
        flat.extend(children)
    flat.sort(key=lambda task: task.get("id") or 0)
    return _attach_all(flat, connection)


def _seconds_to_timedelta(value: Any, connection: Any) -> Any:
    if value is None:
        return None
    return timedelta(seconds=value)


SHAPES: dict[str, Callable[[Any, Any], Any]] = {
    "one": _attach,
    "list": _attach_all,
    "descendents": _flatten_descendents,
    "timedelta": _seconds_to_timedelta,
}


@dataclass(frozen=True)
class ResultType:
    """How one hub method's answer is typed.

    :ivar record_class: class for the structs at the top of the answer (the
        answer itself, or the items of a top-level list, or for
        ``descendents`` the items of the lists inside the top struct).
    :ivar shape: one of :data:`SHAPES`.
    """

    record_class: type | None = None
    shape: str = "one"

    def finish(self, value: Any, connection: Any) -> Any:
        """Return ``value`` converted for the caller, the connection attached
        to every record."""
        return SHAPES[self.shape](value, connection)

    def convert(self, value: Any, connection: Any) -> Any:
        """Return ``value`` (decoded with plain structs, or already with
        records) rebuilt into :attr:`record_class` where it is not yet, and
        finished: the path for multicall entries."""
        cls = self.record_class
        if cls is not None:
            if self.shape == "one":
                value = _as_record(cls, value)
            elif self.shape == "list" and isinstance(value, list):
                value = [_as_record(cls, item) for item in value]
            elif self.shape == "descendents" and isinstance(value, dict):
                value = {
                    key: [_as_record(cls, item) for item in items]
                    for key, items in value.items()
                }
        return self.finish(value, connection)


def _as_record(cls: type, value: Any) -> Any:
    if isinstance(value, dict) and type(value) is not cls:
        return cls(value)
    return value


PLAIN = ResultType()

_REGISTRY: dict[str, ResultType] = {
    "getAverageBuildDuration": ResultType(shape="timedelta"),
}


def register(method: str, record_class: type | None, shape: str = "one") -> None:
    """Register the result type of hub method ``method``.

    :raises ValueError: when ``shape`` is not one of :data:`SHAPES`.
    """
    if shape not in SHAPES:
        raise ValueError(f"unknown result shape {shape!r} for {method}")
    _REGISTRY[method] = ResultType(record_class, shape)


def result_type(method: str) -> ResultType:
    """Return the :class:`ResultType` registered for ``method`` (plain
    values when none is)."""
    return _REGISTRY.get(method, PLAIN)
