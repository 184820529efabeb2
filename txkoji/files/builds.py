"""Download a build's RPMs (and logs) as ``koji download-build`` does."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from twisted.internet import defer

from txkoji.exceptions import KojiFileError
from txkoji.files.download import fetch
from txkoji.files.naming import destination
from txkoji.files.parallel import run_limited
from txkoji.files.partial import PartialFile, Progress, already_there
from txkoji.paths import PathInfo

_DEBUGINFO = re.compile(r"-debug(info|source)(-common)?$|-debuginfo-")


def is_debuginfo(name: str) -> bool:
    """Whether an RPM name is a debuginfo or debugsource package."""
    return bool(_DEBUGINFO.search(name))


def _job(
    connection: Any,
    url: str,
    target: Path,
    size: int | None,
    overwrite: bool,
    progress: Progress | None,
    skip_existing: bool,
) -> defer.Deferred:
    if skip_existing and already_there(target, size):
        return defer.succeed(target)
    part = PartialFile(target, overwrite=overwrite, size=size, progress=progress)
    d = fetch(connection, url, part, f"download of {target.name}")
    return d.addCallback(lambda _: part.finish())


async def _plan(
    connection: Any,
    build_info: int | str,
    arches: Sequence[str] | None,
    rpms: bool,
    logs: bool,
    sigkey: str | None,
    debuginfo: bool,
) -> list[tuple[str, str, int | None]]:
    """Return ``(url, local name, size or None)`` for each file to fetch."""
    pathinfo = PathInfo.for_connection(connection)
    build = await connection.getBuild(build_info)
    if build is None:
        raise KojiFileError(f"no build {build_info!r} on {connection.url}")
    plan: list[tuple[str, str, int | None]] = []
    if rpms:
        found = await connection.listRPMs(
            buildID=build["id"], arches=list(arches) if arches else None
        )
        wanted = [r for r in found if debuginfo or not is_debuginfo(r["name"])]
        if not wanted:
            which = f"{' or '.join(arches)} " if arches else ""
            raise KojiFileError(f"no {which}packages available for {build['nvr']}")
        for rpm in wanted:
            url = pathinfo.rpm_file(build, rpm, sigkey)
            # The hub records the size of the unsigned copy only.
            size = None if sigkey else rpm.get("size")
            plan.append((url, url.rsplit("/", 1)[-1], size))
    if logs:
        for log in await connection.getBuildLogs(build["id"]):
            local = f"logs/{log['dir']}/{log['name']}"
            plan.append((pathinfo.relative(log["path"]), local, None))
    return plan


def download_build(
    connection: Any,
    nvr: int | str,
    dest_dir: str | os.PathLike,
    *,
    arches: Sequence[str] | None = None,
    rpms: bool = True,
    logs: bool = False,
    sigkey: str | None = None,
    debuginfo: bool = False,
    concurrency: int = 4,
    overwrite: bool = False,
    progress: Any = None,
    skip_existing: bool = False,
) -> defer.Deferred:
    """Download a build's files from ``topurl``, as ``koji download-build``
    does: RPMs under their file names (debuginfo only when asked), the
    unsigned ones checked against the size the hub records.

    :param nvr: the build's NVR or id.
    :param arches: only RPMs of these arches.
    :param rpms: fetch the RPMs.
    :param logs: fetch the build logs too, as ``logs/<arch>/<name>``.
    :param sigkey: fetch the copies signed with this key.
    :param debuginfo: fetch debuginfo and debugsource RPMs too.
    :param concurrency: files transferred at once.
    :param overwrite: replace existing files.
    :param progress: called as ``progress(local_name, done, total)``.
    :param skip_existing: keep files already there (with the recorded size
        when known) and list them, instead of failing.
    :returns: a Deferred firing with the list of paths written.  It fails
        with ``KojiConfigError`` without ``topurl``, ``KojiFileError`` for
        an unknown build or no matching RPM, ``UnsafePathError`` for a
        name that would escape ``dest_dir`` (nothing written), and as
        :func:`~txkoji.files.download.download` does (a missing signed
        copy is a ``KojiHTTPError`` 404).
    """

    async def run() -> list[Path]:
        plan = await _plan(connection, nvr, arches, rpms, logs, sigkey, debuginfo)
        targets = [destination(dest_dir, local) for _, local, _ in plan]
        jobs = [
            (
                lambda url=url, target=target, size=size, local=local: _job(
                    connection,
                    url,
                    target,
                    size,
                    overwrite,
                    None
                    if progress is None
                    else lambda done, total: progress(local, done, total),
                    skip_existing,
                )
            )
            for (url, local, size), target in zip(plan, targets, strict=True)
        ]
        return await run_limited(jobs, concurrency)

    return defer.Deferred.fromCoroutine(run())
