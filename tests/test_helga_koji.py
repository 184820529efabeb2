"""helga-koji's use of txkoji, against the fake hub, with 0.10 names only.

helga-koji 1.7.0 (an IRC bot plugin built on txkoji 0.10) answers chat
"actions" (``last bash build``, ``bash package``, a pasted kojiweb URL,
``alice's open tasks``) and turns message-bus frames into chat lines
(build state changes, tags, task state changes).  helga and smokesignal do
not run on Python 3, so each handler is restated below as a plain
function making the same txkoji calls, in the same order, with the same
attribute reads.  The one line changed is the one the README's "Moving
from txkoji 0.10" names: ``datetime.utcnow()`` becomes
``datetime.now(timezone.utc)``.
"""

from __future__ import annotations

import posixpath
import re
from datetime import datetime, timedelta, timezone

import pytest
import pytest_twisted
from twisted.internet import defer

import txkoji.build_states
from tests.compat_helpers import WEBURL, Frame, profile_home
from txkoji import Connection, task_states
from txkoji.build import Build
from txkoji.messages import BuildStateChange, TagUntag, TaskStateChange
from txkoji.package import Package
from txkoji.task import NoDescendentsError, Task

NICK = "carol"
#: The child task methods helga-koji leaves out of task lists.
CHILD_METHODS = ("buildArch", "buildSRPMFromSCM", "createrepo", "wrapperRPM")
#: The task methods whose state changes helga-koji does not announce.
SKIP_METHODS = (
    "build-fullsource",
    "buildArch",
    "buildFullSRPMFromSCM",
    "buildNotification",
    "buildSRPMFromSCM",
    "createdistrepo",
    "createLiveCD",
    "createrepo",
    "tagNotification",
    "vmExec",
    "winbuild",
)
DURATION = r"(\d+ d \d+ hr|\d+ hr \d+ min|\d+ min \d+ secs|\d+ secs)"


@pytest.fixture
def home(tmp_path, monkeypatch, hub_server):
    """A koji config with a profile for the fake hub, as helga-koji's
    ``brew`` profile."""
    return profile_home(tmp_path, monkeypatch, "brew.conf", "brew", hub_server.url)


@pytest_twisted.async_yield_fixture()
async def koji(home):
    connection = Connection("brew")
    yield connection
    await connection.close()


# helga_koji/util.py


def describe_delta(delta):
    seconds = abs(delta.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{int(days)} d {int(hours)} hr"
    if hours:
        return f"{int(hours)} hr {int(minutes)} min"
    if minutes:
        return f"{int(minutes)} min {int(seconds)} secs"
    return f"{int(seconds)} secs"


def remaining_until(est_complete):
    # helga-koji: est_complete - datetime.utcnow()
    return est_complete - datetime.now(timezone.utc)


def describe_remaining(est_complete):
    remaining = remaining_until(est_complete)
    if remaining.total_seconds() > 0:
        return "should be done in " + describe_delta(remaining)
    return "exceeds estimate by " + describe_delta(remaining)


def describe_task_state(task, delta):
    state_name = task.state_name.lower()
    if state_name == "closed":
        return "completed in " + describe_delta(delta)
    return f"{state_name} {describe_delta(delta)} into the build"


@defer.inlineCallbacks
def describe_task(task, user=None):
    if not user:
        user = yield task.connection.cache.user_name(task.owner)
    description = task.method
    if task.is_scratch:
        description = "scratch " + description
    if task.package:
        description = task.package + " " + description
    if task.target:
        description += " for " + task.target
    if task.arch:
        description += " for " + task.arch
    if task.completed:
        state = describe_task_state(task, task.duration)
    else:
        try:
            est_complete = yield task.estimate_completion()
        except NoDescendentsError:
            est_complete = None
        if est_complete:
            state = describe_remaining(est_complete)
        elif task.duration:
            state = "run time is " + describe_delta(task.duration)
        else:
            state = f"in {task.state_name.lower()} state"
    return f"{user}'s {description} {state}"


# helga_koji/actions/get_build.py


@defer.inlineCallbacks
def describe_build_action(koji, which, package):
    state = txkoji.build_states.COMPLETE
    opts = {"limit": 1, "order": "-completion_time"}
    if which == "current":
        state = txkoji.build_states.BUILDING
        opts = {"order": "-start_time"}
    builds = yield koji.listBuilds(package, state=state, queryOpts=opts)
    if not builds:
        if which == "current":
            return f"{NICK}, I could not find a running {package} build."
        return f"{NICK}, I could find no completed builds for {package}."
    if len(builds) > 1:
        pkg = yield koji.getPackage(package)
        return f"{NICK}, {len(builds)} {package} builds running: {pkg.url}"
    build = builds[0]
    if which == "current":
        est_complete = yield build.estimate_completion()
        remaining = remaining_until(est_complete)
        if remaining.total_seconds() > 0:
            tmpl = "{nvr} should finish building in {delta} {url}"
        else:
            tmpl = "{nvr} exceeds estimate by {delta} {url}"
            tmpl += f" (total time so far: {describe_delta(build.duration)})"
        delta = describe_delta(remaining)
    else:
        tmpl = "{nvr} build duration was {delta} {url}"
        delta = describe_delta(build.duration)
    return f"{NICK}, " + tmpl.format(nvr=build.nvr, delta=delta, url=build.url)


# helga_koji/actions/get_package.py


@defer.inlineCallbacks
def describe_package_action(koji, name):
    package = yield koji.getPackage(name)
    if not package:
        return f'{NICK}, I could not find a package for "{name}" at {koji.weburl}.'
    return f"{NICK}, {name} is {package.url}"


# helga_koji/actions/kojiweb.py


def match_kojiweb(message):
    url = message.strip()
    conn = Connection.connect_from_web(url)
    if conn:
        return (conn, url)
    return None


@defer.inlineCallbacks
def describe_kojiweb_build(build):
    if build.state == txkoji.build_states.BUILDING:
        est_complete = yield build.estimate_completion()
        remaining = remaining_until(est_complete)
        if remaining.total_seconds() > 0:
            return f"that {build.nvr} should finish building in " + describe_delta(
                remaining
            )
        return f"that {build.nvr} exceeds estimate by " + describe_delta(remaining)
    return f"that {build.nvr} build duration was " + describe_delta(build.duration)


@defer.inlineCallbacks
def describe_kojiweb_action(conn_and_url):
    conn, url = conn_and_url
    try:
        resource = yield conn.from_web(url)
        if isinstance(resource, Build):
            msg = yield describe_kojiweb_build(resource)
        elif isinstance(resource, Task):
            msg = yield describe_task(resource)
        elif isinstance(resource, Package):
            msg = f"that is the {resource.name} package"
        elif hasattr(resource, "name"):
            msg = f"that is {resource.name}"
        else:
            msg = "I could not process that Koji URL"
    finally:
        yield conn.close()
    return f"{NICK}, {msg}"


# helga_koji/actions/user_tasks.py


@defer.inlineCallbacks
def describe_tasks_action(koji, user, state_text):
    state_name = state_text.upper()
    state = getattr(task_states, state_name, None)
    if state is None:
        return f"{NICK}, I do not know about {state_name} tasks."
    owner = yield koji.getUser(user)
    if not owner:
        url = posixpath.join(koji.weburl, "users")
        return f"{NICK}, I could not find a koji user account for {user} at {url}"
    opts = {"state": [state], "owner": owner.id}
    qopts = {"order": "priority,create_time"}
    tasks = yield koji.listTasks(opts, qopts)
    tasks = [t for t in tasks if t.method not in CHILD_METHODS]
    if not tasks:
        return f"{NICK}, I could not find {state_text} tasks for {user}."
    if len(tasks) == 1:
        description = yield describe_task(tasks[0], user)
        return f"{NICK}, {description} ({tasks[0].url})"
    endpoint = f"tasks?owner={user}&state={state_text}&view=tree&order=-id"
    url = posixpath.join(tasks[0].connection.weburl, endpoint)
    return f"{NICK}, {user} has {len(tasks)} {state_text} tasks {url}"


# helga_koji/signals/util.py, build.py, task.py


def product_from_name(name):
    if name.startswith("guest-"):
        name = name[len("guest-") :]
    return name.split("-", 1)[0]


@defer.inlineCallbacks
def populate_owner_name(instance):
    if hasattr(instance, "owner_name"):
        return
    if isinstance(instance.owner, str):
        instance.owner_name = instance.owner
        return
    owner_id = getattr(instance, "owner_id", instance.owner)
    instance.owner_name = yield instance.connection.cache.user_name(owner_id)


@defer.inlineCallbacks
def get_product(event):
    build = event.build
    target = yield build.target()
    if target:
        return product_from_name(target)
    tags = yield build.tags()
    names = [tag.name for tag in tags]
    if names:
        return product_from_name(names[0])
    return None


@defer.inlineCallbacks
def build_state_change_callback(frame, koji):
    event = BuildStateChange.from_frame(frame, koji)
    user = yield event.user()
    user = user.split(".", 1)[0]
    message = f"{user}'s {event.build.nvr} {event.event.lower()} ({event.url})"
    product = yield get_product(event)
    return (message, product) if product else None


@defer.inlineCallbacks
def build_tag_untag(frame, koji):
    event = TagUntag.from_frame(frame, koji)
    user = yield event.user()
    if event.event.lower() == "tag":
        message = f"{user} tagged {event.build.nvr} into {event.tag}"
    else:
        message = f"{user} untagged {event.build.nvr} from {event.tag}"
    return (message, product_from_name(event.tag))


def describe_event(event, tag):
    task = event.task
    desc = task.method
    if task.is_scratch:
        desc = "scratch " + desc
    if task.package:
        desc = task.package + " " + desc
    if task.target:
        desc += " for " + task.target
    if task.arch:
        desc += " for " + task.arch
    if tag:
        desc += " for tag " + tag
    return desc


@defer.inlineCallbacks
def task_state_change(frame, koji):
    event = TaskStateChange.from_frame(frame, koji)
    user = yield event.user()
    user = user.split(".", 1)[0]
    tag_name = yield event.tag()
    if user in ("kojira", "mbs") or event.task.method in SKIP_METHODS:
        return None
    description = describe_event(event, tag_name)
    message = f"{user}'s {description} task {event.event.lower()} ({event.url})"
    if tag_name:
        product = product_from_name(tag_name)
    elif event.task.target:
        product = product_from_name(event.task.target)
    else:
        product = ""
    return (message, product)


# The tests.


@pytest_twisted.ensureDeferred
async def test_last_build(koji):
    msg = await describe_build_action(koji, "last", "bash")
    assert msg.startswith(f"{NICK}, bash-5.2.26-2.fc40 build duration was ")
    assert msg.endswith(f" {WEBURL}/buildinfo?buildID=1002")


@pytest_twisted.ensureDeferred
async def test_current_build(koji):
    msg = await describe_build_action(koji, "current", "bash")
    assert msg.startswith(f"{NICK}, bash-5.2.32-1.fc40 ")
    assert ("should finish building in" in msg) or ("exceeds estimate by" in msg)
    assert f"{WEBURL}/buildinfo?buildID=1004" in msg


@pytest_twisted.ensureDeferred
async def test_no_builds(koji):
    running = await describe_build_action(koji, "current", "kernel")
    assert running == f"{NICK}, I could not find a running kernel build."
    done = await describe_build_action(koji, "last", "fedora-release")
    assert done == f"{NICK}, I could find no completed builds for fedora-release."
    unknown = await describe_build_action(koji, "last", "nonesuch")
    assert unknown == f"{NICK}, I could find no completed builds for nonesuch."


@pytest_twisted.ensureDeferred
async def test_the_one_changed_line(koji):
    """0.10 gave naive UTC datetimes; helga-koji subtracted utcnow()."""
    build = await koji.getBuild(1004)
    est_complete = await build.estimate_completion()
    naive_utcnow = datetime.now(timezone.utc).replace(tzinfo=None)
    with pytest.raises(TypeError):
        est_complete - naive_utcnow
    assert isinstance(remaining_until(est_complete), timedelta)


@pytest_twisted.ensureDeferred
async def test_package_action(koji):
    found = await describe_package_action(koji, "bash")
    assert found == f"{NICK}, bash is {WEBURL}/packageinfo?packageID=1"
    missing = await describe_package_action(koji, "nonesuch")
    assert missing == f'{NICK}, I could not find a package for "nonesuch" at {WEBURL}.'


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ("buildinfo?buildID=1002", r"that bash-5\.2\.26-2\.fc40 build duration was "),
        (
            "buildinfo?buildID=1004",
            r"that bash-5\.2\.32-1\.fc40 (should finish building in|exceeds estimate "
            r"by) ",
        ),
        (
            "taskinfo?taskID=50012",
            rf"alice's bash buildArch for x86_64 completed in {DURATION}$",
        ),
        (
            "taskinfo?taskID=50001",
            r"alice's bash build for f40-candidate for noarch completed in "
            + DURATION
            + "$",
        ),
        ("packageinfo?packageID=1", r"that is the bash package$"),
        ("taginfo?tagID=1", r"that is f40$"),
        ("userinfo?userID=3", r"that is bob$"),
        ("buildinfo?buildID=999999", r"I could not process that Koji URL$"),
    ],
)
@pytest_twisted.ensureDeferred
async def test_kojiweb_action(home, page, expected):
    match = match_kojiweb(f"{WEBURL}/{page}")
    assert match is not None
    msg = await describe_kojiweb_action(match)
    assert msg.startswith(f"{NICK}, ")
    assert re.search(expected, msg), msg


def test_kojiweb_action_ignores_other_text(home):
    assert match_kojiweb("hello there") is None
    assert match_kojiweb("https://elsewhere.test/koji/buildinfo?buildID=1") is None


@pytest_twisted.ensureDeferred
async def test_one_open_task(koji):
    msg = await describe_tasks_action(koji, "alice", "open")
    assert msg.startswith(f"{NICK}, alice's bash build for f40-candidate for noarch ")
    assert msg.endswith(f"({WEBURL}/taskinfo?taskID=50100)")


@pytest_twisted.ensureDeferred
async def test_several_tasks(koji):
    msg = await describe_tasks_action(koji, "kojiadmin", "open")
    assert msg == (
        f"{NICK}, kojiadmin has 3 open tasks {WEBURL}/"
        "tasks?owner=kojiadmin&state=open&view=tree&order=-id"
    )


@pytest_twisted.ensureDeferred
async def test_task_action_refusals(koji):
    assert await describe_tasks_action(koji, "alice", "weird") == (
        f"{NICK}, I do not know about WEIRD tasks."
    )
    assert await describe_tasks_action(koji, "nobody", "open") == (
        f"{NICK}, I could not find a koji user account for nobody at {WEBURL}/users"
    )
    assert await describe_tasks_action(koji, "mallory", "open") == (
        f"{NICK}, I could not find open tasks for mallory."
    )


@pytest_twisted.ensureDeferred
async def test_describe_task_names_the_owner_through_the_cache(koji, home):
    task = await koji.getTaskInfo(50202)
    msg = await describe_task(task)
    assert msg.startswith("alice's rust-serde buildArch for x86_64 completed in ")
    assert (home / "cache" / "txkoji" / "brew" / "user" / "2").read_text() == "alice"


@pytest.mark.parametrize(
    ("build_id", "product"),
    [(1001, "f40"), (1030, "f40"), (1040, "f40")],  # by target, CG task, tag
)
@pytest_twisted.ensureDeferred
async def test_build_state_change(koji, build_id, product):
    info = await koji.getBuild(build_id)
    frame = Frame({"type": "BuildStateChange", "new": "COMPLETE"}, {"info": info})
    message, found = await build_state_change_callback(frame, koji)
    assert message == (
        f"{info.owner_name}'s {info.nvr} complete ({WEBURL}/buildinfo?buildID="
        f"{build_id})"
    )
    assert found == product


@pytest.mark.parametrize(("kind", "verb"), [("Tag", "into"), ("Untag", "from")])
@pytest_twisted.ensureDeferred
async def test_tag_untag(koji, kind, verb):
    info = await koji.getBuild(1002)
    frame = Frame({"type": kind, "tag": "f40-updates", "user": "bob"}, {"build": info})
    message, product = await build_tag_untag(frame, koji)
    action = "tagged" if kind == "Tag" else "untagged"
    assert message == f"bob {action} bash-5.2.26-2.fc40 {verb} f40-updates"
    assert product == "f40"


def closed(info):
    return Frame({"new": "CLOSED"}, {"info": info})


@pytest_twisted.ensureDeferred
async def test_task_state_change_of_a_build(koji):
    info = await koji.getTaskInfo(50001)
    message, product = await task_state_change(closed(info), koji)
    assert message == (
        "alice's bash build for f40-candidate for noarch task closed "
        f"({WEBURL}/taskinfo?taskID=50001)"
    )
    assert product == "f40"


@pytest_twisted.ensureDeferred
async def test_task_state_change_names_the_tag_through_the_cache(koji, home):
    info = await koji.getTaskInfo(50300)
    message, product = await task_state_change(closed(info), koji)
    assert message.startswith("kojiadmin's newRepo for noarch for tag f40-build ")
    assert product == "f40"


@pytest_twisted.ensureDeferred
async def test_task_state_change_skips_build_arch(koji):
    info = await koji.getTaskInfo(50012)
    assert await task_state_change(closed(info), koji) is None


@pytest_twisted.ensureDeferred
async def test_task_state_change_of_a_scratch_build(koji):
    info = await koji.getTaskInfo(50200)
    message, product = await task_state_change(closed(info), koji)
    assert message.startswith("alice's rust-serde scratch build for f40-candidate ")
    assert product == "f40"


@pytest_twisted.ensureDeferred
async def test_populate_owner_name(koji):
    task = await koji.getTaskInfo(50012)
    assert not hasattr(task, "owner_name")
    await populate_owner_name(task)
    assert task.owner_name == "alice"
    build = await koji.getBuild(1002)
    await populate_owner_name(build)
    assert build.owner_name == "alice"
