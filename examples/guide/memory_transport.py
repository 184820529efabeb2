from twisted.internet.task import Clock

from txkoji import Connection
from txkoji.testing import FakeHub, memory_transport

hub = FakeHub(Clock())
koji = Connection(server="https://koji.test/kojihub", transport=memory_transport(hub))
builds = []
koji.getBuild(1003).addCallback(builds.append)
print(builds[0].nvr, builds[0].state_name)
koji.close()
