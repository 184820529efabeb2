import tempfile

from twisted.internet import defer, task

from txkoji import Connection
from txkoji.files import download_build, download_task_output


async def main(reactor):
    koji = Connection("fedora")  # with topurl in the profile
    dest = tempfile.mkdtemp()
    try:
        rpms = await download_build(koji, "bash-5.2.26-2.fc40", dest, arches=["x86_64"])
        logs = await download_task_output(
            koji, 50020, dest, logs=True, names=["build.log"]
        )
    finally:
        await koji.close()
    print("rpms:", ", ".join(sorted(path.name for path in rpms)))
    print("logs of the failed build:", ", ".join(p.name for p in logs))


task.react(lambda reactor: defer.ensureDeferred(main(reactor)))
