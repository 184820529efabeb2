"""The fedora transport against a real RabbitMQ, with messages published
by fedora-messaging's publish API and the koji-fedoramessaging schemas."""

from __future__ import annotations

import pytest_twisted
from twisted.internet import defer
from twisted.internet.threads import deferToThread

from tests.bus_helpers import Recorder, restart_twice_midstream, unique, wait_for
from tests.fedora_publish import PREFIX, dataset_messages, mixed_messages, publish
from txkoji import Connection
from txkoji.bus import subscribe
from txkoji.messages import (
    BuildPromote,
    BuildStateChange,
    PackageListChange,
    RepoDone,
    RepoInit,
    RPMSign,
    TagUntag,
    TaskStateChange,
)


async def start(koji, rabbitmq, name, handler, **options):
    return await subscribe(
        koji,
        rabbitmq.url,
        transport="fedora",
        topics=[f"{PREFIX}.buildsys.#"],
        handler=handler,
        subscription=name,
        **options,
    )


@pytest_twisted.ensureDeferred
async def test_fedora_messages_arrive_as_events(rabbitmq, tmp_path):
    koji = Connection(
        server="https://koji.example.com/kojihub",
        weburl="https://koji.example.com/koji",
    )
    name = unique("fedora")
    recorder = Recorder()
    sub = await start(koji, rabbitmq, name, recorder)
    messages = dataset_messages()
    ids = await publish(rabbitmq, tmp_path, messages)
    await wait_for(lambda: recorder.handled >= set(ids), "every fedora message")
    await sub.stop()

    assert len(set(ids)) == len(messages)
    assert (sub.stats.malformed, sub.stats.rejected, sub.stats.redelivered) == (0, 0, 0)
    events = dict(recorder.seen)
    assert {type(e) for e in events.values()} == {
        BuildStateChange,
        TaskStateChange,
        TagUntag,
        PackageListChange,
        RepoInit,
        RepoDone,
        RPMSign,
        BuildPromote,
    }
    # Fedora's task owner is a name; a package list change may name none.
    task_event = next(e for e in events.values() if isinstance(e, TaskStateChange))
    assert isinstance(await task_event.user(), str)
    assert any(
        e.user_name is None for e in events.values() if isinstance(e, PackageListChange)
    )
    assert all(e.connection is koji for e in events.values())
    build_event = next(e for e in events.values() if isinstance(e, BuildStateChange))
    assert build_event.build.nvr.startswith(build_event.build.name + "-")
    assert (
        build_event.url
        == f"https://koji.example.com/koji/buildinfo?buildID={build_event.build.id}"
    )
    assert await deferToThread(rabbitmq.queue_depth, name) == 0


@pytest_twisted.ensureDeferred
async def test_fedora_redelivery_rejection_and_malformed(rabbitmq, tmp_path):
    koji = Connection(server="https://koji.example.com/kojihub")
    name = unique("fedora-fail")
    messages = dataset_messages()[:12]
    malformed = [
        ["Message", {"hello": "world"}, "buildsys.build.state.change"],
        ["Message", {"id": 1}, "buildsys.no.such.kind"],
        # A task message without a task id (its schema would refuse it).
        ["Message", {"new": "OPEN", "info": {}}, "buildsys.task.state.change"],
    ]
    failing = {}

    def fail(event, attempt):
        if not failing:
            failing["retried"] = event.message_id
        elif len(failing) == 1 and event.message_id != failing["retried"]:
            failing["rejected"] = event.message_id
        if event.message_id == failing.get("retried"):
            return attempt <= 3
        return event.message_id == failing.get("rejected")

    recorder = Recorder(fail=fail)
    sub = await start(koji, rabbitmq, name, recorder, max_redeliveries=4)
    ids = await publish(rabbitmq, tmp_path, messages + malformed)
    good = set(ids[: len(messages)])
    await wait_for(
        lambda: (
            recorder.handled >= good - {failing.get("rejected")}
            and sub.stats.rejected == 1
            and sub.stats.malformed == len(malformed)
        ),
        "every fedora message",
    )
    await sub.stop()

    assert recorder.attempts(failing["retried"]) == 4
    assert recorder.attempts(failing["rejected"]) == 5
    assert sub.stats.redelivered == 3 + 4
    assert await deferToThread(rabbitmq.queue_depth, name) == 0


#: Messages of the fedora restart test: not the issue's 10,000, because
#: fedora-messaging validates every message against its JSON schema when
#: publishing and again when consuming (about 47 ms each on the shared
#: 2-core test machine), so the fedora path moves about 20 messages a
#: second and 10,000 would take the suite's whole time budget.
FEDORA_RESTART_MESSAGES = 300


@pytest_twisted.ensureDeferred
async def test_fedora_every_message_handled_across_two_broker_restarts(
    rabbitmq, tmp_path, record_property
):
    koji = Connection(server="https://koji.example.com/kojihub")
    name = unique("fedora-restarts")
    recorder = Recorder()
    sub = await start(koji, rabbitmq, name, recorder)
    messages = mixed_messages(FEDORA_RESTART_MESSAGES)
    publishing = defer.ensureDeferred(publish(rabbitmq, tmp_path, messages))
    await restart_twice_midstream(rabbitmq, recorder, len(messages))
    ids = set(await publishing)
    await wait_for(lambda: recorder.handled >= ids, "every message")
    await sub.stop()

    assert len(ids) == FEDORA_RESTART_MESSAGES
    duplicates = len(recorder.seen) - len(ids)
    record_property("handled_twice", duplicates)
    print(
        f"\nfedora: {len(ids)} messages, 2 broker restarts: all handled, "
        f"{duplicates} handled more than once"
    )


@pytest_twisted.ensureDeferred
async def test_fedora_stopping_mid_stream_loses_nothing(rabbitmq, tmp_path):
    koji = Connection(server="https://koji.example.com/kojihub")
    name = unique("fedora-handover")
    first = Recorder()
    sub = await start(koji, rabbitmq, name, first)
    ids = set(await publish(rabbitmq, tmp_path, mixed_messages(150)))
    await wait_for(lambda: len(first.handled) >= 30, "the first 30 messages")
    await sub.stop()
    stopped_at = len(first.handled)
    second = Recorder()
    sub = await start(koji, rabbitmq, name, second)
    await wait_for(lambda: first.handled | second.handled >= ids, "every message")
    await sub.stop()

    assert len(first.handled) == stopped_at < len(ids)
    assert second.handled
    assert first.handled | second.handled == ids
