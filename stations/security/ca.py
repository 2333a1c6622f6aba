"""The certificate authority that signs station certificates: a root and a charging-station
sub-CA generated on first use (key files 0600 under CERTIFICATE_AUTHORITY_DIR), or the
operator's own issuing CA (CERTIFICATE_AUTHORITY_CERT_FILE + _KEY_FILE)."""
import fcntl
import os
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.conf import settings

from .x509 import load_certificates, pem_of

ROOT_FILES = ("root-ca.pem", "root-ca.key")
ISSUER_FILES = ("station-ca.pem", "station-ca.key")
ROOT_YEARS, ISSUER_YEARS = 20, 10
# A leaf is valid from a little before now: stations' clocks run slightly behind.
CLOCK_SKEW = timedelta(minutes=5)

_lock = threading.Lock()
_loaded = None


class CaUnavailable(RuntimeError):
    """The operator's CA files are missing or unreadable."""


@dataclass(frozen=True)
class CertificateAuthority:
    issuer: x509.Certificate
    issuer_key: object
    # The issuer's chain up to and including the root (the root alone when it is the issuer).
    chain: tuple
    operator_supplied: bool

    @property
    def root(self):
        return self.chain[-1]

    def chain_pem(self):
        """The issuing CA and everything above it, issuer first."""
        return "".join(pem_of(certificate) for certificate in self.chain_without_duplicates())

    def chain_without_duplicates(self):
        seen, ordered = set(), []
        for certificate in (self.issuer, *self.chain):
            if certificate.fingerprint(hashes.SHA256()) not in seen:
                seen.add(certificate.fingerprint(hashes.SHA256()))
                ordered.append(certificate)
        return ordered

    def sign(self, csr, certificate_type, validity_days):
        """The leaf certificate for a checked CSR (ChargingStationCertificate: TLS client;
        V2GCertificate: the ISO 15118 TLS server), never outliving the issuer."""
        now = datetime.now(timezone.utc)
        not_after = min(now + timedelta(days=validity_days), self.issuer.not_valid_after_utc)
        public_key = csr.public_key()
        usages = [ExtendedKeyUsageOID.CLIENT_AUTH]
        if certificate_type == "V2GCertificate":
            usages = [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
        builder = (
            x509.CertificateBuilder()
            .subject_name(csr.subject).issuer_name(self.issuer.subject)
            .public_key(public_key).serial_number(x509.random_serial_number())
            .not_valid_before(now - CLOCK_SKEW).not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(ca=False, rsa_key=isinstance(public_key, rsa.RSAPublicKey)),
                           critical=True)
            .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                self.issuer_key.public_key()), critical=False)
        )
        return builder.sign(self.issuer_key, _signing_hash(self.issuer_key))


def _signing_hash(key):
    return hashes.SHA384() if isinstance(key, ec.EllipticCurvePrivateKey) else hashes.SHA256()


def _key_usage(ca, rsa_key=False):
    return x509.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=rsa_key and not ca,
        data_encipherment=False, key_agreement=not ca and not rsa_key, key_cert_sign=ca,
        crl_sign=ca, encipher_only=False, decipher_only=False)


def _passphrase():
    value = settings.CERTIFICATE_AUTHORITY_KEY_PASSPHRASE
    return value.encode() if value else None


def _ca_certificate(subject, issuer, public_key, signing_key, years, path_length):
    now = datetime.now(timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(issuer.subject if issuer else subject)
        .public_key(public_key).serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW).not_valid_after(now + timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            signing_key.public_key()), critical=False)
    )
    return builder.sign(signing_key, _signing_hash(signing_key))


def _name(common_name):
    organization = settings.CERTIFICATE_ORGANIZATION or "CSMS"
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_private(path, data):
    """Create `path` readable by this user only (0600 from the start, never world-readable)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def _key_bytes(key):
    passphrase = _passphrase()
    encryption = (serialization.BestAvailableEncryption(passphrase) if passphrase
                  else serialization.NoEncryption())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             encryption)


def _generate(directory):
    root_key = ec.generate_private_key(ec.SECP384R1())
    root = _ca_certificate(_name(f"{settings.CERTIFICATE_ORGANIZATION or 'CSMS'} Root CA"), None,
                           root_key.public_key(), root_key, ROOT_YEARS, 1)
    issuer_key = ec.generate_private_key(ec.SECP384R1())
    issuer = _ca_certificate(
        _name(f"{settings.CERTIFICATE_ORGANIZATION or 'CSMS'} Charging Station CA"), root,
        issuer_key.public_key(), root_key, ISSUER_YEARS, 0)
    # Keys first, certificates last: a certificate file on disk means its key is there too.
    _write_private(directory / ROOT_FILES[1], _key_bytes(root_key))
    _write_private(directory / ISSUER_FILES[1], _key_bytes(issuer_key))
    (directory / ROOT_FILES[0]).write_text(pem_of(root))
    (directory / ISSUER_FILES[0]).write_text(pem_of(issuer))


def _load_key(path):
    try:
        return serialization.load_pem_private_key(Path(path).read_bytes(), _passphrase())
    except (OSError, ValueError, TypeError) as error:
        raise CaUnavailable(f"cannot read the CA key {path}: {error}") from None


def _load_generated():
    directory = Path(settings.CERTIFICATE_AUTHORITY_DIR)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    # One generator across processes (servers, workers sharing the directory).
    with open(directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (directory / ISSUER_FILES[0]).exists():
            _generate(directory)
    root = load_certificates((directory / ROOT_FILES[0]).read_bytes())[0]
    issuer = load_certificates((directory / ISSUER_FILES[0]).read_bytes())[0]
    return CertificateAuthority(issuer, _load_key(directory / ISSUER_FILES[1]), (issuer, root),
                                False)


def _load_supplied():
    try:
        chain = load_certificates(Path(settings.CERTIFICATE_AUTHORITY_CERT_FILE).read_bytes())
    except (OSError, ValueError) as error:
        raise CaUnavailable(f"cannot read {settings.CERTIFICATE_AUTHORITY_CERT_FILE}: {error}") from None
    key = _load_key(settings.CERTIFICATE_AUTHORITY_KEY_FILE)
    if key.public_key().public_numbers() != chain[0].public_key().public_numbers():
        raise CaUnavailable("CERTIFICATE_AUTHORITY_KEY_FILE is not the key of the first "
                            "certificate in CERTIFICATE_AUTHORITY_CERT_FILE")
    return CertificateAuthority(chain[0], key, tuple(chain), True)


def authority():
    """The process's CA, loaded (or generated) once."""
    global _loaded
    with _lock:
        if _loaded is None:
            _loaded = _load_supplied() if settings.CERTIFICATE_AUTHORITY_CERT_FILE else _load_generated()
        return _loaded

