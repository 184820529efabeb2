"""The ``txkoji`` command's fault matrix: the watch commands against a hub
that is down from the start, down mid-way and back, answering 5xx,
slowly, or garbage, at a wrong path or an unknown host; and Ctrl-C and
SIGTERM at login, at the first request and mid-watch.  Each row asserts
the message a person reads and the exit status a script relies on.

The profile is the default one (``koji``, no ``-p``), with retry rules
small enough to give up within a second or two."""

from __future__ import annotations

import re
import signal
import socket
from pathlib import Path

import pytest
import pytest_twisted
from twisted.internet import reactor, task

from tests.cli_helpers import CollectOutput, environment, spawn_txkoji, txkoji
from tests.loopback import until

#: A task of the data set that has finished, with its children.
DONE_TASK = "50010"
RETRY = re.compile(r"retry (\d) of 2 (now|at \d\d:\d\d:\d\d \(in 0\.5 s\))")


def closed_port_url() -> str:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}/kojihub"


def home_with_profile(tmp_path: Path, server: str, **extra: str) -> Path:
    """A HOME whose ``~/.koji/config`` has the default profile ``koji``."""
    home = tmp_path / "home"
    (home / ".koji").mkdir(parents=True, exist_ok=True)
    options = {
        "server": server,
        "max_retries": "2",
        "retry_interval": "0.5",
        "poll_interval": "0.2",
        "timeout": "5",
        **extra,
    }
    lines = ["[koji]", *(f"{k} = {v}" for k, v in options.items())]
    (home / ".koji" / "config").write_text("\n".join(lines) + "\n")
    return home


def gave_up_after_retries(err: str, what: str) -> None:
    assert [m[0] for m in RETRY.findall(err)] == ["1", "2"], err
    assert f"txkoji: giving up on polling {what} after 3 failed tries: " in err


# command, the fault, and what the run must show: (exit status, stderr
# check).  ``url`` is the profile's server: "hub", "closed", "404" or
# "unknown".
MATRIX = {
    "down-from-start-watch-task": ("closed", ["watch-task", DONE_TASK], None),
    "down-from-start-watch-build": ("closed", ["watch-build", "1002"], None),
    "down-from-start-events": ("closed", ["events"], None),
    "wrong-path": ("404", ["watch-task", DONE_TASK], None),
    "unknown-host": ("unknown", ["watch-task", DONE_TASK], None),
    "5xx-always": ("hub", ["watch-task", DONE_TASK], {"http_status": 503}),
    "5xx-always-watch-build": ("hub", ["watch-build", "1002"], {"http_status": 500}),
    "5xx-always-events": ("hub", ["events", "--json"], {"http_status": 503}),
    "5xx-then-back": ("hub", ["watch-task", DONE_TASK], {"http_status": 502}),
    "slow": ("hub", ["watch-task", DONE_TASK], {"delay": 0.4}),
    "garbage": ("hub", ["watch-task", DONE_TASK], {"malformed": True}),
    "timeout": ("hub", ["watch-task", DONE_TASK], {"delay": 3}),
    "offline": ("hub", ["watch-task", DONE_TASK], {"offline": True}),
    "garbage-json": ("hub", ["watch-build", "1002", "--json"], {"malformed": True}),
    "garbage-events": ("hub", ["events"], {"malformed": True}),
}


def server_url(kind: str, hub_server) -> str:
    return {
        "hub": hub_server.url,
        "closed": closed_port_url(),
        "404": hub_server.url.rsplit("/", 1)[0] + "/nothere",
        "unknown": "http://txkoji-test.invalid/kojihub",
    }[kind]


@pytest.mark.parametrize("row", list(MATRIX))
@pytest_twisted.ensureDeferred
async def test_fault_matrix(row, hub_server, tmp_path):
    kind, command, fault = MATRIX[row]
    timeout = {"timeout": "1"} if row == "timeout" else {}
    home = home_with_profile(tmp_path, server_url(kind, hub_server), **timeout)
    if fault is not None:
        times = 2 if row == "5xx-then-back" else None
        hub_server.hub.faults.add(times=times, **fault)
    out, err, code = await txkoji(*command, home=home)
    assert "Traceback" not in err
    assert "Can't stop reactor" not in err
    if row.startswith("down-from-start"):
        what = {"watch-task": "tasks", "watch-build": "builds"}.get(command[0])
        assert "refused the connection" in err
        gave_up_after_retries(err, what or "events")
        assert code == 1
    elif row == "wrong-path":
        assert code == 1
        assert "polling tasks failed, and a retry would not help: " in err
        assert "404" in err
    elif row == "unknown-host":
        assert code == 1
        assert "cannot resolve the host of http://txkoji-test.invalid/kojihub" in err
        gave_up_after_retries(err, "tasks")
    elif row == "timeout":
        assert code == 1
        assert "took longer than 1 s" in err
        gave_up_after_retries(err, "tasks")
    elif row == "offline":
        # Without offline_retry, ServerOffline is the hub's answer: no retry.
        assert code == 1
        assert "failed, and a retry would not help: ServerOffline" in err
    elif row == "5xx-always":
        assert code == 1
        assert "503" in err
        gave_up_after_retries(err, "tasks")
    elif row == "5xx-always-watch-build":
        # HTTP 500 is the hub's own error, not a proxy's: not retried.
        assert code == 1
        assert "polling builds failed, and a retry would not help: " in err
        assert "500" in err
    elif row == "5xx-always-events":
        assert code == 1
        assert out == ""
        gave_up_after_retries(err, "events")
    elif row == "5xx-then-back":
        assert code == 0, err
        assert "502" in err and "retry 2 of 2" in err
        assert "txkoji: polling tasks works again" in err
        assert out.splitlines()[-1].endswith(" completed successfully")
    elif row == "slow":
        assert code == 0, err
        assert err == ""
        assert out.splitlines()[-1].endswith(" completed successfully")
    else:  # garbage: an answer that is no XML-RPC is not retried
        assert code == 1
        assert "failed, and a retry would not help: " in err
        # Nothing half-told on stdout (with --json: nothing at all).
        assert out in ("", "Watching tasks (this may be safely interrupted)...\n")


@pytest_twisted.ensureDeferred
async def test_a_hub_down_mid_watch_and_back(hub_server, tmp_path):
    """The hub fails while a build runs, then answers again: the watch
    says so on stderr, goes on, and ends 0."""
    sim = hub_server.hub.simulate(seed=3, speed=40)
    try:
        task_id = sim.start_build("bash")
        home = home_with_profile(tmp_path, hub_server.url)
        collect = CollectOutput()
        spawn_txkoji(collect, ["watch-task", str(task_id)], env=environment(home))
        await until(lambda: b"build (" in collect.out or collect.ended.called)
        hub_server.hub.faults.add(http_status=504, times=2)
        code = await collect.ended
    finally:
        sim.stop()
    err = collect.err.decode()
    assert code == 0, err
    assert "504" in err and "txkoji: polling tasks works again" in err
    assert collect.out.decode().splitlines()[-1].endswith(" completed successfully")


#: Where the signal arrives: the hub holds back that call's answer.
STAGES = {
    "login": ("login", ["upload", "x.src.rpm"]),
    "first-request": (None, ["watch-task", DONE_TASK]),
    "mid-watch": (None, ["watch-task"]),
}


@pytest.mark.parametrize("sig", ["INT", "TERM"])
@pytest.mark.parametrize("stage", list(STAGES))
@pytest_twisted.ensureDeferred
async def test_signals_at_each_stage(stage, sig, hub_server, tmp_path):
    method, command = STAGES[stage]
    home = home_with_profile(
        tmp_path,
        hub_server.url,
        authtype="password",
        user="alice",
        password="alice-secret-pw",
        allow_password_over_http="true",
    )
    (tmp_path / "x.src.rpm").write_bytes(b"x" * 100)
    sim = None
    if stage == "mid-watch":
        sim = hub_server.hub.simulate(seed=3, speed=1)
        command = [*command, str(sim.start_build("bash"))]
    collect = CollectOutput()
    process = spawn_txkoji(collect, command, env=environment(home))
    try:
        if stage == "mid-watch":
            await until(lambda: b"build (" in collect.out or collect.ended.called)
        else:
            hub_server.hub.faults.add(method, delay=60, times=None)
            started = b"Watching" if method is None else b"logging in"
            await until(
                lambda: started in collect.out + collect.err or collect.ended.called,
                turns=10**7,
            )
            await task.deferLater(reactor, 0.5, lambda: None)  # request sent
        assert not collect.ended.called, collect.err
        process.signalProcess(sig)
        code = await collect.ended
    finally:
        hub_server.hub.faults.clear()
        if sim is not None:
            sim.stop()
    err = collect.err.decode()
    assert code == (130 if sig == "INT" else 128 + signal.SIGTERM), err
    assert "Can't stop reactor" not in err and "Traceback" not in err
    if stage == "login":
        assert "txkoji: logging in with user alice and a password" in err
    else:
        assert "To resume watching, run: txkoji watch-task " in collect.out.decode()


@pytest_twisted.ensureDeferred
async def test_without_p_or_server_the_koji_profile_is_used(hub_server, tmp_path):
    home = home_with_profile(tmp_path, hub_server.url)
    out, err, code = await txkoji("watch-task", DONE_TASK, home=home)
    assert code == 0, err
    assert out.splitlines()[-1].endswith(" completed successfully")
