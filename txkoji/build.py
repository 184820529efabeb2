"""Koji builds."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from twisted.internet import defer

from txkoji import build_states
from txkoji.estimates import average_build_duration
from txkoji.exceptions import KojiConfigError
from txkoji.paths import PathInfo
from txkoji.results import KojiRecord
from txkoji.timestamps import connection_now, record_time
from txkoji.weblinks import record_url

if TYPE_CHECKING:
    from txkoji.tag import Tag
    from txkoji.task import Task


class Build(KojiRecord):
    """A build, as ``getBuild``, ``listBuilds`` and ``listTagged`` return
    it (``build_id``, ``nvr``, ``state``, ``task_id``, ``start_ts``,
    ``completion_ts``, ``source``, ``extra``...).

    Times are timezone-aware UTC datetimes.
    """

    id_fields = ("id", "build_id")

    @property
    def created(self) -> datetime | None:
        """When the build record was created."""
        return record_time(self, "creation")

    @property
    def started(self) -> datetime | None:
        """When the build started, or ``None`` (imported builds have no
        start)."""
        return record_time(self, "start")

    @property
    def completed(self) -> datetime | None:
        """When the build finished, or ``None`` while it is building."""
        return record_time(self, "completion")

    @property
    def duration(self) -> timedelta | None:
        """Time from start to completion, or to now (by the connection's
        reactor clock) while building; ``None`` without a start time."""
        started = self.started
        if started is None:
            return None
        return (self.completed or connection_now(self.connection)) - started

    @property
    def state_name(self) -> str:
        """The state's name, e.g. ``"COMPLETE"``."""
        return build_states.to_str(self["state"])

    @property
    def url(self) -> str | None:
        """The kojiweb ``buildinfo`` URL, or ``None`` without a connection
        ``weburl``."""
        return record_url(self, "build", self.get("build_id", self.get("id")))

    @property
    def gitbuildhash(self) -> str | None:
        """The commit at the end of the source URL (after ``#``), or
        ``None`` when the build has no such source."""
        source = self.get("source")
        if not source or "#" not in source:
            return None
        return source.rsplit("#", 1)[1] or None

    @property
    def task_id(self) -> int | None:
        """The build's task id; for content generator container builds,
        which have none, ``extra["container_koji_task_id"]``."""
        if self.get("task_id"):
            return self["task_id"]
        extra = self.get("extra")
        if isinstance(extra, dict):
            return extra.get("container_koji_task_id")
        return None

    def rpm_url(self, rpm: Mapping[str, Any], sigkey: str | None = None) -> str:
        """Return the ``topurl`` URL of one of this build's RPMs (a
        ``listRPMs`` record): the copy signed with ``sigkey`` when given.

        :raises KojiConfigError: when the connection has no ``topurl``.
        """
        return PathInfo.for_connection(self.connection).rpm_file(self, rpm, sigkey)

    def archive_url(self, archive: Mapping[str, Any]) -> str:
        """Return the ``topurl`` URL of one of this build's archives (a
        ``listArchives`` record, with ``btype``).

        :raises KojiConfigError: when the connection has no ``topurl``.
        """
        return PathInfo.for_connection(self.connection).archive(self, archive)

    def log_urls(self) -> defer.Deferred[dict[str, str]]:
        """List the URLs of this build's logs (``getBuildLogs``).

        :returns: a Deferred firing with ``{"<dir>/<name>": url}``, e.g.
            ``{"x86_64/build.log": "https://.../data/logs/x86_64/build.log"}``
            (empty for builds whose logs are gone).  It fails with
            ``KojiConfigError`` when the connection has no ``topurl``, and
            as ``getBuildLogs`` does.
        """
        try:
            pathinfo = PathInfo.for_connection(self.connection)
        except KojiConfigError:
            return defer.fail()
        d = self.connection.getBuildLogs(self["id"])
        d.addCallback(
            lambda logs: {
                f"{log['dir']}/{log['name']}": pathinfo.relative(log["path"])
                for log in logs
            }
        )
        return d

    def estimate_completion(self) -> defer.Deferred[datetime | None]:
        """Estimate when the build finishes.

        :returns: a Deferred firing with a datetime: the completion time of
            a finished build (``None`` for one that ended without it), or
            for a building one its start plus the package's average build
            duration (see :func:`txkoji.estimates.average_build_duration`);
            ``None`` when there is no history to estimate from.  It fails as
            the hub calls do.
        """
        if self["state"] != build_states.BUILDING:
            return defer.succeed(self.completed)
        started = self.started
        if started is None:
            return defer.succeed(None)
        d = average_build_duration(self.connection, self["name"])
        return d.addCallback(
            lambda average: None if average is None else started + average
        )

    def tags(self) -> defer.Deferred[list[Tag]]:
        """List the tags this build is in.

        :returns: a Deferred firing with a (possibly empty) list of
            :class:`~txkoji.tag.Tag`; failing as ``listTags`` does.
        """
        return self.connection.listTags(self["id"])

    def task(self) -> defer.Deferred[Task | None]:
        """Fetch the build's task, with its request.

        :returns: a Deferred firing with a :class:`~txkoji.task.Task`, or
            ``None`` when the build has no task (imports); failing as
            ``getTaskInfo`` does.
        """
        task_id = self.task_id
        if not task_id:
            return defer.succeed(None)
        return self.connection.getTaskInfo(task_id, request=True)

    def target(self) -> defer.Deferred[str | None]:
        """Find the name of the target the build was built for, from its
        task's request.

        :returns: a Deferred firing with the target name, or ``None`` when
            the build has no task or the task names no target.
        """
        d = self.task()
        return d.addCallback(_task_target)


def _task_target(task: Task | None) -> str | None:
    return None if task is None else task.target
