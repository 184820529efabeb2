"""download_task_output and download_build against the fake hub."""

from __future__ import annotations

import pytest
import pytest_twisted

from txkoji import Connection
from txkoji.exceptions import (
    ChecksumMismatch,
    DestinationExists,
    KojiConfigError,
    KojiFileError,
    UnsafePathError,
)
from txkoji.files import download_build, download_task_output
from txkoji.files.task_output import local_name
from txkoji.testing.files import SIGKEY

NVR = "bash-5.2.26-2.fc40"


def connect(server, topurl: bool = True, **options) -> Connection:
    options.setdefault("retry_interval", 0)
    return Connection(
        server=server.url, topurl=server.topurl if topurl else None, **options
    )


def names(paths, top) -> list[str]:
    return [str(path.relative_to(top)) for path in paths]


def task_file(server, task_id: int, name: str) -> bytes:
    return (server.hub.files.task_dir(task_id) / name).read_bytes()


@pytest.mark.parametrize("topurl", [True, False])
@pytest_twisted.ensureDeferred
async def test_task_output_is_the_rpms_of_build_tasks(hub_server, tmp_path, topurl):
    koji = connect(hub_server, topurl)
    try:
        paths = await download_task_output(koji, 50010, tmp_path)
    finally:
        await koji.close()
    assert names(paths, tmp_path) == [
        f"{NVR}.src.rpm",
        f"{NVR}.x86_64.rpm",
        f"{NVR}.aarch64.rpm",
    ]
    assert paths[2].read_bytes() == task_file(hub_server, 50013, f"{NVR}.aarch64.rpm")
    used_topurl = bool(hub_server.files.requests)
    assert used_topurl is topurl
    assert ("downloadTaskOutput" in hub_server.hub.calls) is not topurl


@pytest_twisted.ensureDeferred
async def test_task_output_with_logs_names_logs_by_arch_like_the_cli(
    hub_server, tmp_path
):
    koji = connect(hub_server)
    try:
        paths = await download_task_output(
            koji, 50010, tmp_path, logs=True, arches=["x86_64"]
        )
    finally:
        await koji.close()
    logs = ["build", "hw_info", "mock_output", "root", "state"]
    assert names(paths, tmp_path) == [
        *(f"{log}.noarch.log" for log in logs),
        f"{NVR}.x86_64.rpm",
        *(f"{log}.x86_64.log" for log in logs),
        *(f"{log}.aarch64.log" for log in logs),
    ]
    assert (tmp_path / "build.x86_64.log").read_bytes() == task_file(
        hub_server, 50012, "build.log"
    )


@pytest_twisted.ensureDeferred
async def test_downloadtaskoutput_is_asked_in_bounded_chunks(hub_server, tmp_path):
    koji = connect(hub_server, topurl=False)
    try:
        paths = await download_task_output(
            koji, 50010, tmp_path, logs=True, names=["root.log"], chunk_size=1000
        )
    finally:
        await koji.close()
    sizes = [len(task_file(hub_server, t, "root.log")) for t in (50011, 50012, 50013)]
    assert [p.stat().st_size for p in paths] == sizes
    assert hub_server.hub.calls.count("downloadTaskOutput") == sum(
        -(-size // 1000) for size in sizes
    )


@pytest_twisted.ensureDeferred
async def test_cut_chunk_call_resumes(hub_server, tmp_path):
    hub_server.hub.faults.add("downloadTaskOutput", drop=True)
    koji = connect(hub_server, topurl=False, anon_retry=True)
    try:
        paths = await download_task_output(koji, 50010, tmp_path, arches=["aarch64"])
    finally:
        await koji.close()
    assert names(paths, tmp_path) == [f"{NVR}.aarch64.rpm"]
    assert paths[0].read_bytes() == task_file(hub_server, 50013, f"{NVR}.aarch64.rpm")


@pytest_twisted.ensureDeferred
async def test_failed_task_gives_logs_only_when_asked(hub_server, tmp_path):
    koji = connect(hub_server)
    try:
        with pytest.raises(KojiFileError, match="FAILED"):
            await download_task_output(koji, 50020, tmp_path)
        paths = await download_task_output(
            koji, 50020, tmp_path, logs=True, names=["build*"]
        )
        with pytest.raises(KojiFileError, match="not finished"):
            await download_task_output(koji, 50100, tmp_path)
        with pytest.raises(KojiFileError, match="no task 1"):
            await download_task_output(koji, 1, tmp_path)
    finally:
        await koji.close()
    assert names(paths, tmp_path) == [
        "build.noarch.log",
        "build.x86_64.log",
        "build.aarch64.log",
    ]


def test_local_names_follow_the_cli():
    build_arch = {"method": "buildArch", "arch": "x86_64"}
    assert local_name(build_arch, "build.log", "DEFAULT") == "build.x86_64.log"
    assert local_name(build_arch, "x86_64-build.log", "DEFAULT") == "x86_64-build.log"
    assert local_name(build_arch, "a.x86_64.rpm", "DEFAULT") == "a.x86_64.rpm"
    assert local_name(build_arch, "a.x86_64.rpm", "vol2") == "vol2/a.x86_64.rpm"
    assert local_name({"method": "createrepo", "arch": "x"}, "a.rpm", "DEFAULT") is None
    assert local_name(build_arch, "mock_config.txt", "DEFAULT") is None


@pytest.mark.parametrize(
    "bad", ["../../evil.rpm", "/etc/evil.rpm", "x86_64/../../../evil.rpm"]
)
@pytest_twisted.ensureDeferred
async def test_hub_names_that_escape_are_refused_and_nothing_written(
    hub_server, tmp_path, bad
):
    def evil_listing(ctx, taskID, stat=False, all_volumes=False, strict=False):
        return {bad: {"DEFAULT": {"st_size": "3"}}}

    hub_server.hub.methods.register(evil_listing, "listTaskOutput")
    dest = tmp_path / "dest"
    dest.mkdir()
    koji = connect(hub_server)
    try:
        with pytest.raises(UnsafePathError, match="refusing file name"):
            await download_task_output(koji, 50012, dest)
    finally:
        await koji.close()
    assert list(tmp_path.rglob("*")) == [dest]
    assert hub_server.files.requests == []


@pytest_twisted.ensureDeferred
async def test_build_download_is_its_rpms_without_debuginfo(hub_server, tmp_path):
    koji = connect(hub_server)
    try:
        paths = await download_build(koji, NVR, tmp_path, concurrency=2)
    finally:
        await koji.close()
    assert sorted(names(paths, tmp_path)) == sorted(
        [f"{NVR}.src.rpm", f"{NVR}.aarch64.rpm", f"{NVR}.x86_64.rpm"]
    )
    rpm = hub_server.hub.files.path("packages/bash/5.2.26/2.fc40/x86_64")
    assert (tmp_path / f"{NVR}.x86_64.rpm").read_bytes() == (
        rpm / f"{NVR}.x86_64.rpm"
    ).read_bytes()


@pytest_twisted.ensureDeferred
async def test_build_download_signed_with_arches_debuginfo_and_logs(
    hub_server, tmp_path
):
    koji = connect(hub_server)
    try:
        paths = await download_build(
            koji,
            1002,
            tmp_path,
            arches=["x86_64"],
            sigkey=SIGKEY,
            debuginfo=True,
            logs=True,
        )
        unsigned = await download_build(
            koji, NVR, tmp_path / "other", sigkey="00000000", warn=lambda _: None
        )
        with pytest.raises(DestinationExists):
            await download_build(koji, NVR, tmp_path, arches=["x86_64"])
    finally:
        await koji.close()
    assert sorted(names(paths, tmp_path)) == sorted(
        [
            f"{NVR}.x86_64.rpm",
            "bash-debuginfo-5.2.26-2.fc40.x86_64.rpm",
            *(
                f"logs/{arch}/{log}"
                for arch in ("aarch64", "x86_64")
                for log in ("build.log", "root.log", "state.log")
            ),
        ]
    )
    signed = hub_server.hub.files.path(
        f"packages/bash/5.2.26/2.fc40/data/signed/{SIGKEY}/x86_64/{NVR}.x86_64.rpm"
    )
    assert (tmp_path / f"{NVR}.x86_64.rpm").read_bytes() == signed.read_bytes()
    assert unsigned == []
    assert not (tmp_path / "other").exists()


@pytest_twisted.ensureDeferred
async def test_build_download_with_a_key_skips_unsigned_rpms_with_a_warning(
    hub_server, tmp_path
):
    files = hub_server.hub.files
    warnings: list[str] = []
    koji = connect(hub_server)
    try:
        build = await koji.getBuild(NVR)
        rpms = await koji.listRPMs(build["id"])
        by_arch = {rpm["arch"]: rpm for rpm in rpms if rpm["name"] == "bash"}
        files.unsign(by_arch["aarch64"], SIGKEY)
        sigs = await koji.queryRPMSigs(rpm_id=by_arch["x86_64"]["id"], sigkey=SIGKEY)
        paths = await download_build(
            koji, NVR, tmp_path, sigkey=SIGKEY, warn=warnings.append
        )
    finally:
        await koji.close()
    assert [(s["rpm_id"], s["sigkey"]) for s in sigs] == [
        (by_arch["x86_64"]["id"], SIGKEY)
    ]
    assert sorted(names(paths, tmp_path)) == sorted(
        [f"{NVR}.src.rpm", f"{NVR}.x86_64.rpm"]
    )
    assert warnings == [f"No such sigkey {SIGKEY} for rpm {NVR}-aarch64.rpm"]
    # Only the signed copies were asked for: no 404, and no files left.
    assert all(f"/signed/{SIGKEY}/" in path for _, path, _ in hub_server.files.requests)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"{NVR}.src.rpm", f"{NVR}.x86_64.rpm"]
    )


@pytest_twisted.ensureDeferred
async def test_build_download_errors(hub_server, tmp_path):
    koji = connect(hub_server)
    try:
        with pytest.raises(KojiFileError, match="no build 'nope-1-1'"):
            await download_build(koji, "nope-1-1", tmp_path)
        with pytest.raises(KojiFileError, match="no s390x packages"):
            await download_build(koji, NVR, tmp_path, arches=["s390x"])
    finally:
        await koji.close()
    bare = connect(hub_server, topurl=False)
    with pytest.raises(KojiConfigError, match="topurl"):
        await download_build(bare, NVR, tmp_path)
    await bare.close()


@pytest_twisted.ensureDeferred
async def test_build_archives_are_checked_against_the_hub_checksums(
    hub_server, tmp_path
):
    koji = connect(hub_server)
    try:
        paths = await download_build(
            koji, "etcd-container-3.5.16-1", tmp_path, archive_type="image"
        )
        sources = await download_build(
            koji, 1030, tmp_path / "src", archive_type="remote-sources"
        )
        with pytest.raises(KojiFileError, match="no maven archives"):
            await download_build(koji, 1030, tmp_path, archive_type="maven")
    finally:
        await koji.close()
    assert sorted(names(paths, tmp_path)) == [
        "etcd-container-3.5.16-1.aarch64.tar.gz",
        "etcd-container-3.5.16-1.x86_64.tar.gz",
    ]
    images = "packages/etcd-container/3.5.16/1/images"
    assert (tmp_path / "etcd-container-3.5.16-1.x86_64.tar.gz").read_bytes() == (
        hub_server.hub.files.path(f"{images}/etcd-container-3.5.16-1.x86_64.tar.gz")
    ).read_bytes()
    assert names(sources, tmp_path / "src") == ["remote-source.tar.gz"]


@pytest_twisted.ensureDeferred
async def test_archive_that_differs_from_the_record_is_refused(hub_server, tmp_path):
    # The last of the build's images (nothing left running when it fails).
    name = "etcd-container-3.5.16-1.aarch64.tar.gz"
    served = hub_server.hub.files.path(
        f"packages/etcd-container/3.5.16/1/images/{name}"
    )
    data = bytearray(served.read_bytes())
    data[100] ^= 0xFF  # same size, other bytes: only the checksum can tell
    served.write_bytes(bytes(data))
    koji = connect(hub_server)
    try:
        with pytest.raises(ChecksumMismatch, match="md5 checksum"):
            await download_build(
                koji, 1030, tmp_path, archive_type="image", concurrency=1
            )
    finally:
        await koji.close()
    assert [p.name for p in tmp_path.iterdir()] == [
        "etcd-container-3.5.16-1.x86_64.tar.gz"
    ]
