"""TLS for bulk transfers: Twisted's memory-BIO TLS with fewer, larger
steps per byte.

Twisted's ``TLSMemoryBIOProtocol`` hands OpenSSL one 16 KiB slice of a
write at a time (each slice a copy), reads the encrypted bytes back out
32 KiB at a time, and delivers what it decrypts one TLS record (16 KiB)
at a time.  For a file upload or download that is hundreds of Python
round trips through pyOpenSSL per MiB.  :class:`BulkTLSProtocol` keeps
every behaviour of Twisted's class but:

* passes large writes to OpenSSL without copying them (OpenSSL seals
  one 16 KiB record per call);
* reads the encrypted bytes out once per :data:`ENCRYPT_STEP` bytes
  sealed, in one call;
* gathers the records that one read from the socket decrypts into one
  delivery to the HTTP layer.

Small writes are still gathered by Twisted's aggregator.  A large write
is encrypted before :meth:`write` returns, so the caller may reuse its
buffer (a ``bytearray`` or ``memoryview`` is accepted).
"""

from __future__ import annotations

from typing import Any

from OpenSSL.SSL import Error, WantReadError, ZeroReturnError
from twisted.internet import defer
from twisted.internet.interfaces import IStreamClientEndpoint
from twisted.protocols.tls import (
    BufferingTLSTransport,
    TLSMemoryBIOFactory,
    TLSMemoryBIOProtocol,
)
from twisted.python.failure import Failure
from zope.interface import implementer

#: Plaintext bytes sealed between reads of the encrypted bytes (those of
#: one step stay below glibc's default threshold for mapping fresh
#: memory, so their buffers are reused instead of faulted in anew).
ENCRYPT_STEP = 1 << 16
#: Room for the encrypted form of one step (record headers and tags
#: add about 0.2%).
_SEALED_STEP = ENCRYPT_STEP + (1 << 11)
#: Plaintext bytes asked of OpenSSL per call when decrypting (one record
#: is at most 16 KiB).
_OPEN_STEP = 1 << 15
#: Writes of at least this many bytes skip the small-write aggregator.
_LARGE_WRITE = 1 << 16


class BulkTLSProtocol(BufferingTLSTransport):
    """Twisted's TLS protocol with large-step writes and reads (see the
    module docs); txkoji's connections use it, and the file benchmark's
    hub serves with it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Twisted's class is unannotated.
        small_write: Any = self.write
        unbuffered_write: Any = TLSMemoryBIOProtocol.write

        def write(data: Any) -> None:
            if len(data) < _LARGE_WRITE:
                small_write(bytes(data) if not isinstance(data, bytes) else data)
                return
            # Keep the order of what was gathered before.
            self._aggregator.flush()
            unbuffered_write(self, data)

        self.write = write  # type: ignore[method-assign]

    def _write(self, data: Any) -> None:
        this: Any = self
        if self._lostTLSConnection:
            return
        view = memoryview(data).cast("B")
        done = 0
        sealed = 0
        while done < len(view):
            try:
                # pyOpenSSL allows partial writes: each call seals at
                # least one record, and the loop goes on from there.
                sent = self._tlsConnection.send(view[done : done + ENCRYPT_STEP])
            except WantReadError:
                # Kept for later: a copy, as the caller may reuse its buffer.
                this._bufferedWrite(bytes(view[done:]))
                break
            except Error:
                this._tlsShutdownFinished(Failure())
                break
            else:
                done += sent
                sealed += sent
                if sealed >= ENCRYPT_STEP:
                    sealed = 0
                    self._flushSendBIO()
        self._flushSendBIO()

    def _flushSendBIO(self) -> None:
        while True:
            try:
                sealed = self._tlsConnection.bio_read(_SEALED_STEP)
            except WantReadError:
                return
            transport: Any = self.transport
            transport.write(sealed)
            if len(sealed) < _SEALED_STEP:
                return

    def _flushReceiveBIO(self) -> None:
        # Twisted's own methods used here are unannotated.
        this: Any = self
        opened: list[bytes] = []
        while not self._lostTLSConnection:
            try:
                opened.append(self._tlsConnection.recv(_OPEN_STEP))
            except WantReadError:
                break
            except ZeroReturnError:
                self._deliver(opened)
                this._shutdownTLS()
                this._tlsShutdownFinished(None)
            except Error:
                failure = Failure()
                self._deliver(opened)
                this._tlsShutdownFinished(failure)
        self._deliver(opened)
        self._flushSendBIO()

    def _deliver(self, opened: list[bytes]) -> None:
        """Hand what was decrypted so far to the wrapped protocol as one
        piece (and forget it)."""
        if opened and not self._aborted:
            data = opened[0] if len(opened) == 1 else b"".join(opened)
            opened.clear()
            self.wrappedProtocol.dataReceived(data)
        opened.clear()


def consumes_writes(consumer: Any) -> bool:
    """Whether ``consumer`` (the consumer Twisted's HTTP client gives a
    request body producer) writes into a :class:`BulkTLSProtocol`, which
    is done with a large write's buffer when ``write`` returns (so the
    producer may reuse it), directly or through protocol wrappers marked
    ``passes_writes_through``."""
    # Twisted's LengthEnforcingConsumer keeps the connection as _consumer.
    transport = getattr(consumer, "_consumer", None)
    while getattr(transport, "passes_writes_through", False):
        transport = getattr(transport, "transport", None)
    return isinstance(transport, BulkTLSProtocol)


class BulkTLSFactory(TLSMemoryBIOFactory):
    """A ``TLSMemoryBIOFactory`` building :class:`BulkTLSProtocol`."""

    protocol = BulkTLSProtocol


@implementer(IStreamClientEndpoint)
class BulkTLSEndpoint:
    """Connect through ``endpoint`` and speak TLS (from ``creator``, an
    ``IOpenSSLClientConnectionCreator``) over it with
    :class:`BulkTLSProtocol`; the same contract as Twisted's
    ``wrapClientTLS``."""

    def __init__(self, creator: Any, endpoint: Any) -> None:
        self._creator = creator
        self._endpoint = endpoint

    def connect(self, factory: Any) -> defer.Deferred[Any]:
        """Connect; fire with the protocol ``factory`` built (under TLS)."""
        wrapped = BulkTLSFactory(self._creator, True, factory)
        d = self._endpoint.connect(wrapped)
        return d.addCallback(lambda protocol: protocol.wrappedProtocol)
