"""A throwaway PKI for the local stack: a fresh CA and one server certificate for every local name.

`make_pki(directory)` writes PEM files that Python (ssl, requests, azure-core) and Node (Azurite `--cert/--key`)
both accept, plus `bundle.pem` (system CAs + our CA) for REQUESTS_CA_BUNDLE. The CA's private key never touches
the disk: nothing else can be signed with it once this function returns.

    python -m tests.stack.pki DIR      # prints the paths as JSON
"""

import datetime
import ipaddress
import json
import os
import ssl
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.stack import constants as C

SYSTEM_BUNDLES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem")
# Valid over the whole window of the stack's clock (Stack.set_clock moves it up to 30 days either way), and then
# some: a process whose clock is shifted must never see a certificate not yet valid or expired.
VALID_BEFORE = datetime.timedelta(days=30, hours=1)
VALID_AFTER = datetime.timedelta(days=60)


def server_names():
    """The DNS names the server certificate covers (besides IP 127.0.0.1)."""
    mhsm = C.MHSM_DNS_SUFFIX.lstrip(".")  # managedhsm.hsmbackup.test
    blob = "blob." + C.STORAGE_ENDPOINT_SUFFIX  # blob.hsmbackup.test
    return ["localhost", "*." + mhsm, mhsm, "*." + blob, blob]


def _name(common_name):
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "azext_hsmbackup local test stack"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _write(path, data, mode=0o644):
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _system_bundle():
    candidates = [*SYSTEM_BUNDLES, ssl.get_default_verify_paths().cafile]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate):
            return Path(candidate).read_bytes()
    return b""


def make_pki(directory):
    """Create a new CA and a server cert/key in `directory`; return {"ca", "cert", "key", "bundle"} as Paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    not_before, not_after = now - VALID_BEFORE, now + VALID_AFTER

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_name = _name("hsmbackup local test CA")
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
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
    sans = [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))] + [x509.DNSName(n) for n in server_names()]
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
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
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    paths = {
        "ca": directory / "ca.pem",
        "cert": directory / "server.pem",
        "key": directory / "server-key.pem",
        "bundle": directory / "bundle.pem",
    }
    ca_pem = ca_cert.public_bytes(serialization.Encoding.PEM)
    _write(paths["ca"], ca_pem)
    _write(paths["cert"], cert.public_bytes(serialization.Encoding.PEM))
    _write(
        paths["key"],
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
        mode=0o600,
    )
    system = _system_bundle()
    if system and not system.endswith(b"\n"):
        system += b"\n"
    _write(paths["bundle"], system + ca_pem)
    return paths


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or argv[0].startswith("-"):
        print("usage: python -m tests.stack.pki DIR", file=sys.stderr)
        return 2
    print(json.dumps({k: str(v) for k, v in make_pki(argv[0]).items()}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
