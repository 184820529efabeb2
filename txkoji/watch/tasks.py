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
from txkoji.entry_digests import UNCHANGED
from txkoji.estimates import HubCall
from txkoji.exceptions import KojiNotFound
from txkoji.messages import TaskStateChange
from txkoji.task import Task
from txkoji.task_params import TaskParamsError, parse_request
from txkoji.watch.base import DEFAULT_BATCH, Estimated, Watcher
from txkoji.watch.feed import hub_time_text
from txkoji.watch.polling import TRANSIENT_ERRORS
from txkoji.watch.progress import UNKNOWN, Estimate, estimate
from txkoji.watch.task_delta import LOOK_BACK, ChildDelta, as_record

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
    :param watcher: the :class:`TaskWatcher` whose latest cycle
        :attr:`estimate` is made at (``None``: set it yourself).
    """

    __slots__ = (
        "task",
        "parent",
        "children",
        "children_listed",
        "_watcher",
        "_estimate",
        "_estimated_at",
    )

    def __init__(
        self,
        task: Task,
        parent: WatchedTask | None,
        watcher: TaskWatcher | None = None,
    ) -> None:
        self.task = task
        self.parent = parent
        self.children: list[WatchedTask] = []
        #: Whether the children were listed after the task's latest state.
        self.children_listed = False
        self._watcher = watcher
        self._estimate: Estimate = UNKNOWN
        self._estimated_at = -1

    @property
    def estimate(self) -> Estimate:
        """The :class:`~txkoji.watch.progress.Estimate` as of the watcher's
        latest cycle (made when first asked for after each cycle, so that a
        cycle costs nothing for the tasks nobody looks at)."""
        watcher = self._watcher
        if watcher is not None and watcher.cycles != self._estimated_at:
            self._estimated_at = watcher.cycles
            if watcher.reported_at is not None:
                self._estimate = watcher._estimate(self, watcher.reported_at)
        return self._estimate

    @estimate.setter
    def estimate(self, value: Estimate) -> None:
        self._estimate = value
        if self._watcher is not None:
            self._estimated_at = self._watcher.cycles

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


#: The time stamps of a task record.
_TIME_FIELDS = ("create_ts", "start_ts", "completion_ts")

#: A transition seen: the task, and its state before (``None``: new).
Change = tuple[WatchedTask, int | None]


class TaskWatcher(Watcher):
    """Polls tasks and their descendants; see :func:`watch_tasks` (and
    :class:`~txkoji.watch.base.Watcher` for the options).

    :ivar roots: the :class:`WatchedTask` trees of the tasks given, in the
        order given (filled by the first successful poll).
    """

    what = "tasks"

    #: The fewest tasks a request polls for the children of the tasks
    #: listed before to be asked for their changes only (see
    #: :class:`~txkoji.watch.task_delta.ChildDelta`); a smaller request
    #: fetches every record, which costs less than those queries.
    delta_from = 32

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
        # When the latest cycle that went through began (clock seconds).
        self._last_start: float | None = None
        # The latest hub time stamp seen on a task, and whether the client's
        # clock may bound the time filters (not once they missed a change).
        self.hub_latest: float | None = None
        #: When the latest cycle's estimates are made (set after each cycle).
        self.reported_at: datetime | None = None
        self._clock_trusted = True
        # Watched roots by their parent's id (a root may be another's child).
        self._roots_under: dict[int, list[WatchedTask]] = {}
        # The digest of the previous cycle's answer to each getTaskInfo of
        # open tasks, by the ids asked (see _Request.send).
        self._digests: dict[tuple[int, ...], bytes] = {}

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
        """The trees watched: ``roots``."""
        return self.roots

    def _since(self) -> str | None:
        """Where the time filters of this cycle start: a little before the
        previous cycle by the client's clock, or before the latest hub time
        seen, whichever is later; ``None`` before a cycle went through."""
        if self._last_start is None:
            return None
        bounds = [] if self.hub_latest is None else [self.hub_latest]
        if self._clock_trusted:
            bounds.append(self._last_start)
        if not bounds:
            return None
        return hub_time_text(max(bounds) - LOOK_BACK)

    def _saw(self, records: Iterable[Any]) -> None:
        """Note the hub times on ``records``."""
        latest = self.hub_latest
        for record in records:
            for field in _TIME_FIELDS:
                stamp = record.get(field)
                if stamp is not None and (latest is None or stamp > latest):
                    latest = stamp
        self.hub_latest = latest

    def _by_parent(self, task_id: int) -> list[WatchedTask]:
        """The watched tasks whose parent is ``task_id``."""
        node = self._nodes[task_id]
        return [*node.children, *self._roots_under.get(task_id, ())]

    async def _poll(self) -> None:
        began = self.clock.seconds()
        since = self._since()
        self._roots_under = {}
        for root in self.roots:
            parent_id = root.task.get("parent")
            if parent_id is not None:
                self._roots_under.setdefault(parent_id, []).append(root)
        units: list[int] = list(self._unseen)
        units += [n.id for n in self.walk() if not (n.finished and n.children_listed)]
        lookups = self.durations.calls()
        chunks = [units[i : i + self.batch] for i in range(0, len(units), self.batch)]
        if not chunks and lookups:
            chunks = [[]]
        plans = [
            _Request(self, chunk, lookups if index == 0 else [], since)
            for index, chunk in enumerate(chunks)
        ]
        self.requests += len(plans)
        results: list[tuple[bool, Any]] = await defer.DeferredList(
            [plan.send() for plan in plans],
            consumeErrors=True,
        )
        answers: list[Any] = [value if ok else None for ok, value in results]
        await self._list_unproven(plans, answers)
        changes: list[Change] = []
        error: BaseException | None = None
        digests: dict[tuple[int, ...], bytes] = {}
        for plan, (ok, value), listing in zip(plans, results, answers, strict=True):
            if not ok:
                error = error or value.value
                continue
            problem = plan.apply(value, changes, listing)
            error = error or problem
            if problem is None and plan.digest is not None:
                digests[tuple(plan.fetch)] = plan.digest
        self._digests = digests
        if error is None:
            self._last_start = began
        self._end_cycle(changes, error)

    async def _list_unproven(self, plans: list[_Request], answers: list[Any]) -> None:
        """Replace each answer in ``answers`` by the complete listing of its
        request's children when the change queries could not prove they
        saw every change (one more request for all of them), else by
        ``None``."""
        unproven = [
            index
            for index, (plan, value) in enumerate(zip(plans, answers, strict=True))
            if value is not None and plan.check(value)
        ]
        for index in range(len(answers)):
            answers[index] = None
        if not unproven:
            return
        self._clock_trusted = False
        self.requests += 1
        listings: list[Any]
        try:
            listings = await self.connection.multicall(
                [plans[index].fallback() for index in unproven]
            )
        except TRANSIENT_ERRORS as error:  # their requests fail with it, alone
            listings = [error] * len(unproven)
        for index, listing in zip(unproven, listings, strict=True):
            answers[index] = listing

    def _observe(
        self, record: Task, parent: WatchedTask | None, changes: list[Change]
    ) -> WatchedTask:
        """Take a fresh record of a task: adopt it when new, note its
        transition."""
        node = self._nodes.get(record["id"])
        if node is None:
            node = WatchedTask(record, parent, self)
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
        self.reported_at = self.now()
        for node, old in changes:
            if old is None:
                node.estimate  # noqa: B018 (asks for the history it needs)
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
    its answers to the watcher.

    A request of at least :attr:`TaskWatcher.delta_from` tasks asks for the
    children of the tasks already listed only what can tell a change
    (:class:`~txkoji.watch.task_delta.ChildDelta`); a smaller one, whose
    records cost less than those queries, fetches them all.
    """

    def __init__(
        self,
        watcher: TaskWatcher,
        ids: Sequence[int],
        lookups: Sequence[tuple[Any, HubCall]],
        since: str | None,
    ) -> None:
        self.watcher = watcher
        self.new = [i for i in ids if watcher.get(i) is None]
        self.open = [i for i in ids if (n := watcher.get(i)) and not n.finished]
        self.parents = list(ids)
        self.lookups = list(lookups)
        self.delta: ChildDelta | None = None
        self.fresh = self.parents
        self.fetch = self.open
        self._listed: set[int] = set()
        self._unproven = False
        #: The digest of the answer to ``getTaskInfo(fetch)`` once applied.
        self.digest: bytes | None = None
        self._rows: dict[int, dict[str, Any]] = {}
        if since is not None and len(ids) >= watcher.delta_from:
            self._plan_delta(since)

    def _plan_delta(self, since: str) -> None:
        watcher = self.watcher
        listed = [
            i for i in self.parents if (n := watcher.get(i)) and n.children_listed
        ]
        if not listed:
            return
        children: list[WatchedTask] = []
        for task_id in listed:
            children.extend(watcher._by_parent(task_id))
        self.delta = ChildDelta(listed, children, since)
        listed_set = set(listed)
        self.fresh = [i for i in self.parents if i not in listed_set]
        self.fetch = [
            i
            for i in self.open
            if (parent := watcher._nodes[i].parent) is None
            or parent.id not in listed_set
        ]
        self._listed = listed_set

    def calls(self) -> list[HubCall]:
        """The hub calls, in the order :meth:`apply` reads them."""
        calls: list[HubCall] = []
        if self.new:
            calls.append(("getTaskInfo", (self.new,), {"request": True}))
        if self.fetch:
            calls.append(("getTaskInfo", (self.fetch,), {}))
        if self.fresh:
            opts = {"parent": self.fresh}
            calls.append(("listTasks", (opts,), {}))
        if self.delta is not None:
            calls.extend(self.delta.calls())
        calls.extend(call for _, call in self.lookups)
        return calls

    def send(self) -> defer.Deferred[Any]:
        """Send the request; fire with its answers.  The records of the
        open tasks (``getTaskInfo(fetch)``) come as
        :data:`~txkoji.entry_digests.UNCHANGED` when their bytes are the
        previous cycle's (then their records are the watched tasks'
        ones: nothing changed)."""
        connection = self.watcher.connection
        calls = self.calls()
        multicall_digests = getattr(connection, "multicall_digests", None)
        if not self.fetch or multicall_digests is None:
            return connection.multicall(calls)
        at = 1 if self.new else 0
        known: list[bytes | None] = [None] * len(calls)
        known[at] = self.watcher._digests.get(tuple(self.fetch))

        def keep(answer: tuple[list[Any], list[bytes | None]]) -> list[Any]:
            outcomes, digests = answer
            if not isinstance(outcomes[at], Exception):
                self.digest = digests[at]
            return outcomes

        d: defer.Deferred[Any] = multicall_digests(calls, known)
        return d.addCallback(keep)

    def _fetched(self, parts: dict[str, Any]) -> dict[int, Any]:
        """The records of the open tasks fetched, by id (the watched
        tasks' own when the answer is unchanged)."""
        records = parts.get("fetch", [[]])[0]
        if records is UNCHANGED:
            return {i: self.watcher._nodes[i].task for i in self.fetch}
        return {r["id"]: r for r in records if r is not None}

    def _split(self, answers: list[Any]) -> dict[str, Any]:
        """The answers to :meth:`calls` by what they are."""
        parts: dict[str, Any] = {}
        position = 0
        for name, wanted, size in (
            ("new", self.new, 1),
            ("fetch", self.fetch, 1),
            ("fresh", self.fresh, 1),
            ("delta", self.delta, ChildDelta.CALLS),
        ):
            if wanted:
                parts[name] = answers[position : position + size]
                position += size
        return parts

    def check(self, answers: list[Any]) -> bool:
        """Whether the change queries failed to prove they saw every change
        (then :meth:`fallback` is to be sent); remembers the rows they
        proved complete."""
        self._rows = {}
        if self.delta is None or any(isinstance(a, Exception) for a in answers):
            return False
        parts = self._split(list(answers))
        rows = self.delta.rows(parts["delta"], self._fetched(parts))
        self._unproven = rows is None
        self._rows = rows or {}
        return self._unproven

    def fallback(self) -> HubCall:
        """The call listing every child of the tasks listed before."""
        assert self.delta is not None
        return self.delta.fallback()

    def apply(
        self, answers: list[Any], changes: list[Change], listing: Any = None
    ) -> BaseException | None:
        """Apply the answers (and ``listing``, the answer to
        :meth:`fallback` when it was sent); return the first failed call's
        exception (its part is then not applied)."""
        watcher = self.watcher
        answers = list(answers)
        lookups = answers[len(answers) - len(self.lookups) :]
        for (key, _), answer in zip(self.lookups, lookups, strict=True):
            watcher.durations.settle(key, answer)
        task_answers = answers[: len(answers) - len(self.lookups)]
        for answer in [*task_answers, listing]:
            if isinstance(answer, Exception):
                return answer
        parts = self._split(task_answers)
        if self.new:
            records = parts["new"][0]
            missing = [i for i, r in zip(self.new, records, strict=True) if r is None]
            if missing:
                raise KojiNotFound("task", missing)
            for record in records:
                watcher._observe(record, None, changes)
            watcher._saw(records)
            watcher._unseen = [i for i in watcher._unseen if i not in self.new]
        # Records of the open tasks: fetched, or the rows of children seen
        # to change; the others did not.
        seen: dict[int, Any] = {}
        if self.delta is not None:
            seen = {r["id"]: r for r in listing} if self._unproven else self._rows
        fetched: dict[int, Any] = {}
        if parts.get("fetch", [None])[0] is not UNCHANGED:
            fetched = self._fetched(parts)
        for task_id in self.open:
            record = fetched.get(task_id)
            if record is None and task_id in seen:
                parent = watcher._nodes[task_id].parent
                if parent is not None and parent.id in self._listed:
                    record = as_record(seen[task_id])
            if record is not None:
                count = len(changes)
                watcher._observe(record, watcher.get(record["id"]), changes)
                if len(changes) > count:
                    watcher._saw([record])
        rows = list(parts.get("fresh", [[]])[0]) + list(seen.values())
        watcher._saw(rows)
        for row in sorted(rows, key=lambda row: row["id"]):
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
