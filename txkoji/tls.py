"""How txkoji trusts a hub over HTTPS, and how it presents a client certificate.

:class:`HubTLSPolicy` is a Twisted ``IPolicyForHTTPS``: the hub's
certificate is verified against ``serverca`` when one is given, otherwise
against the system trust store, and its host name is always checked.
Verification is turned off only by an explicit ``verify=False`` (the
profile's ``no_ssl_verify``), which logs a warning.
"""

from __future__ import annotations

from twisted.internet import ssl
from twisted.logger import Logger
from twisted.web.iweb import IPolicyForHTTPS
from zope.interface import implementer

from txkoji.exceptions import KojiTLSError


def _read_pem(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as pem:
            return pem.read()
    except OSError as error:
        raise KojiTLSError(f"cannot read {what} {path}: {error.strerror}") from error


def load_trust_root(serverca: str) -> ssl.IOpenSSLTrustRoot:
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
        self._trust_root = load_trust_root(serverca) if serverca else None
        self._client_cert = load_client_certificate(cert) if cert else None
        if not verify:
            self.log.warn(
                "TLS verification of the hub's certificate is turned off "
                "(no_ssl_verify); anyone on the path can impersonate the hub"
            )

    def creatorForNetloc(self, hostname: bytes, port: int):
        """Return the TLS connection creator for ``hostname:port``."""
        if not self.verify:
            return ssl.CertificateOptions(verify=False, **self._client_kwargs())
        return ssl.optionsForClientTLS(
            hostname.decode("ascii"),
            trustRoot=self._trust_root,
            clientCertificate=self._client_cert,
        )

    def _client_kwargs(self) -> dict:
        if self._client_cert is None:
            return {}
        return {
            "privateKey": self._client_cert.privateKey.original,
            "certificate": self._client_cert.original,
        }
