"""Every Fedora buildsys message the koji-fedoramessaging-messages schemas
accept becomes an event: the plugin's own bodies for every record of the
data set, and bodies generated from each schema.  No broker: the fedora
transport hands txkoji what fedora-messaging validated, and this is what
txkoji does with it."""

from __future__ import annotations

import json
from importlib.metadata import entry_points

import jsonschema
import pytest
import pytest_twisted
from hypothesis import HealthCheck, Phase, given, settings

from tests.fake_connection import FakeConnection
from tests.fedora_plugin import BASE_URL, plugin_messages
from tests.fedora_publish import as_published
from tests.schema_strategies import from_schema
from txkoji.bus.fedora_shapes import MAKERS, fedora_event
from txkoji.cli.eventlines import event_json, event_line
from txkoji.messages import (
    BuildPromote,
    BuildStateChange,
    MalformedMessage,
    PackageListChange,
    RepoDone,
    RepoInit,
    RPMSign,
    TagUntag,
    TaskStateChange,
)

PREFIX = "org.fedoraproject.prod.buildsys."

#: The schema classes koji-fedoramessaging-messages registers, by topic.
SCHEMAS = {
    cls.topic: cls
    for cls in (
        point.load()
        for point in entry_points(group="fedora.messages")
        if point.name.startswith("koji_fedoramessaging.")
    )
}

#: The event class each topic becomes.
EVENTS = {
    "buildsys.build.state.change": BuildStateChange,
    "buildsys.task.state.change": TaskStateChange,
    "buildsys.tag": TagUntag,
    "buildsys.untag": TagUntag,
    "buildsys.package.list.change": PackageListChange,
    "buildsys.repo.init": RepoInit,
    "buildsys.repo.done": RepoDone,
    "buildsys.rpm.sign": RPMSign,
    # No schema: the plugin sends it as fedora-messaging's base message.
    "buildsys.build.promote": BuildPromote,
}


def schema_accepts(topic: str, body: dict) -> bool:
    try:
        jsonschema.validate(body, SCHEMAS[topic].body_schema)
    except jsonschema.ValidationError:
        return False
    return True


def test_every_schema_has_an_event():
    assert set(EVENTS) == {f"buildsys.{kind}" for kind in MAKERS}
    assert set(EVENTS) - set(SCHEMAS) == {"buildsys.build.promote"}
    assert set(SCHEMAS) <= set(EVENTS)


def test_every_plugin_message_becomes_an_event():
    koji = FakeConnection()
    messages = plugin_messages()
    accepted = 0
    for topic, body in messages:
        # What the schema refuses, the plugin sends as a schema-less
        # message on the same topic: txkoji reads those too.
        accepted += f"buildsys.{topic}" in SCHEMAS and schema_accepts(
            f"buildsys.{topic}", body
        )
        event = fedora_event(PREFIX + topic, body, koji)
        assert isinstance(event, EVENTS[f"buildsys.{topic}"]), (topic, body)
    kinds = {topic for topic, _ in messages}
    assert kinds == set(MAKERS)
    # Most of them pass their schema (build.state.change never does: the
    # schema wants a "task" the plugin does not send).
    assert accepted >= len(messages) // 2


@pytest_twisted.ensureDeferred
async def test_task_owner_is_a_name_and_the_task_is_there():
    koji = FakeConnection()
    topic, body = next(m for m in plugin_messages() if m[0] == "task.state.change")
    assert isinstance(body["info"]["owner"], str)
    event = fedora_event(PREFIX + topic, body, koji)
    assert await event.user() == body["owner"]
    assert event.task.id == body["id"]
    assert event.task.method == body["method"]
    assert event.task.created is not None  # from the plugin's timestamp
    assert event.url == body["info"]["url"].replace(BASE_URL + "/koji", koji.weburl)


def test_package_list_change_without_owner_or_ids():
    koji = FakeConnection()
    bodies = [
        body
        for topic, body in plugin_messages()
        if topic == "package.list.change" and body["action"] in ("unblock", "remove")
    ]
    assert bodies and all(body["owner"] is None for body in bodies)
    for body in bodies:
        event = fedora_event(PREFIX + "package.list.change", body, koji)
        assert event.user_name is None
        assert event.package.name == body["package"]
        assert event.package.package_id is None
        assert event.tag == body["tag"]
    bare = fedora_event(PREFIX + "package.list.change", {}, koji)
    assert (bare.tag, bare.package.name, bare.action, bare.user_name) == (
        None,
        None,
        None,
        None,
    )


@pytest_twisted.ensureDeferred
async def test_missing_parts_are_fetched_on_request():
    koji = FakeConnection(
        {
            "getBuild": {"id": 1001, "nvr": "bash-5.2.26-1.fc40", "volume_id": 0},
            "getTaskInfo": {"id": 50001, "method": "build", "request": ["x"]},
        }
    )
    tag = fedora_event(PREFIX + "tag", {"build_id": 1001}, koji)
    assert tag.build.id == 1001 and tag.tag is None
    full = await tag.fetch_build()
    assert full["volume_id"] == 0
    assert koji.calls[-1] == ("getBuild", (1001,), {})
    task = fedora_event(
        PREFIX + "task.state.change",
        {"info": {"id": 50001, "method": "build"}, "new": "OPEN"},
        koji,
    )
    assert (await task.fetch_task())["request"] == ["x"]
    assert koji.calls[-1] == ("getTaskInfo", (50001,), {"request": True})
    assert await fedora_event(PREFIX + "tag", {}, koji).fetch_build() is None


@pytest_twisted.ensureDeferred
async def test_build_promote_has_no_schema_and_becomes_an_event():
    koji = FakeConnection()
    [(topic, body)] = [m for m in plugin_messages() if m[0] == "build.promote"]
    # The plugin has no case for it: only what every body gets.
    assert body == {"base_url": BASE_URL, "instance": "primary"}
    assert as_published(topic, body) == ["Message", body, "buildsys.build.promote"]
    event = fedora_event(PREFIX + topic, body, koji)
    assert isinstance(event, BuildPromote)
    assert event.build.connection is koji
    assert (event.build.id, event.draft_release, event.target_release) == (
        None,
        None,
        None,
    )
    assert event.user_name is None and event.url is None
    # It names no build: there is nothing to read from the hub.
    assert await event.fetch_build() is None
    assert koji.calls == []
    line, record = event_line(event), json.loads(event_json(event))
    assert line.endswith("promote a draft build (the message names none)"), line
    assert (record["build_id"], record["nvr"]) == (None, None)
    # What it has, it must hold right: a garbled body is refused.
    with pytest.raises(MalformedMessage, match="not a JSON object"):
        fedora_event(PREFIX + topic, ["base_url"], koji)


#: Generated bodies per schema.
EXAMPLES = 60


@pytest.mark.parametrize("topic", sorted(SCHEMAS))
def test_every_body_the_schema_accepts_becomes_an_event(topic):
    schema = SCHEMAS[topic].body_schema
    made = []

    # The property runs inside the test (not as one), so that
    # pytest-twisted's hook leaves Hypothesis alone.
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        # A failing body is shown whole: shrinking these takes minutes.
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(from_schema(schema))
    def becomes_an_event(body):
        jsonschema.validate(body, schema)  # the strategy makes only valid ones
        event = fedora_event("org.fedoraproject.prod." + topic, body, FakeConnection())
        assert isinstance(event, EVENTS[topic])
        made.append(event)

    becomes_an_event()
    assert len(made) >= EXAMPLES // 2
