"""Serve the fake hub until interrupted.

``python -m txkoji.testing --port 8080`` serves the bundled data set at
``http://127.0.0.1:8080/kojihub``; ``--port 0`` picks a free port.  With
``--tls`` it serves HTTPS with a generated CA and server certificate
(written to ``--cert-dir``, or a temporary directory removed on exit).
The first line printed is ``serving URL``; with TLS the next is
``ca-cert PATH``.  SIGINT and SIGTERM stop it cleanly.

With ``--simulate`` the hub's data moves as a real hub's
(:mod:`txkoji.testing.simulator`): ``--speed X`` runs it X times faster
(history included, so estimates hold), ``--seed N`` picks the run,
``--activity S`` starts a random build about every S hub seconds (0:
none), and each ``--build PACKAGE`` starts a build at once and prints
``task ID build PACKAGE``.
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

#: Mean hub seconds between random builds with ``--simulate``.
DEFAULT_ACTIVITY = 300.0


def _parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m txkoji.testing", description="Serve a fake Koji hub."
    )
    parser.add_argument("--port", type=int, default=8080, help="TCP port, 0 for any")
    parser.add_argument("--tls", action="store_true", help="serve HTTPS")
    parser.add_argument("--cert-dir", help="where to write the TLS certificates")
    sim = parser.add_argument_group("simulation")
    sim.add_argument("--simulate", action="store_true", help="make builds run")
    sim.add_argument("--seed", type=int, help="random seed (0)")
    sim.add_argument("--speed", type=_positive, help="times faster than real (1)")
    sim.add_argument(
        "--activity",
        type=float,
        help=f"mean hub seconds between random builds, 0 for none "
        f"({DEFAULT_ACTIVITY:g})",
    )
    sim.add_argument(
        "--build",
        action="append",
        default=[],
        metavar="PACKAGE",
        help="start a build of PACKAGE at once (repeatable)",
    )
    args = parser.parse_args(argv)
    given = [args.seed, args.speed, args.activity, args.build or None]
    if not args.simulate and any(value is not None for value in given):
        parser.error("--seed, --speed, --activity and --build need --simulate")
    return args


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0: {text}")
    return value


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
    activity = DEFAULT_ACTIVITY if args.activity is None else args.activity
    server = HubServer(
        reactor,
        tls=tls,
        simulate=args.simulate,
        seed=args.seed or 0,
        speed=args.speed or 1.0,
        activity=activity or None,
    )
    for package in args.build:
        if server.hub.state.find("packages", package) is None:
            print(f"--build: no such package: {package}", file=sys.stderr)
            raise SystemExit(2)
    await server.start(args.port)
    reactor.addSystemEventTrigger("before", "shutdown", server.stop)
    print(f"serving {server.url}", flush=True)
    if args.tls:
        print(f"ca-cert {pki.ca_cert}", flush=True)
    simulator = server.hub.simulator
    if simulator is not None:
        for package in args.build:
            print(f"task {simulator.start_build(package)} build {package}", flush=True)
    await defer.Deferred()


def main(argv: Sequence[str] | None = None) -> None:
    """Run :func:`serve` under the reactor until SIGINT or SIGTERM."""
    argv = sys.argv[1:] if argv is None else argv
    task.react(lambda reactor: defer.Deferred.fromCoroutine(serve(reactor, argv)))


if __name__ == "__main__":
    main()
