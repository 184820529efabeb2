"""Count the CPU instructions txkoji's decoder spends per answer, and
compare them with the figures recorded last time.

::

    python benchmarks/codec_instructions.py            # measure and compare
    python benchmarks/codec_instructions.py --record   # ... and record them

Each answer of the benchmark hub (``payloads.py``: the ~2.7 KB
``getTaskInfo``, a ~1 KB ``getBuild``, the multicall of 1000 ``getBuild``
and a 1 MB slice of ``listBuilds``) is decoded by ``ResponseDecoder`` (fed
in 64 KiB chunks, building records, as the client does) under
``valgrind --tool=callgrind``, in a process of its own with a fixed hash
seed.  A second process does everything but the decoding; the difference
of the two instruction counts (``Ir``), divided by the decodes, is the
figure.  Instruction counts barely move with the machine's load, so a
change of a few percent is the code's, not noise.

The figures recorded are in ``codec_instructions.json`` (with the
Python and Twisted versions they were taken with: counts are only
comparable on the same versions).  The comparison prints how much each
moved; ``--fail-above PERCENT`` makes it exit 1 when one grew more.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
RECORD = HERE / "codec_instructions.json"

#: Answer name -> how many decodes one measurement makes.
CASES = {
    "getTaskInfo": 200,
    "getBuild": 200,
    "multicall-1000-getBuild": 2,
    "listBuilds-1MB": 2,
}

_WORKER = """
import sys
sys.path.insert(0, {benchmarks!r})
import payloads
from txkoji.codec import ResponseDecoder
from txkoji.build import Build

name, runs, decode = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
if name == "multicall-1000-getBuild":
    body = payloads.response(payloads.multicall_builds())
    method, record, shape = "getBuild", Build, "multicall/one"
elif name == "listBuilds-1MB":
    body = payloads.response(payloads.list_builds(1_000_000))
    method, record, shape = "listBuilds", Build, "list"
else:
    body = payloads.response(payloads.small_values()[name])
    method, record, shape = name, None, "one"
chunks = [body[i : i + 65536] for i in range(0, len(body), 65536)]
# One decode outside the measurement in both processes: imports, caches.
decoder = ResponseDecoder(method, record, shape)
for chunk in chunks:
    decoder.feed(chunk)
decoder.close()
if decode:
    for _ in range(runs):
        decoder = ResponseDecoder(method, record, shape)
        for chunk in chunks:
            decoder.feed(chunk)
        decoder.close()
"""


def instructions(name: str, runs: int, decode: bool) -> int:
    """Return the instructions (Ir) of one worker process."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        script = Path(tmp) / "worker.py"
        script.write_text(_WORKER.format(benchmarks=str(HERE)))
        env = dict(os.environ, PYTHONHASHSEED="0")
        root = str(HERE.parent)
        env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
        subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out}",
                sys.executable,
                str(script),
                name,
                str(runs),
                "1" if decode else "0",
            ],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        match = re.search(r"^(?:summary|totals): (\d+)", out.read_text(), re.M)
        if match is None:
            raise RuntimeError(f"no instruction count in {out}")
        return int(match.group(1))


def measure() -> dict[str, int]:
    """Return the instructions per decode of each answer."""
    figures = {}
    for name, runs in CASES.items():
        total = instructions(name, runs, True) - instructions(name, runs, False)
        figures[name] = total // runs
    return figures


def versions() -> dict[str, str]:
    """The versions the counts depend on."""
    import twisted

    return {"python": platform.python_version(), "twisted": twisted.__version__}


def compare(figures: dict[str, int], recorded: dict[str, int]) -> list[float]:
    """Print each figure beside the recorded one; return the moves (%)."""
    moves = []
    print(f"{'answer':26} {'recorded':>14} {'now':>14} {'moved':>8}")
    for name, now in figures.items():
        before = recorded.get(name)
        if before is None:
            print(f"{name:26} {'-':>14} {now:>14,} {'new':>8}")
            continue
        move = 100.0 * (now - before) / before
        moves.append(move)
        print(f"{name:26} {before:>14,} {now:>14,} {move:>+7.1f}%")
    return moves


def main() -> int:
    """Measure, compare with the record, and record when asked."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", action="store_true", help="record the figures")
    parser.add_argument(
        "--fail-above",
        type=float,
        default=None,
        metavar="PERCENT",
        help="exit 1 when a figure grew by more than PERCENT",
    )
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt-get install valgrind)")
        return 2
    figures = measure()
    recorded = json.loads(RECORD.read_text()) if RECORD.exists() else {}
    if recorded and recorded.get("versions") != versions():
        print(f"recorded with {recorded.get('versions')}, now {versions()}")
    moves = compare(figures, recorded.get("instructions_per_decode", {}))
    if args.record:
        RECORD.write_text(
            json.dumps(
                {"versions": versions(), "instructions_per_decode": figures},
                indent=2,
            )
            + "\n"
        )
        print(f"recorded in {RECORD.name}")
    if args.fail_above is not None and any(m > args.fail_above for m in moves):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
