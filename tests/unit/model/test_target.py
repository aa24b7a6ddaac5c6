"""The parameter sets of Backup-AzKeyVault, in az words (model/target.py): every combination of the HSM, storage and
authentication flags resolves to one Target or one Problem naming the flags."""

import itertools
import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from azure.cli.core.cloud import (
    AZURE_CHINA_CLOUD,
    AZURE_PUBLIC_CLOUD,
    AZURE_US_GOV_CLOUD,
    Cloud,
    CloudEndpoints,
    CloudSuffixes,
)

from azext_hsmbackup.model import target as target_model
from azext_hsmbackup.model.bounds import three_state
from azext_hsmbackup.model.problems import ConflictingValues, InvalidValue, MissingValue
from azext_hsmbackup.model.target import (
    resolve_container_uri,
    resolve_job,
    resolve_restore_target,
    resolve_storage_auth,
    resolve_storage_target,
    resolve_target,
)
from tests.unit.fakes import FOLDER, MHSM, STORAGE, refused


@pytest.mark.parametrize("name", ["important", "mhsm-myhsm-2026010112000050/keys", "../x", "mhsm-myhsm-20260101"])
def test_folder_url_and_backup_folder_of_restore_and_delete_refuse_the_same(name):
    container = "https://acct.blob.core.windows.net/bkp"
    with pytest.raises(InvalidValue, match="--folder-url"):
        target_model.resolve_restore_target(
            hsm_id="https://h.managedhsm.azure.net", folder_url=f"{container}/{name}", mint_sas=1
        )
    with pytest.raises(InvalidValue, match="--backup-folder"):
        target_model.resolve_restore_target(
            hsm_id="https://h.managedhsm.azure.net",
            backup_folder=name,
            storage_container_uri=container,
            mint_sas=True,
        )
    with pytest.raises(InvalidValue, match="--backup-folder"):
        target_model.resolve_storage_target(storage_container_uri=container, backup_folder=name)


FUTURE = (datetime.now(timezone.utc) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")


SAS = f"sv=2026-04-06&sr=c&sp=crdw&se={FUTURE}&sig=abc%2Bdef%3D"


HSM_OBJECT_JSON = json.dumps(
    {
        "name": "objhsm",
        "type": "Microsoft.KeyVault/managedHSMs",
        "properties": {"hsmUri": "https://objhsm.managedhsm.azure.net/"},
    }
)


VALUES = {
    "hsm_name": "myhsm",
    "hsm_object": HSM_OBJECT_JSON,
    "hsm_id": "https://idhsm.managedhsm.azure.net",
    "storage_account_name": "myaccount",
    "storage_container_name": "backups",
    "storage_container_uri": "https://uriaccount.blob.core.windows.net/uribackups",
    "sas_token": SAS,
    "use_managed_identity": True,
}


FLAG = {
    "hsm_name": "--hsm-name",
    "hsm_object": "--hsm-object",
    "hsm_id": "--id",
    "storage_account_name": "--storage-account-name",
    "storage_container_name": "--storage-container-name",
    "storage_container_uri": "--storage-container-uri",
    "sas_token": "--sas-token",
    "use_managed_identity": "--use-user-managed-identity",
}


SUBSCRIPTION = "6a1c9e2b-4d3f-4b8a-9c7e-112233445566"


SUFFIXES = {"mhsm_dns_suffix": ".managedhsm.azure.net", "storage_endpoint_suffix": "core.windows.net"}


def expected(given):
    """The rules, written independently of the implementation: (error class, flags the message must name)."""
    hsm = [f for f in ("hsm_name", "hsm_object", "hsm_id") if f in given]
    if not hsm:
        return MissingValue, ["--hsm-name", "--hsm-object", "--id"]
    if len(hsm) > 1:
        return ConflictingValues, [FLAG[f] for f in hsm]
    account, container, uri = (
        f in given for f in ("storage_account_name", "storage_container_name", "storage_container_uri")
    )
    if uri and (account or container):
        return ConflictingValues, ["--storage-container-uri"] + [
            FLAG[f] for f in ("storage_account_name", "storage_container_name") if f in given
        ]
    if account and not container:
        return MissingValue, ["--storage-account-name", "--storage-container-name"]
    if container and not account:
        return MissingValue, ["--storage-container-name", "--storage-account-name"]
    if not (uri or account):
        return MissingValue, ["--storage-container-uri", "--storage-account-name"]
    sas, mi = "sas_token" in given, "use_managed_identity" in given
    if sas and mi:
        return ConflictingValues, ["--sas-token", "--use-user-managed-identity"]
    if not (sas or mi):
        return MissingValue, ["--sas-token", "--use-user-managed-identity"]
    return None, []


ALL_COMBINATIONS = [frozenset(c) for n in range(len(VALUES) + 1) for c in itertools.combinations(VALUES, n)]


def test_table_is_exhaustive():
    assert len(ALL_COMBINATIONS) == 2 ** len(VALUES) == 256


@pytest.mark.parametrize("given", ALL_COMBINATIONS, ids=lambda g: "+".join(sorted(FLAG[f] for f in g)) or "nothing")
def test_every_flag_combination(given):
    error, named = expected(given)
    kwargs = {f: VALUES[f] for f in given}
    if error is None:
        target, _ = resolve_target(**kwargs, **SUFFIXES)
        hsm = next(f for f in ("hsm_name", "hsm_object", "hsm_id") if f in given)
        assert (
            target.hsm_url
            == {
                "hsm_name": "https://myhsm.managedhsm.azure.net",
                "hsm_object": "https://objhsm.managedhsm.azure.net",
                "hsm_id": "https://idhsm.managedhsm.azure.net",
            }[hsm]
        )
        assert target.container_uri == (
            "https://uriaccount.blob.core.windows.net/uribackups"
            if "storage_container_uri" in given
            else "https://myaccount.blob.core.windows.net/backups"
        )
        assert target.storage_auth == ("sas" if "sas_token" in given else "managedIdentity")
        assert target.sas_token == (SAS if "sas_token" in given else None)
        assert SAS not in repr(target)
        return
    with pytest.raises(error) as info:
        resolve_target(**kwargs, **SUFFIXES)
    message = info.value.error_msg
    assert "\n" not in message
    for flag in named:
        assert flag in message, (flag, message)
    assert SAS not in message


@pytest.mark.parametrize("value", ["false", False])
def test_managed_identity_false_is_not_a_storage_auth(value):
    with pytest.raises(MissingValue):
        resolve_target(
            hsm_name="myhsm",
            storage_container_uri=VALUES["storage_container_uri"],
            use_managed_identity=three_state(value, "--use-user-managed-identity"),
            **SUFFIXES,
        )


def test_sas_with_leading_question_mark_is_accepted():
    target, _ = resolve_target(
        hsm_name="myhsm", storage_container_uri=VALUES["storage_container_uri"], sas_token="?" + SAS, **SUFFIXES
    )
    assert target.sas_token == SAS


def test_whole_sas_url_for_the_same_container_is_split():
    url = VALUES["storage_container_uri"] + "?" + SAS
    target, _ = resolve_target(
        hsm_name="myhsm", storage_container_uri=VALUES["storage_container_uri"], sas_token=url, **SUFFIXES
    )
    assert target.sas_token == SAS


def test_whole_sas_url_for_another_container_is_refused_without_echoing_it():
    url = "https://other.blob.core.windows.net/elsewhere?" + SAS
    with pytest.raises(InvalidValue) as info:
        resolve_target(
            hsm_name="myhsm", storage_container_uri=VALUES["storage_container_uri"], sas_token=url, **SUFFIXES
        )
    assert "--sas-token" in info.value.error_msg and "sig=" not in info.value.error_msg


@pytest.mark.parametrize(
    "obj, fragment",
    [
        ("{not json", "not valid JSON"),
        (json.dumps({"name": "kv", "type": "Microsoft.KeyVault/vaults", "properties": {}}), "not a Managed HSM"),
        (json.dumps([1, 2]), "one JSON object"),
        (json.dumps({"name": "x"}), "not a Managed HSM"),
    ],
)
def test_bad_hsm_object(obj, fragment):
    with pytest.raises(InvalidValue) as info:
        resolve_target(
            hsm_object=obj, storage_container_uri=VALUES["storage_container_uri"], use_managed_identity=True, **SUFFIXES
        )
    assert fragment in info.value.error_msg and "--hsm-object" in info.value.error_msg


def test_hsm_object_of_powershell_shape_and_without_uri():
    ps = json.dumps({"Name": "pshsm", "ResourceType": "Microsoft.KeyVault/managedHSMs"})
    target, _ = resolve_target(
        hsm_object=ps, storage_container_uri=VALUES["storage_container_uri"], use_managed_identity=True, **SUFFIXES
    )
    assert target.hsm_url == "https://pshsm.managedhsm.azure.net"


def test_id_accepts_resource_id_and_keeps_only_scheme_and_host():
    rid = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.KeyVault/managedHSMs/ridhsm"
    target, _ = resolve_target(
        hsm_id=rid, storage_container_uri=VALUES["storage_container_uri"], use_managed_identity=True, **SUFFIXES
    )
    assert target.hsm_url == "https://ridhsm.managedhsm.azure.net"
    target, _ = resolve_target(
        hsm_id="https://H.managedhsm.azure.net:443/some/path",
        storage_container_uri=VALUES["storage_container_uri"],
        use_managed_identity=True,
        **SUFFIXES,
    )
    assert target.hsm_url == "https://h.managedhsm.azure.net:443"


HSM_ID = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.KeyVault/managedHSMs/ridhsm"


def _hsm_url(**hsm):
    target, _ = resolve_target(
        **hsm, storage_container_uri=VALUES["storage_container_uri"], use_managed_identity=True, **SUFFIXES
    )
    return target.hsm_url


@pytest.mark.parametrize(
    "rid",
    [
        HSM_ID,
        HSM_ID + "/",
        HSM_ID.lower(),
        HSM_ID.upper().replace("RIDHSM", "ridhsm"),
        f"/subscriptions/{SUBSCRIPTION}/resourceGroups/managedHSMs/providers/Microsoft.KeyVault/managedHSMs/ridhsm",
        f"  {HSM_ID}  ",
        HSM_ID.replace("/rg/", "/groupe-sécurité_(prod).1/"),  # ARM allows Unicode letters in group names
    ],
)
def test_resource_ids_of_a_managed_hsm_resolve(rid):
    assert _hsm_url(hsm_id=rid) == "https://ridhsm.managedhsm.azure.net"


@pytest.mark.parametrize(
    "rid, fragment",
    [
        (HSM_ID.replace("managedHSMs/ridhsm", "vaults/kv1"), "microsoft.keyvault/vaults"),
        (  # a resource group named like the type does not make a key vault an HSM
            f"/subscriptions/{SUBSCRIPTION}/resourceGroups/managedHSMs/providers/Microsoft.KeyVault/vaults/ridhsm",
            "microsoft.keyvault/vaults",
        ),
        (f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.KeyVault/managedHSMs", "resource ID"),
        (HSM_ID + "/privateEndpointConnections/pe", "resource ID"),
        (HSM_ID.replace(SUBSCRIPTION, "x"), "resource ID"),
        (HSM_ID.replace("/resourceGroups/rg/", "/resourceGroups//"), "resource ID"),
        (HSM_ID.replace("/rg/", "/rg./"), "resource ID"),
        (HSM_ID.replace("/rg/", "/r\x0bg/"), "resource ID"),
        (HSM_ID.replace("/providers/", "/provider/"), "resource ID"),
        ("/" + HSM_ID, "resource ID"),
        (HSM_ID.replace("ridhsm", "ri--hsm"), "Managed HSM name"),
        (HSM_ID.replace("ridhsm", "r"), "Managed HSM name"),
        ("/subscriptions/", "resource ID"),
        ("/", "resource ID"),
    ],
)
def test_resource_ids_that_are_not_a_managed_hsm_blame_id(rid, fragment):
    with pytest.raises(InvalidValue) as info:
        _hsm_url(hsm_id=rid)
    message = info.value.error_msg + " ".join(map(str, info.value.recommendations))
    assert message.startswith("--id") and fragment in message and "--hsm-name" not in message, message


def test_resource_id_in_a_cloud_without_hsm_suffix_blames_id():
    with pytest.raises(InvalidValue) as info:
        resolve_target(hsm_id=HSM_ID, storage_container_uri=VALUES["storage_container_uri"], use_managed_identity=True)
    assert info.value.error_msg.startswith("--id") and "--hsm-name" not in info.value.error_msg


@pytest.mark.parametrize(
    "url",
    [
        "http://h.managedhsm.azure.net",
        "https://",
        "https://user:secret@h.managedhsm.azure.net",
        "https://h.managedhsm.azure.net:notaport",
        "https://h.managedhsm.azure.net:0",
        "https://h_x.managedhsm.azure.net",
        "https://h.managedhsm.azure.net\n/x",
        "https://h\x0b.managedhsm.azure.net",
        "https://" + "a" * 3000 + ".net",
        "",
        "   ",
    ],
)
def test_bad_hsm_urls_blame_id(url):
    with pytest.raises(InvalidValue) as info:
        _hsm_url(hsm_id=url)
    assert info.value.error_msg.startswith("--id") and all(c.isprintable() for c in info.value.error_msg)
    assert "secret" not in info.value.error_msg


# Get-AzKeyVaultManagedHsm | ConvertTo-Json (default -Depth 2). Only the properties PSManagedHsm declares
# (Azure/azure-powershell src/KeyVault/KeyVault/Models/ManagedHsm/PSManagedHsm.cs and its base PSKeyVaultIdentityItem:
# ResourceId, VaultName, ResourceGroupName, Location, Tags, TagsTable) and, under OriginalManagedHsm, the ARM model
# (Microsoft.Azure.Management.KeyVault.Models.ManagedHsm: Properties, Id, Name, Type, Location, Sku, Tags). There is
# no Type at the top: PowerShell users see the type only inside ResourceId.
PS_ID = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/hsm-rg/providers/Microsoft.KeyVault/managedHSMs/pshsm"


PS_MANAGED_HSM = {
    "Name": "pshsm",
    "PublicNetworkAccess": "Enabled",
    "TenantId": "8f5d0c1e-3a7b-4c2d-9e6f-0a1b2c3d4e5f",
    "TenantName": "contoso.onmicrosoft.com",
    "InitialAdminObjectIds": ["0d9c8b7a-6f5e-4d3c-2b1a-a1b2c3d4e5f6"],
    "HsmUri": "https://pshsm.managedhsm.azure.net/",
    "EnableSoftDelete": True,
    "SoftDeleteRetentionInDays": 90,
    "EnablePurgeProtection": False,
    "StatusMessage": "The Managed HSM is provisioned and ready to use.",
    "ProvisioningState": "Succeeded",
    "SecurityDomain": {"ActivationStatus": "Active", "ActivationStatusMessage": "Your HSM has been activated"},
    "OriginalManagedHsm": {
        "Properties": {
            "TenantId": "8f5d0c1e-3a7b-4c2d-9e6f-0a1b2c3d4e5f",
            "InitialAdminObjectIds": ["0d9c8b7a-6f5e-4d3c-2b1a-a1b2c3d4e5f6"],
            "HsmUri": "https://pshsm.managedhsm.azure.net/",
            "EnableSoftDelete": True,
            "SoftDeleteRetentionInDays": 90,
            "EnablePurgeProtection": False,
            "StatusMessage": "The Managed HSM is provisioned and ready to use.",
            "ProvisioningState": "Succeeded",
            "PublicNetworkAccess": "Enabled",
        },
        "Id": PS_ID,
        "Name": "pshsm",
        "Type": "Microsoft.KeyVault/managedHSMs",
        "Location": "westeurope",
        "Tags": {},
    },
    "ResourceId": PS_ID,
    "VaultName": "pshsm",
    "ResourceGroupName": "hsm-rg",
    "Location": "westeurope",
    "Tags": {},
    "TagsTable": None,
}


def _ps(**changes):
    obj = json.loads(json.dumps(PS_MANAGED_HSM))
    for key, value in changes.items():
        if value is None:
            obj.pop(key, None)
        else:
            obj[key] = value
    return obj


@pytest.mark.parametrize(
    "obj",
    [
        PS_MANAGED_HSM,
        [PS_MANAGED_HSM],  # ConvertTo-Json of a one-element pipeline
        _ps(HsmUri=None),  # the URI only under OriginalManagedHsm.Properties
        _ps(HsmUri=None, OriginalManagedHsm=None),  # only the ResourceId says it is an HSM; the URL from the name
        _ps(HsmUri="", OriginalManagedHsm=None),  # an HSM still being created has no HsmUri yet
    ],
)
def test_powershell_managed_hsm_objects_resolve(obj):
    assert _hsm_url(hsm_object=json.dumps(obj, indent=4)) == "https://pshsm.managedhsm.azure.net"


def test_powershell_hsm_uri_wins_over_the_name():
    obj = _ps(HsmUri="https://pshsm.privatelink.managedhsm.azure.net/", OriginalManagedHsm=None)
    assert _hsm_url(hsm_object=json.dumps(obj)) == "https://pshsm.privatelink.managedhsm.azure.net"


# Get-AzKeyVault | ConvertTo-Json: a PSKeyVault has VaultName, ResourceId (…/vaults/NAME) and VaultUri, no HsmUri.
PS_KEY_VAULT = {
    "VaultName": "kv1",
    "ResourceId": f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv1",
    "ResourceGroupName": "rg",
    "Location": "westeurope",
    "VaultUri": "https://kv1.vault.azure.net/",
}


@pytest.mark.parametrize(
    "obj, fragment",
    [
        (PS_KEY_VAULT, "microsoft.keyvault/vaults"),
        (_ps(ResourceId=PS_KEY_VAULT["ResourceId"]), "microsoft.keyvault/vaults"),
        (_ps(OriginalManagedHsm={"Type": "Microsoft.KeyVault/vaults"}), "microsoft.keyvault/vaults"),
        (_ps(ResourceId="not an id"), "ResourceId"),
        (_ps(ResourceId=None, OriginalManagedHsm=None), "without a type"),
        (_ps(VaultName="otherhsm", HsmUri=None, OriginalManagedHsm=None), "two different names"),
        (_ps(HsmUri="https://elsewhere.managedhsm.azure.net"), "two different hsmUris"),
        (_ps(HsmUri=42, OriginalManagedHsm=None), "not text"),
        (_ps(HsmUri="http://pshsm.managedhsm.azure.net", OriginalManagedHsm=None), "https"),
        (_ps(HsmUri=None, OriginalManagedHsm=None, Name="p", VaultName=None), "Managed HSM name"),
        (_ps(HsmUri=None, OriginalManagedHsm=None, Name=None, VaultName=None), "neither an hsmUri nor a name"),
        ([PS_MANAGED_HSM, PS_MANAGED_HSM], "one JSON object"),
    ],
)
def test_powershell_objects_that_are_not_one_managed_hsm_are_refused(obj, fragment):
    with pytest.raises(InvalidValue) as info:
        _hsm_url(hsm_object=json.dumps(obj))
    message = info.value.error_msg + " ".join(map(str, info.value.recommendations))
    assert message.startswith("--hsm-object") and fragment in message, message


@pytest.mark.parametrize(
    "text, fragment",
    [("", "empty"), (" \n", "empty"), ("[" * 100_000, "JSON"), ("1" * 1_000_001, "too large"), ("null", "one JSON")],
)
def test_hostile_hsm_object_text(text, fragment):
    with pytest.raises(InvalidValue) as info:
        _hsm_url(hsm_object=text)
    assert info.value.error_msg.startswith("--hsm-object") and fragment in info.value.error_msg


@pytest.mark.parametrize("flag", ["hsm_name", "hsm_object", "hsm_id", "storage_container_uri", "sas_token"])
@pytest.mark.parametrize("empty", ["", "   ", "\t\n"])
def test_empty_values_name_their_flag(flag, empty):
    kwargs = {"hsm_name": "myhsm", "storage_container_uri": VALUES["storage_container_uri"], "sas_token": SAS}
    for group in (("hsm_name", "hsm_object", "hsm_id"),):
        if flag in group:
            kwargs.pop("hsm_name")
    kwargs[flag] = empty
    with pytest.raises(InvalidValue) as info:
        resolve_target(**kwargs, **SUFFIXES)
    assert info.value.error_msg.startswith(FLAG[flag]) and "empty" in info.value.error_msg


def test_empty_account_name_is_not_a_missing_one():
    with pytest.raises(InvalidValue) as info:
        resolve_target(
            hsm_name="myhsm", storage_account_name="", storage_container_name="bkp", sas_token=SAS, **SUFFIXES
        )
    assert info.value.error_msg.startswith("--storage-account-name is empty")


def test_managed_identity_false_as_text_is_no_storage_auth_and_true_is():
    with pytest.raises(MissingValue):
        resolve_target(
            hsm_name="myhsm", storage_container_uri=VALUES["storage_container_uri"], use_managed_identity="false",
            **SUFFIXES,
        )  # fmt: skip
    target, _ = resolve_target(
        hsm_name="myhsm", storage_container_uri=VALUES["storage_container_uri"], use_managed_identity="true", **SUFFIXES
    )
    assert target.storage_auth == "managedIdentity"


SOON = (datetime.now(timezone.utc) + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_short_lived_sas_warns_only_where_the_hsm_runs_a_job():
    short = f"sv=2026-04-06&sr=c&sp=racwdl&se={SOON}&sig=x"
    container = {"storage_container_uri": "https://acct.blob.core.windows.net/bkp", "sas_token": short}
    hsm = {"hsm_name": "myhsm", "mhsm_dns_suffix": ".managedhsm.azure.net"}
    _, job_warnings = resolve_target(**hsm, **container)
    _, restore_warnings = resolve_restore_target(
        **hsm, folder_url="https://acct.blob.core.windows.net/bkp/mhsm-myhsm-2026010100000000", sas_token=short
    )
    assert len(job_warnings) == len(restore_warnings) == 1 and "24 hours" in job_warnings[0]
    for permissions in ("l", "ld"):
        _, storage_warnings = resolve_storage_target(**container, needed_permissions=permissions)
        assert storage_warnings == []


CUSTOM = Cloud(
    "HsmBackupLocal",
    endpoints=CloudEndpoints(),
    suffixes=CloudSuffixes(mhsm_dns=".managedhsm.hsmbackup.test", storage_endpoint="hsmbackup.test"),
)


@pytest.mark.parametrize(
    "cloud, hsm_url, container_uri",
    [
        (AZURE_PUBLIC_CLOUD, "https://myhsm.managedhsm.azure.net", "https://acct.blob.core.windows.net/bkp"),
        (AZURE_CHINA_CLOUD, "https://myhsm.managedhsm.azure.cn", "https://acct.blob.core.chinacloudapi.cn/bkp"),
        (
            AZURE_US_GOV_CLOUD,
            "https://myhsm.managedhsm.usgovcloudapi.net",
            "https://acct.blob.core.usgovcloudapi.net/bkp",
        ),
        (CUSTOM, "https://myhsm.managedhsm.hsmbackup.test", "https://acct.blob.hsmbackup.test/bkp"),
    ],
    ids=lambda v: getattr(v, "name", None),
)
def test_urls_from_cloud_suffixes(cloud, hsm_url, container_uri):
    target, _ = resolve_target(
        hsm_name="myhsm",
        storage_account_name="acct",
        storage_container_name="bkp",
        use_managed_identity=True,
        mhsm_dns_suffix=cloud.suffixes.mhsm_dns,
        storage_endpoint_suffix=cloud.suffixes.storage_endpoint,
    )
    assert (target.hsm_url, target.container_uri, target.hsm_name) == (hsm_url, container_uri, "myhsm")


def test_cloud_without_mhsm_suffix_points_to_id():
    with pytest.raises(InvalidValue) as info:
        resolve_target(
            hsm_name="myhsm",
            storage_container_uri="https://a.blob.core.windows.net/bkp",
            use_managed_identity=True,
            mhsm_dns_suffix=None,
        )
    assert "--id" in info.value.error_msg


@pytest.mark.parametrize("name", ["ab", "1hsm", "hsm-", "my--hsm", "a" * 25, "my_hsm", "my.hsm"])
def test_bad_hsm_names(name):
    with pytest.raises(InvalidValue) as info:
        resolve_target(
            hsm_name=name,
            storage_container_uri="https://a.blob.core.windows.net/bkp",
            use_managed_identity=True,
            mhsm_dns_suffix=".managedhsm.azure.net",
        )
    assert "--hsm-name" in info.value.error_msg


@pytest.mark.parametrize(
    "account, container, flag",
    [
        ("ab", "bk1", "--storage-account-name"),
        ("MyAccount", "bk1", "--storage-account-name"),
        ("acct", "b", "--storage-container-name"),
        ("acct", "Backups", "--storage-container-name"),
        ("acct", "bk--x", "--storage-container-name"),
        ("acct", "-bk", "--storage-container-name"),
    ],
)
def test_bad_storage_names(account, container, flag):
    with pytest.raises(InvalidValue) as info:
        resolve_target(
            hsm_id="https://h.managedhsm.azure.net",
            storage_account_name=account,
            storage_container_name=container,
            use_managed_identity=True,
            storage_endpoint_suffix="core.windows.net",
        )
    assert flag in info.value.error_msg


@pytest.mark.parametrize(
    "hsm_name, account, container, flag",
    [
        ("myhsm\n", "acct", "bkp", "--hsm-name"),
        ("myhsm", "acct\n", "bkp", "--storage-account-name"),
        ("myhsm", "acct", "bkp\n", "--storage-container-name"),
        ("myhsm", "acct", "", "--storage-container-name"),
        ("myhsm", " ", "bkp", "--storage-account-name"),
    ],
)
def test_names_with_a_trailing_newline_or_blank_are_refused(hsm_name, account, container, flag):
    with pytest.raises(InvalidValue) as info:
        resolve_target(
            hsm_name=hsm_name,
            storage_account_name=account,
            storage_container_name=container,
            use_managed_identity=True,
            mhsm_dns_suffix=".managedhsm.azure.net",
            storage_endpoint_suffix="core.windows.net",
        )
    assert info.value.error_msg.startswith(flag)


CONTAINER = "https://acct.blob.core.windows.net/backups"


JOB = "0123456789abcdef0123456789ABCDEF"


def restore(**kwargs):
    base = {"hsm_name": "myhsm", "mint_sas": True, "mhsm_dns_suffix": MHSM, "storage_endpoint_suffix": STORAGE}
    return resolve_restore_target(**{**base, **kwargs})


def test_restore_from_a_folder_url():
    target, warnings = restore(folder_url=f"{CONTAINER}/{FOLDER}")
    assert (target.hsm_url, target.hsm_name, target.container_uri, target.folder) == (
        "https://myhsm.managedhsm.azure.net",
        "myhsm",
        CONTAINER,
        FOLDER,
    )
    assert target.storage_auth == "mintedSas" and warnings == []


def test_restore_from_a_url_given_to_backup_folder():
    assert restore(backup_folder=f"{CONTAINER}/{FOLDER}")[0].folder == FOLDER


def test_restore_from_a_folder_name_and_the_container_flags():
    target, _ = restore(backup_folder=FOLDER, storage_account_name="acct", storage_container_name="backups")
    assert (target.container_uri, target.folder) == (CONTAINER, FOLDER)
    assert restore(backup_folder=FOLDER, storage_container_uri=CONTAINER)[0].container_uri == CONTAINER


def test_restore_with_both_folder_forms_is_refused_naming_both():
    message = refused(ConflictingValues, restore, folder_url=f"{CONTAINER}/{FOLDER}", backup_folder=FOLDER)
    assert "--folder-url" in message and "--backup-folder" in message


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"storage_account_name": "acct"}, "--storage-account-name"),
        ({"storage_container_name": "backups"}, "--storage-container-name"),
        ({"storage_container_uri": CONTAINER}, "--storage-container-uri"),
    ],
)
@pytest.mark.parametrize("form", ["folder_url", "backup_folder"])
def test_a_folder_url_with_a_container_flag_is_refused_naming_both(extra, named, form):
    message = refused(ConflictingValues, restore, **{form: f"{CONTAINER}/{FOLDER}"}, **extra)
    assert message.startswith(f"--{form.replace('_', '-')} ") and names(named, message)


def test_restore_without_a_folder_is_refused_naming_both_forms():
    message = refused(MissingValue, restore)
    assert "--folder-url" in message and "--backup-folder" in message


def test_restore_needs_read_and_list_on_a_given_sas():
    target, _ = restore(folder_url=f"{CONTAINER}/{FOLDER}", mint_sas=None, sas_token="sp=rl&sig=abc")
    assert (target.storage_auth, target.sas_token) == ("sas", "sp=rl&sig=abc")
    message = refused(InvalidValue, restore, folder_url=f"{CONTAINER}/{FOLDER}", mint_sas=None, sas_token="sp=r&sig=x")
    assert message.startswith("--sas-token") and "'l'" in message


def test_storage_commands_mint_as_the_signed_in_user_by_default():
    target, warnings = resolve_storage_target(storage_container_uri=CONTAINER)
    assert (target.hsm_url, target.container_uri, target.storage_auth, target.folder) == (
        None,
        CONTAINER,
        "mintedSas",
        None,
    )
    assert warnings == []


def test_storage_commands_check_the_sas_for_the_permissions_they_need():
    target, _ = resolve_storage_target(
        storage_container_uri=CONTAINER, sas_token="sp=ld&sig=x", needed_permissions="ld"
    )
    assert target.sas_token == "sp=ld&sig=x"
    message = refused(
        InvalidValue,
        resolve_storage_target,
        storage_container_uri=CONTAINER,
        sas_token="sp=l&sig=x",
        needed_permissions="ld",
    )
    assert message.startswith("--sas-token") and "'d'" in message


def test_list_needs_list_permission_by_default():
    refused(InvalidValue, resolve_storage_target, storage_container_uri=CONTAINER, sas_token="sp=r&sig=x")


def test_delete_checks_the_folder_name():
    assert resolve_storage_target(storage_container_uri=CONTAINER, backup_folder=FOLDER)[0].folder == FOLDER
    message = refused(InvalidValue, resolve_storage_target, storage_container_uri=CONTAINER, backup_folder="../x")
    assert message.startswith("--backup-folder")


def test_an_empty_folder_name_given_to_delete_is_refused_not_ignored():
    refused(InvalidValue, resolve_storage_target, storage_container_uri=CONTAINER, backup_folder="")


def test_a_job_id_of_32_hex_digits_resolves_with_its_hsm():
    target, warnings = resolve_job(hsm_name="myhsm", job_id=JOB, mhsm_dns_suffix=MHSM)
    assert (target.hsm_url, target.hsm_name, target.container_uri, warnings) == (
        "https://myhsm.managedhsm.azure.net",
        "myhsm",
        None,
        [],
    )


@pytest.mark.parametrize("job_id", ["", JOB[:-1], JOB + "0", "g" * 32, f"{JOB[:16]} {JOB[16:]}"])
def test_anything_else_as_a_job_id_is_refused_naming_the_flag(job_id):
    message = refused(InvalidValue, resolve_job, hsm_name="myhsm", job_id=job_id, mhsm_dns_suffix=MHSM)
    assert message.startswith("--job-id ") and "\n" not in message


def test_no_job_id_is_a_missing_argument_naming_the_flag():
    message = refused(MissingValue, resolve_job, hsm_name="myhsm", job_id=None, mhsm_dns_suffix=MHSM)
    assert names("--job-id", message)


def names(flag, text):
    """`flag` appears as a whole flag (not glued to other characters) in `text`."""
    return re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", text) is not None


def storage_auth(**kwargs):
    base = {"sas_token": None, "use_managed_identity": None, "mint_sas": None}
    return resolve_storage_auth(**{**base, **kwargs}, container_uri=CONTAINER, needed_permissions="l")


@pytest.mark.parametrize(
    ("given", "flags"),
    [
        ({"sas_token": "sig=abcd", "use_managed_identity": True}, ["--sas-token", "--use-user-managed-identity"]),
        ({"sas_token": "sig=abcd", "mint_sas": True}, ["--sas-token", "--mint-sas"]),
        ({"use_managed_identity": True, "mint_sas": True}, ["--use-user-managed-identity", "--mint-sas"]),
    ],
)
def test_two_storage_access_forms_are_refused_naming_both(given, flags):
    message = refused(ConflictingValues, storage_auth, **given)
    assert all(names(flag, message) for flag in flags) and " and " in message


def test_no_storage_access_names_every_way_in():
    message = refused(MissingValue, storage_auth)
    assert all(names(flag, message) for flag in ("--sas-token", "--use-user-managed-identity", "--mint-sas"))


def test_the_hsms_identity_is_refused_where_the_command_runs_as_you():
    message = refused(
        InvalidValue,
        resolve_storage_auth,
        None,
        True,
        None,
        CONTAINER,
        needed_permissions="l",
        hsm_side=False,
    )
    assert names("--use-user-managed-identity", message) and names("--sas-token", message)


def test_the_modes_each_storage_form_resolves_to():
    assert storage_auth(use_managed_identity=True) == ("managedIdentity", None, [])
    assert storage_auth(mint_sas=True) == ("mintedSas", None, [])
    assert storage_auth(sas_token="?sp=l&sig=abcd")[:2] == ("sas", "sp=l&sig=abcd")


@pytest.mark.parametrize(
    ("given", "flags"),
    [
        ({"storage_account_name": "acct", "storage_container_uri": CONTAINER}, ["--storage-account-name"]),
        ({"storage_container_name": "backups", "storage_container_uri": CONTAINER}, ["--storage-container-name"]),
    ],
)
def test_a_container_uri_with_names_is_refused_naming_them(given, flags):
    message = refused(ConflictingValues, resolve_storage_target, **given)
    assert names("--storage-container-uri", message) and all(names(f, message) for f in flags)


@pytest.mark.parametrize(
    ("given", "flag"),
    [
        ({"storage_account_name": "acct"}, "--storage-container-name"),
        ({"storage_container_name": "c1x"}, "--storage-account-name"),
    ],
)
def test_half_a_container_name_pair_names_the_missing_half(given, flag):
    message = refused(MissingValue, resolve_storage_target, **given, storage_endpoint_suffix=STORAGE)
    assert names(flag, message) and message.startswith(f"--storage-{next(iter(given)).split('_')[1]}-name ")


@pytest.mark.parametrize(
    ("extra", "named"),
    [({"storage_account_name": "acct", "storage_container_name": "backups"}, "--storage-account-name")],
)
def test_a_folder_url_with_two_container_flags_names_them_joined(extra, named):
    message = refused(ConflictingValues, restore, folder_url=f"{CONTAINER}/{FOLDER}", **extra)
    assert names(named, message) and names("--storage-container-name", message) and " and " in message


def test_folder_flags_are_named_whole():
    assert names(
        "--folder-url",
        refused(ConflictingValues, restore, folder_url=f"{CONTAINER}/{FOLDER}", backup_folder=FOLDER),
    )
    message = refused(MissingValue, restore)
    assert names("--folder-url", message) and names("--backup-folder", message)
    bad = refused(InvalidValue, restore, folder_url=f"{CONTAINER}/{FOLDER}?sig=abc")
    assert names("--folder-url", bad)


def test_an_http_url_given_to_backup_folder_is_read_as_a_folder_url():
    message = refused(InvalidValue, restore, backup_folder=f"http://acct.blob.core.windows.net/backups/{FOLDER}")
    assert message.startswith("--backup-folder ") and "https" in message


HSM_OBJECT = {
    "type": "Microsoft.KeyVault/managedHSMs",
    "name": "myhsm",
    "properties": {"hsmUri": "https://MyHsm.managedhsm.azure.net/"},
}


@pytest.mark.parametrize(
    "uri",
    [f"{CONTAINER}#frag", f"{CONTAINER}?restype=container", f"{CONTAINER}?SIG=abc", f"{CONTAINER}/folder"],
    ids=["fragment", "query", "sas", "folder"],
)
def test_a_container_uri_with_more_than_the_container_is_refused(uri):
    message = refused(InvalidValue, resolve_storage_target, storage_container_uri=uri)
    assert message.startswith("--storage-container-uri ") and "abc" not in message


def test_a_container_uri_with_a_folder_says_which_container_to_use():
    with pytest.raises(InvalidValue) as info:
        resolve_storage_target(storage_container_uri=f"{CONTAINER}/folder/deeper")
    assert info.value.recommendations == [f"Use {CONTAINER}"]


@pytest.mark.parametrize(
    ("given", "flags"),
    [
        ({"hsm_name": "myhsm", "hsm_id": "https://x.managedhsm.azure.net"}, ["--hsm-name", "--id"]),
        ({"hsm_name": "myhsm", "hsm_object": json.dumps(HSM_OBJECT)}, ["--hsm-name", "--hsm-object"]),
    ],
)
def test_two_hsm_forms_are_refused_naming_both_whole(given, flags):
    message = refused(ConflictingValues, resolve_job, **given, job_id=JOB, mhsm_dns_suffix=MHSM)
    assert message.startswith(f"{flags[0]} and {flags[1]} "), "the line starts with the two flags given"


def test_a_localhost_container_uri_is_path_style():
    local = "https://localhost:10000/devstoreaccount1/backups"
    assert resolve_storage_target(storage_container_uri=local)[0].container_uri == local


def test_a_bad_job_id_is_shown_in_the_line():
    message = refused(InvalidValue, resolve_job, hsm_name="myhsm", job_id="nope", mhsm_dns_suffix=MHSM)
    assert "'nope'" in message


@pytest.mark.parametrize(
    "form",
    [{"hsm_id": "https://idhsm.managedhsm.azure.net"}, {"hsm_object": json.dumps(HSM_OBJECT)}],
    ids=["id", "object"],
)
def test_restore_takes_every_hsm_form(form):
    base = {"folder_url": f"{CONTAINER}/{FOLDER}", "mint_sas": True, "mhsm_dns_suffix": MHSM}
    assert resolve_restore_target(**base, **form)[0].hsm_url.startswith("https://")


def test_create_can_mint_a_sas():
    target, _ = resolve_target(hsm_name="myhsm", storage_container_uri=CONTAINER, mint_sas=True, mhsm_dns_suffix=MHSM)
    assert target.storage_auth == "mintedSas"


OTHER_SAS_URL = "https://acct.blob.core.windows.net/other?sp=rl&sig=abcd"


def test_a_sas_url_for_another_container_is_refused_by_restore_and_list():
    refused(InvalidValue, restore, folder_url=f"{CONTAINER}/{FOLDER}", mint_sas=None, sas_token=OTHER_SAS_URL)
    refused(InvalidValue, resolve_storage_target, storage_container_uri=CONTAINER, sas_token=OTHER_SAS_URL)


def test_list_accepts_a_list_only_sas_by_default():
    assert resolve_storage_target(storage_container_uri=CONTAINER, sas_token="sp=l&sig=abcd")[0].storage_auth == "sas"


def test_a_uri_with_both_container_names_names_both_joined():
    message = refused(ConflictingValues, resolve_container_uri, "acct", "backups", CONTAINER, STORAGE)
    assert "with --storage-account-name and --storage-container-name:" in message


def test_the_storage_identity_flag_is_checked_under_its_own_name():
    message = refused(InvalidValue, resolve_storage_auth, None, "maybe", None, CONTAINER, needed_permissions="l")
    assert message.startswith("--use-user-managed-identity 'maybe' ")


def test_the_hsms_own_identity_for_the_storage_commands():
    uri = "https://acct.blob.core.windows.net/backups"
    target, warnings = resolve_storage_target(
        storage_container_uri=uri, use_managed_identity="true", mhsm_dns_suffix=MHSM, backup_folder=FOLDER
    )
    assert (target.storage_auth, target.sas_token, target.folder, target.mhsm_dns_suffix, warnings) == (
        "managedIdentity",
        None,
        FOLDER,
        MHSM,
        [],
    )
    assert (
        resolve_storage_target(storage_container_uri=uri, use_managed_identity="false")[0].storage_auth == "mintedSas"
    )
    with pytest.raises(InvalidValue) as info:
        resolve_storage_target(storage_container_uri=uri, use_managed_identity="maybe")
    assert info.value.error_msg.startswith("--use-user-managed-identity 'maybe'")
    with pytest.raises(ConflictingValues) as info:
        resolve_storage_target(storage_container_uri=uri, use_managed_identity="true", sas_token="sv=1&sp=l&sig=x")
    assert info.value.error_msg == (
        "--sas-token and --use-user-managed-identity cannot be used together: with the HSMs' own identities for "
        "their checks, you reach storage as your signed-in identity; leave --sas-token out."
    )


def test_the_storage_access_refusals_word_for_word():
    uri = "https://acct.blob.core.windows.net/backups"
    with pytest.raises(MissingValue) as info:
        target_model.resolve_storage_auth(None, None, None, uri, needed_permissions="crdw")
    assert info.value.error_msg == (
        "No storage access given: pass --sas-token (e.g. --sas-token @token.txt), --use-user-managed-identity (the "
        "HSM's own user-assigned identity), or --mint-sas (a short-lived SAS minted from your signed-in identity)."
    )
    with pytest.raises(ConflictingValues) as info:
        target_model.resolve_storage_auth("sv=1&sig=x", "true", None, uri, needed_permissions="crdw")
    assert info.value.error_msg == (
        "--sas-token and --use-user-managed-identity cannot be used together: storage is reached with a SAS token "
        "or with the HSM's user-assigned managed identity."
    )
    with pytest.raises(InvalidValue) as info:
        target_model.resolve_storage_auth(None, "true", None, uri, needed_permissions="l", hsm_side=False)
    assert info.value.error_msg == (
        "--use-user-managed-identity is the HSM's identity and this command runs as you: pass --sas-token, or leave "
        "it out to use your signed-in identity."
    )


def test_the_folder_refusals_word_for_word():
    with pytest.raises(ConflictingValues) as info:
        target_model.resolve_folder(
            "https://a.blob.core.windows.net/c/" + FOLDER, FOLDER, None, None, None, storage_endpoint_suffix=STORAGE
        )
    assert info.value.error_msg == (
        "--folder-url and --backup-folder cannot be used together: give the folder URL, or the folder name with the "
        "container."
    )
    with pytest.raises(MissingValue) as info:
        target_model.resolve_folder(None, None, None, None, None, storage_endpoint_suffix=STORAGE)
    assert info.value.error_msg == (
        "No backup folder given: pass --folder-url (the folderUrl create printed), or --backup-folder with the "
        "container."
    )
