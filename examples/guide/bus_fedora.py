from twisted.internet import defer, task

import txkoji.bus
from txkoji import Connection
from txkoji.messages import TaskStateChange


async def main(reactor):
    koji = Connection("fedora")
    stream = txkoji.bus.events(
        koji,
        "amqps://rabbitmq.fedoraproject.org/%2Fpublic_pubsub",
        transport="fedora",
        topics=["org.fedoraproject.prod.buildsys.task.state.change"],
        ssl_cert="fedora-cert.pem",
        ssl_key="fedora-key.pem",
        ssl_ca="cacert.pem",
    )
    async for event in stream:
        if isinstance(event, TaskStateChange) and event.event == "FAILED":
            print(f"task {event.task.id} ({event.task.method}) failed: {event.url}")
    await stream.stop()


task.react(lambda reactor: defer.ensureDeferred(main(reactor)))
