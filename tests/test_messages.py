"""Message-bus messages from STOMP frames and protonmsg messages."""

import json
from types import SimpleNamespace

import pytest
import pytest_twisted

from tests.fake_connection import WEBURL, build_record, hub_connection, task_record
from txkoji import Connection
from txkoji.build import Build
from txkoji.messages import (
    MESSAGE_TYPES,
    BuildPromote,
    BuildStateChange,
    Import,
    MalformedMessage,
    PackageListChange,
    RepoDone,
    RepoInit,
    RPMSign,
    TagUntag,
    TaskStateChange,
    UnknownMessageType,
    parse_frame,
    parse_message,
)
from txkoji.package import Package
from txkoji.task import Task

BUILD = build_record(1002)
TAG = {"id": 4, "name": "f40-updates"}
USER = {"id": 1, "name": "kojiadmin"}
RPM = {"id": 777, "name": "bash", "version": "5.2.26", "release": "2.fc40"}
REPO = {"id": 8, "tag_id": 2, "tag_name": "f40-build", "state": 1}

# type: (properties, body) as protonmsg sends them (koji-protocol.md §12)
PROTON = {
    "BuildStateChange": (
        {"type": "BuildStateChange", "name": "bash", "attribute": "state"}
        | {"old": "BUILDING", "new": "COMPLETE"},
        {"attribute": "state", "old": 0, "new": 1, "info": BUILD, "btypes": {}},
    ),
    "TaskStateChange": (
        {"type": "TaskStateChange", "id": 50012, "method": "buildArch"}
        | {"attribute": "state", "old": "OPEN", "new": "CLOSED"},
        {"attribute": "state", "old": 1, "new": 2, "info": task_record(50012)},
    ),
    "Tag": (
        {"type": "Tag", "tag": "f40-updates", "name": "bash", "user": "kojiadmin"},
        {"tag": TAG, "build": BUILD, "user": USER, "force": False},
    ),
    "Untag": (
        {"type": "Untag", "tag": "f40-updates", "name": "bash", "user": "kojiadmin"},
        {"tag": TAG, "build": BUILD, "user": USER},
    ),
    "PackageListChange": (
        {"type": "PackageListChange", "tag": "f40", "package": "bash"}
        | {"action": "block", "user": "kojiadmin"},
        {"tag": TAG, "package": {"id": 1, "name": "bash"}, "user": USER},
    ),
    "Import": (
        {"type": "Import", "importType": "build", "name": "bash"},
        {"type": "build", "build": BUILD},
    ),
    "RPMSign": (
        {"type": "RPMSign", "sigkey": "a15b79cc", "rpm_name": "bash"},
        {"sigkey": "a15b79cc", "sighash": "ab", "build": BUILD, "rpm": RPM},
    ),
    "RepoInit": (
        {"type": "RepoInit", "tag": "f40-build", "repo_id": 8, "task_id": 50310},
        {"tag": {"id": 2, "name": "f40-build"}, "repo_id": 8, "task_id": 50310},
    ),
    "RepoDone": (
        {"type": "RepoDone", "tag": "f40-build", "repo_id": 8, "expire": False},
        {"repo": REPO, "expire": False},
    ),
    "BuildPromote": (
        {"type": "BuildPromote", "build_id": 1002, "user": "kojiadmin"}
        | {"draft_release": "2.fc40,draft_1002", "target_release": "2.fc40"},
        {"build": BUILD, "user": USER},
    ),
}

EXPECTED_CLASS = {
    "BuildStateChange": BuildStateChange,
    "TaskStateChange": TaskStateChange,
    "Tag": TagUntag,
    "Untag": TagUntag,
    "PackageListChange": PackageListChange,
    "Import": Import,
    "RPMSign": RPMSign,
    "RepoInit": RepoInit,
    "RepoDone": RepoDone,
    "BuildPromote": BuildPromote,
}

EXPECTED_URL = {
    "BuildStateChange": f"{WEBURL}/buildinfo?buildID=1002",
    "TaskStateChange": f"{WEBURL}/taskinfo?taskID=50012",
    "Tag": f"{WEBURL}/buildinfo?buildID=1002",
    "Untag": f"{WEBURL}/buildinfo?buildID=1002",
    "PackageListChange": f"{WEBURL}/packageinfo?packageID=1",
    "Import": f"{WEBURL}/buildinfo?buildID=1002",
    "RPMSign": f"{WEBURL}/rpminfo?rpmID=777",
    "RepoInit": f"{WEBURL}/repoinfo?repoID=8",
    "RepoDone": f"{WEBURL}/repoinfo?repoID=8",
    "BuildPromote": f"{WEBURL}/buildinfo?buildID=1002",
}


def connection() -> Connection:
    """A real connection to a fresh fake hub in memory."""
    return hub_connection()[0]


def frame(headers, body):
    return SimpleNamespace(headers=headers, body=json.dumps(body))


def test_every_section_12_type_is_known():
    assert set(MESSAGE_TYPES) == set(PROTON)


@pytest.mark.parametrize("kind", sorted(PROTON))
@pytest.mark.parametrize("form", ["dict", "object", "bytes body", "frame"])
def test_parse_each_type_in_each_form(kind, form):
    props, body = PROTON[kind]
    conn = connection()
    if form == "dict":
        msg = parse_message({"properties": props, "body": json.dumps(body)}, conn)
    elif form == "object":
        msg = parse_message(SimpleNamespace(properties=props, body=body), conn)
    elif form == "bytes body":
        raw = json.dumps(body).encode()
        msg = parse_message({"properties": props, "body": raw}, conn)
    else:
        msg = parse_frame(frame(props, body), conn)
    assert type(msg) is EXPECTED_CLASS[kind]
    assert msg.url == EXPECTED_URL[kind]


@pytest.mark.parametrize("kind", sorted(PROTON))
def test_class_from_message_and_from_frame(kind):
    props, body = PROTON[kind]
    cls = EXPECTED_CLASS[kind]
    conn = connection()
    assert type(cls.from_message({"properties": props, "body": body}, conn)) is cls
    assert type(cls.from_frame(frame(props, body), conn)) is cls


def test_build_state_change_fields():
    props, body = PROTON["BuildStateChange"]
    conn = connection()
    msg = BuildStateChange.from_message({"properties": props, "body": body}, conn)
    assert isinstance(msg.build, Build) and msg.build.connection is conn
    assert (msg.event, msg.old) == ("COMPLETE", "BUILDING")
    assert msg.user().result == "alice"


def test_state_names_from_body_numbers_when_headers_lack_them():
    _, body = PROTON["BuildStateChange"]
    msg = BuildStateChange.from_frame(frame({}, body), connection())
    assert (msg.event, msg.old) == ("COMPLETE", "BUILDING")
    body = dict(body, old=None)
    assert BuildStateChange.from_frame(frame({}, body), None).old is None


@pytest_twisted.ensureDeferred
async def test_task_state_change_user_and_tag_through_the_cache(tmp_path):
    from txkoji.cache import Cache

    conn, hub = hub_connection()
    conn.cache = Cache(conn, str(tmp_path))
    props, body = PROTON["TaskStateChange"]
    msg = parse_message({"properties": props, "body": body}, conn)
    assert isinstance(msg.task, Task) and msg.event == "CLOSED"
    assert await msg.user() == "alice"
    assert await msg.tag() == "f40-build"
    assert hub.calls == ["getUser", "getTag"]


@pytest_twisted.ensureDeferred
async def test_task_tag_by_name_or_absent_needs_no_lookup():
    conn, hub = hub_connection()
    newrepo = TaskStateChange.from_frame(
        frame({"new": "OPEN"}, {"info": task_record(50310)}), conn
    )
    assert await newrepo.tag() == "f40-build"
    no_request = TaskStateChange.from_frame(
        frame({"new": "OPEN"}, {"info": task_record(50310, request=False)}), conn
    )
    assert await no_request.tag() is None
    assert hub.calls == []


@pytest_twisted.ensureDeferred
async def test_tag_untag_fields():
    props, body = PROTON["Untag"]
    msg = parse_message({"properties": props, "body": body}, connection())
    assert (msg.event, msg.tag) == ("Untag", "f40-updates")
    assert await msg.user() == "kojiadmin"


def test_tag_untag_names_from_body_structs():
    _, body = PROTON["Tag"]
    msg = TagUntag.from_frame(frame({"type": "Tag"}, body), connection())
    assert msg.tag == "f40-updates"
    assert msg.user().result == "kojiadmin"


def test_other_message_fields():
    conn = connection()

    def parsed(kind):
        props, body = PROTON[kind]
        return parse_message({"properties": props, "body": body}, conn)

    plc = parsed("PackageListChange")
    assert isinstance(plc.package, Package)
    assert (plc.tag, plc.action, plc.user().result) == ("f40", "block", "kojiadmin")
    assert parsed("Import").import_type == "build"
    sign = parsed("RPMSign")
    assert (sign.sigkey, sign.rpm.name) == ("a15b79cc", "bash")
    init = parsed("RepoInit")
    assert (init.repo_id, init.tag, init.task_id) == (8, "f40-build", 50310)
    done = parsed("RepoDone")
    assert (done.repo_id, done.tag, done.expire) == (8, "f40-build", False)
    promote = parsed("BuildPromote")
    assert promote.target_release == "2.fc40"
    assert promote.user().result == "kojiadmin"


def stomp_headers(properties):
    """Properties as a broker bridging them to STOMP sends them: text."""
    return {
        key: str(value).lower() if isinstance(value, bool) else str(value)
        for key, value in properties.items()
        if value is not None
    }


@pytest.mark.parametrize("kind", sorted(PROTON))
def test_stomp_text_headers_read_as_the_properties(kind):
    props, body = PROTON[kind]
    conn = connection()
    from_text = parse_frame(frame(stomp_headers(props), body), conn)
    original = parse_message({"properties": props, "body": body}, conn)
    assert vars(from_text) == vars(original)


def test_repo_ids_only_from_decimal_text():
    props, body = PROTON["RepoInit"]
    body = {k: v for k, v in body.items() if k not in ("repo_id", "task_id")}
    for bad in ("-8", "8.0", "eight", "\u0668"):
        with pytest.raises(MalformedMessage, match="repo_id is not an id"):
            parse_frame(frame({**props, "repo_id": bad}, body), None)
    assert parse_frame(frame({**props, "repo_id": "08"}, body), None).repo_id == 8


@pytest.mark.parametrize(
    "message, error, text",
    [
        ({"properties": {"type": "Frob"}, "body": "{}"}, UnknownMessageType, "Frob"),
        ({"properties": {}, "body": "{}"}, MalformedMessage, "no 'type'"),
        ({"properties": {"type": "Tag"}}, MalformedMessage, "no body"),
        ({"body": "{}"}, MalformedMessage, "no properties"),
        (
            {"properties": {"type": "Tag"}, "body": "{nope"},
            MalformedMessage,
            "not JSON",
        ),
        (
            {"properties": {"type": "Tag"}, "body": "[1]"},
            MalformedMessage,
            "not a JSON object",
        ),
        (
            {"properties": {"type": "Tag"}, "body": b"\xff"},
            MalformedMessage,
            "not UTF-8",
        ),
        (
            {"properties": {"type": "BuildStateChange", "new": "COMPLETE"}, "body": {}},
            MalformedMessage,
            "BuildStateChange message has no 'info'",
        ),
        (
            {"properties": {"type": "BuildStateChange"}, "body": {"info": BUILD}},
            MalformedMessage,
            "no new state",
        ),
        (
            {"properties": {"type": "Tag"}, "body": {"build": BUILD}},
            MalformedMessage,
            "Tag message names no tag",
        ),
        (
            {"properties": {"type": "TaskStateChange"}, "body": {"info": "x"}},
            MalformedMessage,
            "'info' is not an object",
        ),
        (
            {"properties": {"type": "RepoInit", "tag": "t"}, "body": {}},
            MalformedMessage,
            "repo_id",
        ),
        (
            {"properties": {"type": "RepoDone"}, "body": {"repo": {"id": 1}}},
            MalformedMessage,
            "names no tag",
        ),
        (
            {"properties": {"type": "RPMSign"}, "body": {"build": BUILD, "rpm": RPM}},
            MalformedMessage,
            "sigkey",
        ),
    ],
)
def test_malformed_messages_name_the_problem(message, error, text):
    with pytest.raises(error, match=text):
        parse_message(message, connection())


def test_frame_of_another_type_is_refused():
    props, body = PROTON["Tag"]
    with pytest.raises(MalformedMessage, match="a Tag message is not a Build"):
        BuildStateChange.from_frame(frame(props, body), connection())


def test_frame_without_headers_is_malformed():
    with pytest.raises(MalformedMessage, match="no headers"):
        parse_frame(SimpleNamespace(body="{}"), connection())


def test_malformed_message_is_a_koji_exception():
    from txkoji.exceptions import KojiException

    assert issubclass(UnknownMessageType, MalformedMessage)
    assert issubclass(MalformedMessage, KojiException)


BAD_IDS = ["x", "", float("nan"), {}, [], True, -1, 1.5]


@pytest.mark.parametrize("kind", ["list", "dict"])
def test_type_header_that_is_not_a_string_is_malformed(kind):
    bad = [] if kind == "list" else {}
    message = {"properties": {"type": bad}, "body": "{}"}
    with pytest.raises(MalformedMessage, match="'type' header is a"):
        parse_message(message, connection())
    with pytest.raises(MalformedMessage, match="'type' header is a"):
        BuildStateChange.from_message(message, connection())


def test_body_nested_too_deeply_is_malformed():
    body = "[" * 100_000 + "]" * 100_000
    message = {"properties": {"type": "Tag"}, "body": '{"a": ' + body + "}"}
    with pytest.raises(MalformedMessage, match="nests too deeply"):
        parse_message(message, connection())


@pytest.mark.parametrize("bad", BAD_IDS, ids=repr)
@pytest.mark.parametrize(
    "kind, path",
    [
        ("BuildStateChange", ("info", "id")),
        ("BuildStateChange", ("info", "build_id")),
        ("TaskStateChange", ("info", "id")),
        ("TaskStateChange", ("info", "owner")),
        ("Tag", ("build", "build_id")),
        ("Import", ("build", "id")),
        ("RPMSign", ("rpm", "id")),
        ("PackageListChange", ("package", "id")),
        ("RepoInit", ("repo_id",)),
        ("RepoInit", ("task_id",)),
        ("RepoDone", ("repo", "id")),
        ("BuildPromote", ("build", "build_id")),
    ],
)
def test_ids_that_are_not_integers_are_malformed_when_parsing(kind, path, bad):
    props, body = PROTON[kind]
    props = {key: value for key, value in props.items() if key != path[-1]}
    body = json.loads(json.dumps(body))
    if len(path) == 1:
        body[path[0]] = bad
    else:
        body[path[0]][path[1]] = bad
        body[path[0]].pop("build_id" if path[1] == "id" else "", None)
    with pytest.raises(MalformedMessage, match="not an id"):
        parse_message({"properties": props, "body": body}, connection())


@pytest.mark.parametrize("bad", [["f40"], {"name": "f40"}, 5, ""], ids=repr)
def test_names_that_are_not_strings_are_malformed(bad):
    props, body = PROTON["Tag"]
    with pytest.raises(MalformedMessage, match="tag is not a name"):
        parse_message({"properties": dict(props, tag=bad), "body": body}, None)


@pytest.mark.parametrize("bad", [["OPEN"], {}, "", 1.5, True], ids=repr)
def test_states_that_are_neither_names_nor_numbers_are_malformed(bad):
    props, body = PROTON["TaskStateChange"]
    with pytest.raises(MalformedMessage, match="state"):
        parse_message({"properties": dict(props, new=bad), "body": body}, None)


def test_task_state_change_from_a_polled_record():
    conn = connection()
    task = Task(task_record(50012))
    task.connection = conn
    event = TaskStateChange.from_record(task, 1, "CLOSED")
    assert (event.old, event.event, event.new) == ("OPEN", "CLOSED", "CLOSED")
    assert isinstance(event.task, Task) and event.task.connection is conn
    assert event.url == f"{WEBURL}/taskinfo?taskID=50012"
    first_seen = TaskStateChange.from_record(task_record(50012), None, 0, conn)
    assert (first_seen.old, first_seen.new) == (None, "FREE")
    assert first_seen.task.connection is conn
    with pytest.raises(MalformedMessage, match="not an id"):
        TaskStateChange.from_record({"id": "x"}, None, 1, conn)
    with pytest.raises(MalformedMessage, match="new state"):
        TaskStateChange.from_record(task, 1, None)


def test_build_state_change_from_a_polled_record():
    conn = connection()
    event = BuildStateChange.from_record(build_record(1002), 0, 1, connection=conn)
    assert (event.old, event.new, event.event) == ("BUILDING", "COMPLETE", "COMPLETE")
    assert isinstance(event.build, Build) and event.build.connection is conn
    assert event.url == f"{WEBURL}/buildinfo?buildID=1002"
    assert event.user().result == build_record(1002)["owner_name"]


def test_messages_are_read_only():
    props, body = PROTON["RepoInit"]
    msg = parse_message({"properties": props, "body": body}, connection())
    with pytest.raises(AttributeError):
        msg.repo_id = 9
    assert msg.repo_id == 8
