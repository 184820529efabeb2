"""Run by test_watch_feed: ``async for`` over a feed in an asyncio task,
under Twisted's asyncio reactor, against a simulating fake hub; prints
the first events."""

import asyncio

from twisted.internet import asyncioreactor


async def main() -> None:
    from twisted.internet import reactor

    from txkoji import Connection
    from txkoji.testing import HubServer
    from txkoji.watch import feed

    loop = asyncio.get_running_loop()
    server = HubServer(reactor)
    await server.start().asFuture(loop)
    simulator = server.hub.simulate(seed=2, speed=30)
    reactor.callLater(0.5, simulator.start_build, "bash")
    koji = Connection(server=server.url)
    events = feed(koji, interval=0.2)
    try:
        seen = 0
        async for event in events:
            print(type(event).__name__, event.event, flush=True)
            seen += 1
            if seen == 3:
                break
    finally:
        events.close()
        simulator.stop()
        await koji.close().asFuture(loop)
        await server.stop().asFuture(loop)


if __name__ == "__main__":
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    asyncioreactor.install(loop)
    from twisted.internet import reactor

    reactor.startRunning(installSignalHandlers=False)
    try:
        loop.run_until_complete(main())
    finally:
        reactor.stop()
        loop.run_forever()
        loop.close()
