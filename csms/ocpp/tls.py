"""runcsms's own TLS port (wss:// for a one-process install): the server certificate and key, and
optionally the CA whose client certificates (security profile 3) it verifies."""
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from twisted.internet import ssl
from twisted.internet.endpoints import SSL4ServerEndpoint

TLS_ENDPOINT_PREFIX = "csmstls:"


def endpoint_description(port, interface, backlog):
    return f"{TLS_ENDPOINT_PREFIX}port={port}:interface={interface}:backlog={backlog}"


def _read(setting):
    path = getattr(settings, setting)
    if not path:
        raise ImproperlyConfigured(f"A TLS port needs {setting}")
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise ImproperlyConfigured(f"{setting}: cannot read {path}: {error.strerror}") from None


def _pem_certificates(data):
    blocks = data.split(b"-----END CERTIFICATE-----")
    return [ssl.Certificate.loadPEM(block + b"-----END CERTIFICATE-----\n").original
            for block in blocks if b"-----BEGIN CERTIFICATE-----" in block]


def context_factory():
    """The TLS options of the port: TLS 1.2 or newer (OCPP security profiles require it); with
    TLS_CLIENT_CA_FILE, a client certificate is asked for and, when presented, must verify
    against that CA (expired, other CA: the handshake fails). Presenting none stays allowed:
    profile 2 stations share the port, and the application refuses a profile 3 station without."""
    certificate_pem = _read("TLS_CERTIFICATE_FILE")
    chain = _pem_certificates(certificate_pem)
    if not chain:
        raise ImproperlyConfigured("TLS_CERTIFICATE_FILE holds no PEM certificate")
    try:
        server = ssl.PrivateCertificate.loadPEM(certificate_pem + b"\n" + _read("TLS_PRIVATE_KEY_FILE"))
    except Exception as error:
        raise ImproperlyConfigured(f"TLS_PRIVATE_KEY_FILE: not the key of the certificate ({error})")
    options = dict(privateKey=server.privateKey.original, certificate=server.original,
                   extraCertChain=chain[1:] or None,
                   raiseMinimumTo=ssl.TLSVersion.TLSv1_2)
    if settings.TLS_CLIENT_CA_FILE:
        authorities = _pem_certificates(_read("TLS_CLIENT_CA_FILE"))
        if not authorities:
            raise ImproperlyConfigured("TLS_CLIENT_CA_FILE holds no PEM certificate")
        options.update(verify=True, caCerts=authorities, requireCertificate=False)
    return ssl.CertificateOptions(**options)


def tls_endpoint(reactor, description):
    arguments = dict(item.split("=", 1) for item in description[len(TLS_ENDPOINT_PREFIX):].split(":"))
    return SSL4ServerEndpoint(reactor, int(arguments["port"]), context_factory(),
                              backlog=int(arguments.get("backlog", 50)),
                              interface=arguments.get("interface", ""))
