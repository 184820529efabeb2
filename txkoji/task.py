"""Koji tasks, and estimates of when they finish."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from twisted.internet import defer

from txkoji import task_states
from txkoji.channel import Channel
from txkoji.estimates import average_build_duration, average_task_duration
from txkoji.exceptions import KojiConfigError, KojiException
from txkoji.paths import PathInfo
from txkoji.results import KojiRecord
from txkoji.task_params import (
    package_from_source,
    parse_request,
    pick,
    signature,
)
from txkoji.timestamps import connection_now, record_time
from txkoji.weblinks import record_url

#: How long a builder may take to pick up a task it has room for: kojid's
#: sleeptime (15 s upstream; some sites use 45, the figure used here).
SLEEPTIME = timedelta(seconds=45)

#: A rough duration for tagBuild, which does no building.
TAG_BUILD_TIME = SLEEPTIME + timedelta(seconds=15)

#: The child method doing the real work of a parent task.
WORKER_METHODS = {
    "build": "buildArch",
    "image": "createImage",
    "livecd": "createLiveCD",
    "livemedia": "createLiveMedia",
    "appliance": "createAppliance",
    "maven": "buildMaven",
    "chainbuild": "build",
    "chainmaven": "maven",
    "newRepo": "createrepo",
    "distRepo": "createdistrepo",
}


class NoDescendentsError(KojiException):
    """A task's working children (e.g. its ``buildArch`` tasks) are not
    there yet, or all finished, so there is nothing to estimate from.  Try
    again in a little while."""


class Task(KojiRecord):
    """A task, as ``getTaskInfo``, ``listTasks``, ``getTaskChildren`` and
    ``getTaskDescendents`` return it (``id``, ``method``, ``state``,
    ``owner``, ``channel_id``, ``weight``, ``create_ts``... and ``request``
    when asked for).

    The properties that read the request (``tag``, ``target``,
    ``package``...) give ``None`` when the record carries no request;
    ``arch`` then gives the hub's own ``arch`` field.
    """

    @property
    def params(self) -> list[Any] | None:
        """The request's parameters as a list, whether the hub sent a list
        or the raw XML-RPC document; ``None`` without a request.

        :raises TaskParamsError: when the raw document cannot be read.
        """
        return parse_request(self.get("request"))

    def _param(self, role: str) -> Any:
        return pick(self.params, getattr(signature(self.get("method")), role))

    @property
    def arch(self) -> str | None:
        """The architecture the task works on: the one its request names
        (``buildArch``, ``createrepo``...), else the hub's own ``arch``
        field (``noarch`` for a ``build`` task), else ``None``."""
        arch = self._param("arch")
        return self.get("arch") if arch is None else arch

    @property
    def arches(self) -> list[str]:
        """The architectures the task's request names (empty when it names
        none)."""
        arches = self._param("arches")
        if isinstance(arches, str):
            return arches.split()
        if arches:
            return list(arches)
        arch = self._param("arch")
        return [arch] if arch else []

    @property
    def tag(self) -> int | str | None:
        """The tag the task works in: an id or a name, depending on the
        method (buildArch and tagBuild give ids), or ``None``."""
        return self._param("tag")

    @property
    def target(self) -> str | None:
        """The build target's name, or ``None``."""
        return self._param("target")

    @property
    def source(self) -> str | None:
        """The source URL or SRPM path the task builds from, or ``None``."""
        return self._param("source")

    @property
    def package(self) -> str | None:
        """The name of the package (or image) the task builds, or ``None``.

        :raises TaskParamsError: (a ``ValueError``) when the source cannot
            be parsed.
        """
        sig = signature(self.get("method"))
        if sig.package is not None:
            return pick(self.params, sig.package)
        source = self.source
        if not sig.package_from_source or source is None:
            return None
        return package_from_source(source, sig.container)

    @property
    def build_id(self) -> int | None:
        """The build a tagBuild or notification task is about, or
        ``None`` (use ``listBuilds(taskID=...)`` for build tasks)."""
        return self._param("build")

    @property
    def is_scratch(self) -> bool:
        """Whether the request asks for a scratch build."""
        params = self.params or []
        return any(isinstance(p, dict) and bool(p.get("scratch")) for p in params)

    @property
    def channel(self) -> Channel:
        """The task's :class:`~txkoji.channel.Channel` (holding only its
        ``id``), on the same connection."""
        channel = Channel({"id": self.get("channel_id")})
        channel.connection = self.connection
        return channel

    @property
    def created(self) -> datetime | None:
        """When the task was created."""
        return record_time(self, "create")

    @property
    def started(self) -> datetime | None:
        """When a host started the task, or ``None``."""
        return record_time(self, "start")

    @property
    def completed(self) -> datetime | None:
        """When the task finished, or ``None``."""
        return record_time(self, "completion")

    @property
    def state_name(self) -> str:
        """The state's name, e.g. ``"OPEN"``."""
        return task_states.to_str(self["state"])

    @property
    def duration(self) -> timedelta | None:
        """Time from start to completion, or to now (by the connection's
        reactor clock) while running; ``None`` before it started."""
        started = self.started
        if started is None:
            return None
        return (self.completed or connection_now(self.connection)) - started

    @property
    def url(self) -> str | None:
        """The kojiweb ``taskinfo`` URL, or ``None`` without a connection
        ``weburl``."""
        return record_url(self, "task", self.get("id"))

    def output_url(self, name: str, volume: str | None = None) -> str:
        """Return the ``topurl`` URL of this task's output file ``name``
        (as ``listTaskOutput`` names it).

        :raises KojiConfigError: when the connection has no ``topurl``.
        """
        return PathInfo.for_connection(self.connection).task_file(
            self["id"], name, volume
        )

    def output_urls(self) -> defer.Deferred[Any]:
        """List this task's output files with their URLs.

        :returns: a Deferred firing with ``{name: url}`` (files on other
            volumes than DEFAULT under ``"<volume>/<name>"``; empty once
            the output is cleaned up).  It fails with ``KojiConfigError``
            when the connection has no ``topurl``, and as
            ``listTaskOutput`` does.
        """
        try:
            pathinfo = PathInfo.for_connection(self.connection)
        except KojiConfigError:
            return defer.fail()
        task_id = self["id"]

        def urls(listing: dict[str, list[str]]) -> dict[str, str]:
            return {
                (name if volume == "DEFAULT" else f"{volume}/{name}"): (
                    pathinfo.task_file(task_id, name, volume)
                )
                for name, volumes in sorted(listing.items())
                for volume in volumes
            }

        d = self.connection.listTaskOutput(task_id, all_volumes=True)
        return d.addCallback(urls)

    def descendents(
        self, method: str | None = None, state: int | Collection[int] | None = None
    ) -> defer.Deferred[list[Task]]:
        """List the task's descendents, optionally filtered.

        :param method: only tasks of this method, e.g. ``"buildArch"``.
        :param state: only tasks in this state (or any of these states).
        :returns: a Deferred firing with a list of :class:`Task`, by id;
            failing as ``getTaskDescendents`` does.
        """
        states = None
        if state is not None:
            states = {state} if isinstance(state, int) else set(state)

        def keep(tasks: list[Task]) -> list[Task]:
            return [
                t
                for t in tasks
                if (method is None or t.get("method") == method)
                and (states is None or t.get("state") in states)
            ]

        d = self.connection.getTaskDescendents(self["id"], request=True)
        d.addCallback(keep)
        return d

    def estimate_duration(self) -> defer.Deferred[timedelta | None]:
        """Estimate how long the task runs, start to finish.

        :returns: a Deferred firing with a ``timedelta``: the real duration
            of a finished task; for a running one, the package's average
            build duration, or for tasks building no package the average of
            recent closed tasks of the same method and arch; ``None``
            without history.  It fails as the hub calls do.
        """
        if self.completed is not None:
            return defer.succeed(self.duration)
        if self.get("method") == "tagBuild":
            return defer.succeed(TAG_BUILD_TIME)
        package = self.package
        if package:
            return average_build_duration(self.connection, package)
        return average_task_duration(self.connection, self["method"], self.arch)

    def estimate_completion(self) -> defer.Deferred[datetime | None]:
        """Estimate when the task finishes.

        Parent tasks (``build``, ``image``, ``newRepo``...) are estimated
        from their working children; a FREE task from when its channel
        will have room for it; a running task from its start and
        :meth:`estimate_duration`.

        :returns: a Deferred firing with a UTC datetime (the real one for a
            finished task), or ``None`` when there is nothing to estimate
            from.  It fails with :class:`NoDescendentsError` for a parent
            task with no working child left, or as the hub calls do.
        """
        return defer.Deferred.fromCoroutine(self._estimate_completion())

    async def _estimate_completion(self) -> datetime | None:
        if self.completed is not None:
            return self.completed
        if self.get("method") in WORKER_METHODS:
            return await self.estimate_descendents()
        if self["state"] == task_states.FREE:
            return await self._estimate_free()
        average = await self.estimate_duration()
        if average is None:
            return None
        # ASSIGNED: a host has it and starts it right away.
        return (self.started or connection_now(self.connection)) + average

    def estimate_descendents(self) -> defer.Deferred[datetime | None]:
        """Estimate a parent task's completion from its working children
        (``buildArch`` for ``build``, ``createImage`` for ``image``, see
        :data:`WORKER_METHODS`): the latest of their estimates.

        :returns: a Deferred firing with a UTC datetime, or ``None`` when
            the method has no working children or none of them can be
            estimated.  It fails with :class:`NoDescendentsError` when no
            working child is active (not created yet, or all finished).
        """
        return defer.Deferred.fromCoroutine(self._estimate_descendents())

    async def _estimate_descendents(self) -> datetime | None:
        child_method = WORKER_METHODS.get(self.get("method"))
        if child_method is None:
            return None
        children = await self.descendents(
            method=child_method, state=task_states.ACTIVE_GROUP
        )
        if not children:
            raise NoDescendentsError(
                f"no active {child_method} task under task {self['id']}"
            )
        estimates = [await child.estimate_completion() for child in children]
        known = [e for e in estimates if e is not None]
        return max(known) if known else None

    async def _estimate_free(self) -> datetime | None:
        """A FREE task starts when its channel has room for its weight: at
        once (within :data:`SLEEPTIME`) when there is room now, otherwise
        once enough open tasks should have finished.  FREE tasks queued
        ahead of this one are not counted."""
        channel = self.channel
        capacity = await channel.total_capacity()
        open_tasks = await channel.tasks(state=[task_states.OPEN])
        average = await self.estimate_duration()
        if average is None:
            return None
        now = connection_now(self.connection)
        weight = float(self.get("weight") or 0)
        excess = sum(float(t.get("weight") or 0) for t in open_tasks) + weight
        excess -= capacity
        if excess <= 0:
            return max((self.created or now) + SLEEPTIME, now) + average
        room_at = await _when_freed(open_tasks, excess, now)
        if room_at is None:
            return None
        return room_at + SLEEPTIME + average


async def _when_freed(
    open_tasks: list[Task], needed: float, now: datetime
) -> datetime | None:
    """Return when open tasks whose weights add up to ``needed`` should
    have finished (never earlier than ``now``), or ``None`` when the tasks
    with an estimate are not enough."""
    ends = []
    for task in open_tasks:
        try:
            end = await task.estimate_completion()
        except NoDescendentsError:
            end = None
        if end is not None:
            ends.append((end, float(task.get("weight") or 0)))
    freed = 0.0
    for end, weight in sorted(ends, key=lambda pair: pair[0]):
        freed += weight
        if freed >= needed:
            return max(end, now)
    return None
