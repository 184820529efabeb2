"""The CONNECT exchange of txkoji.tunnel, in memory (StringTransport), and
how a received TLS alert is read (txkoji.tls.received_alert)."""

from __future__ import annotations

import base64

import pytest
from OpenSSL import SSL
from twisted.internet import defer
from twisted.internet.error import ConnectionDone
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure

from txkoji.exceptions import KojiConnectionError
from txkoji.proxies import ProxyURL
from txkoji.tls import received_alert
from txkoji.tunnel import MAX_CONNECT_ANSWER, TunnelEndpoint


class Recorder(Protocol):
    """What the tunnel hands the connection to: keeps what it receives."""

    def __init__(self) -> None:
        self.received = b""
        self.lost: Failure | None = None

    def dataReceived(self, data: bytes) -> None:
        self.received += data

    def connectionLost(self, reason: Failure) -> None:
        self.lost = reason


class MemoryEndpoint:
    """Connects a protocol to a StringTransport at once."""

    def __init__(self) -> None:
        self.transport = StringTransport()
        self.protocol: Protocol | None = None

    def connect(self, factory) -> defer.Deferred:
        self.protocol = factory.buildProtocol(None)
        self.protocol.makeConnection(self.transport)
        return defer.succeed(self.protocol)


def open_tunnel(proxy_url: str = "http://proxy.example.com:3128"):
    proxy = ProxyURL.parse(proxy_url, "test")
    endpoint = MemoryEndpoint()
    tunnel = TunnelEndpoint(endpoint, proxy, "koji.example.com", 443)
    ready = tunnel.connect(Factory.forProtocol(Recorder))
    return endpoint, ready


def outcome(deferred: defer.Deferred):
    results: list = []
    deferred.addBoth(results.append)
    assert results, "the Deferred has not fired"
    return results[0]


def test_connect_request_names_the_hub_and_sends_credentials() -> None:
    endpoint, _ = open_tunnel("http://alice:s%3Acret@proxy.example.com:3128")
    credentials = base64.b64encode(b"alice:s:cret")
    assert endpoint.transport.value() == (
        b"CONNECT koji.example.com:443 HTTP/1.1\r\n"
        b"Host: koji.example.com:443\r\n"
        b"Proxy-Authorization: Basic " + credentials + b"\r\n\r\n"
    )


def test_no_credentials_no_authorization_header() -> None:
    endpoint, _ = open_tunnel()
    assert b"Proxy-Authorization" not in endpoint.transport.value()


def test_answer_in_pieces_then_bytes_go_to_the_protocol() -> None:
    endpoint, ready = open_tunnel()
    for piece in (b"HTTP/1.1 20", b"0 Connection established\r\n", b"Via: x\r\n\r"):
        endpoint.protocol.dataReceived(piece)
        assert not ready.called
    endpoint.protocol.dataReceived(b"\nfirst")
    inner = outcome(ready)
    assert isinstance(inner, Recorder)
    assert inner.transport is endpoint.transport
    endpoint.protocol.dataReceived(b" second")
    assert inner.received == b"first second"
    endpoint.protocol.connectionLost(Failure(ConnectionDone()))
    assert inner.lost is not None and inner.lost.check(ConnectionDone)


def test_407_is_a_connection_error_naming_the_proxy_without_its_password() -> None:
    endpoint, ready = open_tunnel("http://alice:hunter2@proxy.example.com:3128")
    endpoint.protocol.dataReceived(
        b"HTTP/1.1 407 Proxy Authentication Required\r\n"
        b"Proxy-Authenticate: Basic\r\n\r\n"
    )
    failure = outcome(ready)
    assert failure.check(KojiConnectionError)
    message = str(failure.value)
    assert "proxy http://***@proxy.example.com:3128" in message
    assert "HTTP 407 Proxy Authentication Required" in message
    assert "koji.example.com:443" in message
    assert "hunter2" not in message + repr(vars(failure.value))
    assert endpoint.transport.disconnecting


@pytest.mark.parametrize(
    "answer, problem",
    [
        (b"SSH-2.0-OpenSSH\r\n\r\n", "malformed status line"),
        (b"HTTP/1.1 502 Bad Gateway\r\n\r\n", "HTTP 502 Bad Gateway"),
        (b"x" * (MAX_CONNECT_ANSWER + 1), "answer head longer than"),
    ],
)
def test_other_answers_are_connection_errors(answer, problem) -> None:
    endpoint, ready = open_tunnel()
    endpoint.protocol.dataReceived(answer)
    failure = outcome(ready)
    assert failure.check(KojiConnectionError)
    assert problem in str(failure.value)


def test_proxy_closing_before_answering() -> None:
    endpoint, ready = open_tunnel()
    endpoint.protocol.connectionLost(Failure(ConnectionDone()))
    failure = outcome(ready)
    assert failure.check(KojiConnectionError)
    assert "closed the connection before answering CONNECT" in str(failure.value)


def test_cancelling_while_waiting_for_the_answer_aborts() -> None:
    endpoint, ready = open_tunnel()
    ready.cancel()
    assert outcome(ready).check(defer.CancelledError)
    assert endpoint.transport.disconnecting


def test_ipv6_hub_is_bracketed() -> None:
    endpoint = MemoryEndpoint()
    proxy = ProxyURL.parse("proxy:3128", "test")
    TunnelEndpoint(endpoint, proxy, "::1", 8443).connect(Factory.forProtocol(Recorder))
    assert endpoint.transport.value().startswith(b"CONNECT [::1]:8443 HTTP/1.1\r\n")


@pytest.mark.parametrize(
    "reason, alert",
    [
        ("tlsv1 alert unknown ca", "unknown ca"),
        ("sslv3 alert bad certificate", "bad certificate"),
        ("ssl/tls alert bad certificate", "bad certificate"),
        ("tlsv13 alert certificate required", "certificate required"),
        ("certificate verify failed", None),
    ],
)
def test_received_alert_comes_from_the_openssl_reason(reason, alert) -> None:
    error = SSL.Error([("SSL routines", "", reason)])
    assert received_alert(error) == alert


def test_an_error_without_a_reason_queue_is_no_alert() -> None:
    assert received_alert(SSL.Error("tlsv1 alert unknown ca")) is None
