"""Download a task's output as ``koji download-task`` does.

The task and its children are listed with ``listTaskOutput`` (sizes and
volumes included).  ``build`` and ``buildArch`` tasks give their RPMs;
with ``logs``, every task gives its ``.log`` files, renamed
``<name>.<task arch>.log`` when the name lacks the arch (so the
``build.log`` of each ``buildArch`` child gets its own name).  Files on
another volume than DEFAULT go into a subdirectory named after it.

Files come from ``topurl`` when the profile has one, else through the
hub's ``downloadTaskOutput`` in bounded chunks.
"""

from __future__ import annotations

import base64
import fnmatch
import os
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twisted.internet import defer

from txkoji import task_states
from txkoji.exceptions import KojiFileError
from txkoji.files.download import fetch, fill
from txkoji.files.naming import destination, safe_relative
from txkoji.files.parallel import run_limited
from txkoji.files.partial import PartialFile, Progress, already_there
from txkoji.paths import PathInfo

#: Bytes asked for in each ``downloadTaskOutput`` call.
CHUNK_SIZE = 1 << 20

_BUILD_METHODS = ("build", "buildArch")
_UNFINISHED = (task_states.FREE, task_states.OPEN, task_states.ASSIGNED)


@dataclass(frozen=True)
class TaskFile:
    """One output file to fetch.

    :ivar task_id: the task that wrote it.
    :ivar name: its name in the task's directory.
    :ivar volume: the volume it is on.
    :ivar size: its size in bytes.
    :ivar local_name: where it goes, relative to the destination.
    :ivar mtime: its modification time on the hub, when listed.
    """

    task_id: int
    name: str
    volume: str
    size: int
    local_name: str
    mtime: float | None = None

    def source(self) -> dict[str, Any]:
        """What identifies this file's content on the hub: what a partial
        download of it records, and checks before resuming."""
        return {
            "task_id": self.task_id,
            "name": self.name,
            "volume": self.volume,
            "size": self.size,
            "mtime": self.mtime,
        }


def _filetype(name: str) -> str:
    if name.endswith("src.rpm"):
        return "src.rpm"
    return name.rsplit(".", 1)[-1] if "." in name else ""


def local_name(task: Any, name: str, volume: str) -> str | None:
    """Return the name ``koji download-task`` gives an output file of
    ``task`` when logs are wanted, or None when it is neither an RPM of a
    build task nor a log."""
    filetype = _filetype(name)
    if filetype in ("rpm", "src.rpm") and task["method"] in _BUILD_METHODS:
        new = name
    elif filetype == "log":
        arch = task.get("arch") or ""
        new = name if arch in name else f"{name[: -len('.log')]}.{arch}.log"
    else:
        return None
    return new if volume in ("DEFAULT", None) else f"{volume}/{new}"


def select_files(
    task: Any,
    listing: dict[str, dict[str, Any]],
    *,
    names: Collection[str] | None,
    arches: Collection[str] | None,
    logs: bool,
) -> list[TaskFile]:
    """Pick the files of one task to fetch from its ``listTaskOutput``
    (``stat=True, all_volumes=True``) answer."""
    picked = []
    for name, volumes in sorted(listing.items()):
        filetype = _filetype(name)
        if filetype == "log" and not logs:
            continue
        if filetype in ("rpm", "src.rpm") and arches:
            if name.split(".")[-2] not in arches:
                continue
        if names is not None and not any(fnmatch.fnmatch(name, p) for p in names):
            continue
        for volume, stat in sorted(volumes.items()):
            new = local_name(task, name, volume)
            if new is not None:
                size = int(stat["st_size"])
                mtime = stat.get("st_mtime")
                picked.append(
                    TaskFile(task["id"], name, volume, size, new, mtime=mtime)
                )
    return picked


async def _list_files(
    connection: Any,
    task_id: int,
    names: Collection[str] | None,
    arches: Collection[str] | None,
    logs: bool,
) -> list[TaskFile]:
    base = await connection.getTaskInfo(task_id, request=False)
    if base is None:
        raise KojiFileError(f"no task {task_id} on {connection.url}")
    children = await connection.getTaskChildren(task_id)
    tasks = sorted([base, *children], key=lambda t: t["id"])
    for task in tasks:
        state = task["state"]
        which = "task" if task["id"] == task_id else "child task"
        if state in _UNFINISHED:
            raise KojiFileError(f"{which} {task['id']} has not finished yet")
        if state != task_states.CLOSED and not logs:
            raise KojiFileError(
                f"{which} {task['id']} is {task_states.to_str(state)}: it has no "
                "packages to download (ask for its logs with logs=True)"
            )
    try:
        listings = await defer.gatherResults(
            [
                connection.listTaskOutput(task["id"], stat=True, all_volumes=True)
                for task in tasks
            ],
            consumeErrors=True,
        )
    except defer.FirstError as error:
        error.subFailure.raiseException()
    files: list[TaskFile] = []
    seen: set[str] = set()
    for task, listing in zip(tasks, listings, strict=True):
        for item in select_files(task, listing, names=names, arches=arches, logs=logs):
            if item.local_name not in seen:
                seen.add(item.local_name)
                files.append(item)
    return files


async def _chunks(
    connection: Any, item: TaskFile, part: PartialFile, chunk_size: int
) -> None:
    """Fill ``part`` through ``downloadTaskOutput``, a chunk at a time,
    resuming only a partial file recorded as holding the same file (same
    size and time on the hub)."""
    # Writes of a failed attempt may still be going to a slow disk.
    await part.flush()
    offset = part.open()
    if offset and part.source() != item.source():
        part.restart()
        offset = 0
    if not offset:
        part.remember(item.source())
    while part.size is None or offset < part.size:
        data = await connection.downloadTaskOutput(
            item.task_id, item.name, offset=offset, size=chunk_size, volume=item.volume
        )
        raw = data if isinstance(data, bytes) else base64.b64decode(data)
        if not raw:
            break
        part.write(raw)
        offset += len(raw)
        if part.congested:
            await part.flush()


def fetch_task_file(
    connection: Any,
    item: TaskFile,
    dest_dir: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    progress: Progress | None = None,
    chunk_size: int = CHUNK_SIZE,
    skip_existing: bool = False,
    stall_timeout: float | None = None,
) -> defer.Deferred[Any]:
    """Download one task output file into ``dest_dir`` (from ``topurl``
    when configured, else by ``downloadTaskOutput`` in calls of
    ``chunk_size`` bytes), resuming a partial file of the same file and
    checking the size; with ``skip_existing``, a file already there with
    that size is kept.  ``stall_timeout`` is as for
    :func:`~txkoji.files.download.download` (for ``topurl`` transfers; the
    ``downloadTaskOutput`` calls have the profile's ``timeout``).

    :returns: a Deferred firing with the :class:`~pathlib.Path` written.
    """
    try:
        safe_relative(item.name)
        target = destination(dest_dir, item.local_name)
        if skip_existing and already_there(target, item.size):
            return defer.succeed(target)
        part = PartialFile(
            target, overwrite=overwrite, size=item.size, progress=progress
        )
    except Exception:
        return defer.fail()
    what = f"download of task {item.task_id} {item.name}"
    if connection.topurl:
        url = PathInfo.for_connection(connection).task_file(
            item.task_id, item.name, item.volume
        )
        d = fetch(connection, url, part, what, stall_timeout)
    else:

        def attempt() -> defer.Deferred[Any]:
            return defer.Deferred.fromCoroutine(
                _chunks(connection, item, part, chunk_size)
            )

        d = fill(connection, part, attempt, what)
    return d.addCallback(lambda _: part.finish())


def download_task_output(
    connection: Any,
    task_id: int,
    dest_dir: str | os.PathLike[str],
    *,
    names: Sequence[str] | None = None,
    arches: Sequence[str] | None = None,
    logs: bool = False,
    concurrency: int = 4,
    overwrite: bool = False,
    progress: Any = None,
    chunk_size: int = CHUNK_SIZE,
    skip_existing: bool = False,
    stall_timeout: float | None = None,
) -> defer.Deferred[Any]:
    """Download the output of a task and its children, as
    ``koji download-task`` does (see the module docs for the names).

    :param names: only files whose name matches one of these fnmatch
        patterns.
    :param arches: only RPMs of these arches (logs are not filtered).
    :param logs: also fetch ``.log`` files; FAILED and CANCELED tasks are
        then accepted (their logs are what is left).
    :param concurrency: files transferred at once.
    :param overwrite: replace existing files.
    :param progress: called as ``progress(task_file, done, total)``.
    :param chunk_size: bytes per ``downloadTaskOutput`` call (without
        ``topurl``).
    :param skip_existing: keep files already there with the right size
        (and list them) instead of failing, as after an interrupted run.
    :param stall_timeout: as for :func:`~txkoji.files.download.download`
        (for ``topurl`` transfers).
    :returns: a Deferred firing with the list of paths written.  It fails
        with ``KojiFileError`` for an unknown or unfinished task (or a
        failed one without ``logs``), ``UnsafePathError`` for a hub file
        name that would escape ``dest_dir`` (nothing is written), and as
        :func:`~txkoji.files.download.download` does.
    """

    async def run() -> list[Path]:
        files = await _list_files(connection, task_id, names, arches, logs)
        for item in files:
            safe_relative(item.name)
            destination(dest_dir, item.local_name)
        jobs = [
            (
                lambda item=item: fetch_task_file(
                    connection,
                    item,
                    dest_dir,
                    overwrite=overwrite,
                    progress=_bind(progress, item),
                    chunk_size=chunk_size,
                    skip_existing=skip_existing,
                    stall_timeout=stall_timeout,
                )
            )
            for item in files
        ]
        return await run_limited(jobs, concurrency)

    return defer.Deferred.fromCoroutine(run())


def _bind(progress: Any, item: Any) -> Progress | None:
    """Return a ``progress(done, total)`` reporting for ``item``."""
    if progress is None:
        return None
    return lambda done, total: progress(item, done, total)
