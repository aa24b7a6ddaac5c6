"""The local stack behaves like Azure: the SDK, the built-in az command and storage all work against it unchanged.

These tests run only the stack (with the SDK and the built-in `az keyvault`), never the extension: they show that
the stand-in is faithful and are no evidence for `az hsm-backup`. Hence their names start with `test_stack_`.
"""

import json
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests
from azure.core.credentials import AccessToken
from azure.core.exceptions import HttpResponseError

from tests.e2e.conftest import az_json
from tests.stack import constants as C


class SigninCredential:
    """A service-principal TokenCredential against the local sign-in stand-in (what azure-identity would do)."""

    def __init__(self, stack):
        self.stack = stack
        self.scopes = []

    def get_token(self, *scopes, **_):
        self.scopes.extend(scopes)
        response = requests.post(
            f"{self.stack.state['signin_url']}/{C.TENANT_ID}/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": C.SP_APP_ID,
                "client_secret": C.SP_SECRET,
                "scope": scopes[0],
            },
            verify=self.stack.bundle,
            timeout=30,
        )
        response.raise_for_status()
        body = response.json()
        return AccessToken(body["access_token"], int(time.time()) + int(body["expires_in"]))


def sdk_client(stack, hsm, credential=None):
    from azure.keyvault.administration import KeyVaultBackupClient

    return KeyVaultBackupClient(
        stack.hsm_url(hsm),
        credential or SigninCredential(stack),
        api_version="7.6",
        proxies={"https": stack.state["proxy_url"]},
        connection_verify=stack.bundle,
    )


@pytest.fixture(autouse=True)
def _fresh_challenge_cache():
    from azure.keyvault.administration._internal import HttpChallengeCache

    HttpChallengeCache.clear()


def test_stack_sdk_backup_with_challenge_verification_on(stack, hsm):
    credential = SigninCredential(stack)
    client = sdk_client(stack, hsm, credential)
    assert client._client._config.authentication_policy._verify_challenge_resource is True
    result = client.begin_backup(stack.container_uri(), sas_token=stack.mint_sas(), _polling_interval=0.2).result()
    folder = result.folder_url.rsplit("/", 1)[1]
    assert result.folder_url.startswith(stack.container_uri() + f"/mhsm-{hsm}-")
    assert stack.list_blobs(prefix=folder + "/")
    assert credential.scopes == [C.MHSM_RESOURCE + "/.default"]  # the scope came from the HSM's challenge


def test_stack_builtin_az_keyvault_backup_start_lands_in_azurite(stack, hsm):
    result = stack.az(
        "keyvault",
        "backup",
        "start",
        "--hsm-name",
        hsm,
        "--storage-account-name",
        C.STORAGE_ACCOUNT,
        "--blob-container-name",
        "backups",
        "--storage-container-SAS-token",
        stack.mint_sas(),
    )
    out = az_json(result)
    assert out["status"] == "Succeeded"
    folder = out["folderUrl"].rsplit("/", 1)[1]
    assert out["folderUrl"] == f"{stack.container_uri()}/{folder}"
    assert stack.list_blobs(prefix=folder + "/")


@pytest.mark.parametrize("kind", ["expired", "read-only"])
def test_stack_storage_refusal_fails_the_job_with_the_storage_error(stack, hsm, kind):
    if kind == "expired":
        sas, code = stack.mint_sas(expiry=datetime.now(timezone.utc) - timedelta(minutes=5)), "AuthenticationFailed"
    else:
        sas, code = stack.mint_sas(permissions="rl"), "AuthorizationPermissionMismatch"
    poller = sdk_client(stack, hsm).begin_backup(stack.container_uri(), sas_token=sas, _polling_interval=0.2)
    with pytest.raises(HttpResponseError) as info:
        poller.result()
    assert info.value.status_code == 200  # a failed job is a 200 poll, as in Azure
    body = info.value.response.json()
    assert body["status"] == "Failed" and body["statusDetails"] == code and body["error"]["code"] == code
    assert body["azureStorageBlobContainerUri"] is None and body["endTime"]


def test_stack_backup_then_restore_round_trips_every_key_byte_for_byte(stack, hsm):
    before = stack.emulator("GET", f"hsms/{hsm}/keys")
    assert len(key_names(before)) == 3, "the emulator's HSM starts with its 3 seed keys"
    client = sdk_client(stack, hsm)
    sas = stack.mint_sas()
    folder_url = client.begin_backup(stack.container_uri(), sas_token=sas, _polling_interval=0.2).result().folder_url
    for name in key_names(before):
        stack.emulator("DELETE", f"hsms/{hsm}/keys/{name}")
    assert not key_names(stack.emulator("GET", f"hsms/{hsm}/keys"))
    client.begin_restore(folder_url, sas_token=sas, _polling_interval=0.2).result()
    after = stack.emulator("GET", f"hsms/{hsm}/keys")
    assert json.dumps(after, sort_keys=True) == json.dumps(before, sort_keys=True)


def key_names(keys):
    if isinstance(keys, dict) and "keys" in keys:
        keys = keys["keys"]
    return sorted(k["name"] for k in keys) if isinstance(keys, list) else sorted(keys)
