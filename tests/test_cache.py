"""The on-disk name cache."""

import os

import pytest
import pytest_twisted
from twisted.internet import defer

from tests.fake_connection import FakeConnection
from txkoji.cache import (
    Cache,
    CacheKeyError,
    cache_for,
    default_directory,
    profile_directory_name,
)
from txkoji.exceptions import GenericError, KojiProtocolError


@pytest.fixture
def conn():
    return FakeConnection(
        {
            "getUser": lambda uid: {1: {"id": 1, "name": "kojiadmin"}}.get(uid),
            "getTag": lambda tid: {2: {"id": 2, "name": "f40-build"}}.get(tid),
        }
    )


@pytest.fixture
def cache(conn, tmp_path):
    return Cache(conn, str(tmp_path))


@pytest_twisted.ensureDeferred
async def test_read_through_then_from_disk(cache, conn, tmp_path):
    assert await cache.user_name(1) == "kojiadmin"
    assert (tmp_path / "fake" / "user" / "1").read_text() == "kojiadmin"
    assert await cache.user_name(1) == "kojiadmin"
    assert await cache.tag_name(2) == "f40-build"
    assert conn.methods_called() == ["getUser", "getTag"]


@pytest_twisted.ensureDeferred
async def test_entries_survive_a_new_cache_object(cache, conn, tmp_path):
    await cache.tag_name(2)
    again = Cache(conn, str(tmp_path))
    assert await again.tag_name(2) == "f40-build"
    assert conn.methods_called() == ["getTag"]


@pytest_twisted.ensureDeferred
async def test_write_leaves_no_temporary_files(cache, tmp_path):
    await cache.user_name(1)
    assert os.listdir(tmp_path / "fake" / "user") == ["1"]


@pytest_twisted.ensureDeferred
async def test_missing_object_is_none_and_not_cached(cache, conn, tmp_path):
    assert await cache.user_name(99) is None
    assert not (tmp_path / "fake" / "user" / "99").exists()
    assert await cache.user_name(99) is None
    assert conn.methods_called() == ["getUser", "getUser"]


@pytest_twisted.ensureDeferred
async def test_empty_entry_is_fetched_again(cache, conn, tmp_path):
    entry = tmp_path / "fake" / "user" / "1"
    entry.parent.mkdir(parents=True)
    entry.write_text("")
    assert await cache.user_name(1) == "kojiadmin"
    assert entry.read_text() == "kojiadmin"


@pytest_twisted.ensureDeferred
async def test_unreadable_entry_is_fetched_again(cache, conn, tmp_path):
    entry = tmp_path / "fake" / "user" / "1"
    entry.parent.mkdir(parents=True)
    entry.write_bytes(b"\xff\xfe\x00bad")
    assert await cache.user_name(1) == "kojiadmin"
    assert conn.methods_called() == ["getUser"]


@pytest_twisted.ensureDeferred
async def test_unwritable_cache_still_answers(conn, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    cache = Cache(conn, str(blocker))
    assert await cache.user_name(1) == "kojiadmin"


@pytest.mark.parametrize("bad", ["1", 1.0, True, None, -1, "../1"])
def test_ids_must_be_integers(cache, conn, bad):
    d = cache.user_name(bad)
    failure = []
    d.addErrback(failure.append)
    assert failure and failure[0].check(CacheKeyError)
    assert conn.calls == []


@pytest.mark.parametrize("profile", ["", ".", "..", "../evil", "a/b", "a\\b", "x\0"])
def test_profiles_cannot_escape_the_cache_dir(profile, tmp_path):
    with pytest.raises(CacheKeyError):
        Cache(FakeConnection(profile=profile), str(tmp_path))


def test_connection_without_profile_gets_a_url_digest():
    name = profile_directory_name(FakeConnection(profile=None))
    assert name.startswith("hub-") and "/" not in name


def test_default_directory_honours_xdg_cache_home(tmp_path):
    env = {"XDG_CACHE_HOME": str(tmp_path)}
    assert default_directory(env) == str(tmp_path / "txkoji")
    home_cache = os.path.join(os.path.expanduser("~"), ".cache", "txkoji")
    assert default_directory({}) == home_cache
    assert default_directory({"XDG_CACHE_HOME": "relative/dir"}) == home_cache


def test_cache_uses_xdg_cache_home_by_default(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    cache = Cache(FakeConnection())
    assert cache.filename("tag", 3) == str(tmp_path / "txkoji" / "fake" / "tag" / "3")


@pytest_twisted.ensureDeferred
async def test_concurrent_lookups_share_one_rpc(tmp_path):
    pending = defer.Deferred()
    conn = FakeConnection({"getUser": lambda uid: None})
    conn.call = lambda method, *args: (conn.calls.append(method), pending)[1]
    cache = Cache(conn, str(tmp_path))
    first, second = cache.user_name(3), cache.user_name(3)
    assert conn.calls == ["getUser"]
    pending.callback({"id": 3, "name": "bob"})
    assert await first == "bob"
    assert await second == "bob"


@pytest_twisted.ensureDeferred
async def test_failure_reaches_every_waiter_and_is_not_cached(tmp_path):
    pending = defer.Deferred()
    conn = FakeConnection({"getUser": {"id": 3, "name": "bob"}})
    real_call = conn.call
    conn.call = lambda method, *args: pending
    cache = Cache(conn, str(tmp_path))
    first, second = cache.user_name(3), cache.user_name(3)
    pending.errback(GenericError("hub broke"))
    for d in (first, second):
        with pytest.raises(GenericError):
            await d
    conn.call = real_call
    assert await cache.user_name(3) == "bob"


def test_cache_for_gives_one_cache_per_connection():
    conn = FakeConnection()
    assert cache_for(conn) is cache_for(conn)
    assert cache_for(conn) is not cache_for(FakeConnection())


@pytest.mark.parametrize(
    "record",
    [{"id": 3}, {"id": 3, "name": 5}, {"id": 3, "name": ["x"]}, {"id": 3, "name": ""}],
)
@pytest_twisted.ensureDeferred
async def test_record_without_a_string_name_is_protocol_error(tmp_path, record):
    cache = Cache(FakeConnection({"getUser": lambda uid: record}), str(tmp_path))
    with pytest.raises(KojiProtocolError, match="getUser") as caught:
        await cache.user_name(3)
    assert caught.value.method == "getUser"
    assert not (tmp_path / "fake" / "user" / "3").exists()


@pytest.mark.parametrize("answer", [[{"id": 3, "name": "x"}], 7, "alice"])
@pytest_twisted.ensureDeferred
async def test_answer_that_is_no_record_is_protocol_error(tmp_path, answer):
    cache = Cache(FakeConnection({"getTag": lambda tid: answer}), str(tmp_path))
    with pytest.raises(KojiProtocolError, match="getTag"):
        await cache.tag_name(3)
