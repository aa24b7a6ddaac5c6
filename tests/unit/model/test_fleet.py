"""Several HSMs in one command (model/fleet.py): which ones (a JSON array, --ids, --jobs, ARM's records), each once, and
the parameter sets of create and wait that name several."""

import json

import pytest

from azext_hsmbackup.model import fleet, hsm_objects
from azext_hsmbackup.model import names as names_model
from azext_hsmbackup.model import target as target_model
from azext_hsmbackup.model.fleet import Member
from azext_hsmbackup.model.problems import ConflictingValues, InvalidValue, MissingValue, Problem
from tests.unit.fakes import CONTAINER, JOB, MHSM, SUB, record, rid


def test_a_json_array_gives_members_in_its_order_with_resource_ids_and_skips():
    text = json.dumps([record("h2"), record("h1", activation="NotActivated"), record("h3", identity=None)])
    members = fleet.members_from_array(text, MHSM, use_managed_identity=True)
    assert [(m.hsm_name, m.hsm_url, m.resource_id) for m in members] == [
        (n, f"https://{n}{MHSM}", rid(n)) for n in ("h2", "h1", "h3")
    ]
    assert [bool(m.skip_reason) for m in members] == [False, True, True]


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("[]", "empty JSON array"),
        ("[1]", "item 0"),
        ('[{"name": "h1", "type": "Microsoft.KeyVault/managedHSMs"}, "x"]', "item 1"),
        ("[{", "not valid JSON"),
        ('{"a": 1}', "not a JSON array"),
        ("[" * 100000, "nested too deeply"),
        ("  ", "empty"),
        (json.dumps([record("h1")] * 400) + " " * hsm_objects.MAX_HSM_OBJECT_CHARS, "too large"),
        (json.dumps([{"type": "Microsoft.KeyVault/vaults", "name": "kv"}]), "item 0"),
    ],
)
def test_a_bad_array_is_one_error_naming_the_flag(text, fragment):
    with pytest.raises(InvalidValue) as info:
        fleet.members_from_array(text, MHSM, False)
    assert info.value.error_msg.startswith("--hsm-object") and fragment in info.value.error_msg


def test_ids_take_urls_and_resource_ids_as_values_or_one_whitespace_separated_value():
    members = fleet.members_from_ids([f"https://a{MHSM}", f"{rid('bbb')}\nhttps://C{MHSM}/x"], MHSM)
    assert [(m.hsm_name, m.resource_id) for m in members] == [("a", None), ("bbb", rid("bbb")), ("c", None)]
    assert fleet.members_from_ids(f"https://a{MHSM}", MHSM)[0].hsm_url == f"https://a{MHSM}"


@pytest.mark.parametrize(
    "values",
    [[""], ["  "], [f"http://a{MHSM}"], ["/subscriptions/x"], [rid("kv").replace("managedHSMs", "vaults")], [5]],
)
def test_a_bad_id_names_ids(values):
    with pytest.raises(InvalidValue) as info:
        fleet.members_from_ids(values, MHSM)
    assert info.value.error_msg.startswith("--ids")


def test_each_hsm_once_in_the_order_first_given_whatever_its_case():
    members = [Member(f"https://a{MHSM}", "a"), Member(f"https://B{MHSM}", "b"), Member(f"https://A{MHSM}", "a2")]
    members.append(Member(f"https://b{MHSM}", "b2"))
    assert [m.hsm_name for m in fleet.distinct(members)] == ["a", "b"]
    jobs = [Member(f"https://a{MHSM}", "a", job_id=JOB), Member(f"https://a{MHSM}", "a", job_id="1" * 32)]
    assert len(fleet.distinct(jobs + jobs)) == 2  # wait: each (HSM, job) once


def test_jobs_array_waits_for_started_jobs_and_carries_the_others():
    text = json.dumps(
        [
            {"hsmUrl": f"https://a{MHSM}", "jobId": JOB.upper(), "resourceId": rid("a"), "status": "InProgress"},
            {"hsmUrl": f"https://b{MHSM}", "jobId": None, "status": "Skipped", "reason": "not active"},
            {"hsmUrl": f"https://c{MHSM}", "status": "Busy", "error": {"code": "Conflict", "message": "m"}},
        ]
    )
    a, b, c = fleet.members_from_jobs(text)
    assert (a.job_id, a.resource_id, a.carried) == (JOB, rid("a"), None)
    assert b.carried == {"status": "Skipped", "reason": "not active", "error": None} and b.job_id is None
    assert c.carried["error"]["code"] == "Conflict"


@pytest.mark.parametrize(
    "items, fragment",
    [
        ([{"jobId": JOB}], "item 0 has no hsmUrl"),
        ([{"hsmUrl": f"https://a{MHSM}", "jobId": JOB}, {"hsmUrl": "ftp://b", "jobId": JOB}], "item 1 hsmUrl"),
        ([{"hsmUrl": f"https://a{MHSM}", "jobId": "xyz"}], "item 0 jobId"),
        ([], "empty JSON array"),
        (["x"], "item 0"),
    ],
)
def test_a_bad_jobs_array_names_the_item(items, fragment):
    with pytest.raises(InvalidValue) as info:
        fleet.members_from_jobs(json.dumps(items))
    assert info.value.error_msg.startswith("--jobs") and fragment in info.value.error_msg


def test_a_record_arm_lists_that_cannot_be_read_is_skipped_not_fatal():
    broken = {"name": "h9", "id": rid("h9"), "type": "Microsoft.KeyVault/managedHSMs", "properties": {"hsmUri": "x"}}
    members = fleet.members_from_records([record("h1"), broken], MHSM, False)
    assert members[0].skip_reason is None and "cannot be used" in members[1].skip_reason
    assert members[1].resource_id == rid("h9") and members[1].hsm_url is None


def create(**values):
    base = {"storage_container_uri": CONTAINER, "use_managed_identity": "true", "mhsm_dns_suffix": MHSM}
    return fleet.resolve_create_target(**{**base, **values})


def test_one_hsm_stays_one_target_and_every_many_form_is_a_fleet():
    assert isinstance(create(hsm_name="hs1")[0], target_model.Target)
    for form in ({"hsm_ids": [f"https://h1{MHSM}"]}, {"all_hsms": True}, {"hsm_object": json.dumps([record("h1")])}):
        target = create(**form)[0]
        assert isinstance(target, fleet.Fleet) and target.storage.container_uri == CONTAINER
        assert target.storage.hsm_url is None and target.storage.storage_auth == "managedIdentity"
    assert create(all_hsms=True, resource_group=" rg-a ")[0].resource_group == "rg-a"


@pytest.mark.parametrize(
    "values, error, flag",
    [
        ({"hsm_name": "h1", "hsm_ids": [f"https://a{MHSM}"]}, ConflictingValues, "--hsm-name and --ids"),
        ({"hsm_id": f"https://a{MHSM}", "all_hsms": True}, ConflictingValues, "--id and --all"),
        ({"hsm_ids": [f"https://a{MHSM}"], "all_hsms": True}, ConflictingValues, "--ids and --all"),
        ({"hsm_name": "h1", "resource_group": "rg"}, MissingValue, "--resource-group"),
        ({"hsm_ids": [f"https://a{MHSM}"], "resource_group": "rg"}, MissingValue, "--resource-group"),
        ({"hsm_name": "h1", "max_parallel": 3}, InvalidValue, "--max-parallel"),
        ({"all_hsms": True, "resource_group": "rg/x"}, InvalidValue, "--resource-group"),
        ({"all_hsms": True, "resource_group": ""}, InvalidValue, "--resource-group"),
        ({"all_hsms": True, "storage_container_uri": None}, MissingValue, "blob container"),
        ({"all_hsms": True, "use_managed_identity": None}, MissingValue, "--sas-token"),
    ],
)
def test_create_refuses_mixed_or_misplaced_forms(values, error, flag):
    with pytest.raises(error) as info:
        create(**values)
    assert flag in info.value.error_msg


def wait(**values):
    return fleet.resolve_wait(mhsm_dns_suffix=MHSM, **values)


def test_wait_pairs_each_hsm_with_its_job_in_order():
    target, _ = wait(hsm_ids=[f"https://a{MHSM}", f"https://b{MHSM}"], job_id=[JOB, "1" * 32])
    assert [(m.hsm_name, m.job_id) for m in target.members] == [("a", JOB), ("b", "1" * 32)]
    one, _ = wait(hsm_ids=[f"https://a{MHSM}"], job_id=JOB)
    assert [(m.hsm_name, m.job_id) for m in one.members] == [("a", JOB)]
    assert wait(hsm_name="aaa", job_id=JOB)[0].hsm_url == f"https://aaa{MHSM}"


@pytest.mark.parametrize(
    "values, flag",
    [
        ({"hsm_ids": [f"https://a{MHSM}", f"https://b{MHSM}"], "job_id": JOB}, "--ids names 2 HSM(s) and --job-id 1"),
        ({"hsm_ids": [f"https://a{MHSM}"], "job_id": [JOB, JOB]}, "--job-id 2"),
        ({"hsm_name": "a", "job_id": [JOB, JOB]}, "--job-id was given 2 times"),
        ({"jobs": "[]", "job_id": JOB}, "--jobs names every job"),
        ({"jobs": "[]", "hsm_ids": ["x"]}, "--ids and --jobs"),
        ({"hsm_name": "a", "hsm_ids": ["x"], "job_id": JOB}, "--hsm-name and --ids"),
    ],
)
def test_wait_refuses_unpaired_jobs(values, flag):
    with pytest.raises((InvalidValue, ConflictingValues)) as info:
        wait(**values)
    assert flag in info.value.error_msg


@pytest.mark.parametrize(
    ("entry", "carried"),
    [
        ({"status": "WouldBackUp", "reason": "What if: a full backup"}, ("NotStarted", fleet.NO_JOB, None)),
        ({"status": "Succeeded", "folderName": "mhsm-x-2026120400000000"}, ("NotStarted", fleet.NO_JOB, None)),
        ({"status": "InProgress"}, ("NotStarted", fleet.NO_JOB, None)),
        ({}, ("NotStarted", fleet.NO_JOB, None)),
        ({"status": "Skipped", "reason": "not\x1b[2J active\u202e"}, ("Skipped", "not\\x1b[2J active\\u202e", None)),
        (
            {"status": "Busy", "error": {"code": "Conflict\x07", "message": "busy"}},
            ("Busy", None, {"code": "Conflict\\x07", "message": "busy"}),
        ),
    ],
)
def test_an_entry_without_a_job_never_says_more_than_that_no_job_was_started(entry, carried):
    """A saved --what-if array or a hand-edited "Succeeded" has no job: wait reports it NotStarted (exit 9), asking
    no HSM; the words an entry carries come from a file and are cleaned as the service's are."""
    text = json.dumps([{"hsmUrl": f"https://a{MHSM}", **entry}, {"hsmUrl": f"https://b{MHSM}", "jobId": JOB}])
    first = fleet.members_from_jobs(text)[0]
    assert (first.carried["status"], first.carried["reason"], first.carried["error"]) == carried


def test_an_array_without_any_job_is_nothing_to_wait_for():
    what_if = [
        {"hsmUrl": f"https://a{MHSM}", "status": "WouldBackUp"},
        {"hsmUrl": f"https://b{MHSM}", "status": "Skipped"},
    ]
    with pytest.raises(InvalidValue, match=r"--jobs holds no job to wait for: none of its 2 entries"):
        fleet.members_from_jobs(json.dumps(what_if))


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


def record_with(**props):
    return {"name": "h1", "type": "Microsoft.KeyVault/managedHSMs", "properties": props}


def test_resource_ids_come_from_id_resource_id_or_the_arm_record_inside():
    assert fleet.member_from_object(record_with(hsmUri=f"https://hs1{MHSM}"), MHSM, False, "f").resource_id is None
    az = {**record_with(hsmUri=f"https://hs1{MHSM}"), "id": RID + "hs1"}
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


def test_create_many_forms_keep_their_members_their_cloud_and_whether_arm_lists_them():
    suffix = ".managedhsm.example"
    ids, _ = create(hsm_ids=[rid("hs1"), f"https://hs2{suffix}"], hsm_name=None, hsm_id=None, mhsm_dns_suffix=suffix)
    assert [m.hsm_url for m in ids.members] == [f"https://hs1{suffix}", f"https://hs2{suffix}"]
    assert (ids.list_all, ids.resource_group, ids.mhsm_dns_suffix) == (False, None, suffix)
    everything, _ = create(all_hsms=True, resource_group="rg-a", hsm_name=None, hsm_id=None, mhsm_dns_suffix=suffix)
    assert (everything.members, everything.list_all, everything.mhsm_dns_suffix) == ((), True, suffix)


def test_a_json_array_in_create_uses_the_clouds_suffix_and_the_identity_rule():
    suffix = ".managedhsm.example"
    by_name = {"name": "hs1", "type": "Microsoft.KeyVault/managedHSMs", "properties": {}}
    array = json.dumps([by_name, record("hs2", identity=None)])
    with_mi, _ = create(hsm_object=array, mhsm_dns_suffix=suffix)
    assert with_mi.members[0].hsm_url == f"https://hs1{suffix}"
    assert "user-assigned" in with_mi.members[1].skip_reason  # the HSM's own identity is needed, and it has none
    with_sas, _ = create(
        hsm_object=array, mhsm_dns_suffix=suffix, use_managed_identity=None, sas_token="sv=2026-01-01&sp=crdw&sig=x"
    )
    assert with_sas.members[1].skip_reason is None and with_sas.storage.storage_auth == "sas"


def test_the_one_hsm_flags_with_a_json_array_are_refused_by_name():
    array = json.dumps([record("h1")])
    for values, named in (
        ({"hsm_name": "h1"}, "--hsm-name and --hsm-object"),
        ({"hsm_id": "h1"}, "--hsm-object and --id"),
    ):
        with pytest.raises(ConflictingValues) as info:
            create(hsm_object=array, **values)
        assert info.value.error_msg.startswith(named), info.value.error_msg


def test_create_and_wait_refusals_word_for_word():
    with pytest.raises(MissingValue) as info:
        create(hsm_name="h1", resource_group="rg")
    assert info.value.error_msg == (
        "--resource-group narrows --all: add --all to back up every HSM of the group, or leave -g out."
    )
    with pytest.raises(ConflictingValues) as info:
        wait(hsm_id=f"https://a{MHSM}", hsm_ids=[f"https://b{MHSM}"], job_id=JOB)
    assert info.value.error_msg == (
        "--id and --ids cannot be used together: give one HSM with its --job-id, --ids with one --job-id per HSM, "
        "or --jobs."
    )
    with pytest.raises(ConflictingValues) as info:
        wait(hsm_object="{}", jobs="[]")
    assert info.value.error_msg.startswith("--hsm-object and --jobs cannot be used together")
    with pytest.raises(ConflictingValues) as info:
        wait(jobs="[]", job_id=JOB)
    assert info.value.error_msg == "--jobs names every job already: leave --job-id out."
    with pytest.raises(InvalidValue) as info:
        wait(hsm_ids=[rid("hsa"), rid("hsb")], job_id=JOB)
    assert info.value.error_msg == (
        "--ids names 2 HSM(s) and --job-id 1 job(s): give one --job-id per HSM, in the same order, e.g. --ids URL1 "
        "URL2 --job-id ID1 ID2."
    )


def test_wait_reads_the_jobs_array_and_names_hsms_in_the_clouds_suffix():
    jobs = json.dumps([{"hsmUrl": f"https://a{MHSM}", "jobId": JOB}])
    target, _ = wait(jobs=jobs)
    assert [(m.hsm_url, m.job_id) for m in target.members] == [(f"https://a{MHSM}", JOB)]
    named, _ = fleet.resolve_wait(hsm_ids=[rid("hsa")], job_id=JOB, mhsm_dns_suffix=".managedhsm.example")
    assert named.members[0].hsm_url == "https://hsa.managedhsm.example"


def test_a_jobs_array_without_any_job_says_so_word_for_word():
    with pytest.raises(InvalidValue) as info:
        fleet.members_from_jobs(json.dumps([{"hsmUrl": f"https://a{MHSM}", "status": "Skipped"}]))
    assert info.value.error_msg == (
        "--jobs holds no job to wait for: none of its 1 entries has a jobId (an array of `create --what-if`, or of "
        "HSMs that were all skipped, has none). Pass the array that `az hsm-backup create --no-wait` printed."
    )


@pytest.mark.parametrize(("length", "kept"), [(1024, True), (1025, False)])
def test_a_resource_id_read_from_a_jobs_array_is_kept_up_to_1024_characters(length, kept):
    rid_text = "/" + "x" * (length - 1)
    (member,) = fleet.members_from_jobs(
        json.dumps([{"hsmUrl": f"https://a{MHSM}", "jobId": JOB, "resourceId": rid_text}])
    )
    assert member.resource_id == (rid_text if kept else None)


def test_a_carried_entrys_error_is_kept_only_as_an_object_with_its_code_and_message():
    jobs = [
        {"hsmUrl": f"https://a{MHSM}", "jobId": JOB},
        {"hsmUrl": f"https://b{MHSM}", "status": "Busy", "error": "not an object"},
        {"hsmUrl": f"https://c{MHSM}", "status": "Failed", "error": {"code": None, "message": "m\x1b"}},
    ]
    _, busy, failed = fleet.members_from_jobs(json.dumps(jobs))
    assert busy.carried["error"] is None
    assert failed.carried["error"] == {"code": None, "message": "m\\x1b"}


def test_a_json_array_may_start_after_blanks():
    assert fleet.is_json_array("\n  [1]") and not fleet.is_json_array("{}") and not fleet.is_json_array(None)


def test_a_broken_arm_record_is_named_by_its_name():
    broken = {"name": "h9", "type": "Microsoft.KeyVault/managedHSMs", "properties": {"hsmUri": "x"}}
    (member,) = fleet.members_from_records([broken], MHSM, False)
    assert member.hsm_name == "h9" and "ARM's record of h9" in member.skip_reason
