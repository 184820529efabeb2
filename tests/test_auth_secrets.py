"""Secrets never leak: the session key, the Negotiate token and private-key
material stay out of every log line, exception message, repr() and URL
in an error, through logins, calls, failures, renewal and logout."""

from __future__ import annotations

import pytest
import pytest_twisted

from tests.auth_helpers import (
    captured_log,
    failure_text,
    kerberos_connection,
    ssl_connection,
)
from tests.kdc import kdc  # noqa: F401 - the fixture
from txkoji.testing.auth import LoginGate
from txkoji.testing.certs import make_ca, make_client_cert


class RecordingGate(LoginGate):
    """A gate that keeps the Negotiate tokens it was sent."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.tokens: list[str] = []

    def admit(self, request):
        header = request.getHeader(b"authorization")
        if header:
            self.tokens.append(header.decode().split(" ", 1)[1])
        return super().admit(request)


def assert_absent(secret: str, texts: list[str]) -> None:
    assert secret
    leaks = [text for text in texts if secret in text]
    assert leaks == []


@pytest.mark.parametrize("header_auth", [True, False])
@pytest_twisted.ensureDeferred
async def test_session_key_never_shown(hub, hub_pki, header_auth) -> None:
    hub.hub.sessions.header_auth = header_auth
    texts: list[str] = []
    with captured_log() as lines:
        koji = ssl_connection(hub, hub_pki, max_retries=1)
        await koji.login()
        key = koji.session_key
        await koji.createTag("secretive")
        hub.hub.faults.add(method="getLoggedInUser", http_status=503, times=2)
        texts.append(await failure_text(koji.getLoggedInUser()))
        hub.hub.faults.add(method="editTag", fault=(1000, "no"))
        texts.append(await failure_text(koji.editTag("f40")))
        hub.hub.sessions.sessions[koji.session_id].key = "1-other"
        texts.append(await failure_text(koji.getLoggedInUser()))
        hub.hub.sessions.sessions[koji.session_id].key = key
        hub.hub.sessions.expire()
        await koji.getLoggedInUser()
        texts += [repr(koji), repr(koji.session)]
        texts += [repr(s) for s in hub.hub.sessions.sessions.values()]
        await koji.close()
    assert any("HTTP 503" in text for text in texts)
    assert lines, "the log observer saw nothing"
    assert_absent(key, texts + lines)


@pytest_twisted.ensureDeferred
async def test_private_key_never_shown(hub, hub_pki, tmp_path) -> None:
    stranger = make_client_cert(make_ca("Other CA"), "alice")
    _, _, pem = stranger.write(tmp_path, "stranger")
    key_lines = [
        line
        for line in stranger.key_pem().decode().splitlines()
        if line and not line.startswith("-----")
    ]
    broken = tmp_path / "broken.pem"
    broken.write_bytes(stranger.key_pem() + b"-----BEGIN CERTIFICATE-----\nxx\n")
    texts: list[str] = []
    with captured_log() as lines:
        for cert in (pem, broken):
            koji = ssl_connection(hub, hub_pki, cert=str(cert))
            texts.append(await failure_text(koji.login()))
    assert "unknown ca" in texts[0]
    for line in key_lines:
        assert_absent(line, texts + lines)


@pytest_twisted.ensureDeferred
async def test_negotiate_token_never_shown(hub, hub_pki, kdc) -> None:  # noqa: F811
    gate = RecordingGate(keytab=kdc.service_keytab, realms=(kdc.realm,))
    hub.hub.login_gate = gate
    texts: list[str] = []
    with captured_log() as lines:
        koji = kerberos_connection(hub, hub_pki, kdc.user, kdc.user_keytab)
        await koji.login()
        key = koji.session_key
        hub.hub.sessions.expire()
        await koji.getLoggedInUser()
        texts.append(repr(koji))
        await koji.close()
        outsider = kerberos_connection(hub, hub_pki, kdc.outsider, kdc.outsider_keytab)
        texts.append(await failure_text(outsider.login()))
    assert len(gate.tokens) == 3
    for token in gate.tokens:
        assert_absent(token, texts + lines)
        assert_absent(token[:40], texts + lines)
    assert_absent(key, texts + lines)
