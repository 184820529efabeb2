"""Task trees of an RPM build, as a hub records them.

:func:`rpm_build_tree` lays out the tasks Koji creates for ``build``:
the root ``build`` task, a ``buildSRPMFromSCM`` child, one ``buildArch``
child per architecture and, when the build completes and is not a
scratch build, a ``tagBuild`` child.  Child ids follow the root id in
that order (root + 1 is the SRPM task, root + 2 the first buildArch...).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from txkoji.testing.records import task_row

#: The build tag id and repo id every bundled RPM build uses.
BUILD_TAG_ID = 2
REPO_ID = 7
_HOST_FOR_ARCH = {"aarch64": 2}
_DEFAULT_HOST = 1


@dataclass(frozen=True)
class TreeTimes:
    """When the build record of a tree started and ended (epoch seconds;
    ``end`` is None while it is still building)."""

    start: float
    end: float | None


def _host(arch: str) -> int:
    return _HOST_FOR_ARCH.get(arch, _DEFAULT_HOST)


def build_fault(arch: str) -> dict[str, Any]:
    """Return the fault a ``buildArch`` task for ``arch`` fails with, as
    ``{faultCode, faultString}`` (1005, BuildError)."""
    return {
        "faultCode": 1005,
        "faultString": (
            f"error building package (arch {arch}), mock exited with status 1; "
            "see build.log for more information"
        ),
    }


def work_path(task_id: int, name: str) -> str:
    """Return the path of file ``name`` of a task's output, relative to
    the work area (``tasks/<id % 10000>/<id>/<name>``)."""
    return f"tasks/{task_id % 10000}/{task_id}/{name}"


def rpm_build_tree(
    root: int,
    nvr: str,
    src: str,
    arches: Sequence[str],
    owner: int,
    created: float,
    minutes: float,
    outcome: str,
    build_id: int | None = None,
    target: str = "f40-candidate",
    dest_tag_id: int = 3,
    arch_states: Sequence[str] = (),
) -> tuple[list[dict[str, Any]], TreeTimes]:
    """Return the tasks of one ``build`` and the times of its build record.

    :param outcome: ``closed``, ``failed`` (the first arch fails, the others
        are canceled), ``canceled`` or ``open`` (then ``arch_states`` gives
        each buildArch's state: OPEN, ASSIGNED or FREE).
    :param build_id: the build the tree makes, or None for a scratch build.
    """
    scratch = build_id is None
    end = created + minutes * 60
    srpm_id = root + 1
    srpm_name = f"{nvr}.src.rpm"
    srpm_path = work_path(srpm_id, srpm_name)
    tasks = [
        task_row(
            srpm_id,
            "buildSRPMFromSCM",
            "CLOSED",
            owner,
            [src, BUILD_TAG_ID, {"repo_id": REPO_ID}],
            created + 1.5,
            created + 10.25,
            created + 130.5,
            label="srpm",
            parent=root,
            host_id=_DEFAULT_HOST,
            weight=1.0,
            awaited=False,
            result={
                "srpm": srpm_path,
                "logs": [work_path(srpm_id, "build.log")],
                "brootid": srpm_id * 3,
                "source": {"source": src, "url": src},
            },
        )
    ]
    times = TreeTimes(created + 140.125, None)
    arch_start = created + 150.375
    finished: float | None
    result: dict[str, Any] | None
    for index, arch in enumerate(arches):
        task_id = root + 2 + index
        state, finished, result = (
            "CLOSED",
            end - 90.5,
            {
                "srpms": [srpm_path] if index == 0 else [],
                "rpms": [work_path(task_id, f"{nvr}.{arch}.rpm")],
                "logs": [work_path(task_id, "build.log")],
                "brootid": task_id * 3,
            },
        )
        if outcome == "failed":
            fail_at = created + minutes * 36
            state, finished, result = (
                ("FAILED", fail_at, build_fault(arch))
                if index == 0
                else ("CANCELED", fail_at + 2.5, None)
            )
        elif outcome == "canceled":
            state, finished, result = "CANCELED", end, None
        elif outcome == "open":
            state, finished, result = arch_states[index], None, None
        started = None if state in ("FREE", "ASSIGNED") else arch_start
        tasks.append(
            task_row(
                task_id,
                "buildArch",
                state,
                owner,
                [srpm_path, BUILD_TAG_ID, arch, index == 0, {"repo_id": REPO_ID}],
                created + 131.0,
                started,
                finished,
                arch=arch,
                label=arch,
                parent=root,
                host_id=None if state == "FREE" else _host(arch),
                weight=1.5,
                awaited=outcome == "open",
                result=result,
            )
        )
    root_state, root_end, root_result = {
        "closed": ("CLOSED", end, None),
        "failed": ("FAILED", created + minutes * 36 + 5.0, build_fault(arches[0])),
        "canceled": ("CANCELED", end, None),
        "open": ("OPEN", None, None),
    }[outcome]
    if outcome in ("failed", "canceled"):
        assert root_end is not None  # both outcomes end
        times = TreeTimes(times.start, root_end - 1.0)
    if outcome == "closed":
        times = TreeTimes(times.start, end - 70.25)
        if not scratch:
            tag_id = root + 2 + len(arches)
            tasks.append(
                task_row(
                    tag_id,
                    "tagBuild",
                    "CLOSED",
                    owner,
                    [dest_tag_id, build_id, False, None, True],
                    end - 65.0,
                    end - 60.5,
                    end - 20.75,
                    parent=root,
                    host_id=_DEFAULT_HOST,
                    priority=10,
                    weight=0.1,
                    awaited=False,
                )
            )
    opts = {"scratch": True} if scratch else {}
    tasks.insert(
        0,
        task_row(
            root,
            "build",
            root_state,
            owner,
            [src, target, opts],
            created,
            created + 0.75,
            root_end,
            host_id=_DEFAULT_HOST,
            waiting=outcome == "open",
            result=root_result,
        ),
    )
    return tasks, times
