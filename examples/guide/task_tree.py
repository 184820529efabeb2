from twisted.internet import defer, task

from txkoji import Connection


@defer.inlineCallbacks
def main(reactor):
    koji = Connection("fedora")
    task_info = yield koji.getTaskInfo(50010)
    print(task_info.method, task_info.package, task_info.target)
    for child in (yield task_info.descendents()):
        print("  ", child.id, child.method, child.arch, child.state_name)
    yield koji.close()


task.react(main)
