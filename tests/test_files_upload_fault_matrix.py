"""The fault matrix of uploads (issue 16, section 6).

A file of three chunks is uploaded while the hub misbehaves as a table
says.  Each row checks: a clear error or a finished upload; the local file
untouched; the hub never holding anything but a start of the file (never
a mix of two); and an ``upload(..., resume=True)`` without the fault
finishing it.  Through the ``txkoji upload`` command: Ctrl-C and SIGTERM
mid-chunk exit 130 and 143 and print the command that resumes, which
finishes the upload.  (A chunk that stalls is in ``test_files_upload``, on a Clock.)
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_twisted

from tests.auth_helpers import ssl_connection
from tests.cli_helpers import CollectOutput, environment, spawn_txkoji, txkoji
from tests.loopback import until
from tests.test_cli_files import write_profile
from txkoji.exceptions import (
    GenericError,
    KojiConnectionError,
    KojiHTTPError,
    KojiProtocolError,
)
from txkoji.files import upload
from txkoji.testing.uploads import UPLOAD_METHOD

SIZE = 2500
CHUNK = 1000


@dataclass(frozen=True)
class Row:
    fault: str
    arrange: Callable[[Any], None]
    error: type[BaseException] | None
    words: str = ""


def rule(**kwargs: Any) -> Callable[[Any], None]:
    """Arrange ``kwargs`` as the fault rule of the hub's uploads."""
    return lambda hub: hub.faults.add(UPLOAD_METHOD, **kwargs)


MATRIX = [
    Row("cut mid-chunk, then back", rule(drop=True, times=2), None),
    Row("5xx, then back", rule(http_status=503, times=2), None),
    Row("cut for good", rule(drop=True, times=None), KojiConnectionError, "closed"),
    Row("5xx for good", rule(http_status=500, times=None), KojiHTTPError, "HTTP 500"),
    Row(
        "garbage answers",
        rule(malformed=True, times=None),
        KojiProtocolError,
        "malformed XML-RPC answer to upload",
    ),
    Row(
        "a fault answer",
        rule(fault=(1000, "disk trouble"), times=None),
        GenericError,
        "disk trouble",
    ),
]


def on_hub(server, relpath: str) -> bytes | None:
    path = server.hub.files.topdir / "work" / relpath
    return path.read_bytes() if path.exists() else None


@pytest.mark.parametrize("row", MATRIX, ids=[row.fault for row in MATRIX])
@pytest_twisted.ensureDeferred
async def test_upload_fault_matrix(hub, hub_pki, tmp_path, row):
    content = os.urandom(SIZE)
    source = tmp_path / "foo-1.0-1.src.rpm"
    source.write_bytes(content)
    remote = f"cli-build/m/{source.name}"
    koji = ssl_connection(hub, hub_pki, max_retries=2)
    await koji.login()
    try:
        row.arrange(hub.hub)
        if row.error is None:
            done = await upload(koji, str(source), "cli-build/m", chunk_size=CHUNK)
            assert done.size == SIZE
        else:
            with pytest.raises(row.error, match=row.words):
                await upload(koji, str(source), "cli-build/m", chunk_size=CHUNK)
        held = on_hub(hub, remote) or b""
        assert content.startswith(held)
        assert source.read_bytes() == content
        hub.hub.faults.clear()
        done = await upload(
            koji, str(source), "cli-build/m", chunk_size=CHUNK, resume=True
        )
    finally:
        await koji.close()
    assert on_hub(hub, remote) == content
    assert done.resumed_at == (len(held) if row.error else SIZE)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
@pytest_twisted.ensureDeferred
async def test_interrupted_upload_command_prints_how_to_resume(
    tls_hub_server, hub_pki, tmp_path, stop
):
    home = tmp_path / "home"
    write_profile(home, tls_hub_server, hub_pki)
    source = tmp_path / "hello-1.0-1.src.rpm"
    content = os.urandom(SIZE)
    source.write_bytes(content)
    hub = tls_hub_server.hub
    hub.faults.add(UPLOAD_METHOD, delay=60)
    collect = CollectOutput()
    args = ["-p", "fake", "upload", str(source), "--dir", "cli-import/i"]
    process = spawn_txkoji(collect, args, env=environment(home))
    try:
        await until(lambda: hub.uploads.received > 0, turns=400_000)
    finally:
        process.signalProcess(stop)
    assert await collect.ended == 128 + stop, collect.err
    err = collect.err.decode()
    assert "resume with: txkoji " in err
    again = err.split("resume with: txkoji ", 1)[1].splitlines()[0].split()
    assert again[-2:] == ["--resume", str(source)]
    assert source.read_bytes() == content
    out, err, code = await txkoji(*again, home=home)
    assert code == 0, err
    stored = hub.files.topdir / "work" / "cli-import" / "i" / source.name
    assert stored.read_bytes() == content
