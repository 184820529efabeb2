"""txkoji.paths.PathInfo against the official koji.PathInfo as an oracle."""

from __future__ import annotations

import itertools

import koji
import pytest

from txkoji import Connection
from txkoji.exceptions import IncompleteRecord, KojiConfigError
from txkoji.paths import DEFAULT_TOPDIR, PathInfo

TOPS = [
    "https://kojipkgs.example.com/kojifiles",
    "/mnt/koji",
    "http://127.0.0.1:8080/kojifiles",
]

BUILDS = [
    {
        "name": "bash",
        "version": "5.2.26",
        "release": "1.fc40",
        "volume_name": "DEFAULT",
    },
    {"name": "kernel", "version": "6.11.5", "release": "300.fc40", "volume_name": None},
    {"name": "python-requests", "version": "2.31.0", "release": "1.fc40"},
    {"name": "etcd", "version": "3.5.16", "release": "1", "volume_name": "archive"},
    {"name": "java-app", "version": "1.0", "release": "7.el9", "volume_name": "vol2"},
]

RPMS = [
    {"name": "bash", "version": "5.2.26", "release": "1.fc40", "arch": "x86_64"},
    {"name": "bash", "version": "5.2.26", "release": "1.fc40", "arch": "src"},
    {"name": "bash-doc", "version": "5.2.26", "release": "1.fc40", "arch": "noarch"},
    {
        "name": "kernel-core",
        "version": "6.11.5",
        "release": "300.fc40",
        "arch": "aarch64",
    },
]

SIGKEYS = ["a15b79cc", "FD431D51", ""]

MAVEN = [
    {
        "group_id": "org.apache.commons",
        "artifact_id": "commons-lang3",
        "version": "3.14.0",
        "filename": "commons-lang3-3.14.0.jar",
    },
    {"group_id": "io", "artifact_id": "x", "version": "1", "filename": "x-1.pom"},
]

WIN = [
    {"filename": "setup.exe", "relpath": "bin/x64"},
    {"filename": "readme.txt", "relpath": ""},
    {"filename": "lib.dll", "relpath": None},
]

BTYPES = ["maven", "win", "image", "remote-sources", "operator-manifests", "rpm"]

TASK_IDS = [1, 9999, 10000, 57104821, 123456789]

VOLUMES = [None, "DEFAULT", "archive", "vol2"]

REPOS = [(1, "f40-build"), (3456789, "rhel-9.4.0-build")]


@pytest.mark.parametrize(
    ("top", "build", "method"),
    list(
        itertools.product(
            TOPS,
            BUILDS,
            ["build", "mavenbuild", "winbuild", "imagebuild", "build_logs"],
        )
    ),
)
def test_build_directories_equal_the_official(top, build, method):
    ours = getattr(PathInfo(top), method)(build)
    assert ours == getattr(koji.PathInfo(top), method)(build)


@pytest.mark.parametrize(("build", "btype"), list(itertools.product(BUILDS, BTYPES)))
def test_type_directories_equal_the_official(build, btype):
    top = TOPS[0]
    assert PathInfo(top).typedir(build, btype) == koji.PathInfo(top).typedir(
        build, btype
    )


@pytest.mark.parametrize(("rpm", "sigkey"), list(itertools.product(RPMS, SIGKEYS)))
def test_rpm_paths_equal_the_official(rpm, sigkey):
    ours, official = PathInfo(TOPS[0]), koji.PathInfo(TOPS[0])
    assert ours.rpm(rpm) == official.rpm(rpm)
    assert ours.signed(rpm, sigkey) == official.signed(rpm, sigkey)
    assert ours.sighdr(rpm, sigkey) == official.sighdr(rpm, sigkey)


@pytest.mark.parametrize(
    ("build", "rpm", "sigkey"), list(itertools.product(BUILDS, RPMS, SIGKEYS))
)
def test_full_rpm_path_is_the_build_dir_joined_as_the_cli_does(build, rpm, sigkey):
    official = koji.PathInfo(TOPS[0])
    inside = official.signed(rpm, sigkey) if sigkey else official.rpm(rpm)
    expected = official.build(build) + "/" + inside
    assert PathInfo(TOPS[0]).rpm_file(build, rpm, sigkey or None) == expected


@pytest.mark.parametrize("info", MAVEN)
def test_maven_paths_equal_the_official(info):
    ours, official = PathInfo(TOPS[1]), koji.PathInfo(TOPS[1])
    assert ours.mavenrepo(info) == official.mavenrepo(info)
    assert ours.mavenfile(info) == official.mavenfile(info)


@pytest.mark.parametrize("info", WIN)
def test_windows_paths_equal_the_official(info):
    assert PathInfo().winfile(info) == koji.PathInfo().winfile(info)


def _official_archive_url(pathinfo, build, archive):
    """Where ``koji download-build`` fetches an archive from (its
    download_archive)."""
    btype = archive["btype"]
    if btype == "maven":
        return pathinfo.mavenbuild(build) + "/" + pathinfo.mavenfile(archive)
    if btype == "win":
        return pathinfo.winbuild(build) + "/" + pathinfo.winfile(archive)
    if btype == "image":
        return pathinfo.imagebuild(build) + "/" + archive["filename"]
    return pathinfo.typedir(build, btype) + "/" + archive["filename"]


ARCHIVES = (
    [dict(info, btype="maven") for info in MAVEN]
    + [dict(info, btype="win") for info in WIN]
    + [
        {"btype": "image", "filename": "Fedora-Cloud-40.x86_64.qcow2"},
        {"btype": "remote-sources", "filename": "remote-source.tar.gz"},
        {"btype": "operator-manifests", "filename": "operator_manifests.zip"},
    ]
)


@pytest.mark.parametrize(
    ("build", "archive"), list(itertools.product(BUILDS, ARCHIVES))
)
def test_archive_paths_equal_where_the_official_cli_fetches(build, archive):
    expected = _official_archive_url(koji.PathInfo(TOPS[0]), build, archive)
    assert PathInfo(TOPS[0]).archive(build, archive) == expected


@pytest.mark.parametrize(
    ("top", "task_id", "volume"), list(itertools.product(TOPS, TASK_IDS, VOLUMES))
)
def test_task_and_work_paths_equal_the_official(top, task_id, volume):
    ours, official = PathInfo(top), koji.PathInfo(top)
    assert ours.taskrelpath(task_id) == official.taskrelpath(task_id)
    assert ours.task(task_id, volume) == official.task(task_id, volume=volume)
    assert ours.work(volume) == official.work(volume=volume)
    assert ours.volumedir(volume) == official.volumedir(volume)
    assert ours.task_file(task_id, "build.log", volume) == (
        official.task(task_id, volume=volume) + "/build.log"
    )


@pytest.mark.parametrize(
    ("top", "repo", "volume"), list(itertools.product(TOPS, REPOS, VOLUMES))
)
def test_repo_paths_equal_the_official(top, repo, volume):
    ours, official = PathInfo(top), koji.PathInfo(top)
    repo_id, tag = repo
    assert ours.repo(repo_id, tag) == official.repo(repo_id, tag)
    assert ours.distrepo(repo_id, tag, volume) == official.distrepo(
        repo_id, tag, volume=volume
    )
    assert ours.repocache(tag) == official.repocache(tag)
    assert ours.scratch() == official.scratch()


def test_default_top_is_the_official_default():
    assert PathInfo().topdir == DEFAULT_TOPDIR == koji.PathInfo().topdir


def test_upload_and_scratch_paths():
    pathinfo = PathInfo("/mnt/koji")
    assert pathinfo.upload("cli-build/1.5.abc", "x.src.rpm") == (
        "/mnt/koji/work/cli-build/1.5.abc/x.src.rpm"
    )
    assert pathinfo.upload("a", "x", "vol2") == "/mnt/koji/vol/vol2/work/a/x"
    assert pathinfo.scratch_task("alice", 50200) == "/mnt/koji/scratch/alice/task_50200"
    assert pathinfo.relative("/packages/bash/1/2/data/logs/x86_64/build.log") == (
        "/mnt/koji/packages/bash/1/2/data/logs/x86_64/build.log"
    )


def test_missing_field_is_named():
    with pytest.raises(IncompleteRecord, match="'release'"):
        PathInfo().build({"name": "bash", "version": "1"})
    with pytest.raises(IncompleteRecord, match="task id must be an integer"):
        PathInfo().task("12")


def test_for_connection_uses_topurl_and_refuses_none():
    conn = Connection(
        server="https://koji.example.com/kojihub",
        topurl="https://koji.example.com/kojifiles/",
    )
    assert PathInfo.for_connection(conn).topdir == "https://koji.example.com/kojifiles"
    bare = Connection(server="https://koji.example.com/kojihub", topurl=None)
    with pytest.raises(KojiConfigError, match="no topurl"):
        PathInfo.for_connection(bare)
