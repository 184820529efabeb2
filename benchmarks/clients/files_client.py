"""Benchmark client for file transfers: one measured transfer per process.

``python files_client.py CLIENT OP --url URL --topurl URL --certs DIR
--dest DIR FILE...`` prints a ``RESULT {json}`` line with bytes, wall
seconds, client CPU seconds and peak RSS growth.

CLIENT / OP:

* ``txkoji`` ``upload`` (``--chunk``, ``--concurrency``) or ``download``;
* ``koji`` ``upload``: the official ``ClientSession.uploadWrapper`` (fast
  upload, its default block size), one file after another;
* ``requests`` ``download``: streaming GET in 1 MiB pieces, as the
  official CLI's ``download_file``;
* ``curl`` ``download``: ``curl -o`` (its CPU and memory are the child's).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))

import measure  # noqa: E402


def arguments() -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("client", choices=["txkoji", "koji", "requests", "curl"])
    parser.add_argument("op", choices=["upload", "download"])
    parser.add_argument("files", nargs="+")
    parser.add_argument("--url", required=True)
    parser.add_argument("--topurl", required=True)
    parser.add_argument("--certs", required=True)
    parser.add_argument("--dest", required=True)
    parser.add_argument("--chunk", type=int, default=1 << 20)
    parser.add_argument("--concurrency", type=int, default=4)
    return parser.parse_args()


def report(meter: measure.Meter, size: int, extra: dict) -> None:
    """Print the RESULT line."""
    figures = {
        "bytes": size,
        "wall_s": meter.wall_s,
        "cpu_s": meter.cpu_s,
        "mib_per_s": size / (1 << 20) / meter.wall_s,
        "growth_kb": meter.growth_kb,
        **extra,
    }
    print("RESULT " + json.dumps(figures), flush=True)


def run_txkoji(args: argparse.Namespace) -> None:
    """Upload with txkoji.files.upload_many, or download with download()."""
    from twisted.internet import defer, task

    from txkoji import Connection
    from txkoji.files import download, upload_many

    async def main(reactor) -> None:
        conn = Connection(
            server=args.url,
            topurl=args.topurl,
            serverca=os.path.join(args.certs, "ca.crt"),
            cert=os.path.join(args.certs, "client.pem"),
            authtype="ssl",
        )
        try:
            await conn.login()
            await conn.getLoggedInUser()
            if args.op == "upload":
                size = sum(os.path.getsize(path) for path in args.files)
                with measure.Meter() as meter:
                    await upload_many(
                        conn,
                        args.files,
                        f"bench/{uuid.uuid4().hex}",
                        concurrency=args.concurrency,
                        chunk_size=args.chunk,
                    )
            else:
                with measure.Meter() as meter:
                    path = await download(conn, args.files[0], args.dest)
                size = path.stat().st_size
        finally:
            await conn.close()
        report(meter, size, {"chunk": args.chunk, "concurrency": args.concurrency})

    task.react(lambda reactor: defer.ensureDeferred(main(reactor)))


def run_koji(args: argparse.Namespace) -> None:
    """Upload with the official ClientSession.uploadWrapper."""
    import koji

    session = koji.ClientSession(args.url, {"serverca": f"{args.certs}/ca.crt"})
    session.ssl_login(cert=f"{args.certs}/client.pem", serverca=f"{args.certs}/ca.crt")
    session.getLoggedInUser()
    directory = f"bench/{uuid.uuid4().hex}"
    size = sum(os.path.getsize(path) for path in args.files)
    with measure.Meter() as meter:
        for path in args.files:
            session.uploadWrapper(path, directory)
    session.logout()
    report(
        meter,
        size,
        {"chunk": session.opts.get("upload_blocksize", 1 << 20), "concurrency": 1},
    )


def run_requests(args: argparse.Namespace) -> None:
    """Stream a GET to disk as the official CLI does."""
    import requests

    url = f"{args.topurl}/{args.files[0]}"
    target = os.path.join(args.dest, os.path.basename(url))
    with requests.Session() as http:
        http.get(args.topurl, verify=f"{args.certs}/ca.crt")  # warm the pool
        with measure.Meter() as meter:
            response = http.get(url, stream=True, verify=f"{args.certs}/ca.crt")
            response.raise_for_status()
            with open(target, "wb") as out:
                for chunk in response.iter_content(chunk_size=1 << 20):
                    out.write(chunk)
    report(meter, os.path.getsize(target), {"chunk": 1 << 20, "concurrency": 1})


def run_curl(args: argparse.Namespace) -> None:
    """Let curl fetch the file; measure the child."""
    url = f"{args.topurl}/{args.files[0]}"
    target = os.path.join(args.dest, os.path.basename(url))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with measure.Meter() as meter:
        subprocess.run(
            [
                "curl",
                "-sS",
                "--fail",
                "--cacert",
                f"{args.certs}/ca.crt",
                "-o",
                target,
                url,
            ],
            check=True,
        )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    meter.cpu_s = (after.ru_utime - before.ru_utime) + (
        after.ru_stime - before.ru_stime
    )
    meter.growth_kb = after.ru_maxrss  # the child's whole peak RSS
    report(meter, os.path.getsize(target), {"chunk": None, "concurrency": 1})


if __name__ == "__main__":
    arguments_ = arguments()
    {
        "txkoji": run_txkoji,
        "koji": run_koji,
        "requests": run_requests,
        "curl": run_curl,
    }[arguments_.client](arguments_)
