from twisted.internet import defer, task

from txkoji import Connection


@defer.inlineCallbacks
def main(reactor):
    koji = Connection("fedora")
    yield koji.login()
    sub = yield koji.subsession()  # a Connection-like object
    user = yield sub.getLoggedInUser()
    print("subsession", sub.session_id, "of", koji.session_id, "for", user.name)
    yield sub.close()  # ends this subsession only

    pool = yield koji.session_pool(4)  # four subsessions
    tasks = yield defer.gatherResults(
        [pool.getTaskInfo(task_id) for task_id in range(50001, 50013)]
    )
    print(len(tasks), "tasks through", len(pool), "subsessions")
    yield pool.close()
    yield koji.close()


task.react(main)
