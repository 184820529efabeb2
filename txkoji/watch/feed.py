"""Hub events by polling, for hubs whose message bus users cannot reach.

Each poll cycle is one multicall request, whatever the activity:

* ``listTasks({"createdAfter": T})``, ``({"startedAfter": T})`` and
  ``({"completeAfter": T})`` (decoded): tasks created, started, finished;
* ``listBuilds(createdAfter=T)`` and ``listBuilds(completeAfter=T)``:
  builds begun (or imported) and ended;
* ``queryHistory(tables=["tag_listing"], after=T)``: tagging and
  untagging, with the event ids that tell them apart.

``T`` is a hub time, per stream: a little before the newest event already
reported, so that records committed late (a transaction's times are those
of its start) are still seen; the keys of the events in that overlap keep
them from being reported twice.  The client's clock is never used.  A
feed started without ``since`` begins at the hub's present: its newest
event (``getLastEvent``) or newest task, whichever is later.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timezone
from functools import partial
from typing import Any

from twisted.internet import defer

from txkoji import build_states, task_states
from txkoji.build import Build
from txkoji.estimates import HubCall
from txkoji.messages import BuildStateChange, Message, TagUntag, TaskStateChange
from txkoji.watch.checkpoint import Position
from txkoji.watch.polling import FailureHandler, PollLoop, poll_interval

#: Seconds the queries look back before the newest event reported.
OVERLAP = 300.0

TASK_STREAMS = ("task-created", "task-started", "task-finished")
BUILD_STREAMS = ("build-created", "build-finished")
TAG_STREAMS = ("tag-listing",)

#: An event found in a row: hub time, stream rank, id, stream, key, and
#: how to make the event.
Found = tuple[float, int, int, str, str, Callable[[], Message]]

#: Order of events at the same hub time.
_RANK = {
    name: rank for rank, name in enumerate(TASK_STREAMS + BUILD_STREAMS + TAG_STREAMS)
}


def hub_time_text(ts: float) -> str:
    """A hub time filter value: ISO with an explicit UTC offset (the hub
    turns a float into its own local time)."""
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(" ")


def _count(stream: str, after: str) -> HubCall:
    """How many records of task stream ``stream`` the hub has after
    ``after``."""
    option = _TASK_OPTIONS[stream]
    return ("listTasks", ({option: after},), {"queryOpts": {"countOnly": True}})


_TASK_OPTIONS = {
    "task-created": "createdAfter",
    "task-started": "startedAfter",
    "task-finished": "completeAfter",
}


def _query(stream: str, after: str) -> HubCall:
    if stream in TASK_STREAMS:
        return ("listTasks", ({_TASK_OPTIONS[stream]: after, "decode": True},), {})
    if stream == "build-created":
        return ("listBuilds", (), {"createdAfter": after})
    if stream == "build-finished":
        return ("listBuilds", (), {"completeAfter": after})
    return ("queryHistory", (), {"tables": ["tag_listing"], "after": after})


class Feed:
    """Events from the hub as they happen; see :func:`feed`.

    Iterate with ``async for`` (in a Twisted coroutine, or an asyncio one
    under Twisted's asyncio reactor), or call :meth:`run` with a callback.

    :ivar requests: hub requests sent so far.
    :ivar failures: what decides the wait after a failed poll, or gives
        up (a :class:`~txkoji.watch.polling.FailureHandler`); ``None``
        (the default): try again every ``interval``, forever.
    """

    def __init__(
        self,
        connection: Any,
        *,
        builds: bool = True,
        tasks: bool = True,
        tags: bool = True,
        since: str | None = None,
        interval: float | None = None,
        clock: Any = None,
    ) -> None:
        streams = (
            (TASK_STREAMS if tasks else ())
            + (BUILD_STREAMS if builds else ())
            + (TAG_STREAMS if tags else ())
        )
        if not streams:
            raise ValueError("a feed needs builds, tasks or tags")
        self.connection = connection
        self.streams = streams
        self.clock = clock if clock is not None else connection.clock
        self.interval = poll_interval(connection, interval)
        self.position = None if since is None else Position.decode(since, streams)
        self.requests = 0
        self.failures: FailureHandler | None = None
        self._queue: deque[Message] = deque()
        self._task_states: dict[int, str] = {}
        # Task streams whose next query covers the whole overlap: those
        # whose count showed a record committed late into it, and all of
        # them on resuming.  The others fetch only records newer than the
        # newest reported, and count the overlap (see _check_overlap).
        self._whole: set[str] = set() if since is None else set(TASK_STREAMS)
        self._polled = False
        self._pending: defer.Deferred[Any] | None = None

    @property
    def checkpoint(self) -> str | None:
        """Where the feed stands now (``None`` before its first poll)."""
        return None if self.position is None else self.position.encode()

    def __aiter__(self) -> Feed:
        return self

    def __anext__(self) -> Any:
        """The next event: a Deferred (or, in an asyncio task, a Future)."""
        if self._queue:
            d = defer.succeed(self._queue.popleft())
        else:
            loop = PollLoop(
                self.clock, self.interval, self._cycle_queued, "feed", self.failures
            )
            d = loop.run(wait_first=self._polled)
            d.addCallback(lambda _: self._queue.popleft())
        self._pending = d
        try:
            running = asyncio.current_task()
        except RuntimeError:
            running = None
        if running is not None:
            return d.asFuture(asyncio.get_running_loop())
        return d

    def close(self) -> None:
        """Stop: cancel the poll in flight or the wait for the next one."""
        if self._pending is not None and not self._pending.called:
            self._pending.cancel()

    def run(self, on_event: Callable[[Message], Any]) -> defer.Deferred[Any]:
        """Call ``on_event`` with every event, forever.

        :returns: a Deferred that only fails (with a non-hub error, or an
            exception of ``on_event``); cancel it to stop.
        """

        async def cycle() -> None:
            await self.poll()
            while self._queue:
                on_event(self._queue.popleft())

        return PollLoop(self.clock, self.interval, cycle, "feed", self.failures).run()

    async def _cycle_queued(self) -> bool | None:
        await self.poll()
        self._polled = True
        return True if self._queue else None

    def poll(self) -> defer.Deferred[Any]:
        """Make one poll cycle, queuing the events found (first cycle
        without ``since``: only find where the hub stands).

        :returns: a Deferred firing with the number of events queued.
        """
        return defer.Deferred.fromCoroutine(self._poll())

    async def _poll(self) -> int:
        self.requests += 1
        if self.position is None:
            latest, newest = await self.connection.multicall(
                [
                    ("getLastEvent", (), {}),
                    ("listTasks", ({},), {"queryOpts": {"order": "-id", "limit": 1}}),
                ],
            )
            _raise_fault(latest, newest)
            now = max([latest["ts"]] + [t["create_ts"] for t in newest])
            self.position = Position.starting(self.streams, now)
            return 0
        position = self.position
        split = [s in TASK_STREAMS and s not in self._whole for s in self.streams]
        calls: list[HubCall] = []
        for stream, counted in zip(self.streams, split, strict=True):
            bound = hub_time_text(position.bounds[stream])
            if counted:
                calls.append(_count(stream, bound))
                newest = position.seen[stream].last
                if newest is not None:
                    # From a second before: records of the same instant as
                    # the newest reported are fetched, not only counted.
                    bound = hub_time_text(max(newest[0] - 1.0, position.bounds[stream]))
            calls.append(_query(stream, bound))
        answers = iter(await self.connection.multicall(calls))
        found: list[Found] = []
        for stream, counted in zip(self.streams, split, strict=True):
            count = next(answers) if counted else None
            rows = next(answers)
            _raise_fault(count, rows)
            events = []
            for row in rows if isinstance(rows, list) else rows["tag_listing"]:
                events.extend(self._events(stream, row))
            if count is not None:
                self._check_overlap(stream, count, len(rows), events)
            else:
                self._whole.discard(stream)
            found.extend(events)
        found.sort(key=lambda item: (*item[:3], item[4]))
        for stream in self.streams:
            position.settle(
                stream, [(f[0], f[2], f[4]) for f in found if f[3] == stream]
            )
        queued = 0
        for when, _, ident, stream, key, make in found:
            if not position.is_new(stream, key):
                continue
            event = make()
            position.record(stream, key, when, OVERLAP, ident)
            stamped: Any = replace(event, checkpoint=position.encode())  # type: ignore[type-var]
            self._queue.append(stamped)
            queued += 1
        return queued

    def _check_overlap(
        self, stream: str, count: int, fetched: int, events: list[Found]
    ) -> None:
        """Look at the whole overlap of ``stream`` next cycle unless the
        hub's ``count`` of its records since the bound is those reported
        already plus the ``fetched`` newer ones (a record committed late
        into the overlap is then found a cycle later, never lost)."""
        reported = self.position.seen[stream] if self.position else {}
        again = {key for _, _, _, _, key, _ in events if key in reported}
        if count - fetched != len(reported) - len(again):
            self._whole.add(stream)
        else:
            self._whole.discard(stream)

    def _events(self, stream: str, row: Any) -> list[Found]:
        """``(time, rank, id, stream, key, make)`` per event ``row`` may
        hold for ``stream`` (the same row comes back while in the
        overlap: the key tells)."""
        rank = _RANK[stream]
        if stream in TASK_STREAMS:
            return self._task_event(stream, rank, row)
        if stream in BUILD_STREAMS:
            return _build_event(stream, rank, row, self.connection)
        return _tag_events(stream, rank, row, self.connection)

    def _task_event(self, stream: str, rank: int, row: Any) -> list[Found]:
        field, new = {
            "task-created": ("create_ts", "FREE"),
            "task-started": ("start_ts", "OPEN"),
            "task-finished": ("completion_ts", None),
        }[stream]
        when = row.get(field)
        if when is None:
            return []
        if new is None:
            new = task_states.to_str(row["state"])
        task_id = row["id"]

        def make() -> Message:
            old = self._task_states.get(task_id)
            if new in ("CLOSED", "CANCELED", "FAILED"):
                self._task_states.pop(task_id, None)
            else:
                self._task_states[task_id] = new
            return TaskStateChange.from_record(row, old, new)

        return [(when, rank, task_id, stream, f"{task_id}:{new}", make)]


def _build_event(stream: str, rank: int, row: Any, connection: Any) -> list[Found]:
    build_id = row.get("build_id", row.get("id"))
    imported = row.get("start_ts") is None
    state = build_states.to_str(row["state"])
    if stream == "build-created":
        when, old = row.get("creation_ts"), None
        new = state if imported and state != "BUILDING" else "BUILDING"
    else:
        if imported:
            return []  # reported whole when created
        when, old, new = row.get("completion_ts"), "BUILDING", state
    if when is None:
        return []
    row.setdefault("id", build_id)

    def make() -> Message:
        return BuildStateChange.from_record(row, old, new, connection)

    return [(when, rank, build_id, stream, f"{build_id}:{new}", make)]


def _tag_events(stream: str, rank: int, row: Any, connection: Any) -> list[Found]:
    build = Build(
        {
            "id": row["build_id"],
            "build_id": row["build_id"],
            "name": row["name"],
            "version": row["version"],
            "release": row["release"],
            "epoch": row.get("epoch"),
            "nvr": f"{row['name']}-{row['version']}-{row['release']}",
            "state": row.get("build.state"),
        }
    )
    build.connection = connection
    events: list[Found] = []
    for kind, event_field, ts_field, user_field in (
        ("Tag", "create_event", "create_ts", "creator_name"),
        ("Untag", "revoke_event", "revoke_ts", "revoker_name"),
    ):
        event_id, when = row.get(event_field), row.get(ts_field)
        if event_id is None or when is None:
            continue
        make = partial(TagUntag, build, kind, row["tag.name"], row.get(user_field))
        key = f"{event_id}:{kind}:{row['tag_id']}:{row['build_id']}"
        events.append((when, rank, event_id, stream, key, make))
    return events


def _raise_fault(*answers: Any) -> None:
    for answer in answers:
        if isinstance(answer, Exception):
            raise answer


def feed(
    connection: Any,
    *,
    builds: bool = True,
    tasks: bool = True,
    tags: bool = True,
    since: str | None = None,
    interval: float | None = None,
    clock: Any = None,
) -> Feed:
    """Follow the hub's events by polling it.

    ::

        events = feed(koji)
        async for event in events:       # BuildStateChange, TaskStateChange,
            print(event.event, event.checkpoint)   # TagUntag
        # or: d = feed(koji).run(print); later d.cancel()

    Events are the classes the message-bus parsers produce, with the same
    fields, plus ``checkpoint``: pass the last one handled as ``since=`` to
    a new feed (after a restart) to miss nothing and repeat nothing.
    Tasks are reported created (FREE), started (OPEN) and finished;
    builds begun (BUILDING) and ended; tags with ``event`` ``"Tag"`` or
    ``"Untag"``.  A task's ``old`` state is the one this feed reported
    before, or ``None``.  Each poll is one request, whatever the
    activity.

    :param connection: a :class:`txkoji.Connection`.
    :param builds: report build events.
    :param tasks: report task events.
    :param tags: report tagging events.
    :param since: a checkpoint to resume after; default: from now on.
    :param interval: seconds between polls; default: the profile's
        ``poll_interval``.
    :param clock: the ``IReactorTime`` to wait on (default:
        ``connection.clock``, its reactor unless it was given a clock).
    :returns: a :class:`Feed`.
    :raises ValueError: at once, with nothing to report, or a ``since``
        that is no checkpoint of a feed of the same streams
        (:class:`~txkoji.watch.checkpoint.BadCheckpoint`).
    """
    return Feed(
        connection,
        builds=builds,
        tasks=tasks,
        tags=tags,
        since=since,
        interval=interval,
        clock=clock,
    )
