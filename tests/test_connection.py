"""Connection over real loopback HTTP against the fake hub: calls, keyword
arguments, typed results, the attribute proxy, and closing."""

from __future__ import annotations

import copy
import json
import pickle
from datetime import timedelta
from unittest import mock

import pytest
import pytest_twisted
from munch import Munch
from twisted.internet import defer

from tests.loopback import until
from txkoji import Connection
from txkoji.build import Build
from txkoji.channel import Channel
from txkoji.exceptions import (
    GenericError,
    KojiConfigError,
    KojiConnectionError,
    KojiFault,
    KojiHTTPError,
    ParameterError,
)
from txkoji.package import Package
from txkoji.task import Task


@pytest_twisted.ensureDeferred
async def test_any_hub_method_is_an_attribute_call(koji):
    assert await koji.getAPIVersion() == 1
    version = await koji.getKojiVersion()
    assert version.count(".") == 2


@pytest_twisted.ensureDeferred
async def test_call_by_name_equals_attribute_call(koji):
    by_name = await koji.call("getUser", "alice")
    by_attribute = await koji.getUser("alice")
    assert by_name == by_attribute
    assert by_name.name == "alice"


@pytest_twisted.ensureDeferred
async def test_keyword_arguments_reach_the_hub_as_keywords(koji, hub_server):
    builds = await koji.listBuilds(packageID=1, state=1, queryOpts={"limit": 1})
    assert len(builds) == 1
    assert builds[0].package_name == "bash" and builds[0].state == 1


@pytest_twisted.ensureDeferred
async def test_unknown_keyword_is_a_parameter_error_naming_the_method(koji):
    with pytest.raises(ParameterError) as caught:
        await koji.getBuild(1001, bogus=True)
    assert caught.value.faultCode == 1019
    assert caught.value.method == "getBuild"


@pytest_twisted.ensureDeferred
async def test_unknown_method_is_a_generic_error(koji):
    with pytest.raises(GenericError) as caught:
        await koji.noSuchMethod()
    assert "Invalid method: noSuchMethod" in caught.value.faultString
    assert type(caught.value) is GenericError


@pytest_twisted.ensureDeferred
async def test_results_are_typed_by_method(koji):
    build = await koji.getBuild(1001)
    builds = await koji.listBuilds(1)
    tagged = await koji.listTagged("f40")
    task = await koji.getTaskInfo(50010)
    tasks = await koji.listTasks({"parent": 50010})
    descendents = await koji.getTaskDescendents(50010)
    package = await koji.getPackage("bash")
    channel = await koji.getChannel(1)
    channels = await koji.listChannels()
    duration = await koji.getAverageBuildDuration("bash")
    assert type(build) is Build
    assert builds and all(type(b) is Build for b in builds)
    assert tagged and all(type(b) is Build for b in tagged)
    assert type(task) is Task
    assert tasks and all(type(t) is Task for t in tasks)
    assert descendents and all(type(t) is Task for t in descendents)
    assert type(package) is Package
    assert type(channel) is Channel
    assert channels and all(type(c) is Channel for c in channels)
    assert isinstance(duration, timedelta) and duration > timedelta(0)
    for record in [build, task, package, channel, *builds, *descendents]:
        assert record.connection is koji


@pytest_twisted.ensureDeferred
async def test_nested_structs_are_munches_and_none_stays_none(koji):
    container = await koji.getBuild(1030)
    assert isinstance(container.extra, Munch)
    assert container.extra.container_koji_task_id == 50080
    assert container.extra.image.layer_sizes[0].size > 2**31  # came as <i8>
    assert await koji.getBuild(999999) is None
    assert await koji.getAverageBuildDuration("legacy-tool") is None


@pytest_twisted.ensureDeferred
async def test_task_info_is_fetched_with_its_request(koji):
    task = await koji.getTaskInfo(50010)
    assert task.request[1] == "f40-candidate"
    bare = await koji.getTaskInfo(50010, request=False)
    assert "request" not in bare


@pytest_twisted.ensureDeferred
async def test_descendents_are_flattened_and_ordered(koji):
    descendents = await koji.getTaskDescendents(50010)
    ids = [task.id for task in descendents]
    assert ids == sorted(ids)
    assert {50011, 50012, 50013, 50014} <= set(ids)


@pytest_twisted.ensureDeferred
async def test_connection_is_an_attribute_not_data(koji):
    build = await koji.getBuild(1001)
    assert "connection" not in build
    assert "connection" not in dict(build)
    assert json.loads(json.dumps(build)) == dict(build)
    assert pickle.loads(pickle.dumps(build)) == build


@pytest_twisted.ensureDeferred
async def test_hub_version_comes_from_the_koji_version_header(koji):
    assert koji.hub_version is None
    await koji.getAPIVersion()
    assert koji.hub_version == "1.35.3"


@pytest_twisted.ensureDeferred
async def test_private_names_never_become_calls(koji, hub_server):
    with pytest.raises(AttributeError):
        koji._private  # noqa: B018
    assert not hasattr(koji, "__foo__")
    with pytest.raises(TypeError, match="cannot be copied or pickled"):
        copy.copy(koji)
    with pytest.raises(TypeError, match="cannot be copied or pickled"):
        pickle.dumps(koji)
    spec = mock.create_autospec(koji)
    assert isinstance(spec.call, mock.MagicMock)  # real methods are specced
    assert hub_server.hub.calls == []


@pytest_twisted.ensureDeferred
async def test_inline_callbacks_style_works(koji):
    @defer.inlineCallbacks
    def fetch():
        build = yield koji.getBuild(1001)
        user = yield koji.getUser(build.owner_id)
        return build.nvr, user.name

    nvr, owner = await fetch()
    assert nvr == "bash-5.2.26-1.fc40"
    assert owner


@pytest_twisted.ensureDeferred
async def test_concurrent_calls_all_complete(koji):
    ids = [1001, 1002, 1003, 1004, 1010, 1011, 1020, 1021]
    builds = await defer.gatherResults([koji.getBuild(i) for i in ids])
    assert [b.id for b in builds] == ids


@pytest_twisted.ensureDeferred
async def test_arguments_that_cannot_be_sent_fail_the_deferred(koji, hub_server):
    with pytest.raises(TypeError, match="object"):
        await koji.getBuild(object())
    with pytest.raises(OverflowError):
        await koji.getBuild(2**70)
    assert hub_server.hub.calls == []


def deep(levels: int) -> list:
    value: list = []
    for _ in range(levels):
        value = [value]
    return value


def cyclic() -> dict:
    value: dict = {"name": "loop"}
    value["self"] = [value]
    return value


@pytest.mark.parametrize("param", [deep(100_000), cyclic()], ids=["deep", "cyclic"])
@pytest_twisted.ensureDeferred
async def test_cyclic_or_absurdly_deep_argument_fails_the_deferred(
    koji, hub_server, param
):
    d = koji.call("createTag", param)
    with pytest.raises(ValueError, match="nested deeper than 100 levels"):
        await d
    assert hub_server.hub.calls == []


@pytest_twisted.ensureDeferred
async def test_refused_connection_is_a_connection_error(hub_server):
    port = hub_server.port
    await hub_server.stop()
    koji = Connection(server=f"http://127.0.0.1:{port}/kojihub")
    try:
        with pytest.raises(KojiConnectionError, match="refused"):
            await koji.getAPIVersion()
    finally:
        await koji.close()
        await hub_server.start(port)


@pytest_twisted.ensureDeferred
async def test_http_error_status_names_status_and_url(koji, hub_server):
    hub_server.hub.faults.add("getBuild", http_status=500)
    with pytest.raises(KojiHTTPError) as caught:
        await koji.getBuild(1001)
    assert caught.value.status == 500
    assert hub_server.url in str(caught.value)
    assert "500" in str(caught.value)


@pytest_twisted.ensureDeferred
async def test_cancelling_a_call_aborts_it(koji, hub_server):
    rule = hub_server.hub.faults.add("getBuild", delay=30)
    call = koji.getBuild(1001)
    await until(lambda: rule.hits == 1)
    call.cancel()
    with pytest.raises(defer.CancelledError):
        await call
    # the connection still works afterwards
    assert (await koji.getBuild(1002)).id == 1002


def test_profile_without_any_config_is_a_value_error(tmp_path):
    missing = tmp_path / "none.conf"
    with pytest.raises(ValueError) as caught:
        Connection("nowhere", config_files=[str(missing)])
    assert isinstance(caught.value, KojiConfigError)
    assert "nowhere" in str(caught.value) and str(missing) in str(caught.value)


@pytest_twisted.ensureDeferred
async def test_profile_from_named_config_file(tmp_path, hub_server):
    conf = tmp_path / "koji.conf"
    conf.write_text(
        f"[mine]\nserver = {hub_server.url}\nweburl = https://koji.test/koji\n"
    )
    koji = Connection("mine", config_files=[str(conf)])
    try:
        assert koji.profile == "mine"
        assert koji.url == hub_server.url
        assert koji.weburl == "https://koji.test/koji"
        assert (await koji.getBuild(1001)).url.startswith("https://koji.test/koji/")
    finally:
        await koji.close()


def test_fault_classes_carry_code_string_and_method():
    fault = ParameterError("bad", 1019, "getBuild")
    assert isinstance(fault, KojiFault)
    assert "getBuild" in str(fault) and "bad" in str(fault)


@pytest.mark.parametrize(
    "server", ["ftp://koji.example.com/kojihub", "koji.example.com/kojihub", "http://"]
)
def test_server_that_is_not_an_http_url_is_refused_at_construction(server):
    with pytest.raises(KojiConfigError) as caught:
        Connection(server=server)
    assert repr(server) in str(caught.value)
    assert "http:// or https://" in str(caught.value)


@pytest.mark.parametrize(
    "server",
    [
        "http://alice:pw@127.0.0.1/kojihub",
        "ftp://alice:pw@127.0.0.1/kojihub",
        "http://alice:pw@127.0.0.1:x/kojihub",
    ],
)
def test_server_with_a_password_is_refused_without_showing_it(server, tmp_path):
    with pytest.raises(KojiConfigError) as caught:
        Connection(server=server)
    assert "pw" not in str(caught.value) and "***@127.0.0.1" in str(caught.value)
    config = tmp_path / "koji.conf"
    config.write_text(f"[mine]\nserver = {server}\n")
    with pytest.raises(KojiConfigError) as caught:
        Connection("mine", config_files=[str(config)])
    assert "pw" not in str(caught.value) and "'mine'" in str(caught.value)


@pytest_twisted.ensureDeferred
async def test_channel_tasks_ordered_by_priority_then_creation(koji):
    channel = await koji.getChannel("default")
    tasks = await channel.tasks()
    assert tasks and all(type(task) is Task for task in tasks)
    assert {task.channel_id for task in tasks} == {channel.id}
    keys = [(task.priority, task.create_ts) for task in tasks]
    assert keys == sorted(keys)


@pytest_twisted.ensureDeferred
async def test_several_order_fields_sort_by_each_in_turn(koji):
    builds = await koji.listBuilds(queryOpts={"order": "package_id,-build_id"})
    keys = [(build.package_id, -build.build_id) for build in builds]
    assert len(builds) > 5 and keys == sorted(keys)


@pytest_twisted.ensureDeferred
async def test_latest_builds_targets_and_users_are_typed(koji):
    from txkoji.target import Target
    from txkoji.user import User

    latest = await koji.getLatestBuilds("f40-updates")
    assert latest and all(type(build) is Build for build in latest)
    assert len({build.package_id for build in latest}) == len(latest)
    targets = await koji.getBuildTargets(destTagID="f40-candidate")
    assert targets and all(type(target) is Target for target in targets)
    assert {target.dest_tag_name for target in targets} == {"f40-candidate"}
    users = await koji.listUsers(prefix="a")
    assert [user.name for user in users] == ["alice"]
    assert type(users[0]) is User
