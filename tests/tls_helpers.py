"""Certificates made by the tests (a CA, the server's, stations' good and bad ones) and TLS
terminators in front of the CSMS: runcsms with its own TLS port, and Debian's nginx with the
project's deploy/nginx configuration."""
import base64
import getpass
import datetime
import re
import socket
import ssl
import subprocess
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from websockets.exceptions import ConnectionClosed, InvalidMessage, InvalidStatus
from websockets.sync.client import connect

from tests.conftest import ROOT, free_port, wait_for_port
from tests.helpers import stop_process
from tests.station import StationClient

NGINX = "/usr/sbin/nginx"


def _name(common_name, organisation="CSMS"):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation)])


class Authority:
    """A CA that signs what the tests need; each certificate is written as PEM files in `directory`."""

    def __init__(self, directory, name="Test Root"):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        self.certificate = (
            x509.CertificateBuilder().subject_name(_name(name)).issuer_name(_name(name))
            .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                           critical=True)
            .sign(self.key, hashes.SHA256())
        )
        self.path = self.directory / f"{name.replace(' ', '-').lower()}.pem"
        self.path.write_bytes(self.certificate.public_bytes(serialization.Encoding.PEM))

    def issue(self, common_name, server=False, expired=False):
        """(certificate path, key path) of a leaf certificate for `common_name`."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        start, end = ((now - datetime.timedelta(days=10), now - datetime.timedelta(days=1))
                      if expired else (now - datetime.timedelta(hours=1), now + datetime.timedelta(days=7)))
        builder = (
            x509.CertificateBuilder().subject_name(_name(common_name))
            .issuer_name(self.certificate.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        )
        if server:
            builder = builder.add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"),
                x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]), critical=False)
        certificate = builder.sign(self.key, hashes.SHA256())
        stem = f"{common_name}{'-expired' if expired else ''}-{certificate.serial_number % 10**8}"
        certificate_path = self.directory / f"{stem}.crt.pem"
        key_path = self.directory / f"{stem}.key.pem"
        certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        return certificate_path, key_path


def client_context(server_authority, certificate=None):
    """An ssl context trusting the server's CA, presenting `certificate` ((cert, key) paths)."""
    context = ssl.create_default_context(cafile=str(server_authority.path))
    if certificate:
        context.load_cert_chain(str(certificate[0]), str(certificate[1]))
    return context


def _connect_options(url, context, source_address):
    options = {}
    if context is not None:
        options.update(ssl=context, server_hostname="localhost")
    if source_address:  # e.g. 127.0.0.2: a peer outside OCPP_TRUSTED_PROXIES
        host, port = re.match(r"wss?://([^:/]+):(\d+)", url).groups()
        options["sock"] = socket.create_connection((host, int(port)), timeout=10,
                                                   source_address=(source_address, 0))
    return options


def open_station(url, identity, context=None, password=None, source_address=None, version="2.0.1"):
    """A StationClient over ws or wss (`context`), booted by the caller."""
    return StationClient(url, identity, version, password,
                         connect_options=_connect_options(url, context, source_address))


def upgrade_status(url, identity, context=None, password=None, headers=None, source_address=None):
    """The HTTP status of a station's upgrade (101 when the socket opened; it is closed again),
    or "tls" when the TLS handshake itself failed."""
    all_headers = dict(headers or {})
    if password is not None:
        token = base64.b64encode(f"{identity}:{password}".encode()).decode()
        all_headers["Authorization"] = f"Basic {token}"
    try:
        with connect(f"{url}/ocpp/{identity}", subprotocols=["ocpp2.0.1"],
                     additional_headers=all_headers, open_timeout=15,
                     **_connect_options(url, context, source_address)):
            return 101
    except InvalidStatus as error:
        return error.response.status_code
    except (ssl.SSLError, OSError, InvalidMessage, ConnectionClosed, EOFError):
        # TLS 1.3 checks the client certificate after the client finished its handshake: the
        # server aborting then shows up at the HTTP upgrade.
        return "tls"


class Nginx:
    """Debian's nginx as a subprocess (`-p <tmp> -c <conf>`, daemon off) serving the project's
    deploy/nginx files, rendered with the test certificates, ports and upstream."""

    def __init__(self, directory, upstream_port, server_certificate, station_ca):
        self.directory = Path(directory)
        (self.directory / "logs").mkdir(parents=True, exist_ok=True)
        self.http_port, self.https_port, self.profile3_port = free_port(), free_port(), free_port()
        certificates = {"/etc/nginx/certs/fullchain.pem": str(server_certificate[0]),
                        "/etc/nginx/certs/privkey.pem": str(server_certificate[1]),
                        "/etc/nginx/certs/station-ca.pem": str(station_ca)}
        main = self.render((ROOT / "deploy/nginx/csms.conf").read_text(), certificates, {
            "80": self.http_port, "443": self.https_port}, upstream_port)
        profile3 = self.render((ROOT / "deploy/nginx/csms-profile3.conf").read_text(), certificates,
                               {"8443": self.profile3_port}, upstream_port)
        (self.directory / "csms.conf").write_text(main)
        (self.directory / "csms-profile3.conf").write_text(profile3)
        (self.directory / "nginx.conf").write_text(
            f"daemon off;\nuser {getpass.getuser()};\nworker_processes 1;\npid nginx.pid;\nerror_log logs/error.log info;\n"
            "events { worker_connections 256; }\n"
            "http {\n  access_log logs/access.log;\n"
            "  client_body_temp_path tmp; proxy_temp_path tmp; fastcgi_temp_path tmp;\n"
            "  uwsgi_temp_path tmp; scgi_temp_path tmp;\n"
            "  include csms.conf;\n  include csms-profile3.conf;\n}\n")
        (self.directory / "tmp").mkdir(exist_ok=True)
        self.process = None

    @staticmethod
    def render(text, certificates, ports, upstream_port):
        for path, replacement in certificates.items():
            text = text.replace(path, replacement)
        for port, replacement in ports.items():
            text = re.sub(rf"listen (\[::\]:)?{port}\b", lambda match: (
                f"listen 127.0.0.1:{replacement}" if not match.group(1) else "#"), text)
        # Debian's nginx (1.22) predates `http2 on;` and the upstream `resolve` of the image's
        # 1.28: drop them, and point the upstreams at the test server.
        text = re.sub(r"^\s*http2 on;\s*$", "", text, flags=re.M)
        text = re.sub(r"^\s*resolver .*$", "", text, flags=re.M)
        text = re.sub(r"server (csms|api):8000 resolve;", f"server 127.0.0.1:{upstream_port};", text)
        return text

    def start(self):
        self.log = open(self.directory / "logs" / "stdout.log", "ab")
        self.process = subprocess.Popen([NGINX, "-p", str(self.directory), "-c", "nginx.conf"],
                                        cwd=self.directory, stdout=self.log, stderr=subprocess.STDOUT)
        for port in (self.https_port, self.profile3_port):
            wait_for_port(port, self.process, timeout=30)
        return self

    def stop(self):
        if self.process:
            stop_process(self.process)
        self.log.close()

