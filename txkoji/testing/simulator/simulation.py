"""The hub simulator: makes a fake hub's data change as a real hub's does."""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

from txkoji.exceptions import GenericError, ParameterError, TagError
from txkoji.testing.records import FINISHED_TASK_STATES
from txkoji.testing.simulator import changes
from txkoji.testing.simulator.history import BuildHistory, compress_history
from txkoji.testing.simulator.in_flight import builds_in_flight
from txkoji.testing.simulator.rpm_build import (
    BUILD_CHANNEL_ID,
    OUTCOMES,
    BuildPlan,
    RpmBuild,
    host_for,
)
from txkoji.testing.simulator.scheduler import Process, Scheduler
from txkoji.testing.state import HubState

_SCM = "git+https://src.example.com/rpms"
#: The priority of a task created with no priority given (Koji's PRIO_DEFAULT).
DEFAULT_PRIORITY = 20
#: Task changes with a time stamp (created, started, finished) a
#: spontaneous build makes on average (measured over three simulated hours:
#: its build task and the subtasks), which turns a ``rate`` into an
#: ``activity``.
CHANGES_PER_BUILD = 12.0
# How often each outcome comes up in spontaneous builds.
_OUTCOME_WEIGHTS = (8, 1, 1)


class HubSimulator:
    """Moves a hub's builds and tasks along on the hub's clock.

    Builds started with :meth:`start_build` (and, once :meth:`start` is
    called, the data's builds in flight and, with ``activity``, builds the
    simulator starts by itself) run as on a real hub (see
    :mod:`txkoji.testing.simulator.rpm_build`): tasks go FREE, ASSIGNED,
    OPEN, then CLOSED, FAILED or CANCELED; the build goes BUILDING, then
    COMPLETE, FAILED or CANCELED; a complete build is tagged into the
    target's destination tag.  Every change sets the hub's timestamps
    (``start_ts``, ``completion_ts``, ``creation_ts``... with their
    ``_time`` strings) from the hub's clock and makes a new event.

    Durations are drawn from the data's history: a build of ``bash``
    takes about as long as its past COMPLETE builds did, so
    ``getAverageBuildDuration`` predicts it.  The same seed and the same
    calls give the same records, event ids and times.

    In tests, give the hub a :class:`twisted.internet.task.Clock` (set to
    the data's present, see :func:`~txkoji.testing.simulator.dataset_clock`)
    and drive it with :meth:`advance`, or ``Clock.advance`` in steps no
    longer than :meth:`pending`.

    :ivar state: the :class:`~txkoji.testing.state.HubState` changed.
    :ivar speed: hub seconds per clock second.
    :ivar activity: the mean hub seconds between spontaneous builds, or
        None for none.
    """

    def __init__(
        self,
        state: HubState,
        *,
        seed: int = 0,
        speed: float = 1.0,
        activity: float | None = None,
        rate: float | None = None,
    ) -> None:
        """:param state: the hub's data; its ``clock`` (the hub's
            ``IReactorTime``) times everything.
        :param seed: the seed of every random draw.
        :param speed: run this many times faster than a real hub.  The
            data's finished builds and tasks are made as much shorter
            (:func:`~txkoji.testing.simulator.history.compress_history`),
            so that estimates still hold.
        :param activity: start a build of a random package about every
            this many hub seconds once :meth:`start` is called (mostly
            complete, some failed, some canceled); None: only the builds
            :meth:`start_build` starts.
        :param rate: instead of ``activity``: about this many task state
            changes with a time stamp (created, started, finished) per hub
            second, from spontaneous builds (``activity`` =
            :data:`CHANGES_PER_BUILD` / ``rate``).
        :raises ParameterError: for a speed, activity or rate that is not a
            positive number, or both an activity and a rate.
        """
        if rate is not None:
            if activity is not None:
                raise ParameterError("give an activity or a rate, not both")
            if not isinstance(rate, (int, float)) or rate <= 0:
                raise ParameterError(f"rate must be a positive number, not {rate!r}")
            activity = CHANGES_PER_BUILD / rate
        if activity is not None and (
            not isinstance(activity, (int, float)) or activity <= 0
        ):
            raise ParameterError(
                f"activity must be a positive number, not {activity!r}"
            )
        self.state = state
        self._scheduler = Scheduler(state.clock, speed, state.tasks)
        self.speed = self._scheduler.speed
        self.activity = activity
        self._rng = random.Random(seed)
        self._started = False
        # Every NVR taken, and the last version and release of each package.
        self._nvrs = {b["nvr"] for b in state.builds.values()}
        self._last_release: dict[int, tuple[str, str]] = {}
        compress_history(state, self.speed)
        self._history = BuildHistory(state, self.speed)

    def start(self) -> None:
        """Bring the hub to life: the RPM builds of its data that wait on
        their ``buildArch`` subtasks carry on (they complete and are
        tagged), and, with ``activity``, spontaneous builds begin.  Calling
        it again does nothing."""
        if self._started:
            return
        self._started = True
        for root, build, arches in builds_in_flight(self.state):
            plan = self._plan(
                self.state.packages[build["package_id"]],
                self.state.find("targets", root["request"][1], True, "build target"),
                root["owner"],
                arches,
                "complete",
                False,
                root["request"][0],
                nvr=(build["version"], build["release"]),
            )
            RpmBuild(self.state, self._scheduler, self._rng, plan).adopt(root, build)
        if self.activity is not None:
            self._scheduler.spawn(self._spontaneous_builds(self.activity))

    def stop(self) -> None:
        """Stop every simulated task where it stands and cancel every
        pending timer; the simulator starts nothing afterwards."""
        self._scheduler.stop()

    def start_build(
        self,
        package: int | str,
        target: int | str = "f40-candidate",
        *,
        outcome: str = "complete",
        owner: int | str | None = None,
        arches: list[str] | tuple[str, ...] | None = None,
        scratch: bool = False,
        source: str | None = None,
        priority: int = 0,
    ) -> int:
        """Submit a build of ``package`` (id or name) to ``target``, as
        ``build(src, target, opts)`` does, and return the new ``build``
        task's id (FREE now; the rest follows on the clock).

        :param outcome: ``complete``; ``failed`` (the first ``buildArch``
            fails, the others are canceled, the build FAILED); or
            ``canceled`` (the owner cancels the task midway: it, its
            unfinished subtasks and the build are CANCELED).
        :param owner: the user submitting (id or name); by default the
            package's owner in the package list.
        :param arches: the ``buildArch`` subtasks (the request's
            ``arch_override``); by default those of the package's last
            build, or the build tag's arches.
        :param scratch: a scratch build: no build record, no tagging.
        :param source: the SCM URL built; by default one of the package's
            repository at a random commit.
        :param priority: relative to the default priority (20), as
            ``build(priority=...)`` takes it.
        :raises GenericError: for an unknown package, target or owner, an
            arch no enabled host builds, or a stopped simulator.
        :raises ParameterError: for an unknown outcome or empty arches.
        """
        st = self.state
        if outcome not in OUTCOMES:
            raise ParameterError(f"outcome must be one of {OUTCOMES}, not {outcome!r}")
        pkg = st.find("packages", package, True, "package")
        tgt = st.find("targets", target, True, "build target")
        owner_id = (
            self._package_owner(pkg["id"])
            if owner is None
            else st.find("users", owner, True, "user")["id"]
        )
        opts: dict[str, Any] = {"scratch": True} if scratch else {}
        if arches is not None:
            if not arches:
                raise ParameterError("a build needs at least one arch")
            opts["arch_override"] = " ".join(arches)
        arch_list = tuple(arches) if arches else self._arches(pkg, tgt)
        for arch in arch_list:
            host_for(st, arch, BUILD_CHANNEL_ID)  # an arch no host builds: now
        plan = self._plan(pkg, tgt, owner_id, arch_list, outcome, scratch, source)
        plan = replace(plan, opts=opts, priority=DEFAULT_PRIORITY + priority)
        return RpmBuild(st, self._scheduler, self._rng, plan).submit()

    def cancel_task(self, task_id: int, recurse: bool = True) -> list[int]:
        """Cancel a task as ``cancelTask`` does (its BUILDING build too,
        and with ``recurse`` its unfinished subtasks) and stop simulating
        what was canceled.

        :returns: the ids of the tasks canceled (none for a finished one).
        :raises GenericError: for an unknown task.
        """
        task = self.state.tasks.get(task_id)
        if task is None:
            raise GenericError(f"No such task: {task_id!r}")
        canceled = changes.cancel_task(self.state, task, recurse)
        self._scheduler.kill(canceled)
        return canceled

    def tag_build(self, build: int | str, tag: int | str, user: int | str = 1) -> int:
        """Tag a build (id or NVR) into a tag (id or name) as ``user``;
        return the event id.

        :raises GenericError: for an unknown build, tag or user.
        :raises TagError: when it is tagged there already.
        """
        b, t, u = self._listing_args(build, tag, user)
        if changes.active_entry(self.state, t, b) is not None:
            nvr, name = self.state.builds[b]["nvr"], self.state.tags[t]["name"]
            raise TagError(f"build {nvr} already tagged ({name})")
        return changes.tag_build(self.state, t, b, u)

    def untag_build(self, build: int | str, tag: int | str, user: int | str = 1) -> int:
        """Untag a build from a tag as ``user``; return the event id.

        :raises GenericError: for an unknown build, tag or user.
        :raises TagError: when it is not tagged there.
        """
        b, t, u = self._listing_args(build, tag, user)
        return changes.untag_build(self.state, t, b, u)

    def pending(self) -> float | None:
        """Clock seconds until the next scheduled change, or None when
        nothing is scheduled."""
        return self._scheduler.pending()

    def step(self) -> bool:
        """Make the next scheduled change now, ahead of time (later ones
        move as much earlier); False when nothing is scheduled."""
        return self._scheduler.step()

    def run(self, task_id: int, max_steps: int = 100_000) -> dict[str, Any]:
        """Make the scheduled changes now, one by one, until task
        ``task_id`` is finished; return its record.

        :raises GenericError: for an unknown task, or one that nothing
            scheduled will finish.
        """
        task = self.state.tasks.get(task_id)
        if task is None:
            raise GenericError(f"No such task: {task_id!r}")
        for _ in range(max_steps):
            if task["state"] in FINISHED_TASK_STATES:
                return dict(task)
            if not self.step():
                break
        raise GenericError(f"the simulator will not finish task {task_id}")

    def advance(self, seconds: float) -> None:
        """Advance a :class:`~twisted.internet.task.Clock` hub clock by
        ``seconds``, stopping at each scheduled change so that every
        change gets its own time.

        :raises ParameterError: when the hub's clock is no ``Clock``.
        """
        clock: Any = self.state.clock
        if not callable(getattr(clock, "advance", None)):
            raise ParameterError("advance() needs a twisted.internet.task.Clock")
        end = clock.seconds() + seconds
        while (ahead := self.pending()) is not None and clock.seconds() + ahead <= end:
            clock.advance(ahead)
        clock.advance(max(0.0, end - clock.seconds()))

    def _listing_args(
        self, build: int | str, tag: int | str, user: int | str
    ) -> tuple[int, int, int]:
        st = self.state
        return (
            st.find("builds", build, True, "build")["id"],
            st.find("tags", tag, True, "tag")["id"],
            st.find("users", user, True, "user")["id"],
        )

    def _package_owner(self, package_id: int) -> int:
        entries = sorted(
            (e for e in self.state.tag_packages if e["package_id"] == package_id),
            key=lambda e: e["tag_id"],
        )
        return entries[0]["owner_id"] if entries else 1

    def _arches(
        self, package: dict[str, Any], target: dict[str, Any]
    ) -> tuple[str, ...]:
        known = self._history.arches(package["id"])
        if known:
            return known
        tag_arches = self.state.tags[target["build_tag"]]["arches"] or "noarch"
        return tuple(tag_arches.split())

    def _next_nvr(self, package: dict[str, Any]) -> tuple[str, str]:
        """Return the version and next free release of the package: the
        release of its newest build (by id), numbered one up."""
        last = self._last_release.get(package["id"])
        if last is None:
            builds = [
                b
                for b in self.state.builds.values()
                if b["package_id"] == package["id"]
            ]
            newest = max(builds, key=lambda b: b["id"], default=None)
            last = (
                ("1.0", "0")
                if newest is None
                else (newest["version"], newest["release"])
            )
        version, release = last
        head, dot, tail = release.partition(".")
        number = int(head) if head.isdigit() else 0
        while True:
            number += 1
            candidate = f"{number}{dot}{tail}"
            nvr = f"{package['name']}-{version}-{candidate}"
            if nvr not in self._nvrs:
                self._nvrs.add(nvr)
                self._last_release[package["id"]] = (version, candidate)
                return version, candidate

    def _plan(
        self,
        package: dict[str, Any],
        target: dict[str, Any],
        owner: int,
        arches: tuple[str, ...],
        outcome: str,
        scratch: bool,
        source: str | None,
        nvr: tuple[str, str] | None = None,
    ) -> BuildPlan:
        rng = self._rng
        version, release = nvr or self._next_nvr(package)
        base = rng.choice(self._history.build_seconds(package["id"]) or (600.0,))
        arch_seconds = tuple(base * rng.uniform(0.9, 1.05) for _ in arches)
        srpm_seconds = self._history.srpm_seconds(package["id"]) * rng.uniform(0.9, 1.1)
        commit = rng.getrandbits(40)
        source = source or f"{_SCM}/{package['name']}.git#{commit:010x}"
        return BuildPlan(
            package=package,
            version=version,
            release=release,
            source=source,
            target=target,
            arches=arches,
            owner=owner,
            outcome=outcome,
            scratch=scratch,
            srpm_seconds=srpm_seconds,
            arch_seconds=arch_seconds,
            fail_after=arch_seconds[0] * rng.uniform(0.3, 0.8)
            if outcome == "failed"
            else None,
            cancel_after=(srpm_seconds + base) * rng.uniform(0.3, 0.8)
            if outcome == "canceled"
            else None,
        )

    def _spontaneous_builds(self, activity: float) -> Process:
        while True:
            yield self._rng.expovariate(1.0 / activity)
            package = self._rng.choice(self._history.built_packages())
            outcome = self._rng.choices(OUTCOMES, weights=_OUTCOME_WEIGHTS)[0]
            self.start_build(package, outcome=outcome)
