"""Print the next COUNT failed tasks from Fedora's message bus.

    python bus_fedora.py amqps://rabbitmq.fedoraproject.org/%2Fpublic_pubsub \
        COUNT fedora-cert.pem fedora-key.pem cacert.pem

(the TLS files are for amqps:// brokers; leave them out for amqp://).
"""

import sys

from twisted.internet import defer, task

import txkoji.bus
from txkoji import Connection
from txkoji.messages import TaskStateChange


async def main(reactor, url, count, cert, key, ca):
    koji = Connection("fedora")
    stream = txkoji.bus.events(
        koji,
        url,
        transport="fedora",
        topics=["org.fedoraproject.*.buildsys.task.state.change"],
        ssl_cert=cert,
        ssl_key=key,
        ssl_ca=ca,
    )
    failed = 0
    async for event in stream:  # acknowledged when the loop's body is done
        if isinstance(event, TaskStateChange) and event.event == "FAILED":
            print(f"task {event.task.id} ({event.task.method}) failed: {event.url}")
            failed += 1
            if failed == count:
                break
    await stream.stop()
    await koji.close()


url, count, *tls = sys.argv[1:]
cert, key, ca = tls or (None, None, None)
task.react(
    lambda reactor: defer.ensureDeferred(main(reactor, url, int(count), cert, key, ca))
)
