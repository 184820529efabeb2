"""``txkoji events --bus``: the same lines as the polling feed, from a real
RabbitMQ (AMQP 1.0), with messages published as the hub's protonmsg plugin
publishes them."""

from __future__ import annotations

import json

import pytest_twisted
from twisted.internet.threads import deferToThread

from tests.bus_helpers import unique
from tests.bus_messages import dataset_messages
from tests.bus_publish import publish_as_hub
from tests.cli_helpers import CollectOutput, spawn_txkoji, txkoji
from tests.loopback import until


@pytest_twisted.ensureDeferred
async def test_events_from_the_bus_as_json_then_ctrl_c(rabbitmq, hub_server):
    name = unique("cli")
    await deferToThread(rabbitmq.declare_queue, name, ["koji.#"])
    collect = CollectOutput()
    args = ["--server", hub_server.url, "events", "--json", "--bus"]
    args += [rabbitmq.amqp1_url, "--transport", "protonmsg", "--subscription", name]
    args += ["--allow-insecure-mechs"]
    process = spawn_txkoji(collect, args)
    messages = dataset_messages()
    await deferToThread(publish_as_hub, rabbitmq.amqp1_url, messages)

    def all_printed() -> bool:
        whole = collect.out.decode().split("\n")[:-1]
        return len({json.loads(line)["message_id"] for line in whole}) >= len(messages)

    await until(lambda: all_printed() or collect.ended.called, turns=10**7)
    process.signalProcess("INT")
    code = await collect.ended
    records = [json.loads(line) for line in collect.out.decode().splitlines()]
    kinds = {r["event"] for r in records}
    assert kinds >= {"TaskStateChange", "BuildStateChange"}
    assert kinds & {"Tag", "Untag"}
    assert len({r["message_id"] for r in records}) == len(messages)
    assert all(r["message_id"] for r in records)
    assert code == 130
    assert f"subscription {name}" in collect.err.decode()


@pytest_twisted.ensureDeferred
async def test_bus_without_transport_is_refused():
    out, err, code = await txkoji(
        "--server", "http://127.0.0.1:1/kojihub", "events", "--bus", "amqp://x"
    )
    assert code == 2
    assert "--bus needs --transport" in err
