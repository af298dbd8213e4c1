"""TLS material for the emulator.

MSAL refuses any authority that is not ``https://host/<tenant>``, so the emulator must speak
HTTPS. We make a private CA and a server certificate for 127.0.0.1 / localhost; clients trust
the CA file (``verify=ca_path``). A cert dir that already holds a valid pair is reused, so a
browser or a shell that trusts the CA keeps working across restarts.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_FILE = "ca.pem"
CERT_FILE = "server.pem"
KEY_FILE = "server-key.pem"
HOST_NAMES = ("localhost",)
HOST_IPS = ("127.0.0.1", "::1")


@dataclass(frozen=True)
class TlsFiles:
    """Paths of the generated PEM files."""

    directory: Path
    ca_path: Path
    cert_path: Path
    key_path: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Outlook emulator (local test only)"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _names(host: str) -> list[x509.GeneralName]:
    """The server certificate's names: localhost and loopback, and ``host`` (an address or a name)."""
    names: list[x509.GeneralName] = [x509.DNSName(n) for n in HOST_NAMES]
    names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in HOST_IPS]
    try:
        extra: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        extra = x509.DNSName(host)
    return names if extra in names or host in ("", "0.0.0.0", "::") else [*names, extra]


def _still_valid(directory: Path, host: str) -> bool:
    """True when the dir holds a CA + server pair that is valid for the next day and names ``host``."""
    paths = [directory / CA_FILE, directory / CERT_FILE, directory / KEY_FILE]
    if not all(p.is_file() for p in paths):
        return False
    try:
        ca = x509.load_pem_x509_certificate(paths[0].read_bytes())
        cert = x509.load_pem_x509_certificate(paths[1].read_bytes())
        serialization.load_pem_private_key(paths[2].read_bytes(), password=None)
    except ValueError:
        return False
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    try:
        named = set(cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
    except x509.ExtensionNotFound:
        return False
    return cert.issuer == ca.subject and cert.not_valid_after_utc > soon and set(_names(host)) <= named


def ensure_tls_files(cert_dir: str | Path | None = None, host: str = "127.0.0.1") -> TlsFiles:
    """Create (or reuse) the CA and a server certificate for localhost, loopback and ``host`` (the
    address the emulator listens on, e.g. a test host's); return their paths."""
    directory = Path(cert_dir) if cert_dir else Path(tempfile.mkdtemp(prefix="outlook-emulator-"))
    directory.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(directory, directory / CA_FILE, directory / CERT_FILE, directory / KEY_FILE)
    if _still_valid(directory, host):
        return files

    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("Outlook emulator local CA")
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=825))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
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
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    key = ec.generate_private_key(ec.SECP256R1())
    sans = _names(host)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=397))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=True,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    files.ca_path.write_bytes(ca_cert.public_bytes(pem))
    files.cert_path.write_bytes(cert.public_bytes(pem) + ca_cert.public_bytes(pem))
    files.key_path.write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    files.key_path.chmod(0o600)
    return files
