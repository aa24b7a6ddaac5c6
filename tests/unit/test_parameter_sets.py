"""Every combination of the create flags, against the parameter-set rules of Backup-AzKeyVault stated here."""

import itertools
import json
from datetime import datetime, timedelta, timezone

import pytest

from azext_hsmbackup.model.bounds import bounded_number, three_state
from azext_hsmbackup.model.names import check_api_version, check_job_id
from azext_hsmbackup.model.problems import ConflictingValues, InvalidValue, MissingValue
from azext_hsmbackup.model.target import resolve_target

FUTURE = (datetime.now(timezone.utc) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
SAS = f"sv=2026-04-06&sr=c&sp=crdw&se={FUTURE}&sig=abc%2Bdef%3D"
HSM_OBJECT = json.dumps(
    {
        "name": "objhsm",
        "type": "Microsoft.KeyVault/managedHSMs",
        "properties": {"hsmUri": "https://objhsm.managedhsm.azure.net/"},
    }
)
VALUES = {
    "hsm_name": "myhsm",
    "hsm_object": HSM_OBJECT,
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


# ---- --id: resource IDs are parsed exactly -----------------------------------------------------------------

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


# ---- --hsm-object: az keyvault show, and PowerShell's PSManagedHsm as ConvertTo-Json writes it ---------------

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


# ---- Empty values are bad input naming their flag, never "not given" ------------------------------------------


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


# ---- Options outside the parameter sets -------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [("5", 5.0), (" 0.1 ", 0.1), ("3600", 3600.0), ("1e2", 100.0), (2, 2.0), (0.5, 0.5), ("+7", 7.0)],
)
def test_bounded_number_accepts(value, expected):
    assert bounded_number(value, "--polling-interval", 0.1, 3600) == expected


@pytest.mark.parametrize(
    "value, why",
    [
        ("", "not a number"),
        ("  ", "not a number"),
        ("abc", "not a number"),
        ("5s", "not a number"),
        ("0x10", "not a number"),
        ("1_000", "not a number"),
        ("nan", "not a number"),
        ("inf", "not a number"),
        ("1e999", "out of range"),
        (float("nan"), "not a finite number"),
        (float("inf"), "not a finite number"),
        (-float("inf"), "not a finite number"),
        ("0", "out of range"),
        ("-1", "out of range"),
        ("0.01", "out of range"),
        ("3600.5", "out of range"),
        ("9" * 400, "out of range"),
        (True, "not a number"),
        ([5], "not a number"),
        (None, "not a number"),
    ],
)
def test_bounded_number_refuses_with_flag_range_and_fix(value, why):
    with pytest.raises(InvalidValue) as info:
        bounded_number(value, "--polling-interval", 0.1, 3600, example=5)
    message = info.value.error_msg
    assert message.startswith("--polling-interval") and why in message
    assert "from 0.1 to 3600" in message and "e.g. --polling-interval 5" in message
    assert all(c.isprintable() for c in message) and len(message) < 300


@pytest.mark.parametrize("value, why", [("2.5", "not a whole number"), (2.5, "not a whole number"), ("1e3", "whole")])
def test_bounded_whole_number(value, why):
    assert bounded_number("7", "--keep", 1, 1000, kind=int, unit="backups") == 7
    with pytest.raises(InvalidValue) as info:
        bounded_number(value, "--keep", 1, 1000, kind=int, unit="backups")
    assert why in info.value.error_msg and "a whole number of backups from 1 to 1000" in info.value.error_msg


@pytest.mark.parametrize(
    "value", ["7.2", "7.6", "7.6-preview.2", "7.5-preview.1", "2025-07-01", "2026-01-01-preview", " 7.6 "]
)
def test_api_versions_of_every_form_are_accepted(value):
    assert check_api_version(value) == value.strip()


@pytest.mark.parametrize(
    "value",
    ["", " ", "latest", "7", "7.", "7.x", "8.0", "v7.6", "7.6-preview", "7.6-Preview.2", "2025-7-1", "2025-13-01",
     "2025-02-30", "2025-07-01-beta", "7.6\n1", "7.6&x=1", "1" * 200],
)  # fmt: skip
def test_strings_that_are_not_api_versions_are_refused(value):
    with pytest.raises(InvalidValue) as info:
        check_api_version(value)
    message = info.value.error_msg
    assert message.startswith("--api-version") and ("7.x-preview.N" in message or "empty" in message)
    assert all(c.isprintable() for c in message)


@pytest.mark.parametrize("value", ["", " ", "0", "g" * 32, "a" * 31, "a" * 33, "a" * 32 + "\n" + "b", "-" * 32])
def test_bad_job_ids(value):
    with pytest.raises(InvalidValue) as info:
        check_job_id(value)
    assert info.value.error_msg.startswith("--job-id") and "32 hex digits" in info.value.error_msg


def test_job_id_is_trimmed_and_lower_cased():
    assert check_job_id(" " + "AB" * 16 + "\n") == "ab" * 16


@pytest.mark.parametrize(
    "value, expected", [(None, None), ("true", True), ("TRUE", True), ("false", False), (" False ", False)]
)
def test_three_state_flag_values(value, expected):
    assert three_state(value, "--mi") is expected


@pytest.mark.parametrize("value", ["", "yes", "1", "abc", "truee"])
def test_three_state_flag_refuses_other_words(value):
    with pytest.raises(InvalidValue) as info:
        three_state(value, "--use-user-managed-identity")
    assert info.value.error_msg.startswith("--use-user-managed-identity") and "true or false" in info.value.error_msg


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
