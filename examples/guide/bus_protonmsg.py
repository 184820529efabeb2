"""Announce the next COUNT completed builds from Koji's protonmsg bus.

python bus_protonmsg.py amqps://broker.example.com COUNT
"""

import sys

from twisted.internet import defer, task

import txkoji.bus
from txkoji import Connection
from txkoji.messages import BuildStateChange


async def main(reactor, url, count, cert, key, ca):
    koji = Connection("fedora")
    announced = []
    enough = defer.Deferred()

    def announce(event):
        if isinstance(event, BuildStateChange) and event.event == "COMPLETE":
            print(f"{event.build.nvr} built: {event.url}")
            announced.append(event)
            if len(announced) == count:
                enough.callback(None)

    sub = await txkoji.bus.subscribe(
        koji,
        url,
        transport="protonmsg",
        topics=["/topic/koji.build.#"],
        handler=announce,
        subscription="announce-bot",  # a quorum queue declared beforehand
        ssl_cert=cert,
        ssl_key=key,
        ssl_ca=ca,
    )
    await enough
    await sub.stop()
    print(sub.stats)
    await koji.close()


url, count, *tls = sys.argv[1:]
cert, key, ca = tls or (None, None, None)
task.react(
    lambda reactor: defer.ensureDeferred(main(reactor, url, int(count), cert, key, ca))
)
