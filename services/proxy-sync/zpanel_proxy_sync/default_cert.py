"""Traefik's default certificate, made once by proxy-sync.

Without one in its ``default`` TLS store, Traefik generates a fresh RSA key and self-signed
certificate on every configuration reload: ~80 ms of CPU per switch (measured with Traefik 3.7),
most of a switch's time, and the certificate of a local domain changes with every deployment.
An EC P-256 key takes about a millisecond to make; the certificate is as untrusted as Traefik's
own (it is only served to names no other certificate covers), so it is made locally, never issued.
"""

from __future__ import annotations

import datetime

COMMON_NAME = "Zpanel default certificate"
VALID_DAYS = 3650


def self_signed(now: datetime.datetime | None = None) -> tuple[str, str]:
    """``(certificate PEM, private key PEM)``."""
    # Here, not at the top: cryptography's x509 is 10 MB RSS that an idle proxy-sync does not need.
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = now or datetime.datetime.now(datetime.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, COMMON_NAME)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem.decode()
