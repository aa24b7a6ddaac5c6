"""The Managed HSM emulator (tests/mhsm_emulator) speaks the real service's protocol.

Proven with the real SDK (azure-keyvault-administration) and against the real recordings, on 127.0.0.1 only: a
throwaway CA and server certificate, the emulator on a free port, Azurite (blob, in memory) on another. The SDK
reaches the emulator by IP here, so this file - and only this file - builds the client with
verify_challenge_resource=False; everything else reaches it by name through the stack's proxy with the check on.

These tests run only the emulator (with the SDK), never the extension: they are no evidence for `az hsm-backup`,
hence their names start with `test_emulator_`.
"""

import base64
import datetime as dt
import ipaddress
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import requests
from azure.core.credentials import AccessToken
from azure.core.exceptions import HttpResponseError, ResourceExistsError

from tests.stack import constants as C

ROOT = Path(__file__).resolve().parents[2]
RECORDINGS = Path(os.environ.get("HSMBACKUP_RECORDINGS", C.RECORDINGS_DIR))
AUTHORITY = "https://127.0.0.1:1"  # named in the challenge only; nothing signs in here
FAST = {"job_duration_s": 0.25, "poll_retry_after_ms": 50}
POLL = {"_polling_interval": 0.05}
FOLDER = re.compile(r"^mhsm-local-(\d{16})$")

# What the real service sends (rest-api.md 2.1/2.2; R75 recording).
BACKUP_202_KEYS = ["status", "statusDetails", "error", "startTime", "endTime", "jobId", "azureStorageBlobContainerUri"]
BACKUP_POLL_KEYS = sorted(BACKUP_202_KEYS)
RESTORE_KEYS = ["endTime", "error", "jobId", "startTime", "status", "statusDetails"]
CHALLENGE_HEADERS = {
    "cache-control",
    "content-length",
    "content-security-policy",
    "content-type",
    "strict-transport-security",
    "www-authenticate",
    "x-content-type-options",
    "x-frame-options",
    "x-ms-server-latency",
}
_PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


# ---- tokens ----------------------------------------------------------------------------------------------------


def _segment(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def make_jwt(**overrides):
    now = int(time.time())
    claims = {
        "aud": C.MHSM_RESOURCE,
        "iss": f"https://sts.windows.net/{C.TENANT_ID}/",
        "iat": now,
        "nbf": now - 5,
        "exp": now + 3600,
        "tid": C.TENANT_ID,
        "oid": C.SP_OBJECT_ID,
        **overrides,
    }
    claims = {k: v for k, v in claims.items() if v is not None}
    return f"{_segment({'typ': 'JWT', 'alg': 'RS256'})}.{_segment(claims)}.{_segment({'unchecked': True})}"


class FakeCredential:
    """A TokenCredential that hands out an unsigned JWT with the claims the emulator checks."""

    def __init__(self):
        self.scopes, self.tokens = [], []

    def get_token(self, *scopes, **_):
        self.scopes.extend(scopes)
        token = make_jwt()
        self.tokens.append(token)
        return AccessToken(token, int(time.time()) + 3600)


# ---- processes -------------------------------------------------------------------------------------------------


def _make_pki(directory):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "emulator protocol test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    paths = {"ca": directory / "ca.pem", "cert": directory / "server.pem", "key": directory / "server-key.pem"}
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths["key"].write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


def _child_env():
    env = {k: v for k, v in os.environ.items() if k not in _PROXY_VARS}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


def _stop(proc):
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _azurite_binary():
    from tests.stack.azurite import AZURITE_BLOB

    candidate = Path(os.environ.get("HSMBACKUP_AZURITE_BLOB", AZURITE_BLOB))
    # make test installs it; a missing one is a broken set-up, which must fail rather than skip
    assert candidate.exists(), f"Azurite is not installed at {candidate} (run `make setup`)"
    return candidate


class Azurite:
    def __init__(self, port):
        from azure.storage.blob import BlobServiceClient

        self.port = port
        self.endpoint = f"http://127.0.0.1:{port}/{C.STORAGE_ACCOUNT}"
        self.service = BlobServiceClient.from_connection_string(
            f"DefaultEndpointsProtocol=http;AccountName={C.STORAGE_ACCOUNT};AccountKey={C.STORAGE_ACCOUNT_KEY};"
            f"BlobEndpoint={self.endpoint};"
        )
        self._count = 0

    def new_container(self):
        self._count += 1
        name = f"backups{self._count:03d}"
        self.service.create_container(name)
        return name, f"{self.endpoint}/{name}"

    def sas(self, container, permissions="racwdl", expiry=None):
        from azure.storage.blob import ContainerSasPermissions, generate_container_sas

        return generate_container_sas(
            C.STORAGE_ACCOUNT,
            container,
            account_key=C.STORAGE_ACCOUNT_KEY,
            permission=ContainerSasPermissions.from_string(permissions),
            expiry=expiry or dt.datetime.now(dt.UTC) + dt.timedelta(hours=2),
        )

    def blobs(self, container, prefix=None):
        client = self.service.get_container_client(container)
        return sorted(b.name for b in client.list_blobs(name_starts_with=prefix))

    def read(self, container, name):
        return self.service.get_container_client(container).download_blob(name).readall()


class Emulator:
    def __init__(self, state_dir, ready, ca):
        self.state_dir, self.port, self.url, self.ca = state_dir, ready["port"], ready["url"], str(ca)
        self.http = requests.Session()
        self.http.trust_env = False
        self.http.verify = self.ca

    def admin(self, method, path, body=None):
        response = self.http.request(method, f"{self.url}/_emulator/{path}", json=body, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def call(self, method, path, body=None, token="valid", api_version="7.5", headers=None, raw=None):
        """A raw data-plane request; token="valid" sends a good bearer token, None sends none."""
        headers = {"Content-Type": "application/json", **(headers or {})}
        if token == "valid":
            token = make_jwt()
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if api_version is not None:
            path += ("&" if "?" in path else "?") + f"api-version={api_version}"
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        return self.http.request(method, self.url + path, data=data, headers=headers, timeout=30)

    def wait(self, family, job_id, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            response = self.call("GET", f"/{family}/{job_id}/pending", api_version=None)
            assert response.status_code == 200, response.text
            if response.json()["status"] != "InProgress":
                return response
            time.sleep(0.05)
        raise AssertionError(f"job {job_id} still InProgress after {timeout}s")

    def requests(self):
        return self.admin("GET", "requests")["requests"]

    def hsm_keys(self, hsm="local"):
        return self.admin("GET", f"hsms/{hsm}/keys")["keys"]

    def client(self, api_version=None, credential=None):
        from azure.keyvault.administration import KeyVaultBackupClient

        kwargs = {"api_version": api_version} if api_version else {}
        return KeyVaultBackupClient(
            self.url,
            credential or FakeCredential(),
            verify_challenge_resource=False,  # 127.0.0.1 is not under the challenge's resource; see module doc
            connection_verify=self.ca,
            **kwargs,
        )


@pytest.fixture(scope="module")
def _no_proxy():
    with pytest.MonkeyPatch.context() as patch:
        for name in _PROXY_VARS:
            patch.delenv(name, raising=False)
        patch.setenv("NO_PROXY", "127.0.0.1,localhost")
        yield


@pytest.fixture(scope="module")
def emulator(tmp_path_factory, _no_proxy):
    base = tmp_path_factory.mktemp("emulator")
    pki = _make_pki(base)
    state = base / "state"
    log = open(base / "emulator.log", "w", encoding="utf-8")  # noqa: SIM115 - the child writes it
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.mhsm_emulator",
            "--state-dir",
            state,
            "--cert",
            pki["cert"],
            "--key",
            pki["key"],
            "--authority",
            AUTHORITY,
            "--port",
            "0",
        ],
        cwd=ROOT,
        env=_child_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    try:
        ready_file, deadline = state / "emulator.json", time.monotonic() + 20
        while not ready_file.exists():
            assert proc.poll() is None, (base / "emulator.log").read_text()
            assert time.monotonic() < deadline, "the emulator did not start"
            time.sleep(0.05)
        ready = json.loads(ready_file.read_text())
        assert ready["pid"] == proc.pid and ready["url"] == f"https://127.0.0.1:{ready['port']}"
        yield Emulator(state, ready, pki["ca"])
    finally:
        _stop(proc)
        log.close()
    assert not (state / "emulator.json").exists(), "a clean stop removes the ready file"


@pytest.fixture(scope="module")
def azurite(tmp_path_factory, _no_proxy):
    binary = _azurite_binary()
    log_path = tmp_path_factory.mktemp("azurite") / "azurite.log"
    log = open(log_path, "w", encoding="utf-8")  # noqa: SIM115 - the child writes it
    args = ["--blobHost", "127.0.0.1", "--blobPort", "0", "--inMemoryPersistence", "--disableTelemetry", "--loose"]
    proc = subprocess.Popen(
        [str(binary), *args, "--skipApiVersionCheck"],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=_child_env(),
    )
    try:
        deadline = time.monotonic() + 30
        while not (match := re.search(r"successfully listens on http://127\.0\.0\.1:(\d+)", log_path.read_text())):
            assert proc.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, "Azurite did not start"
            time.sleep(0.05)
        yield Azurite(int(match.group(1)))
    finally:
        _stop(proc)
        log.close()


@pytest.fixture(autouse=True)
def _fresh(request):
    """Every test starts from a reset emulator with fast jobs, and an empty SDK challenge cache."""
    from azure.keyvault.administration._internal import HttpChallengeCache

    HttpChallengeCache.clear()
    if "emulator" in request.fixturenames:
        emulator = request.getfixturevalue("emulator")
        emulator.admin("POST", "reset")
        emulator.admin("PUT", "config", FAST)


def failed_body(info):
    assert info.value.status_code == 200, "a failed job is an HTTP 200 poll"
    return info.value.response.json()


# ---- (1) the real SDK backs up into Azurite ---------------------------------------------------------------------


def test_emulator_sdk_backup_writes_every_key_into_azurite(emulator, azurite):
    container, uri = azurite.new_container()
    sas = azurite.sas(container)
    credential = FakeCredential()
    before = time.time()
    folder_url = emulator.client(credential=credential).begin_backup(uri, sas_token=sas, **POLL).result().folder_url

    assert folder_url.startswith(uri + "/")
    folder = folder_url[len(uri) + 1 :]
    stamp = dt.datetime.strptime(FOLDER.match(folder).group(1)[:14], "%Y%m%d%H%M%S").replace(tzinfo=dt.UTC)
    assert before - 2 <= stamp.timestamp() <= time.time()
    keys = emulator.hsm_keys()
    assert len(keys) == 3
    expected = [f"{folder}/keys/{k['name']}.json" for k in keys] + [f"{folder}/manifest.json"]
    assert azurite.blobs(container, folder + "/") == sorted(expected)
    manifest = json.loads(azurite.read(container, f"{folder}/manifest.json"))
    assert manifest["folder"] == folder and manifest["hsm"] == "local" and manifest["keyCount"] == 3
    assert credential.scopes == [C.MHSM_RESOURCE + "/.default"]  # the scope came from the challenge

    log = emulator.requests()
    assert [(r["method"], r["path"], r["status"]) for r in log[:2]] == [
        ("POST", "/backup", 401),
        ("POST", "/backup", 202),
    ]
    assert log[0]["auth_present"] is False and log[0]["body"] is None  # the SDK's bodiless challenge request
    assert log[1]["authorization"] == "Bearer <redacted>" and log[1]["body"]["token"] == "***"
    assert {(r["method"], r["status"]) for r in log[2:]} == {("GET", 200)}
    assert log[1]["job_id"] == log[-1]["job_id"]
    # No secret reaches the logs or the admin API: not the SAS, not its signature, not the access token.
    signature = re.search(r"sig=([^&]+)", sas).group(1)
    everything = "".join(p.read_text() for p in emulator.state_dir.iterdir() if p.suffix == ".jsonl")
    everything += json.dumps(log) + json.dumps(emulator.admin("GET", "jobs"))
    for secret in (sas, signature, unquote(signature), *credential.tokens):
        assert secret not in everything


def test_emulator_hsm_name_comes_from_the_host_name(emulator):
    host = "contosohsm" + C.MHSM_DNS_SUFFIX
    body = {"storageResourceUri": "http://127.0.0.1:9/devstoreaccount1/none", "token": "sv=x&sig=y"}
    response = emulator.call("POST", "/backup", body, headers={"Host": host})
    assert response.status_code == 202
    job_id = response.json()["jobId"]
    assert response.headers["azure-asyncoperation"] == f"https://{host}/backup/{job_id}/pending"
    assert "contosohsm" in emulator.admin("GET", "hsms")["hsms"]
    # The job belongs to that HSM: another HSM (here: the IP one, "local") does not know it.
    assert emulator.call("GET", f"/backup/{job_id}/pending", api_version=None).status_code == 404
    polled = emulator.call("GET", f"/backup/{job_id}/pending", api_version=None, headers={"Host": host})
    assert polled.status_code == 200 and emulator.requests()[0]["hsm"] == "contosohsm"


# ---- (2) the 401 challenge ----------------------------------------------------------------------------------------


def _assert_challenge(response):
    assert response.status_code == 401
    assert response.content == b"" and response.headers["Content-Length"] == "0"
    assert {h.lower() for h in response.headers} == CHALLENGE_HEADERS
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert response.headers["WWW-Authenticate"] == (
        f'Bearer authorization="{AUTHORITY}/{C.TENANT_ID}", resource="{C.MHSM_RESOURCE}"'
    )


def test_emulator_401_challenge_is_exactly_the_recorded_one(emulator):
    _assert_challenge(emulator.call("POST", "/backup", token=None, raw=b"", headers={"Content-Length": "0"}))
    _assert_challenge(emulator.call("GET", "/backup/00000000000000000000000000000000/pending", token=None))
    _assert_challenge(emulator.call("PUT", "/restore", token=None, api_version="not-a-version"))
    recorded = _recording("test_backup_client.pyTestBackupClientTeststest_full_backup_and_restore[7.5].json")
    if recorded:  # same header names, same challenge grammar (only the names of authority and resource differ)
        headers = recorded["Entries"][0]["ResponseHeaders"]
        assert {h.lower() for h in headers} == CHALLENGE_HEADERS
        grammar = re.compile(r'Bearer authorization="https://[^"/]+/[0-9a-f-]{36}", resource="https://[^"/]+"')
        assert grammar.fullmatch(headers["WWW-Authenticate"])
        assert grammar.fullmatch(f'Bearer authorization="{AUTHORITY}/{C.TENANT_ID}", resource="{C.MHSM_RESOURCE}"')


@pytest.mark.parametrize(
    "token",
    [
        "not-a-jwt",
        make_jwt(exp=int(time.time()) - 60),
        make_jwt(aud="https://otherhsm" + C.MHSM_DNS_SUFFIX),
        make_jwt(aud="https://vault." + C.DOMAIN),
        make_jwt(tid="72f988bf-86f1-41af-91ab-2d7cd011db47"),
        make_jwt(exp=None),
    ],
    ids=["not-jwt", "expired", "other-hsm-audience", "other-audience", "other-tenant", "no-exp"],
)
def test_emulator_bad_tokens_get_the_same_challenge(emulator, token):
    _assert_challenge(emulator.call("POST", "/backup", {"storageResourceUri": "https://a.b/c", "token": "t"}, token))
    assert emulator.requests()[-1]["authorization"] == "Bearer <redacted>"


def test_emulator_audience_with_trailing_slash_is_accepted(emulator):
    response = emulator.call("GET", "/backup/0123/pending", token=make_jwt(aud=C.MHSM_RESOURCE + "/"))
    assert response.status_code == 404 and response.json()["error"]["code"] == "NotFound"


# ---- (3) 202 and poll shapes ------------------------------------------------------------------------------------


def test_emulator_202_and_polls_have_the_recorded_headers_keys_and_order(emulator, azurite):
    container, uri = azurite.new_container()
    # The real service sends no retry header on polls; a longer job so that the first poll surely sees InProgress.
    emulator.admin("PUT", "config", {"poll_retry_after_ms": None, "job_duration_s": 0.6})
    response = emulator.call("POST", "/backup", {"storageResourceUri": uri, "token": azurite.sas(container)})
    assert response.status_code == 202 and response.reason == "Accepted"
    body = response.json()
    assert list(body) == BACKUP_202_KEYS
    assert body["status"] == "InProgress" and re.fullmatch(r"[0-9a-f]{32}", body["jobId"])
    assert body["statusDetails"] is body["error"] is body["endTime"] is body["azureStorageBlobContainerUri"] is None
    assert abs(body["startTime"] - time.time()) < 5
    assert response.headers["azure-asyncoperation"] == f"{emulator.url}/backup/{body['jobId']}/pending"
    assert response.headers["Retry-After"] == "10"
    assert response.headers["Content-Length"] == "174"  # byte for byte the recorded length
    assert response.headers["Server"] == "Kestrel" and "x-ms-keyvault-region" in response.headers

    poll = emulator.call("GET", f"/backup/{body['jobId']}/pending", api_version=None)
    assert poll.status_code == 200 and list(poll.json()) == BACKUP_POLL_KEYS
    assert poll.json()["status"] == "InProgress" and poll.headers["Content-Length"] == "174"
    assert "Retry-After" not in poll.headers and "retry-after-ms" not in poll.headers
    done = emulator.wait("backup", body["jobId"]).json()
    assert list(done) == BACKUP_POLL_KEYS and done["status"] == "Succeeded" and done["statusDetails"] is None
    assert done["startTime"] == body["startTime"] <= done["endTime"]
    folder = done["azureStorageBlobContainerUri"][len(uri) + 1 :]
    assert done["azureStorageBlobContainerUri"] == f"{uri}/{folder}"
    start = dt.datetime.fromtimestamp(body["startTime"], dt.UTC)
    assert FOLDER.match(folder).group(1)[:14] == f"{start:%Y%m%d%H%M%S}"

    emulator.admin("PUT", "config", {"poll_retry_after_ms": 50})
    restore_body = {"sasTokenParameters": {"storageResourceUri": uri, "token": azurite.sas(container)}}
    restore = emulator.call("PUT", "/restore", {**restore_body, "folderToRestore": folder})
    assert restore.status_code == 202 and list(restore.json()) == RESTORE_KEYS
    assert restore.headers["Content-Length"] == "138"
    job_id = restore.json()["jobId"]
    assert restore.headers["azure-asyncoperation"] == f"{emulator.url}/restore/{job_id}/pending"
    poll = emulator.call("GET", f"/restore/{job_id}/pending", api_version=None)
    assert list(poll.json()) == RESTORE_KEYS and poll.headers["retry-after-ms"] == "50"
    assert emulator.wait("restore", job_id).json()["status"] == "Succeeded"


# ---- (4) storage refusals fail the job ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "case, code, status",
    [
        ("expired", "AuthenticationFailed", 403),
        ("read-only", "AuthorizationPermissionMismatch", 403),
        ("forged", "AuthenticationFailed", 403),
        ("missing-container", "ContainerNotFound", 404),
        ("no-container", "InvalidQueryParameterValue", 400),
    ],
)
def test_emulator_storage_refusal_fails_the_job_with_the_storage_error(emulator, azurite, case, code, status):
    container, uri = azurite.new_container()
    sas = {
        "expired": azurite.sas(container, expiry=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)),
        "read-only": azurite.sas(container, "rl"),
        "forged": azurite.sas(container).rsplit("sig=", 1)[0] + "sig=Zm9yZ2Vk",
        "missing-container": azurite.sas("nosuchcontainer"),
    }.get(case, azurite.sas(container))
    uri = {"missing-container": azurite.endpoint + "/nosuchcontainer", "no-container": azurite.endpoint}.get(case, uri)
    poller = emulator.client().begin_backup(uri, sas_token=sas, **POLL)
    with pytest.raises(HttpResponseError) as info:
        poller.result()
    body = failed_body(info)
    assert list(body) == BACKUP_POLL_KEYS and poller.status() == "Failed"
    assert body["status"] == "Failed" and body["statusDetails"] == code and body["endTime"] >= body["startTime"]
    assert body["azureStorageBlobContainerUri"] is None
    assert list(body["error"]) == ["code", "innererror", "message"]
    assert body["error"]["code"] == code and body["error"]["innererror"] is None
    message = body["error"]["message"]
    assert f"\r\nStatus: {status} (" in message and f"\r\nErrorCode: {code}\r\n" in message
    assert "\r\nContent:\r\n<?xml" in message and "\r\nHeaders:\r\nx-ms-request-id: " in message
    assert sas not in message and "sig=" not in message
    assert azurite.blobs(container) == []


# ---- (5) one job at a time ----------------------------------------------------------------------------------------


def test_emulator_conflict_while_a_backup_or_restore_runs(emulator, azurite):
    container, uri = azurite.new_container()
    sas = azurite.sas(container)
    emulator.admin("PUT", "config", {"job_duration_s": 1.0})
    client = emulator.client()
    first = client.begin_backup(uri, sas_token=sas, **POLL)

    second = emulator.call("POST", "/backup", {"storageResourceUri": uri, "token": sas})
    assert second.status_code == 409
    error = second.json()["error"]
    assert error["code"] == "Conflict"
    assert re.fullmatch(
        r"Another backup operation is in progress\. Retry after the backup operation "
        r"\(Activity ID: [0-9a-f-]{36}\)",
        error["message"],
    )
    with pytest.raises(ResourceExistsError):
        client.begin_backup(uri, sas_token=sas, **POLL)
    restore = {"sasTokenParameters": {"storageResourceUri": uri, "token": sas}, "folderToRestore": "mhsm-x"}
    assert emulator.call("PUT", "/restore", restore).status_code == 409
    folder_url = first.result().folder_url  # the first job is unharmed

    emulator.admin("PUT", "config", {"job_duration_s": 0.6})
    running = client.begin_restore(folder_url, sas_token=sas, **POLL)
    blocked = emulator.call("POST", "/backup", {"storageResourceUri": uri, "token": sas})
    assert blocked.status_code == 409
    assert blocked.json()["error"]["message"].startswith("User triggered Restore operation is in progress.")
    running.result()
    assert emulator.call("POST", "/backup", {"storageResourceUri": uri, "token": sas}).status_code == 202


# ---- (6) restore brings every key back, byte for byte -----------------------------------------------------------


def test_emulator_backup_delete_restore_round_trips_every_key(emulator, azurite):
    container, uri = azurite.new_container()
    sas = azurite.sas(container)
    client = emulator.client()
    before = emulator.hsm_keys()
    folder_url = client.begin_backup(uri, sas_token=sas, **POLL).result().folder_url
    for key in before:
        emulator.admin("DELETE", f"hsms/local/keys/{key['name']}")
    assert emulator.hsm_keys() == []
    client.begin_restore(folder_url, sas_token=sas, **POLL).result()
    assert json.dumps(emulator.hsm_keys(), sort_keys=True) == json.dumps(before, sort_keys=True)

    # A full restore replaces: a key made after the backup is gone again.
    extra = {**before[0], "name": "made-later"}
    emulator.admin("PUT", "hsms/local/keys", {"keys": [*before, extra]})
    client.begin_restore(folder_url, sas_token=sas, **POLL).result()
    assert [k["name"] for k in emulator.hsm_keys()] == [k["name"] for k in before]


def test_emulator_selective_key_restore_touches_only_that_key(emulator, azurite):
    container, uri = azurite.new_container()
    sas = azurite.sas(container)
    client = emulator.client()
    before = {k["name"]: k for k in emulator.hsm_keys()}
    folder_url = client.begin_backup(uri, sas_token=sas, **POLL).result().folder_url
    gone, changed = sorted(before)[:2]
    emulator.admin("DELETE", f"hsms/local/keys/{gone}")
    altered = {**before[changed], "tags": {"changed": "yes"}}
    emulator.admin("PUT", "hsms/local/keys", [altered] + [before[n] for n in sorted(before)[2:]])

    client.begin_restore(folder_url, sas_token=sas, key_name=gone, **POLL).result()
    after = {k["name"]: k for k in emulator.hsm_keys()}
    assert after[gone] == before[gone] and after[changed] == altered and set(after) == set(before)
    selective = [r for r in emulator.requests() if r["method"] == "PUT"]
    assert selective[-1]["path"] == f"/keys/{gone}/restore" and set(selective[-1]["body"]) == {
        "sasTokenParameters",
        "folder",
    }

    poller = client.begin_restore(folder_url, sas_token=sas, key_name="not-in-backup", **POLL)
    with pytest.raises(HttpResponseError) as info:
        poller.result()
    body = failed_body(info)
    assert list(body) == RESTORE_KEYS and body["statusDetails"] == "KeyNotFound"


def test_emulator_pre_backup_and_pre_restore_check_without_writing(emulator, azurite):
    container, uri = azurite.new_container()
    sas = azurite.sas(container)
    client = emulator.client(api_version="7.6")
    client.begin_pre_backup(uri, sas_token=sas, **POLL).result()
    assert azurite.blobs(container) == []
    with pytest.raises(HttpResponseError) as info:
        client.begin_pre_backup(uri, sas_token=azurite.sas(container, "rl"), **POLL).result()
    assert failed_body(info)["statusDetails"] == "AuthorizationPermissionMismatch"
    with pytest.raises(HttpResponseError) as info:
        client.begin_pre_restore(f"{uri}/mhsm-local-2024010100000000", sas_token=sas, **POLL).result()
    assert failed_body(info)["statusDetails"] == "BlobNotFound"
    folder_url = client.begin_backup(uri, sas_token=sas, **POLL).result().folder_url
    blobs = azurite.blobs(container)
    client.begin_pre_restore(folder_url, sas_token=sas, **POLL).result()
    assert azurite.blobs(container) == blobs
    polls = [r["path"].split("/")[1] for r in emulator.requests() if r["method"] == "GET"]
    assert set(polls) == {"backup", "restore"}


# ---- (7) api-versions and managed identity --------------------------------------------------------------------------


def test_emulator_managed_identity_needs_api_version_7_5(emulator, azurite):
    container, uri = azurite.new_container()
    with pytest.raises(HttpResponseError) as info:
        emulator.client(api_version="7.4").begin_backup(uri, use_managed_identity=True, **POLL)
    assert info.value.status_code == 400 and info.value.error.code == "BadParameter"

    folder_url = emulator.client(api_version="7.5").begin_backup(uri, use_managed_identity=True, **POLL).result()
    folder = folder_url.folder_url[len(uri) + 1 :]
    assert f"{folder}/manifest.json" in azurite.blobs(container)
    post = [r for r in emulator.requests() if r["status"] == 202][-1]
    assert post["body"] == {"storageResourceUri": uri, "useManagedIdentity": True}

    # An account the HSM's identity has no role on: the job fails as storage would refuse it.
    emulator.admin("PUT", "config", {"identity_storage_accounts": {}})
    with pytest.raises(HttpResponseError) as info:
        emulator.client(api_version="7.5").begin_backup(uri, use_managed_identity=True, **POLL).result()
    assert failed_body(info)["statusDetails"] == "AuthorizationPermissionMismatch"


def test_emulator_api_versions_and_bad_requests(emulator):
    emulator.admin("PUT", "config", {"job_duration_s": 0.02})
    body = {"storageResourceUri": "http://127.0.0.1:9/devstoreaccount1/c", "token": "sv=1&sig=2"}
    for version in ("7.2", "7.3", "7.4", "7.5-preview.1", "7.5", "7.6-preview.2", "7.6", "2025-06-01", "2025-07-01"):
        response = emulator.call("POST", "/backup", body, api_version=version)
        assert response.status_code == 202, (version, response.text)
        emulator.wait("backup", response.json()["jobId"])

    def error(response, status, code):
        assert response.status_code == status, response.text
        assert list(response.json()) == ["error"] and response.json()["error"]["code"] == code
        return response.json()["error"]["message"]

    assert "The specified version (7.1) is not supported" in error(
        emulator.call("POST", "/backup", body, api_version="7.1"), 400, "BadParameter"
    )
    error(emulator.call("POST", "/backup", body, api_version=None), 400, "BadParameter")
    error(emulator.call("POST", "/backup", raw=b"{not json"), 400, "BadParameter")
    error(emulator.call("POST", "/backup", {"token": "x"}), 400, "BadParameter")
    error(emulator.call("POST", "/backup", {"storageResourceUri": "https://a.b/c"}), 400, "BadParameter")
    error(emulator.call("POST", "/backup", {**body, "token": None}, api_version="7.3"), 400, "BadParameter")
    error(emulator.call("PUT", "/restore", {"sasTokenParameters": body}), 400, "BadParameter")
    error(
        emulator.call("PUT", "/keys/k1/restore", {"sasTokenParameters": body, "folderToRestore": "x"}),
        400,
        "BadParameter",
    )
    error(emulator.call("POST", "/prebackup", body, api_version="7.5"), 400, "BadParameter")
    error(emulator.call("PUT", "/prerestore", {}, api_version="7.4"), 400, "BadParameter")
    error(emulator.call("GET", "/backup/ffff/pending", api_version=None), 404, "NotFound")
    error(emulator.call("GET", "/keys"), 404, "NotFound")
    error(emulator.call("DELETE", "/backup"), 404, "NotFound")
    # The C++ SDK's `//backup` is the same operation; polls also take an api-version.
    response = emulator.call("POST", "//backup", body)
    assert response.status_code == 202
    assert emulator.call("GET", f"/backup/{response.json()['jobId']}/pending").status_code == 200


# ---- (8) fault knobs --------------------------------------------------------------------------------------------


def test_emulator_503_with_retry_after_then_success(emulator, azurite):
    container, uri = azurite.new_container()
    rule = {
        "match": {"method": "POST", "path": "^/backup$", "authorized": True},
        "response": {
            "status": 503,
            "headers": {"Retry-After": "1"},
            "body": {"error": {"code": "ServiceUnavailable", "message": "Try again."}},
        },
    }
    emulator.admin("POST", "faults", {"rules": [rule]})
    started = time.monotonic()
    emulator.client().begin_backup(uri, sas_token=azurite.sas(container), **POLL).result()
    assert time.monotonic() - started >= 1.0  # the SDK honoured Retry-After
    posts = [(r["status"], r["fault"]) for r in emulator.requests() if r["method"] == "POST"]
    assert posts == [(401, None), (503, {"id": 1, "action": "respond"}), (202, None)]
    assert emulator.admin("GET", "faults")["rules"][0]["spent"] is True


def test_emulator_429_on_a_poll_and_a_dropped_connection_are_retried(emulator, azurite):
    container, uri = azurite.new_container()
    rules = [
        {"match": {"method": "GET", "path": "/pending$"}, "nth": 1, "action": "drop"},
        {
            "match": {"method": "GET", "path": "/pending$"},
            "nth": 2,
            "response": {"status": 429, "headers": {"retry-after-ms": "50"}, "body": {"error": {"code": "Throttled"}}},
        },
    ]
    emulator.admin("POST", "faults", rules)
    emulator.client().begin_backup(uri, sas_token=azurite.sas(container), **POLL).result()
    polls = [(r["status"], (r["fault"] or {}).get("action")) for r in emulator.requests() if r["method"] == "GET"]
    assert polls[:3] == [(None, "drop"), (429, "respond"), (200, None)]
    assert polls[-1] == (200, None)


def test_emulator_401_mid_poll_reauthenticates_without_replaying_the_backup(emulator, azurite):
    container, uri = azurite.new_container()
    emulator.admin("PUT", "config", {"job_duration_s": 0.5})
    emulator.admin("POST", "faults", {"match": {"method": "GET", "path": "/pending$"}, "nth": 2, "action": "challenge"})
    credential = FakeCredential()
    emulator.client(credential=credential).begin_backup(uri, sas_token=azurite.sas(container), **POLL).result()
    log = emulator.requests()
    challenged = [r for r in log if r["method"] == "GET" and r["status"] == 401]
    assert len(challenged) == 1 and challenged[0]["fault"]["action"] == "challenge"
    assert len([r for r in log if r["method"] == "POST" and r["status"] == 202]) == 1
    assert len([r for r in log if r["method"] == "POST"]) == 2  # the bodiless challenge request + the backup
    assert len(credential.tokens) >= 2


@pytest.mark.parametrize("action", ["drop", "drop-after"])
def test_emulator_drop_closes_without_an_answer_and_drop_after_starts_the_job_first(emulator, azurite, action):
    container, uri = azurite.new_container()
    emulator.admin("POST", "faults", {"match": {"method": "POST", "path": "^/backup$"}, "action": action})
    with pytest.raises(requests.exceptions.ConnectionError):
        emulator.call("POST", "/backup", {"storageResourceUri": uri, "token": azurite.sas(container)})
    (logged,) = emulator.requests()
    jobs = emulator.admin("GET", "jobs")["jobs"]
    assert logged["fault"]["action"] == action
    if action == "drop":
        assert logged["status"] is None and jobs == []
    else:  # handled, then the answer was lost: the log keeps what would have been sent
        assert logged["status"] == 202 and [j["jobId"] for j in jobs] == [logged["job_id"]]


def test_emulator_defaults_survive_a_reset(emulator):
    emulator.admin("PUT", "defaults", {"retry_after_202": 1})
    try:
        emulator.admin("PUT", "config", {"retry_after_202": 5})
        emulator.admin("POST", "reset")
        assert emulator.admin("GET", "config")["retry_after_202"] == 1
    finally:
        emulator.admin("PUT", "defaults", {"retry_after_202": 10})


def test_emulator_delay_and_forced_failure(emulator, azurite):
    container, uri = azurite.new_container()
    emulator.admin("POST", "faults", {"match": {"method": "GET"}, "delay_s": 0.4})
    forced = {"code": "HsmUnavailable", "message": "The HSM pool is being updated."}
    emulator.admin("PUT", "config", {"force_fail_next_job": forced})
    started = time.monotonic()
    with pytest.raises(HttpResponseError) as info:
        emulator.client().begin_backup(uri, sas_token=azurite.sas(container), **POLL).result()
    assert time.monotonic() - started >= 0.4
    body = failed_body(info)
    assert body["statusDetails"] == "HsmUnavailable"
    assert body["error"] == {"code": "HsmUnavailable", "innererror": None, "message": forced["message"]}
    assert emulator.admin("GET", "config")["force_fail_next_job"] is None  # consumed
    assert azurite.blobs(container) == []


# ---- (9) the recordings, replayed ---------------------------------------------------------------------------------


def _recording(name):
    path = RECORDINGS / name
    if not path.exists():
        return None
    if path.suffix == ".yaml":
        import yaml  # azure-cli-core brings PyYAML: a missing one fails rather than skips

        return yaml.safe_load(path.read_text())
    return json.loads(path.read_text(encoding="utf-8-sig"))


def _entries(recording):
    """(method, uri, request body, authorized, status, response body, response headers) per recorded exchange."""
    if "Entries" in recording:
        for e in recording["Entries"]:
            yield (
                e["RequestMethod"],
                e["RequestUri"],
                e.get("RequestBody"),
                # test-proxy strips Authorization from most entries: the challenged one is the bodiless 401
                "Authorization" in e["RequestHeaders"] or e["StatusCode"] != 401,
                e["StatusCode"],
                e.get("ResponseBody"),
                {k.lower(): v for k, v in e["ResponseHeaders"].items()},
            )
        return
    for i in recording["interactions"]:
        request, response = i["request"], i["response"]
        body = json.loads(request["body"]) if request.get("body") else None
        text = response["body"]["string"]
        status = response["status"]["code"]
        headers = {k.lower(): v[0] for k, v in response["headers"].items()}
        # vcrpy recordings drop Authorization: the bodiless first request is the one that got the challenge.
        yield (
            request["method"],
            request["uri"],
            body,
            status != 401,
            status,
            json.loads(text) if text else None,
            headers,
        )


REPLAYS = {
    "test_backup_client.test_full_backup_and_restore_7_2.yaml": "container",
    "test_backup_client.pyTestBackupClientTeststest_full_backup_and_restore[7.5].json": "container",
    "test_backup_client.pyTestBackupClientTeststest_full_backup_and_restore[7.6].json": "container",
    "BackupRestoreClientTest.BackupFullErrorStatus_RECORDEDONLY_.json": "account-root",  # no container: RERR
}


@pytest.mark.parametrize("name", sorted(REPLAYS))
def test_emulator_replaying_a_recording_gives_the_recorded_answers(emulator, azurite, name):
    recording = _recording(name)
    assert recording is not None, f"{RECORDINGS / name} is not here"  # the replay would prove nothing without it
    container, uri = azurite.new_container()
    sas = azurite.sas(container)
    storage_uri = uri if REPLAYS[name] == "container" else azurite.endpoint
    entries = list(_entries(recording))
    last_poll = {}  # recorded job id -> index of its last recorded poll
    for index, (method, url, *_rest) in enumerate(entries):
        if method == "GET":
            last_poll[urlsplit(url).path.split("/")[-2]] = index
    jobs, folders = {}, {}

    def rewrite(body):
        if not isinstance(body, dict):
            return body
        body = dict(body)
        if "storageResourceUri" in body:
            body["storageResourceUri"] = storage_uri
            if "token" in body:
                body["token"] = sas
        if "sasTokenParameters" in body:
            body["sasTokenParameters"] = rewrite(body["sasTokenParameters"])
        for field in ("folderToRestore", "folder"):
            if field in body:
                body[field] = folders[body[field]]
        return body

    for index, (method, url, body, authorized, status, expected, headers) in enumerate(entries):
        parts = urlsplit(url)
        segments = parts.path.split("/")
        recorded_job = segments[-2] if method == "GET" else None
        path = "/".join(jobs.get(s, s) for s in segments)
        query = dict(p.split("=", 1) for p in parts.query.split("&") if p)
        payload = rewrite(body) if authorized else None
        raw = json.dumps(payload).encode() if payload is not None else b""
        response = emulator.call(
            method, path, token="valid" if authorized else None, api_version=query.get("api-version"), raw=raw
        )
        if recorded_job and last_poll[recorded_job] == index and response.status_code == 200:
            response = emulator.wait(segments[-3], jobs[recorded_job])  # the recorded outcome, once it is reached
        where = f"{name} #{index}: {method} {parts.path}"
        assert response.status_code == status, f"{where}: {response.status_code} {response.text}"
        if expected is None:
            assert response.content == b"", where
            continue
        ours = response.json()
        assert list(ours) == list(expected), f"{where}: keys or their order differ"
        if isinstance(expected.get("error"), dict):
            assert list(ours["error"]) == list(expected["error"]), where
        if "azure-asyncoperation" in headers:
            assert response.headers["azure-asyncoperation"].endswith(f"/{ours['jobId']}/pending"), where
            jobs[expected["jobId"]] = ours["jobId"]
            assert ("retry-after" in headers) <= ("Retry-After" in response.headers), where
        if recorded_job and last_poll[recorded_job] == index:
            assert ours["status"] == expected["status"], f"{where}: {ours}"
            assert ours["statusDetails"] == expected["statusDetails"], where
            if expected.get("azureStorageBlobContainerUri"):
                folders[expected["azureStorageBlobContainerUri"].rsplit("/", 1)[1]] = ours[
                    "azureStorageBlobContainerUri"
                ].rsplit("/", 1)[1]
