"""Helpers of the login and session tests: TLS hubs that take logins, and
connections to them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from twisted.logger import formatEvent, globalLogPublisher

from txkoji import Connection
from txkoji.testing import HubServer, server_tls_options
from txkoji.testing.certs import TestPKI


def login_url(server: HubServer) -> str:
    """The hub URL by host name (the certificate names localhost)."""
    return f"https://localhost:{server.port}/kojihub"


async def start_tls_hub(pki: TestPKI, server_cert: Any = None) -> HubServer:
    """Start a fake hub over HTTPS that asks for client certificates
    verified against ``pki``'s CA (``server_cert``: the (cert, key) paths to
    serve instead of ``pki``'s)."""
    cert, key = server_cert or (pki.server_cert, pki.server_key)
    server = HubServer(tls=server_tls_options(cert, key, pki.ca_cert))
    await server.start()
    return server


def ssl_connection(server: HubServer, pki: TestPKI, **options: Any) -> Connection:
    """A connection to ``server`` set up for an ssl login with ``pki``'s
    client certificate (``options`` override)."""
    options = {
        "serverca": str(pki.ca_cert),
        "cert": str(pki.client_pem),
        "authtype": "ssl",
        "retry_interval": 0,
        **options,
    }
    return Connection(server=login_url(server), **options)


@contextmanager
def captured_log() -> Iterator[list[str]]:
    """Collect every log event, formatted and raw, while the block runs."""
    lines: list[str] = []

    def observe(event: dict) -> None:
        lines.append(formatEvent(event) or "")
        lines.append(repr(event))

    globalLogPublisher.addObserver(observe)
    try:
        yield lines
    finally:
        globalLogPublisher.removeObserver(observe)


async def failure_text(deferred) -> str:
    """Await ``deferred``, which must fail; return everything its exception
    shows."""
    try:
        await deferred
    except Exception as error:
        return f"{error}\n{error!r}\n{error.args!r}\n{vars(error)!r}"
    pytest.fail("the call did not fail")


def kerberos_connection(
    server: HubServer, pki: TestPKI, principal: str, keytab: Any
) -> Connection:
    """A connection to ``server`` (trusting ``pki``'s CA) set up for a
    Kerberos login as ``principal`` with the key in ``keytab``."""
    return Connection(
        server=login_url(server),
        serverca=str(pki.ca_cert),
        authtype="kerberos",
        principal=principal,
        keytab=keytab,
    )
