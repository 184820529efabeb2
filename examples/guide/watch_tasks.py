from twisted.internet import defer, task

from txkoji import Connection
from txkoji.watch import TaskWatcher, watch_tasks


def show(event):  # a TaskStateChange, as from the bus
    print(event.task["id"], event.task["method"], event.old, "->", event.new)


async def main(reactor):
    koji = Connection("fedora")
    try:
        trees = await watch_tasks(koji, [50001], on_event=show, interval=1)
        for node in trees[0].walk():
            print("  " * node.depth, node.id, node.task.state_name)
        # Progress and ETA of running tasks: a TaskWatcher's statuses.
        watcher = TaskWatcher(koji, [50100], interval=1)
        await watcher.poll()
        await watcher.poll()  # the estimates' history comes along
        status = watcher.get(50100)
        print(status.id, status.task.state_name, status.eta, status.progress)
    finally:
        await koji.close()


task.react(lambda reactor: defer.ensureDeferred(main(reactor)))
