"""File methods: listTaskOutput, downloadTaskOutput, checkUpload,
getBuildLogs, listRPMs, queryRPMSigs and listArchives.

They read the hub's :class:`~txkoji.testing.files.HubFiles` tree on disk.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from txkoji.exceptions import GenericError
from txkoji.testing.dispatch import CallContext, hub_method
from txkoji.testing.files import HubFiles
from txkoji.testing.state import apply_query_opts
from txkoji.testing.uploads import verifier

_READ_PIECE = 1 << 20


def _volume_ok(volume: Any) -> None:
    if volume not in (None, "DEFAULT"):
        raise GenericError(f"No such volume: {volume}")


def _stat(path: Path) -> dict[str, Any]:
    info = path.stat()
    return {
        "st_size": str(info.st_size),
        "st_atime": info.st_atime,
        "st_mtime": info.st_mtime,
        "st_ctime": info.st_ctime,
    }


@hub_method()
def listTaskOutput(
    ctx: CallContext,
    taskID: int,
    stat: bool = False,
    all_volumes: bool = False,
    strict: bool = False,
) -> Any:
    """Return the names of a task's output files (with ``stat``, a map
    name -> ``{st_size (a string), st_atime, st_mtime, st_ctime}``; with
    ``all_volumes``, name -> volumes or name -> volume -> stat).

    :raises GenericError: ``No such task`` for an unknown task when strict.
    """
    if strict and taskID not in ctx.state.tasks:
        raise GenericError(f"No such task: {taskID}")
    files = list(ctx.hub.files.task_output(taskID))
    if not stat and not all_volumes:
        return [name for name, _ in files]
    if not all_volumes:
        return {name: _stat(path) for name, path in files}
    if not stat:
        return {name: ["DEFAULT"] for name, _ in files}
    return {name: {"DEFAULT": _stat(path)} for name, path in files}


@hub_method()
def downloadTaskOutput(
    ctx: CallContext,
    taskID: int,
    fileName: str,
    offset: int = 0,
    size: int = -1,
    volume: str | None = None,
) -> str:
    """Return bytes of a task's output file as base64 text: ``size`` bytes
    (-1: to the end) from ``offset`` (negative: from the end); an empty
    string past the end.

    :raises GenericError: for ``..`` in the name or a missing file.
    """
    _volume_ok(volume)
    if ".." in fileName.split("/"):
        raise GenericError(f"Invalid file name: {fileName}")
    path = ctx.hub.files.task_dir(taskID) / fileName
    if not path.is_file():
        raise GenericError(f'no file "{fileName}" output by task {taskID}')
    with open(path, "rb") as handle:
        if offset < 0:
            handle.seek(max(0, path.stat().st_size + offset))
        else:
            handle.seek(offset)
        data = handle.read() if size < 0 else handle.read(size)
    return base64.b64encode(data).decode("ascii")


@hub_method()
def checkUpload(
    ctx: CallContext,
    path: str,
    name: str,
    verify: str | None = None,
    tail: int | None = None,
    volume: str | None = None,
) -> Any:
    """Return ``{size, mtime}`` of an uploaded file (plus ``sumlength`` and
    ``hexdigest`` over the whole file, or its last ``tail`` bytes, when
    ``verify`` names a checksum), or nil when there is no such file.

    :raises LockError: while an upload to the file runs.
    :raises GenericError: for an invalid name or checksum type.
    """
    _volume_ok(volume)
    files: HubFiles = ctx.hub.files
    target = files.existing_upload(path, name)
    check = verifier(verify)
    if files.is_locked(target):
        files.lock(target)  # raises the LockError an upload holder causes
    if not target.is_file():
        return None
    info = target.stat()
    answer: dict[str, Any] = {"size": info.st_size, "mtime": info.st_mtime}
    if check is not None:
        start = 0 if tail is None else max(0, info.st_size - tail)
        with open(target, "rb") as handle:
            handle.seek(start)
            while piece := handle.read(_READ_PIECE):
                check.update(piece)
        answer["sumlength"] = info.st_size - start
        answer["hexdigest"] = check.hexdigest()
    return answer


@hub_method()
def getBuildLogs(ctx: CallContext, build: Any) -> list[dict[str, str]]:
    """Return ``{name, dir, path}`` for each log of a build (``path``
    relative to the top of the file tree).

    :raises GenericError: ``No such build`` for an unknown build.
    """
    record = ctx.state.find("builds", build, True, "build")
    return ctx.hub.files.build_logs(record)


@hub_method()
def listRPMs(
    ctx: CallContext,
    buildID: int | None = None,
    arches: Any = None,
    queryOpts: Any = None,
) -> Any:
    """Return the RPM records of a build (all builds' when ``buildID`` is
    nil), restricted to ``arches`` (a name or a list) when given."""
    files: HubFiles = ctx.hub.files
    files.topdir  # noqa: B018 - lays the tree (and its RPM records) out
    if buildID is None:
        rows = [rpm for rpms in files.rpms.values() for rpm in rpms]
    else:
        rows = list(files.rpms.get(buildID, []))
    if arches is not None:
        wanted = [arches] if isinstance(arches, str) else list(arches)
        rows = [rpm for rpm in rows if rpm["arch"] in wanted]
    return apply_query_opts([dict(rpm) for rpm in rows], queryOpts)


@hub_method()
def queryRPMSigs(
    ctx: CallContext,
    rpm_id: Any = None,
    sigkey: str | None = None,
    queryOpts: Any = None,
) -> Any:
    """Return ``{rpm_id, sigkey, sighash}`` for each signature the hub
    records, of one RPM (an id, or an NVRA string or RPM struct) and one
    key (in lower case) when given.

    :raises GenericError: ``No such rpm`` for an NVRA or struct that names
        no RPM (an unknown id just matches nothing).
    """
    files: HubFiles = ctx.hub.files
    files.topdir  # noqa: B018 - lays the tree (and its records) out
    if rpm_id is not None and not isinstance(rpm_id, int):
        rpm_id = _rpm_id(files, rpm_id)
    key = sigkey.lower() if sigkey is not None else None
    rows = [
        {"rpm_id": rid, "sigkey": name, "sighash": sighash}
        for rid, signatures in sorted(files.signatures.items())
        for name, sighash in sorted(signatures.items())
        if (rpm_id is None or rid == rpm_id) and (key is None or name == key)
    ]
    return apply_query_opts(rows, queryOpts)


def _rpm_id(files: HubFiles, info: Any) -> int:
    """The id of the RPM an NVRA string or an RPM struct names."""
    for rpm in (rpm for rpms in files.rpms.values() for rpm in rpms):
        nvra = f"{rpm['name']}-{rpm['version']}-{rpm['release']}.{rpm['arch']}"
        if info == nvra or (isinstance(info, dict) and info.get("id") == rpm["id"]):
            return int(rpm["id"])
    raise GenericError(f"No such rpm: {info}")


@hub_method()
def listArchives(
    ctx: CallContext,
    buildID: int | None = None,
    type: str | None = None,  # noqa: A002 - the hub's parameter name
    filename: str | None = None,
    queryOpts: Any = None,
) -> Any:
    """Return the archive records of a build (all builds' when
    ``buildID`` is nil), of build type ``type`` and named ``filename``
    when given."""
    files: HubFiles = ctx.hub.files
    files.topdir  # noqa: B018 - lays the tree (and its records) out
    if buildID is None:
        rows = [archive for group in files.archives.values() for archive in group]
    else:
        rows = list(files.archives.get(buildID, []))
    rows = [
        archive
        for archive in rows
        if (type is None or archive["btype"] == type)
        and (filename is None or archive["filename"] == filename)
    ]
    return apply_query_opts([dict(archive) for archive in rows], queryOpts)
