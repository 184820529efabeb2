from datetime import datetime, timezone

from twisted.internet import defer, task

from txkoji import Connection, build_states


@defer.inlineCallbacks
def main(reactor):
    koji = Connection("fedora")
    builds = yield koji.listBuilds("bash", state=build_states.BUILDING)
    build = builds[0]
    owner = yield koji.cache.user_name(build.owner_id)
    est = yield build.estimate_completion()
    remaining = est - datetime.now(timezone.utc)  # 0.10: datetime.utcnow()
    print(build.nvr, "by", owner, "due" if remaining.days >= 0 else "overdue")
    yield koji.close()


task.react(main)
