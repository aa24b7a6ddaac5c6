"""The sign-in stand-in and the CONNECT proxy, proven with the real `az` of the checkout (.venv).

Each `az` runs in a subprocess with its own AZURE_CONFIG_DIR, our CA bundle, instance discovery off, and only the
proxy variables this file sets (HTTPS_PROXY -> our proxy, NO_PROXY=127.0.0.1,localhost).
"""

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests

from tests.stack import constants as C
from tests.stack._server import JsonHandler, TLSThreadingHTTPServer, server_tls_context
from tests.stack.launcher import AZ
from tests.stack.pki import make_pki

ROOT = Path(__file__).resolve().parents[2]
MHSM_SCOPE = C.MHSM_RESOURCE + "/.default"
STORAGE_SCOPE = C.STORAGE_RESOURCE + "/.default"

# ---- the stack for this module ---------------------------------------------------------------------------------


class EchoHandler(JsonHandler):
    """The tiny HTTPS server the proxy routes the `.test` names to: echoes what it was asked."""

    def do_GET(self):
        self.send_json(200, {"echo": True, "host": self.headers.get("Host"), "path": self.path})


def _spawn(name, args, state_dir, procs, timeout=20):
    ready = state_dir / f"{name}.json"
    log = open(state_dir / f"{name}.log", "w", encoding="utf-8")  # noqa: SIM115 - the child owns it
    proc = subprocess.Popen(
        [sys.executable, "-m", *map(str, args)],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    log.close()
    procs.append(proc)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready.exists():
            info = json.loads(ready.read_text())
            assert info["pid"] == proc.pid
            return info
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    raise RuntimeError(f"{name} did not start:\n{(state_dir / f'{name}.log').read_text()[-3000:]}")


def _stop(proc):
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(5)
    return proc.returncode


def _closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens here once the socket is closed


@pytest.fixture(scope="module")
def mini(tmp_path_factory):
    """Sign-in + proxy + a tiny echo server only (the suite-wide `stack` in conftest.py also needs the emulator
    and Azurite)."""
    state = tmp_path_factory.mktemp("stack")
    started = time.monotonic()
    pki = make_pki(state / "pki")
    echo = TLSThreadingHTTPServer(("127.0.0.1", 0), EchoHandler, server_tls_context(pki["cert"], pki["key"]))
    threading.Thread(target=echo.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    echo_port = echo.server_address[1]
    procs = []
    try:
        tls = ["--state-dir", state, "--cert", pki["cert"], "--key", pki["key"]]
        signin = _spawn("signin", ["tests.stack.signin", *tls, "--port", "0"], state, procs)
        proxy = _spawn(
            "proxy",
            [
                "tests.stack.proxy",
                "--state-dir",
                state,
                "--port",
                "0",
                "--route",
                f"*{C.MHSM_DNS_SUFFIX}=127.0.0.1:{echo_port}",
                "--route",
                f"*.blob.{C.STORAGE_ENDPOINT_SUFFIX}=127.0.0.1:{echo_port}",
                "--route",
                f"*.vault.{C.DOMAIN}=127.0.0.1:{_closed_port()}",
            ],
            state,
            procs,
        )
        print(f"\nstack up in {time.monotonic() - started:.2f}s")
        yield SimpleNamespace(dir=state, pki=pki, signin=signin, proxy=proxy, echo_port=echo_port, procs=procs)
    finally:
        codes = [_stop(p) for p in procs]
        echo.shutdown()
        echo.server_close()
    assert codes == [0] * len(codes), f"a stack process did not stop cleanly on SIGTERM: {codes}"
    assert not (state / "signin.json").exists() and not (state / "proxy.json").exists()


def signin_log(mini):
    """The sign-in log through its own endpoint (checks that endpoint too)."""
    session = requests.Session()
    session.trust_env = False
    response = session.get(f"{mini.signin['url']}/_signin/requests", verify=str(mini.pki["bundle"]), timeout=10)
    response.raise_for_status()
    return response.json()


def az_env(mini, config_dir, **extra):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.upper().startswith("AZURE_")
        and not k.upper().endswith("_PROXY")
        and k
        not in (
            "IDENTITY_ENDPOINT",
            "IDENTITY_HEADER",
            "MSI_ENDPOINT",
            "MSI_SECRET",
            "IMDS_ENDPOINT",
            "IDENTITY_SERVER_THUMBPRINT",
            "CURL_CA_BUNDLE",
        )
    }
    env.update(
        AZURE_CONFIG_DIR=str(config_dir),
        REQUESTS_CA_BUNDLE=str(mini.pki["bundle"]),
        AZURE_CORE_INSTANCE_DISCOVERY="false",
        AZURE_CORE_COLLECT_TELEMETRY="false",
        AZURE_CORE_NO_COLOR="true",
        AZURE_CORE_SURVEY_MESSAGE="false",
        HTTPS_PROXY=mini.proxy["url"],
        NO_PROXY="127.0.0.1,localhost",
    )
    env.update(extra)
    return env


def az(env, *args, timeout=120):
    started = time.monotonic()
    result = subprocess.run(
        [str(AZ), *map(str, args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    result.seconds = time.monotonic() - started
    print(f"az {' '.join(map(str, args[:3]))} ... -> {result.returncode} in {result.seconds:.2f}s")
    return result


def az_ok(env, *args):
    result = az(env, *args)
    assert result.returncode == 0, f"az {' '.join(map(str, args))} failed:\n{result.stderr}"
    return json.loads(result.stdout) if result.stdout.strip() else None


def cloud_config(mini):
    url = mini.signin["url"]
    return {
        "endpoints": {
            "activeDirectory": url,
            "activeDirectoryResourceId": C.ARM_RESOURCE,
            "resourceManager": url + "/",
            "management": C.ARM_RESOURCE,
        },
        "suffixes": {
            "mhsmDns": C.MHSM_DNS_SUFFIX,
            "storageEndpoint": C.STORAGE_ENDPOINT_SUFFIX,
            "keyvaultDns": ".vault." + C.DOMAIN,
        },
    }


def registered(mini, tmp_path, **extra):
    """A fresh config dir with the local cloud registered and active; returns the env for `az`."""
    env = az_env(mini, tmp_path / "azconfig", **extra)
    cloud_file = tmp_path / "cloud.json"
    cloud_file.write_text(json.dumps(cloud_config(mini), indent=2))
    az_ok(env, "cloud", "register", "-n", C.CLOUD_NAME, "--cloud-config", f"@{cloud_file}", "--skip-endpoint-discovery")
    az_ok(env, "cloud", "set", "-n", C.CLOUD_NAME)
    return env


def claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


# ---- (a) service principal -----------------------------------------------------------------------------------


def test_service_principal_login_and_tokens(mini, tmp_path):
    env = registered(mini, tmp_path)
    before = len(signin_log(mini))

    accounts = az_ok(env, "login", "--service-principal", "-u", C.SP_APP_ID, "-p", C.SP_SECRET, "--tenant", C.TENANT_ID)
    assert [(a["id"], a["name"], a["tenantId"], a["state"]) for a in accounts] == [
        (C.SUBSCRIPTION_ID, C.SUBSCRIPTION_NAME, C.TENANT_ID, "Enabled")
    ]
    assert accounts[0]["user"] == {"name": C.SP_APP_ID, "type": "servicePrincipal"}
    account = az_ok(env, "account", "show")
    assert account["id"] == C.SUBSCRIPTION_ID and account["environmentName"] == C.CLOUD_NAME

    token = az_ok(env, "account", "get-access-token", "--scope", MHSM_SCOPE)
    got = claims(token["accessToken"])
    assert got["aud"] == C.MHSM_RESOURCE
    assert got["tid"] == C.TENANT_ID == token["tenant"]
    assert got["oid"] == C.SP_OBJECT_ID and got["appid"] == C.SP_APP_ID and got["idtyp"] == "app"
    assert got["iss"] == f"https://sts.windows.net/{C.TENANT_ID}/"
    assert got["nbf"] <= time.time() < got["exp"]

    arm = az_ok(env, "account", "get-access-token")
    assert claims(arm["accessToken"])["aud"] == C.ARM_RESOURCE
    assert claims(arm["accessToken"])["uti"] != got["uti"]

    log = signin_log(mini)[before:]
    calls = [(r["method"], r["path"], r.get("scope"), r["status"]) for r in log]
    tenant = C.TENANT_ID
    assert calls == [
        ("GET", f"/{tenant}/v2.0/.well-known/openid-configuration", None, 200),
        ("POST", f"/{tenant}/oauth2/v2.0/token", C.ARM_RESOURCE + "/.default", 200),
        ("GET", "/subscriptions", None, 200),
        ("POST", f"/{tenant}/oauth2/v2.0/token", MHSM_SCOPE, 200),
    ], calls  # the ARM token of the last command came from MSAL's cache
    assert log[2]["authorization"] is True
    forms = [r["form"] for r in log if "form" in r]
    assert forms and all(form["client_secret"] == "***" for form in forms)  # the token requests carried it, masked
    text = (mini.dir / "signin-requests.jsonl").read_text()
    assert C.SP_SECRET not in text and token["accessToken"] not in text and arm["accessToken"] not in text


def test_cloud_register_with_endpoint_discovery(mini, tmp_path):
    env = az_env(mini, tmp_path / "azconfig")
    az_ok(
        env, "cloud", "register", "-n", "HsmBackupDiscovered", "--endpoint-resource-manager", mini.signin["url"] + "/"
    )
    cloud = az_ok(env, "cloud", "show", "-n", "HsmBackupDiscovered")
    assert cloud["endpoints"]["activeDirectory"] == mini.signin["url"]
    assert cloud["endpoints"]["activeDirectoryResourceId"] == C.ARM_RESOURCE
    assert cloud["suffixes"]["mhsmDns"] == C.MHSM_DNS_SUFFIX
    assert cloud["suffixes"]["storageEndpoint"] == C.STORAGE_ENDPOINT_SUFFIX


# ---- (b) a wrong secret ---------------------------------------------------------------------------------------


def test_wrong_secret_fails(mini, tmp_path):
    env = registered(mini, tmp_path)
    before = len(signin_log(mini))
    result = az(env, "login", "--service-principal", "-u", C.SP_APP_ID, "-p", "not-the-secret", "--tenant", C.TENANT_ID)
    assert result.returncode != 0
    assert "AADSTS7000215" in result.stderr
    tokens = [r for r in signin_log(mini)[before:] if r["path"].endswith("/token")]
    assert tokens and all(r["status"] == 401 for r in tokens)
    assert "not-the-secret" not in (mini.dir / "signin-requests.jsonl").read_text()
    assert az(env, "account", "show").returncode != 0  # nothing was saved


def test_unknown_tenant_fails(mini, tmp_path):
    env = registered(mini, tmp_path)
    result = az(
        env,
        "login",
        "--service-principal",
        "-u",
        C.SP_APP_ID,
        "-p",
        C.SP_SECRET,
        "--tenant",
        "00000000-0000-4000-8000-000000000000",
    )
    assert result.returncode != 0
    assert "AADSTS90002" in result.stderr or "not found" in result.stderr.lower(), result.stderr


# ---- (c) managed identity ----------------------------------------------------------------------------------------


def test_managed_identity_login_and_storage_token(mini, tmp_path):
    identity = {"IDENTITY_ENDPOINT": mini.signin["url"] + "/msi/token", "IDENTITY_HEADER": C.MI_IDENTITY_HEADER}
    env = registered(mini, tmp_path, **identity)
    before = len(signin_log(mini))

    accounts = az_ok(env, "login", "--identity")
    assert [(a["id"], a["tenantId"]) for a in accounts] == [(C.SUBSCRIPTION_ID, C.TENANT_ID)]
    assert accounts[0]["user"]["type"] == "servicePrincipal"
    assert accounts[0]["user"]["assignedIdentityInfo"] == "MSI"

    token = az_ok(env, "account", "get-access-token", "--scope", STORAGE_SCOPE)
    got = claims(token["accessToken"])
    assert got["aud"] == C.STORAGE_RESOURCE
    assert got["oid"] == C.MI_OBJECT_ID and got["appid"] == C.MI_CLIENT_ID and got["tid"] == C.TENANT_ID
    assert got["iss"].startswith("https://sts.windows.net/")  # what Azurite's OAuth accepts

    msi = [r for r in signin_log(mini)[before:] if r["path"] == "/msi/token"]
    assert [(r["resource"], r["identity_header"], r["status"]) for r in msi] == [
        (C.ARM_RESOURCE, True, 200),
        (C.STORAGE_RESOURCE, True, 200),
    ]
    text = (mini.dir / "signin-requests.jsonl").read_text()
    assert C.MI_IDENTITY_HEADER not in text and token["accessToken"] not in text


def test_managed_identity_wrong_header_fails(mini, tmp_path):
    env = registered(
        mini, tmp_path, IDENTITY_ENDPOINT=mini.signin["url"] + "/msi/token", IDENTITY_HEADER="wrong-header"
    )
    result = az(env, "login", "--identity")
    assert result.returncode != 0


# ---- token endpoint knobs (POST /_signin/config) ---------------------------------------------------------------


def test_config_lifetime_and_injected_failure(mini):
    session = requests.Session()
    session.trust_env = False
    session.verify = str(mini.pki["bundle"])
    url = mini.signin["url"]
    form = {
        "grant_type": "client_credentials",
        "client_id": C.SP_APP_ID,
        "client_secret": C.SP_SECRET,
        "scope": MHSM_SCOPE,
    }
    token_url = f"{url}/{C.TENANT_ID}/oauth2/v2.0/token"
    try:
        config = session.post(
            f"{url}/_signin/config", json={"token_lifetime": 120, "fail_token": {"status": 503, "times": 1}}, timeout=10
        ).json()
        assert config["token_lifetime"] == 120
        failed = session.post(token_url, data=form, timeout=10)
        assert failed.status_code == 503 and failed.json()["error"] == "temporarily_unavailable"
        ok = session.post(token_url, data=form, timeout=10)
        assert ok.status_code == 200 and ok.json()["expires_in"] == 120
        assert 115 <= claims(ok.json()["access_token"])["exp"] - time.time() <= 121
    finally:
        session.post(f"{url}/_signin/config", json={"token_lifetime": 3600, "fail_token": None}, timeout=10)


# ---- (c2) ARM managedHSMs list (the fleet) ------------------------------------------------------------------------

FLEET = [
    {"name": "hsm-east-1", "resourceGroup": "rg-east"},
    {"name": "hsm-east-2", "resourceGroup": "rg-east", "activationStatus": "NotActivated"},
    {"name": "hsm-west-1", "resourceGroup": "RG-West", "identity": "none", "regions": ["eastus2"]},
    {"name": "hsm-west-2", "resourceGroup": "RG-West", "provisioningState": "Provisioning"},
    {"name": "hsm-north-1", "resourceGroup": "rg-north", "identity": "system"},
]
HSMS_PATH = f"/subscriptions/{C.SUBSCRIPTION_ID}/providers/Microsoft.KeyVault/managedHSMs"


def _admin_session(mini):
    session = requests.Session()
    session.trust_env = False
    session.verify = str(mini.pki["bundle"])
    return session


def _az_list_pages(env, url):
    """Every page of an ARM list through the real `az rest`, following nextLink as a caller must."""
    pages = []
    while url:
        page = az_ok(env, "rest", "--method", "get", "--url", url)
        pages.append(page)
        url = page.get("nextLink")
    return pages


def test_arm_lists_the_declared_fleet_with_paging(mini, tmp_path):
    session = _admin_session(mini)
    url = mini.signin["url"]
    declared = session.post(f"{url}/_signin/fleet", json={"hsms": FLEET, "page_size": 2}, timeout=10)
    assert declared.status_code == 200, declared.text
    try:
        env = registered(mini, tmp_path)
        az_ok(env, "login", "--service-principal", "-u", C.SP_APP_ID, "-p", C.SP_SECRET, "--tenant", C.TENANT_ID)

        pages = _az_list_pages(env, f"{HSMS_PATH}?api-version=2025-05-01")
        assert [len(p["value"]) for p in pages] == [2, 2, 1]
        assert all("nextLink" in p for p in pages[:-1]) and "nextLink" not in pages[-1]
        assert pages[0]["nextLink"].startswith(url + HSMS_PATH + "?api-version=2025-05-01&$skiptoken=")
        hsms = [h for p in pages for h in p["value"]]
        assert [h["name"] for h in hsms] == [f["name"] for f in FLEET]
        first = hsms[0]
        assert first["id"] == (
            f"/subscriptions/{C.SUBSCRIPTION_ID}/resourceGroups/rg-east/providers/Microsoft.KeyVault/managedHSMs/"
            "hsm-east-1"
        )
        assert first["type"] == "Microsoft.KeyVault/managedHSMs" and first["location"] == "westus"
        assert first["properties"]["hsmUri"] == f"https://hsm-east-1{C.MHSM_DNS_SUFFIX}/"
        assert first["properties"]["provisioningState"] == "Succeeded"
        assert first["properties"]["securityDomainProperties"]["activationStatus"] == "Active"
        assert first["identity"]["type"] == "UserAssigned" and len(first["identity"]["userAssignedIdentities"]) == 1
        assert hsms[1]["properties"]["securityDomainProperties"]["activationStatus"] == "NotActivated"
        assert "identity" not in hsms[2]
        assert [r["name"] for r in hsms[2]["properties"]["regions"]] == ["westus", "eastus2"]  # one resource
        assert hsms[3]["properties"]["provisioningState"] == "Provisioning"
        assert hsms[4]["identity"]["type"] == "SystemAssigned"

        # Per resource group, case-insensitively as ARM matches names; one record by id.
        group_path = (
            f"/subscriptions/{C.SUBSCRIPTION_ID}/resourceGroups/rg-west/providers/Microsoft.KeyVault/managedHSMs"
        )
        west = [h["name"] for p in _az_list_pages(env, f"{group_path}?api-version=2025-05-01") for h in p["value"]]
        assert west == ["hsm-west-1", "hsm-west-2"]
        one = az_ok(env, "rest", "--method", "get", "--url", f"{first['id']}?api-version=2025-05-01")
        assert one == first

        missing = az(
            env,
            "rest",
            "--method",
            "get",
            "--url",
            f"{group_path.replace('rg-west', 'rg-none')}?api-version=2025-05-01",
        )
        assert missing.returncode != 0 and "ResourceGroupNotFound" in missing.stderr
        gone = az(env, "rest", "--method", "get", "--url", f"{first['id']}x?api-version=2025-05-01")
        assert gone.returncode != 0 and "ResourceNotFound" in gone.stderr

        # Without a token or api-version, ARM refuses; an unknown subscription is not found.
        assert session.get(f"{url}{HSMS_PATH}?api-version=2025-05-01", timeout=10).status_code == 401
        bearer = {"Authorization": "Bearer x.y.z"}
        no_version = session.get(f"{url}{HSMS_PATH}", headers=bearer, timeout=10)
        assert no_version.status_code == 400 and no_version.json()["error"]["code"] == "MissingApiVersionParameter"
        other = session.get(
            f"{url}{HSMS_PATH.replace(C.SUBSCRIPTION_ID, '00000000-0000-0000-0000-000000000000')}?api-version=1",
            headers=bearer,
            timeout=10,
        )
        assert other.status_code == 404 and other.json()["error"]["code"] == "SubscriptionNotFound"
    finally:
        session.post(f"{url}/_signin/fleet", json={"hsms": []}, timeout=10)


@pytest.mark.parametrize(
    "body",
    [
        {"hsms": [{"name": "ab"}]},
        {"hsms": [{"name": "x" * 25}]},
        {"hsms": [{"name": "bad_name"}]},
        {"hsms": [{}]},
        {"hsms": "hsm1"},
        {"hsms": [{"name": "hsm1"}, {"name": "HSM1"}]},
        {"hsms": [{"name": "hsm1", "resourceGroup": ""}]},
        {"hsms": [{"name": "hsm1", "identity": 3}]},
        {"hsms": [], "page_size": 0},
        [],
    ],
)
def test_fleet_declaration_refuses_bad_entries(mini, body):
    session = _admin_session(mini)
    before = session.get(f"{mini.signin['url']}/_signin/fleet", timeout=10).json()
    response = session.post(f"{mini.signin['url']}/_signin/fleet", json=body, timeout=10)
    assert response.status_code == 400 and response.json()["error"]
    assert session.get(f"{mini.signin['url']}/_signin/fleet", timeout=10).json() == before  # nothing half-applied


# ---- (d) the proxy ----------------------------------------------------------------------------------------------


def _through_proxy(mini, url):
    session = requests.Session()
    session.trust_env = False
    with session:
        return session.get(url, proxies={"https": mini.proxy["url"]}, verify=str(mini.pki["bundle"]), timeout=20)


def _raw(mini, request_bytes):
    with socket.create_connection(("127.0.0.1", mini.proxy["port"]), timeout=10) as s:
        s.sendall(request_bytes)
        data = b""
        while chunk := s.recv(4096):
            data += chunk
    return data


def proxy_log(mini):
    path = mini.dir / "proxy-requests.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_proxy_routes_test_names_with_tls_end_to_end(mini):
    response = _through_proxy(mini, "https://x.managedhsm.hsmbackup.test/backup/pending?api-version=7.5")
    assert response.status_code == 200
    assert response.json() == {
        "echo": True,
        "host": "x.managedhsm.hsmbackup.test",
        "path": "/backup/pending?api-version=7.5",
    }
    blob = _through_proxy(mini, f"https://{C.STORAGE_ACCOUNT}.blob.{C.STORAGE_ENDPOINT_SUFFIX}/backups?comp=list")
    assert blob.json()["host"] == f"{C.STORAGE_ACCOUNT}.blob.{C.STORAGE_ENDPOINT_SUFFIX}"
    tunnels = [r for r in proxy_log(mini) if r.get("result") == "tunnel"]
    assert {
        "host": "x.managedhsm.hsmbackup.test",
        "port": 443,
        "target": f"127.0.0.1:{mini.echo_port}",
    }.items() <= tunnels[0].items()


def test_proxy_refuses_unrouted_hosts_and_plain_requests(mini):
    answer = _raw(mini, b"CONNECT example.invalid:443 HTTP/1.1\r\nHost: example.invalid:443\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 403 ")
    answer = _raw(mini, b"GET http://x.managedhsm.hsmbackup.test/?sig=s3cret HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 403 ")
    with pytest.raises(requests.exceptions.ProxyError):
        _through_proxy(mini, "https://management.azure.com/subscriptions")
    log = proxy_log(mini)
    refused = [(r.get("host"), r.get("port"), r["target"]) for r in log if r["result"] == "refused"]
    assert ("example.invalid", 443, None) in refused and ("management.azure.com", 443, None) in refused
    assert any(r["method"] == "GET" and r["target"] == "http://x.managedhsm.hsmbackup.test/" for r in log)
    assert "s3cret" not in (mini.dir / "proxy-requests.jsonl").read_text()


def test_proxy_reports_a_dead_target(mini):
    answer = _raw(mini, b"CONNECT kv.vault.hsmbackup.test:443 HTTP/1.1\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 502 ")
    assert proxy_log(mini)[-1]["result"] == "error"


def test_proxy_many_concurrent_tunnels(mini):
    def fetch(i):
        return _through_proxy(mini, f"https://hsm{i}.managedhsm.hsmbackup.test/n/{i}").json()["path"]

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=40) as pool:
        paths = list(pool.map(fetch, range(80)))
    print(f"80 tunnels (40 at a time) in {time.monotonic() - started:.2f}s")
    assert paths == [f"/n/{i}" for i in range(80)]


def test_real_az_reaches_a_test_name_through_the_proxy(mini, tmp_path):
    env = az_env(mini, tmp_path / "azconfig")
    out = az_ok(
        env,
        "rest",
        "--method",
        "get",
        "--skip-authorization-header",
        "--url",
        "https://contoso.managedhsm.hsmbackup.test/ping",
    )
    assert out == {"echo": True, "host": "contoso.managedhsm.hsmbackup.test", "path": "/ping"}
