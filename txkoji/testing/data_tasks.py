"""Tasks of the bundled data set that are not RPM or container builds (see
:mod:`txkoji.testing.dataset` for the ids)."""

from __future__ import annotations

from typing import Any

from txkoji.testing.records import at, event_at, task_row

_SCM = "git+https://src.example.com/rpms"


def other_tasks() -> list[dict[str, Any]]:
    """Return the tasks that make no build: repos, chainbuild, image, runroot."""
    tasks: list[dict[str, Any]] = []
    repo_done = at("2026-11-19 22:00:00.125000")
    repo_open = at("2026-11-20 10:44:00.250000")
    newrepo = ["f40-build", None, False, False, False]
    tasks.extend(
        [
            task_row(
                50300,
                "newRepo",
                "CLOSED",
                1,
                newrepo,
                repo_done,
                repo_done + 1.5,
                repo_done + 400.25,
                host_id=1,
                channel_id=2,
                priority=15,
                weight=0.1,
                waiting=False,
                result=[7, event_at(repo_done)],
            ),
            task_row(
                50301,
                "createrepo",
                "CLOSED",
                1,
                [7, "x86_64", None],
                repo_done + 5,
                repo_done + 10.5,
                repo_done + 300.75,
                arch="x86_64",
                label="x86_64",
                parent=50300,
                host_id=1,
                channel_id=2,
                priority=14,
                weight=1.5,
                awaited=False,
                result=["repos/f40-build/7/x86_64", ["repomd.xml"]],
            ),
            task_row(
                50302,
                "createrepo",
                "CLOSED",
                1,
                [7, "aarch64", None],
                repo_done + 5,
                repo_done + 12.25,
                repo_done + 390.5,
                arch="aarch64",
                label="aarch64",
                parent=50300,
                host_id=2,
                channel_id=2,
                priority=14,
                weight=1.5,
                awaited=False,
                result=["repos/f40-build/7/aarch64", ["repomd.xml"]],
            ),
            task_row(
                50310,
                "newRepo",
                "OPEN",
                1,
                newrepo,
                repo_open,
                repo_open + 1.25,
                host_id=1,
                channel_id=2,
                priority=15,
                weight=0.1,
                waiting=True,
            ),
            task_row(
                50311,
                "createrepo",
                "OPEN",
                1,
                [8, "x86_64", {"id": 7}],
                repo_open + 4,
                repo_open + 8.5,
                arch="x86_64",
                label="x86_64",
                parent=50310,
                host_id=1,
                channel_id=2,
                priority=14,
                weight=1.5,
                awaited=True,
            ),
            task_row(
                50312,
                "createrepo",
                "FREE",
                1,
                [8, "aarch64", {"id": 7}],
                repo_open + 4,
                arch="aarch64",
                label="aarch64",
                parent=50310,
                channel_id=2,
                priority=14,
                weight=1.5,
                awaited=True,
            ),
        ]
    )
    chain = at("2026-11-03 08:00:00.750000")
    fault = {
        "faultCode": 1005,
        "faultString": "Build failed: rust-serde SRPM did not build",
    }
    srcs = [[f"{_SCM}/rust-serde.git#aa11"], [f"{_SCM}/bash.git#bb22"]]
    image = at("2026-11-20 09:00:00.375000")
    target_info = {
        "id": 3,
        "name": "f40-image",
        "build_tag": 6,
        "dest_tag": 3,
        "build_tag_name": "f40-image-build",
        "dest_tag_name": "f40-candidate",
    }
    runroot = at("2026-11-16 18:20:00.625000")
    tasks.extend(
        [
            task_row(
                50400,
                "chainbuild",
                "FAILED",
                2,
                [srcs, "f40-candidate", {}],
                chain,
                chain + 1.0,
                chain + 320.5,
                host_id=1,
                waiting=False,
                result=fault,
            ),
            task_row(
                50401,
                "build",
                "FAILED",
                2,
                [srcs[0][0], "f40-candidate", {}],
                chain + 2.0,
                chain + 3.5,
                chain + 318.25,
                parent=50400,
                host_id=1,
                awaited=False,
                result=fault,
            ),
            task_row(
                50500,
                "image",
                "OPEN",
                1,
                [
                    "fedora-cloud",
                    "40",
                    ["x86_64"],
                    "f40-image",
                    "https://dl.example.com/f40/x86_64/os/",
                    {"format": ["qcow2"], "kickstart": "cloud.ks"},
                ],
                image,
                image + 2.5,
                host_id=1,
                channel_id=3,
                weight=0.2,
                waiting=True,
            ),
            task_row(
                50501,
                "createImage",
                "OPEN",
                1,
                [
                    "fedora-cloud",
                    "40",
                    "20261120.0",
                    "x86_64",
                    target_info,
                    6,
                    {"id": 7, "create_event": event_at(repo_done)},
                    "https://dl.example.com/f40/x86_64/os/",
                    {"format": ["qcow2"], "kickstart": "cloud.ks"},
                ],
                image + 5,
                image + 9.75,
                arch="x86_64",
                label="x86_64",
                parent=50500,
                host_id=1,
                channel_id=3,
                weight=2.0,
                awaited=True,
            ),
            task_row(
                50600,
                "runroot",
                "CLOSED",
                3,
                ["f40-build", "x86_64", "uname -a", False, [], [], 7, False],
                runroot,
                runroot + 3.5,
                runroot + 95.25,
                arch="x86_64",
                host_id=1,
                channel_id=5,
                weight=2.0,
                result="Linux x86-01.example.com 6.11.5-300.fc40.x86_64\n",
            ),
        ]
    )
    return tasks
