"""Use txkoji from an asyncio program, under Twisted's asyncio reactor.

    python examples/asyncio_app.py --server http://127.0.0.1:8080/kojihub 1001

The asyncio event loop runs the show; Twisted's asyncio reactor shares it,
and ``Deferred.asFuture`` turns txkoji's Deferreds into asyncio futures.
"""

import asyncio

from twisted.internet import asyncioreactor


def arguments(parser):
    parser.add_argument("builds", nargs="+", type=int, help="build ids")


async def main(args):
    from example_args import connect
    from twisted.internet import defer

    loop = asyncio.get_running_loop()
    koji = connect(args)
    try:
        calls = defer.gatherResults([koji.getBuild(b) for b in args.builds])
        builds = await calls.asFuture(loop)
        for build in builds:
            print(f"{build.nvr}: {build.state_name}")
    finally:
        await koji.close().asFuture(loop)


if __name__ == "__main__":
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    asyncioreactor.install(loop)  # before anything imports the reactor
    from example_args import parse
    from twisted.internet import reactor

    arguments_given = parse(__doc__.splitlines()[0], arguments)
    # Start the reactor's services (its thread pool resolves host names)
    # without handing it the loop; stopping it ends run_forever below.
    reactor.startRunning(installSignalHandlers=False)
    try:
        loop.run_until_complete(main(arguments_given))
    finally:
        reactor.stop()
        loop.run_forever()
        loop.close()
