"""Answers that are well-formed XML-RPC of the wrong shape, served by the
fake hub for every typed method: each must fail the call with
KojiProtocolError naming the method, never TypeError, AttributeError,
KeyError or OverflowError."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta

import pytest
import pytest_twisted

from txkoji import Connection
from txkoji.exceptions import KojiProtocolError
from txkoji.results import RESULT_TYPES, KojiRecord, register, result_type
from txkoji.task import Task

BIG_INT = (
    b"<?xml version='1.0'?>\n<methodResponse><params><param><value>"
    b"<int>" + str(10**30).encode() + b"</int>"
    b"</value></param></params></methodResponse>\n"
)


def raw(body: bytes) -> dict:
    return {"raw_answer": body}


def value(answer) -> dict:
    return {"answer": answer}


#: Answers of the wrong shape, by the shape the method answers with.
WRONG = {
    "one": [
        value(5),
        value("x"),
        value(True),
        value(1.5),
        value([1, 2]),
        value([{"id": 1}]),
        value(b"bytes"),
        value(datetime(2026, 1, 1)),
        value({"id": "x"}),
        value({"id": 1.5}),
    ],
    "list": [
        value(5),
        value("x"),
        value(None),
        value({"id": 1}),
        value([1, 2]),
        value(["a"]),
        value([None]),
        value([{"id": 1}, 3]),
        value([[1, 2]]),
        value([{"id": 1}, {"id": [2]}]),
    ],
    "descendents": [
        value({"1": 5}),
        value({"1": ["a"]}),
        value({"1": [{"id": "x"}, {"id": 2}]}),
        value({"1": [{"name": "no id"}]}),
        value({"1": [{"id": True}]}),
        value(5),
        value(None),
        value([{"id": 1}]),
    ],
    "timedelta": [
        value("x"),
        value(1e300),
        raw(BIG_INT),
        value(True),
        value([1]),
        value({"seconds": 1}),
    ],
}

#: Answers of the right shape, which must pass.
RIGHT = {
    "one": [None, {"id": 1}],
    "list": [[], [{"id": 1}, {"id": 2}]],
    "descendents": [{"1": [{"id": 3}, {"id": 2}], "3": [], "2": []}],
    "timedelta": [None, 90, 90.5],
}


@pytest_twisted.async_yield_fixture()
async def koji(hub_server):
    connection = Connection(server=hub_server.url)
    yield connection
    await connection.close()


def test_every_typed_method_has_wrong_shapes_to_try():
    assert {shape for _, shape in RESULT_TYPES.values()} <= set(WRONG)


@pytest.mark.parametrize("method", sorted(RESULT_TYPES))
@pytest_twisted.ensureDeferred
async def test_wrong_shaped_answer_is_protocol_error_naming_the_method(
    koji, hub_server, method
):
    shape = RESULT_TYPES[method][1]
    for fault in WRONG[shape]:
        hub_server.hub.faults.add(method, **fault)
        with pytest.raises(KojiProtocolError) as caught:
            await koji.call(method, 1)
        assert caught.value.method == method, fault
        assert method in str(caught.value), fault


@pytest.mark.parametrize("method", sorted(RESULT_TYPES))
@pytest_twisted.ensureDeferred
async def test_right_shaped_answer_is_typed(koji, hub_server, method):
    where, shape = RESULT_TYPES[method]
    cls = result_type(method).record_class
    for answer in RIGHT[shape]:
        hub_server.hub.faults.add(method, answer=answer)
        result = await koji.call(method, 1)
        if shape == "one" and answer is not None:
            assert type(result) is cls and result.connection is koji
        elif shape == "list" or shape == "descendents":
            assert all(type(item) is cls for item in result)
            assert all(item.connection is koji for item in result)
        elif shape == "timedelta" and answer is not None:
            assert result == timedelta(seconds=answer)
        else:
            assert result is None


@pytest_twisted.ensureDeferred
async def test_descendents_are_flattened_in_task_id_order(koji, hub_server):
    hub_server.hub.faults.add(
        "getTaskDescendents", answer={"1": [{"id": 3}, {"id": 2}], "2": [], "3": []}
    )
    assert [task.id for task in await koji.getTaskDescendents(1)] == [2, 3]


@pytest.mark.parametrize(
    "method, query_opts",
    [("listBuilds", {"countOnly": True}), ("listTasks", {"countOnly": True})],
)
@pytest_twisted.ensureDeferred
async def test_count_only_answers_a_count_and_nothing_else(
    koji, hub_server, method, query_opts
):
    assert isinstance(await koji.call(method, queryOpts=query_opts), int)
    hub_server.hub.faults.add(method, answer=[{"id": 1}])
    with pytest.raises(KojiProtocolError, match=method):
        await koji.call(method, queryOpts=query_opts)


@pytest_twisted.ensureDeferred
async def test_as_list_answers_rows(koji, hub_server):
    # listTasks takes queryOpts as its second positional parameter too.
    rows = await koji.listTasks({}, {"asList": True, "limit": 2})
    assert len(rows) == 2 and all(isinstance(row, list) for row in rows)
    hub_server.hub.faults.add("listTasks", answer=[{"id": 1}])
    with pytest.raises(KojiProtocolError, match="listTasks"):
        await koji.listTasks({}, {"asList": True})


@pytest_twisted.ensureDeferred
async def test_task_info_of_several_ids_is_a_list_of_tasks_or_none(koji, hub_server):
    hub_server.hub.faults.add("getTaskInfo", answer=[{"id": 1}, None])
    first, missing = await koji.call("getTaskInfo", [1, 99])
    assert type(first) is Task and first.connection is koji and missing is None
    hub_server.hub.faults.add("getTaskInfo", answer=[{"id": 1}, 5])
    with pytest.raises(KojiProtocolError, match="getTaskInfo"):
        await koji.call("getTaskInfo", [1, 2])


def test_without_params_every_shape_the_params_could_select_is_accepted():
    # The multicall path types entries without their params.
    rtype = result_type("listBuilds")
    assert rtype.finish(3, None) == 3
    assert rtype.finish([[1, "bash"]], None) == [[1, "bash"]]
    with pytest.raises(KojiProtocolError, match="listBuilds"):
        rtype.finish([1, 2], None)
    tasks = result_type("getTaskInfo").convert([{"id": 1}, None], "conn")
    assert type(tasks[0]) is Task and tasks[1] is None
    with pytest.raises(KojiProtocolError, match="getTaskInfo"):
        result_type("getTaskInfo").convert([5], "conn")


def test_convert_builds_records_and_checks_the_shape():
    rtype = result_type("getTaskDescendents")
    tasks = rtype.convert({"1": [{"id": 2}]}, "conn")
    assert type(tasks[0]) is Task and tasks[0].connection == "conn"
    with pytest.raises(KojiProtocolError, match="getTaskDescendents"):
        rtype.convert({"1": 5}, "conn")


def test_untyped_methods_pass_any_answer():
    for answer in (None, 5, "x", [1], {"a": 1}):
        assert result_type("getAPIVersion").finish(answer, None) == answer


def test_result_types_resolve_on_first_use_without_side_effect_imports():
    script = (
        "import sys, txkoji\n"
        "from txkoji.results import result_type\n"
        "assert 'txkoji.build' not in sys.modules\n"
        "print(result_type('getBuild').record_class.__qualname__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout == "Build\n"


def test_register_is_the_hook_for_new_typed_methods():
    class Widget(KojiRecord):
        pass

    # A method name no hub has, so registering it changes nothing else.
    register("txkojiTestWidget", Widget, "one")
    widget = result_type("txkojiTestWidget", [1]).finish({"id": 1}, "conn")
    assert type(widget) is Widget and widget.connection == "conn"
    with pytest.raises(KojiProtocolError, match="txkojiTestWidget"):
        result_type("txkojiTestWidget").finish(5, "conn")
    with pytest.raises(ValueError, match="unknown result shape"):
        register("txkojiTestWidget", Widget, "blob")


def test_registering_again_retypes_calls_already_typed():
    class Gadget(KojiRecord):
        pass

    class Gizmo(KojiRecord):
        pass

    register("txkojiTestGadgets", Gadget, "list")
    before = result_type("txkojiTestGadgets", [{"queryOpts": {}}])
    assert before.record_class is Gadget
    # Typing the same call twice gives the same type.
    assert result_type("txkojiTestGadgets", [{"queryOpts": {}}]) is before
    register("txkojiTestGadgets", Gizmo, "list")
    gizmos = result_type("txkojiTestGadgets", [{"queryOpts": {}}])
    assert gizmos.record_class is Gizmo
    assert type(gizmos.finish([{"id": 1}], None)[0]) is Gizmo
    count = result_type("txkojiTestGadgets", [{"queryOpts": {"countOnly": True}}])
    assert (count.record_class, count.check) == (None, "count")


@pytest.mark.parametrize(
    "method, record",
    [
        ("getBuild", {"id": 1, "build_id": "1"}),
        ("listBuilds", [{"build_id": True}]),
        ("getPackage", {"package_id": {}}),
        ("listPackages", [{"package_id": float("nan")}]),
    ],
)
def test_record_ids_the_web_links_use_must_be_integers(method, record):
    with pytest.raises(KojiProtocolError, match="integer"):
        result_type(method).convert(record, None)
