"""Raw uploads to the fake hub over TLS with a logged-in session."""

from __future__ import annotations

import hashlib
import io
import os
import zlib
from pathlib import Path

import koji.util
import pytest
import pytest_twisted
from twisted.internet import defer
from twisted.internet.task import Clock

from tests.auth_helpers import ssl_connection
from tests.loopback import until
from txkoji import Connection
from txkoji.exceptions import (
    ChecksumMismatch,
    GenericError,
    KojiConnectionError,
    KojiFileError,
    KojiTimeoutError,
    LockError,
)
from txkoji.files import build_from_srpm, unique_upload_dir, upload, upload_many
from txkoji.testing import FakeHub, HubServer, server_tls_options
from txkoji.testing.uploads import UPLOAD_METHOD


@pytest_twisted.async_yield_fixture()
async def koji_session(hub, hub_pki):
    connection = ssl_connection(hub, hub_pki, topurl=hub.topurl)
    await connection.login()
    yield connection
    await connection.close()


def local_file(tmp_path, name: str = "foo-1.0-1.src.rpm", size: int = 3500) -> str:
    path = tmp_path / name
    path.write_bytes(os.urandom(size))
    return str(path)


def on_hub(hub, relpath: str) -> bytes:
    return (hub.hub.files.topdir / "work" / relpath).read_bytes()


@pytest_twisted.ensureDeferred
async def test_upload_sends_checked_chunks_without_call_numbers(
    koji_session, hub, tmp_path
):
    source = local_file(tmp_path)
    seen = []
    before = hub.hub.uploads.received
    done = await upload(
        koji_session,
        source,
        "cli-build/1.5.abc",
        chunk_size=1000,
        progress=lambda *a: seen.append(a),
    )
    data = open(source, "rb").read()
    assert done.path == "cli-build/1.5.abc/foo-1.0-1.src.rpm"
    assert done.size == 3500 and done.resumed_at == 0
    assert on_hub(hub, done.path) == data
    assert hub.hub.uploads.received - before == 4
    assert seen == [(1000, 3500), (2000, 3500), (3000, 3500), (3500, 3500)]
    session = hub.hub.sessions.sessions[koji_session.session_id]
    assert session.callnums.count(None) == 4  # the chunks: no call number
    assert hub.hub.calls.count("checkUpload") == 1


@pytest_twisted.ensureDeferred
async def test_adler32_equals_the_official_library(koji_session, tmp_path):
    source = local_file(tmp_path, size=250_000)
    done = await upload(koji_session, source, "cli-build/a", chunk_size=65536)
    official = koji.util.adler32_constructor()
    official.update(open(source, "rb").read())
    assert done.adler32 == official.hexdigest()


@pytest_twisted.ensureDeferred
async def test_file_object_and_empty_file(koji_session, hub):
    done = await upload(koji_session, io.BytesIO(b""), "cli-import/x", name="empty.log")
    assert done.size == 0 and done.adler32 == "00000001"
    assert on_hub(hub, "cli-import/x/empty.log") == b""
    with pytest.raises(KojiFileError, match="needs a name"):
        await upload(koji_session, io.BytesIO(b"abc"), "cli-import/x")


@pytest_twisted.ensureDeferred
async def test_cut_chunk_is_sent_again(koji_session, hub, tmp_path):
    source = local_file(tmp_path)
    hub.hub.faults.add(UPLOAD_METHOD, drop=True, times=2)
    done = await upload(koji_session, source, "cli-build/cut", chunk_size=1000)
    assert on_hub(hub, done.path) == open(source, "rb").read()
    # The first chunk: cut twice, refused once ("upload path exists": the
    # leftover is found to be its own start), then sent with overwrite.
    assert hub.hub.uploads.received == 4 + 3


@pytest_twisted.ensureDeferred
async def test_broken_upload_resumes_where_it_stopped(hub, hub_pki, tmp_path):
    source = local_file(tmp_path, size=5000)
    conn = ssl_connection(hub, hub_pki, max_retries=0)
    await conn.login()
    try:
        hub.hub.faults.add(UPLOAD_METHOD, drop=True)
        with pytest.raises(KojiConnectionError):
            await upload(conn, source, "cli-build/r", chunk_size=2000)
        # The cut first chunk left half of it on the hub.
        assert len(on_hub(hub, "cli-build/r/foo-1.0-1.src.rpm")) == 1000
        received = hub.hub.uploads.received
        done = await upload(conn, source, "cli-build/r", chunk_size=2000, resume=True)
    finally:
        await conn.close()
    assert done.resumed_at == 1000
    assert on_hub(hub, done.path) == open(source, "rb").read()
    assert hub.hub.uploads.received - received == 2  # 1000..3000, 3000..5000


@pytest_twisted.ensureDeferred
async def test_resume_of_a_different_file_starts_over(koji_session, hub, tmp_path):
    first = local_file(tmp_path, "a.rpm", 3000)
    await upload(koji_session, first, "cli-build/d", name="x.rpm", chunk_size=1000)
    second = local_file(tmp_path, "b.rpm", 4000)
    done = await upload(
        koji_session, second, "cli-build/d", name="x.rpm", chunk_size=1000, resume=True
    )
    assert done.resumed_at == 0
    assert on_hub(hub, done.path) == open(second, "rb").read()


@pytest_twisted.ensureDeferred
async def test_resume_is_not_fooled_by_an_adler32_collision(
    koji_session, hub, tmp_path
):
    # +1, -1, -1, +1 on four bytes in a row keeps both Adler-32 sums: the
    # hub holds a different start with the same Adler-32 (as the official
    # library computes it).
    rest = os.urandom(3000)
    held, mine = b"babe" * 250, b"abcd" + b"babe" * 249
    assert held != mine
    adler = koji.util.adler32_constructor
    assert adler(held).hexdigest() == adler(mine).hexdigest()
    (tmp_path / "held").write_bytes(held)
    await upload(koji_session, str(tmp_path / "held"), "cli-build/x", name="x.rpm")
    (tmp_path / "mine").write_bytes(mine + rest)
    answer = await koji_session.checkUpload("cli-build/x", "x.rpm", verify="sha256")
    assert answer["hexdigest"] == hashlib.sha256(held).hexdigest()
    done = await upload(
        koji_session, str(tmp_path / "mine"), "cli-build/x", name="x.rpm", resume=True
    )
    assert done.resumed_at == 0
    assert on_hub(hub, done.path) == mine + rest


@pytest_twisted.ensureDeferred
async def test_resume_keeps_what_the_hub_holds_of_the_same_file(
    koji_session, hub, tmp_path
):
    content = os.urandom(5000)
    (tmp_path / "start").write_bytes(content[:2000])
    await upload(koji_session, str(tmp_path / "start"), "cli-build/s", name="s.rpm")
    (tmp_path / "whole").write_bytes(content)
    received = hub.hub.uploads.received
    done = await upload(
        koji_session,
        str(tmp_path / "whole"),
        "cli-build/s",
        name="s.rpm",
        chunk_size=1000,
        resume=True,
    )
    assert done.resumed_at == 2000
    assert done.adler32 == koji.util.adler32_constructor(content).hexdigest()
    assert on_hub(hub, done.path) == content
    assert hub.hub.uploads.received - received == 3


@pytest_twisted.async_yield_fixture()
async def clocked(hub_pki):
    """A TLS hub whose delays wait for ``clock.advance``, and a logged-in
    connection to it."""
    clock = Clock()
    tls = server_tls_options(hub_pki.server_cert, hub_pki.server_key, hub_pki.ca_cert)
    server = HubServer(hub=FakeHub(clock), tls=tls)
    await server.start()
    connection = ssl_connection(server, hub_pki)
    await connection.login()
    yield server, connection, clock
    await connection.close()
    await server.stop()


def upload_target(server, directory: str) -> Path:
    return server.hub.files.topdir / "work" / directory / "foo-1.0-1.src.rpm"


async def upload_in_progress(server, koji_session, source, directory: str):
    """Start uploading ``source`` to ``directory`` with each upload call
    held up 1 s (on the test's clock); once the hub has locked the target,
    return the Deferred of the upload."""
    server.hub.faults.add(UPLOAD_METHOD, delay=1)
    sending = upload(koji_session, source, directory)
    await until(lambda: server.hub.files.is_locked(upload_target(server, directory)))
    return sending


@pytest_twisted.ensureDeferred
async def test_concurrent_uploads_of_one_file_meet_a_lockerror(clocked, tmp_path):
    server, koji_session, clock = clocked
    source = local_file(tmp_path, size=100)
    first = await upload_in_progress(server, koji_session, source, "cli-build/l")
    with pytest.raises(LockError):
        await upload(koji_session, source, "cli-build/l", overwrite=True)
    clock.advance(1)
    done = await first
    assert on_hub(server, done.path) == open(source, "rb").read()


@pytest_twisted.ensureDeferred
async def test_upload_does_not_hold_up_the_session_calls(clocked, tmp_path):
    server, koji_session, clock = clocked
    source = local_file(tmp_path, size=100)
    sending = await upload_in_progress(server, koji_session, source, "cli-build/p")
    user = await koji_session.getLoggedInUser()
    assert user["name"] == "alice"
    assert not sending.called
    clock.advance(1)
    await sending


@pytest_twisted.ensureDeferred
async def test_hub_refusals_come_back_as_faults(koji_session, hub, tmp_path):
    source = local_file(tmp_path, size=10)
    await upload(koji_session, source, "cli-build/e")
    with pytest.raises(GenericError, match="upload path exists"):
        await upload(koji_session, source, "cli-build/e")
    await upload(koji_session, source, "cli-build/e", overwrite=True)
    owned = hub.hub.files.topdir / "work" / "cli-build" / "bob"
    owned.mkdir(parents=True)
    (owned / ".user").write_text("3\n")
    with pytest.raises(GenericError, match="not owner"):
        await upload(koji_session, source, "cli-build/bob")
    with pytest.raises(GenericError, match="Invalid upload directory"):
        await upload(koji_session, source, "../outside")
    assert not (hub.hub.files.topdir / "outside").exists()


@pytest_twisted.ensureDeferred
async def test_final_check_mismatch_is_raised(koji_session, hub, tmp_path):
    def lying_check(ctx, path, name, verify=None, tail=None, volume=None):
        return {"size": 10, "mtime": 0.0, "sumlength": 10, "hexdigest": "deadbeef"}

    hub.hub.methods.register(lying_check, "checkUpload")
    source = local_file(tmp_path, size=10)
    with pytest.raises(ChecksumMismatch, match="deadbeef"):
        await upload(koji_session, source, "cli-build/m")


@pytest_twisted.ensureDeferred
async def test_upload_needs_a_login(hub, tmp_path):
    conn = Connection(server=hub.url, no_ssl_verify=True)
    with pytest.raises(KojiFileError, match="logged-in"):
        await upload(conn, local_file(tmp_path), "cli-build/n")
    await conn.close()


@pytest_twisted.ensureDeferred
async def test_upload_many_sends_files_in_parallel(koji_session, hub, tmp_path):
    paths = [local_file(tmp_path, f"f{i}.rpm", 2500 + i) for i in range(5)]
    done = await upload_many(
        koji_session, paths, "cli-build/many", concurrency=3, chunk_size=1000
    )
    assert [d.path for d in done] == [f"cli-build/many/f{i}.rpm" for i in range(5)]
    for path, item in zip(paths, done, strict=True):
        assert on_hub(hub, item.path) == open(path, "rb").read()
    with pytest.raises(KojiFileError, match="share names"):
        await upload_many(koji_session, [paths[0], paths[0]], "cli-build/dup")


@pytest_twisted.ensureDeferred
async def test_build_from_srpm_uploads_then_builds(koji_session, hub, tmp_path):
    srpm = local_file(tmp_path, "rust-serde-1.0.215-1.fc40.src.rpm", 1234)
    task_id = await build_from_srpm(koji_session, "f40-candidate", srpm)
    task = hub.hub.state.tasks[task_id]
    src, target, opts = task["request"]
    assert (target, opts) == ("f40-candidate", {"scratch": True})
    assert src.startswith("cli-build/")
    assert src.endswith("/rust-serde-1.0.215-1.fc40.src.rpm")
    assert on_hub(hub, src) == open(srpm, "rb").read()
    info = await koji_session.getTaskInfo(task_id)
    assert info["method"] == "build"


def test_unique_upload_dir_is_named_like_the_cli():
    clock = Clock()
    clock.advance(1710144902.417733)
    name = unique_upload_dir("cli-build", clock)
    head, _, letters = name.rpartition(".")
    assert head == "cli-build/1710144902.417733"
    assert len(letters) == 8 and letters.isascii() and letters.isalpha()


def test_adler32_of_chunks_is_zlib():
    from txkoji.files.checksums import Adler32, adler32_hex

    data = os.urandom(10_000)
    whole = Adler32()
    whole.update(data[:4000])
    whole.update(data[4000:])
    assert whole.hexdigest() == f"{zlib.adler32(data):08x}" == adler32_hex(data)


@pytest_twisted.ensureDeferred
async def test_cancelled_upload_can_resume(koji_session, hub, tmp_path):
    source = local_file(tmp_path, size=3000)
    hub.hub.faults.add(UPLOAD_METHOD, delay=0.2)
    d = upload(koji_session, source, "cli-build/c", chunk_size=1000)
    d.cancel()
    with pytest.raises(defer.CancelledError):
        await d
    done = await upload(
        koji_session, source, "cli-build/c", chunk_size=1000, resume=True
    )
    assert on_hub(hub, done.path) == open(source, "rb").read()


@pytest_twisted.ensureDeferred
async def test_a_chunk_the_hub_sits_on_times_out(hub, hub_pki, tmp_path):
    clock = Clock()
    conn = ssl_connection(hub, hub_pki, clock=clock, timeout=5, max_retries=0)
    await conn.login()
    try:
        hub.hub.faults.add(UPLOAD_METHOD, delay=60)
        sending = upload(conn, local_file(tmp_path, size=100), "cli-build/slow")
        await until(
            lambda: hub.hub.files.is_locked(upload_target(hub, "cli-build/slow"))
        )
        clock.advance(5)
        with pytest.raises(KojiTimeoutError, match="took longer than 5 s"):
            await sending
    finally:
        await conn.close()
