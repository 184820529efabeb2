from twisted.internet import defer, task

from txkoji import Connection


@defer.inlineCallbacks
def main(reactor):
    koji = Connection("fedora")
    yield koji.login()  # fires True
    user = yield koji.getLoggedInUser()
    print("logged in as", user.name)
    yield koji.createTag("my-tag")
    yield koji.close()  # logs out, then closes


task.react(main)
