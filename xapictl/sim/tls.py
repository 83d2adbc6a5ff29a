"""A fresh self-signed certificate for ``xapictl sim serve --tls``, as a XenServer host has one.

Clients trust it the way they trust a real pool's: with its SHA-256 fingerprint (pinning) or
by passing the PEM as a CA bundle.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from xapictl._frozen import Frozen, frozen


@frozen
class SelfSignedCert(Frozen):
    cert_pem: bytes
    key_pem: bytes
    fingerprint: str
    """SHA-256 of the DER certificate, upper-case hex pairs joined by ``:``."""

    def server_context(self) -> ssl.SSLContext:
        """A server-side TLS context serving this certificate."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        # load_cert_chain reads files only; keep them just long enough to load
        with tempfile.TemporaryDirectory(prefix="xapictl-tls-") as scratch:
            cert, key = Path(scratch, "cert.pem"), Path(scratch, "key.pem")
            cert.write_bytes(self.cert_pem)
            key.touch(mode=0o600)
            key.write_bytes(self.key_pem)
            context.load_cert_chain(cert, key)
        return context


def fingerprint_of(der: bytes) -> str:
    """``AB:CD:…``: the SHA-256 fingerprint notation XenCenter and openssl print."""
    digest = hashes.Hash(hashes.SHA256())
    digest.update(der)
    return ":".join(f"{b:02X}" for b in digest.finalize())


def generate(addresses: list[str], common_name: str = "xapictl-sim") -> SelfSignedCert:
    """A P-256 certificate valid for a year for ``localhost`` and every address given."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    alt_names: list[x509.GeneralName] = [x509.DNSName("localhost")]
    for address in addresses:
        try:
            alt_names.append(x509.IPAddress(ipaddress.ip_address(address)))
        except ValueError:
            alt_names.append(x509.DNSName(address))
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return SelfSignedCert(
        cert_pem=cert.public_bytes(serialization.Encoding.PEM),
        key_pem=key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()),
        fingerprint=fingerprint_of(cert.public_bytes(serialization.Encoding.DER)),
    )


__all__ = ["SelfSignedCert", "fingerprint_of", "generate"]
