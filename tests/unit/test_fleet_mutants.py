"""What `make mutation MODULE=fleet` found held by nothing: the exact lines a user reads (the skip reasons and the
errors of the several-HSM flags), ARM's odd answers, and the small joins (resource IDs, target_for, ARM's records)."""

import json
from types import SimpleNamespace
from unittest import mock

import pytest
from azure.cli.core import azclierror
from azure.core.exceptions import HttpResponseError, ServiceRequestError

from azext_hsmbackup.errors import ExitWith
from azext_hsmbackup.model import fleet, hsm_objects
from azext_hsmbackup.model import names as names_model
from azext_hsmbackup.model import target as target_model
from azext_hsmbackup.model.fleet import Member
from azext_hsmbackup.model.problems import Problem
from azext_hsmbackup.service import arm

MHSM = ".managedhsm.azure.net"
SUB = "6a1c9e2b-4d3f-4b8a-9c7e-112233445566"
RID = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/managedHSMs/"


def message(call, *args):
    with pytest.raises(Problem) as info:
        call(*args)
    return info.value.error_msg


# The lines, word for word: each names the flag, says what is wrong and what to give instead.
LINES = [
    (names_model.check_resource_group, ("",), "--resource-group is empty: give the name of a resource group."),
    (
        names_model.check_resource_group,
        ("rg/x",),
        "--resource-group 'rg/x' is not a resource group name: 1-90 letters, digits, '-', '_', '.' and '()', not "
        "ending with '.'.",
    ),
    (fleet.members_from_ids, ([""], MHSM), "--ids is empty: give HSM URLs or resource IDs."),
    (fleet.members_from_ids, (5, MHSM), "--ids must be text: give HSM URLs or resource IDs."),
    (
        fleet.members_from_array,
        ("  ", MHSM, False),
        "--hsm-object is empty: give the output of `az keyvault list --resource-type hsm`, inline, as @file.json, or "
        "- for stdin.",
    ),
    (
        fleet.members_from_array,
        ("[1]", MHSM, False),
        "--hsm-object item 0 is '1', not an object: pass the output of `az keyvault list --resource-type hsm`.",
    ),
    (
        fleet.members_from_array,
        ("[{", MHSM, False),
        "--hsm-object is not valid JSON (Expecting property name enclosed in double quotes at line 1 column 3): "
        "pass the output of `az keyvault list --resource-type hsm`.",
    ),
    (
        fleet.members_from_jobs,
        ("  ",),
        "--jobs is empty: give the JSON array that `az hsm-backup create --no-wait` printed, inline, as "
        "@file.json, or - for stdin.",
    ),
    (
        fleet.members_from_jobs,
        ("[" + " " * hsm_objects.MAX_HSM_OBJECT_CHARS,),
        "--jobs is 1000001 characters long, too large for a list of HSMs: pass a few hundred at most.",
    ),
    (
        fleet.members_from_jobs,
        ('[{"hsmUrl": "https://a.managedhsm.azure.net", "jobId": "x"}, 3]',),
        "--jobs item 1 is '3', not an object: pass the JSON array that `az hsm-backup create --no-wait` printed.",
    ),
]


@pytest.mark.parametrize("call, args, line", LINES, ids=range(len(LINES)))
def test_the_line_the_user_reads(call, args, line):
    assert message(call, *args) == line


def test_a_json_array_exactly_at_the_size_limit_is_read():
    items = json.dumps([{"hsmUrl": "https://a.managedhsm.azure.net", "jobId": "0" * 31 + "1"}])
    text = items + " " * (hsm_objects.MAX_HSM_OBJECT_CHARS - len(items))
    assert len(text) == hsm_objects.MAX_HSM_OBJECT_CHARS and len(fleet.members_from_jobs(text)) == 1


def record(**props):
    return {"name": "h1", "type": "Microsoft.KeyVault/managedHSMs", "properties": props}


SKIPS = [
    (
        record(securityDomainProperties={"activationStatus": "NotActivated"}),
        False,
        "Its security domain is 'NotActivated', not Active: the HSM holds no keys to back up until it is activated "
        "(az keyvault security-domain download).",
    ),
    (
        record(provisioningState="Updating"),
        True,
        "provisioningState is 'Updating', not Succeeded: back it up once it is provisioned.",
    ),
    (
        record(),
        True,
        "It has no user-assigned managed identity, which --use-user-managed-identity needs: assign one with "
        "'Storage Blob Data Contributor' on the container, or use --sas-token or --mint-sas.",
    ),
]


@pytest.mark.parametrize("obj, use_mi, reason", SKIPS, ids=["inactive", "provisioning", "no-identity"])
def test_the_reason_an_hsm_is_skipped(obj, use_mi, reason):
    assert hsm_objects.skip_reason(obj, use_mi) == reason


def test_resource_ids_come_from_id_resource_id_or_the_arm_record_inside():
    assert fleet.member_from_object(record(hsmUri=f"https://hs1{MHSM}"), MHSM, False, "f").resource_id is None
    az = {**record(hsmUri=f"https://hs1{MHSM}"), "id": RID + "hs1"}
    assert fleet.member_from_object(az, MHSM, False, "f").resource_id == RID + "hs1"
    ps = {"Name": "hs1", "ResourceId": RID + "hs1"}
    assert fleet.member_from_object(ps, MHSM, False, "f").resource_id == RID + "hs1"
    inner = {"Name": "hs1", "OriginalManagedHsm": {"Id": RID + "hs1", "Type": "Microsoft.KeyVault/managedHSMs"}}
    inner["OriginalManagedHsm"]["Properties"] = {"HsmUri": f"https://hs1{MHSM}"}
    assert fleet.member_from_object(inner, MHSM, False, "f").resource_id == RID + "hs1"
    assert hsm_objects.resource_id({"id": 5, "ResourceId": "not/leading"}) is None  # only an ARM path counts


def test_target_for_gives_the_member_the_fleets_storage():
    storage = target_model.Target(None, None, "https://a.blob.core.windows.net/c", "sas", "sv=1&sig=x")
    target = fleet.Fleet((), storage=storage).target_for(Member(f"https://h1{MHSM}", "h1"))
    assert (target.hsm_url, target.hsm_name, target.container_uri, target.storage_auth, target.sas_token) == (
        f"https://h1{MHSM}",
        "h1",
        "https://a.blob.core.windows.net/c",
        "sas",
        "sv=1&sig=x",
    )
    bare = fleet.Fleet(()).target_for(Member(f"https://h2{MHSM}", "h2"))  # wait: no storage
    assert (bare.hsm_url, bare.hsm_name, bare.container_uri) == (f"https://h2{MHSM}", "h2", None)


def test_arm_records_resolve_with_the_cloud_suffix_and_the_identity_rule():
    by_name = {"name": "hs7", "type": "Microsoft.KeyVault/managedHSMs", "id": RID + "hs7", "properties": {}}
    (member,) = fleet.members_from_records([by_name], MHSM, True)
    assert member.hsm_url == f"https://hs7{MHSM}" and "user-assigned" in member.skip_reason
    (member,) = fleet.members_from_records([by_name], MHSM, False)
    assert member.skip_reason is None
    (broken,) = fleet.members_from_records([{"type": "Microsoft.KeyVault/managedHSMs", "properties": {}}], MHSM, False)
    assert broken.hsm_name == "?" and broken.skip_reason.startswith("ARM's record cannot be used: ARM's record of ?")


def test_each_hsm_once_keys_on_url_then_resource_id_then_name():
    given = [
        Member(None, "x", RID + "h1"),
        Member(None, "y", RID.upper() + "H1"),
        Member(None, "n1"),
        Member(None, "N1"),
    ]
    given.append(Member(f"https://A{MHSM}", "a"))
    given.append(Member(f"https://a{MHSM}", "a"))
    assert [m.hsm_name for m in fleet.distinct(given)] == ["x", "n1", "a"]


def test_jobs_entries_keep_a_text_resource_id_and_the_hsm_name():
    text = json.dumps([{"hsmUrl": f"https://Ab1{MHSM}/", "jobId": "0" * 31 + "1", "resourceId": RID + "ab1"}])
    (member,) = fleet.members_from_jobs(text)
    assert (member.hsm_url, member.hsm_name, member.resource_id) == (f"https://ab1{MHSM}", "ab1", RID + "ab1")
    text = json.dumps(
        [
            {"hsmUrl": f"https://ab1{MHSM}", "status": "Skipped", "resourceId": 7},
            {"hsmUrl": f"https://ab2{MHSM}", "jobId": "0" * 31 + "1"},
        ]
    )
    assert fleet.members_from_jobs(text)[0].resource_id is None


# ---- ARM's answers ------------------------------------------------------------------------------------------


def listed(error, group=None):
    def refuse():
        raise error

    hsms = SimpleNamespace(list_by_subscription=refuse, list_by_resource_group=lambda _: refuse())
    client = SimpleNamespace(managed_hsms=hsms)
    with (
        mock.patch("azure.cli.core.commands.client_factory.get_mgmt_service_client", return_value=client),
        mock.patch.object(azclierror.AzCLIError, "print_error"),
        mock.patch.object(azclierror.AzCLIError, "send_telemetry"),
        pytest.raises(ExitWith) as info,
    ):
        arm.list_managed_hsms("CTX", group)
    return info.value


def arm_error(status, code="Code", message="text", reason="R"):
    response = SimpleNamespace(status_code=status, reason=reason, headers={}, text=lambda: "", request=None)
    error = HttpResponseError(message="raw words", response=response)
    error.error = SimpleNamespace(code=code, message=message) if code or message else None
    return error


@pytest.mark.parametrize(
    "status, line, code",
    [
        (
            401,
            "ARM refused to list the Managed HSMs of the subscription (401): (Code) text Sign in again: az login.",
            5,
        ),
        (
            403,
            "ARM refused to list the Managed HSMs of the subscription (403): (Code) text The signed-in identity needs "
            "the Reader role (Microsoft.KeyVault/managedHSMs/read) there.",
            5,
        ),
        (
            404,
            "ARM refused to list the Managed HSMs of the subscription (404): (Code) text Check the resource group (-g) "
            "and the subscription (--subscription, az account show).",
            3,
        ),
        (429, "ARM refused to list the Managed HSMs of the subscription (429): (Code) text", 1),
    ],
)
def test_arm_refusals_are_one_line_with_the_fix(status, line, code):
    stop = listed(arm_error(status))
    assert (stop.error.error_msg, stop.code) == (line, code)


def test_an_arm_error_without_a_code_says_the_message_or_the_reason():
    stop = listed(arm_error(502, code=None, message=None, reason="Bad Gateway"), group="g")
    assert stop.error.error_msg == "ARM refused to list the Managed HSMs of resource group g (502): Bad Gateway"
    stop = listed(arm_error(500, code="E", message=None, reason="Oops"))
    assert stop.error.error_msg.endswith("(500): (E) Oops")


def test_arm_out_of_reach_is_exit_7():
    stop = listed(ServiceRequestError("refused\nmore"))
    assert (stop.error.error_msg, stop.code) == ("Cannot reach ARM to list the Managed HSMs: refused more", 7)
