"""One simulated RPM build: the ``build`` task and the subtasks its handler
creates, as a Koji builder runs them.

The ``build`` task is created FREE; the scheduler assigns it to a host,
which opens it.  Its handler then creates a ``buildSRPMFromSCM`` subtask
and waits for it; makes the build record (BUILDING, ``initBuild``); creates
one ``buildArch`` subtask per arch and waits for them all (or for the first
failure, which cancels the others and fails the build); completes the
build; creates a ``tagBuild`` subtask, which tags the build into the
target's destination tag; and closes.  A scratch build makes no build
record and no ``tagBuild``.  Every subtask goes FREE, ASSIGNED, OPEN, then
CLOSED or FAILED (or CANCELED).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from txkoji.exceptions import GenericError
from txkoji.testing.records import FINISHED_TASK_STATES, TASK_STATES
from txkoji.testing.simulator import changes
from txkoji.testing.simulator.scheduler import Process, Scheduler, WaitTasks
from txkoji.testing.state import HubState
from txkoji.testing.trees import REPO_ID, build_fault, work_path

#: How a simulated build ends.
OUTCOMES = ("complete", "failed", "canceled")
#: The channel build tasks run in (``default``).
BUILD_CHANNEL_ID = 1

Record = dict[str, Any]


@dataclass(frozen=True)
class BuildPlan:
    """What one simulated build will do (hub seconds).

    :ivar package: the package record.
    :ivar version: of the NVR to build.
    :ivar release: of the NVR to build.
    :ivar source: the SCM URL (``git+https://...#commit``).
    :ivar target: the build target record.
    :ivar arches: one ``buildArch`` subtask each.
    :ivar owner: the user id submitting.
    :ivar outcome: one of :data:`OUTCOMES`.
    :ivar scratch: a scratch build (no build record, no tagging).
    :ivar srpm_seconds: how long the SRPM subtask runs.
    :ivar arch_seconds: how long each ``buildArch`` runs.
    :ivar fail_after: for ``failed``: when the first ``buildArch`` fails,
        in seconds after it opened.
    :ivar cancel_after: for ``canceled``: when the owner cancels, in
        seconds after submitting.
    :ivar opts: the ``opts`` of the ``build`` request (``scratch``,
        ``arch_override``...).
    :ivar priority: the ``build`` task's priority (subtasks: one less).
    """

    package: Record
    version: str
    release: str
    source: str
    target: Record
    arches: tuple[str, ...]
    owner: int
    outcome: str
    scratch: bool
    srpm_seconds: float
    arch_seconds: tuple[float, ...]
    fail_after: float | None = None
    cancel_after: float | None = None
    opts: dict[str, Any] = field(default_factory=dict)
    priority: int = 20

    @property
    def nvr(self) -> str:
        """The NVR being built."""
        return f"{self.package['name']}-{self.version}-{self.release}"


def host_for(st: HubState, arch: str, channel_id: int) -> int:
    """Return the id of the host the scheduler picks for a task of
    ``arch`` in channel ``channel_id``: the first enabled, ready host of
    the channel that builds that arch (any of them for ``noarch``).

    :raises GenericError: when there is none.
    """
    for host_id, host in sorted(st.hosts.items()):
        if (
            host["enabled"]
            and host["ready"]
            and (host_id, channel_id) in st.host_channels
            and (arch == "noarch" or arch in host["arches"].split())
        ):
            return host_id
    raise GenericError(f"no host can run {arch} tasks in channel {channel_id}")


class RpmBuild:
    """Runs one :class:`BuildPlan` on a hub through its scheduler."""

    def __init__(
        self, st: HubState, scheduler: Scheduler, rng: random.Random, plan: BuildPlan
    ) -> None:
        self._st = st
        self._scheduler = scheduler
        self._rng = rng
        self.plan = plan

    def submit(self) -> int:
        """Create the ``build`` task (FREE, now) and start running it;
        return its id."""
        plan = self.plan
        root = changes.create_task(
            self._st,
            "build",
            [plan.source, plan.target["name"], dict(plan.opts)],
            plan.owner,
            channel_id=BUILD_CHANNEL_ID,
            priority=plan.priority,
            weight=0.2,
        )
        self._scheduler.spawn(self._build(root), root["id"])
        if plan.cancel_after is not None:
            self._scheduler.spawn(self._cancel(root, plan.cancel_after))
        return root["id"]

    def _start(self, task: Record) -> Process:
        """Queue, assignment to a host and opening, as for every task (from
        where the task stands)."""
        if task["state"] == TASK_STATES["FREE"]:
            yield self._rng.uniform(1.0, 5.0)
            host = host_for(self._st, task["arch"], task["channel_id"])
            changes.assign_task(self._st, task, host)
        if task["state"] == TASK_STATES["ASSIGNED"]:
            yield self._rng.uniform(0.5, 2.0)
            changes.open_task(self._st, task)

    def _ran(self, task: Record) -> float:
        """Hub seconds the open task has run."""
        return (self._st.now() - task["start_ts"]) * self._scheduler.speed

    def _subtask(
        self, parent: Record, method: str, request: list[Any], **fields: Any
    ) -> Record:
        return changes.create_task(
            self._st, method, request, parent["owner"], parent=parent, **fields
        )

    def _await(self, parent: Record, children: list[Record]) -> Process:
        changes.set_waiting(self._st, parent, children)
        yield WaitTasks(tuple(c["id"] for c in children), fail_any=True)
        changes.unwait(self._st, parent, children)

    def _build(self, root: Record) -> Process:
        st, plan = self._st, self.plan
        yield from self._start(root)
        yield 1.0
        build_tag = plan.target["build_tag"]
        srpm = self._subtask(
            root,
            "buildSRPMFromSCM",
            [plan.source, build_tag, {"repo_id": REPO_ID}],
            label="srpm",
        )
        srpm_path = work_path(srpm["id"], f"{plan.nvr}.src.rpm")
        self._scheduler.spawn(
            self._run(srpm, plan.srpm_seconds, self._srpm_result(srpm, srpm_path)),
            srpm["id"],
        )
        yield from self._await(root, [srpm])
        build = None
        if not plan.scratch:
            build = changes.create_build(
                st,
                plan.package,
                plan.version,
                plan.release,
                plan.owner,
                root["id"],
                plan.source,
                plan.source,
            )
        yield 1.0
        arch_tasks = [
            self._arch_task(root, srpm_path, i) for i in range(len(plan.arches))
        ]
        yield from self._conclude(root, build, arch_tasks)

    def adopt(self, root: Record, build: Record | None) -> None:
        """Carry on with a ``build`` task of the hub's data that waits on
        its ``buildArch`` subtasks: they run to their end (an open one for
        what is left of its duration), then the task completes the build,
        tags it and closes."""
        arch_tasks = [
            t
            for t in sorted(self._st.tasks.values(), key=lambda t: t["id"])
            if t["parent"] == root["id"] and t["method"] == "buildArch"
        ]
        for index, task in enumerate(arch_tasks):
            if task["state"] not in FINISHED_TASK_STATES:
                self._run_arch(task, task["request"][0], index)
        self._scheduler.spawn(self._conclude(root, build, arch_tasks), root["id"])

    def _conclude(
        self, root: Record, build: Record | None, arch_tasks: list[Record]
    ) -> Process:
        """Wait for the ``buildArch`` subtasks, then fail, or complete and
        tag, the build, and close the task."""
        st, plan = self._st, self.plan
        yield from self._await(root, arch_tasks)
        failed = [t for t in arch_tasks if t["state"] == TASK_STATES["FAILED"]]
        if failed:
            for task in arch_tasks:
                self._scheduler.kill(changes.cancel_task(st, task))
            if build is not None:
                changes.finish_build(st, build, "FAILED")
            changes.finish_task(st, root, "FAILED", dict(failed[0]["result"]))
            return
        if build is not None:
            changes.finish_build(st, build, "COMPLETE")
            yield 5.0
            dest_tag = plan.target["dest_tag"]
            tag_task = self._subtask(
                root,
                "tagBuild",
                [dest_tag, build["id"], False, None, True],
                label="tag",
                weight=0.1,
            )
            self._scheduler.spawn(self._tag(tag_task, dest_tag, build), tag_task["id"])
            yield from self._await(root, [tag_task])
        changes.finish_task(st, root, "CLOSED", None)

    def _arch_task(self, root: Record, srpm_path: str, index: int) -> Record:
        arch = self.plan.arches[index]
        task = self._subtask(
            root,
            "buildArch",
            [
                srpm_path,
                self.plan.target["build_tag"],
                arch,
                index == 0,
                {"repo_id": REPO_ID},
            ],
            arch=arch,
            label=arch,
            weight=1.5,
        )
        self._run_arch(task, srpm_path, index)
        return task

    def _run_arch(self, task: Record, srpm_path: str, index: int) -> None:
        plan = self.plan
        result = {
            "srpms": [srpm_path] if index == 0 else [],
            "rpms": [work_path(task["id"], f"{plan.nvr}.{task['arch']}.rpm")],
            "logs": [work_path(task["id"], "build.log")],
            "brootid": task["id"] * 3,
        }
        failing = index == 0 and plan.outcome == "failed"
        self._scheduler.spawn(
            self._run(
                task,
                plan.arch_seconds[index],
                result,
                fail_after=plan.fail_after if failing else None,
            ),
            task["id"],
        )

    def _srpm_result(self, srpm: Record, srpm_path: str) -> dict[str, Any]:
        return {
            "srpm": srpm_path,
            "logs": [work_path(srpm["id"], "build.log")],
            "brootid": srpm["id"] * 3,
            "source": {"source": self.plan.source, "url": self.plan.source},
        }

    def _run(
        self,
        task: Record,
        seconds: float,
        result: Any,
        fail_after: float | None = None,
    ) -> Process:
        yield from self._start(task)
        if fail_after is not None:
            yield max(0.0, fail_after - self._ran(task))
            changes.finish_task(self._st, task, "FAILED", build_fault(task["arch"]))
            return
        yield max(0.0, seconds - self._ran(task))
        changes.finish_task(self._st, task, "CLOSED", result)

    def _tag(self, task: Record, dest_tag: int, build: Record) -> Process:
        yield from self._start(task)
        yield self._rng.uniform(10.0, 30.0)
        changes.tag_build(self._st, dest_tag, build["id"], task["owner"])
        yield self._rng.uniform(5.0, 15.0)
        changes.finish_task(self._st, task, "CLOSED", None)

    def _cancel(self, root: Record, after: float) -> Process:
        yield after
        self._scheduler.kill(changes.cancel_task(self._st, root))
