"""txkoji.files.download against the fake hub's topurl, over HTTP and TLS."""

from __future__ import annotations

import hashlib

import pytest
import pytest_twisted
from twisted.internet import defer

from txkoji import Connection
from txkoji.exceptions import (
    ChecksumMismatch,
    DestinationExists,
    KojiConfigError,
    KojiHTTPError,
    UnsafePathError,
)
from txkoji.files import download
from txkoji.files.partial import partial_path
from txkoji.testing.file_server import FileTree

LOG = "work/tasks/12/50012/build.log"


def connect(server, **options) -> Connection:
    options.setdefault("retry_interval", 0)
    return Connection(server=server.url, topurl=server.topurl, **options)


def served(server, relpath: str) -> bytes:
    return server.hub.files.path(relpath).read_bytes()


@pytest_twisted.ensureDeferred
async def test_download_writes_the_file_and_reports_progress(hub_server, tmp_path):
    koji = connect(hub_server)
    seen = []
    path = await download(koji, LOG, tmp_path, progress=lambda *a: seen.append(a))
    await koji.close()
    assert path == tmp_path / "build.log"
    assert path.read_bytes() == served(hub_server, LOG)
    assert seen[-1] == (path.stat().st_size, path.stat().st_size)
    assert not partial_path(path).exists()


@pytest_twisted.ensureDeferred
async def test_download_over_tls_uses_the_connection_trust(
    tls_hub_server, hub_pki, tmp_path
):
    koji = connect(tls_hub_server, serverca=str(hub_pki.ca_cert))
    target = tmp_path / "renamed.log"
    path = await download(koji, LOG, target)
    await koji.close()
    assert path == target
    assert target.read_bytes() == served(tls_hub_server, LOG)


@pytest_twisted.ensureDeferred
async def test_cut_download_resumes_with_a_range(hub_server, tmp_path):
    files: FileTree = hub_server.files
    files.faults.add(LOG, drop=True, times=2)
    koji = connect(hub_server)
    path = await download(koji, LOG, tmp_path)
    await koji.close()
    assert path.read_bytes() == served(hub_server, LOG)
    ranges = [wanted for _, relpath, wanted in files.requests if relpath == LOG]
    size = len(served(hub_server, LOG))
    assert ranges == [
        None,
        f"bytes={size // 2}-",
        f"bytes={size // 2 + (size - size // 2) // 2}-",
    ]


@pytest_twisted.ensureDeferred
async def test_server_without_ranges_means_starting_over(hub_server, tmp_path):
    files: FileTree = hub_server.files
    files.ranges = False
    files.faults.add(LOG, drop=True)
    koji = connect(hub_server)
    path = await download(koji, LOG, tmp_path)
    await koji.close()
    assert path.read_bytes() == served(hub_server, LOG)


@pytest_twisted.ensureDeferred
async def test_checksum_is_verified(hub_server, tmp_path):
    content = served(hub_server, LOG)
    koji = connect(hub_server)
    good = ("sha256", hashlib.sha256(content).hexdigest())
    path = await download(koji, LOG, tmp_path / "a.log", checksum=good)
    assert path.read_bytes() == content
    with pytest.raises(ChecksumMismatch, match="md5 checksum"):
        await download(koji, LOG, tmp_path / "b.log", checksum=("md5", "0" * 32))
    await koji.close()
    assert not (tmp_path / "b.log").exists()
    assert not partial_path(tmp_path / "b.log").exists()


@pytest_twisted.ensureDeferred
async def test_wrong_size_is_refused(hub_server, tmp_path):
    koji = connect(hub_server)
    with pytest.raises(ChecksumMismatch, match="expected 5"):
        await download(koji, LOG, tmp_path, size=5)
    await koji.close()


@pytest_twisted.ensureDeferred
async def test_existing_file_is_kept_unless_overwrite(hub_server, tmp_path):
    (tmp_path / "build.log").write_bytes(b"mine")
    koji = connect(hub_server)
    with pytest.raises(DestinationExists, match="overwrite=True"):
        await download(koji, LOG, tmp_path)
    assert (tmp_path / "build.log").read_bytes() == b"mine"
    await download(koji, LOG, tmp_path, overwrite=True)
    await koji.close()
    assert (tmp_path / "build.log").read_bytes() == served(hub_server, LOG)


@pytest_twisted.ensureDeferred
async def test_missing_file_is_an_http_error(hub_server, tmp_path):
    koji = connect(hub_server)
    with pytest.raises(KojiHTTPError, match="404"):
        await download(koji, "work/tasks/1/1/nothing.log", tmp_path)
    await koji.close()


@pytest.mark.parametrize("name", ["..%2Fescape.log", "%2E%2E", "a%00b.log"])
@pytest_twisted.ensureDeferred
async def test_url_names_that_escape_are_refused(hub_server, tmp_path, name):
    koji = connect(hub_server)
    with pytest.raises(UnsafePathError):
        await download(koji, f"{hub_server.topurl}/work/{name}", tmp_path)
    await koji.close()
    assert list(tmp_path.parent.glob("escape.log")) == []


@pytest_twisted.ensureDeferred
async def test_path_without_topurl_is_a_config_error(hub_server, tmp_path):
    koji = Connection(server=hub_server.url, topurl=None)
    with pytest.raises(KojiConfigError, match="topurl"):
        await download(koji, LOG, tmp_path)
    await koji.close()


@pytest_twisted.ensureDeferred
async def test_cancelling_before_any_byte_leaves_nothing(hub_server, tmp_path):
    hub_server.files.faults.add(LOG, delay=30)
    koji = connect(hub_server)
    d = download(koji, LOG, tmp_path)
    d.cancel()
    with pytest.raises(defer.CancelledError):
        await d
    await koji.close()
    assert list(tmp_path.iterdir()) == []
