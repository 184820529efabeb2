"""How txkoji trusts a hub over HTTPS, and how it presents a client certificate.

:class:`HubTLSPolicy` is a Twisted ``IPolicyForHTTPS``: the hub's
certificate is verified against ``serverca`` when one is given, otherwise
against the system trust store, and its host name is always checked.
Verification is turned off only by an explicit ``verify=False`` (the
profile's ``no_ssl_verify``), which logs a warning.
"""

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING, Any

from OpenSSL import SSL
from service_identity import CertificateError, VerificationError
from service_identity.cryptography import (
    verify_certificate_hostname,
    verify_certificate_ip_address,
)
from twisted.internet import ssl
from twisted.internet.abstract import isIPAddress, isIPv6Address
from twisted.internet.interfaces import IOpenSSLClientConnectionCreator
from twisted.logger import Logger
from twisted.web.iweb import IPolicyForHTTPS
from zope.interface import implementer

from txkoji.exceptions import KojiTLSError

if TYPE_CHECKING:
    from cryptography.x509 import Certificate
    from OpenSSL.crypto import X509

    # The interface optionsForClientTLS() takes; Twisted exports no public
    # name for it.
    from twisted.internet._sslverify import IOpenSSLTrustRoot
    from twisted.protocols.tls import TLSMemoryBIOProtocol

#: OpenSSL's certificate verification results (X509_V_ERR_*) worth naming.
VERIFY_ERRORS = {
    9: "is not valid yet",
    10: "has expired",
    18: "is self-signed and not trusted (trust comes from serverca, else the "
    "system trust store)",
    19: "chains up to a CA that is not trusted (trust comes from serverca, else "
    "the system trust store)",
    20: "was issued by a CA that is not trusted (trust comes from serverca, else "
    "the system trust store)",
    21: "cannot be verified against the trusted CAs",
    23: "has been revoked",
}


#: OpenSSL's reason for an alert the peer sent ("sslv3 alert bad
#: certificate", "tlsv1 alert unknown ca", "ssl/tls alert bad certificate"
#: since OpenSSL 3.2, "tls alert bad certificate" for an alert that came
#: after the client's side of a TLS 1.3 handshake): the protocol part, then
#: the alert's description.
_PEER_ALERT = re.compile(r"(?:sslv3|tlsv1\d*|ssl/tls|tls) alert (.+)")


def received_alert(error: SSL.Error) -> str | None:
    """Return the description of the TLS alert the peer ended the
    connection with (``"unknown ca"``, ``"certificate required"``), read
    from the reason of each entry of the OpenSSL error queue that
    ``error`` carries, or ``None`` when the failure was not a received
    alert."""
    queue = error.args[0] if error.args and isinstance(error.args[0], list) else []
    for entry in queue:
        if isinstance(entry, tuple) and len(entry) == 3:
            match = _PEER_ALERT.fullmatch(str(entry[2]))
            if match:
                return match.group(1)
    return None


def _check_identity(certificate: Certificate, host: str) -> None:
    """Raise ``VerificationError`` or ``CertificateError`` unless the
    (cryptography) ``certificate`` is issued for ``host``, a DNS name or an
    IP address."""
    if isIPAddress(host) or isIPv6Address(host):
        verify_certificate_ip_address(certificate, host)
    else:
        verify_certificate_hostname(certificate, host)


@implementer(IOpenSSLClientConnectionCreator)
class _ExplainingCreator:
    """Twisted's client TLS settings for one host, with a verification step
    that remembers why a hub certificate was refused.

    OpenSSL checks the chain (trust, dates); then the leaf certificate must
    be issued for the host, as Twisted's own check requires.  When either
    fails, :meth:`verify_problem` says what was wrong instead of a bare
    "certificate verify failed".
    """

    def __init__(self, creator: IOpenSSLClientConnectionCreator, host: str) -> None:
        self._creator = creator
        self._host = host
        self._problem: str | None = None

    def clientConnectionForTLS(
        self, tlsProtocol: TLSMemoryBIOProtocol
    ) -> SSL.Connection:
        connection = self._creator.clientConnectionForTLS(tlsProtocol)
        connection.set_verify(
            SSL.VERIFY_PEER | SSL.VERIFY_FAIL_IF_NO_PEER_CERT, self._verify
        )
        return connection

    def _verify(
        self,
        connection: SSL.Connection,
        certificate: X509,
        errno: int,
        depth: int,
        ok: int,
    ) -> bool:
        if not ok:
            self._problem = VERIFY_ERRORS.get(
                errno, f"failed verification (OpenSSL error {errno})"
            )
            return False
        if depth == 0:
            try:
                _check_identity(certificate.to_cryptography(), self._host)
            except (VerificationError, CertificateError) as error:
                self._problem = f"is not issued for {self._host} ({error})"
                return False
        return True

    def verify_problem(self) -> str | None:
        """Return why the latest refused certificate was refused, or
        ``None`` when none was."""
        return self._problem


def _read_pem(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as pem:
            return pem.read()
    except OSError as error:
        raise KojiTLSError(f"cannot read {what} {path}: {error.strerror}") from error


def load_trust_root(serverca: str) -> IOpenSSLTrustRoot:
    """Return a trust root holding every certificate in the PEM file
    ``serverca``.

    :raises KojiTLSError: when the file cannot be read or holds no usable
        certificate.
    """
    pem = _read_pem(serverca, "serverca file")
    marker = b"-----END CERTIFICATE-----"
    blocks = [part + marker for part in pem.split(marker) if b"-----BEGIN" in part]
    try:
        certificates = [ssl.Certificate.loadPEM(block.strip()) for block in blocks]
    except Exception as error:
        raise KojiTLSError(
            f"serverca file {serverca} holds a malformed certificate: {error}"
        ) from error
    if not certificates:
        raise KojiTLSError(f"serverca file {serverca} holds no PEM certificate")
    return ssl.trustRootFromCertificates(certificates)


def load_client_certificate(cert: str) -> ssl.PrivateCertificate:
    """Return the client certificate and private key from the PEM file
    ``cert`` (both in one file, as the koji client expects).

    :raises KojiTLSError: when the file cannot be read or lacks the
        certificate or the key.  The message never includes key material.
    """
    pem = _read_pem(cert, "client certificate")
    if b"PRIVATE KEY-----" not in pem:
        raise KojiTLSError(f"client certificate {cert} holds no private key")
    try:
        return ssl.PrivateCertificate.loadPEM(pem)
    except Exception as error:
        raise KojiTLSError(
            f"client certificate {cert} could not be loaded "
            f"({type(error).__name__}); is it a PEM certificate with its key?"
        ) from None


@implementer(IPolicyForHTTPS)
class HubTLSPolicy:
    """The TLS settings for connections to one hub.

    :param serverca: path of a PEM file of CA certificates to trust instead
        of the system trust store.
    :param cert: path of a PEM file with a client certificate and its key,
        presented during the handshake (for SSL login).
    :param verify: ``False`` turns off verification of the hub's
        certificate (logged as a warning).
    :raises KojiTLSError: when ``serverca`` or ``cert`` cannot be loaded.
    """

    log = Logger()

    def __init__(
        self,
        serverca: str | None = None,
        cert: str | None = None,
        verify: bool = True,
    ) -> None:
        self.verify = verify
        self._creators: dict[bytes, _ExplainingCreator] = {}
        self._trust_root = load_trust_root(serverca) if serverca else None
        self._client_cert = load_client_certificate(cert) if cert else None
        if not verify:
            self.log.warn(
                "TLS verification of the hub's certificate is turned off "
                "(no_ssl_verify); anyone on the path can impersonate the hub"
            )

    def creatorForNetloc(
        self, hostname: bytes, port: int
    ) -> IOpenSSLClientConnectionCreator:
        """Return the TLS connection creator for ``hostname:port``."""
        if not self.verify:
            return ssl.CertificateOptions(verify=False, **self._client_kwargs())
        host = hostname.decode("ascii")
        creator = _ExplainingCreator(
            ssl.optionsForClientTLS(
                host, trustRoot=self._trust_root, clientCertificate=self._client_cert
            ),
            host,
        )
        self._creators[hostname] = creator
        return creator

    def presenting(self, client_cert: ssl.PrivateCertificate) -> HubTLSPolicy:
        """Return a policy that trusts as this one does and also presents
        ``client_cert`` (from :func:`load_client_certificate`) in the
        handshake."""
        policy = copy.copy(self)
        policy._creators = {}
        policy._client_cert = client_cert
        return policy

    def verify_problem(self, hostname: bytes) -> str | None:
        """Return what was wrong with ``hostname``'s certificate on the
        latest connection to it (e.g. ``"has expired"``), or ``None``."""
        creator = self._creators.get(hostname)
        return creator.verify_problem() if creator else None

    def _client_kwargs(self) -> dict[str, Any]:
        if self._client_cert is None:
            return {}
        return {
            "privateKey": self._client_cert.privateKey.original,
            "certificate": self._client_cert.original,
        }
