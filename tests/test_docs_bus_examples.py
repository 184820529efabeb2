"""The documentation's message-bus examples, run against the test
RabbitMQ with messages published as the hub's plugins publish them."""

from __future__ import annotations

import pytest_twisted
from twisted.internet import defer, reactor, task
from twisted.internet.threads import deferToThread

from tests.bus_messages import dataset_messages
from tests.bus_publish import publish_as_hub
from tests.fedora_publish import dataset_messages as fedora_messages
from tests.test_bus_fedora import publish
from tests.test_docs import GUIDE
from tests.test_examples import fedora_profile, run_python
from txkoji.task_states import FAILED
from txkoji.testing.dataset import load_dataset


def start_example(name: str, *args: str, env: dict[str, str]) -> defer.Deferred:
    """Start ``examples/guide/NAME``; the Deferred fires with its output."""
    return defer.ensureDeferred(run_python(str(GUIDE / name), *args, env=env))


@pytest_twisted.ensureDeferred
async def test_protonmsg_example_announces_completed_builds(
    rabbitmq, hub_server, tmp_path
):
    await deferToThread(rabbitmq.declare_queue, "announce-bot", ["koji.build.#"])
    env = fedora_profile(tmp_path, hub_server)
    pki = rabbitmq.pki
    url = f"amqps://{rabbitmq.user}:{rabbitmq.password}@localhost:{rabbitmq.tls_port}"
    files = [str(pki.client_cert), str(pki.client_key), str(pki.ca_cert)]
    running = start_example("bus_protonmsg.py", url, "2", *files, env=env)
    await deferToThread(publish_as_hub, rabbitmq.amqp1_url, dataset_messages())
    out = await running
    lines = [line for line in out.splitlines() if " built: " in line]
    assert len(lines) == 2, out
    assert "https://koji.test/koji/buildinfo?buildID=" in lines[0]
    assert "handled" in out  # the subscription's stats


@pytest_twisted.ensureDeferred
async def test_fedora_example_prints_failed_tasks(rabbitmq, hub_server, tmp_path):
    """Over plain AMQP: fedora-messaging authenticates TLS connections with
    the client certificate (SASL EXTERNAL), which the test broker does not
    offer."""
    env = fedora_profile(tmp_path, hub_server)
    running = start_example("bus_fedora.py", rabbitmq.url, "1", env=env)
    failed = {t["id"] for t in load_dataset()["tasks"] if t["state"] == FAILED}
    # Without a named subscription the example's queue exists only once it
    # has started: publish until it has seen a failed task.
    for _ in range(30):
        await publish(rabbitmq, tmp_path, fedora_messages())
        await task.deferLater(reactor, 2, lambda: None)
        if running.called:
            break
    out = await running
    assert "failed: https://koji.test/koji/taskinfo?taskID=" in out, out
    assert any(f"task {task_id} " in out for task_id in failed), out
