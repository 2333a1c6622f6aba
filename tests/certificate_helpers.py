"""CSRs and certificates made by the tests (the station's side of SignCertificate), and answering
helpers for the CSMS's certificate calls."""
import queue
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from django.conf import settings


def make_csr(common_name, organization=None, key=None):
    """A PEM CSR for `common_name` (O = the configured organisation unless given)."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization or settings.CERTIFICATE_ORGANIZATION),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    csr = x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def small_rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=1024)


def csr_with_broken_signature(common_name):
    """A CSR whose signature no longer matches its content (one signature byte flipped)."""
    pem = make_csr(common_name)
    der = bytearray(x509.load_pem_x509_csr(pem.encode()).public_bytes(serialization.Encoding.DER))
    der[-5] ^= 0x01  # inside the signature BIT STRING at the end
    return x509.load_der_x509_csr(bytes(der)).public_bytes(serialization.Encoding.PEM).decode()


def self_signed_root(common_name="Test Root"):
    """A self-signed CA certificate (PEM) to install as a root."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=3650))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .sign(key, hashes.SHA256()))
    return certificate


def pem(certificate):
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def answering(station, action, answer):
    """Answer `action` with `answer`; return a queue of the payloads the CSMS sent."""
    payloads = queue.Queue()

    def reply(payload):
        payloads.put(payload)
        return answer(payload) if callable(answer) else answer

    station.answers[action] = reply
    return payloads
