"""Trust nothing that comes back (issue 18, families 2 to 4), through the real az: an odd answer of the HSM is one
line naming the HSM, the job and the show command (exit 11); text from the service or a container is escaped and
cut wherever it is shown; a result never says more than what happened."""

import json

import pytest

from tests.e2e.conftest import az_json, create_with_identity, requests_to
from tests.e2e.test_lifecycle import backup, fresh_container
from tests.e2e.test_safety import tunnels
from tests.e2e.test_trust_backups import write_folder_now

JOB_POLL = "^/backup/(?!0{32}/)[0-9a-f]{32}/pending$"


def alter(stack, hsm, match, change, times=1):
    """Handle the request as usual (a job starts, a status is read), then change its answer (emulator faults)."""
    rule = {"match": {"hsm": hsm, "authorized": True, **match}, "action": "alter", "response": change, "times": times}
    stack.emulator("POST", "faults", {"rules": [rule]})


def job_of(stack, hsm):
    (job,) = [j for j in stack.emulator("GET", "jobs")["jobs"] if j["hsm"] == hsm and j["kind"] == "backup"]
    return job["jobId"]


def error_lines(result):
    return [line for line in result.stderr.splitlines() if line.startswith("ERROR")]


def printable(text):
    return all(c.isprintable() or c in "\n\t" for c in text)  # a tab separates -o tsv's columns


# ---- family 2: odd service answers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"body": "Succeeded"}, "is a string, not a job document"),
        ({"body": ["Succeeded"]}, "is an array, not a job document"),
        ({"fields": {"startTime": 1e30}}, "gives startTime '1e+30', which is not a time"),
        ({"fields": {"endTime": -5}}, "gives endTime '-5', which is not a time"),
        ({"fields": {"status": "Paused"}}, "gives the status 'Paused', which the extension does not know"),
    ],
    ids=["string", "array", "start-time", "end-time", "status"],
)
def test_an_odd_status_answer_is_one_line_naming_the_hsm_the_job_and_show(stack, hsm, change, words):
    alter(stack, hsm, {"method": "GET", "path": JOB_POLL}, change, times=None)
    result = create_with_identity(stack, hsm)
    job = job_of(stack, hsm)
    assert result.returncode == 11 and result.stdout == "" and "Traceback" not in result.stderr, result.stderr
    (line,) = error_lines(result)
    url = stack.hsm_url(hsm)
    assert f"{url} sent an answer that cannot be read: the answer about the backup job {job} {words}" in line
    assert line.endswith(f"check on it with: az hsm-backup show --id {url} --job-id {job}")
    shown = stack.az("hsm-backup", "show", "--id", url, "--job-id", job)  # the same answer to show: the same care
    assert shown.returncode == 11 and words in shown.stderr and "Traceback" not in shown.stderr


def test_a_202_without_a_status_link_names_the_job_it_started_and_wait_finds_it(stack, hsm):
    alter(stack, hsm, {"method": "POST", "path": "^/backup$"}, {"drop_headers": ["azure-asyncoperation"]})
    result = create_with_identity(stack, hsm)
    job = job_of(stack, hsm)
    assert result.returncode == 11, result.stderr
    (line,) = error_lines(result)
    assert f"the backup job {job} gives no status link (Azure-AsyncOperation)" in line and f"--job-id {job}" in line
    waited = az_json(stack.az("hsm-backup", "wait", "--hsm-name", hsm, "--job-id", job))
    assert waited["status"] == "Succeeded"  # the job the answer did not link to ran, and is found by its id


def test_in_a_fleet_an_unreadable_answer_is_that_hsms_unknown_status_never_a_python_class(stack, hsm):
    other = f"{hsm}-b"
    alter(stack, hsm, {"method": "GET", "path": JOB_POLL}, {"fields": {"startTime": 1e30}}, times=None)
    result = stack.az(
        "hsm-backup", "create", "--ids", stack.hsm_url(hsm), stack.hsm_url(other),
        "--storage-container-uri", stack.container_uri(), "--mi",
    )  # fmt: skip
    assert result.returncode == 9, result.stderr
    odd, fine = json.loads(result.stdout)
    assert fine["status"] == "Succeeded" and odd["status"] == "Unknown" and odd["jobId"] == job_of(stack, hsm)
    assert odd["error"]["code"] == "UnreadableAnswer" and "az hsm-backup show --id" in odd["error"]["message"]
    assert "Error'" not in result.stdout and "Traceback" not in result.stderr  # no OverflowError, ValueError...


# ---- family 3: hostile text from the service and the container ----------------------------------------------------

HOSTILE = "Refused\x1b[2J\x1b]0;pwned\x07 by\u202e storage\x9b1m" + " words" * 51_000  # one 306 KB "line"


def test_hostile_service_text_is_escaped_and_cut_in_lines_tables_and_entries(stack, hsm):
    stack.emulator("PUT", "config", {"force_fail_next_job": {"code": "Bad\x1bCode\u202e", "message": HOSTILE}})
    result = create_with_identity(stack, hsm)
    assert result.returncode == 4 and printable(result.stderr), repr(result.stderr[:400])
    (line,) = error_lines(result)
    assert "Refused\\x1b[2J\\x1b]0;pwned\\x07 by\\u202e storage\\x9b1m words" in line and len(line) < 700
    job = job_of(stack, hsm)
    for output in ("json", "table", "tsv"):
        shown = stack.az("hsm-backup", "show", "--hsm-name", hsm, "--job-id", job, "-o", output)
        assert shown.returncode == 0 and printable(shown.stdout) and len(shown.stdout) < 2000, shown.stdout[:400]
    assert (
        "Bad\\x1bCode\\u202e"
        in stack.az("hsm-backup", "show", "--hsm-name", hsm, "--job-id", job, "-o", "table").stdout
    )
    stack.emulator("PUT", "config", {"force_fail_next_job": {"code": "X", "message": HOSTILE}})
    fleet = stack.az(
        "hsm-backup", "create", "--ids", stack.hsm_url(hsm), "--storage-container-uri", stack.container_uri(), "--mi",
        "--max-parallel", "1", "--ids", stack.hsm_url(f"{hsm}-b"),
    )  # fmt: skip
    assert fleet.returncode == 9 and printable(fleet.stdout) and printable(fleet.stderr)
    assert all(len(e["error"]["message"]) < 700 for e in json.loads(fleet.stdout) if e["error"])


def test_a_deeply_nested_manifest_stops_no_listing_pruning_or_deleting(stack, hsm):
    """Anyone who can write one blob could stop all pruning with a manifest.json nested deeper than Python's
    recursion limit; the extension reads no blob's content, and its HSM calls the folder no finished backup."""
    container = f"nested{hsm}"
    uri = fresh_container(stack, container)
    old, good = (backup(stack, hsm, uri)["folderName"] for _ in range(2))
    nested = write_folder_now(stack, container, hsm, {"keys/k.json": b"{}", "manifest.json": b"[" * 200_000})
    listed = stack.az("hsm-backup", "list", "--storage-container-uri", uri, "--details")
    assert listed.returncode == 0 and len(json.loads(listed.stdout)) == 3
    plan = az_json(stack.az("hsm-backup", "prune", "--storage-container-uri", uri, "--keep", "1", "--what-if"))
    assert [e["folderName"] for e in plan["kept"]] == [good] and [e["folderName"] for e in plan["wouldDelete"]] == [old]
    assert [e["folderName"] for e in plan["leftAlone"]] == [nested]
    refused = stack.az("hsm-backup", "delete", "--storage-container-uri", uri, "--backup-folder", nested, "--yes")
    assert refused.returncode == 2 and "does not hold a complete backup" in refused.stderr
    assert "Traceback" not in listed.stderr + refused.stderr and len(stack.list_blobs(container, nested)) == 2


# ---- family 4: results that say no more than what happened -------------------------------------------------------


def test_wait_reports_no_status_it_did_not_see(stack, hsm):
    other = f"{hsm}-b"
    ids = ["--ids", stack.hsm_url(hsm), stack.hsm_url(other), "--storage-container-uri", stack.container_uri(), "--mi"]
    what_if = stack.az("hsm-backup", "create", *ids, "--what-if")
    heard = len(requests_to(stack))
    refused = stack.az("hsm-backup", "wait", "--jobs", "-", input=what_if.stdout)
    assert refused.returncode == 2 and "--jobs holds no job to wait for" in refused.stderr
    started = json.loads(stack.az("hsm-backup", "create", *ids[:2], *ids[3:], "--no-wait").stdout)  # only hsm
    edited = [started[0], {"hsmUrl": stack.hsm_url(other), "hsmName": other, "status": "Succeeded"}]
    waited = stack.az("hsm-backup", "wait", "--jobs", "-", input=json.dumps(edited))
    assert waited.returncode == 9, waited.stderr
    mine, claimed = json.loads(waited.stdout)
    assert mine["status"] == "Succeeded" and claimed["status"] == "NotStarted" and "no jobId" in claimed["reason"]
    assert requests_to(stack, other) == [] and len(requests_to(stack)) > heard


def test_all_that_skips_every_hsm_is_no_quiet_success(stack, hsm):
    group = f"rg-{hsm}"
    stack.declare_fleet(
        [{"name": f"{hsm}-{i}", "resourceGroup": group, "activationStatus": "NotActivated"} for i in range(2)]
    )
    try:
        result = stack.az(
            "hsm-backup", "create", "--all", "-g", group, "--storage-container-uri", stack.container_uri(), "--mi"
        )
    finally:
        stack.declare_fleet([])
    assert result.returncode == 9 and [e["status"] for e in json.loads(result.stdout)] == ["Skipped", "Skipped"]
    (line,) = error_lines(result)
    assert "None of the 2 HSM(s) was backed up: every one was skipped" in line


def test_no_wait_progress_counts_started_jobs_as_running(stack, hsm):
    result = stack.az(
        "hsm-backup", "create", "--ids", stack.hsm_url(hsm), stack.hsm_url(f"{hsm}-b"),
        "--storage-container-uri", stack.container_uri(), "--mi", "--no-wait",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    progress = [line for line in result.stderr.splitlines() if ": InProgress (job " in line]
    assert len(progress) == 2 and progress[-1].endswith("Done 0 of 2, running 2, failed 0.")


def test_what_if_as_a_table_shows_what_would_happen(stack, hsm):
    table = create_with_identity(stack, hsm, "--what-if", "-o", "table")
    lines = [line for line in table.stdout.splitlines() if line.strip()]
    assert lines[0].split()[:3] == ["Operation", "HsmName", "Storage"] and hsm in lines[2] and "What if" in lines[2]


def test_prune_and_delete_refuse_a_sas_the_hsms_cannot_read_with_before_any_call(stack, hsm):
    token = stack.mint_sas(permissions="ld")  # enough to list and delete, not for the HSM's check to read
    calls = tunnels(stack)
    for command in (["prune", "--keep", "1"], ["delete", "--backup-folder", f"mhsm-{hsm}-2026010100000000"]):
        result = stack.az(
            "hsm-backup", *command, "--storage-container-uri", stack.container_uri(), "--sas-token", token
        )
        assert result.returncode == 2 and "lacks the permission(s) 'r'" in result.stderr and "'rld'" in result.stderr
    assert tunnels(stack) == calls
