"""The bundled data set of the fake hub: deterministic, with stable ids.

:func:`load_dataset` returns a fresh copy each call.  Other tests rely on
these ids; add to them, but do not renumber.

Users (``getUser``)
    1 kojiadmin, 2 alice (krb principal ``alice@EXAMPLE.COM``), 3 bob,
    4 ``x86-01.example.com`` (HOST, principal
    ``compile/x86-01.example.com@EXAMPLE.COM``), 5 ``aarch64-01.example.com``
    (HOST), 6 ``x86-02.example.com`` (HOST), 7 osbs (runs container builds),
    8 mallory (status BLOCKED), 9 packagers (GROUP).

Packages
    1 bash, 2 python-requests, 3 kernel, 4 etcd-container, 5 legacy-tool,
    6 rust-serde, 7 fedora-release (no builds).

Builds (``getBuild``), state and task
    * bash: 1001 ``bash-5.2.26-1.fc40`` COMPLETE (task 50001, 12.5 min),
      1002 ``bash-5.2.26-2.fc40`` COMPLETE (task 50010), 1003
      ``bash-5.2.26-3.fc40`` FAILED (task 50020), 1004
      ``bash-5.2.32-1.fc40`` BUILDING (task 50100).
    * python-requests: 1010, 1011 COMPLETE (tasks 50030, 50040), 1012
      ``python-requests-2.32.3-1.fc40`` BUILDING (task 50110).
    * kernel: 1020, 1021 COMPLETE (tasks 50050, 50060), 1022 CANCELED (task
      50070), 1023 DELETED (task 50045).
    * etcd-container: 1030 ``etcd-container-3.5.16-1`` and 1031
      ``etcd-container-3.5.17-1`` COMPLETE, content generator
      ``atomic-reactor``, ``task_id`` nil, ``extra.container_koji_task_id``
      50080 and 50085 (``buildContainer`` tasks).  1030's extra holds an
      integer over 2**31 (``extra.image.layer_sizes``), sent as ``<i8>``.
    * legacy-tool: 1040 ``legacy-tool-1.0-1`` COMPLETE, imported: no task,
      no start time, no source; so ``getAverageBuildDuration`` is nil.
    * rust-serde: 1050, 1051 COMPLETE (tasks 50090, 50095).

Tasks (see :mod:`txkoji.testing.trees` for the shape of a build tree)
    * RPM ``build`` roots 50001, 50010, 50020 (FAILED: 50022 buildArch
      x86_64 FAILED, 50023 aarch64 CANCELED), 50030, 50040, 50045, 50050,
      50060, 50070 (CANCELED), 50090, 50095, 50100 (OPEN: 50101 SRPM
      CLOSED, 50102 buildArch x86_64 OPEN, 50103 aarch64 ASSIGNED), 50110
      (OPEN: 50112 buildArch noarch FREE).  Children: root + 1 is
      ``buildSRPMFromSCM``, then one ``buildArch`` per arch, then
      ``tagBuild`` for completed builds (e.g. 50010 -> 50011 SRPM, 50012
      x86_64, 50013 aarch64, 50014 tagBuild).
    * 50200 scratch ``build`` of rust-serde (opts ``{"scratch": True}``),
      CLOSED, children 50201 SRPM and 50202 buildArch x86_64, no tagBuild.
    * 50080, 50085 ``buildContainer`` CLOSED (channel container).
    * 50300 ``newRepo`` f40-build CLOSED, children 50301/50302 ``createrepo``
      x86_64/aarch64; 50310 ``newRepo`` OPEN, 50311 createrepo OPEN, 50312
      createrepo FREE.
    * 50400 ``chainbuild`` FAILED with child 50401 ``build`` FAILED.
    * 50500 ``image`` OPEN with child 50501 ``createImage`` x86_64 OPEN.
    * 50600 ``runroot`` CLOSED (channel runroot).

Tags
    1 f40, 2 f40-build (arches ``x86_64 aarch64``, inherits 1),
    3 f40-candidate (inherits 4), 4 f40-updates (perm admin, inherits 1),
    5 f40-container-candidate, 6 f40-image-build (inherits 2).
    Tagged: f40 has 1001, 1010, 1020, 1040, 1050; f40-updates 1002, 1011,
    1021; f40-candidate 1051; f40-container-candidate 1030, 1031.
    Package lists: f40 lists bash, python-requests, kernel, legacy-tool,
    rust-serde, fedora-release; f40-updates blocks legacy-tool;
    f40-container-candidate lists etcd-container.

Targets
    1 f40-candidate (build 2, dest 3), 2 f40-container-candidate (2 -> 5),
    3 f40-image (6 -> 3).

Channels
    1 default, 2 createrepo, 3 image, 4 container, 5 runroot, 6 maven
    (disabled).

Hosts
    1 ``x86-01.example.com`` (user 4; x86_64 i686; capacity 16, load 3.5;
    channels 1-5), 2 ``aarch64-01.example.com`` (user 5; aarch64; capacity
    8, load 1.5; channels 1, 2), 3 ``x86-02.example.com`` (user 6; not
    ready, disabled; channels 1, 4).

The last event is 2026-11-20 10:45:00.5 UTC.
"""

from __future__ import annotations

from typing import Any

from txkoji.testing.data_builds import builds_and_tasks
from txkoji.testing.records import at, event_at, time_pair, user_record


def _users() -> list[dict[str, Any]]:
    return [
        user_record(1, "kojiadmin"),
        user_record(2, "alice", principals=["alice@EXAMPLE.COM"]),
        user_record(3, "bob"),
        user_record(
            4,
            "x86-01.example.com",
            usertype=1,
            principals=["compile/x86-01.example.com@EXAMPLE.COM"],
        ),
        user_record(5, "aarch64-01.example.com", usertype=1),
        user_record(6, "x86-02.example.com", usertype=1),
        user_record(7, "osbs"),
        user_record(8, "mallory", status=1),
        user_record(9, "packagers", usertype=2),
    ]


_PACKAGES = [
    "bash",
    "python-requests",
    "kernel",
    "etcd-container",
    "legacy-tool",
    "rust-serde",
    "fedora-release",
]


def _tags() -> list[dict[str, Any]]:
    rows = [
        (1, "f40", None, None, None, {}),
        (2, "f40-build", "x86_64 aarch64", None, None, {"mock.package_manager": "dnf"}),
        (3, "f40-candidate", None, None, None, {}),
        (4, "f40-updates", None, 1, "admin", {}),
        (5, "f40-container-candidate", None, None, None, {}),
        (6, "f40-image-build", "x86_64", None, None, {}),
    ]
    return [
        {
            "id": tid,
            "name": name,
            "perm_id": perm_id,
            "perm": perm,
            "arches": arches,
            "locked": False,
            "maven_support": False,
            "maven_include_all": False,
            "extra": extra,
        }
        for tid, name, arches, perm_id, perm, extra in rows
    ]


def _targets(tags: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = [
        (1, "f40-candidate", 2, 3),
        (2, "f40-container-candidate", 2, 5),
        (3, "f40-image", 6, 3),
    ]
    return [
        {
            "id": tid,
            "name": name,
            "build_tag": build,
            "build_tag_name": tags[build - 1]["name"],
            "dest_tag": dest,
            "dest_tag_name": tags[dest - 1]["name"],
        }
        for tid, name, build, dest in rows
    ]


def _channels() -> list[dict[str, Any]]:
    rows = [
        (1, "default", "Tasks every host can run"),
        (2, "createrepo", "Repository generation"),
        (3, "image", "Image builds"),
        (4, "container", "Container builds (OSBS)"),
        (5, "runroot", "runroot commands"),
        (6, "maven", "Maven builds (retired)"),
    ]
    return [
        {
            "id": cid,
            "name": name,
            "description": desc,
            "enabled": cid != 6,
            "comment": "retired in 2025" if cid == 6 else None,
        }
        for cid, name, desc in rows
    ]


def _hosts() -> list[dict[str, Any]]:
    rows = [
        (1, "x86-01.example.com", 4, "x86_64 i686", 16.0, 3.5, True, True, None),
        (2, "aarch64-01.example.com", 5, "aarch64", 8.0, 1.5, True, True, None),
        (
            3,
            "x86-02.example.com",
            6,
            "x86_64 i686",
            16.0,
            0.0,
            False,
            False,
            "disk replacement",
        ),
    ]
    return [
        {
            "id": hid,
            "name": name,
            "user_id": user,
            "arches": arches,
            "capacity": cap,
            "task_load": load,
            "ready": ready,
            "enabled": enabled,
            "description": f"builder in rack {hid}",
            "comment": comment,
        }
        for hid, name, user, arches, cap, load, ready, enabled, comment in rows
    ]


def _tag_listings(
    builds: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    by_id = {b["id"]: b for b in builds}
    tagged = []
    for tag_id, build_ids, owner in (
        (1, (1001, 1010, 1020, 1040, 1050), 1),
        (4, (1002, 1011, 1021), 1),
        (3, (1051,), 2),
        (5, (1030, 1031), 7),
    ):
        for build_id in build_ids:
            when = by_id[build_id]["completion_ts"] + 61.0
            tagged.append(
                {
                    "tag_id": tag_id,
                    "build_id": build_id,
                    "owner_id": owner,
                    "create_event": event_at(when),
                    "revoke_event": None,
                    "revoker_id": None,
                }
            )
    listing_event = event_at(at("2026-08-01 00:00:00"))
    packages: list[dict[str, Any]] = [
        {
            "tag_id": 1,
            "package_id": pkg,
            "owner_id": owner,
            "blocked": False,
            "extra_arches": None,
            "create_event": listing_event,
        }
        for pkg, owner in ((1, 2), (2, 3), (3, 1), (5, 1), (6, 2), (7, 1))
    ]
    packages += [
        {
            "tag_id": 4,
            "package_id": 5,
            "owner_id": 1,
            "blocked": True,
            "extra_arches": None,
            "create_event": listing_event + 5,
        },
        {
            "tag_id": 5,
            "package_id": 4,
            "owner_id": 7,
            "blocked": False,
            "extra_arches": "x86_64",
            "create_event": listing_event + 7,
        },
    ]
    return tagged, packages


def load_dataset() -> dict[str, Any]:
    """Return a fresh copy of the bundled data set.

    Keys: ``users``, ``packages``, ``builds``, ``build_types`` (build id ->
    list of btypes), ``tasks`` (records plus ``request`` and ``result``),
    ``tags``, ``tag_parents`` (tag id -> parent ids by priority),
    ``tagged_builds``, ``tag_packages``, ``targets``, ``channels``,
    ``hosts``, ``host_channels`` (pairs of host id and channel id) and
    ``last_event`` (``{id, ts}``).
    """
    users = _users()
    packages = [{"id": i, "name": name} for i, name in enumerate(_PACKAGES, start=1)]
    builds, tasks = builds_and_tasks(users, packages)
    tags = _tags()
    tagged, tag_packages = _tag_listings(builds)
    last = at("2026-11-20 10:45:00.500000")
    return {
        "users": users,
        "packages": packages,
        "builds": builds,
        "build_types": {
            b["id"]: ["image"] if b["cg_name"] else ["rpm"] for b in builds
        },
        "tasks": tasks,
        "tags": tags,
        "tag_parents": {1: [], 2: [1], 3: [4], 4: [1], 5: [], 6: [2]},
        "tagged_builds": tagged,
        "tag_packages": tag_packages,
        "targets": _targets(tags),
        "channels": _channels(),
        "hosts": _hosts(),
        "host_channels": [(1, c) for c in (1, 2, 3, 4, 5)]
        + [(2, 1), (2, 2), (3, 1), (3, 4)],
        "last_event": {"id": event_at(last), "ts": time_pair(last)[1]},
    }
