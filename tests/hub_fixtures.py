"""Pytest fixtures serving the fake hub (import them in conftest.py).

``hub_server``: a started :class:`~txkoji.testing.HubServer` over HTTP on
127.0.0.1, stopped after the test.  ``tls_hub_server``: the same over
HTTPS, with the certificates of ``hub_pki`` (a
:class:`~txkoji.testing.certs.TestPKI` in a temporary directory: CA,
server certificate for localhost/127.0.0.1, client certificate for
alice).  The TLS server asks for, but does not require, a client
certificate verified against that CA.  ``hub``: ``tls_hub_server`` under
the name the login and session tests use (a module's own ``hub`` fixture
takes its place).  ``koji``: a :class:`~txkoji.Connection` to
``hub_server``, closed after the test (likewise replaced by a module's own).
"""

import pytest
import pytest_twisted

from txkoji import Connection
from txkoji.testing import HubServer, server_tls_options
from txkoji.testing.certs import TestPKI, write_test_pki


@pytest_twisted.async_yield_fixture()
async def hub_server():
    """A fake hub served over HTTP for one test."""
    server = HubServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def hub_pki(tmp_path) -> TestPKI:
    """Test certificates written under the test's temporary directory."""
    return write_test_pki(tmp_path / "pki")


@pytest_twisted.async_yield_fixture()
async def koji(hub_server):
    """A connection to the fake hub, closed after the test."""
    connection = Connection(server=hub_server.url, weburl="https://koji.test/koji")
    yield connection
    await connection.close()


@pytest_twisted.async_yield_fixture()
async def tls_hub_server(hub_pki):
    """A fake hub served over HTTPS with ``hub_pki``'s certificates."""
    tls = server_tls_options(hub_pki.server_cert, hub_pki.server_key, hub_pki.ca_cert)
    server = HubServer(tls=tls)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def hub(tls_hub_server):
    """The fake hub over TLS, asking for client certificates."""
    return tls_hub_server
