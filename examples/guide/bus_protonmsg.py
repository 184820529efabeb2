import sys

from twisted.internet import defer, task

import txkoji.bus
from txkoji import Connection
from txkoji.messages import BuildStateChange


def announce(event):
    if isinstance(event, BuildStateChange) and event.event == "COMPLETE":
        print(f"{event.build.nvr} built: {event.url}")


async def main(reactor, url):
    koji = Connection("fedora")
    sub = await txkoji.bus.subscribe(
        koji,
        url,
        transport="protonmsg",
        topics=["/topic/koji.build.#"],
        handler=announce,
        subscription="announce-bot",
    )
    await task.deferLater(reactor, 3600, lambda: None)  # run for an hour
    await sub.stop()
    print(sub.stats)


task.react(lambda reactor: defer.ensureDeferred(main(reactor, sys.argv[1])))
