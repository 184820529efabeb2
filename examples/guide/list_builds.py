from twisted.internet import defer, task

from txkoji import Connection, build_states


async def main(reactor):
    koji = Connection("fedora")
    package = await koji.getPackage("bash")
    builds = await koji.listBuilds(
        package.id,
        state=build_states.COMPLETE,
        queryOpts={"order": "-completion_ts", "limit": 2},
    )
    for build in builds:
        print(build.nvr, f"{build.completed:%Y-%m-%d}", build.duration)
    print("hub version", koji.hub_version)
    await koji.close()


task.react(lambda reactor: defer.ensureDeferred(main(reactor)))
