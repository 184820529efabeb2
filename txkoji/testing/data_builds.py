"""Builds and tasks of the bundled data set (see :mod:`txkoji.testing.dataset`
for the ids)."""

from __future__ import annotations

from typing import Any

from txkoji.testing.data_tasks import other_tasks
from txkoji.testing.records import (
    at,
    build_record,
    task_row,
)
from txkoji.testing.trees import rpm_build_tree

_SCM = "git+https://src.example.com/rpms"

# root task, build id, package id, version, release, arches, owner,
# creation time, minutes, outcome, buildArch states when open
_RPM_BUILDS = [
    # fmt: off
    (
        50001,
        1001,
        1,
        "5.2.26",
        "1.fc40",
        ("x86_64", "aarch64"),
        2,
        "2026-10-01 09:00:00.250000",
        12.5,
        "closed",
        (),
    ),  # noqa: E501
    (
        50010,
        1002,
        1,
        "5.2.26",
        "2.fc40",
        ("x86_64", "aarch64"),
        2,
        "2026-10-15 14:00:00.500000",
        10.0,
        "closed",
        (),
    ),  # noqa: E501
    (
        50020,
        1003,
        1,
        "5.2.26",
        "3.fc40",
        ("x86_64", "aarch64"),
        2,
        "2026-10-20 08:30:00.125000",
        11.0,
        "failed",
        (),
    ),  # noqa: E501
    (
        50030,
        1010,
        2,
        "2.31.0",
        "1.fc40",
        ("noarch",),
        3,
        "2026-09-10 16:20:00.750000",
        4.0,
        "closed",
        (),
    ),  # noqa: E501
    (
        50040,
        1011,
        2,
        "2.31.0",
        "2.fc40",
        ("noarch",),
        3,
        "2026-10-05 11:05:00.375000",
        5.0,
        "closed",
        (),
    ),  # noqa: E501
    (
        50045,
        1023,
        3,
        "6.11.4",
        "300.fc40",
        ("x86_64", "aarch64"),
        1,
        "2026-09-01 06:00:00.500000",
        180.0,
        "closed",
        (),
    ),  # noqa: E501
    (
        50050,
        1020,
        3,
        "6.11.5",
        "300.fc40",
        ("x86_64", "aarch64"),
        1,
        "2026-10-10 07:00:00.250000",
        190.0,
        "closed",
        (),
    ),  # noqa: E501
    (
        50060,
        1021,
        3,
        "6.11.6",
        "300.fc40",
        ("x86_64", "aarch64"),
        1,
        "2026-11-02 07:30:00.625000",
        200.0,
        "closed",
        (),
    ),  # noqa: E501
    (
        50070,
        1022,
        3,
        "6.11.7",
        "300.fc40",
        ("x86_64", "aarch64"),
        1,
        "2026-11-18 12:00:00.875000",
        45.0,
        "canceled",
        (),
    ),  # noqa: E501
    (
        50090,
        1050,
        6,
        "1.0.210",
        "1.fc40",
        ("x86_64", "aarch64"),
        2,
        "2026-09-20 10:00:00.125000",
        8.0,
        "closed",
        (),
    ),  # noqa: E501
    (
        50095,
        1051,
        6,
        "1.0.214",
        "1.fc40",
        ("x86_64", "aarch64"),
        2,
        "2026-11-05 15:45:00.500000",
        9.0,
        "closed",
        (),
    ),  # noqa: E501
    (
        50100,
        1004,
        1,
        "5.2.32",
        "1.fc40",
        ("x86_64", "aarch64"),
        2,
        "2026-11-20 10:31:02.123456",
        15.0,
        "open",
        ("OPEN", "ASSIGNED"),
    ),  # noqa: E501
    (
        50110,
        1012,
        2,
        "2.32.3",
        "1.fc40",
        ("noarch",),
        3,
        "2026-11-20 10:40:00.500000",
        5.0,
        "open",
        ("FREE",),
    ),  # noqa: E501
    # fmt: on
]

_STATE_FOR_OUTCOME = {
    "closed": "COMPLETE",
    "failed": "FAILED",
    "canceled": "CANCELED",
    "open": "BUILDING",
}


def _rpm_builds(
    users: list[dict[str, Any]],
    packages: list[dict[str, Any]],
    builds: list[dict[str, Any]],
    tasks: list[dict[str, Any]],
) -> None:
    for (
        root,
        build_id,
        pkg_id,
        ver,
        rel,
        arches,
        owner,
        when,
        mins,
        outcome,
        states,
    ) in _RPM_BUILDS:
        package = packages[pkg_id - 1]
        nvr = f"{package['name']}-{ver}-{rel}"
        src = f"{_SCM}/{package['name']}.git#{build_id:04x}c0ffee{root:05d}"
        tree, times = rpm_build_tree(
            root,
            nvr,
            src,
            arches,
            owner,
            at(when),
            mins,
            outcome,
            build_id=build_id,
            arch_states=states,
        )
        tasks.extend(tree)
        state = _STATE_FOR_OUTCOME[outcome]
        if build_id == 1023:
            state = "DELETED"
        builds.append(
            build_record(
                build_id,
                package,
                ver,
                rel,
                state,
                users[owner - 1],
                times.start,
                times.end,
                task_id=root,
                source=src,
            )
        )
    scratch, _ = rpm_build_tree(
        50200,
        "rust-serde-1.0.215-0.scratch.fc40",
        f"{_SCM}/rust-serde.git#4d2b9e1f",
        ("x86_64",),
        2,
        at("2026-11-12 13:00:00.250000"),
        7.0,
        "closed",
    )
    tasks.extend(scratch)


def _container_builds(
    users: list[dict[str, Any]],
    packages: list[dict[str, Any]],
    builds: list[dict[str, Any]],
    tasks: list[dict[str, Any]],
) -> None:
    src = "git://src.example.com/containers/etcd"
    target = "f40-container-candidate"
    for build_id, task_id, version, when in (
        (1030, 50080, "3.5.16", "2026-10-08 09:15:00.250000"),
        (1031, 50085, "3.5.17", "2026-11-10 17:40:00.750000"),
    ):
        start = at(when)
        extra: dict[str, Any] = {
            "container_koji_task_id": task_id,
            "image": {"media_types": ["application/vnd.oci.image.manifest.v1+json"]},
            "typeinfo": {"image": {}},
            "submitter": "osbs",
        }
        if build_id == 1030:
            extra["image"]["layer_sizes"] = [
                {"diff_id": "sha256:5f70bf18", "size": 4831838208}
            ]
        builds.append(
            build_record(
                build_id,
                packages[3],
                version,
                "1",
                "COMPLETE",
                users[6],
                start + 30.5,
                start + 1530.25,
                source=f"{src}#{task_id:x}",
                extra=extra,
                cg=(1, "atomic-reactor"),
            )
        )
        tasks.append(
            task_row(
                task_id,
                "buildContainer",
                "CLOSED",
                7,
                [f"{src}#{task_id:x}", target, {"git_branch": "f40"}],
                start,
                start + 2.5,
                start + 1560.5,
                host_id=1,
                channel_id=4,
                weight=0.5,
                waiting=False,
                result={"koji_builds": [build_id]},
            )
        )
    start = at("2026-08-14 12:00:00.500000")
    builds.append(
        build_record(1040, packages[4], "1.0", "1", "COMPLETE", users[0], None, start)
    )


def builds_and_tasks(
    users: list[dict[str, Any]], packages: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Return the builds and the tasks of the data set, sorted by id."""
    builds: list[dict[str, Any]] = []
    tasks: list[dict[str, Any]] = []
    _rpm_builds(users, packages, builds, tasks)
    _container_builds(users, packages, builds, tasks)
    tasks.extend(other_tasks())
    builds.sort(key=lambda b: b["id"])
    tasks.sort(key=lambda t: t["id"])
    return builds, tasks
