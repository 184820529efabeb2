"""File transfer benchmark: txkoji against the official client, requests
and curl, through the fake hub (txkoji.testing) in its own process over
TLS.

::

    .venv/bin/python benchmarks/files_bench.py [--scale 1.0] [--runs 1]

Uploads: one 1 GiB file, then 20 files of 50 MiB, by txkoji
(``upload_many``, 1 MiB and 8 MiB chunks, 4 files at once) and by the
official ``ClientSession.uploadWrapper`` (fast upload, 1 MiB blocks, one
file after another).  Downloads: the 1 GiB file from ``topurl`` by txkoji
(``download``), ``requests`` streaming (as the official CLI) and ``curl``.
``--scale`` shrinks every size (0.25: 256 MiB and 20 x 12.5 MiB).  Each
transfer runs in a process of its own (``clients/files_client.py``); the
table goes to ``benchmarks/FILES_RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WORK = os.path.join(HERE, ".work", "files")
MIB = 1 << 20

#: (label, client, which files, chunk, concurrency)
UPLOADS = [
    ("1 file", "txkoji", "one", MIB, 1),
    ("1 file", "txkoji", "one", 8 * MIB, 1),
    ("1 file", "koji", "one", MIB, 1),
    ("20 files", "txkoji", "many", MIB, 4),
    ("20 files", "txkoji", "many", 8 * MIB, 4),
    ("20 files", "koji", "many", MIB, 1),
]
DOWNLOADS = ["txkoji", "requests", "curl"]


def make_file(path: str, size: int) -> None:
    """Write ``size`` random bytes to ``path`` unless it has that size."""
    if os.path.exists(path) and os.path.getsize(path) == size:
        return
    with open(path, "wb") as out:
        left = size
        while left:
            piece = os.urandom(min(left, 16 * MIB))
            out.write(piece)
            left -= len(piece)


def run_client(hub: dict, client: str, op: str, files: list[str], **opts) -> dict:
    """Run one measured transfer in its own process; return its figures."""
    command = [
        sys.executable,
        os.path.join(HERE, "clients", "files_client.py"),
        client,
        op,
        *files,
        "--url",
        hub["url"],
        "--topurl",
        hub["topurl"],
        "--certs",
        os.path.join(WORK, "certs"),
        "--dest",
        os.path.join(WORK, "dest"),
        *(f"--{key}={value}" for key, value in opts.items()),
    ]
    out = subprocess.run(command, capture_output=True, text=True, check=False)
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise RuntimeError(f"{client} {op} failed:\n{out.stdout}\n{out.stderr}")


def best(results: list[dict]) -> dict:
    """The run with the highest throughput."""
    return max(results, key=lambda figures: figures["mib_per_s"])


def main() -> None:
    """Run every transfer and write the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--output", default=os.path.join(HERE, "FILES_RESULTS.md"))
    args = parser.parse_args()
    for sub in ("certs", "src", "top", "dest"):
        os.makedirs(os.path.join(WORK, sub), exist_ok=True)
    one = os.path.join(WORK, "src", "big.bin")
    make_file(one, int(1024 * MIB * args.scale))
    many = [os.path.join(WORK, "src", f"part{i:02d}.bin") for i in range(20)]
    for path in many:
        make_file(path, int(50 * MIB * args.scale))
    served = os.path.join(WORK, "top", "work", "served")
    os.makedirs(served, exist_ok=True)
    if not os.path.exists(os.path.join(served, "big.bin")):
        os.link(one, os.path.join(served, "big.bin"))
    hub_process = subprocess.Popen(
        [
            sys.executable,
            os.path.join(HERE, "files_hub.py"),
            os.path.join(WORK, "certs"),
            os.path.join(WORK, "top"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        hub = json.loads(hub_process.stdout.readline())
        rows = []
        for label, client, which, chunk, concurrency in UPLOADS:
            files = [one] if which == "one" else many
            runs = []
            for _ in range(args.runs):
                runs.append(
                    run_client(
                        hub,
                        client,
                        "upload",
                        files,
                        chunk=chunk,
                        concurrency=concurrency,
                    )
                )
                shutil.rmtree(os.path.join(WORK, "top", "work", "bench"), True)
            rows.append(("upload " + label, client, best(runs)))
            print(rows[-1], flush=True)
        for client in DOWNLOADS:
            runs = []
            for _ in range(args.runs):
                runs.append(
                    run_client(hub, client, "download", ["work/served/big.bin"])
                )
                os.unlink(os.path.join(WORK, "dest", "big.bin"))
            rows.append(("download 1 file", client, best(runs)))
            print(rows[-1], flush=True)
    finally:
        hub_process.terminate()
        hub_process.wait()
    write_table(args, rows)


def write_table(args: argparse.Namespace, rows: list) -> None:
    """Write the Markdown results."""
    lines = [
        "# File transfer benchmark",
        "",
        f"`benchmarks/files_bench.py --scale {args.scale} --runs {args.runs}`, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{os.cpu_count()} CPUs.  Fake hub in its own process over TLS on "
        "127.0.0.1; best of the runs.  CPU is the client process's (for curl, "
        "the curl child's); RSS growth is the peak above the RSS before the "
        "transfer (for curl, its whole peak RSS).",
        "",
        "| transfer | client | chunk | files at once | MiB | MiB/s | CPU s | "
        "RSS growth MiB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for what, client, figures in rows:
        chunk = figures.get("chunk")
        growth = figures.get("growth_kb")
        lines.append(
            f"| {what} | {client} | "
            f"{'-' if chunk is None else f'{chunk // MIB} MiB'} | "
            f"{figures.get('concurrency')} | {figures['bytes'] / MIB:.0f} | "
            f"{figures['mib_per_s']:.0f} | {figures['cpu_s']:.2f} | "
            f"{'?' if growth is None else f'{growth / 1024:.1f}'} |"
        )
    with open(args.output, "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
