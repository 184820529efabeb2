from twisted.internet import defer, task

from txkoji import Connection


async def main(reactor):
    koji = Connection("fedora")
    try:
        build = await koji.getBuild("bash-5.2.26-1.fc40")
        print(build.nvr, build.state_name, build.duration, build.url)
        user = await koji.getUser(build.owner_id)
        print("built by", user.name)
    finally:
        await koji.close()


task.react(lambda reactor: defer.ensureDeferred(main(reactor)))
