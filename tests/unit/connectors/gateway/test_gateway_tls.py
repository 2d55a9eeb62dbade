"""TLS: verification is on by default, and the connection's `ca_bundle` is what the client trusts."""

import datetime as dt
import ipaddress
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from scripted_gateway import ScriptedGateway


def self_signed(tmp_path):
    """A certificate for 127.0.0.1 that is its own CA: (certificate file, key file)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sdx test receiver")])
    now = dt.datetime.now(dt.UTC)
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "receiver.pem", tmp_path / "receiver.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


@pytest.fixture
def tls_gateway(tmp_path):
    cert_file, key_file = self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server = ScriptedGateway(tls=context)
    server.thread.start()
    yield server, cert_file
    server.server.shutdown()
    server.server.server_close()


def test_untrusted_certificate_fails_at_once_and_says_why(tls_gateway, connect):
    server, _ = tls_gateway
    hook = connect(url=server.url, retries=5)
    ok, message = hook.test_connection()
    assert not ok
    assert "TLS verification failed" in message and "ca_bundle" in message
    assert server.of("token") == []


def test_ca_bundle_from_the_connection_is_trusted(tls_gateway, connect, monkeypatch):
    server, cert_file = tls_gateway
    # The environment's bundle must not replace the connection's.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent/ca.pem")
    hook = connect(url=server.url, ca_bundle=str(cert_file))
    ok, message = hook.test_connection()
    assert ok, message
    assert len(server.of("token")) == 1 and server.url.startswith("https://")


@pytest.mark.parametrize(
    "extra",
    [{}, {"ca_bundle": False}, {"ca_bundle": ""}, {"verify": False, "ssl_verify": "false", "insecure": True}],
)
def test_no_connection_setting_or_empty_environment_bundle_turns_verification_off(
    tls_gateway, connect, monkeypatch, extra
):
    server, _ = tls_gateway
    # An empty CURL_CA_BUNDLE once meant "verify nothing" to requests.
    monkeypatch.setenv("CURL_CA_BUNDLE", "")
    hook = connect(url=server.url, retries=1, **extra)
    ok, message = hook.test_connection()
    assert not ok and "TLS verification failed" in message, message
    assert server.of("token") == []
