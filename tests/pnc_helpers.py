"""Plug & Charge test material: an MO PKI made by the tests (root, sub-CA, contract certificates
naming an OCSP responder), a real OCSP responder and a certificate provider, both small HTTP
servers in the test process."""
import hashlib
import json
import queue
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID

from stations.security.x509 import public_key_bits

HASHES = {"SHA256": hashes.SHA256(), "SHA384": hashes.SHA384(), "SHA512": hashes.SHA512()}


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test Mobility Operator"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


class Authority:
    """A CA certificate and its key; issues CA or contract certificates."""

    def __init__(self, certificate, key):
        self.certificate, self.key = certificate, key

    @classmethod
    def root(cls, common_name="Test MO Root"):
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(timezone.utc)
        certificate = (x509.CertificateBuilder().subject_name(_name(common_name))
                       .issuer_name(_name(common_name)).public_key(key.public_key())
                       .serial_number(x509.random_serial_number())
                       .not_valid_before(now - timedelta(days=1))
                       .not_valid_after(now + timedelta(days=3650))
                       .add_extension(x509.BasicConstraints(ca=True, path_length=None),
                                      critical=True)
                       .sign(key, hashes.SHA256()))
        return cls(certificate, key)

    def issue(self, common_name, ca=False, responder_url="", valid_from=None, valid_until=None,
              signing_key=None):
        """A certificate issued in this CA's name (signed by `signing_key` if given: a forgery)."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(timezone.utc)
        builder = (x509.CertificateBuilder().subject_name(_name(common_name))
                   .issuer_name(self.certificate.subject).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(valid_from or now - timedelta(days=1))
                   .not_valid_after(valid_until or now + timedelta(days=365))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if responder_url:
            access = x509.AccessDescription(AuthorityInformationAccessOID.OCSP,
                                            x509.UniformResourceIdentifier(responder_url))
            builder = builder.add_extension(x509.AuthorityInformationAccess([access]),
                                            critical=False)
        certificate = builder.sign(signing_key or self.key, hashes.SHA256())
        return Authority(certificate, key)


def pem(*certificates):
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in certificates)


def ocsp_request_data(certificate, issuer, responder_url, algorithm="SHA256"):
    """OCPP OCSPRequestDataType naming `certificate` (issued by `issuer`)."""
    digest = getattr(hashlib, algorithm.lower())
    return {"hashAlgorithm": algorithm,
            "issuerNameHash": digest(issuer.subject.public_bytes()).hexdigest(),
            "issuerKeyHash": digest(public_key_bits(issuer.public_key())).hexdigest(),
            "serialNumber": format(certificate.serial_number, "x"),
            "responderURL": responder_url}


class _Server:
    def __init__(self, handler_class):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
        self.httpd.owner = self
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class _OcspHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        answer = self.server.owner.answer(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/ocsp-response")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


class OcspResponder(_Server):
    """Answers OCSP requests for the certificates of the authorities it serves, each answer
    signed by the certificate's issuer: revoked for the serials in `revoked`, unknown for
    certificates it never heard of, good otherwise. `asked` holds the serials asked about."""

    def __init__(self):
        self.authorities = []
        self.revoked = set()
        self.asked = queue.Queue()
        super().__init__(_OcspHandler)

    def serve(self, authority):
        self.authorities.append(authority)

    def _issuer(self, request):
        for authority in self.authorities:
            key_hash = hashlib.new(request.hash_algorithm.name,
                                   public_key_bits(authority.certificate.public_key())).digest()
            if key_hash == request.issuer_key_hash:
                return authority
        return None

    def answer(self, body):
        try:
            request = ocsp.load_der_ocsp_request(body)
        except ValueError:
            return ocsp.OCSPResponseBuilder.build_unsuccessful(
                ocsp.OCSPResponseStatus.MALFORMED_REQUEST).public_bytes(serialization.Encoding.DER)
        self.asked.put(request.serial_number)
        issuer = self._issuer(request)
        if issuer is None:
            return ocsp.OCSPResponseBuilder.build_unsuccessful(
                ocsp.OCSPResponseStatus.UNAUTHORIZED).public_bytes(serialization.Encoding.DER)
        now = datetime.now(timezone.utc)
        revoked = request.serial_number in self.revoked
        status = ocsp.OCSPCertStatus.REVOKED if revoked else ocsp.OCSPCertStatus.GOOD
        builder = ocsp.OCSPResponseBuilder().add_response_by_hash(
            request.issuer_name_hash, request.issuer_key_hash, request.serial_number,
            request.hash_algorithm, status, now, now + timedelta(hours=1),
            now - timedelta(hours=1) if revoked else None,
            x509.ReasonFlags.key_compromise if revoked else None)
        response = (builder.responder_id(ocsp.OCSPResponderEncoding.HASH, issuer.certificate)
                    .sign(issuer.key, hashes.SHA256()))
        return response.public_bytes(serialization.Encoding.DER)

    def asked_serials(self):
        serials = []
        while not self.asked.empty():
            serials.append(self.asked.get())
        return serials


class _ProviderHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        owner = self.server.owner
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        owner.received.put({"action": self.headers.get("X-OCPP-Action"),
                            "station": self.headers.get("X-OCPP-Station"),
                            "authorization": self.headers.get("Authorization"),
                            "payload": json.loads(body)})
        status, answer = owner.answers.get(self.headers.get("X-OCPP-Action"), (404, {}))
        data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


class CertificateProvider(_Server):
    """A certificate provider: `answers[action] = (http_status, JSON answer or raw bytes)`;
    `received` holds each request (action, station, authorization header, payload)."""

    def __init__(self):
        self.answers = {}
        self.received = queue.Queue()
        super().__init__(_ProviderHandler)

    def clear(self):
        self.answers.clear()
        while not self.received.empty():
            self.received.get_nowait()
