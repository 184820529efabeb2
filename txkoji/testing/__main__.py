"""Serve the fake hub until interrupted.

``python -m txkoji.testing --port 8080`` serves the bundled data set at
``http://127.0.0.1:8080/kojihub``; ``--port 0`` picks a free port.  With
``--tls`` it serves HTTPS with a generated CA and server certificate
(written to ``--cert-dir``, or a temporary directory removed on exit).
The first line printed is ``serving URL``; with TLS the next is
``ca-cert PATH``.  SIGINT and SIGTERM stop it cleanly.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Sequence
from typing import Any

from twisted.internet import defer, task

from txkoji.testing.certs import write_test_pki
from txkoji.testing.server import HubServer, server_tls_options


def _parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m txkoji.testing", description="Serve a fake Koji hub."
    )
    parser.add_argument("--port", type=int, default=8080, help="TCP port, 0 for any")
    parser.add_argument("--tls", action="store_true", help="serve HTTPS")
    parser.add_argument("--cert-dir", help="where to write the TLS certificates")
    return parser.parse_args(argv)


async def serve(reactor: Any, argv: Sequence[str]) -> None:
    """Start the hub as ``argv`` says, print its URL, and stop it (and
    remove a temporary certificate directory) when the reactor shuts
    down."""
    args = _parse(argv)
    tls = None
    if args.tls:
        cert_dir = args.cert_dir or tempfile.mkdtemp(prefix="txkoji-hub-")
        if not args.cert_dir:
            reactor.addSystemEventTrigger("after", "shutdown", shutil.rmtree, cert_dir)
        pki = write_test_pki(cert_dir)
        tls = server_tls_options(pki.server_cert, pki.server_key)
    server = HubServer(reactor, tls=tls)
    await server.start(args.port)
    reactor.addSystemEventTrigger("before", "shutdown", server.stop)
    print(f"serving {server.url}", flush=True)
    if args.tls:
        print(f"ca-cert {pki.ca_cert}", flush=True)
    await defer.Deferred()


def main(argv: Sequence[str] | None = None) -> None:
    """Run :func:`serve` under the reactor until SIGINT or SIGTERM."""
    argv = sys.argv[1:] if argv is None else argv
    task.react(lambda reactor: defer.Deferred.fromCoroutine(serve(reactor, argv)))


if __name__ == "__main__":
    main()
