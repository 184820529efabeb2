"""The fake hub (txkoji.testing) over HTTPS for the file benchmarks, run
as several processes behind one listening socket, as mod_wsgi runs the
real hub in several processes behind Apache.

Run: ``python files_hub.py CERT_DIR TOPDIR [--workers N]``; it prints one
JSON line ``{"url": ..., "topurl": ...}`` and serves until terminated.

The parent binds and listens on 127.0.0.1 and starts ``N`` worker
processes that each adopt the listening socket
(``reactor.adoptStreamPort``): the kernel hands each new connection to
one of them.  Every worker serves the same ``TOPDIR`` (uploads and
``topurl``).  Sessions live in files under ``TOPDIR/.sessions``, so a
session made by a login in one worker is known to all (as the real hub
keeps them in its database); each worker numbers its sessions in its own
range.  What the workers do not share: the call numbers a session stored
(the file benchmarks make no call that writes) and the fake hub's
in-process upload lock (each file's chunks go one after another, so no
two workers write one file at once; the real hub takes an ``fcntl``
lock).

Each worker keeps request bodies in memory: the real hub gets the body as
a stream from mod_wsgi and writes it to the upload file in 64 KiB pieces,
while twisted.web would first copy a large body to a temporary file.
This keeps the fake hub's cost per byte nearer the real one's, so that
the clients, not the hub, make the difference.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from twisted.internet import defer, task  # noqa: E402
from twisted.protocols.tls import TLSMemoryBIOFactory  # noqa: E402
from twisted.web.server import Request, Site  # noqa: E402

from txkoji.testing import FakeHub, HubServer, server_tls_options  # noqa: E402
from txkoji.testing.certs import write_test_pki  # noqa: E402
from txkoji.testing.session_store import HubSession, SessionStore  # noqa: E402

#: Sessions numbered per worker: worker ``i`` starts at ``i * SPAN + 1``.
SPAN = 1_000_000


class _InMemoryRequest(Request):
    """A request whose body stays in memory (see the module docs)."""

    def gotLength(self, length: int | None) -> None:
        self.content = io.BytesIO()


class _SessionFiles(dict):
    """Sessions by id, falling back to the shared directory for a session
    another worker made."""

    def __init__(self, directory: Path) -> None:
        super().__init__()
        self._directory = directory

    def get(self, key: Any, default: Any = None) -> Any:
        if key not in self:
            path = self._directory / f"{key}.json"
            if not path.exists():
                return default
            fields = json.loads(path.read_text())
            self[key] = HubSession(**fields)
        return super().get(key, default)


class SharedSessionStore(SessionStore):
    """A :class:`SessionStore` whose new sessions are written to
    ``directory`` for the other workers."""

    def __init__(self, clock: Any, directory: Path, worker: int) -> None:
        super().__init__(clock)
        directory.mkdir(parents=True, exist_ok=True)
        self._directory = directory
        self.sessions = _SessionFiles(directory)
        self._next_id = worker * SPAN + 1

    def create(
        self, user: dict[str, Any], authtype: str, master: int | None = None
    ) -> dict[str, Any]:
        answer = super().create(user, authtype, master)
        session = self.sessions[answer["session-id"]]
        fields = {
            "id": session.id,
            "key": session.key,
            "user_id": session.user_id,
            "authtype": session.authtype,
            "renewed_at": session.renewed_at,
            "master": session.master,
        }
        temporary = self._directory / f".{session.id}.tmp"
        temporary.write_text(json.dumps(fields))
        temporary.replace(self._directory / f"{session.id}.json")
        return answer


async def serve(reactor: Any, cert_dir: str, topdir: str, fd: int, worker: int) -> None:
    """Serve the adopted listening socket ``fd`` until terminated."""
    certs = Path(cert_dir)
    tls = server_tls_options(
        certs / "server.crt", certs / "server.key", certs / "ca.crt"
    )
    hub = FakeHub(reactor, topdir=topdir)
    hub.sessions = SharedSessionStore(reactor, Path(topdir) / ".sessions", worker)
    server = HubServer(reactor, hub=hub)
    site: Any = Site(server.root)
    site.requestFactory = _InMemoryRequest
    site.displayTracebacks = False
    site.log = lambda request: None
    port = reactor.adoptStreamPort(
        fd, socket.AF_INET, TLSMemoryBIOFactory(tls, False, site)
    )
    os.close(fd)
    reactor.addSystemEventTrigger("before", "shutdown", port.stopListening)
    print("ready", flush=True)
    await defer.Deferred()


def main() -> None:
    """Listen, start the workers, print the URLs, wait."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("cert_dir")
    parser.add_argument("topdir")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--fd", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--worker", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fd is not None:
        task.react(
            lambda reactor: defer.ensureDeferred(
                serve(reactor, args.cert_dir, args.topdir, args.fd, args.worker)
            )
        )
        return
    write_test_pki(args.cert_dir)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(256)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                os.path.abspath(__file__),
                args.cert_dir,
                args.topdir,
                "--fd",
                str(listener.fileno()),
                "--worker",
                str(number + 1),
            ],
            pass_fds=[listener.fileno()],
            stdout=subprocess.PIPE,
            text=True,
        )
        for number in range(args.workers)
    ]
    listener.close()
    for worker in workers:
        assert worker.stdout is not None
        if worker.stdout.readline().strip() != "ready":
            raise SystemExit("a hub worker did not start")
    url = f"https://localhost:{port}/kojihub"
    print(json.dumps({"url": url, "topurl": url.rsplit("/", 1)[0] + "/kojifiles"}))
    sys.stdout.flush()

    def stop(*_: Any) -> None:
        for worker in workers:
            worker.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for worker in workers:
        worker.wait()


if __name__ == "__main__":
    main()
