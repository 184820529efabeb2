from twisted.internet import defer, task

from txkoji import Connection
from txkoji.testing import HubServer
from txkoji.testing.simulator import dataset_clock


async def main(reactor):
    clock = dataset_clock()  # a Clock at the data set's present
    server = HubServer(clock=clock, simulate=True, seed=1)
    await server.start()
    koji = Connection(server=server.url)
    try:
        sim = server.hub.simulator
        task_id = sim.start_build("bash", outcome="failed")  # or complete, canceled
        sim.advance(600)  # ten hub minutes, change by change
        sim.run(task_id)  # or: every change now, until it ends
        sim.tag_build("bash-5.2.26-1.fc40", "f40-updates", user="alice")
        info = await koji.getTaskInfo(task_id)
        print(f"task {task_id}: {info.state_name}")
        tagged = await koji.listTagged("f40-updates")
        print("f40-updates:", ", ".join(sorted(build.nvr for build in tagged)))
    finally:
        await koji.close()
        await server.stop()  # stops the simulator too


task.react(lambda reactor: defer.ensureDeferred(main(reactor)))
