"""Time txkoji's XML-RPC decoder against the standard library's.

Run with ``python benchmarks/codec_bench.py``.  Three realistic answers are
generated: a ~2.7 KB ``getTaskInfo`` with ``request`` params, a ~1 KB
``getBuild`` with ``<nil/>`` and ``<i8>`` values, and a ~10 MB
``listBuilds`` of such builds.  For each, the best per-decode time of
several rounds (process CPU time, steadier than wall time on a shared
machine) is printed for ``ResponseDecoder`` (fed in 64 KiB chunks, as
an HTTP body arrives, building records) and ``xmlrpc.client.loads``; for
the 10 MB answer also the peak memory a decode allocates (tracemalloc)
beside the size of the decoded result.
"""

from __future__ import annotations

import gc
import time
import tracemalloc
import xmlrpc.client
from collections.abc import Callable
from typing import Any

from measure import deep_size
from munch import Munch

from txkoji.codec import ResponseDecoder, encode_response

CHUNK = 65536


class Build(Munch):
    """Stands in for the record class of a build."""


def build(build_id: int) -> dict:
    """Return a build record as ``getBuild`` answers it (about 1 KB)."""
    name = f"python-package-{build_id % 700}"
    version, release = f"3.{build_id % 17}.{build_id % 5}", f"{build_id % 9}.fc40"
    return {
        "id": build_id,
        "package_name": name,
        "version": version,
        "release": release,
        "epoch": None,
        "nvr": f"{name}-{version}-{release}",
        "state": 1,
        "task_id": 60_000_000 + build_id,
        "owner_name": "kojibuilder",
        "creation_ts": 1790845200.25 + build_id,
        "completion_ts": 1790845950.5 + build_id,
        "size": 5_000_000_000 + build_id,
        "source": f"git+https://src.example.com/rpms/{name}#{build_id:x}",
        "extra": None,
    }


def task_info() -> dict:
    """Return a ``getTaskInfo(request=True)`` answer (about 2.7 KB)."""
    return {
        "id": 60_012_345,
        "method": "buildArch",
        "state": 2,
        "arch": "x86_64",
        "channel_id": 1,
        "host_id": 57,
        "owner": 4,
        "parent": 60_012_300,
        "priority": 19,
        "weight": 2.8427,
        "awaited": False,
        "result": None,
        "create_time": "2026-10-01 09:00:00.250000+00:00",
        "create_ts": 1790845200.25,
        "start_time": "2026-10-01 09:00:05.500000+00:00",
        "start_ts": 1790845205.5,
        "completion_time": "2026-10-01 09:12:30.500000+00:00",
        "completion_ts": 1790845950.5,
        "request": [
            "tasks/2345/60012345/python-package-1-3.1.1-1.fc40.src.rpm",
            7_000_000_123,
            "x86_64",
            True,
            {
                "repo_id": 8_123_456,
                "scratch": False,
                "skip_tag": False,
                "arch_override": None,
                "source": {
                    "url": "git+https://src.example.com/rpms/python-package"
                    "#0123456789abcdef0123456789abcdef01234567",
                    "source": "git+https://src.example.com/rpms/python-package",
                },
                "environment": {f"VAR_{n}": f"value {n} & more" for n in range(4)},
            },
        ],
    }


def best_time(decode: Callable[[], Any], rounds: int) -> float:
    """Return the best of ``rounds`` CPU timings of ``decode()``, in
    seconds."""
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        decode()
        best = min(best, time.process_time() - start)
    return best


def ours(body: bytes, method: str, record_class: type, shape: str) -> Any:
    """Decode ``body`` as an HTTP client would, chunk by chunk."""
    decoder = ResponseDecoder(method, record_class, shape)
    for start in range(0, len(body), CHUNK):
        decoder.feed(body[start : start + CHUNK])
    return decoder.close()


def stdlib(body: bytes) -> Any:
    """Decode ``body`` with the standard library."""
    return xmlrpc.client.loads(body, use_builtin_types=True)[0][0]


def peak_memory(decode: Callable[[], Any]) -> tuple[int, int]:
    """Return the peak memory a call of ``decode`` allocates and the size of
    what it returns."""
    gc.collect()
    tracemalloc.start()
    result = decode()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, deep_size(result)


def main() -> None:
    """Print the timings (and memory for the large answer)."""
    cases = [
        ("getTaskInfo", encode_response(task_info()), "one", 2000),
        ("getBuild", encode_response(build(1234)), "one", 2000),
        ("listBuilds", None, "list", 5),
    ]
    one_kb = len(encode_response(build(1234)))
    large = encode_response([build(n) for n in range(10_000_000 // one_kb)])
    for method, body, shape, rounds in cases:
        body = large if body is None else body

        def decode_ours(body=body, method=method, shape=shape):
            return ours(body, method, Build, shape)

        def decode_stdlib(body=body):
            return stdlib(body)

        assert decode_ours() == decode_stdlib()
        mine = best_time(decode_ours, rounds)
        theirs = best_time(decode_stdlib, rounds)
        scale, unit = (1e3, "ms") if rounds < 100 else (1e6, "us")
        print(
            f"{method:12} {len(body):>10,} B  txkoji {mine * scale:8.1f} {unit}"
            f"  xmlrpc.client {theirs * scale:8.1f} {unit}"
            f"  ratio {mine / theirs:.2f}"
        )
    peak, size = peak_memory(lambda: ours(large, "listBuilds", Build, "list"))
    print(
        f"listBuilds memory: peak {peak / 1e6:.1f} MB during the decode,"
        f" result {size / 1e6:.1f} MB ({peak / size:.2f}x)"
    )


if __name__ == "__main__":
    main()
