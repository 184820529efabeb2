"""The protonmsg transport against a real RabbitMQ (AMQP 1.0 plugin), with
messages published as the hub's protonmsg plugin publishes them."""

from __future__ import annotations

import pytest_twisted
from twisted.internet.threads import deferToThread

from tests.bus_helpers import Recorder, unique, wait_for
from tests.bus_messages import dataset_messages
from tests.bus_publish import publish_as_hub
from txkoji import Connection
from txkoji.bus import subscribe
from txkoji.bus.protonmsg import message_id_of
from txkoji.messages import BuildStateChange, TagUntag, TaskStateChange

WEBURL = "https://koji.example.com/koji"


def ids_of(messages) -> list[str]:
    return [message_id_of(None, properties, body) for _, properties, body in messages]


@pytest_twisted.ensureDeferred
async def test_hub_messages_arrive_as_events(rabbitmq, hub_server):
    koji = Connection(server=hub_server.url, weburl=WEBURL)
    name = unique("events")
    await deferToThread(rabbitmq.declare_queue, name, ["koji.#"])
    recorder = Recorder()
    sub = await subscribe(
        koji,
        rabbitmq.amqp1_url,
        transport="protonmsg",
        topics=["/topic/koji.#"],
        handler=recorder,
        subscription=name,
    )
    messages = dataset_messages()
    await deferToThread(publish_as_hub, rabbitmq.amqp1_url, messages)
    expected = set(ids_of(messages))
    await wait_for(lambda: recorder.handled >= expected, "every dataset message")
    await sub.stop()

    assert len(expected) == len(messages)
    assert sub.stats.handled == len(recorder.seen) >= len(messages)
    assert (sub.stats.malformed, sub.stats.rejected, sub.stats.redelivered) == (0, 0, 0)
    events = dict(recorder.seen)
    kinds = {type(event) for event in events.values()}
    assert kinds == {BuildStateChange, TaskStateChange, TagUntag}
    assert all(event.connection is koji for event in events.values())
    completed = [
        e for e in events.values() if isinstance(e, BuildStateChange) and e.event == "COMPLETE"
    ]
    assert completed and all(e.url.startswith(WEBURL + "/buildinfo?buildID=") for e in completed)
    # The event reads its full record from the hub when asked.
    task_event = next(e for e in events.values() if isinstance(e, TaskStateChange))
    info = await koji.getTaskInfo(task_event.task.id)
    await koji.close()
    assert info["method"] == task_event.task.method
    assert await deferToThread(rabbitmq.queue_depth, name) == 0
