"""Download a build's RPMs or archives (and logs) as ``koji download-build``
does."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twisted.internet import defer

from txkoji.exceptions import KojiFileError
from txkoji.files.download import fetch
from txkoji.files.naming import destination
from txkoji.files.parallel import run_limited
from txkoji.files.partial import PartialFile, Progress, already_there
from txkoji.paths import PathInfo

_log = logging.getLogger("txkoji.files")

#: ``warn(text)``: told each warning of a download.
Warn = Callable[[str], Any]

_DEBUGINFO = re.compile(r"-debug(info|source)(-common)?$|-debuginfo-")


def is_debuginfo(name: str) -> bool:
    """Whether an RPM name is a debuginfo or debugsource package."""
    return bool(_DEBUGINFO.search(name))


@dataclass(frozen=True)
class _Planned:
    """One file of the build to fetch."""

    url: str
    local: str
    size: int | None = None
    checksum: tuple[Any, str] | None = None


def _job(
    connection: Any,
    item: _Planned,
    target: Path,
    overwrite: bool,
    progress: Progress | None,
    skip_existing: bool,
    stall_timeout: float | None,
) -> defer.Deferred[Any]:
    if skip_existing and already_there(target, item.size):
        return defer.succeed(target)
    part = PartialFile(
        target,
        overwrite=overwrite,
        size=item.size,
        checksum=item.checksum,
        progress=progress,
    )
    d = fetch(connection, item.url, part, f"download of {target.name}", stall_timeout)
    return d.addCallback(lambda _: part.finish())


def _wanted_rpms(
    build: Any, found: list[Any], arches: Sequence[str] | None, debuginfo: bool
) -> list[Any]:
    wanted = [r for r in found if debuginfo or not is_debuginfo(r["name"])]
    if not wanted:
        which = f"{' or '.join(arches)} " if arches else ""
        raise KojiFileError(f"no {which}packages available for {build['nvr']}")
    return wanted


async def _signed_rpms(
    connection: Any, build: Any, rpms: list[Any], sigkey: str, warn: Warn
) -> list[Any]:
    """Return the RPMs the hub records a ``sigkey`` signature for
    (``queryRPMSigs``, in one multicall), warning about each other one as
    ``koji download-build --key`` does."""
    answers = await connection.multicall(
        [("queryRPMSigs", [], {"rpm_id": rpm["id"], "sigkey": sigkey}) for rpm in rpms]
    )
    signed = []
    for rpm, answer in zip(rpms, answers, strict=True):
        if isinstance(answer, Exception):
            raise answer
        if answer:
            signed.append(rpm)
        else:
            nvr = f"{rpm['name']}-{rpm['version']}-{rpm['release']}"
            warn(f"No such sigkey {sigkey} for rpm {nvr}-{rpm['arch']}.rpm")
    return signed


def _log_warning(text: str) -> None:
    _log.warning("%s", text)


def _rpm_plan(
    pathinfo: PathInfo, build: Any, wanted: list[Any], sigkey: str | None
) -> list[_Planned]:
    plan = []
    for rpm in wanted:
        url = pathinfo.rpm_file(build, rpm, sigkey)
        # The hub records the size of the unsigned copy only.
        size = None if sigkey else rpm.get("size")
        plan.append(_Planned(url, url.rsplit("/", 1)[-1], size))
    return plan


def _archive_plan(
    pathinfo: PathInfo, build: Any, found: list[Any], archive_type: str
) -> list[_Planned]:
    if not found:
        raise KojiFileError(f"no {archive_type} archives available for {build['nvr']}")
    return [
        _Planned(
            pathinfo.archive(build, archive),
            pathinfo.archive_relpath(archive),
            archive.get("size"),
            (archive["checksum_type"], archive["checksum"])
            if archive.get("checksum")
            else None,
        )
        for archive in found
    ]


async def _plan(
    connection: Any,
    build_info: int | str,
    arches: Sequence[str] | None,
    rpms: bool,
    logs: bool,
    sigkey: str | None,
    debuginfo: bool,
    archive_type: str | None,
    warn: Warn,
) -> list[_Planned]:
    """Return each file to fetch."""
    pathinfo = PathInfo.for_connection(connection)
    build = await connection.getBuild(build_info)
    if build is None:
        raise KojiFileError(f"no build {build_info!r} on {connection.url}")
    plan: list[_Planned] = []
    if archive_type:
        found = await connection.listArchives(buildID=build["id"], type=archive_type)
        plan += _archive_plan(pathinfo, build, found, archive_type)
    elif rpms:
        found = await connection.listRPMs(
            buildID=build["id"], arches=list(arches) if arches else None
        )
        wanted = _wanted_rpms(build, found, arches, debuginfo)
        if sigkey:
            wanted = await _signed_rpms(connection, build, wanted, sigkey, warn)
        plan += _rpm_plan(pathinfo, build, wanted, sigkey)
    if logs:
        for log in await connection.getBuildLogs(build["id"]):
            local = f"logs/{log['dir']}/{log['name']}"
            plan.append(_Planned(pathinfo.relative(log["path"]), local))
    return plan


def download_build(
    connection: Any,
    nvr: int | str,
    dest_dir: str | os.PathLike[str],
    *,
    arches: Sequence[str] | None = None,
    rpms: bool = True,
    logs: bool = False,
    sigkey: str | None = None,
    debuginfo: bool = False,
    archive_type: str | None = None,
    concurrency: int = 4,
    overwrite: bool = False,
    progress: Any = None,
    skip_existing: bool = False,
    stall_timeout: float | None = None,
    warn: Warn | None = None,
) -> defer.Deferred[Any]:
    """Download a build's files from ``topurl``, as ``koji download-build``
    does: RPMs under their file names (debuginfo only when asked), the
    unsigned ones checked against the size the hub records.

    :param nvr: the build's NVR or id.
    :param arches: only RPMs of these arches.
    :param rpms: fetch the RPMs.
    :param logs: fetch the build logs too, as ``logs/<arch>/<name>``.
    :param sigkey: fetch the copies signed with this key: only the RPMs
        the hub records that signature for (``queryRPMSigs``), the others
        skipped with a warning, as ``koji download-build --key`` does.
    :param debuginfo: fetch debuginfo and debugsource RPMs too.
    :param archive_type: fetch the build's archives of this type
        (``maven``, ``win``, ``image``, ``remote-sources``...) instead of
        RPMs, under their type's layout, each checked against the size and
        checksum the hub records (``--type`` of the official command).
    :param concurrency: files transferred at once.
    :param overwrite: replace existing files.
    :param progress: called as ``progress(local_name, done, total)``.
    :param skip_existing: keep files already there (with the recorded size
        when known) and list them, instead of failing.
    :param stall_timeout: as for :func:`~txkoji.files.download.download`.
    :param warn: called with the text of each warning (an RPM skipped for
        want of a signature); by default they are logged as WARNINGs of
        the ``txkoji.files`` logger.
    :returns: a Deferred firing with the list of paths written.  It fails
        with ``KojiConfigError`` without ``topurl``, ``KojiFileError`` for
        an unknown build or no matching RPM, ``UnsafePathError`` for a
        name that would escape ``dest_dir`` (nothing written), and as
        :func:`~txkoji.files.download.download` does (a missing signed
        copy is a ``KojiHTTPError`` 404).
    """

    async def run() -> list[Path]:
        plan = await _plan(
            connection,
            nvr,
            arches,
            rpms,
            logs,
            sigkey,
            debuginfo,
            archive_type,
            warn or _log_warning,
        )
        targets = [destination(dest_dir, item.local) for item in plan]
        jobs = [
            (
                lambda item=item, target=target: _job(
                    connection,
                    item,
                    target,
                    overwrite,
                    None
                    if progress is None
                    else lambda done, total: progress(item.local, done, total),
                    skip_existing,
                    stall_timeout,
                )
            )
            for item, target in zip(plan, targets, strict=True)
        ]
        return await run_limited(jobs, concurrency)

    return defer.Deferred.fromCoroutine(run())
