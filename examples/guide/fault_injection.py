from twisted.internet import defer, task

from txkoji import Connection
from txkoji.exceptions import ServerOffline
from txkoji.testing import HubServer


async def main(reactor):
    server = HubServer(reactor)
    await server.start(port=0)
    koji = Connection(server=server.url)
    try:
        server.hub.faults.add(method="getBuild", offline=True)
        try:
            await koji.getBuild(1001)
        except ServerOffline:
            print("the hub said it is offline")
        build = await koji.getBuild(1001)
        print(build.nvr)
    finally:
        await koji.close()
        await server.stop()


task.react(lambda reactor: defer.ensureDeferred(main(reactor)))
