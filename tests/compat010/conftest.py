"""Fixtures of the port of txkoji 0.10's test suite.

0.10's suite pointed its config search at a fixtures directory
(``mykoji.conf``) and swapped the connection's private XML-RPC proxy for
canned answers.  Here the ``mykoji`` profile sits in a temporary home
directory, and ``koji`` is ``Connection("mykoji")`` pointed at a fake hub
answering the same recordings (:mod:`tests.compat010.recorded`).
"""

import pytest
import pytest_twisted

from tests.compat010.recorded import MYKOJI_CONF, recorded_hub
from txkoji import Connection
from txkoji.testing import HubServer


@pytest.fixture(autouse=True)
def mykoji_home(tmp_path, monkeypatch):
    """A home directory whose koji config holds 0.10's ``mykoji`` profile."""
    config = tmp_path / ".koji" / "config.d"
    config.mkdir(parents=True)
    (config / "mykoji.conf").write_text(MYKOJI_CONF)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path


@pytest_twisted.async_yield_fixture()
async def recorded_server():
    """The recorded-answer hub, served over HTTP on 127.0.0.1."""
    server = HubServer(hub=recorded_hub())
    await server.start()
    yield server
    await server.stop()


@pytest_twisted.async_yield_fixture()
async def koji(recorded_server):
    """``Connection("mykoji")``, its calls answered by the recordings."""
    connection = Connection("mykoji", server=recorded_server.url)
    yield connection
    await connection.close()
