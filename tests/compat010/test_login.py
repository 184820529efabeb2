"""txkoji 0.10's ``test_login.py``: a Kerberos login, a refused one, and
a call of the logged-in session.

0.10's test replaced ``treq_kerberos.post`` (how 0.10 happened to send its
login) with a canned answer.  Here the login is real: GSSAPI with a ticket
from a test KDC (``tests/kdc.py``), against the recorded-answer hub over
TLS.
"""

import pytest
import pytest_twisted
from munch import Munch

from tests.auth_helpers import login_url
from tests.compat010.recorded import recorded_hub
from tests.kdc import kdc  # noqa: F401 - the fixture
from txkoji import Connection
from txkoji.exceptions import KojiLoginException
from txkoji.testing import HubServer, server_tls_options
from txkoji.testing.auth import LoginGate

pytestmark = pytest.mark.kerberos


@pytest_twisted.async_yield_fixture()
async def hub(kdc, hub_pki):  # noqa: F811 - the fixture
    """The recorded-answer hub over TLS, taking GSSAPI logins of the KDC's
    realm; the user has a ticket."""
    tls = server_tls_options(hub_pki.server_cert, hub_pki.server_key, hub_pki.ca_cert)
    server = HubServer(hub=recorded_hub(), tls=tls)
    server.hub.login_gate = LoginGate(keytab=kdc.service_keytab, realms=(kdc.realm,))
    await server.start()
    kdc.kinit()
    yield server
    await server.stop()
    kdc.kdestroy()


@pytest_twisted.async_yield_fixture()
async def koji(hub, hub_pki):
    """``Connection("mykoji")`` (``authtype = kerberos``) to that hub."""
    connection = Connection(
        "mykoji", server=login_url(hub), serverca=str(hub_pki.ca_cert)
    )
    yield connection
    await connection.close()


@pytest_twisted.ensureDeferred
async def test_login_success(koji, hub):
    assert await koji.login() is True
    session = hub.hub.sessions.sessions[koji.session_id]
    assert koji.session_key == session.key


@pytest_twisted.ensureDeferred
async def test_login_failure(koji, hub):
    hub.hub.login_gate.realms = ()  # the hub knows no user of this realm
    with pytest.raises(KojiLoginException):
        await koji.login()
    assert koji.session_id is None


@pytest_twisted.ensureDeferred
async def test_authenticated_call(koji):
    await koji.login()
    user = await koji.getLoggedInUser()
    assert user == Munch(
        status=0,
        authtype=2,
        name="ktdreyer",
        usertype=0,
        krb_principal=None,
        id=144,
    )
