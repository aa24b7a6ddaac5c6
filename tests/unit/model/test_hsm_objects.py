"""An HSM as JSON (model/hsm_objects.py): its URL, its resource ID, and what its ARM record says of whether it can be
backed up."""

import json

import pytest

from azext_hsmbackup.model import fleet, hsm_objects
from azext_hsmbackup.model.hsm_objects import hsm_url_from_object
from azext_hsmbackup.model.problems import InvalidValue
from tests.unit.fakes import MHSM, SUBSCRIPTION, record, refused


def test_a_ready_hsm_is_not_skipped_with_or_without_its_identity():
    assert hsm_objects.skip_reason(record("h1"), use_managed_identity=True) is None
    assert hsm_objects.skip_reason(record("h1", state="Activated"), use_managed_identity=False) is None
    assert hsm_objects.skip_reason(record("h1", identity=None), use_managed_identity=False) is None  # SAS: no identity


@pytest.mark.parametrize("activation", ["NotActivated", "Unknown", "Failed", "active-ish"])
def test_an_hsm_whose_security_domain_is_not_active_is_skipped(activation):
    reason = hsm_objects.skip_reason(record("h1", activation=activation), use_managed_identity=False)
    assert f"security domain is '{activation}', not Active" in reason


@pytest.mark.parametrize(
    "state", ["Provisioning", "Updating", "Deleting", "Failed", "Restoring", "SecurityDomainRestore"]
)
def test_an_hsm_not_provisioned_is_skipped(state):
    assert f"provisioningState is '{state}'" in hsm_objects.skip_reason(record("h1", state=state), False)


@pytest.mark.parametrize("identity", [None, {}, {"type": "SystemAssigned", "principalId": "p"}, {"type": "None"}])
def test_managed_identity_needs_a_user_assigned_one(identity):
    reason = hsm_objects.skip_reason(record("h1", identity=identity), use_managed_identity=True)
    assert "user-assigned managed identity" in reason and "--use-user-managed-identity" in reason


def test_case_of_the_states_does_not_matter_and_an_object_without_a_record_is_not_judged():
    rec = record("h1", activation="ACTIVE", state="succeeded")
    assert hsm_objects.skip_reason(rec, True) is None
    assert hsm_objects.skip_reason({"name": "h1", "type": "Microsoft.KeyVault/managedHSMs"}, True) is None
    ps = {"Name": "h1", "OriginalManagedHsm": {"Properties": {"ProvisioningState": "Provisioning"}}}
    assert "Provisioning" in hsm_objects.skip_reason(ps, False)  # PowerShell keeps the ARM record inside


def test_a_hostile_value_in_a_record_is_quoted_escaped_and_cut():
    reason = hsm_objects.skip_reason(record("h1", state="Bad\x1b[2J" + "x" * 500), False)
    assert reason.isprintable() and "\x1b" not in reason and len(reason) < 200


def test_a_json_array_exactly_at_the_size_limit_is_read():
    items = json.dumps([{"hsmUrl": "https://a.managedhsm.azure.net", "jobId": "0" * 31 + "1"}])
    text = items + " " * (hsm_objects.MAX_HSM_OBJECT_CHARS - len(items))
    assert len(text) == hsm_objects.MAX_HSM_OBJECT_CHARS and len(fleet.members_from_jobs(text)) == 1


def record_with(**props):
    return {"name": "h1", "type": "Microsoft.KeyVault/managedHSMs", "properties": props}


SKIPS = [
    (
        record_with(securityDomainProperties={"activationStatus": "NotActivated"}),
        False,
        "Its security domain is 'NotActivated', not Active: the HSM holds no keys to back up until it is activated "
        "(az keyvault security-domain download).",
    ),
    (
        record_with(provisioningState="Updating"),
        True,
        "provisioningState is 'Updating', not Succeeded: back it up once it is provisioned.",
    ),
    (
        record_with(),
        True,
        "It has no user-assigned managed identity, which --use-user-managed-identity needs: assign one with "
        "'Storage Blob Data Contributor' on the container, or use --sas-token or --mint-sas.",
    ),
]


@pytest.mark.parametrize("obj, use_mi, reason", SKIPS, ids=["inactive", "provisioning", "no-identity"])
def test_the_reason_an_hsm_is_skipped(obj, use_mi, reason):
    assert hsm_objects.skip_reason(obj, use_mi) == reason


HSM_OBJECT = {
    "type": "Microsoft.KeyVault/managedHSMs",
    "name": "myhsm",
    "properties": {"hsmUri": "https://MyHsm.managedhsm.azure.net/"},
}


def test_an_hsm_object_gives_its_uri():
    assert hsm_url_from_object(json.dumps(HSM_OBJECT), MHSM) == "https://myhsm.managedhsm.azure.net"
    assert hsm_url_from_object(json.dumps([HSM_OBJECT]), MHSM) == "https://myhsm.managedhsm.azure.net"


def test_an_hsm_object_with_the_uri_at_the_top_and_any_case_of_keys():
    obj = {"ResourceType": "Microsoft.KeyVault/managedHSMs", "HsmUri": "https://other.managedhsm.azure.net"}
    assert hsm_url_from_object(json.dumps(obj), MHSM) == "https://other.managedhsm.azure.net"
    upper = {"TYPE": "microsoft.keyvault/managedhsms", "PROPERTIES": {"HSMURI": "https://up.managedhsm.azure.net"}}
    assert hsm_url_from_object(json.dumps(upper), MHSM) == "https://up.managedhsm.azure.net"


@pytest.mark.parametrize("key", ["name", "VaultName"])
def test_an_hsm_object_without_a_uri_gives_the_url_of_its_name(key):
    obj = {"type": "Microsoft.KeyVault/managedHSMs", key: "named1", "properties": {"hsmUri": None}}
    assert hsm_url_from_object(json.dumps(obj), MHSM) == "https://named1.managedhsm.azure.net"


def test_an_hsm_object_that_is_already_parsed_is_read_as_it_is():
    assert hsm_url_from_object(HSM_OBJECT, MHSM) == "https://myhsm.managedhsm.azure.net"


@pytest.mark.parametrize(
    ("obj", "said"),
    [
        ({"type": "Microsoft.KeyVault/vaults", "name": "v"}, "'microsoft.keyvault/vaults'"),
        ({"resourceType": "Microsoft.Storage/x", "name": "v"}, "'microsoft.storage/x'"),
        ({"name": "v"}, "without a type"),
        ([HSM_OBJECT, HSM_OBJECT], "one JSON object"),
        ({"type": "Microsoft.KeyVault/managedHSMs", "properties": {"hsmUri": 5}}, "hsmUri that is not text (int)"),
        ({"type": "Microsoft.KeyVault/managedHSMs", "name": 7}, "name that is not text (int)"),
        ({"type": "Microsoft.KeyVault/managedHSMs"}, "neither"),
    ],
    ids=["key vault", "resource type", "no type", "two objects", "uri not text", "name not text", "no uri nor name"],
)
def test_an_hsm_object_that_is_not_one_managed_hsm_is_refused_saying_what_it_is(obj, said):
    message = refused(InvalidValue, hsm_url_from_object, json.dumps(obj), MHSM)
    assert message.startswith("--hsm-object ") and said in message


def test_an_hsm_uri_in_the_object_is_checked_under_its_own_name():
    obj = {"type": "Microsoft.KeyVault/managedHSMs", "properties": {"hsmUri": "http://plain.example"}}
    message = refused(InvalidValue, hsm_url_from_object, json.dumps(obj), MHSM)
    assert message.startswith("--hsm-object hsmUri ") and "https" in message


def test_an_hsm_object_that_is_no_json_says_where():
    message = refused(InvalidValue, hsm_url_from_object, '{"type": ', MHSM)
    assert message.startswith("--hsm-object is not valid JSON") and "line 1 column" in message


def hsm_id(kind="managedHSMs", name="h1x"):
    return f"/subscriptions/{SUBSCRIPTION}/resourceGroups/g/providers/Microsoft.KeyVault/{kind}/{name}"


@pytest.mark.parametrize(
    ("obj", "key"),
    [
        ({"id": "/bad", "name": "h1x"}, "id"),
        ({"ResourceId": "/bad", "Name": "h1x"}, "ResourceId"),
        ({"Name": "h1x", "OriginalManagedHsm": {"id": "/bad"}}, "id"),
    ],
)
def test_a_bad_resource_id_in_an_hsm_object_is_named_by_its_key(obj, key):
    assert refused(InvalidValue, hsm_url_from_object, obj, MHSM).startswith(f"--hsm-object {key} '/bad' ")


@pytest.mark.parametrize(
    "obj",
    [
        {"id": hsm_id("vaults"), "name": "h1x"},
        {"ResourceId": hsm_id("vaults"), "Name": "h1x"},
        {"Name": "h1x", "OriginalManagedHsm": {"id": hsm_id("vaults")}},
    ],
)
def test_an_hsm_object_whose_resource_id_is_a_vault_is_refused(obj):
    message = refused(InvalidValue, hsm_url_from_object, obj, MHSM)
    assert "'microsoft.keyvault/vaults'" in message


def test_a_powershell_hsm_object_gives_the_url_of_its_name_or_of_the_original():
    assert hsm_url_from_object({"ResourceId": hsm_id(), "Name": "h1x"}, MHSM) == "https://h1x.managedhsm.azure.net"
    original = {"OriginalManagedHsm": {"id": hsm_id(), "name": "orig1"}}
    assert hsm_url_from_object(original, MHSM) == "https://orig1.managedhsm.azure.net"


def test_an_hsm_object_with_two_names_shows_both():
    message = refused(InvalidValue, hsm_url_from_object, {"id": hsm_id(), "name": "aaa", "VaultName": "bbb"}, MHSM)
    assert "'aaa' and 'bbb'" in message


@pytest.mark.parametrize(
    "obj",
    [{"id": hsm_id()}, "[" * 100000 + "]" * 100000, "x" * 1_000_001],
    ids=["neither uri nor name", "nested too deeply", "too large"],
)
def test_an_hsm_object_refusal_offers_the_command_that_prints_one(obj):
    with pytest.raises(InvalidValue) as info:
        hsm_url_from_object(obj, MHSM)
    assert info.value.recommendations[0].startswith("Pass the output of `az keyvault show --hsm-name NAME`")


def test_an_hsm_object_of_exactly_the_largest_size_is_read():
    text = json.dumps({"type": "Microsoft.KeyVault/managedHSMs", "name": "h1x", "pad": ""})
    text = text.replace('"pad": ""', '"pad": "' + "x" * (1_000_000 - len(text)) + '"')
    assert len(text) == 1_000_000 and hsm_url_from_object(text, MHSM) == "https://h1x.managedhsm.azure.net"


def test_an_hsm_object_without_a_type_says_a_resource_id_would_do():
    assert "without a type or resource ID" in refused(InvalidValue, hsm_url_from_object, {"name": "h1x"}, MHSM)
