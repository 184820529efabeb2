"""The in-memory data of one fake hub, and lookups over it."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from twisted.internet.interfaces import IReactorTime

from txkoji.exceptions import GenericError, ParameterError
from txkoji.testing.dataset import load_dataset
from txkoji.testing.records import event_time

_BY_ID_TABLES = (
    "users",
    "packages",
    "builds",
    "tasks",
    "tags",
    "targets",
    "channels",
    "hosts",
)


class HubState:
    """The data one hub serves, in tables keyed by id.

    The attributes ``users``, ``packages``, ``builds``, ``tasks``, ``tags``,
    ``targets``, ``channels`` and ``hosts`` are dicts of records keyed by id
    (tasks also hold ``request`` and ``result``, which methods hand out only
    when asked).

    :ivar build_types: build id -> list of btypes (``rpm``, ``image``...).
    :ivar tag_parents: tag id -> parent tag ids, by inheritance priority.
    :ivar tagged_builds: the ``tag_listing`` history: ``{tag_id, build_id,
        owner_id (who tagged), create_event, revoke_event, revoker_id}``
        entries; an entry is active while its ``revoke_event`` is None.
    :ivar tag_packages: package list entries ``{tag_id, package_id,
        owner_id, blocked, extra_arches, create_event}``.
    :ivar host_channels: ``(host_id, channel_id)`` pairs.
    :ivar last_event: ``{id, ts}`` of the newest event.
    :ivar clock: the time source for "now" (e.g. build age filters).
    :ivar event_times: event id -> epoch seconds, for the events made
        since the data was loaded (:meth:`new_event`).
    """

    users: dict[int, dict[str, Any]]
    packages: dict[int, dict[str, Any]]
    builds: dict[int, dict[str, Any]]
    tasks: dict[int, dict[str, Any]]
    tags: dict[int, dict[str, Any]]
    targets: dict[int, dict[str, Any]]
    channels: dict[int, dict[str, Any]]
    hosts: dict[int, dict[str, Any]]

    def __init__(self, clock: IReactorTime, dataset: Mapping[str, Any] | None = None):
        """:param clock: the hub's reactor or a ``Clock``.
        :param dataset: data in the shape of
            :func:`~txkoji.testing.dataset.load_dataset`, deep-copied; the
            bundled data set when None.
        """
        data = load_dataset() if dataset is None else copy.deepcopy(dict(dataset))
        self.clock = clock
        for table in _BY_ID_TABLES:
            setattr(self, table, {row["id"]: row for row in data[table]})
        self.build_types: dict[int, list[str]] = data["build_types"]
        self.tag_parents: dict[int, list[int]] = data["tag_parents"]
        self.tagged_builds: list[dict[str, Any]] = data["tagged_builds"]
        self.tag_packages: list[dict[str, Any]] = data["tag_packages"]
        self.host_channels: list[tuple[int, int]] = [
            tuple(pair) for pair in data["host_channels"]
        ]
        self.last_event: dict[str, Any] = data["last_event"]
        #: User id to password, for ``login`` (users without one cannot
        #: log in by password).
        self.passwords: dict[int, str] = dict(data.get("passwords", {}))
        self._last_ids: dict[str, int] = {}
        self.event_times: dict[int, float] = {
            self.last_event["id"]: self.last_event["ts"]
        }

    def find(self, table: str, info: Any, strict: bool = False, what: str = "") -> Any:
        """Return the record of ``table`` that ``info`` names: an id, a
        name, or a struct with ``id`` or ``name``.

        :param strict: raise instead of returning None when there is none.
        :param what: the noun for the error, e.g. ``tag``.
        :raises GenericError: ``No such WHAT: INFO`` when strict.
        :raises ParameterError: when ``info`` is of no usable type.
        """
        rows: dict[int, dict[str, Any]] = getattr(self, table)
        if isinstance(info, Mapping):
            info = info.get("id", info.get("name"))
        if isinstance(info, bool) or not isinstance(info, (int, str)):
            raise ParameterError(f"Invalid type for {what or table} info: {info!r}")
        if isinstance(info, int):
            found = rows.get(info)
        else:
            found = next(
                (r for r in rows.values() if self._named(table, r, info)), None
            )
        if found is None and strict:
            raise GenericError(f"No such {what or table}: {info!r}")
        return found

    @staticmethod
    def _named(table: str, row: dict[str, Any], name: str) -> bool:
        if table == "builds":
            return row["nvr"] == name
        if table == "users" and name in row["krb_principals"]:
            return True
        return row["name"] == name

    def find_id(self, table: str, info: Any) -> int | None:
        """Return the id of the record ``info`` names, or None; an id is
        returned as is, even with no such record (as hub filters do)."""
        if isinstance(info, int) and not isinstance(info, bool):
            return info
        found = self.find(table, info)
        return found["id"] if found else None

    def tag_lineage(self, tag_id: int, inherit: bool) -> list[int]:
        """Return ``tag_id`` followed, when ``inherit``, by its ancestors
        in inheritance order (depth first by parent priority, each once)."""
        order: list[int] = []

        def visit(tid: int) -> None:
            if tid in order:
                return
            order.append(tid)
            if inherit:
                for parent in self.tag_parents.get(tid, []):
                    visit(parent)

        visit(tag_id)
        return order

    def now(self) -> float:
        """Return the hub's current time in epoch seconds."""
        return self.clock.seconds()

    def next_id(self, table: str) -> int:
        """Return a new id for a record of ``table`` (e.g. ``tasks``): one
        more than the last handed out, and than any id in the table."""
        rows: dict[int, Any] = getattr(self, table)
        if table not in self._last_ids:
            self._last_ids[table] = max(rows, default=0)
        candidate = self._last_ids[table] + 1
        while candidate in rows:
            candidate += 1
        self._last_ids[table] = candidate
        return candidate

    def new_event(self) -> int:
        """Make the hub's next event, at the current time, and return its
        id: one more than the last (every change to hub data gets one)."""
        event_id = self.last_event["id"] + 1
        ts = self.now()
        self.last_event = {"id": event_id, "ts": ts}
        self.event_times[event_id] = ts
        return event_id

    def event_ts(self, event_id: int) -> float:
        """Return when event ``event_id`` happened, in epoch seconds."""
        found = self.event_times.get(event_id)
        return event_time(event_id) if found is None else found

    def event_before(self, ts: float) -> dict[str, Any]:
        """Return ``{id, ts}`` of the newest event strictly before ``ts``."""
        if self.last_event["ts"] < ts:
            return dict(self.last_event)
        made = [eid for eid, when in self.event_times.items() if when < ts]
        if made:
            newest = max(made)
        else:
            newest = min(self.event_times, default=self.last_event["id"] + 1) - 1
            while event_time(newest) >= ts:
                newest -= 1
        return {"id": newest, "ts": self.event_ts(newest)}


def active_listing(entry: Mapping[str, Any], event: int | None = None) -> bool:
    """Whether a ``tag_listing`` entry is in force now, or at ``event``."""
    if event is None:
        return entry["revoke_event"] is None
    revoked = entry["revoke_event"]
    return entry["create_event"] <= event and (revoked is None or revoked > event)


def epoch_seconds(value: Any, name: str) -> float:
    """Return a hub time argument as epoch seconds: a number, or an ISO
    string (UTC unless it names an offset).

    :raises ParameterError: naming ``name`` for anything else.
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ParameterError(f"Invalid time for {name}: {value!r}") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        return parsed.timestamp()
    raise ParameterError(f"Invalid time for {name}: {value!r}")


def select(
    rows: Iterable[dict[str, Any]], fields: Iterable[str]
) -> list[dict[str, Any]]:
    """Return copies of ``rows`` holding only ``fields``."""
    fields = tuple(fields)
    return [{name: row[name] for name in fields} for row in rows]


def _order_key(value: Any) -> tuple[bool, Any]:
    return (value is None, 0 if value is None else value)


def apply_query_opts(rows: list[dict[str, Any]], query_opts: Any) -> Any:
    """Apply Koji ``queryOpts`` to ``rows``: ``order`` (a field, ``-field``
    for descending, or several separated by commas; nils sort last ascending
    and first descending, as in PostgreSQL), ``offset``, ``limit``,
    ``countOnly`` and ``asList``.

    :returns: the list, its length with ``countOnly``, or with ``asList``
        each row as the list of its values, in field order.
    :raises ParameterError: for a malformed ``queryOpts``.
    """
    if query_opts is None:
        return rows
    if not isinstance(query_opts, Mapping):
        raise ParameterError(f"queryOpts must be a struct, not {query_opts!r}")
    order = query_opts.get("order")
    if order:
        # "a,-b": sort by the last key first; Python's sort is stable.
        for term in reversed(order.split(",")):
            field_name = term.strip().lstrip("-")
            if rows and field_name not in rows[0]:
                raise ParameterError(f"Invalid order field: {field_name}")

            def key(row: dict[str, Any], name: str = field_name) -> tuple[bool, Any]:
                return _order_key(row[name])

            rows = sorted(rows, key=key, reverse=term.strip().startswith("-"))
    if query_opts.get("countOnly"):
        return len(rows)
    offset = query_opts.get("offset") or 0
    limit = query_opts.get("limit")
    rows = rows[offset : None if limit is None else offset + limit]
    if query_opts.get("asList"):
        return [list(row.values()) for row in rows]
    return rows
