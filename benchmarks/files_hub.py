"""The fake hub (txkoji.testing) over HTTPS for the file benchmarks, run
as several processes behind one listening socket, as mod_wsgi runs the
real hub in several processes behind Apache.

Run: ``python files_hub.py CERT_DIR TOPDIR [--workers N] [--front F]``; it
prints one JSON line ``{"url": ..., "topurl": ...}`` and serves until
terminated.

``--front`` chooses what speaks TLS to the clients:

``nginx`` (the default)
    nginx (Debian's ``nginx-light``) terminates TLS, as Apache does in
    front of the real hub: TLS in C, the client certificate verified
    against the CA and handed on (``$ssl_client_escaped_cert``, as Apache
    exports ``SSL_CLIENT_CERT`` to mod_wsgi), request bodies streamed to
    the workers unbuffered (as mod_wsgi streams ``wsgi.input``), and
    ``topurl`` served by nginx straight from ``TOPDIR`` (as Apache serves
    ``/mnt/koji``).  The workers speak plain HTTP on a second loopback
    socket.
``twisted``
    the workers speak TLS themselves (Twisted's TLS over pyOpenSSL) and
    serve ``topurl`` too: the benchmark hub of the earlier rounds, whose
    TLS in Python was the limit of every upload.

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
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from OpenSSL import crypto  # noqa: E402
from twisted.internet import defer, task  # noqa: E402
from twisted.internet.interfaces import ISSLTransport  # noqa: E402
from twisted.protocols.tls import TLSMemoryBIOFactory  # noqa: E402
from twisted.web.server import Request, Site  # noqa: E402
from zope.interface import implementer  # noqa: E402

from txkoji.testing import FakeHub, HubServer, server_tls_options  # noqa: E402
from txkoji.testing.certs import write_test_pki  # noqa: E402
from txkoji.testing.session_store import HubSession, SessionStore  # noqa: E402

#: Sessions numbered per worker: worker ``i`` starts at ``i * SPAN + 1``.
SPAN = 1_000_000


class _InMemoryRequest(Request):
    """A request whose body stays in memory (see the module docs)."""

    def gotLength(self, length: int | None) -> None:
        self.content = io.BytesIO()


@implementer(ISSLTransport)
class _VerifiedByFront:
    """The connection from the TLS front, showing the client certificate
    the front verified as the peer's (everything else is the connection's
    own)."""

    def __init__(self, transport: Any, certificate: crypto.X509) -> None:
        self._transport = transport
        self._certificate = certificate

    def getPeerCertificate(self) -> crypto.X509:
        return self._certificate

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class _BehindFrontRequest(_InMemoryRequest):
    """A request from behind the TLS front: the client certificate comes
    in the headers the front sets, and only when the front verified it."""

    def process(self) -> None:
        verified = self.getHeader(b"x-ssl-client-verify")
        escaped = self.getHeader(b"x-ssl-client-cert")
        if verified == b"SUCCESS" and escaped:
            pem = unquote(escaped.decode("ascii")).encode()
            certificate = crypto.load_certificate(crypto.FILETYPE_PEM, pem)
            self.transport = _VerifiedByFront(self.transport, certificate)
        super().process()


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


async def serve(
    reactor: Any, cert_dir: str, topdir: str, fd: int, worker: int, front: str
) -> None:
    """Serve the adopted listening socket ``fd`` until terminated."""
    hub = FakeHub(reactor, topdir=topdir)
    hub.sessions = SharedSessionStore(reactor, Path(topdir) / ".sessions", worker)
    server = HubServer(reactor, hub=hub)
    site: Any = Site(server.root)
    site.displayTracebacks = False
    site.log = lambda request: None
    factory: Any = site
    if front == "nginx":
        site.requestFactory = _BehindFrontRequest
    else:
        site.requestFactory = _InMemoryRequest
        certs = Path(cert_dir)
        tls = server_tls_options(
            certs / "server.crt", certs / "server.key", certs / "ca.crt"
        )
        factory = TLSMemoryBIOFactory(tls, False, site)
    port = reactor.adoptStreamPort(fd, socket.AF_INET, factory)
    os.close(fd)
    reactor.addSystemEventTrigger("before", "shutdown", port.stopListening)
    print("ready", flush=True)
    await defer.Deferred()


#: The nginx configuration of ``--front nginx``.
NGINX_CONF = """
user root root;
worker_processes 2;
pid {work}/nginx.pid;
events {{ worker_connections 512; }}
http {{
    access_log off;
    client_body_temp_path {work}/body;
    proxy_temp_path {work}/proxy;
    client_max_body_size 0;
    client_body_buffer_size 256k;
    upstream hub {{
        server 127.0.0.1:{inner};
        keepalive 32;
    }}
    server {{
        listen 127.0.0.1:{outer} ssl;
        server_name localhost;
        ssl_certificate {certs}/server.crt;
        ssl_certificate_key {certs}/server.key;
        ssl_client_certificate {certs}/ca.crt;
        ssl_verify_client optional;
        location /kojifiles/ {{
            alias {topdir}/;
        }}
        location / {{
            proxy_pass http://hub;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-SSL-Client-Verify $ssl_client_verify;
            proxy_set_header X-SSL-Client-Cert $ssl_client_escaped_cert;
            proxy_request_buffering off;
            proxy_buffering off;
        }}
    }}
}}
"""


def _free_port() -> int:
    """Return a loopback port nothing listens on now (nginx cannot be
    asked for one and tell it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start_nginx(cert_dir: str, topdir: str, inner: int) -> tuple[Any, int]:
    """Start nginx in front of the workers' port ``inner``; return the
    process and the port it serves TLS on, once it accepts."""
    work = Path(topdir).resolve().parent / "nginx"
    work.mkdir(exist_ok=True)
    outer = _free_port()
    conf = work / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(
            work=work,
            inner=inner,
            outer=outer,
            certs=os.path.abspath(cert_dir),
            topdir=os.path.abspath(topdir),
        )
    )
    nginx = subprocess.Popen(
        [
            "nginx",
            "-p",
            str(work),
            "-e",
            str(work / "error.log"),
            "-c",
            str(conf),
            "-g",
            "daemon off;",
        ]
    )
    for _ in range(200):
        if nginx.poll() is not None:
            raise SystemExit(f"nginx did not start: see {work / 'error.log'}")
        try:
            socket.create_connection(("127.0.0.1", outer), timeout=1).close()
            return nginx, outer
        except OSError:
            time.sleep(0.05)
    nginx.terminate()
    raise SystemExit("nginx did not listen within 10 s")


def main() -> None:
    """Listen, start the workers (and the front), print the URLs, wait."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("cert_dir")
    parser.add_argument("topdir")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--front", choices=("nginx", "twisted"), default="nginx")
    parser.add_argument("--fd", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--worker", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fd is not None:
        task.react(
            lambda reactor: defer.ensureDeferred(
                serve(
                    reactor,
                    args.cert_dir,
                    args.topdir,
                    args.fd,
                    args.worker,
                    args.front,
                )
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
                "--front",
                args.front,
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
    processes: list[Any] = list(workers)
    if args.front == "nginx":
        try:
            nginx, port = _start_nginx(args.cert_dir, args.topdir, port)
        except SystemExit:
            for worker in workers:
                worker.terminate()
            raise
        processes.append(nginx)
    url = f"https://localhost:{port}/kojihub"
    print(json.dumps({"url": url, "topurl": url.rsplit("/", 1)[0] + "/kojifiles"}))
    sys.stdout.flush()

    def stop(*_: Any) -> None:
        for process in processes:
            process.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for process in processes:
        process.wait()


if __name__ == "__main__":
    main()
