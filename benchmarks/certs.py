"""Make the benchmark's throw-away TLS material: a CA, a hub certificate for
``localhost`` and 127.0.0.1, and a client certificate (CN ``packager``)
whose PEM file holds the key too, as koji's ``cert`` option expects.

Needs ``cryptography`` (installed with txkoji's ``tests`` extra and with
pyOpenSSL), so it runs in the project's virtualenv.
"""

from __future__ import annotations

import datetime
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

FILES = ("ca.crt", "hub.crt", "hub.key", "client.pem")


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _issue(subject, key, issuer, issuer_key, *, ca: bool, extensions=()):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    for extension in extensions:
        builder = builder.add_extension(extension, critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def ensure(directory: str) -> str:
    """Create the files in ``directory`` unless all exist; return it."""
    if all(os.path.exists(os.path.join(directory, name)) for name in FILES):
        return directory
    os.makedirs(directory, exist_ok=True)
    ca_key = _key()
    ca_name = _name("txkoji benchmark CA")
    ca = _issue(ca_name, ca_key, ca_name, ca_key, ca=True)
    hub_key = _key()
    hub = _issue(
        _name("localhost"),
        hub_key,
        ca_name,
        ca_key,
        ca=False,
        extensions=[
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
        ],
    )
    client_key = _key()
    client = _issue(
        _name("packager"),
        client_key,
        ca_name,
        ca_key,
        ca=False,
        extensions=[x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH])],
    )
    pem = serialization.Encoding.PEM
    contents = {
        "ca.crt": ca.public_bytes(pem),
        "hub.crt": hub.public_bytes(pem),
        "hub.key": _pem_key(hub_key),
        "client.pem": client.public_bytes(pem) + _pem_key(client_key),
    }
    for name, data in contents.items():
        with open(os.path.join(directory, name), "wb") as handle:
            handle.write(data)
    return directory
