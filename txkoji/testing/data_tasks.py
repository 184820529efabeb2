"""Tasks of the bundled data set that are not RPM or container builds (see
:mod:`txkoji.testing.dataset` for the ids)."""

from __future__ import annotations

from typing import Any

from txkoji.testing.records import at, event_at, task_row

_SCM = "git+https://src.example.com/rpms"


def _repo_tasks(
    repo_id: int,
    previous: dict[str, Any] | None,
    newrepo: tuple[int, str, float, float, float | None],
    createrepos: list[tuple[str, str, int | None, float | None, float | None]],
) -> list[dict[str, Any]]:
    """Return a ``newRepo`` task of f40-build and its ``createrepo``
    children, one per arch.

    :param newrepo: the parent's id, state, and created/started/completed
        times.
    :param createrepos: each child's arch, state, host, and started and
        completed times (created 4 s after the parent, or 5 s when it has
        finished).
    """
    task_id, state, created, started, completed = newrepo
    finished = completed is not None
    parent = task_row(
        task_id,
        "newRepo",
        state,
        1,
        ["f40-build", None, False, False, False],
        created,
        started,
        completed,
        host_id=1,
        channel_id=2,
        priority=15,
        weight=0.1,
        waiting=not finished,
        result=[repo_id, event_at(created)] if finished else None,
    )
    children = [
        task_row(
            task_id + number,
            "createrepo",
            child_state,
            1,
            [repo_id, arch, previous],
            created + (5 if finished else 4),
            child_started,
            child_completed,
            arch=arch,
            label=arch,
            parent=task_id,
            host_id=host_id,
            channel_id=2,
            priority=14,
            weight=1.5,
            awaited=not finished,
            result=[f"repos/f40-build/{repo_id}/{arch}", ["repomd.xml"]]
            if finished
            else None,
        )
        for number, (arch, child_state, host_id, child_started, child_completed) in (
            enumerate(createrepos, 1)
        )
    ]
    return [parent, *children]


def other_tasks() -> list[dict[str, Any]]:
    """Return the tasks that make no build: repos, chainbuild, image, runroot."""
    repo_done = at("2026-11-19 22:00:00.125000")
    repo_open = at("2026-11-20 10:44:00.250000")
    tasks = _repo_tasks(
        7,
        None,
        (50300, "CLOSED", repo_done, repo_done + 1.5, repo_done + 400.25),
        [
            ("x86_64", "CLOSED", 1, repo_done + 10.5, repo_done + 300.75),
            ("aarch64", "CLOSED", 2, repo_done + 12.25, repo_done + 390.5),
        ],
    )
    tasks += _repo_tasks(
        8,
        {"id": 7},
        (50310, "OPEN", repo_open, repo_open + 1.25, None),
        [
            ("x86_64", "OPEN", 1, repo_open + 8.5, None),
            ("aarch64", "FREE", None, None, None),
        ],
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
