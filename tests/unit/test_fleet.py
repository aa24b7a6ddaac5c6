"""Several HSMs (fleet.py, fleet_run.py, and their validators): which HSMs, each once, what is skipped and why, how
many run at once, what a stop says, and what the exit code is. The e2e tests (tests/e2e/test_fleet.py) drive the
same through az; these pin each rule on its own."""

import argparse
import io
import json
import threading
import time
from types import SimpleNamespace
from unittest import mock

import pytest
from azure.cli.core import azclierror
from azure.core.exceptions import HttpResponseError

from azext_hsmbackup import _validators as v
from azext_hsmbackup.errors import EXIT_SOME_FAILED, EXIT_TIMEOUT, ExitWith
from azext_hsmbackup.model import fleet, hsm_objects
from azext_hsmbackup.model import target as target_model
from azext_hsmbackup.model.fleet import Member
from azext_hsmbackup.model.problems import ConflictingValues, InvalidValue, MissingValue
from azext_hsmbackup.operations import runner as runner_ops
from azext_hsmbackup.service import arm

MHSM = ".managedhsm.azure.net"
SUB = "6a1c9e2b-4d3f-4b8a-9c7e-112233445566"
JOB = "0123456789abcdef0123456789abcdef"
CONTAINER = "https://acct.blob.core.windows.net/bkp"


def rid(name, group="rg"):
    return f"/subscriptions/{SUB}/resourceGroups/{group}/providers/Microsoft.KeyVault/managedHSMs/{name}"


def record(name, activation="Active", state="Succeeded", identity="user"):
    """An ARM managedHSMs record as `az keyvault list --resource-type hsm` prints it."""
    ids = {"UserAssigned": {"userAssignedIdentities": {f"/x/{name}-id": {"principalId": "p"}}}}
    return {
        "id": rid(name),
        "name": name,
        "type": "Microsoft.KeyVault/managedHSMs",
        "identity": ids.get("UserAssigned") if identity == "user" else identity,
        "properties": {
            "hsmUri": f"https://{name}{MHSM}/",
            "provisioningState": state,
            "securityDomainProperties": {"activationStatus": activation},
        },
    }


# ---- skip reasons -------------------------------------------------------------------------------------------


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


# ---- members: array, ids, jobs, each once ----------------------------------------------------------------------


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


# ---- the create and wait validators -----------------------------------------------------------------------------


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


@pytest.mark.parametrize(
    "value", ["0", "-1", "65", "1.5", "nan", "inf", "1e9", "", "  ", "abc", "99999999999999999999"]
)
def test_max_parallel_takes_a_whole_number_from_1_to_64(value):
    with pytest.raises(InvalidValue) as info:
        v.check_options(argparse.Namespace(max_parallel=value))
    assert info.value.error_msg.startswith("--max-parallel")


def test_max_parallel_bounds_are_accepted():
    for value, expected in (("1", 1), (" 64 ", 64), (5, 5)):
        namespace = argparse.Namespace(max_parallel=value)
        v.check_options(namespace)
        assert namespace.max_parallel == expected


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


def test_stdin_is_read_once_for_one_flag():
    namespace = argparse.Namespace(hsm_object="-", sas_token=None)
    with mock.patch("sys.stdin", io.StringIO('[{"a": 1}]')):
        v.read_stdin_flags(namespace)
    assert namespace.hsm_object == '[{"a": 1}]'
    with pytest.raises(azclierror.MutuallyExclusiveArgumentError) as info:  # the az glue's own line
        v.read_stdin_flags(argparse.Namespace(hsm_object="-", sas_token="-"))
    assert "--hsm-object - and --sas-token -" in info.value.error_msg
    with mock.patch("sys.stdin", io.StringIO(" \n")), pytest.raises(azclierror.InvalidArgumentValueError) as info:
        v.read_stdin_flags(argparse.Namespace(jobs="-"))
    assert info.value.error_msg.startswith("--jobs - read nothing")
    untouched = argparse.Namespace(sas_token="-", jobs=None)
    v.read_stdin_flags(untouched)  # --sas-token - is read_sas_token's: one line, stripped
    assert untouched.sas_token == "-"


# ---- running: bounded, each HSM's own outcome, the stop, the exit code -------------------------------------------


def members(count):
    return [Member(f"https://h{i}{MHSM}", f"h{i}") for i in range(count)]


def test_at_most_parallel_run_at_once_and_entries_keep_the_given_order():
    lock, running, peak = threading.Lock(), [0], [0]

    def work(slot, stopping):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.05 * (7 - int(slot.member.hsm_name[1:])))  # later ones finish first
        with lock:
            running[0] -= 1
        return runner_ops.entry(slot.member, "Succeeded", jobId=slot.member.hsm_name)

    out = runner_ops.run(members(7), work, 3, "backup")
    assert [e["hsmName"] for e in out] == [f"h{i}" for i in range(7)] and peak[0] == 3
    assert all(list(e) == list(runner_ops.ENTRY_KEYS) for e in out)


def test_a_skipped_member_gets_no_work_and_a_crash_is_that_members_failure():
    called = []

    def work(slot, stopping):
        called.append(slot.member.hsm_name)
        if slot.member.hsm_name == "h1":
            raise RuntimeError("boom at h1")
        return runner_ops.entry(slot.member, "Succeeded")

    given = members(3)
    given[2] = Member(given[2].hsm_url, "h2", skip_reason="not active")
    out = runner_ops.run(given, work, 5, "backup")
    assert sorted(called) == ["h0", "h1"]
    assert [e["status"] for e in out] == ["Succeeded", "Failed", "Skipped"]
    assert out[1]["error"]["code"] == "UnexpectedError"  # the class name of a Python error is no error code
    assert out[1]["error"]["message"].endswith("the backup stopped on an unexpected error: boom at h1")
    assert out[2]["reason"] == "not active"


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


def test_wait_carries_what_create_no_wait_said_of_hsms_without_a_job():
    text = json.dumps(
        [
            {"hsmUrl": f"https://a{MHSM}", "status": "Skipped", "reason": "not active"},
            {"hsmUrl": f"https://b{MHSM}", "status": "Busy", "error": {"code": "Conflict", "message": "m"}},
            {"hsmUrl": f"https://c{MHSM}"},
            {"hsmUrl": f"https://d{MHSM}", "jobId": JOB},
        ]
    )
    out = runner_ops.run(
        fleet.members_from_jobs(text), lambda slot, _: runner_ops.entry(slot.member, "Succeeded"), 2, "wait"
    )
    assert [(e["hsmName"], e["status"]) for e in out] == [
        ("a", "Skipped"),
        ("b", "Busy"),
        ("c", "NotStarted"),
        ("d", "Succeeded"),
    ]
    assert out[0]["reason"] == "not active" and out[1]["error"] == {"code": "Conflict", "message": "m"}


def http_error(status, code):
    response = SimpleNamespace(status_code=status, reason="x", headers={}, text=lambda: "", request=None)
    error = HttpResponseError(message=f"({code}) busy", response=response)
    error.status_code, error.error = status, SimpleNamespace(code=code, message="busy")
    return error


def test_a_409_is_busy_and_other_answers_are_failed_with_the_services_code():
    member = members(1)[0]
    busy = runner_ops.failed_entry(member, http_error(409, "Conflict"), "backup", {})
    assert busy["status"] == "Busy" and busy["error"]["code"] == "Conflict"
    assert member.hsm_url in busy["error"]["message"] and "(409)" in busy["error"]["message"]
    denied = runner_ops.failed_entry(member, http_error(403, "Forbidden"), "backup", {"jobId": JOB})
    assert denied["status"] == "Failed" and denied["error"]["code"] == "Forbidden" and denied["jobId"] == JOB
    secret = runner_ops.failed_entry(member, ValueError("sig=SECRET123 in here"), "backup", {}, secrets=["SECRET123"])
    assert "SECRET123" not in json.dumps(secret)


def test_a_job_that_failed_is_failed_with_the_jobs_code():
    job = {"jobId": JOB, "status": "Failed", "error": {"code": "ContainerNotFound", "message": "no container"}}
    response = SimpleNamespace(status_code=200, reason="OK", headers={}, text=lambda: json.dumps(job), request=None)
    ex = HttpResponseError(message="failed", response=response)
    ex.status_code = 200
    out = runner_ops.failed_entry(members(1)[0], ex, "backup", job, container_uri=CONTAINER)
    assert out["status"] == "Failed" and out["error"]["code"] == "ContainerNotFound" and out["jobId"] == JOB
    assert "az storage container create" in out["error"]["message"]


def entries(*statuses, reason=None):
    return [runner_ops.entry(m, s, reason=reason) for m, s in zip(members(len(statuses)), statuses, strict=True)]


def test_the_exit_code_is_0_only_when_every_hsm_not_skipped_did_what_was_asked():
    assert runner_ops.outcome(entries("Succeeded", "Skipped", "Succeeded")) == (0, None)
    assert runner_ops.outcome(entries("InProgress", "InProgress")) == (0, None)  # --no-wait: started is done
    for bad in ("Failed", "Busy", "NotStarted"):
        code, line = runner_ops.outcome(entries("Succeeded", bad))
        assert code == EXIT_SOME_FAILED and f"1 of 2 HSMs were not backed up: h1 ({bad})" in line
    code, line = runner_ops.outcome(entries("InProgress", "Succeeded", reason=runner_ops.TIMED_OUT))
    assert code == EXIT_TIMEOUT and "--timeout" in line
    assert runner_ops.outcome(entries("Failed", "InProgress", reason=runner_ops.TIMED_OUT))[0] == EXIT_SOME_FAILED
    assert (
        "1 of 1 HSMs have no job that succeeded: h0 (Failed)."
        in runner_ops.outcome(entries("Failed"), "have no job that succeeded")[1]
    )
    code, line = runner_ops.outcome(entries(*["Failed"] * 12))
    assert "h9 (Failed) and 2 more" in line and "h10" not in line


def test_the_exit_code_comes_after_the_output():
    handlers = {}
    cli_ctx = SimpleNamespace(register_event=handlers.setdefault)
    runner_ops.exit_after_output(cli_ctx, entries("Succeeded"))
    assert handlers == {}
    with (
        mock.patch.object(azclierror.AzCLIError, "print_error"),
        mock.patch.object(azclierror.AzCLIError, "send_telemetry"),
    ):
        runner_ops.exit_after_output(cli_ctx, entries("Succeeded", "Busy"))
        (handler,) = handlers.values()
        with pytest.raises(ExitWith) as info:
            handler(cli_ctx, result=None)
    assert info.value.code == EXIT_SOME_FAILED


def test_a_stop_names_each_hsms_job_and_what_did_not_start():
    given = members(4)
    slots = [runner_ops.Slot(m) for m in given]
    slots[0].state, slots[0].entry = "done", runner_ops.entry(given[0], "Succeeded")
    slots[1].state, slots[1].tracker = "running", SimpleNamespace(job={"jobId": JOB})
    slots[2].state, slots[2].watch = "starting", SimpleNamespace(may_have_started=True)
    runner = runner_ops.Runner(slots, None, 2, "backup", lambda m: f"az hsm-backup list --hsm-name {m.hsm_name}")
    text = runner.stopped()
    assert runner.stopping.is_set()
    assert text.startswith("Stopped the backups. Each job already started keeps running on its HSM:\n")
    assert "h0: Succeeded." in text
    assert f"h1: job {JOB}, check on it with: az hsm-backup show --id https://h1{MHSM} --job-id {JOB}" in text
    assert "h2: the backup request went out unanswered" in text and "az hsm-backup list --hsm-name h2" in text
    assert "h3: not started." in text
    waiting = runner_ops.Runner([runner_ops.Slot(given[0].with_job(JOB))], None, 1, "wait").stopped()
    assert waiting.startswith("Stopped waiting. Each job already started keeps running on its HSM:")
    assert f"h0: job {JOB}, check on it with:" in waiting


# ---- --all: ARM's list --------------------------------------------------------------------------------------


class FakeHsms:
    """The managed_hsms operations of az's KeyVaultManagementClient: pages of records, or an error."""

    def __init__(self, pages, fail=None):
        self.pages, self.fail, self.calls = pages, fail, []

    def _pager(self):
        if self.fail:
            raise self.fail
        return SimpleNamespace(by_page=lambda: iter(self.pages))

    def list_by_subscription(self):
        self.calls.append(("subscription",))
        return self._pager()

    def list_by_resource_group(self, group):
        self.calls.append(("group", group))
        return self._pager()


def listing(hsms, group=None):
    client = SimpleNamespace(managed_hsms=hsms)
    with mock.patch("azure.cli.core.commands.client_factory.get_mgmt_service_client", return_value=client) as get:
        records = arm.list_managed_hsms("CTX", resource_group=group)
    assert get.call_args.args[0] == "CTX"
    return records


def test_all_reads_every_page_of_the_subscription_or_the_group():
    hsms = FakeHsms([[record("a")], [record("b"), 5]])
    assert [r["name"] for r in listing(hsms)] == ["a", "b"] and hsms.calls == [("subscription",)]
    assert listing(hsms, group="rg-x") and hsms.calls[-1] == ("group", "rg-x")


def test_a_next_link_that_never_ends_is_cut_off():
    pages = ([record("a")] for _ in range(arm.MAX_PAGES + 5))
    with pytest.raises(azclierror.InvalidArgumentValueError) as info:  # ARM's answer: an az error of the service
        listing(FakeHsms(pages))
    assert f"after {arm.MAX_PAGES} pages" in info.value.error_msg


@pytest.mark.parametrize("status, code", [(401, 5), (403, 5), (404, 3), (500, 1)])
def test_what_arm_refuses_is_one_line_and_an_exit_code(status, code):
    error = http_error(status, "ResourceGroupNotFound")
    error.error.message = "Resource group 'g' could not be found."
    with (
        mock.patch.object(azclierror.AzCLIError, "print_error"),
        mock.patch.object(azclierror.AzCLIError, "send_telemetry"),
        pytest.raises(ExitWith) as info,
    ):
        listing(FakeHsms([], fail=error), group="g")
    assert info.value.code == code
    assert f"resource group g ({status}): (ResourceGroupNotFound)" in info.value.error.error_msg


def test_the_table_has_the_same_columns_in_every_row_whatever_is_empty():
    from azext_hsmbackup._format import job_table

    rows = job_table(entries("Succeeded", "Skipped", "Busy", reason="why"))
    assert [list(r) for r in rows] == [["HsmName", "Status", "FolderName", "JobId", "Error", "Reason"]] * 3
    assert all(value is not None for row in rows for value in row.values())  # az's table drops a None cell
    assert [r["Reason"] for r in rows] == ["", "why", ""]  # a reason shows for a skipped HSM only


def test_a_hostile_value_in_a_record_is_quoted_escaped_and_cut():
    reason = hsm_objects.skip_reason(record("h1", state="Bad\x1b[2J" + "x" * 500), False)
    assert reason.isprintable() and "\x1b" not in reason and len(reason) < 200
