"""The fault matrix of the file layer (issue 16, section 6).

One download of a build (its x86_64 RPM and every log, in nested
directories) is run against each fault of a table, in the library and
through the ``txkoji`` command.  Each row checks what a user relies on:

* the error is clear (its class and words), or the download recovers;
* nothing is written outside the destination (everything else under the
  test's directory is byte for byte as before);
* nothing is lost: every file that is in place is complete and correct,
  and a second run without the fault finishes the job, resuming what was
  left;
* the command's exit status is 1 for an error, 130 after Ctrl-C, 143
  after SIGTERM, 0 otherwise.

``symlink at every name`` puts a link, to a file or directory outside the
destination, at each name the download writes: the final files, their
temporary ``.part`` and ``.part.json`` files, and the directories it makes.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import reactor, task

from tests.cli_helpers import ROOT, CollectOutput, environment
from tests.loopback import until
from tests.needs import missing_part
from txkoji import Connection
from txkoji.exceptions import (
    ChecksumMismatch,
    KojiConnectionError,
    KojiFileError,
    KojiHTTPError,
    KojiProtocolError,
    KojiTimeoutError,
    UnsafePathError,
)
from txkoji.files import download_build

NVR = "bash-5.2.26-2.fc40"
BUILD_DIR = "packages/bash/5.2.26/2.fc40"
RPM = f"{BUILD_DIR}/x86_64/{NVR}.x86_64.rpm"
LOGS = [
    f"{arch}/{log}"
    for arch in ("aarch64", "x86_64")
    for log in ("build.log", "root.log", "state.log")
]


def expected(server) -> dict[str, bytes]:
    """Each file the download writes (relative to the destination) and its
    content on the hub."""
    files = server.hub.files
    wanted = {f"{NVR}.x86_64.rpm": files.path(RPM).read_bytes()}
    for log in LOGS:
        wanted[f"logs/{log}"] = files.path(f"{BUILD_DIR}/data/logs/{log}").read_bytes()
    return wanted


def snapshot(top: Path, skip: Path) -> dict[str, Any]:
    """Everything under ``top`` but ``skip``: links, directories, contents."""
    seen: dict[str, Any] = {}
    for path in sorted(top.rglob("*")):
        if path == skip or skip in path.parents:
            continue
        name = str(path.relative_to(top))
        if path.is_symlink():
            seen[name] = ("link", os.readlink(path))
        elif path.is_dir():
            seen[name] = "dir"
        else:
            seen[name] = path.read_bytes()
    return seen


def complete_files_are_correct(dest: Path, wanted: dict[str, bytes]) -> None:
    """Every regular file in place under ``dest`` (temporary files aside)
    is one of the download's, complete and correct."""
    for path in dest.rglob("*"):
        if path.is_symlink() or not path.is_file() or path.name.startswith("."):
            continue
        name = str(path.relative_to(dest))
        assert path.read_bytes() == wanted[name], f"{name} is not what the hub has"


async def turns(count: int) -> None:
    """Let the reactor run ``count`` turns."""
    for _ in range(count):
        await task.deferLater(reactor, 0, lambda: None)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def mount_tmpfs(path: Path, options: str) -> bool:
    """Mount a tmpfs at ``path`` when this process may (root)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


@dataclass
class Scene:
    """One row's world: the hub, the destination, and what to undo."""

    server: Any
    tmp_path: Path
    dest: Path
    topurl: str
    options: dict[str, Any] = field(default_factory=dict)
    mounted: list[Path] = field(default_factory=list)
    drive: Callable[[Scene, Any], Awaitable[None]] | None = None

    def undo(self) -> None:
        for path in self.mounted:
            subprocess.run(["umount", str(path)], check=True)
        self.mounted.clear()
        os.chmod(self.dest, 0o755)


def server_down(scene: Scene) -> None:
    scene.topurl = f"http://127.0.0.1:{closed_port()}/kojifiles"


def cut_twice(scene: Scene) -> None:
    scene.server.files.faults.add(RPM, drop=True, times=2)


def unavailable_twice(scene: Scene) -> None:
    scene.server.files.faults.add(RPM, http_status=503, times=2)


def broken(scene: Scene) -> None:
    scene.server.files.faults.add(RPM, http_status=500, times=None)


def flood(scene: Scene) -> None:
    scene.server.files.faults.add(RPM, malformed=True)


def hub_garbage(scene: Scene) -> None:
    scene.server.hub.faults.add(method="listRPMs", malformed=True)


def stalled(scene: Scene) -> None:
    clock = task.Clock()
    scene.server.files.stalls.add(RPM)
    scene.options.update(clock=clock, timeout=30)

    async def drive(scene: Scene, running: Any) -> None:
        # The connection's timers run on the clock: let those due now run
        # as the reactor turns, until half of the RPM has arrived.
        requests = scene.server.files.requests
        for _ in range(100_000):
            if any(r[1] == RPM for r in requests):
                break
            clock.advance(0)
            await turns(1)
        # Each attempt (the first and the retries) stalls half-way.
        while not running.called:
            for _ in range(50):
                clock.advance(0)
                await turns(1)
            clock.advance(30)

    scene.drive = drive


def not_writable(scene: Scene) -> None:
    if mount_tmpfs(scene.dest, "ro,size=64k"):
        scene.mounted.append(scene.dest)
    elif os.geteuid() != 0:
        os.chmod(scene.dest, 0o555)
    else:
        missing_part("root here, and no read-only tmpfs can be mounted")


def full(scene: Scene) -> None:
    if not mount_tmpfs(scene.dest, "size=8k"):
        missing_part(
            "no small tmpfs can be mounted here (the command's file "
            "size limit row covers a full destination)"
        )
    scene.mounted.append(scene.dest)


@dataclass(frozen=True)
class Row:
    fault: str
    arrange: Callable[[Scene], None]
    error: type[BaseException] | None
    words: str = ""


MATRIX = [
    Row("server down from the start", server_down, KojiConnectionError, "127.0.0.1"),
    Row("down mid-way and back (resumed)", cut_twice, None),
    Row("5xx, then back", unavailable_twice, None),
    Row("5xx for good", broken, KojiHTTPError, "HTTP 500"),
    Row("slow: stalled mid-file", stalled, KojiTimeoutError, "sent nothing for 30 s"),
    Row("garbage: a body longer than the file", flood, ChecksumMismatch, "more than"),
    Row("garbage from the hub", hub_garbage, KojiProtocolError, "listRPMs"),
    Row("destination not writable", not_writable, KojiFileError, "cannot write"),
    Row("destination full", full, KojiFileError, "No space left"),
]


async def run_download(scene: Scene, **extra: Any) -> Any:
    options = {"max_retries": 2, "retry_interval": 0, **scene.options}
    koji = Connection(server=scene.server.url, topurl=scene.topurl, **options)
    try:
        running = download_build(
            koji, NVR, scene.dest, arches=["x86_64"], logs=True, **extra
        )
        if scene.drive is not None:
            await scene.drive(scene, running)
        return await running
    finally:
        await koji.close()


@pytest.mark.parametrize("row", MATRIX, ids=[row.fault for row in MATRIX])
@pytest_twisted.ensureDeferred
async def test_download_fault_matrix(hub_server, tmp_path, row):
    dest = tmp_path / "dest"
    dest.mkdir()
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "keep").write_bytes(b"not to be touched")
    wanted = expected(hub_server)
    before = snapshot(tmp_path, dest)
    scene = Scene(hub_server, tmp_path, dest, hub_server.topurl)
    try:
        row.arrange(scene)
        if row.error is None:
            paths = await run_download(scene)
            assert sorted(str(p.relative_to(dest)) for p in paths) == sorted(wanted)
        else:
            with pytest.raises(row.error, match=row.words):
                await run_download(scene)
        complete_files_are_correct(dest, wanted)
    finally:
        scene.undo()
    assert snapshot(tmp_path, dest) == before
    # Without the fault, a second run (as the command makes it) finishes.
    hub_server.files.faults.clear()
    hub_server.hub.faults.clear()
    hub_server.files.stalls.clear()
    again = Scene(hub_server, tmp_path, dest, hub_server.topurl)
    paths = await run_download(again, skip_existing=True)
    assert {str(p.relative_to(dest)): p.read_bytes() for p in paths} == wanted
    assert sorted(p.name for p in dest.iterdir()) == [f"{NVR}.x86_64.rpm", "logs"]


#: Each name the download writes, and whether a directory is made there.
WRITTEN = [
    # A link at a final name resolves outside: refused before any transfer.
    (f"{NVR}.x86_64.rpm", False, UnsafePathError),
    (f".{NVR}.x86_64.rpm.part", False, UnsafePathError),
    (f".{NVR}.x86_64.rpm.part.json", False, UnsafePathError),
    ("logs", True, UnsafePathError),
    ("logs/x86_64", True, UnsafePathError),
    ("logs/x86_64/build.log", False, UnsafePathError),
    ("logs/x86_64/.build.log.part", False, UnsafePathError),
    ("logs/x86_64/.build.log.part.json", False, UnsafePathError),
]


@pytest.mark.parametrize(("name", "is_dir", "error"), WRITTEN)
@pytest_twisted.ensureDeferred
async def test_a_symlink_at_every_name_written_is_never_followed(
    hub_server, tmp_path, name, is_dir, error
):
    dest = tmp_path / "dest"
    link = dest / name
    link.parent.mkdir(parents=True)
    victim = tmp_path / "outside" / ("victim-dir" if is_dir else "victim")
    victim.parent.mkdir()
    if is_dir:
        victim.mkdir()
    else:
        victim.write_bytes(b"precious")
    link.symlink_to(victim)
    wanted = expected(hub_server)
    before = snapshot(tmp_path, dest)
    with pytest.raises(error):
        await run_download(Scene(hub_server, tmp_path, dest, hub_server.topurl))
    assert snapshot(tmp_path, dest) == before
    assert link.is_symlink()
    complete_files_are_correct(dest, wanted)


def write_profile(home: Path, server, topurl: str) -> None:
    (home / ".koji").mkdir(parents=True, exist_ok=True)
    (home / ".koji" / "config").write_text(
        f"[matrix]\nserver = {server.url}\ntopurl = {topurl}\n"
        "max_retries = 1\nretry_interval = 0\n"
    )


#: A wrapper that runs the command under a file size limit (with SIGXFSZ
#: ignored, so that writes fail with EFBIG as on a full disk).
_LIMITED = (
    "import os, resource, signal, sys\n"
    "limit = int(sys.argv[1])\n"
    "resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))\n"
    "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
    "os.execv(sys.executable, [sys.executable, '-m', 'txkoji', *sys.argv[2:]])\n"
)


def stall_rpm(scene: Scene) -> None:
    scene.server.files.stalls.add(RPM)


@dataclass(frozen=True)
class CommandRow:
    fault: str
    arrange: Callable[[Scene], None] | None
    status: int
    words: str
    signal: int | None = None
    size_limit: bool = False


INTERRUPTED = "interrupted: run the same command again to resume"

COMMAND_MATRIX = [
    CommandRow("server down from the start", server_down, 1, "txkoji: "),
    CommandRow("5xx for good", broken, 1, "HTTP 500"),
    CommandRow("garbage: a longer body", flood, 1, "more than the expected"),
    CommandRow("destination full (size limit)", None, 1, "File too large", None, True),
    CommandRow("Ctrl-C mid-transfer", stall_rpm, 130, INTERRUPTED, signal.SIGINT),
    CommandRow("SIGTERM mid-transfer", stall_rpm, 143, INTERRUPTED, signal.SIGTERM),
]


def spawn(collect: CollectOutput, home: Path, args: list[str], limit: int | None):
    env = environment(home)
    if limit is None:
        argv = [sys.executable, "-m", "txkoji", *args]
    else:
        argv = [sys.executable, "-c", _LIMITED, str(limit), *args]
    return reactor.spawnProcess(collect, sys.executable, argv, env=env, path=str(ROOT))


@pytest.mark.parametrize("row", COMMAND_MATRIX, ids=[r.fault for r in COMMAND_MATRIX])
@pytest_twisted.ensureDeferred
async def test_download_command_fault_matrix(hub_server, tmp_path, row):
    dest = tmp_path / "dest"
    dest.mkdir()
    wanted = expected(hub_server)
    home = tmp_path / "home"
    scene = Scene(hub_server, tmp_path, dest, hub_server.topurl)
    if row.arrange is not None:
        row.arrange(scene)
    write_profile(home, hub_server, scene.topurl)
    before = snapshot(tmp_path, dest)
    args = ["-p", "matrix", "download-build", NVR, "--dest", str(dest)]
    args += ["--arch", "x86_64", "--logs"]
    limit = len(wanted[f"{NVR}.x86_64.rpm"]) // 2 if row.size_limit else None
    collect = CollectOutput()
    process = spawn(collect, home, args, limit)
    if row.signal is not None:
        requests = hub_server.files.requests
        try:
            await until(lambda: any(r[1] == RPM for r in requests), turns=400_000)
            await turns(50)  # let half of the file arrive
        finally:
            process.signalProcess(row.signal)
    status = await collect.ended
    assert status == row.status, collect.err
    assert row.words.encode() in collect.err
    complete_files_are_correct(dest, wanted)
    assert snapshot(tmp_path, dest) == before
    # Without the fault, running the same command again finishes the job.
    hub_server.files.faults.clear()
    hub_server.files.stalls.clear()
    write_profile(home, hub_server, hub_server.topurl)
    collect = CollectOutput()
    spawn(collect, home, args, None)
    assert await collect.ended == 0, collect.err
    complete_files_are_correct(dest, wanted)
    assert sorted(
        str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file()
    ) == sorted(wanted)
    if row.signal is not None:
        ranges = [r[2] for r in hub_server.files.requests if r[1] == RPM]
        assert ranges[-1] == f"bytes={len(wanted[f'{NVR}.x86_64.rpm']) // 2}-"
