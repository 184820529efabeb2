"""The hub methods txkoji 0.10 defined on ``Connection`` by name.

Any hub method is reachable as ``koji.<name>(...)``; the ones here are also
real methods of the class, with txkoji 0.10's signatures, so that
``help(Connection)`` and editors show them and tests can patch them
(``mock.patch.object(Connection, "getBuild")``).  Each one is a
:meth:`~txkoji.connection.Connection.call` of the hub method of the same
name; the result types come from :mod:`txkoji.results`, as for every other
call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet import defer


class HubMethods:
    """Mixin of :class:`~txkoji.connection.Connection`: txkoji 0.10's
    explicit hub methods (``getTaskInfo``, ``login`` and ``call`` are the
    connection's own).  The class using it supplies ``call``."""

    call: Callable[..., defer.Deferred[Any]]

    def getAverageBuildDuration(
        self, package: str, **kwargs: Any
    ) -> defer.Deferred[Any]:
        """Ask the hub how long a build of ``package`` takes on average.

        :param package: a package name, e.g. ``"bash"``.
        :returns: a Deferred firing with a ``timedelta``, or ``None`` when
            the hub has no completed build to average.
        """
        return self.call("getAverageBuildDuration", package, **kwargs)

    def getBuild(self, build_id: int | str, **kwargs: Any) -> defer.Deferred[Any]:
        """Fetch one build.

        :param build_id: a build id, or an NVR string.
        :returns: a Deferred firing with a :class:`~txkoji.build.Build`, or
            ``None`` when there is no such build.
        """
        return self.call("getBuild", build_id, **kwargs)

    def getChannel(self, channel_id: int | str, **kwargs: Any) -> defer.Deferred[Any]:
        """Fetch one channel.

        :param channel_id: a channel id, or its name.
        :returns: a Deferred firing with a :class:`~txkoji.channel.Channel`,
            or ``None`` when there is no such channel.
        """
        return self.call("getChannel", channel_id, **kwargs)

    def getPackage(self, name: int | str, **kwargs: Any) -> defer.Deferred[Any]:
        """Fetch one package.

        :param name: a package name, or its id.
        :returns: a Deferred firing with a :class:`~txkoji.package.Package`,
            or ``None`` when there is no such package.
        """
        return self.call("getPackage", name, **kwargs)

    def getTaskDescendents(self, task_id: int, **kwargs: Any) -> defer.Deferred[Any]:
        """Fetch every task below ``task_id``, request parameters included
        (``request=True`` unless told otherwise).

        :param task_id: the parent task's id.
        :returns: a Deferred firing with a list of
            :class:`~txkoji.task.Task`, children and their children alike,
            ordered by id.
        """
        kwargs.setdefault("request", True)
        return self.call("getTaskDescendents", task_id, **kwargs)

    def listBuilds(
        self, package: int | str | None = None, **kwargs: Any
    ) -> defer.Deferred[Any]:
        """List builds, as the hub's ``listBuilds`` does.

        :param package: a package id, or (as txkoji 0.10 allowed) a package
            name, looked up first; leave it out to filter by keyword only
            (``userID=``, ``taskID=``, ``state=``, ``queryOpts=``...).
        :returns: a Deferred firing with a list of
            :class:`~txkoji.build.Build`; empty when ``package`` names no
            package.
        """
        if package is None:
            return self.call("listBuilds", **kwargs)
        if isinstance(package, int):
            return self.call("listBuilds", package, **kwargs)

        def builds_of(record: Any) -> Any:
            if record is None:
                return []
            return self.call("listBuilds", record["id"], **kwargs)

        return self.getPackage(package).addCallback(builds_of)

    def listTasks(
        self,
        opts: dict[str, Any] | None = None,
        queryOpts: dict[str, Any] | None = None,
    ) -> defer.Deferred[Any]:
        """List tasks, their request parameters decoded.

        :param opts: the hub's filters, e.g. ``{"state": [task_states.OPEN],
            "owner": 2}`` (not modified; ``decode=True`` is added to a copy).
        :param queryOpts: ordering and paging, e.g. ``{"order":
            "priority,create_time", "limit": 10}``.
        :returns: a Deferred firing with a list of
            :class:`~txkoji.task.Task`.
        """
        filters = dict(opts or {})
        filters["decode"] = True
        return self.call("listTasks", filters, queryOpts or {})

    def listChannels(self, **kwargs: Any) -> defer.Deferred[Any]:
        """List channels (``hostID=``, ``enabled=``... as the hub takes).

        :returns: a Deferred firing with a list of
            :class:`~txkoji.channel.Channel`.
        """
        return self.call("listChannels", **kwargs)
