"""Build-time estimates from the hub's history.

Koji's ``getAverageBuildDuration`` averages every completed build of a
package that ran as a task.  Container builds made by a content generator
have no task, so for packages named ``*-container`` (the convention of
container build packages) the estimate is the average of the last completed
builds instead, as txkoji 0.10 did.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from twisted.internet import defer

from txkoji import build_states, task_states
from txkoji.timestamps import record_time

CONTAINER_SUFFIX = "-container"


def is_container(package: str) -> bool:
    """Whether ``package`` names a container build package."""
    return package.endswith(CONTAINER_SUFFIX)


def average_duration(records: Iterable[Any], start: str, end: str) -> timedelta | None:
    """Average the time from ``start`` to ``end`` over hub records.

    :param start: the stem of the start time fields (``"start"``).
    :param end: the stem of the end time fields (``"completion"``).
    :returns: the mean ``timedelta`` over the records having both times,
        or ``None`` when none has.
    """
    durations = []
    for record in records:
        began, ended = record_time(record, start), record_time(record, end)
        if began is not None and ended is not None:
            durations.append(ended - began)
    if not durations:
        return None
    return sum(durations, timedelta()) / len(durations)


def _last_builds_opts(limit: int) -> dict[str, Any]:
    return {
        "state": build_states.COMPLETE,
        "queryOpts": {"limit": limit, "order": "-completion_time"},
    }


def average_build_duration(
    connection: Any, package: str
) -> defer.Deferred[timedelta | None]:
    """Estimate how long a build of ``package`` takes.

    :param connection: a :class:`txkoji.Connection`.
    :param package: a package name.
    :returns: a Deferred firing with a ``timedelta``, or ``None`` when the
        package has no usable history.  It fails as the hub calls do.
    """
    if is_container(package):
        return average_last_builds(connection, package)
    return connection.getAverageBuildDuration(package)


def average_build_durations(
    connection: Any, packages: Sequence[str]
) -> defer.Deferred[list[timedelta | None]]:
    """Estimate build durations for several packages at once.

    Plain packages and the ids of container packages go to the hub in one
    multicall; when there are container packages, their last builds follow
    in a second one.

    :param connection: a :class:`txkoji.Connection`.
    :param packages: package names, containers and others mixed freely.
    :returns: a Deferred firing with a list holding a ``timedelta`` or
        ``None`` per package, in order.  It fails with the first failed
        call's exception.
    """
    return defer.Deferred.fromCoroutine(_average_build_durations(connection, packages))


async def _average_build_durations(
    connection: Any, packages: Sequence[str]
) -> list[timedelta | None]:
    packages = list(packages)
    if not packages:
        return []
    first = connection.MultiCall()
    for package in packages:
        if is_container(package):
            first.getPackage(package)
        else:
            first.getAverageBuildDuration(package)
    answers = list(await first())
    containers = [
        (index, answers[index]["id"])
        for index, package in enumerate(packages)
        if is_container(package) and answers[index] is not None
    ]
    for index, package in enumerate(packages):
        if is_container(package):
            answers[index] = None
    if containers:
        second = connection.MultiCall()
        for _, package_id in containers:
            second.listBuilds(packageID=package_id, **_last_builds_opts(5))
        for (index, _), builds in zip(containers, await second(), strict=True):
            answers[index] = average_duration(builds, "start", "completion")
    return answers


def average_last_builds(
    connection: Any, package: str | int, limit: int = 5
) -> defer.Deferred[timedelta | None]:
    """Average the durations of a package's last completed builds.

    :param connection: a :class:`txkoji.Connection`.
    :param package: the package name (or id).
    :param limit: how many of the most recent completed builds to average.
    :returns: a Deferred firing with a ``timedelta``, or ``None`` when the
        package does not exist or has no completed build with both a start
        and a completion time.  It fails as the hub calls do.
    """
    return defer.Deferred.fromCoroutine(
        _average_last_builds(connection, package, limit)
    )


async def _average_last_builds(
    connection: Any, package: str | int, limit: int
) -> timedelta | None:
    package_id = package
    if not isinstance(package, int):
        record = await connection.getPackage(package)
        if record is None:
            return None
        package_id = record["id"]
    builds = await connection.listBuilds(
        packageID=package_id, **_last_builds_opts(limit)
    )
    return average_duration(builds, "start", "completion")


def average_task_duration(
    connection: Any, method: str, arch: str | None = None, limit: int = 10
) -> defer.Deferred[timedelta | None]:
    """Average the durations of the last closed tasks of one method (for
    tasks that build no package, such as ``createrepo`` or ``runroot``).

    :param method: the task method.
    :param arch: only tasks of this arch, when given.
    :param limit: how many of the most recent closed tasks to average.
    :returns: a Deferred firing with a ``timedelta``, or ``None`` with no
        history.  It fails as ``listTasks`` does.
    """
    name, args, kwargs = task_duration_call(method, arch, limit)
    d = connection.call(name, *args, **kwargs)
    d.addCallback(lambda answer: duration_from_answer(name, answer))
    return d


#: A hub call as ``(method, args, kwargs)``.
HubCall = tuple[str, tuple[Any, ...], dict[str, Any]]


def task_duration_call(
    method: str, arch: str | None = None, limit: int = 10
) -> HubCall:
    """Return the one hub call whose answer :func:`duration_from_answer`
    turns into the average duration of ``method``'s last ``limit`` closed
    tasks (of ``arch`` when given): for queuing in a multicall."""
    opts: dict[str, Any] = {"method": method, "state": [task_states.CLOSED]}
    if arch is not None:
        opts["arch"] = [arch]
    return ("listTasks", (opts, {"order": "-completion_time", "limit": limit}), {})


def build_duration_call(package: str) -> HubCall:
    """Return the one hub call whose answer :func:`duration_from_answer`
    turns into the estimated build duration of ``package``: the hub's
    average for plain packages, the last completed builds (``listBuilds``
    takes a package name) for containers."""
    if is_container(package):
        return ("listBuilds", (), {"packageID": package, **_last_builds_opts(5)})
    return ("getAverageBuildDuration", (package,), {})


def duration_from_answer(method: str, answer: Any) -> timedelta | None:
    """Return the duration the answer of a :func:`task_duration_call` or
    :func:`build_duration_call` gives (``method`` is the call's method),
    or ``None`` without history."""
    if method == "getAverageBuildDuration":
        return answer
    return average_duration(answer or [], "start", "completion")
