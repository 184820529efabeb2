"""Downloads under hostile or broken conditions: symbolic links at the
names they write, servers that send too much, stale partial files,
redirects, failures and stalls (issue 16, section 3)."""

from __future__ import annotations

import os

import pytest
import pytest_twisted
from twisted.internet import task

from tests.loopback import until
from tests.test_files_download import LOG, connect, served
from txkoji import Connection
from txkoji.exceptions import (
    ChecksumMismatch,
    DestinationExists,
    KojiHTTPError,
    KojiTimeoutError,
    UnsafePathError,
)
from txkoji.files import download, download_build, download_task_output
from txkoji.files.download import MAX_REDIRECTS, REDIRECTS
from txkoji.files.partial import partial_path, source_path
from txkoji.testing.file_server import GARBAGE_LIMIT

NVR = "bash-5.2.26-2.fc40"
VICTIM = b"precious data that must never change\n"


@pytest.fixture
def victim(tmp_path):
    """A file outside the destination that links must not reach."""
    path = tmp_path / "elsewhere" / "victim"
    path.parent.mkdir()
    path.write_bytes(VICTIM)
    return path


@pytest.fixture
def dest(tmp_path):
    path = tmp_path / "dest"
    path.mkdir()
    return path


def leftovers(top) -> list[str]:
    return sorted(str(p.relative_to(top)) for p in top.rglob("*") if p.is_file())


@pytest.mark.parametrize("name", [".build.log.part", ".build.log.part.json"])
@pytest_twisted.ensureDeferred
async def test_a_link_at_a_temporary_name_is_never_followed(
    hub_server, dest, victim, name
):
    (dest / name).symlink_to(victim)
    koji = connect(hub_server)
    try:
        with pytest.raises(UnsafePathError, match="symbolic link") as caught:
            await download(koji, LOG, dest)
    finally:
        await koji.close()
    assert str(dest / name) in str(caught.value)
    assert victim.read_bytes() == VICTIM
    assert (dest / name).is_symlink()
    assert not os.path.lexists(dest / "build.log")


@pytest_twisted.ensureDeferred
async def test_a_url_name_through_a_linked_directory_is_refused(
    hub_server, dest, victim
):
    (dest / "sub").symlink_to(victim.parent)
    koji = connect(hub_server)
    try:
        with pytest.raises(UnsafePathError, match="resolves outside"):
            await download(koji, f"{hub_server.topurl}/work/sub%2Fbuild.log", dest)
    finally:
        await koji.close()
    assert [p.name for p in victim.parent.iterdir()] == ["victim"]
    assert hub_server.files.requests == []


@pytest_twisted.ensureDeferred
async def test_a_fifo_at_the_temporary_name_is_refused_without_blocking(
    hub_server, dest
):
    os.mkfifo(dest / ".build.log.part")
    koji = connect(hub_server)
    try:
        with pytest.raises(UnsafePathError, match="a FIFO"):
            await download(koji, LOG, dest)
    finally:
        await koji.close()


@pytest_twisted.ensureDeferred
async def test_a_link_at_the_final_name_is_replaced_never_written_through(
    hub_server, dest, victim
):
    target = dest / "build.log"
    target.symlink_to(victim)
    koji = connect(hub_server)
    try:
        # Into a directory: the name resolves outside it.
        with pytest.raises(UnsafePathError, match="resolves outside"):
            await download(koji, LOG, dest, overwrite=True)
        # To that very path: it exists, and overwriting replaces the link.
        with pytest.raises(DestinationExists, match="exists"):
            await download(koji, LOG, target)
        path = await download(koji, LOG, target, overwrite=True)
    finally:
        await koji.close()
    assert victim.read_bytes() == VICTIM
    assert not path.is_symlink()
    assert path.read_bytes() == served(hub_server, LOG)


@pytest.mark.parametrize("topurl", [True, False])
@pytest_twisted.ensureDeferred
async def test_task_output_never_follows_a_link_at_a_temporary_name(
    hub_server, dest, victim, topurl
):
    part = dest / f".{NVR}.aarch64.rpm.part"
    part.symlink_to(victim)
    koji = Connection(
        server=hub_server.url,
        topurl=hub_server.topurl if topurl else None,
        retry_interval=0,
    )
    try:
        with pytest.raises(UnsafePathError, match="symbolic link"):
            await download_task_output(koji, 50010, dest, concurrency=1)
    finally:
        await koji.close()
    assert victim.read_bytes() == VICTIM
    assert part.is_symlink()


@pytest_twisted.ensureDeferred
async def test_build_download_never_follows_a_link_at_a_temporary_name(
    hub_server, dest, victim
):
    part = dest / f".{NVR}.x86_64.rpm.part"
    part.symlink_to(victim)
    koji = connect(hub_server)
    try:
        with pytest.raises(UnsafePathError, match="symbolic link"):
            await download_build(koji, NVR, dest, arches=["x86_64"])
    finally:
        await koji.close()
    assert victim.read_bytes() == VICTIM


@pytest_twisted.ensureDeferred
async def test_a_server_sending_more_than_the_size_is_stopped_at_once(hub_server, dest):
    content = served(hub_server, LOG)
    hub_server.files.faults.add(LOG, malformed=True)
    koji = connect(hub_server)
    try:
        with pytest.raises(ChecksumMismatch, match="more than the expected"):
            await download(koji, LOG, dest, size=len(content))
    finally:
        await koji.close()
    assert leftovers(dest) == []
    assert hub_server.files.flooded < GARBAGE_LIMIT // 4


@pytest.mark.parametrize("topurl", [True, False])
@pytest_twisted.ensureDeferred
async def test_a_stale_partial_file_of_another_file_is_not_resumed(
    hub_server, dest, topurl
):
    relpath = f"work/tasks/13/50013/{NVR}.aarch64.rpm"
    content = served(hub_server, relpath)
    # The same length as a half-done download, but of something else.
    partial_path(dest / f"{NVR}.aarch64.rpm").write_bytes(b"Z" * (len(content) // 2))
    koji = Connection(
        server=hub_server.url,
        topurl=hub_server.topurl if topurl else None,
        retry_interval=0,
    )
    try:
        await download_task_output(koji, 50010, dest, arches=["aarch64"])
    finally:
        await koji.close()
    assert (dest / f"{NVR}.aarch64.rpm").read_bytes() == content
    if topurl:
        ranges = [r[2] for r in hub_server.files.requests if r[1] == relpath]
        assert ranges == [None]


@pytest.mark.parametrize("if_range", [True, False])
@pytest_twisted.ensureDeferred
async def test_a_partial_file_of_an_older_version_starts_over(
    hub_server, dest, if_range
):
    # Without If-Range, the server sends the range of the new version: its
    # ETag differs from the recorded one, and the client starts over.
    hub_server.files.if_range = if_range
    hub_server.files.faults.add(LOG, drop=True)
    koji = connect(hub_server, max_retries=0)
    try:
        with pytest.raises(Exception, match="cut"):
            await download(koji, LOG, dest)
        assert partial_path(dest / "build.log").stat().st_size > 0
        assert source_path(dest / "build.log").exists()
        # The file changes on the server: its ETag and date change.
        changed = b"a new build log\n" * 500
        path = hub_server.hub.files.path(LOG)
        path.write_bytes(changed)
        os.utime(path, (1_700_000_000, 1_700_000_000))
        result = await download(koji, LOG, dest)
    finally:
        await koji.close()
    assert result.read_bytes() == changed
    ranges = [r[2] for r in hub_server.files.requests if r[1] == LOG]
    # Asked to resume, then got (or asked again for) the whole new file.
    assert ranges[1] is not None
    assert ranges[2:] == ([] if if_range else [None])
    assert leftovers(dest) == ["build.log"]


@pytest.mark.parametrize("status", REDIRECTS)
@pytest_twisted.ensureDeferred
async def test_redirects_are_followed(hub_server, dest, status):
    # Absolute and relative locations.
    location = f"{hub_server.topurl}/{LOG}" if status % 2 else f"../{LOG}"
    hub_server.files.redirects["moved/build.log"] = (status, location)
    koji = connect(hub_server)
    try:
        path = await download(koji, "moved/build.log", dest / "x.log")
    finally:
        await koji.close()
    assert path.read_bytes() == served(hub_server, LOG)


@pytest_twisted.ensureDeferred
async def test_redirect_loops_are_bounded(hub_server, dest):
    hub_server.files.redirects["loop"] = (302, f"{hub_server.topurl}/loop")
    koji = connect(hub_server)
    try:
        with pytest.raises(KojiHTTPError, match=f"more than {MAX_REDIRECTS}"):
            await download(koji, "loop", dest / "x")
    finally:
        await koji.close()
    loops = [r for r in hub_server.files.requests if r[1] == "loop"]
    assert len(loops) == MAX_REDIRECTS + 1
    assert leftovers(dest) == []


@pytest_twisted.ensureDeferred
async def test_a_redirect_from_https_to_http_is_refused(
    tls_hub_server, hub_server, hub_pki, dest
):
    tls_hub_server.files.redirects["down.log"] = (301, f"{hub_server.topurl}/{LOG}")
    koji = Connection(
        server=tls_hub_server.url,
        topurl=tls_hub_server.topurl,
        serverca=str(hub_pki.ca_cert),
    )
    try:
        with pytest.raises(KojiHTTPError, match="leaves https for plain http"):
            await download(koji, "down.log", dest / "x.log")
    finally:
        await koji.close()
    assert hub_server.files.requests == []


@pytest_twisted.ensureDeferred
async def test_failed_downloads_leave_no_empty_temporary_files(hub_server, dest):
    koji = connect(hub_server)
    missing = f"packages/bash/5.2.26/2.fc40/aarch64/{NVR}.aarch64.rpm"
    hub_server.hub.files.path(missing).unlink()
    try:
        with pytest.raises(KojiHTTPError, match="404"):
            await download(koji, "work/none/nothing.log", dest)
        with pytest.raises(KojiHTTPError, match="404"):
            await download_build(koji, NVR, dest, concurrency=1)
    finally:
        await koji.close()
    assert all(p.stat().st_size > 0 for p in dest.iterdir() if p.name.endswith(".part"))
    assert not any(p.name.endswith(".json") for p in dest.iterdir())
    assert [p.name for p in dest.iterdir() if "aarch64" in p.name] == []


@pytest_twisted.ensureDeferred
async def test_a_stalled_download_times_out_and_then_resumes(hub_server, dest):
    clock = task.Clock()
    hub_server.files.stalls.add(LOG)
    part = partial_path(dest / "build.log")
    koji = Connection(
        server=hub_server.url, topurl=hub_server.topurl, clock=clock, max_retries=0
    )
    try:
        seen: list[int] = []
        d = download(
            koji,
            LOG,
            dest,
            stall_timeout=30,
            progress=lambda done, _: seen.append(done),
        )
        await until(lambda: bool(seen))
        clock.advance(29)
        assert not d.called
        clock.advance(1)
        with pytest.raises(KojiTimeoutError, match="sent nothing for 30 s"):
            await d
    finally:
        await koji.close()
    half = part.stat().st_size
    assert half == len(served(hub_server, LOG)) // 2
    hub_server.files.stalls.clear()
    koji = connect(hub_server)
    try:
        path = await download(koji, LOG, dest)
    finally:
        await koji.close()
    assert path.read_bytes() == served(hub_server, LOG)
    assert hub_server.files.requests[-1][2] == f"bytes={half}-"


@pytest_twisted.ensureDeferred
async def test_a_server_that_never_answers_times_out(hub_server, dest):
    clock = task.Clock()
    hub_server.files.faults.add(LOG, delay=3600)
    koji = Connection(
        server=hub_server.url,
        topurl=hub_server.topurl,
        clock=clock,
        max_retries=0,
        timeout=45,
    )
    try:
        d = download(koji, LOG, dest)
        await until(lambda: bool(hub_server.files.requests))
        clock.advance(45)
        with pytest.raises(KojiTimeoutError, match="45 s"):
            await d
    finally:
        await koji.close()
    assert leftovers(dest) == []
