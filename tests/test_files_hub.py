"""The fake hub's file methods and file server, and the record helpers
that point at files."""

from __future__ import annotations

import base64
import zlib

import pytest
import pytest_twisted
import treq

from tests.auth_helpers import ssl_connection, start_tls_hub
from txkoji import Connection
from txkoji.exceptions import GenericError, KojiConfigError, UnsafePathError
from txkoji.files.naming import destination, safe_relative
from txkoji.testing.files import MOCK_LOGS, SIGKEY
from txkoji.testing.methods.files import checkUpload

NVR = "bash-5.2.26-2.fc40"


def connect(server, topurl: bool = True) -> Connection:
    return Connection(server=server.url, topurl=server.topurl if topurl else None)


@pytest_twisted.async_yield_fixture()
async def koji(hub_server):
    connection = connect(hub_server)
    yield connection
    await connection.close()


@pytest_twisted.ensureDeferred
async def test_list_task_output_shapes(koji):
    names = await koji.listTaskOutput(50012)
    assert sorted(names) == sorted([*MOCK_LOGS, f"{NVR}.x86_64.rpm", f"{NVR}.src.rpm"])
    stats = await koji.listTaskOutput(50012, stat=True)
    assert isinstance(stats["build.log"]["st_size"], str)
    volumes = await koji.listTaskOutput(50012, all_volumes=True)
    assert volumes["build.log"] == ["DEFAULT"]
    both = await koji.listTaskOutput(50012, stat=True, all_volumes=True)
    assert both["build.log"]["DEFAULT"] == stats["build.log"]
    assert await koji.listTaskOutput(99999999) == []
    with pytest.raises(GenericError, match="No such task"):
        await koji.listTaskOutput(99999999, strict=True)


@pytest_twisted.ensureDeferred
async def test_download_task_output_offsets(koji, hub_server):
    whole = (hub_server.hub.files.task_dir(50012) / "build.log").read_bytes()
    got = await koji.downloadTaskOutput(50012, "build.log", offset=10, size=20)
    assert base64.b64decode(got) == whole[10:30]
    tail = await koji.downloadTaskOutput(50012, "build.log", offset=-16)
    assert base64.b64decode(tail) == whole[-16:]
    assert await koji.downloadTaskOutput(50012, "build.log", offset=len(whole)) == ""
    with pytest.raises(GenericError, match='no file "x.log" output by task 50012'):
        await koji.downloadTaskOutput(50012, "x.log")
    with pytest.raises(GenericError, match="Invalid file name"):
        await koji.downloadTaskOutput(50012, "../50013/build.log")


@pytest_twisted.ensureDeferred
async def test_list_rpms_and_build_logs(koji):
    rpms = await koji.listRPMs(buildID=1002)
    assert sorted((r["name"], r["arch"]) for r in rpms) == sorted(
        [
            ("bash", "src"),
            ("bash", "x86_64"),
            ("bash-debuginfo", "x86_64"),
            ("bash", "aarch64"),
            ("bash-debuginfo", "aarch64"),
        ]
    )
    assert [r["arch"] for r in await koji.listRPMs(buildID=1002, arches="src")] == [
        "src"
    ]
    logs = await koji.getBuildLogs(NVR)
    assert {"name": "build.log", "dir": "x86_64"} in [
        {"name": log["name"], "dir": log["dir"]} for log in logs
    ]
    assert logs[0]["path"].startswith("packages/bash/5.2.26/2.fc40/data/logs/")


@pytest_twisted.ensureDeferred
async def test_file_server_ranges(hub_server):
    relpath = f"packages/bash/5.2.26/2.fc40/x86_64/{NVR}.x86_64.rpm"
    whole = hub_server.hub.files.path(relpath).read_bytes()
    url = f"{hub_server.topurl}/{relpath}"
    full = await treq.get(url, persistent=False)
    assert full.code == 200 and await full.content() == whole
    part = await treq.get(url, headers={"Range": "bytes=100-199"}, persistent=False)
    assert part.code == 206
    assert part.headers.getRawHeaders("content-range") == [
        f"bytes 100-199/{len(whole)}"
    ]
    assert await part.content() == whole[100:200]
    beyond = await treq.get(
        url, headers={"Range": f"bytes={len(whole)}-"}, persistent=False
    )
    assert beyond.code == 416
    await beyond.content()
    missing = await treq.get(f"{hub_server.topurl}/work/.user", persistent=False)
    assert missing.code == 404
    await missing.content()


@pytest_twisted.ensureDeferred
async def test_record_helpers_point_at_the_files(koji, hub_server):
    build = await koji.getBuild(NVR)
    rpms = await koji.listRPMs(buildID=build["id"], arches="x86_64")
    rpm = next(r for r in rpms if r["name"] == "bash")
    top = hub_server.topurl
    base = f"{top}/packages/bash/5.2.26/2.fc40"
    assert build.rpm_url(rpm) == f"{base}/x86_64/{NVR}.x86_64.rpm"
    assert build.rpm_url(rpm, SIGKEY) == (
        f"{base}/data/signed/{SIGKEY}/x86_64/{NVR}.x86_64.rpm"
    )
    assert build.archive_url({"btype": "image", "filename": "a.qcow2"}) == (
        f"{base}/images/a.qcow2"
    )
    logs = await build.log_urls()
    assert logs["x86_64/build.log"] == f"{base}/data/logs/x86_64/build.log"
    task = await koji.getTaskInfo(50012)
    assert task.output_url("build.log") == f"{top}/work/tasks/12/50012/build.log"
    assert task.output_url("x.log", "vol2") == (
        f"{top}/vol/vol2/work/tasks/12/50012/x.log"
    )
    urls = await task.output_urls()
    assert urls["build.log"] == task.output_url("build.log")
    fetched = await treq.get(urls["build.log"], persistent=False)
    assert (
        await fetched.content()
        == (hub_server.hub.files.task_dir(50012) / "build.log").read_bytes()
    )


@pytest_twisted.ensureDeferred
async def test_record_helpers_need_a_topurl(hub_server):
    bare = connect(hub_server, topurl=False)
    build = await bare.getBuild(NVR)
    with pytest.raises(KojiConfigError, match="topurl"):
        build.rpm_url({"name": "a", "version": "1", "release": "1", "arch": "x"})
    with pytest.raises(KojiConfigError):
        await build.log_urls()
    task = await bare.getTaskInfo(50012)
    with pytest.raises(KojiConfigError):
        await task.output_urls()
    await bare.close()


@pytest_twisted.ensureDeferred
async def test_check_upload_of_a_missing_file_is_nil(koji):
    assert await koji.checkUpload("cli-build/none", "x.rpm") is None
    with pytest.raises(GenericError, match="Invalid upload filename"):
        await koji.checkUpload("cli-build/none", ".hidden")
    with pytest.raises(GenericError, match="Unsupported verify type"):
        await koji.checkUpload("cli-build/none", "x.rpm", verify="crc64")


def test_check_upload_tail_checksum(hub_server):
    work = hub_server.hub.files.topdir / "work" / "cli-build" / "t"
    work.mkdir(parents=True)
    (work / "f.bin").write_bytes(b"0123456789")

    class Ctx:
        hub = hub_server.hub

    answer = checkUpload(Ctx(), "cli-build/t", "f.bin", verify="adler32", tail=4)
    assert answer["sumlength"] == 4
    assert answer["hexdigest"] == f"{zlib.adler32(b'6789'):08x}"
    assert answer["size"] == 10


@pytest.mark.parametrize(
    "name",
    ["", "/etc/passwd", "../x", "a/../../x", "a\0b", "a\\..\\b", "~/x", ".", "a/.."],
)
def test_unsafe_names_are_refused(tmp_path, name):
    with pytest.raises(UnsafePathError):
        destination(tmp_path, name)


def test_safe_names_stay_inside(tmp_path):
    assert destination(tmp_path, "vol2/a.rpm") == tmp_path / "vol2" / "a.rpm"
    assert str(safe_relative("logs/x86_64/build.log")) == "logs/x86_64/build.log"
    (tmp_path / "link").symlink_to("/etc")
    with pytest.raises(UnsafePathError, match="resolves outside"):
        destination(tmp_path, "link/passwd")


@pytest_twisted.ensureDeferred
async def test_build_call_needs_an_uploaded_file(hub_pki):
    server = await start_tls_hub(hub_pki)
    conn = ssl_connection(server, hub_pki)
    try:
        await conn.login()
        with pytest.raises(GenericError, match="upload it first"):
            await conn.build("cli-build/none/x.src.rpm", "f40-candidate")
        with pytest.raises(GenericError, match="No such build target"):
            await conn.build("git+https://x/y#1", "nope")
        task_id = await conn.build("git+https://src/rpms/bash#abc", "f40-candidate")
        assert server.hub.state.tasks[task_id]["state"] == 0
    finally:
        await conn.close()
        await server.stop()
