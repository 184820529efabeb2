"""Watching builds until every one has ended (COMPLETE, FAILED, CANCELED or
DELETED).

Each poll cycle sends one multicall request per ``batch`` builds still
building, of one ``getBuild`` per build (the hub has no call taking many
builds at once), plus in the first request the build-duration lookups
the estimates still need.  Through a connection that offers
``multicall_digests``, a build record whose bytes are the ones applied
last cycle is not decoded again: an idle cycle costs the request, not
the records.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from twisted.internet import defer

from txkoji import build_states
from txkoji.build import Build
from txkoji.entry_digests import UNCHANGED
from txkoji.estimates import HubCall
from txkoji.exceptions import KojiNotFound
from txkoji.messages import BuildStateChange
from txkoji.watch.base import DEFAULT_BATCH, Estimated, Watcher
from txkoji.watch.progress import UNKNOWN, Estimate, estimate

#: Build states after which a build does not change any more.
ENDED = (
    build_states.COMPLETE,
    build_states.FAILED,
    build_states.CANCELED,
    build_states.DELETED,
)


def _build_refs(builds: Iterable[Any]) -> list[int | str]:
    refs = list(builds)
    if not refs:
        raise ValueError("no builds to watch")
    for ref in refs:
        if isinstance(ref, bool) or not isinstance(ref, (int, str)) or ref == "":
            raise ValueError(f"builds are given by id or NVR, not {ref!r}")
    return list(dict.fromkeys(refs))


class WatchedBuild(Estimated):
    """One watched build.

    :ivar ref: the id or NVR it was given as.
    :ivar build: the latest :class:`~txkoji.build.Build` record, or
        ``None`` before the first poll.
    :ivar estimate: the :class:`~txkoji.watch.progress.Estimate`.
    :ivar digest: the digest of the bytes of the ``getBuild`` answer
        :attr:`build` was decoded from, when known.
    """

    __slots__ = ("ref", "build", "estimate", "digest")

    def __init__(self, ref: int | str) -> None:
        self.ref = ref
        self.build: Build | None = None
        self.estimate: Estimate = UNKNOWN
        self.digest: bytes | None = None

    @property
    def finished(self) -> bool:
        """Whether the build has ended."""
        return self.build is not None and self.build["state"] in ENDED

    def __repr__(self) -> str:
        state = self.build.state_name if self.build is not None else "unseen"
        return f"<WatchedBuild {self.ref} {state}>"


#: A transition seen: the build, its new record, its state before.
Change = tuple[WatchedBuild, Build, int | None]


class BuildWatcher(Watcher):
    """Polls builds; see :func:`watch_builds` (and
    :class:`~txkoji.watch.base.Watcher` for the options).

    :ivar watched: a :class:`WatchedBuild` per build given, in order.
    """

    what = "builds"

    def __init__(
        self,
        connection: Any,
        builds: Iterable[int | str],
        *,
        interval: float | None = None,
        on_event: Callable[[BuildStateChange], Any] | None = None,
        on_cycle: Callable[[BuildWatcher], Any] | None = None,
        batch: int = DEFAULT_BATCH,
        clock: Any = None,
    ) -> None:
        super().__init__(
            connection,
            interval=interval,
            on_event=on_event,
            on_cycle=on_cycle,
            batch=batch,
            clock=clock,
        )
        self.watched = [WatchedBuild(ref) for ref in _build_refs(builds)]

    @property
    def done(self) -> bool:
        """Whether every build has ended."""
        return all(watched.finished for watched in self.watched)

    def result(self) -> list[Build]:
        """The final build records, in the order given."""
        return [w.build for w in self.watched if w.build is not None]

    async def _poll(self) -> None:
        polled = [watched for watched in self.watched if not watched.finished]
        lookups = self.durations.calls()
        chunks = [
            polled[i : i + self.batch] for i in range(0, len(polled), self.batch)
        ] or [[]]
        self.requests += len(chunks)
        answers: list[tuple[bool, Any]] = await defer.DeferredList(
            [
                self._send(chunk, lookups if i == 0 else [])
                for i, chunk in enumerate(chunks)
            ],
            consumeErrors=True,
        )
        changes: list[Change] = []
        error: BaseException | None = None
        for index, (chunk, (ok, value)) in enumerate(zip(chunks, answers, strict=True)):
            if not ok:
                error = error or value.value
                continue
            records, digests = value
            if index == 0:
                for (key, _), answer in zip(
                    lookups, records[len(chunk) :], strict=True
                ):
                    self.durations.settle(key, answer)
            error = error or self._apply(
                chunk, records[: len(chunk)], digests[: len(chunk)], changes
            )
        self._end_cycle(changes, error)

    def _send(
        self, chunk: list[WatchedBuild], lookups: list[tuple[Any, HubCall]]
    ) -> defer.Deferred[tuple[list[Any], list[bytes | None]]]:
        """Send one request: fire with its outcomes and their digests (the
        records whose bytes are those applied last come as
        :data:`~txkoji.entry_digests.UNCHANGED`)."""
        calls = _calls(chunk, lookups)
        multicall_digests = getattr(self.connection, "multicall_digests", None)
        if multicall_digests is None:
            d: defer.Deferred[Any] = self.connection.multicall(calls)
            return d.addCallback(lambda outcomes: (outcomes, [None] * len(outcomes)))
        known = [watched.digest for watched in chunk] + [None] * len(lookups)
        answer: defer.Deferred[Any] = multicall_digests(calls, known)
        return answer

    def _apply(
        self,
        chunk: list[WatchedBuild],
        records: list[Any],
        digests: list[bytes | None],
        changes: list[Change],
    ) -> BaseException | None:
        missing = [w.ref for w, r in zip(chunk, records, strict=True) if r is None]
        if missing:
            raise KojiNotFound("build", missing)
        for watched, record, digest in zip(chunk, records, digests, strict=True):
            if record is UNCHANGED:
                continue
            if isinstance(record, Exception):
                return record
            old = None if watched.build is None else watched.build["state"]
            watched.build = record
            watched.digest = digest
            if record["state"] != old:
                changes.append((watched, record, old))
        return None

    def _report(self, changes: list[Change]) -> None:
        now = self.now()
        for watched in self.watched:
            build = watched.build
            if build is None:
                continue
            if watched.finished:
                watched.estimate = estimate(None, None, build.completed or now, now)
                continue
            key = self.durations.want_build(build["name"])
            began = build.started or build.created
            watched.estimate = estimate(began, self.durations.get(key), None, now)
        if self.on_event is None:
            return
        for _, record, old in changes:
            self.on_event(BuildStateChange.from_record(record, old, record["state"]))


def _calls(
    chunk: list[WatchedBuild], lookups: list[tuple[Any, HubCall]]
) -> list[HubCall]:
    """``getBuild`` for each build of ``chunk`` (by id once known), then
    the duration ``lookups``."""
    calls: list[HubCall] = [
        ("getBuild", (w.build["id"] if w.build else w.ref,), {}) for w in chunk
    ]
    return calls + [call for _, call in lookups]


def watch_builds(
    connection: Any,
    builds: Iterable[int | str],
    *,
    interval: float | None = None,
    on_event: Callable[[BuildStateChange], Any] | None = None,
    batch: int = DEFAULT_BATCH,
    clock: Any = None,
) -> defer.Deferred[Any]:
    """Watch builds until every one is COMPLETE, FAILED, CANCELED or
    DELETED.

    Each poll cycle costs at most ``ceil(building / batch)`` requests;
    ended builds are not asked for again.  Hub errors are logged once and
    retried at the next interval.

    :param connection: a :class:`txkoji.Connection`.
    :param builds: build ids or NVRs.
    :param interval: seconds between polls; default: the profile's
        ``poll_interval``.
    :param on_event: called with a
        :class:`~txkoji.messages.BuildStateChange` for every transition
        seen (the first sight included, with ``old`` ``None``).  For
        ``eta`` and ``progress``, use a :class:`BuildWatcher` and its
        ``BuildWatcher.watched`` statuses.
    :param batch: builds per request.
    :param clock: the ``IReactorTime`` to wait on (default:
        ``connection.clock``).
    :returns: a Deferred firing with the final
        :class:`~txkoji.build.Build` records, in the order given.
        Cancelling it stops polling at once.  It fails with
        :class:`~txkoji.exceptions.KojiNotFound` when a build does not
        exist.
    :raises ValueError: at once, for no builds, a build that is neither an
        id nor an NVR, or a bad ``interval`` or ``batch``.
    """
    watcher = BuildWatcher(
        connection,
        builds,
        interval=interval,
        on_event=on_event,
        batch=batch,
        clock=clock,
    )
    return watcher.run()
