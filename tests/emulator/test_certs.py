"""The emulator's server certificate names the address it listens on, so clients on other hosts
can check it (the fleet test runs it on a test host's own address)."""
from __future__ import annotations

import ipaddress
from pathlib import Path

from cryptography import x509

from emulator.certs import ensure_tls_files


def _names(path: Path) -> set[str]:
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return {str(name.value) for name in names}


def test_the_certificate_names_its_address_and_is_made_again_for_another(tmp_path: Path) -> None:
    first = ensure_tls_files(tmp_path)
    assert _names(first.cert_path) == {"localhost", "127.0.0.1", "::1"}
    again = ensure_tls_files(tmp_path)
    assert again.ca_path.read_bytes() == first.ca_path.read_bytes(), "a valid pair is reused"
    other = ensure_tls_files(tmp_path, "10.200.7.11")
    assert str(ipaddress.ip_address("10.200.7.11")) in _names(other.cert_path)
    assert _names(ensure_tls_files(tmp_path, "graph.test").cert_path) >= {"graph.test", "localhost"}
