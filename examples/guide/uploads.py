import tempfile
from pathlib import Path

from twisted.internet import defer, task

from txkoji import Connection
from txkoji.files import build_from_srpm, unique_upload_dir, upload


async def main(reactor):
    srpm = Path(tempfile.mkdtemp()) / "hello-1.0-1.src.rpm"
    srpm.write_bytes(b"stands for a real source RPM" * 1000)
    koji = Connection("fedora")
    try:
        await koji.login()
        done = await upload(
            koji,
            srpm,
            unique_upload_dir("cli-import"),
            progress=lambda sent, total: None,
        )
        print(f"uploaded {done.size} bytes to {done.path.split('/')[0]}/...")
        task_id = await build_from_srpm(koji, "f40-candidate", srpm)
        print("scratch build: task", task_id)
    finally:
        await koji.close()


task.react(lambda reactor: defer.ensureDeferred(main(reactor)))
