"""The fake hub (txkoji.testing) over HTTPS for the file benchmarks, with
client-certificate logins and its files in a given directory.

Run: ``python files_hub.py CERT_DIR TOPDIR``; it prints one JSON line
``{"url": ..., "topurl": ...}`` and serves until terminated.
"""

from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from twisted.internet import defer, task  # noqa: E402

from txkoji.testing import FakeHub, HubServer, server_tls_options  # noqa: E402
from txkoji.testing.certs import write_test_pki  # noqa: E402


async def serve(reactor, cert_dir: str, topdir: str) -> None:
    """Serve until the reactor stops."""
    pki = write_test_pki(cert_dir)
    tls = server_tls_options(pki.server_cert, pki.server_key, pki.ca_cert)
    server = HubServer(reactor, hub=FakeHub(reactor, topdir=topdir), tls=tls)
    await server.start(0)
    reactor.addSystemEventTrigger("before", "shutdown", server.stop)
    url = f"https://localhost:{server.port}/kojihub"
    print(json.dumps({"url": url, "topurl": url.rsplit("/", 1)[0] + "/kojifiles"}))
    sys.stdout.flush()
    await defer.Deferred()


if __name__ == "__main__":
    task.react(lambda reactor: defer.ensureDeferred(serve(reactor, *sys.argv[1:3])))
