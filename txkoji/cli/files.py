"""The file subcommands: ``download-task``, ``download-build``, ``upload``
and ``build``.

Each shows a progress bar per file on a terminal (plain lines otherwise,
or JSON with ``--json``).  Ctrl-C stops the transfers and leaves what
resumes them: the partial downloads (the same command continues them and
keeps the files already complete), or the uploaded part (the command
printed, with ``--resume``, continues it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from twisted.internet import defer

from txkoji.auth import choose_authtype
from txkoji.cli.runner import INTERRUPTED
from txkoji.cli.transfers import PlainTransfers, transfers_view
from txkoji.exceptions import KojiException
from txkoji.files import (
    build_from_srpm,
    download_build,
    download_task_output,
    unique_upload_dir,
    upload_many,
)

#: What to do after Ctrl-C stopped a download.
RESUME_DOWNLOAD = "run the same command again to resume"


def add_parsers(sub: Any) -> None:
    """Add the file subcommands to the command's subparsers."""
    task = sub.add_parser("download-task", help="download a task's output")
    task.add_argument("task_id", type=int, metavar="ID")
    task.add_argument("--logs", action="store_true", help="also download logs")
    build = sub.add_parser("download-build", help="download a build's RPMs")
    build.add_argument("nvr", metavar="NVR")
    build.add_argument("--key", help="download the copies signed with this key")
    build.add_argument("--logs", action="store_true", help="also download logs")
    build.add_argument("--debuginfo", action="store_true", help="debuginfo too")
    build.add_argument(
        "--type",
        dest="archive_type",
        help="download archives of this type (maven, win, image...) instead",
    )
    for each in (task, build):
        each.add_argument(
            "--arch", action="append", default=[], help="only this arch (repeatable)"
        )
        each.add_argument("--dest", default=".", help="directory to write into")
        each.add_argument("--overwrite", action="store_true", help="replace files")
    upload = sub.add_parser("upload", help="upload files to the hub's work area")
    upload.add_argument("files", nargs="+", metavar="FILE")
    upload.add_argument(
        "--dir",
        type=_work_dir,
        help="directory under the work area (relative, e.g. cli-import/mine)",
    )
    upload.add_argument(
        "--resume", action="store_true", help="continue an interrupted upload"
    )
    scratch = sub.add_parser("build", help="build a local SRPM")
    scratch.add_argument("--scratch", action="store_true", help="a scratch build")
    scratch.add_argument("target", metavar="TARGET")
    scratch.add_argument("srpm", metavar="SRPM")
    for each in (task, build, upload, scratch):
        each.add_argument(
            "--json", action="store_true", help="one JSON object per line"
        )


async def _transfer(
    view: PlainTransfers, running: defer.Deferred[Any], hint: str
) -> tuple[Any, int]:
    """Wait for ``running`` while ``view`` shows it.

    :returns: its result and the exit status: 0; 1 after an error (said
        on stderr); INTERRUPTED after Ctrl-C (with ``hint`` on how to
        resume).
    """
    view.start()
    try:
        result = await running
    except defer.CancelledError:
        view.stop()
        print(f"interrupted: {hint}", file=sys.stderr)
        return None, INTERRUPTED
    except (KojiException, OSError) as error:
        view.stop()
        print(f"txkoji: {error}", file=sys.stderr)
        return None, 1
    view.stop()
    return result, 0


def _downloaded(view: PlainTransfers, paths: list[Path], dest: str) -> None:
    for path in paths:
        view.file_done("downloaded", path.name, str(path), path.stat().st_size)
    view.message(
        f"{len(paths)} file(s) in {dest}",
        event="done",
        files=[str(path) for path in paths],
    )


def _command_line(args: argparse.Namespace, *words: str) -> str:
    return " ".join(["txkoji", *args.global_args, *words])


async def download_task(reactor: Any, koji: Any, args: argparse.Namespace) -> int:
    """``txkoji download-task ID``: like ``koji download-task``."""
    view = transfers_view(reactor, args.json)
    running = download_task_output(
        koji,
        args.task_id,
        args.dest,
        arches=args.arch or None,
        logs=args.logs,
        overwrite=args.overwrite,
        skip_existing=not args.overwrite,
        progress=lambda item, done, total: view.progress(item.local_name, done, total),
    )
    paths, status = await _transfer(view, running, RESUME_DOWNLOAD)
    if not status:
        _downloaded(view, paths, args.dest)
    return status


async def download_build_command(
    reactor: Any, koji: Any, args: argparse.Namespace
) -> int:
    """``txkoji download-build NVR``: like ``koji download-build``."""
    view = transfers_view(reactor, args.json)
    running = download_build(
        koji,
        int(args.nvr) if args.nvr.isdigit() else args.nvr,
        args.dest,
        arches=args.arch or None,
        logs=args.logs,
        sigkey=args.key,
        debuginfo=args.debuginfo,
        archive_type=args.archive_type,
        overwrite=args.overwrite,
        skip_existing=not args.overwrite,
        progress=view.progress,
        warn=lambda text: print(f"txkoji: warning: {text}", file=sys.stderr),
    )
    paths, status = await _transfer(view, running, RESUME_DOWNLOAD)
    if not status:
        _downloaded(view, paths, args.dest)
    return status


def login_words(config: Any) -> str:
    """Say which login :meth:`txkoji.Connection.login` attempts with the
    profile ``config``, and why (as :func:`txkoji.auth.choose_authtype`
    chooses)."""
    method = choose_authtype(config)
    what = {
        "ssl": f"the client certificate {config.get('cert')}",
        "password": f"user {config.get('user')} and a password",
        "gssapi": "Kerberos (GSSAPI)",
    }[method]
    if config.get("authtype"):
        why = f"the profile's authtype is {config['authtype']!r}"
    elif method == "ssl":
        why = "the profile's cert is a readable file"
    elif method == "password":
        why = "the profile names a user"
    else:
        profile = config.profile
        source = f"profile {profile!r}" if profile else "no profile (--server only)"
        why = f"{source}: no authtype, no readable client certificate, no user"
    return f"logging in with {what}: {why}"


async def _log_in(koji: Any) -> None:
    """Log in, first saying on stderr which login and why."""
    print(f"txkoji: {login_words(koji.config)}", file=sys.stderr, flush=True)
    await koji.login()


def _work_dir(text: str) -> str:
    """``--dir``: a relative path under the hub's work area.

    :raises argparse.ArgumentTypeError: for an absolute path (the hub
        would store ``/abs`` as ``abs/``), ``..`` or an empty part.
    """
    parts = text.split("/")
    if text.startswith("/"):
        raise argparse.ArgumentTypeError(
            f"{text!r} is absolute; --dir is a directory under the hub's work "
            f"area (the hub would store it as {text.lstrip('/')!r}): give it "
            "without the leading '/'"
        )
    if any(part in ("", ".", "..") for part in parts[:-1] + [parts[-1] or "x"]):
        raise argparse.ArgumentTypeError(
            f"{text!r}: --dir must be a plain relative path, without '.', '..' "
            "or empty parts"
        )
    return text.rstrip("/")


async def _check_target(koji: Any, target: str, scratch: bool) -> str | None:
    """What is wrong with building for ``target``, as ``koji build``
    checks before uploading: ``None`` when it exists and (for a real
    build) its destination tag is not locked."""
    info = await koji.getBuildTarget(target)
    if not info:
        return f"No such build target: {target}"
    if not scratch:
        dest = await koji.getTag(info["dest_tag"])
        if dest and dest.get("locked"):
            return f"Destination tag {dest['name']} is locked"
    return None


async def upload_command(reactor: Any, koji: Any, args: argparse.Namespace) -> int:
    """``txkoji upload FILE... [--dir DIR] [--resume]``."""
    await _log_in(koji)
    server_dir = args.dir or unique_upload_dir("cli-import", reactor)
    view = transfers_view(reactor, args.json)
    running = upload_many(
        koji, args.files, server_dir, resume=args.resume, progress=view.progress
    )
    again = _command_line(args, "upload", "--dir", server_dir, "--resume", *args.files)
    done, status = await _transfer(view, running, f"resume with: {again}")
    if status:
        return status
    for item in done:
        view.file_done("uploaded", item.path.rsplit("/", 1)[-1], item.path, item.size)
    view.message(
        f"{len(done)} file(s) in {server_dir}",
        event="done",
        dir=server_dir,
        files=[item.path for item in done],
    )
    return 0


async def build_command(reactor: Any, koji: Any, args: argparse.Namespace) -> int:
    """``txkoji build [--scratch] TARGET SRPM``: check the target, upload,
    then build."""
    problem = await _check_target(koji, args.target, args.scratch)
    if problem is not None:
        print(f"txkoji build: {problem}", file=sys.stderr)
        return 1
    await _log_in(koji)
    view = transfers_view(reactor, args.json)
    name = Path(args.srpm).name
    running = build_from_srpm(
        koji,
        args.target,
        args.srpm,
        scratch=args.scratch,
        progress=lambda done, total: view.progress(name, done, total),
    )
    task_id, status = await _transfer(view, running, "run the same command again")
    if status:
        return status
    view.message(
        f"Created task: {task_id}\n"
        f"Watch it with: {_command_line(args, 'watch-task', str(task_id))}",
        event="created",
        task_id=task_id,
    )
    return 0


COMMANDS = {
    "download-task": download_task,
    "download-build": download_build_command,
    "upload": upload_command,
    "build": build_command,
}
