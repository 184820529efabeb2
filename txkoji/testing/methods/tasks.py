"""Task methods: getTaskInfo, getTaskChildren, getTaskDescendents,
listTasks and getTaskResult."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from txkoji.codec import encode_call, encode_fault, encode_response
from txkoji.exceptions import GenericError, fault_for
from txkoji.testing.dispatch import CallContext, hub_method
from txkoji.testing.records import TASK_FIELDS, TASK_STATES
from txkoji.testing.state import HubState, apply_query_opts, epoch_seconds

_FINISHED = (TASK_STATES["CLOSED"], TASK_STATES["FAILED"])


def _record(task: dict[str, Any], request: bool) -> dict[str, Any]:
    record = {name: task[name] for name in TASK_FIELDS}
    if request:
        record["request"] = list(task["request"])
    return record


def _task(st: HubState, task_id: Any, strict: bool) -> dict[str, Any] | None:
    task = st.tasks.get(task_id)
    if task is None and strict:
        raise GenericError(f"No such task: {task_id!r}")
    return task


def _children(st: HubState, task_id: int, request: bool) -> list[dict[str, Any]]:
    return [
        _record(t, request)
        for t in sorted(st.tasks.values(), key=lambda t: t["id"])
        if t["parent"] == task_id
    ]


@hub_method()
def getTaskInfo(
    ctx: CallContext, task_id: Any, request: bool = False, strict: bool = False
) -> Any:
    """Return the task record (with ``request``, its parameter list, when
    asked), nil when unknown; a list of ids gets a list of records.

    :raises GenericError: ``No such task`` when strict and not found.
    """
    if isinstance(task_id, list):
        return [getTaskInfo(ctx, one, request, strict) for one in task_id]
    task = _task(ctx.state, task_id, strict)
    return None if task is None else _record(task, request)


@hub_method()
def getTaskChildren(
    ctx: CallContext, task_id: int, request: bool = False, strict: bool = False
) -> list[dict[str, Any]]:
    """Return the records of the task's direct children, by id.

    :raises GenericError: ``No such task`` when strict and not found.
    """
    _task(ctx.state, task_id, strict)
    return _children(ctx.state, task_id, request)


@hub_method()
def getTaskDescendents(
    ctx: CallContext, task_id: int, request: bool = False
) -> dict[str, list[dict[str, Any]]]:
    """Return ``{str(id): [child records]}`` for the task and every
    descendant (leaves map to an empty list)."""
    tree: dict[str, list[dict[str, Any]]] = {}
    pending = [task_id]
    while pending:
        current = pending.pop(0)
        children = _children(ctx.state, current, request)
        tree[str(current)] = children
        pending.extend(child["id"] for child in children)
    return tree


def _raw_result(task: dict[str, Any]) -> str | None:
    if task["state"] not in _FINISHED:
        return None
    if task["state"] == TASK_STATES["FAILED"]:
        fault = task["result"]
        return encode_fault(fault["faultCode"], fault["faultString"]).decode()
    return encode_response(task["result"]).decode()


def _in(value: Any, wanted: Any) -> bool:
    return value in wanted if isinstance(wanted, list) else value == wanted


_MATCHED_FIELDS = ("arch", "state", "owner", "host_id", "channel_id", "parent")
# opts key -> (task time field, True for "before"), as the hub compares them.
_TIME_OPTS = {
    "createdBefore": ("create_ts", True),
    "createdAfter": ("create_ts", False),
    "startedBefore": ("start_ts", True),
    "startedAfter": ("start_ts", False),
    "completeBefore": ("completion_ts", True),
    "completeAfter": ("completion_ts", False),
    "before": ("completion_ts", True),
    "after": ("completion_ts", False),
}


Test = Callable[[dict[str, Any]], bool]


def _matches(name: str, wanted: Any) -> Test:
    return lambda task: _in(task[name], wanted)


def _excludes(name: str, unwanted: Any) -> Test:
    # SQL: a nil field is neither IN nor NOT IN a list.
    return lambda task: (
        task[name] is not None
        and unwanted is not None
        and not _in(task[name], unwanted)
    )


def _compares(field: str, limit: float, before: bool) -> Test:
    return lambda task: (
        task[field] is not None
        and (task[field] < limit if before else task[field] > limit)
    )


def _task_filter(opts: dict[str, Any]) -> Test:
    """Return the test a task must pass for listTasks ``opts``; as in SQL,
    a nil field matches no comparison (only ``field: nil``, IS NULL)."""
    tests: list[Test] = []
    for name in _MATCHED_FIELDS:
        if name in opts:
            tests.append(_matches(name, opts[name]))
        if f"not_{name}" in opts:
            tests.append(_excludes(name, opts[f"not_{name}"]))
    if opts.get("method") is not None:
        tests.append(_matches("method", opts["method"]))
    for key, (field, before) in _TIME_OPTS.items():
        if opts.get(key) is not None:
            tests.append(_compares(field, epoch_seconds(opts[key], key), before))
    return lambda task: all(test(task) for test in tests)


@hub_method()
def listTasks(ctx: CallContext, opts: Any = None, queryOpts: Any = None) -> Any:
    """Return task records filtered by ``opts``, as a hub does:

    * ``arch``, ``state``, ``owner``, ``host_id``, ``channel_id``,
      ``parent`` (a list or one value; ``parent: nil`` for top-level
      tasks) and their ``not_`` forms; ``method``;
    * ``createdBefore``/``createdAfter``, ``startedBefore``/``startedAfter``,
      ``completeBefore``/``completeAfter`` (and ``before``/``after``, on
      the completion time): epoch seconds or an ISO string, compared
      strictly; tasks without that time never match.

    Records carry ``owner_name``, ``owner_type``, ``request`` and
    ``result``.  Without ``opts["decode"]`` the last two are the XML-RPC
    documents the hub stores; with it, the parameter list and ``[result]``
    (or a fault struct).  Ordered by id unless ``queryOpts`` says otherwise.

    :raises ParameterError: for a time that is no time.
    """
    opts = dict(opts or {})
    decode = bool(opts.pop("decode", False))
    st = ctx.state
    wanted = _task_filter(opts)
    rows = []
    for task in sorted(st.tasks.values(), key=lambda t: t["id"]):
        if not wanted(task):
            continue
        row = _record(task, request=False)
        owner = st.users[task["owner"]]
        row.update(owner_name=owner["name"], owner_type=owner["usertype"])
        if decode:
            row["request"] = list(task["request"])
            row["result"] = _decoded_result(task)
        else:
            row["request"] = encode_call(task["method"], task["request"]).decode()
            row["result"] = _raw_result(task)
        rows.append(row)
    return apply_query_opts(rows, queryOpts)


def _decoded_result(task: dict[str, Any]) -> Any:
    if task["state"] not in _FINISHED:
        return None
    if task["state"] == TASK_STATES["FAILED"]:
        return dict(task["result"])
    return [task["result"]]


@hub_method()
def getTaskResult(ctx: CallContext, taskId: int, raise_fault: bool = True) -> Any:
    """Return a finished task's result.  A FAILED task's fault is raised
    (or, with ``raise_fault=False``, returned as ``{faultCode,
    faultString}``).

    :raises GenericError: for an unknown, canceled or unfinished task.
    """
    task = _task(ctx.state, taskId, strict=True)
    assert task is not None  # strict: _task raised for a missing task
    if task["state"] == TASK_STATES["CANCELED"]:
        raise GenericError(f"Task {taskId} is canceled")
    if task["state"] not in _FINISHED:
        raise GenericError(f"Task {taskId} is not finished")
    if task["state"] == TASK_STATES["FAILED"]:
        fault = task["result"]
        if raise_fault:
            raise fault_for(fault["faultCode"], fault["faultString"])
        return dict(fault)
    return task["result"]
