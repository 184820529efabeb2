"""Announce the next COUNT completed builds from Koji's protonmsg bus.

python bus_protonmsg.py amqps://broker.example.com COUNT
"""

import sys

from twisted.internet import defer, task

import txkoji.bus
from txkoji import Connection
from txkoji.messages import BuildStateChange


async def main(reactor, url, count):
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
    )
    await enough
    await sub.stop()
    print(sub.stats)
    await koji.close()


task.react(
    lambda reactor: defer.ensureDeferred(main(reactor, sys.argv[1], int(sys.argv[2])))
)
