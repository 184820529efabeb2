"""kojiweb links: objects to URLs, URLs back to objects, URL to profile."""

import pytest
import pytest_twisted
from hypothesis import given
from hypothesis import strategies as st

from tests.fake_connection import WEBURL, FakeConnection, hub_connection, task_record
from txkoji.build import Build
from txkoji.task import Task
from txkoji.weblinks import (
    PAGES,
    fetch_from_web,
    parse_web_url,
    profile_for_web_url,
    web_url,
)

EXPECTED_PAGES = {
    "build": "buildinfo?buildID",
    "task": "taskinfo?taskID",
    "package": "packageinfo?packageID",
    "user": "userinfo?userID",
    "tag": "taginfo?tagID",
    "target": "buildtargetinfo?targetID",
    "channel": "channelinfo?channelID",
    "host": "hostinfo?hostID",
    "rpm": "rpminfo?rpmID",
    "archive": "archiveinfo?archiveID",
    "repo": "repoinfo?repoID",
    "buildroot": "buildrootinfo?buildrootID",
    "externalrepo": "externalrepoinfo?extrepoID",
}


@pytest.mark.parametrize("kind", sorted(EXPECTED_PAGES))
def test_web_url_and_back(kind):
    url = web_url(WEBURL, kind, 42)
    assert url == f"{WEBURL}/{EXPECTED_PAGES[kind]}=42"
    assert parse_web_url(url) == (kind, 42)


def test_every_page_is_covered():
    assert set(PAGES) == set(EXPECTED_PAGES)


def test_web_url_with_trailing_slash():
    assert web_url(WEBURL + "/", "task", 7) == f"{WEBURL}/taskinfo?taskID=7"


@pytest.mark.parametrize(
    "url, expected",
    [
        (f"{WEBURL}/targetinfo?targetID=3", ("target", 3)),
        ("http://koji.example.com/koji/buildinfo?buildID=1001", ("build", 1001)),
        ("koji.example.com/koji/taskinfo?taskID=5&extra=1", ("task", 5)),
        (f"{WEBURL}/buildinfo?buildID=1001#files", ("build", 1001)),
    ],
)
def test_parse_accepts(url, expected):
    assert parse_web_url(url) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        None,
        42,
        b"https://koji.example.com/koji/buildinfo?buildID=1",
        f"{WEBURL}/buildinfo?buildID=1 ",
        f" {WEBURL}/buildinfo?buildID=1",
        f"{WEBURL}/buildinfo?buildID=1\nfoo",
        f"see {WEBURL}/buildinfo?buildID=1",
        f"{WEBURL}/buildinfo?buildID=abc",
        f"{WEBURL}/buildinfo?buildID=-1",
        f"{WEBURL}/buildinfo?buildID=+1",
        f"{WEBURL}/buildinfo?buildID=1_000",
        f"{WEBURL}/buildinfo?buildID=\u0663",
        f"{WEBURL}/buildinfo?buildID=",
        f"{WEBURL}/buildinfo?buildID=1&buildID=2",
        f"{WEBURL}/buildinfo?taskID=1",
        f"{WEBURL}/buildinfo",
        f"{WEBURL}/nosuchinfo?buildID=1",
        f"{WEBURL}/",
        "ftp://koji.example.com/koji/buildinfo?buildID=1",
        "http://[::1/koji/buildinfo?buildID=1",
        "junk",
    ],
)
def test_parse_rejects_junk(text):
    assert parse_web_url(text) is None


@given(st.text())
def test_parse_never_raises(text):
    result = parse_web_url(text)
    assert result is None or (result[0] in PAGES and isinstance(result[1], int))


@given(st.sampled_from(sorted(PAGES)), st.integers(min_value=0, max_value=2**63))
def test_round_trip(kind, object_id):
    assert parse_web_url(web_url(WEBURL, kind, object_id)) == (kind, object_id)


@pytest_twisted.ensureDeferred
async def test_fetch_from_web_builds_and_tasks():
    conn, hub = hub_connection()
    build = await fetch_from_web(conn, f"{WEBURL}/buildinfo?buildID=1001")
    assert isinstance(build, Build) and build.nvr == "bash-5.2.26-1.fc40"
    task = await fetch_from_web(conn, f"{WEBURL}/taskinfo?taskID=50012")
    assert isinstance(task, Task) and task.arch == "x86_64"
    # Fetched with its request parameters (request=True).
    assert task["request"] == task_record(50012)["request"]
    assert hub.calls == ["getBuild", "getTaskInfo"]


@pytest.mark.parametrize(
    "kind, method",
    [
        ("package", "getPackage"),
        ("user", "getUser"),
        ("tag", "getTag"),
        ("target", "getBuildTarget"),
        ("channel", "getChannel"),
        ("host", "getHost"),
        ("rpm", "getRPM"),
        ("archive", "getArchive"),
        ("repo", "repoInfo"),
        ("buildroot", "getBuildroot"),
        ("externalrepo", "getExternalRepo"),
    ],
)
def test_fetch_from_web_calls_the_getter(kind, method):
    conn = FakeConnection({method: {"id": 9, "name": "x"}})
    d = fetch_from_web(conn, web_url(WEBURL, kind, 9))
    assert d.result == {"id": 9, "name": "x"}
    assert conn.calls == [(method, (9,), {})]


def test_fetch_from_web_junk_is_none_without_a_call():
    conn, hub = hub_connection()
    d = fetch_from_web(conn, "buildinfo?buildID=x")
    assert d.result is None
    assert hub.calls == []


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "koji.conf"
    path.write_text(
        "[fedora]\n"
        "server = https://koji.fedoraproject.org/kojihub\n"
        "weburl = https://koji.fedoraproject.org/koji\n"
        "[fedora-staging]\n"
        "server = https://koji.stg.fedoraproject.org/kojihub\n"
        "weburl = https://koji.fedoraproject.org/koji/staging/\n"
        "[cbs]\n"
        "server = https://cbs.centos.org/kojihub\n"
        "weburl = https://cbs.centos.org/koji\n"
        "[broken]\n"
        "weburl = https://broken.example.com/koji\n"
    )
    return [str(path)]


@pytest.mark.parametrize(
    "url, profile",
    [
        ("https://koji.fedoraproject.org/koji/buildinfo?buildID=1", "fedora"),
        (
            "https://koji.fedoraproject.org/koji/staging/taskinfo?taskID=1",
            "fedora-staging",
        ),
        ("https://koji.fedoraproject.org/koji/staging", "fedora-staging"),
        ("https://cbs.centos.org/koji/taskinfo?taskID=2", "cbs"),
        ("https://cbs.centos.org/kojiweb/taskinfo?taskID=2", None),
        ("https://broken.example.com/koji/taskinfo?taskID=2", None),
        ("https://cbs.centos.org/koji/taskinfo?taskID=2 now", None),
        (None, None),
    ],
)
def test_profile_for_web_url(config, url, profile):
    assert profile_for_web_url(url, config) == profile
