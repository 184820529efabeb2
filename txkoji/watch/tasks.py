"""Watching tasks and all their descendants until every one has finished.

Each poll cycle sends one multicall request per ``batch`` tasks polled,
holding:

* ``getTaskInfo([ids])`` for the tasks of the batch still open (one call
  for many ids, which the hub accepts), with ``request=True`` only for
  tasks seen for the first time;
* ``listTasks({"parent": [ids]})`` for the children of the same tasks,
  read after their states, so a task seen finished has all its children
  listed (undecoded: the rows of children already known are only looked
  at for their ids, and a raw request is one string to read, not a
  structure; a new child's request is decoded when it is adopted);
* in the first request, the history lookups the estimates still need.

A finished task is never asked for again; its children are listed once
more only when it was first seen already finished (as a new child).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from twisted.internet import defer

from txkoji import task_states
from txkoji.estimates import HubCall
from txkoji.exceptions import KojiNotFound
from txkoji.messages import TaskStateChange
from txkoji.task import Task
from txkoji.task_params import TaskParamsError, parse_request
from txkoji.watch.base import DEFAULT_BATCH, Estimated, Watcher
from txkoji.watch.progress import UNKNOWN, Estimate, estimate

#: The method whose tasks (and their descendants) share one build-level
#: estimate.
BUILD_METHOD = "build"


def _task_ids(task_ids: Iterable[Any]) -> list[int]:
    ids = list(task_ids)
    if not ids:
        raise ValueError("no task ids to watch")
    for task_id in ids:
        if isinstance(task_id, bool) or not isinstance(task_id, int):
            raise ValueError(f"task ids are integers, not {task_id!r}")
    return list(dict.fromkeys(ids))


class WatchedTask(Estimated):
    """One task of a watched tree: its latest record, its place in the
    tree, and its estimate.

    :ivar task: the latest :class:`~txkoji.task.Task` record (with its
        ``request``).
    :ivar parent: the watched parent, or ``None`` for a task given to
        watch.
    :ivar children: the watched children, by id.
    :ivar estimate: the :class:`~txkoji.watch.progress.Estimate`.
    """

    __slots__ = ("task", "parent", "children", "estimate", "children_listed")

    def __init__(self, task: Task, parent: WatchedTask | None) -> None:
        self.task = task
        self.parent = parent
        self.children: list[WatchedTask] = []
        self.estimate: Estimate = UNKNOWN
        #: Whether the children were listed after the task's latest state.
        self.children_listed = False

    @property
    def id(self) -> int:
        """The task id."""
        return self.task["id"]

    @property
    def finished(self) -> bool:
        """Whether the task is CLOSED, CANCELED or FAILED."""
        return self.task["state"] in task_states.DONE_GROUP

    @property
    def depth(self) -> int:
        """0 for a task given to watch, 1 for its children..."""
        depth, node = 0, self.parent
        while node is not None:
            depth, node = depth + 1, node.parent
        return depth

    def walk(self) -> Iterator[WatchedTask]:
        """Yield this task, then its descendants, depth first."""
        yield self
        for child in self.children:
            yield from child.walk()

    def __repr__(self) -> str:
        return (
            f"<WatchedTask {self.id} {self.task.get('method')} {self.task.state_name}>"
        )


#: A transition seen: the task, and its state before (``None``: new).
Change = tuple[WatchedTask, int | None]


class TaskWatcher(Watcher):
    """Polls tasks and their descendants; see :func:`watch_tasks` (and
    :class:`~txkoji.watch.base.Watcher` for the options).

    :ivar roots: the :class:`WatchedTask` trees of the tasks given, in the
        order given (filled by the first successful poll).
    """

    what = "tasks"

    def __init__(
        self,
        connection: Any,
        task_ids: Iterable[int],
        *,
        interval: float | None = None,
        on_event: Callable[[TaskStateChange], Any] | None = None,
        on_cycle: Callable[[TaskWatcher], Any] | None = None,
        batch: int = DEFAULT_BATCH,
        clock: Any = None,
    ) -> None:
        super().__init__(
            connection,
            interval=interval,
            on_event=on_event,
            on_cycle=on_cycle,
            batch=batch,
            clock=clock,
        )
        self.roots: list[WatchedTask] = []
        self._nodes: dict[int, WatchedTask] = {}
        self._unseen = _task_ids(task_ids)

    def walk(self) -> Iterator[WatchedTask]:
        """Yield every watched task, each tree depth first."""
        for root in self.roots:
            yield from root.walk()

    def get(self, task_id: int) -> WatchedTask | None:
        """Return the watched task ``task_id``, or ``None``."""
        return self._nodes.get(task_id)

    @property
    def done(self) -> bool:
        """Whether every task and descendant has finished and no child can
        appear any more."""
        return not self._unseen and all(
            node.finished and node.children_listed for node in self._nodes.values()
        )

    def result(self) -> list[WatchedTask]:
        """The trees watched: :attr:`roots`."""
        return self.roots

    async def _poll(self) -> None:
        units: list[int] = list(self._unseen)
        units += [n.id for n in self.walk() if not (n.finished and n.children_listed)]
        lookups = self.durations.calls()
        chunks = [units[i : i + self.batch] for i in range(0, len(units), self.batch)]
        if not chunks and lookups:
            chunks = [[]]
        plans = [
            _Request(self, chunk, lookups if index == 0 else [])
            for index, chunk in enumerate(chunks)
        ]
        self.requests += len(plans)
        results: list[tuple[bool, Any]] = await defer.DeferredList(
            [plan.send() for plan in plans],
            consumeErrors=True,
        )
        changes: list[Change] = []
        error: BaseException | None = None
        for plan, (ok, value) in zip(plans, results, strict=True):
            if not ok:
                error = error or value.value
                continue
            problem = plan.apply(value, changes)
            error = error or problem
        self._end_cycle(changes, error)

    def _observe(
        self, record: Task, parent: WatchedTask | None, changes: list[Change]
    ) -> WatchedTask:
        """Take a fresh record of a task: adopt it when new, note its
        transition."""
        node = self._nodes.get(record["id"])
        if node is None:
            node = WatchedTask(record, parent)
            self._nodes[node.id] = node
            (parent.children if parent else self.roots).append(node)
            changes.append((node, None))
            return node
        old = node.task["state"]
        if "request" not in record and "request" in node.task:
            record["request"] = node.task["request"]
        node.task = record
        if record["state"] != old:
            changes.append((node, old))
        return node

    def _report(self, changes: list[Change]) -> None:
        now = self.now()
        for node in self.walk():
            node.estimate = self._estimate(node, now)
        if self.on_event is None:
            return
        for node, old in changes:
            self.on_event(
                TaskStateChange.from_record(node.task, old, node.task["state"])
            )

    def _estimate(self, node: WatchedTask, now: datetime) -> Estimate:
        """Estimate a task: finished tasks by their real end; a build task
        and its descendants by the package's build duration; others by
        their method's recent tasks.  A task not started yet has
        progress 0: none of its time has passed."""
        task = node.task
        if node.finished:
            return estimate(None, None, task.completed or now, now)
        builder = _build_ancestor(node)
        if builder is not None and builder is not node:
            eta = builder.estimate.eta
            if task.started is None and eta is not None:
                return Estimate(eta, 0.0)  # waiting: none of its time passed
            return builder.estimate
        if builder is node:
            package = _package(task)
            if package is None:
                return UNKNOWN
            key = self.durations.want_build(package)
            began = task.started
        else:
            key = self.durations.want_task(task["method"])
            began = task.started
        return estimate(began, self.durations.get(key), None, now)


def _build_ancestor(node: WatchedTask) -> WatchedTask | None:
    current: WatchedTask | None = node
    while current is not None:
        if current.task.get("method") == BUILD_METHOD:
            return current
        current = current.parent
    return None


def _package(task: Task) -> str | None:
    try:
        return task.package
    except ValueError:
        return None


def _as_info(row: Task) -> Task:
    """A ``listTasks`` row made like a ``getTaskInfo(request=True)``
    record: the request decoded, no raw ``result``."""
    row.pop("result", None)
    try:
        row["request"] = parse_request(row.get("request"))
    except TaskParamsError:
        pass  # kept raw: Task's properties read it or say it is unreadable
    return row


class _Request:
    """One multicall request of a poll cycle: what it asks, and applying
    its answers to the watcher."""

    def __init__(
        self,
        watcher: TaskWatcher,
        ids: Sequence[int],
        lookups: Sequence[tuple[Any, HubCall]],
    ) -> None:
        self.watcher = watcher
        self.new = [i for i in ids if watcher.get(i) is None]
        self.open = [i for i in ids if (n := watcher.get(i)) and not n.finished]
        self.parents = list(ids)
        self.lookups = list(lookups)

    def calls(self) -> list[HubCall]:
        """The hub calls, in the order :meth:`apply` reads them."""
        calls: list[HubCall] = []
        if self.new:
            calls.append(("getTaskInfo", (self.new,), {"request": True}))
        if self.open:
            calls.append(("getTaskInfo", (self.open,), {}))
        if self.parents:
            opts = {"parent": self.parents}
            calls.append(("listTasks", (opts,), {}))
        calls.extend(call for _, call in self.lookups)
        return calls

    def send(self) -> defer.Deferred[Any]:
        """Send the request; fire with its answers."""
        return self.watcher.connection.multicall(self.calls())

    def apply(self, answers: list[Any], changes: list[Change]) -> BaseException | None:
        """Apply the answers; return the first failed call's exception
        (its part is then not applied)."""
        watcher = self.watcher
        answers = list(answers)
        lookups = answers[len(answers) - len(self.lookups) :]
        for (key, _), answer in zip(self.lookups, lookups, strict=True):
            watcher.durations.settle(key, answer)
        task_answers = answers[: len(answers) - len(self.lookups)]
        for answer in task_answers:
            if isinstance(answer, Exception):
                return answer
        position = 0
        if self.new:
            records = task_answers[position]
            position += 1
            missing = [i for i, r in zip(self.new, records, strict=True) if r is None]
            if missing:
                raise KojiNotFound("task", missing)
            for record in records:
                watcher._observe(record, None, changes)
            watcher._unseen = [i for i in watcher._unseen if i not in self.new]
        if self.open:
            for record in task_answers[position]:
                if record is not None:
                    watcher._observe(record, watcher.get(record["id"]), changes)
            position += 1
        if self.parents:
            rows = sorted(task_answers[position], key=lambda row: row["id"])
            for row in rows:
                if watcher.get(row["id"]) is None:
                    parent = watcher.get(row["parent"])
                    if parent is not None:
                        watcher._observe(_as_info(row), parent, changes)
            for task_id in self.parents:
                node = watcher.get(task_id)
                if node is not None:
                    node.children_listed = True
        return None


def watch_tasks(
    connection: Any,
    task_ids: Iterable[int],
    *,
    interval: float | None = None,
    on_event: Callable[[TaskStateChange], Any] | None = None,
    batch: int = DEFAULT_BATCH,
    clock: Any = None,
) -> defer.Deferred[Any]:
    """Watch tasks and every descendant until all have finished (CLOSED,
    FAILED or CANCELED).

    Children are adopted as soon as they appear.  Each poll cycle costs at
    most ``ceil(polled / batch)`` requests (multicalls), whatever the
    number of tasks; finished tasks are not asked for again.  Hub errors
    are logged once and the cycle is tried again at the next interval:
    polling never gives up on its own.

    :param connection: a :class:`txkoji.Connection`.
    :param task_ids: the ids of the tasks to watch.
    :param interval: seconds between polls; default: the profile's
        ``poll_interval`` (6).
    :param on_event: called with a
        :class:`~txkoji.messages.TaskStateChange` for every transition
        seen, a task's first sight included (``old`` is then ``None``).
        For each task's ``eta`` and ``progress`` as it runs, use a
        :class:`TaskWatcher` and its :meth:`TaskWatcher.get`.
    :param batch: tasks per request.
    :param clock: the ``IReactorTime`` to wait on (default:
        ``connection.clock``).
    :returns: a Deferred firing with the list of :class:`WatchedTask`
        trees (``.task`` is the final record, ``.children`` the watched
        children), in the order given.  Cancelling it stops polling at
        once.  It fails with :class:`~txkoji.exceptions.KojiNotFound` when
        a task does not exist.
    :raises ValueError: at once, for no ids, an id that is not an integer,
        or a bad ``interval`` or ``batch``.
    """
    watcher = TaskWatcher(
        connection,
        task_ids,
        interval=interval,
        on_event=on_event,
        batch=batch,
        clock=clock,
    )
    return watcher.run()
