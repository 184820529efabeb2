"""Code written for txkoji 0.10 keeps working: only 0.10's import paths,
names and call styles (inlineCallbacks, ``from_frame``, ``Task.fromDict``)
against the fake hub over loopback HTTP."""

import inspect
from datetime import datetime, timedelta
from unittest import mock

import pytest
import pytest_twisted
from twisted.internet import defer

from tests.compat_helpers import WEBURL, Frame, profile_home
from txkoji import Connection, build_states, connection, estimates, task_states
from txkoji.build import Build
from txkoji.cache import Cache
from txkoji.channel import Channel
from txkoji.messages import BuildStateChange, TagUntag, TaskStateChange
from txkoji.package import Package
from txkoji.task import NoDescendentsError, Task

KWARGS = ("kwargs", "VAR_KEYWORD")


@pytest.fixture
def home(tmp_path, monkeypatch, hub_server):
    """A home directory whose koji config has a profile for the fake hub."""
    return profile_home(tmp_path, monkeypatch, "fake.conf", "fakehub", hub_server.url)


@pytest_twisted.async_yield_fixture()
async def koji(home):
    connection = Connection("fakehub")
    yield connection
    await connection.close()


@pytest_twisted.inlineCallbacks
def test_build_api(koji):
    build = yield koji.getBuild(1001)
    assert isinstance(build, Build)
    assert build.url == WEBURL + "/buildinfo?buildID=1001"
    assert isinstance(build.completed, datetime)
    assert build.duration == build.completed - build.started
    assert build.gitbuildhash == "03e9c0ffee50001"
    assert build.task_id == 50001
    task = yield build.task()
    assert isinstance(task, Task) and task.id == 50001
    target = yield build.target()
    assert target == "f40-candidate"
    tags = yield build.tags()
    assert [t.name for t in tags] == ["f40"]
    estimate = yield build.estimate_completion()
    assert estimate == build.completed
    assert build_states.to_str(build.state) == "COMPLETE"
    assert build.state == build_states.COMPLETE


@pytest_twisted.inlineCallbacks
def test_container_build_task_id(koji):
    build = yield koji.getBuild(1030)
    assert build.task_id == 50080
    target = yield build.target()
    assert target == "f40-container-candidate"


@pytest_twisted.inlineCallbacks
def test_building_build_estimate(koji):
    build = yield koji.getBuild(1004)
    average = yield koji.getAverageBuildDuration("bash")
    estimate = yield build.estimate_completion()
    assert estimate == build.started + average


@pytest_twisted.inlineCallbacks
def test_task_api(koji):
    task = yield koji.getTaskInfo(50012)
    assert task.arch == "x86_64"
    assert task.arches == ["x86_64"]
    assert task.package == "bash"
    assert task.tag == 2
    assert task.state_name == "CLOSED"
    assert task_states.to_str(task.state) == "CLOSED"
    assert task.url == WEBURL + "/taskinfo?taskID=50012"
    assert isinstance(task.channel, Channel)
    assert task.duration == task.completed - task.started
    assert task.created < task.started
    assert not task.is_scratch
    root = yield koji.getTaskInfo(50001)
    assert root.target == "f40-candidate"
    arches = yield root.descendents(method="buildArch")
    assert sorted(t.arch for t in arches) == ["aarch64", "x86_64"]
    scratch = yield koji.getTaskInfo(50200)
    assert scratch.is_scratch


@pytest_twisted.inlineCallbacks
def test_open_build_task_estimate(koji):
    task = yield koji.getTaskInfo(50100)
    estimate = yield task.estimate_completion()
    assert isinstance(estimate, datetime)
    assert estimate > task.started


@pytest_twisted.inlineCallbacks
def test_no_descendents_error(koji):
    info = yield koji.getTaskInfo(50010)
    info["state"] = task_states.OPEN
    info["completion_ts"] = None
    info["completion_time"] = None
    task = Task.fromDict(dict(info))
    task.connection = koji
    with pytest.raises(NoDescendentsError):
        yield task.estimate_descendents()


@pytest_twisted.inlineCallbacks
def test_package_and_channel(koji):
    package = yield koji.getPackage("bash")
    assert isinstance(package, Package)
    assert package.url == WEBURL + "/packageinfo?packageID=1"
    channel = yield koji.getChannel(1)
    hosts = yield channel.hosts()
    assert sorted(h.name for h in hosts) == [
        "aarch64-01.example.com",
        "x86-01.example.com",
        "x86-02.example.com",
    ]
    capacity = yield channel.total_capacity()
    assert capacity == 24.0


@pytest_twisted.inlineCallbacks
def test_estimates(koji):
    bash = yield estimates.average_build_duration(koji, "bash")
    assert isinstance(bash, timedelta)
    etcd = yield estimates.average_build_duration(koji, "etcd-container")
    assert etcd == timedelta(seconds=1499.75)
    last = yield estimates.average_last_builds(koji, "etcd-container")
    assert last == etcd
    both = yield estimates.average_build_durations(koji, ["bash", "etcd-container"])
    assert both == [bash, etcd]


@pytest_twisted.inlineCallbacks
def test_from_web(koji, home):
    build = yield koji.from_web(WEBURL + "/buildinfo?buildID=1002")
    assert build.nvr == "bash-5.2.26-2.fc40"
    task = yield koji.from_web(WEBURL + "/taskinfo?taskID=50012")
    assert task.arch == "x86_64"
    nothing = yield koji.from_web("not a url")
    assert nothing is None
    other = Connection.connect_from_web(WEBURL + "/taginfo?tagID=1")
    assert other.profile == "fakehub"
    yield other.close()


@pytest_twisted.inlineCallbacks
def test_messages_from_frames(koji):
    build = yield koji.getBuild(1002)
    msg = BuildStateChange.from_frame(
        Frame({"type": "BuildStateChange", "new": "COMPLETE"}, {"info": build}), koji
    )
    assert msg.event == "COMPLETE" and msg.url == build.url
    owner = yield msg.user()
    assert owner == "alice"

    task = yield koji.getTaskInfo(50012)
    msg = TaskStateChange.from_frame(Frame({"new": "CLOSED"}, {"info": task}), koji)
    tag = yield msg.tag()
    user = yield msg.user()
    assert (tag, user) == ("f40-build", "alice")

    msg = TagUntag.from_frame(
        Frame({"type": "Tag", "tag": "f40", "user": "bob"}, {"build": build}), koji
    )
    assert (msg.event, msg.tag) == ("Tag", "f40")
    user = yield msg.user()
    assert user == "bob"


@pytest_twisted.inlineCallbacks
def test_cache(koji, home):
    cache = Cache(koji)
    names = yield defer.gatherResults([cache.user_name(2), cache.tag_name(2)])
    assert names == ["alice", "f40-build"]
    assert (home / "cache" / "txkoji" / "fakehub" / "user" / "2").exists()


# Issue 9, item 5: what code written for 0.10 still missed.

#: txkoji 0.10's explicit methods of Connection: name -> its parameters
#: (after self), as (name, kind) pairs.
METHODS_010 = {
    "getAverageBuildDuration": [("package", "POSITIONAL_OR_KEYWORD"), KWARGS],
    "getBuild": [("build_id", "POSITIONAL_OR_KEYWORD"), KWARGS],
    "getChannel": [("channel_id", "POSITIONAL_OR_KEYWORD"), KWARGS],
    "getPackage": [("name", "POSITIONAL_OR_KEYWORD"), KWARGS],
    "getTaskDescendents": [("task_id", "POSITIONAL_OR_KEYWORD"), KWARGS],
    "getTaskInfo": [("task_id", "POSITIONAL_OR_KEYWORD"), KWARGS],
    "listBuilds": [("package", "POSITIONAL_OR_KEYWORD"), KWARGS],
    "listTasks": [
        ("opts", "POSITIONAL_OR_KEYWORD"),
        ("queryOpts", "POSITIONAL_OR_KEYWORD"),
    ],
    "listChannels": [KWARGS],
    "login": [],
    "call": [("method", "POSITIONAL_OR_KEYWORD"), ("args", "VAR_POSITIONAL"), KWARGS],
}


@pytest.mark.parametrize("name", sorted(METHODS_010))
def test_explicit_methods_of_010_are_real_methods(name):
    method = getattr(Connection, name)
    assert inspect.isfunction(method)
    assert method.__doc__ and method.__doc__.strip()
    params = list(inspect.signature(method).parameters.values())[1:]
    assert [(p.name, p.kind.name) for p in params[: len(METHODS_010[name])]] == (
        METHODS_010[name]
    )
    # Anything txkoji added is optional.
    for extra in params[len(METHODS_010[name]) :]:
        assert extra.default is not inspect.Parameter.empty


@pytest_twisted.ensureDeferred
async def test_patching_a_connection_method_reaches_the_library(koji):
    """Users' tests patch Connection's methods; the library's own lookups
    (from_web, Build.task) go through them, as in 0.10."""
    fake_build = Build({"id": 7, "nvr": "x-1-1", "task_id": 9})
    with mock.patch.object(Connection, "getBuild") as get_build:
        get_build.return_value = defer.succeed(fake_build)
        build = await koji.from_web(WEBURL + "/buildinfo?buildID=7")
    assert build is fake_build
    get_build.assert_called_once_with(7)
    with mock.patch.object(Connection, "getTaskInfo") as get_task_info:
        get_task_info.return_value = defer.succeed(None)
        fake_build.connection = koji
        assert await fake_build.task() is None
    get_task_info.assert_called_once_with(9, request=True)


@pytest_twisted.ensureDeferred
async def test_connection_cache_is_the_name_cache(koji, home):
    assert isinstance(koji.cache, Cache)
    assert koji.cache is koji.cache
    assert await koji.cache.user_name(2) == "alice"
    assert await koji.cache.tag_name(2) == "f40-build"
    assert (home / "cache" / "txkoji" / "fakehub" / "user" / "2").exists()
    other = Cache(koji, str(home / "elsewhere"))
    koji.cache = other
    assert koji.cache is other


@pytest_twisted.ensureDeferred
async def test_cache_loads_with_a_function_as_in_010(koji, home):
    name = await koji.cache.get_or_load_name("user", 3, koji.getUser)
    assert name == "bob"
    assert koji.cache.get_name("user", 3) == "bob"


def test_profiles_lists_config_files_most_preferred_first(home):
    user_dir = home / ".koji"
    (user_dir / "config").write_text("[other]\nserver = https://o.test/kojihub\n")
    (user_dir / "config.d" / "zzz.conf").write_text("[z]\nserver = https://z.test/h\n")
    found = [p for p in connection.profiles() if p.startswith(str(home))]
    assert found == [
        str(user_dir / "config"),
        str(user_dir / "config.d" / "zzz.conf"),
        str(user_dir / "config.d" / "fake.conf"),
    ]
    assert {"fakehub", "other", "z"} <= set(connection.profile_names())


def test_lookup_gives_none_for_a_missing_profile_or_option(home):
    assert Connection.lookup("fakehub", "weburl") == WEBURL
    assert Connection.lookup("nonesuch", "server") is None
    assert Connection.lookup("fakehub", "nonesuch") is None
    # Not set by the profile: None, as in 0.10 (not txkoji's default).
    assert Connection.lookup("fakehub", "timeout") is None


@pytest_twisted.ensureDeferred
async def test_lookup_on_an_instance(koji):
    assert koji.lookup(koji.profile, "weburl") == WEBURL


@pytest_twisted.ensureDeferred
async def test_list_builds_takes_a_package_name_or_id(koji):
    by_name = await koji.listBuilds("bash")
    by_id = await koji.listBuilds(1)
    assert [b.id for b in by_name] == [b.id for b in by_id]
    assert {1001, 1002, 1003, 1004} <= {b.id for b in by_name}
    assert await koji.listBuilds("nonesuch") == []
    mine = await koji.listBuilds(userID=3)
    assert mine and all(isinstance(b, Build) for b in mine)


@pytest_twisted.ensureDeferred
async def test_list_tasks_decodes_without_touching_the_callers_opts(koji):
    opts = {"method": "build", "state": [task_states.CLOSED]}
    tasks = await koji.listTasks(opts, {"order": "id", "limit": 2})
    assert opts == {"method": "build", "state": [task_states.CLOSED]}
    assert [t.id for t in tasks] == [50001, 50010]
    assert tasks[0].target == "f40-candidate"  # the request was decoded


@pytest_twisted.ensureDeferred
async def test_get_task_descendents_gives_tasks_with_requests(koji):
    tasks = await koji.getTaskDescendents(50010)
    assert all(isinstance(t, Task) for t in tasks)
    arch_tasks = [t for t in tasks if t.method == "buildArch"]
    assert sorted(t.arch for t in arch_tasks) == ["aarch64", "x86_64"]


@pytest_twisted.ensureDeferred
async def test_build_task_arch_is_the_hubs(koji):
    task = await koji.getTaskInfo(50001)
    assert task.arch == "noarch"
    assert task.arches == []
    arch_task = await koji.getTaskInfo(50012)
    assert arch_task.arch == "x86_64"
