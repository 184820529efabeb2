"""What the web server in front of ``/kojihub/ssllogin`` does: the
:class:`LoginGate` (see :mod:`txkoji.testing.auth` for the rules)."""

from __future__ import annotations

import base64
import binascii
import weakref
from typing import Any

from cryptography.x509.oid import NameOID
from OpenSSL.crypto import X509
from twisted.internet.interfaces import ISSLTransport
from twisted.web.server import Request

from txkoji.exceptions import AuthError

#: The path segment of the login location under the hub.
LOGIN_PATH = [b"ssllogin"]


class LoginGate:
    """The authentication a web server does for ``/ssllogin``.

    :param keytab: the service keytab (e.g. for ``HTTP/localhost``); without
        one, Negotiate is not offered.
    :param realms: Kerberos realms whose principals map to the user of the
        same name (Koji's ``AllowedKrbRealms``).
    """

    def __init__(self, keytab: str | None = None, realms: tuple[str, ...] = ()):
        self.keytab = keytab
        self.realms = realms
        self._identities: weakref.WeakKeyDictionary[Request, tuple[str, str]] = (
            weakref.WeakKeyDictionary()
        )

    def admit(self, request: Request) -> bytes | None:
        """Authenticate a login request.

        :returns: None to let the call go on, or the body of the HTTP 401
            answer already set up on ``request``.
        """
        header = (request.getHeader(b"authorization") or b"").decode("latin-1")
        if header.lower().startswith("negotiate "):
            return self._negotiate(request, header.split(" ", 1)[1].strip())
        name = _certificate_name(request)
        if name is not None:
            self._identities[request] = ("ssl", name)
            return None
        if self.keytab is not None:
            return _unauthorized(request, "Unauthorized")
        return None

    def identity(self, request: Request | None) -> tuple[str, str] | None:
        """Return ``(authtype, name)`` of an admitted login request: the
        certificate's CN or the Kerberos principal."""
        return self._identities.get(request) if request is not None else None

    def _negotiate(self, request: Request, token: str) -> bytes | None:
        if self.keytab is None:
            return _unauthorized(request, "Negotiate is not offered here")
        import gssapi

        try:
            credentials = gssapi.Credentials(
                usage="accept", store={"keytab": self.keytab}
            )
            acceptor = gssapi.SecurityContext(creds=credentials, usage="accept")
            answer = acceptor.step(base64.b64decode(token, validate=True))
        except (gssapi.exceptions.GSSError, binascii.Error) as error:
            return _unauthorized(request, f"GSSAPI authentication failed: {error}")
        if not acceptor.complete:
            return _unauthorized(request, "GSSAPI authentication incomplete")
        if answer:
            request.setHeader(
                b"WWW-Authenticate", b"Negotiate " + base64.b64encode(answer)
            )
        self._identities[request] = ("gssapi", str(acceptor.initiator_name))
        return None

    def user_for(self, state: Any, authtype: str, name: str) -> dict[str, Any]:
        """Return the user an identity logs in as.

        :raises AuthError: when no user matches, or the user is blocked.
        """
        user = None
        if authtype == "gssapi":
            user = next(
                (u for u in state.users.values() if name in u["krb_principals"]),
                None,
            )
            primary, _, realm = name.partition("@")
            if user is None and realm in self.realms:
                user = state.find("users", primary)
        else:
            user = state.find("users", name)
        if user is None:
            raise AuthError(f"Unknown user: {name}")
        if user["status"] != 0:
            raise AuthError(f"User {user['name']} is blocked")
        return user


def _certificate_name(request: Request) -> str | None:
    transport = ISSLTransport(request.transport, None)
    if transport is None:
        return None
    certificate = transport.getPeerCertificate()
    if not isinstance(certificate, X509):
        return None
    names = certificate.to_cryptography().subject.get_attributes_for_oid(
        NameOID.COMMON_NAME
    )
    return str(names[0].value) if names else None


def _unauthorized(request: Request, reason: str) -> bytes:
    request.setResponseCode(401)
    request.setHeader(b"WWW-Authenticate", b"Negotiate")
    request.setHeader(b"Content-Type", b"text/plain; charset=utf-8")
    return f"{reason}\n".encode()
