from twisted.internet import defer, task

from txkoji import Connection
from txkoji.exceptions import KojiFault


async def main(reactor):
    koji = Connection("fedora")
    mc = koji.MultiCall()
    first = mc.getBuild(1001)
    mc.getTaskInfo(50010, request=True)
    mc.getTag("no-such-tag", strict=True)
    results = await mc()  # one HTTP request
    print(first.result.nvr)
    try:
        for value in results:  # raises each failed call's exception
            print(type(value).__name__)
    except KojiFault as fault:
        print("failed:", fault.faultCode, fault.faultString)
    await koji.close()


task.react(lambda reactor: defer.ensureDeferred(main(reactor)))
