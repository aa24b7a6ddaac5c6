"""service/transport.py: many HSM clients' connections read the CA bundle once, and still verify every server (its
CA and its name), on a local TLS server with a throwaway PKI."""

import threading

import pytest
import requests
import urllib3.connection

from azext_hsmbackup.service.transport import shared_session
from tests.stack._server import JsonHandler, TLSThreadingHTTPServer, server_tls_context
from tests.stack.pki import make_pki


class Hello(JsonHandler):
    def do_GET(self):
        self.send_json(200, {"hello": True})


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    pki = make_pki(tmp_path_factory.mktemp("pki"))
    httpd = TLSThreadingHTTPServer(("0.0.0.0", 0), Hello, server_tls_context(pki["cert"], pki["key"]))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield pki, httpd.server_address[1]
    httpd.shutdown()


@pytest.fixture
def bundle_reads(monkeypatch):
    """The bundle paths urllib3 was told to read, one per new connection that reads one."""
    reads, real = [], urllib3.connection.ssl_wrap_socket

    def spy(*args, **kwargs):
        reads.append(kwargs.get("ca_certs"))
        return real(*args, **kwargs)

    monkeypatch.setattr(urllib3.connection, "ssl_wrap_socket", spy)
    return reads


def test_new_connections_to_many_hosts_read_the_bundle_once(server, bundle_reads, monkeypatch):
    pki, port = server
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(pki["bundle"]))
    session = shared_session()
    for host in ("localhost", "127.0.0.1", "localhost"):
        assert session.get(f"https://{host}:{port}/", timeout=10).json() == {"hello": True}
    assert bundle_reads == [None, None]  # two hosts, two connections: the bundle is in the shared context already
    plain = requests.Session()
    plain.get(f"https://localhost:{port}/", timeout=10)
    assert bundle_reads[-1] == str(pki["bundle"])  # what requests alone does for every new connection


def test_with_requests_default_bundle_it_is_not_read_again_either(server, bundle_reads, monkeypatch):
    _, port = server
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    with pytest.raises(requests.exceptions.SSLError, match="CERTIFICATE_VERIFY_FAILED"):  # certifi's CAs only
        shared_session().get(f"https://localhost:{port}/", timeout=10)
    assert bundle_reads == [None]  # certifi's bundle is in the shared context already


def test_a_server_the_bundle_does_not_trust_or_of_another_name_is_still_refused(server, monkeypatch, tmp_path):
    pki, port = server
    other = make_pki(tmp_path / "other")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(other["bundle"]))
    with pytest.raises(requests.exceptions.SSLError, match="CERTIFICATE_VERIFY_FAILED"):
        shared_session().get(f"https://localhost:{port}/", timeout=10)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(pki["bundle"]))
    with pytest.raises(requests.exceptions.SSLError, match=r"127\.0\.0\.2|match|hostname"):
        shared_session().get(f"https://127.0.0.2:{port}/", timeout=10)  # the certificate names 127.0.0.1
    assert shared_session().get(f"https://localhost:{port}/", verify=False, timeout=10).status_code == 200
