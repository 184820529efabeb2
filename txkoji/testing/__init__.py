"""A fake Koji hub for tests: in-memory data, real HTTP(S) on loopback.

::

    from txkoji.testing import HubServer

    server = HubServer()
    await server.start()            # http://127.0.0.1:PORT/kojihub
    server.hub.faults.add(method="getBuild", offline=True)
    ...
    await server.stop()

* :class:`FakeHub`: the ``twisted.web`` resource (usable in a ``Site`` of
  your own or with ``treq.testing.StubTreq``).
* :class:`HubServer`: serves a hub over TCP or TLS and counts connections.
* :class:`HubState`, :func:`load_dataset`: the data served (the ids are
  listed in :mod:`txkoji.testing.dataset`).
* :func:`hub_method`, :class:`CallContext`, :class:`MethodTable`: add hub
  methods.
* :class:`FaultInjector`, :class:`FaultRule`: make calls fail or lag.
* :class:`HubSimulator` (:mod:`txkoji.testing.simulator`): make the hub's
  builds and tasks run, as with ``HubServer(simulate=True)``.
* :mod:`txkoji.testing.certs`: test CAs and certificates.

Run ``python -m txkoji.testing --port 8080`` to serve the bundled data
(add ``--simulate`` to make its builds run).
"""

# Importing these registers their hub methods.
from txkoji.testing import auth, methods, sessions  # noqa: F401
from txkoji.testing.dataset import load_dataset
from txkoji.testing.dispatch import (
    DEFAULT_METHODS,
    CallContext,
    HubMethod,
    MethodTable,
    hub_method,
)
from txkoji.testing.faults import FaultInjector, FaultRule
from txkoji.testing.hub import KOJI_VERSION, MAX_REQUEST_LENGTH, FakeHub
from txkoji.testing.server import HubServer, server_tls_options
from txkoji.testing.simulator import HubSimulator
from txkoji.testing.state import HubState

__all__ = [
    "DEFAULT_METHODS",
    "KOJI_VERSION",
    "MAX_REQUEST_LENGTH",
    "CallContext",
    "FakeHub",
    "FaultInjector",
    "FaultRule",
    "HubMethod",
    "HubServer",
    "HubSimulator",
    "HubState",
    "MethodTable",
    "hub_method",
    "load_dataset",
    "server_tls_options",
]
