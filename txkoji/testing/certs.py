"""Test certificates made with ``cryptography``: CAs, server and client
certificates, including the broken kinds TLS tests need.

::

    pki = write_test_pki(tmp_path)              # CA, server, client "alice"
    other_ca = make_ca("Other CA")              # a CA the hub does not trust
    stranger = make_client_cert(other_ca, "alice")
    expired = make_client_cert(pki.ca, "alice", not_after=past)
    wrong = make_server_cert(pki.ca, hostnames=["wrong.example.com"])

Keys are ECDSA P-256 (fast to make).  Names holding an IP address go in
the subject alternative name as IP addresses, others as DNS names.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class CertKey:
    """A certificate and its private key."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    def cert_pem(self) -> bytes:
        """The certificate, PEM-encoded."""
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def key_pem(self) -> bytes:
        """The private key, unencrypted PKCS#8 PEM."""
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def write(self, directory: str | Path, name: str) -> tuple[Path, Path, Path]:
        """Write ``NAME.crt``, ``NAME.key`` and ``NAME.pem`` (certificate
        then key, the form koji's ``cert`` option takes) into
        ``directory`` and return their paths."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        paths = (
            directory / f"{name}.crt",
            directory / f"{name}.key",
            directory / f"{name}.pem",
        )
        paths[0].write_bytes(self.cert_pem())
        paths[1].write_bytes(self.key_pem())
        paths[1].chmod(0o600)
        paths[2].write_bytes(self.cert_pem() + self.key_pem())
        paths[2].chmod(0o600)
        return paths


def _validity(
    not_before: datetime | None, not_after: datetime | None
) -> tuple[datetime, datetime]:
    now = datetime.now(timezone.utc)
    return (
        not_before or now - timedelta(hours=1),
        not_after or now + timedelta(days=30),
    )


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    not_before: datetime | None,
    not_after: datetime | None,
) -> x509.CertificateBuilder:
    start, end = _validity(not_before, not_after)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
    )


def _name(common_name: str, organization: str = "txkoji tests") -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def make_ca(
    common_name: str = "txkoji test CA",
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> CertKey:
    """Return a self-signed CA (valid from an hour ago for 30 days unless
    told otherwise)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(common_name)
    cert = (
        _builder(name, name, key, not_before, not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False
        )
        .sign(key, hashes.SHA256())
    )
    return CertKey(cert, key)


def _issue(
    ca: CertKey,
    subject: x509.Name,
    usage: x509.ObjectIdentifier,
    sans: Sequence[x509.GeneralName],
    not_before: datetime | None,
    not_after: datetime | None,
) -> CertKey:
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        _builder(subject, ca.cert.subject, key, not_before, not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
            False,
        )
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(sans)), False)
    return CertKey(builder.sign(ca.key, hashes.SHA256()), key)


def _general_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def make_server_cert(
    ca: CertKey,
    hostnames: Sequence[str] = ("localhost", "127.0.0.1"),
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> CertKey:
    """Return a server certificate issued by ``ca`` for ``hostnames``
    (DNS names and IP addresses in the SAN; the first is the CN)."""
    return _issue(
        ca,
        _name(hostnames[0]),
        ExtendedKeyUsageOID.SERVER_AUTH,
        [_general_name(h) for h in hostnames],
        not_before,
        not_after,
    )


def make_client_cert(
    ca: CertKey,
    user: str,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> CertKey:
    """Return a client certificate issued by ``ca`` whose CN is ``user``
    (the name a hub's ssl login takes)."""
    return _issue(
        ca, _name(user), ExtendedKeyUsageOID.CLIENT_AUTH, [], not_before, not_after
    )


@dataclass(frozen=True)
class TestPKI:
    """The files :func:`write_test_pki` wrote, and the objects behind them.

    :ivar ca_cert: the CA certificate (koji's ``serverca``).
    :ivar server_cert: the hub's certificate.
    :ivar server_key: the hub's private key.
    :ivar client_pem: the client certificate and key in one file (koji's
        ``cert``); ``client_cert`` and ``client_key`` hold them apart.
    """

    __test__ = False  # not a pytest test class

    directory: Path
    ca: CertKey
    server: CertKey
    client: CertKey
    ca_cert: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    client_pem: Path


def write_test_pki(
    directory: str | Path,
    user: str = "alice",
    hostnames: Sequence[str] = ("localhost", "127.0.0.1"),
) -> TestPKI:
    """Make a CA, a server certificate for ``hostnames`` and a client
    certificate for ``user``, write them as ``ca.crt``, ``server.crt``/
    ``.key``/``.pem`` and ``client.crt``/``.key``/``.pem`` into
    ``directory``, and return them."""
    ca = make_ca()
    server = make_server_cert(ca, hostnames)
    client = make_client_cert(ca, user)
    server_cert, server_key, _ = server.write(directory, "server")
    client_cert, client_key, client_pem = client.write(directory, "client")
    ca_cert = Path(directory) / "ca.crt"
    ca_cert.write_bytes(ca.cert_pem())
    return TestPKI(
        Path(directory),
        ca,
        server,
        client,
        ca_cert,
        server_cert,
        server_key,
        client_cert,
        client_key,
        client_pem,
    )
