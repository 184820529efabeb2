"""A discrete-event scheduler on an injected clock.

A *process* is a generator standing for one actor of the hub (a build
task's handler on its host, a user...).  It yields what it waits for:

* a number: that many seconds of hub time (divided by the speed);
* :class:`WaitTasks`: until the tasks named are finished (or, with
  ``fail_any``, one of them failed), as ``host.taskWait`` waits.

Time comes only from the ``IReactorTime`` given, so a test drives the
scheduler with :class:`twisted.internet.task.Clock`.  Processes due at the
same moment run in the order they were scheduled, so a run is the same
every time for the same inputs.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Generator, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from twisted.internet.interfaces import IDelayedCall, IReactorTime

from txkoji.exceptions import GenericError, ParameterError
from txkoji.testing.records import FINISHED_TASK_STATES, TASK_STATES

# Steps due within this many seconds of now run now (float rounding).
_SLACK = 1e-6


@dataclass(frozen=True)
class WaitTasks:
    """Wait until every task of ``task_ids`` is finished, or with
    ``fail_any`` until one has FAILED."""

    task_ids: tuple[int, ...]
    fail_any: bool = False


Instruction = float | WaitTasks
Process = Generator[Instruction, None, None]


@dataclass(eq=False)
class _Running:
    process: Process
    task_id: int | None
    dead: bool = False
    wait: WaitTasks | None = None


class Scheduler:
    """Runs processes on ``clock`` at ``speed`` times hub pace.

    :param clock: the time source (the reactor, or a ``Clock`` in tests).
    :param speed: how many hub seconds pass in one clock second: every
        delay a process yields is divided by it.
    :param tasks: the hub's tasks by id, whose states :class:`WaitTasks`
        waits on.
    :raises ParameterError: for a speed that is not a positive number.
    """

    def __init__(
        self,
        clock: IReactorTime,
        speed: float,
        tasks: Mapping[int, Mapping[str, Any]],
    ) -> None:
        if not isinstance(speed, (int, float)) or isinstance(speed, bool) or speed <= 0:
            raise ParameterError(f"speed must be a positive number, not {speed!r}")
        self.clock = clock
        self.speed = float(speed)
        self._tasks = tasks
        self._due: list[tuple[float, int, _Running]] = []
        # Waits by the task ids they wait on; processes by their task id.
        self._waiters: dict[int, list[tuple[WaitTasks, _Running]]] = {}
        self._working: dict[int, list[_Running]] = {}
        self._live: set[_Running] = set()
        self._order = itertools.count()
        self._timer: IDelayedCall | None = None
        self._stopped = False

    def spawn(self, process: Process, task_id: int | None = None) -> None:
        """Start ``process`` now (it runs until its first wait); ``task_id``
        names the task it works for, so that :meth:`kill` can stop it."""
        if self._stopped:
            raise GenericError("the hub simulator is stopped")
        running = _Running(process, task_id)
        self._live.add(running)
        if task_id is not None:
            self._working.setdefault(task_id, []).append(running)
        self._resume(running)
        self._arm()

    def kill(self, task_ids: Iterable[int]) -> None:
        """Stop the processes working for ``task_ids`` (tasks that were
        canceled), and wake the processes waiting on those tasks."""
        doomed = list(task_ids)
        for task_id in doomed:
            for running in self._working.pop(task_id, []):
                if not running.dead:
                    self._end(running)
                    running.process.close()
        self._notify(doomed)
        self._arm()

    def pending(self) -> float | None:
        """Clock seconds until the next timed step, or None when no
        process waits on time."""
        self._drop_dead()
        if not self._due:
            return None
        return max(0.0, self._due[0][0] - self.clock.seconds())

    def step(self) -> bool:
        """Run the next timed step now, ahead of its time; every later
        step moves as much earlier.  Returns False when nothing is due."""
        ahead = self.pending()
        if ahead is None:
            return False
        if ahead > 0:
            self._due = [(due - ahead, n, r) for due, n, r in self._due]
            heapq.heapify(self._due)
        self._run_due()
        return True

    def stop(self) -> None:
        """Stop every process and cancel the pending timer; the scheduler
        takes no new process afterwards."""
        self._stopped = True
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        for running in list(self._live):
            self._end(running)
            running.process.close()
        self._due.clear()
        self._waiters.clear()
        self._working.clear()

    def _end(self, running: _Running) -> None:
        running.dead = True
        self._live.discard(running)
        working = self._working.get(running.task_id or 0, [])
        if running in working:
            working.remove(running)

    def _drop_dead(self) -> None:
        while self._due and self._due[0][2].dead:
            heapq.heappop(self._due)

    def _resume(self, running: _Running) -> None:
        """Run ``running`` until it waits (or ends), then wake whoever
        waits on its task."""
        while not running.dead:
            try:
                instruction = next(running.process)
            except StopIteration:
                self._end(running)
                break
            if isinstance(instruction, WaitTasks):
                if self._satisfied(instruction):
                    continue
                running.wait = instruction
                for task_id in instruction.task_ids:
                    self._waiters.setdefault(task_id, []).append((instruction, running))
            else:
                due = self.clock.seconds() + float(instruction) / self.speed
                heapq.heappush(self._due, (due, next(self._order), running))
            break
        if running.task_id is not None:
            self._notify([running.task_id])

    def _satisfied(self, wait: WaitTasks) -> bool:
        states = [self._tasks[task_id]["state"] for task_id in wait.task_ids]
        if all(state in FINISHED_TASK_STATES for state in states):
            return True
        return wait.fail_any and TASK_STATES["FAILED"] in states

    def _notify(self, task_ids: Iterable[int]) -> None:
        """Resume the processes whose waits the state of ``task_ids`` may
        have ended."""
        for task_id in task_ids:
            if self._tasks[task_id]["state"] not in FINISHED_TASK_STATES:
                continue
            for wait, running in self._waiters.pop(task_id, []):
                if not running.dead and running.wait is wait and self._satisfied(wait):
                    running.wait = None
                    self._resume(running)

    def _run_due(self) -> None:
        now = self.clock.seconds() + _SLACK
        while self._due and self._due[0][0] <= now:
            _, _, running = heapq.heappop(self._due)
            self._resume(running)
        self._arm()

    def _fire(self) -> None:
        self._timer = None
        self._run_due()

    def _arm(self) -> None:
        if self._stopped:
            return
        ahead = self.pending()
        if self._timer is not None and self._timer.active():
            if (
                ahead is not None
                and self._timer.getTime() <= self.clock.seconds() + ahead
            ):
                return
            self._timer.cancel()
            self._timer = None
        if ahead is not None:
            self._timer = self.clock.callLater(ahead, self._fire)
