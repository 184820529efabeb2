"""HTTPS to the fake hub with certificates the tests make: verified by
default, and every kind of bad hub certificate refused clearly."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import pytest_twisted
from twisted.logger import globalLogPublisher

from txkoji import Connection
from txkoji.exceptions import KojiConnectionError, KojiTLSError
from txkoji.testing import HubServer, server_tls_options
from txkoji.testing.certs import make_ca, make_server_cert


async def serve_with(tmp_path, server_cert) -> HubServer:
    """Start a TLS hub presenting ``server_cert``."""
    cert, key, _ = server_cert.write(tmp_path / "hub", "server")
    server = HubServer(tls=server_tls_options(cert, key))
    await server.start()
    return server


async def first_call_error(url: str, **options) -> Exception:
    koji = Connection(server=url, **options)
    try:
        await koji.getAPIVersion()
    except Exception as error:  # the test inspects it
        return error
    finally:
        await koji.close()
    raise AssertionError("the call succeeded")


@pytest_twisted.ensureDeferred
async def test_https_verified_against_serverca(tls_hub_server, hub_pki):
    koji = Connection(server=tls_hub_server.url, serverca=str(hub_pki.ca_cert))
    try:
        assert (await koji.getBuild(1001)).nvr == "bash-5.2.26-1.fc40"
    finally:
        await koji.close()


@pytest_twisted.ensureDeferred
async def test_localhost_name_is_verified_too(tls_hub_server, hub_pki):
    url = tls_hub_server.url.replace("127.0.0.1", "localhost")
    koji = Connection(server=url, serverca=str(hub_pki.ca_cert))
    try:
        assert await koji.getAPIVersion() == 1
    finally:
        await koji.close()


@pytest_twisted.ensureDeferred
async def test_certificate_from_untrusted_ca_is_a_tls_error(tls_hub_server, tmp_path):
    stranger = tmp_path / "other-ca.crt"
    stranger.write_bytes(make_ca("Some other CA").cert_pem())
    error = await first_call_error(tls_hub_server.url, serverca=str(stranger))
    assert isinstance(error, KojiTLSError)
    assert tls_hub_server.url in str(error)
    assert "CA that is not trusted" in str(error)


@pytest_twisted.ensureDeferred
async def test_system_trust_store_does_not_trust_a_private_ca(tls_hub_server):
    error = await first_call_error(tls_hub_server.url)
    assert isinstance(error, KojiTLSError)


@pytest_twisted.ensureDeferred
async def test_expired_hub_certificate_is_a_tls_error(tmp_path):
    ca = make_ca()
    long_ago = datetime.now(timezone.utc) - timedelta(days=30)
    expired = make_server_cert(
        ca, not_before=long_ago, not_after=long_ago + timedelta(days=1)
    )
    (tmp_path / "ca.crt").write_bytes(ca.cert_pem())
    server = await serve_with(tmp_path, expired)
    try:
        error = await first_call_error(server.url, serverca=str(tmp_path / "ca.crt"))
    finally:
        await server.stop()
    assert isinstance(error, KojiTLSError)
    assert "the hub's certificate has expired" in str(error)


@pytest_twisted.ensureDeferred
async def test_hub_certificate_for_another_host_is_a_tls_error(tmp_path):
    ca = make_ca()
    wrong = make_server_cert(ca, hostnames=["wrong.example.com"])
    (tmp_path / "ca.crt").write_bytes(ca.cert_pem())
    server = await serve_with(tmp_path, wrong)
    try:
        error = await first_call_error(server.url, serverca=str(tmp_path / "ca.crt"))
    finally:
        await server.stop()
    assert isinstance(error, KojiTLSError)
    assert "certificate is not issued for 127.0.0.1" in str(error)


@pytest_twisted.ensureDeferred
async def test_no_ssl_verify_connects_and_logs_a_warning(tls_hub_server):
    events = []
    globalLogPublisher.addObserver(events.append)
    try:
        koji = Connection(server=tls_hub_server.url, no_ssl_verify=True)
        try:
            assert await koji.getAPIVersion() == 1
        finally:
            await koji.close()
    finally:
        globalLogPublisher.removeObserver(events.append)
    warnings = [e for e in events if "verification" in e.get("log_format", "")]
    assert warnings and warnings[0]["log_level"].name == "warn"


def test_unreadable_serverca_fails_at_construction(tmp_path):
    with pytest.raises(KojiTLSError, match="cannot read serverca"):
        Connection(server="https://127.0.0.1:1/kojihub", serverca=str(tmp_path / "x"))


def test_serverca_without_certificates_is_refused(tmp_path):
    empty = tmp_path / "empty.pem"
    empty.write_text("not a certificate\n")
    with pytest.raises(KojiTLSError, match="no PEM certificate"):
        Connection(server="https://127.0.0.1:1/kojihub", serverca=str(empty))


@pytest_twisted.ensureDeferred
async def test_plain_http_to_a_tls_hub_is_a_connection_error(tls_hub_server):
    url = tls_hub_server.url.replace("https://", "http://")
    error = await first_call_error(url)
    assert isinstance(error, KojiConnectionError)


@pytest_twisted.ensureDeferred
async def test_answer_dropped_mid_body_over_tls_is_a_connection_error(
    tls_hub_server, hub_pki
):
    tls_hub_server.hub.faults.add("getBuild", drop=True)
    koji = Connection(
        server=tls_hub_server.url, serverca=str(hub_pki.ca_cert), timeout=30
    )
    try:
        with pytest.raises(KojiConnectionError, match="lost after"):
            await koji.getBuild(1001)
    finally:
        await koji.close()


@pytest.mark.parametrize(
    ("reason", "alert"),
    [
        ("sslv3 alert bad certificate", "bad certificate"),
        ("tlsv1 alert unknown ca", "unknown ca"),
        ("ssl/tls alert certificate expired", "certificate expired"),
        ("tls alert bad certificate", "bad certificate"),
        ("tlsv13 alert certificate required", "certificate required"),
        ("sslv3 alert certificate unknown", "certificate unknown"),
        ("tls alert unsupported certificate", "unsupported certificate"),
        ("certificate verify failed", None),
    ],
)
def test_every_alert_the_peer_sent_is_recognised(reason, alert) -> None:
    from OpenSSL import SSL

    from txkoji.tls import received_alert

    error = SSL.Error([("SSL routines", "", reason)])
    assert received_alert(error) == alert
