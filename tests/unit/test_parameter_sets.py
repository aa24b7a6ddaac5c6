"""Every combination of the create flags, against the parameter-set rules of Backup-AzKeyVault stated here."""

import itertools
import json
from datetime import datetime, timedelta, timezone

import pytest
from azure.cli.core.azclierror import (
    InvalidArgumentValueError,
    MutuallyExclusiveArgumentError,
    RequiredArgumentMissingError,
)

from azext_hsmbackup._validators import resolve_target

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
SUFFIXES = {"mhsm_dns_suffix": ".managedhsm.azure.net", "storage_endpoint_suffix": "core.windows.net"}


def expected(given):
    """The rules, written independently of the implementation: (error class, flags the message must name)."""
    hsm = [f for f in ("hsm_name", "hsm_object", "hsm_id") if f in given]
    if not hsm:
        return RequiredArgumentMissingError, ["--hsm-name", "--hsm-object", "--id"]
    if len(hsm) > 1:
        return MutuallyExclusiveArgumentError, [FLAG[f] for f in hsm]
    account, container, uri = (
        f in given for f in ("storage_account_name", "storage_container_name", "storage_container_uri")
    )
    if uri and (account or container):
        return MutuallyExclusiveArgumentError, ["--storage-container-uri"] + [
            FLAG[f] for f in ("storage_account_name", "storage_container_name") if f in given
        ]
    if account and not container:
        return RequiredArgumentMissingError, ["--storage-account-name", "--storage-container-name"]
    if container and not account:
        return RequiredArgumentMissingError, ["--storage-container-name", "--storage-account-name"]
    if not (uri or account):
        return RequiredArgumentMissingError, ["--storage-container-uri", "--storage-account-name"]
    sas, mi = "sas_token" in given, "use_managed_identity" in given
    if sas and mi:
        return MutuallyExclusiveArgumentError, ["--sas-token", "--use-user-managed-identity"]
    if not (sas or mi):
        return RequiredArgumentMissingError, ["--sas-token", "--use-user-managed-identity"]
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
    with pytest.raises(RequiredArgumentMissingError):
        resolve_target(
            hsm_name="myhsm",
            storage_container_uri=VALUES["storage_container_uri"],
            use_managed_identity=value == "true",
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
    with pytest.raises(InvalidArgumentValueError) as info:
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
    with pytest.raises(InvalidArgumentValueError) as info:
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
    rid = "/subscriptions/x/resourceGroups/rg/providers/Microsoft.KeyVault/managedHSMs/ridhsm"
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
