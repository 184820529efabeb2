"""The ``txkoji`` file commands run as a program against the fake hub:
plain lines, JSON, skipping finished files, Ctrl-C leaving resumable
state, logins for upload and build, and progress bars on a terminal."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest_twisted

from tests.cli_helpers import CollectOutput, environment, spawn_txkoji, txkoji
from tests.loopback import until
from txkoji.testing.files import SIGKEY

NVR = "bash-5.2.26-2.fc40"


def hub_args(server) -> list[str]:
    return ["--server", server.url, "--topurl", server.topurl]


@pytest_twisted.ensureDeferred
async def test_download_task_prints_a_line_per_file(hub_server, tmp_path):
    out, err, code = await txkoji(
        *hub_args(hub_server), "download-task", "50010", "--dest", str(tmp_path)
    )
    assert code == 0, err
    assert "\x1b[" not in out
    lines = out.splitlines()
    assert lines[0].startswith(f"downloaded {tmp_path}/{NVR}.src.rpm (")
    assert lines[-1] == f"3 file(s) in {tmp_path}"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"{NVR}.src.rpm", f"{NVR}.x86_64.rpm", f"{NVR}.aarch64.rpm"]
    )
    # Again: the finished files are kept and listed, nothing fails.
    again, err, code = await txkoji(
        *hub_args(hub_server), "download-task", "50010", "--dest", str(tmp_path)
    )
    assert code == 0, err
    assert again.splitlines()[-1] == f"3 file(s) in {tmp_path}"


@pytest_twisted.ensureDeferred
async def test_download_build_json(hub_server, tmp_path):
    out, err, code = await txkoji(
        *hub_args(hub_server),
        "download-build",
        NVR,
        "--arch",
        "x86_64",
        "--key",
        SIGKEY,
        "--json",
        "--dest",
        str(tmp_path),
    )
    assert code == 0, err
    events = [json.loads(line) for line in out.splitlines()]
    assert events[0] == {
        "event": "downloaded",
        "file": f"{NVR}.x86_64.rpm",
        "path": str(tmp_path / f"{NVR}.x86_64.rpm"),
        "bytes": (tmp_path / f"{NVR}.x86_64.rpm").stat().st_size,
    }
    assert events[-1]["event"] == "done"


@pytest_twisted.ensureDeferred
async def test_download_build_key_warns_about_unsigned_rpms(hub_server, tmp_path):
    out, err, code = await txkoji(
        *hub_args(hub_server),
        "download-build",
        NVR,
        "--key",
        "0badc0de",
        "--dest",
        str(tmp_path),
    )
    assert code == 0, err
    assert f"txkoji: warning: No such sigkey 0badc0de for rpm {NVR}-x86_64.rpm" in err
    assert out.splitlines()[-1] == f"0 file(s) in {tmp_path}"
    assert list(tmp_path.iterdir()) == []


@pytest_twisted.ensureDeferred
async def test_download_build_archives_by_type(hub_server, tmp_path):
    out, err, code = await txkoji(
        *hub_args(hub_server),
        "download-build",
        "etcd-container-3.5.17-1",
        "--type",
        "remote-sources",
        "--dest",
        str(tmp_path),
    )
    assert code == 0, err
    assert out.splitlines()[-1] == f"1 file(s) in {tmp_path}"
    assert (tmp_path / "remote-source.tar.gz").is_file()


@pytest_twisted.ensureDeferred
async def test_errors_exit_1_with_a_message(hub_server, tmp_path):
    out, err, code = await txkoji(
        *hub_args(hub_server), "download-task", "50100", "--dest", str(tmp_path)
    )
    assert code == 1
    assert "txkoji: task 50100 has not finished yet" in err


@pytest_twisted.ensureDeferred
async def test_ctrl_c_leaves_a_partial_file_that_the_next_run_resumes(
    hub_server, tmp_path
):
    slow = "work/tasks/13/50013/bash-5.2.26-2.fc40.aarch64.rpm"
    hub_server.files.faults.add(slow, drop=True)
    hub_server.files.faults.add(slow, delay=60)
    args = [*hub_args(hub_server), "download-task", "50010"]
    args += ["--dest", str(tmp_path), "--arch", "aarch64"]
    collect = CollectOutput()
    process = spawn_txkoji(collect, args)
    try:
        await until(
            lambda: sum(1 for r in hub_server.files.requests if r[1] == slow) == 2,
            turns=200_000,
        )
    finally:
        process.signalProcess(signal.SIGINT)
    code = await collect.ended
    assert code == 130, collect.err
    assert b"interrupted: run the same command again to resume" in collect.err
    part = tmp_path / f".{NVR}.aarch64.rpm.part"
    assert part.stat().st_size > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        part.name,
        f"{part.name}.json",
    ]
    out, err, code = await txkoji(*args)
    assert code == 0, err
    ranges = [r[2] for r in hub_server.files.requests if r[1] == slow]
    assert ranges[-1] == f"bytes={part_size(hub_server, slow) // 2}-"
    assert (tmp_path / f"{NVR}.aarch64.rpm").read_bytes() == hub_server.hub.files.path(
        slow
    ).read_bytes()


def part_size(server, relpath: str) -> int:
    return server.hub.files.path(relpath).stat().st_size


def write_profile(home: Path, server, pki) -> None:
    (home / ".koji").mkdir(parents=True)
    (home / ".koji" / "config").write_text(
        "[fake]\n"
        f"server = https://localhost:{server.port}/kojihub\n"
        f"topurl = https://localhost:{server.port}/kojifiles\n"
        f"serverca = {pki.ca_cert}\n"
        f"cert = {pki.client_pem}\n"
        "authtype = ssl\n"
    )


@pytest_twisted.ensureDeferred
async def test_upload_then_build_with_a_logged_in_profile(
    tls_hub_server, hub_pki, tmp_path
):
    home = tmp_path / "home"
    write_profile(home, tls_hub_server, hub_pki)
    srpm = tmp_path / "hello-1.0-1.src.rpm"
    srpm.write_bytes(b"x" * 5000)
    out, err, code = await txkoji(
        "-p", "fake", "upload", str(srpm), "--dir", "cli-import/t", "--json", home=home
    )
    assert code == 0, err
    events = [json.loads(line) for line in out.splitlines()]
    assert events[0] == {
        "event": "uploaded",
        "file": srpm.name,
        "path": f"cli-import/t/{srpm.name}",
        "bytes": 5000,
    }
    stored = tls_hub_server.hub.files.topdir / "work" / "cli-import" / "t" / srpm.name
    assert stored.read_bytes() == srpm.read_bytes()
    out, err, code = await txkoji(
        "-p", "fake", "build", "--scratch", "f40-candidate", str(srpm), home=home
    )
    assert code == 0, err
    first = out.splitlines()[0]
    assert first.startswith("Created task: ")
    task_id = int(first.split(": ")[1])
    request = tls_hub_server.hub.state.tasks[task_id]["request"]
    assert request[1:] == ["f40-candidate", {"scratch": True}]
    assert f"txkoji --profile fake watch-task {task_id}" in out


@pytest_twisted.ensureDeferred
async def test_progress_bars_on_a_terminal(hub_server, tmp_path):
    collect = CollectOutput()
    spawn_txkoji(
        collect,
        [*hub_args(hub_server), "download-build", NVR, "--dest", str(tmp_path)],
        env=dict(environment(), COLUMNS="120", TERM="xterm"),
        use_pty=True,
    )
    code = await collect.ended
    screen = collect.out.decode("utf-8", "replace")
    assert code == 0, screen
    assert "\x1b[" in screen  # drawn, not printed
    assert "━" in screen  # the bars
    assert f"{NVR}.x86_64.rpm" in screen
    assert "KiB" in screen
    assert "3 file(s) in" in screen
