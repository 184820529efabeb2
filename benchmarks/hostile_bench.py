"""Peak memory and CPU time of the decoder against hostile answers.

Run with ``python benchmarks/hostile_bench.py [NAME...]``.  Each answer is
fed to a ``ResponseDecoder`` in 64 KiB chunks, as an HTTP body arrives, in
a process of its own; the script prints the process's peak RSS (from
``resource.getrusage``), its CPU time, and how the decode ended.  The
answers are generated chunk by chunk, so the input itself is never held in
memory, and the RSS growth is the decoder's own.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from collections.abc import Iterator

CHUNK = 65536
HEAD = b"<?xml version='1.0'?>\n<methodResponse><params><param>"
ROOT = HEAD[HEAD.index(b"<methodResponse>") :]
TAIL = b"</param></params></methodResponse>\n"


def repeated(start: bytes, unit: bytes, size: int, end: bytes = b"") -> Iterator[bytes]:
    """Yield ``start``, then ``unit`` repeated to about ``size`` bytes in
    chunks of about :data:`CHUNK`, then ``end``."""
    yield start
    piece = unit * max(1, CHUNK // len(unit))
    for _ in range(max(1, size // len(piece))):
        yield piece
    yield end


def attributes(size: int) -> Iterator[bytes]:
    """Yield the start of an answer, then distinct empty attributes of one
    ``<value>`` start tag, about ``size`` bytes of them."""
    yield HEAD + b"<value "
    number = 0
    while number * 10 < size:
        yield b"".join(b'a%d="" ' % n for n in range(number, number + 6000))
        number += 6000


#: name: (description, the chunks of the answer)
CASES = {
    "nesting": (
        "52 MB of <value><array><data>",
        lambda: repeated(HEAD, b"<value><array><data>", 52_000_000),
    ),
    "elements-in-string": (
        "21 MB of <a/> inside one <string>",
        lambda: repeated(HEAD + b"<value><string>", b"<a/>", 21_000_000),
    ),
    "prolog-whitespace": (
        "21 MB of whitespace before the root element",
        lambda: repeated(b"", b" " * 64, 21_000_000, ROOT + b"<value/>" + TAIL),
    ),
    "prolog-comments": (
        "21 MB of comments before the root element",
        lambda: repeated(b"", b"<!-- x -->", 21_000_000, ROOT + b"<value/>" + TAIL),
    ),
    "attributes": (
        "21 MB of attributes in one start tag",
        lambda: attributes(21_000_000),
    ),
    "comment": (
        "21 MB comment inside the answer",
        lambda: repeated(HEAD + b"<value><!--", b"-> ", 21_000_000),
    ),
    "elements-in-params": (
        "21 MB of <x/> after <methodResponse>",
        lambda: repeated(HEAD[: -len(b"<params><param>")], b"<x/>", 21_000_000),
    ),
}


def run_case(name: str) -> None:
    """Decode one hostile answer and print what it cost."""
    from txkoji.codec import ResponseDecoder

    decoder = ResponseDecoder("hostile")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.process_time()
    outcome = "decoded"
    try:
        for chunk in CASES[name][1]():
            decoder.feed(chunk)
        decoder.close()
    except Exception as error:  # what it raised is the figure shown
        outcome = f"{type(error).__name__}: {str(error)[:70]}"
    cpu = time.process_time() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"{name:20} {CASES[name][0]:44} peak RSS {peak / 1024:7.1f} MB "
        f"(+{(peak - before) / 1024:.1f})  CPU {cpu:6.2f} s  {outcome}"
    )


def main() -> None:
    """Run each case named on the command line (all by default) in a
    process of its own."""
    if len(sys.argv) == 3 and sys.argv[1] == "--case":
        run_case(sys.argv[2])
        return
    for name in sys.argv[1:] or CASES:
        subprocess.run([sys.executable, __file__, "--case", name], check=True)


if __name__ == "__main__":
    main()
