"""What the ``txkoji`` command prints for people and scripts: children
grouped under their own top-level task, ``--json`` lines with the ETA and
progress the live view shows, one prefix on a failure; and the file
commands' checks before they act (the build target, ``--dir``, which
login)."""

from __future__ import annotations

import json

import pytest
import pytest_twisted
from twisted.internet.task import Clock

from tests.cli_helpers import CollectOutput, spawn_txkoji, txkoji
from tests.loopback import until
from txkoji import Connection, task_states
from txkoji import config as koji_config
from txkoji.cli.details import error_text
from txkoji.cli.files import login_words
from txkoji.cli.tasklines import elapsed_text, eta_text
from txkoji.exceptions import BuildError, KojiFault
from txkoji.watch import TaskWatcher


@pytest_twisted.ensureDeferred
async def test_plain_output_groups_children_under_their_task(hub_server):
    out, err, code = await txkoji(
        "--server", hub_server.url, "watch-task", "50020", "50001"
    )
    assert code == 1, err  # 50020 failed
    ids = [
        line.split()[0] for line in out.splitlines()[1:] if line.strip()[:1].isdigit()
    ]
    first = ids[: ids.index("50001")]
    assert first == ["50020", "50021", "50022", "50023"]
    assert ids[ids.index("50001") :][:5] == [
        "50001",
        "50002",
        "50003",
        "50004",
        "50005",
    ]


@pytest_twisted.ensureDeferred
async def test_failure_has_one_prefix(hub_server):
    out, err, code = await txkoji("--server", hub_server.url, "watch-task", "50020")
    assert code == 1
    failed = [line.strip() for line in out.splitlines() if "FAILED:" in line]
    assert failed and all(
        line.startswith("FAILED: BuildError: error building") for line in failed
    )
    assert "KojiFault" not in out and "calling getTaskResult" not in out


def test_error_text_names_the_class_once():
    fault = KojiFault("BuildError: mock failed", 1, "getTaskResult")
    assert error_text(fault) == "BuildError: mock failed"
    assert error_text(BuildError("mock failed", 1005, "getTaskResult")) == (
        "BuildError: mock failed"
    )
    assert error_text(ValueError("bad")) == "ValueError: bad"


async def json_lines_until(args: list[str], done) -> list[dict]:
    collect = CollectOutput()
    process = spawn_txkoji(collect, args)

    def records() -> list[dict]:
        whole = collect.out.decode().split("\n")[:-1]
        return [json.loads(line) for line in whole]

    await until(lambda: done(records()) or collect.ended.called, turns=10**7)
    if not collect.ended.called:
        process.signalProcess("INT")
    await collect.ended
    return records()


@pytest_twisted.ensureDeferred
async def test_watch_task_json_gives_the_eta_of_a_task_that_stays_open(hub_server):
    """50100 stays open (the hub's clock does not move): its state never
    changes, yet a progress line brings its ETA."""

    def has_eta(records):
        return any(r["event"] == "progress" and r["id"] == 50100 for r in records)

    args = ["--server", hub_server.url, "--interval", "0.2", "watch-task", "50100"]
    records = await json_lines_until([*args, "--json"], has_eta)
    progress = [r for r in records if r["event"] == "progress" and r["id"] == 50100]
    assert progress and progress[0]["eta"] and progress[0]["progress"] is not None
    assert records[-1]["event"] == "interrupted"
    first = records[0]
    assert {"eta", "progress"} <= set(first)


@pytest_twisted.ensureDeferred
async def test_watch_build_json_lines_have_eta_and_progress(hub_server):
    def has_eta(records):
        return any(r["event"] == "progress" and r["id"] == 1004 for r in records)

    args = ["--server", hub_server.url, "--interval", "0.2", "watch-build", "1004"]
    records = await json_lines_until([*args, "--json"], has_eta)
    first = records[0]
    assert first["event"] == "BuildStateChange" and {"eta", "progress"} <= set(first)
    progress = [r for r in records if r["event"] == "progress"]
    assert progress[0]["eta"] and 0.0 <= progress[0]["progress"] <= 1.0


@pytest_twisted.ensureDeferred
async def test_build_checks_the_target_before_any_upload(hub_server, tmp_path):
    srpm = tmp_path / "hello-1.0-1.src.rpm"
    srpm.write_bytes(b"x" * 100)
    out, err, code = await txkoji(
        "--server", hub_server.url, "build", "--scratch", "f40-nothere", str(srpm)
    )
    assert code == 1
    assert "No such build target: f40-nothere" in err
    assert hub_server.hub.calls == ["getBuildTarget"]  # no login, no upload


@pytest.mark.parametrize("bad", ["/abs", "/", "a/../b", "./x", "a//b"])
@pytest_twisted.ensureDeferred
async def test_upload_dir_must_be_relative(bad, tmp_path):
    srpm = tmp_path / "x.src.rpm"
    srpm.write_bytes(b"x")
    out, err, code = await txkoji(
        "--server", "http://127.0.0.1:9/kojihub", "upload", str(srpm), "--dir", bad
    )
    assert code == 2
    assert "--dir" in err
    if bad == "/abs":
        assert "'/abs' is absolute" in err and "'abs'" in err


@pytest_twisted.ensureDeferred
async def test_upload_without_a_profile_says_it_tries_kerberos_and_why(tmp_path):
    srpm = tmp_path / "x.src.rpm"
    srpm.write_bytes(b"x")
    env_home = tmp_path / "home"
    env_home.mkdir()
    out, err, code = await txkoji(
        "--server", "http://127.0.0.1:9/kojihub", "upload", str(srpm), home=env_home
    )
    assert code == 1
    assert (
        "txkoji: logging in with Kerberos (GSSAPI): no profile (--server only): "
        "no authtype, no readable client certificate, no user"
    ) in err


def test_login_words_for_each_choice(tmp_path):
    cert = tmp_path / "client.pem"
    cert.write_text("x")
    server = {"server": "https://hub.test/kojihub"}
    assert login_words(koji_config.from_options("p", **server, cert=str(cert))) == (
        f"logging in with the client certificate {cert}: the profile's cert is "
        "a readable file"
    )
    assert login_words(koji_config.from_options("p", **server, user="alice")) == (
        "logging in with user alice and a password: the profile names a user"
    )
    assert login_words(
        koji_config.from_options("p", **server, authtype="kerberos")
    ) == ("logging in with Kerberos (GSSAPI): the profile's authtype is 'kerberos'")


@pytest_twisted.ensureDeferred
async def test_a_free_task_has_no_elapsed_time_and_is_never_overdue(hub_server):
    """50110 (a build) is open long past its estimate; its child 50112 is
    FREE: the child shows no progress, no time and no "overdue"."""
    clock = Clock()
    clock.advance(1795172000.0)  # long after 50110 started
    koji = Connection(server=hub_server.url, clock=clock)
    try:
        watcher = TaskWatcher(koji, [50110], interval=1)
        await watcher.poll()
        await watcher.poll()  # the estimates' history arrives
        now = watcher.now()
        root, free = watcher.get(50110), watcher.get(50112)
        assert free.task["state"] == task_states.FREE
        assert root.progress == 1.0 and eta_text(root, now) == "overdue"
        assert free.progress == 0.0
        assert eta_text(free, now) == "" and elapsed_text(free.task, now) == ""
    finally:
        await koji.close()


@pytest_twisted.ensureDeferred
async def test_build_refuses_a_locked_destination_tag(hub_server, tmp_path):
    hub_server.hub.state.tags[3]["locked"] = True  # f40-candidate
    srpm = tmp_path / "hello-1.0-1.src.rpm"
    srpm.write_bytes(b"x" * 100)
    out, err, code = await txkoji(
        "--server", hub_server.url, "build", "f40-candidate", str(srpm)
    )
    assert code == 1
    assert "Destination tag f40-candidate is locked" in err
    assert hub_server.hub.calls == ["getBuildTarget", "getTag"]
