"""Pure certificate helpers: CSR checks (why a CSR is refused), OCPP certificate hash data, and a
certificate's summary. No settings, no database."""
import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

RSA_MIN_BITS = 2048
EC_CURVES = {"secp256r1", "secp384r1"}
HASH_ALGORITHMS = {"SHA256": hashlib.sha256, "SHA384": hashlib.sha384, "SHA512": hashlib.sha512}


class CsrRefused(ValueError):
    """A CSR the CA will not sign: `reason_code` (≤ 20 characters, OCPP statusInfo) and why."""

    def __init__(self, reason_code, reason):
        super().__init__(reason)
        self.reason_code = reason_code
        self.reason = reason


def _name_attribute(name, oid):
    values = [attribute.value for attribute in name.get_attributes_for_oid(oid)]
    return values[0] if len(values) == 1 else None


def check_csr(pem, identity, organization):
    """The parsed CSR if the CA may sign it for station `identity`, else CsrRefused saying why:
    a readable PEM, a valid self-signature, CN = identity, O = the configured organisation, and
    an RSA ≥ 2048-bit or EC P-256/P-384 key."""
    try:
        csr = x509.load_pem_x509_csr(pem.encode() if isinstance(pem, str) else pem)
    except (ValueError, TypeError, UnsupportedAlgorithm) as error:
        raise CsrRefused("InvalidCSR", f"Not a PEM certificate signing request ({error})") from None
    try:
        signature_valid = csr.is_signature_valid
    except (ValueError, UnsupportedAlgorithm):
        signature_valid = False
    if not signature_valid:
        raise CsrRefused("InvalidSignature", "The CSR's signature does not match its key")
    common_name = _name_attribute(csr.subject, NameOID.COMMON_NAME)
    if common_name != identity:
        raise CsrRefused("InvalidCommonName",
                         f"The CSR's CN is {common_name!r}; it must be the identity {identity!r}")
    org = _name_attribute(csr.subject, NameOID.ORGANIZATION_NAME)
    if organization and org != organization:
        raise CsrRefused("InvalidOrganization",
                         f"The CSR's O is {org!r}; it must be {organization!r}")
    key = csr.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < RSA_MIN_BITS:
            raise CsrRefused("InvalidKey",
                             f"RSA key of {key.key_size} bits; at least {RSA_MIN_BITS} required")
    elif isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.name not in EC_CURVES:
            raise CsrRefused("InvalidKey", f"EC curve {key.curve.name}; P-256 or P-384 required")
    else:
        raise CsrRefused("InvalidKey", f"Key type {type(key).__name__} is not RSA or EC")
    return csr


@dataclass(frozen=True)
class HashData:
    """OCPP CertificateHashDataType: the certificate's issuer name and key hashes and serial."""

    hash_algorithm: str
    issuer_name_hash: str
    issuer_key_hash: str
    serial_number: str

    def as_ocpp(self):
        return {"hashAlgorithm": self.hash_algorithm, "issuerNameHash": self.issuer_name_hash,
                "issuerKeyHash": self.issuer_key_hash, "serialNumber": self.serial_number}

    @classmethod
    def from_ocpp(cls, data):
        return cls(data["hashAlgorithm"], data["issuerNameHash"].lower(),
                   data["issuerKeyHash"].lower(), data["serialNumber"].lower().lstrip("0") or "0")


def serial_hex(serial):
    """OCPP's serial spelling: hexadecimal, no 0x, no leading zeroes."""
    return format(serial, "x")


def public_key_bits(public_key):
    """The subjectPublicKey BIT STRING contents (what OCSP's issuerKeyHash hashes)."""
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return public_key.public_bytes(serialization.Encoding.X962,
                                       serialization.PublicFormat.UncompressedPoint)
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)


def hash_data(certificate, issuer_public_key=None, algorithm="SHA256"):
    """The certificate's hash data; a self-signed one is its own issuer. Without the issuer's key
    (not self-signed, issuer unknown) the key hash is left blank."""
    digest = HASH_ALGORITHMS[algorithm]
    if issuer_public_key is None and certificate.issuer == certificate.subject:
        issuer_public_key = certificate.public_key()
    key_hash = digest(public_key_bits(issuer_public_key)).hexdigest() if issuer_public_key else ""
    return HashData(algorithm, digest(certificate.issuer.public_bytes()).hexdigest(), key_hash,
                    serial_hex(certificate.serial_number))


def load_certificates(pem):
    """Every certificate of a PEM text, in order (ValueError when there is none)."""
    data = pem.encode() if isinstance(pem, str) else pem
    certificates = x509.load_pem_x509_certificates(data)
    if not certificates:
        raise ValueError("no certificate in the PEM text")
    return certificates


def pem_of(certificate):
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def common_name(name):
    return _name_attribute(name, NameOID.COMMON_NAME) or ""


def summary(certificate):
    """Model field values describing `certificate`."""
    return {"serial_number": serial_hex(certificate.serial_number),
            "subject": certificate.subject.rfc4514_string()[:255],
            "issuer": certificate.issuer.rfc4514_string()[:255],
            "not_before": certificate.not_valid_before_utc,
            "not_after": certificate.not_valid_after_utc,
            "pem": pem_of(certificate)}
