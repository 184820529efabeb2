"""File transfer benchmark: txkoji against the official client and curl,
pair by pair, through the fake hub (txkoji.testing) over TLS.

::

    .venv/bin/python benchmarks/files_bench.py [--scale 1.0] [--runs 5]
        [--workers 4] [--only NAME ...]

The hub runs as ``--workers`` processes behind one listening socket
(``files_hub.py``), as mod_wsgi runs the real hub.  Each comparison is a
pair, run in turn A B A B ... ``--runs`` times, each transfer in a process
of its own (``clients/files_client.py``); the ratio is taken pair by
pair (so the machine's drift between runs cancels out) and the median
reported.

Pairs (sizes at ``--scale 1``):

``one-1m``
    one 1 GiB file, txkoji with 1 MiB chunks against the official
    ``ClientSession.uploadWrapper`` (fast upload, 1 MiB blocks);
``one-default``
    the same file, txkoji with its default chunk size;
``twenty``
    20 files of 50 MiB, txkoji ``upload_many`` (default chunk size, 4 files
    at once) against the official client one file after another;
``download``
    the 1 GiB file from ``topurl`` over HTTPS, txkoji ``download`` against
    ``curl -o``.

The table goes to ``benchmarks/FILES_RESULTS.md`` (its ``## Notes``
section, written by hand, is kept).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from txkoji.files.upload import DEFAULT_CHUNK_SIZE  # noqa: E402

WORK = os.path.join(HERE, ".work", "files")
#: The heading of the hand-written notes a new table keeps.
NOTES = "## Notes"
MIB = 1 << 20

#: name -> (what, (client, op, files, chunk, concurrency) for A, then B)
PAIRS = {
    "one-1m": (
        "upload 1 file, 1 MiB chunks",
        ("txkoji", "upload", "one", MIB, 1),
        ("koji", "upload", "one", MIB, 1),
    ),
    "one-default": (
        "upload 1 file, txkoji's default chunk",
        ("txkoji", "upload", "one", DEFAULT_CHUNK_SIZE, 1),
        ("koji", "upload", "one", MIB, 1),
    ),
    "twenty": (
        "upload 20 files",
        ("txkoji", "upload", "many", DEFAULT_CHUNK_SIZE, 4),
        ("koji", "upload", "many", MIB, 1),
    ),
    "download": (
        "download 1 file over HTTPS",
        ("txkoji", "download", "served", MIB, 1),
        ("curl", "download", "served", None, 1),
    ),
}


#: What speaks TLS to the clients, by ``--front``.
FRONTS = {
    "nginx": "behind nginx speaking TLS (as Apache fronts the real hub) and "
    "serving topurl",
    "twisted": "each speaking TLS itself (Twisted's TLS) and serving topurl",
}


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


def run_client(hub: dict, spec: tuple, files: dict[str, list[str]]) -> dict:
    """Run one measured transfer in its own process; return its figures."""
    client, op, which, chunk, concurrency = spec
    command = [
        sys.executable,
        os.path.join(HERE, "clients", "files_client.py"),
        client,
        op,
        *files[which],
        "--url",
        hub["url"],
        "--topurl",
        hub["topurl"],
        "--certs",
        os.path.join(WORK, "certs"),
        "--dest",
        os.path.join(WORK, "dest"),
        f"--concurrency={concurrency}",
    ]
    if chunk is not None:
        command.append(f"--chunk={chunk}")
    out = subprocess.run(command, capture_output=True, text=True, check=False)
    shutil.rmtree(os.path.join(WORK, "top", "work", "bench"), True)
    for name in os.listdir(os.path.join(WORK, "dest")):
        os.unlink(os.path.join(WORK, "dest", name))
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise RuntimeError(f"{client} {op} failed:\n{out.stdout}\n{out.stderr}")


def prepare(scale: float) -> dict[str, list[str]]:
    """Write the source files; return them by kind."""
    for sub in ("certs", "src", "top", "dest"):
        os.makedirs(os.path.join(WORK, sub), exist_ok=True)
    one = os.path.join(WORK, "src", "big.bin")
    make_file(one, int(1024 * MIB * scale))
    many = [os.path.join(WORK, "src", f"part{i:02d}.bin") for i in range(20)]
    for path in many:
        make_file(path, int(50 * MIB * scale))
    served = os.path.join(WORK, "top", "work", "served")
    os.makedirs(served, exist_ok=True)
    if os.path.exists(os.path.join(served, "big.bin")):
        os.unlink(os.path.join(served, "big.bin"))
    os.link(one, os.path.join(served, "big.bin"))
    return {"one": [one], "many": many, "served": ["work/served/big.bin"]}


def main() -> None:
    """Run every pair and write the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--front", choices=("nginx", "twisted"), default="nginx")
    parser.add_argument("--only", nargs="*", choices=sorted(PAIRS))
    parser.add_argument("--output", default=os.path.join(HERE, "FILES_RESULTS.md"))
    args = parser.parse_args()
    files = prepare(args.scale)
    hub_process = subprocess.Popen(
        [
            sys.executable,
            os.path.join(HERE, "files_hub.py"),
            os.path.join(WORK, "certs"),
            os.path.join(WORK, "top"),
            f"--workers={args.workers}",
            f"--front={args.front}",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    results = {}
    try:
        hub = json.loads(hub_process.stdout.readline())
        for name in args.only or PAIRS:
            _, spec_a, spec_b = PAIRS[name]
            runs = []
            for _ in range(args.runs):
                runs.append(
                    (run_client(hub, spec_a, files), run_client(hub, spec_b, files))
                )
                print(name, runs[-1], flush=True)
            results[name] = runs
    finally:
        hub_process.terminate()
        hub_process.wait()
    write_table(args, results)


def _chunk(spec: tuple) -> str:
    chunk = spec[3]
    return "-" if chunk is None else f"{chunk // MIB} MiB"


def write_table(args: argparse.Namespace, results: dict) -> None:
    """Write the Markdown results: medians of each side and of the paired
    ratios."""
    lines = [
        "# File transfer benchmark",
        "",
        f"`benchmarks/files_bench.py --scale {args.scale} --runs {args.runs} "
        f"--workers {args.workers} --front {args.front}`, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{os.cpu_count()} CPUs.  Fake hub in {args.workers} processes behind "
        f"one socket, {FRONTS[args.front]}, on 127.0.0.1.  "
        "A and B ran in turn, each in a "
        "process of its own; figures are medians over the runs, and the ratios "
        "are the medians of the pair-by-pair ratios (speed: A's MiB/s over "
        "B's; CPU: A's CPU seconds over B's).  CPU is the client process's "
        "during the transfer (for curl, the child's); RSS growth is the peak "
        "above the RSS before the transfer (for curl, its whole peak RSS).",
        "",
        "| transfer | A | B | MiB | A MiB/s | B MiB/s | speed A/B | A CPU s "
        "| B CPU s | CPU A/B | A RSS growth MiB | B RSS growth MiB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, runs in results.items():
        what, spec_a, spec_b = PAIRS[name]

        def median(side: int, key: str, runs: list = runs) -> float:
            return statistics.median(pair[side][key] for pair in runs)

        speed = statistics.median(a["mib_per_s"] / b["mib_per_s"] for a, b in runs)
        cpu = statistics.median(a["cpu_s"] / b["cpu_s"] for a, b in runs)
        lines.append(
            f"| {what} | txkoji ({_chunk(spec_a)}, {spec_a[4]} at once) | "
            f"{spec_b[0]} ({_chunk(spec_b)}) | {runs[0][0]['bytes'] / MIB:.0f} | "
            f"{median(0, 'mib_per_s'):.0f} | {median(1, 'mib_per_s'):.0f} | "
            f"**{speed:.2f}x** | {median(0, 'cpu_s'):.2f} | "
            f"{median(1, 'cpu_s'):.2f} | {cpu:.2f} | "
            f"{median(0, 'growth_kb') / 1024:.1f} | "
            f"{median(1, 'growth_kb') / 1024:.1f} |"
        )
    notes = ""
    if os.path.exists(args.output):
        with open(args.output, encoding="utf-8") as old:
            earlier = old.read()
        if NOTES in earlier:
            notes = "\n" + earlier[earlier.index(NOTES) :]
    with open(args.output, "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n" + notes)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
