from twisted.internet import defer, task

from txkoji import Connection
from txkoji.testing import HubServer
from txkoji.watch import feed


async def main(reactor):
    server = HubServer(reactor)
    await server.start()
    simulator = server.hub.simulate(speed=120)
    reactor.callLater(1, simulator.start_build, "bash")
    koji = Connection(server=server.url)
    events = feed(koji, interval=0.5)
    try:
        async for event in events:
            print(type(event).__name__, event.event, event.checkpoint[:12])
            if event.event == "Tag":
                break
    finally:
        events.close()
        simulator.stop()
        await koji.close()
        await server.stop()


task.react(lambda reactor: defer.ensureDeferred(main(reactor)))
