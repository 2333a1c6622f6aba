"""The certificate authority's own logic (pure, in the test process): the generated root and
sub-CA persist with private key files, a passphrase encrypts them, an operator-supplied CA is
used as given (and a key that does not match it refused), a leaf never outlives its issuer,
and the hash data match what an OCSP request names the certificate by."""
import stat
from datetime import datetime, timedelta, timezone

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID

from stations.security import ca
from stations.security import x509 as certs
from tests.certificate_helpers import make_csr, pem, self_signed_root


@pytest.fixture
def fresh_ca(settings, tmp_path, monkeypatch):
    """A CA loaded from `tmp_path` (nothing cached from other tests)."""
    monkeypatch.setattr(ca, "_loaded", None)
    settings.CERTIFICATE_AUTHORITY_DIR = tmp_path / "ca"
    settings.CERTIFICATE_AUTHORITY_CERT_FILE = ""
    settings.CERTIFICATE_AUTHORITY_KEY_PASSPHRASE = ""
    return tmp_path / "ca"


def test_generated_ca_is_kept_with_private_keys(fresh_ca, monkeypatch):
    authority = ca.authority()
    assert not authority.operator_supplied
    authority.issuer.verify_directly_issued_by(authority.root)
    assert authority.issuer.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length == 0
    for name in ("root-ca.key", "station-ca.key"):
        assert stat.S_IMODE((fresh_ca / name).stat().st_mode) == 0o600
    assert stat.S_IMODE(fresh_ca.stat().st_mode) == 0o700
    monkeypatch.setattr(ca, "_loaded", None)  # a new process reads the same CA back
    again = ca.authority()
    assert again.root == authority.root and again.issuer == authority.issuer


def test_passphrase_encrypts_the_generated_keys(fresh_ca, settings):
    settings.CERTIFICATE_AUTHORITY_KEY_PASSPHRASE = "correct horse"
    ca.authority()
    key_pem = (fresh_ca / "station-ca.key").read_bytes()
    assert b"ENCRYPTED" in key_pem
    with pytest.raises(TypeError):
        serialization.load_pem_private_key(key_pem, None)


def test_leaf_never_outlives_the_issuer_and_carries_the_csr_subject(fresh_ca):
    authority = ca.authority()
    csr = certs.check_csr(make_csr("CS-1"), "CS-1", "CSMS")
    leaf = authority.sign(csr, "ChargingStationCertificate", validity_days=365 * 50)
    assert leaf.not_valid_after_utc == authority.issuer.not_valid_after_utc
    assert leaf.subject == csr.subject
    leaf.verify_directly_issued_by(authority.issuer)
    short = authority.sign(csr, "ChargingStationCertificate", validity_days=10)
    assert short.not_valid_after_utc - datetime.now(timezone.utc) < timedelta(days=10, minutes=1)


def _operator_ca(tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Operator Issuing CA")])
    now = datetime.now(timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                   .sign(key, hashes.SHA256()))
    (tmp_path / "issuer.pem").write_text(pem(certificate))
    (tmp_path / "issuer.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return certificate


def test_operator_supplied_ca_signs(settings, tmp_path, monkeypatch):
    monkeypatch.setattr(ca, "_loaded", None)
    issuer = _operator_ca(tmp_path)
    settings.CERTIFICATE_AUTHORITY_CERT_FILE = str(tmp_path / "issuer.pem")
    settings.CERTIFICATE_AUTHORITY_KEY_FILE = str(tmp_path / "issuer.key")
    settings.CERTIFICATE_AUTHORITY_KEY_PASSPHRASE = ""
    authority = ca.authority()
    assert authority.operator_supplied and authority.issuer == issuer
    leaf = authority.sign(certs.check_csr(make_csr("CS-2"), "CS-2", "CSMS"), "V2GCertificate", 365)
    leaf.verify_directly_issued_by(issuer)
    assert leaf.not_valid_after_utc <= issuer.not_valid_after_utc
    # An RSA issuer's key hash is the one OCSP computes too.
    request = ocsp.OCSPRequestBuilder().add_certificate(leaf, issuer, hashes.SHA256()).build()
    assert certs.hash_data(leaf, issuer.public_key()).issuer_key_hash == request.issuer_key_hash.hex()


def test_operator_key_that_does_not_match_is_refused(settings, tmp_path, monkeypatch):
    monkeypatch.setattr(ca, "_loaded", None)
    _operator_ca(tmp_path)
    other = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "other.key").write_bytes(other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    settings.CERTIFICATE_AUTHORITY_CERT_FILE = str(tmp_path / "issuer.pem")
    settings.CERTIFICATE_AUTHORITY_KEY_FILE = str(tmp_path / "other.key")
    with pytest.raises(ca.CaUnavailable, match="not the key"):
        ca.authority()


@pytest.mark.parametrize("algorithm,digest", [("SHA256", hashes.SHA256()), ("SHA384", hashes.SHA384())])
def test_hash_data_is_what_ocsp_names_the_certificate_by(fresh_ca, algorithm, digest):
    authority = ca.authority()
    leaf = authority.sign(certs.check_csr(make_csr("CS-3"), "CS-3", "CSMS"),
                          "ChargingStationCertificate", 30)
    request = ocsp.OCSPRequestBuilder().add_certificate(leaf, authority.issuer, digest).build()
    data = certs.hash_data(leaf, authority.issuer.public_key(), algorithm)
    assert data.issuer_name_hash == request.issuer_name_hash.hex()
    assert data.issuer_key_hash == request.issuer_key_hash.hex()
    assert data.serial_number == format(request.serial_number, "x")
    root = self_signed_root()
    root_request = ocsp.OCSPRequestBuilder().add_certificate(root, root, digest).build()
    assert certs.hash_data(root, algorithm=algorithm).issuer_key_hash == root_request.issuer_key_hash.hex()
