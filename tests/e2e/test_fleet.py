"""Several HSMs in one `az hsm-backup create` (issue 11), through the real az against the stack's ARM and emulator:
--all (with -g), a JSON array in --hsm-object, --ids, --what-if, --no-wait then wait, and Ctrl+C in mid-fleet."""

import json
import signal
from datetime import datetime

import pytest

from tests.e2e.conftest import accepted_backups, requests_to
from tests.e2e.test_interrupts import stopped_at
from tests.stack import constants as C
from tests.stack.launcher import AZ

EXIT_SOME_FAILED = 9
STATUSES = {"Succeeded", "Failed", "Skipped", "Busy", "NotStarted"}
KEYS = {"hsmName", "hsmUrl", "resourceId", "status", "folderUrl", "folderName", "jobId", "startTime", "endTime"}
KEYS |= {"error", "reason"}  # every entry has every key (null when it does not apply); az prints them sorted


def rid(group, name):
    return f"/subscriptions/{C.SUBSCRIPTION_ID}/resourceGroups/{group}/providers/Microsoft.KeyVault/managedHSMs/{name}"


@pytest.fixture
def fleet(stack, hsm):
    """Declares the ARM fleet a test names, and empties it afterwards (the stack is shared by the worker's tests)."""

    def declare(hsms, page_size=100):
        stack.declare_fleet(hsms, page_size)
        return hsms

    yield declare
    stack.declare_fleet([])


def create(stack, *args, **kwargs):
    return stack.az("hsm-backup", "create", "--storage-container-uri", stack.container_uri(), *args, **kwargs)


def backup_jobs(stack):
    return [j for j in stack.emulator("GET", "jobs")["jobs"] if j["kind"] == "backup"]


def most_at_once(jobs):
    """The largest number of jobs that were InProgress at the same moment (from the emulator's exact times)."""
    edges = sorted([(j["started"], 1) for j in jobs] + [(j["ended"], -1) for j in jobs])
    running = peak = 0
    for _, step in edges:
        running += step
        peak = max(peak, running)
    return peak


def start_a_restore(stack, name):
    """A restore that runs on `name` for a minute: the HSM is busy (409) for any backup meanwhile."""
    folder = f"{stack.container_uri()}/mhsm-{name}-2026010100000000"
    result = stack.az("hsm-backup", "restore", "--hsm-name", name, "--folder-url", folder, "--mi", "--yes", "--no-wait")
    assert result.returncode == 0, result.stderr


def test_all_backs_up_every_hsm_of_three_groups_with_at_most_four_at_once(stack, hsm, fleet):
    names = [f"{hsm}-{group}{i}" for group in "abc" for i in range(4)]
    inactive, busy, refused = {names[1], names[6]}, names[4], names[10]
    declared = fleet(
        [
            {
                "name": n,
                "resourceGroup": f"rg-{n[-2]}",
                "activationStatus": "NotActivated" if n in inactive else "Active",
                "regions": ["eastus"] if n == names[0] else [],  # a multi-region HSM is one resource, one backup
            }
            for n in names
        ],
        page_size=5,  # three pages: nextLink is followed
    )
    stack.emulator("PUT", "config", {"job_duration_s": 1.0, "job_duration_by_hsm": {busy: 120}})
    start_a_restore(stack, busy)
    stack.emulator("PUT", "config", {"job_duration_by_hsm": {}, "storage_refuses_hsms": [refused]})

    result = create(stack, "--all", "--max-parallel", "4", "--mi")

    assert result.returncode == EXIT_SOME_FAILED, result.stderr
    out = json.loads(result.stdout)  # the whole array is on stdout although the exit code says "some failed"
    assert [e["hsmName"] for e in out] == names  # the order ARM listed them in
    assert [e["resourceId"] for e in out] == [rid(d["resourceGroup"], d["name"]) for d in declared]
    status = {e["hsmName"]: e["status"] for e in out}
    assert sorted(status.values()) == sorted(["Succeeded"] * 8 + ["Skipped"] * 2 + ["Busy", "Failed"])
    assert {n for n, s in status.items() if s == "Skipped"} == inactive and status[busy] == "Busy"
    assert status[refused] == "Failed"
    by_name = {e["hsmName"]: e for e in out}
    assert "not Active" in by_name[names[1]]["reason"] and by_name[names[1]]["jobId"] is None
    assert by_name[busy]["error"]["code"] == "Conflict" and "already running" in by_name[busy]["error"]["message"]
    assert by_name[refused]["error"]["code"] == "AuthorizationFailure" and by_name[refused]["jobId"]
    blobs = stack.list_blobs()
    for entry in out:
        assert set(entry) == KEYS and entry["status"] in STATUSES
        assert entry["hsmUrl"] == stack.hsm_url(entry["hsmName"])
        if entry["status"] == "Succeeded":
            assert entry["folderUrl"] == f"{stack.container_uri()}/{entry['folderName']}"
            assert entry["folderName"].startswith(f"mhsm-{entry['hsmName']}-")
            assert any(b.startswith(entry["folderName"] + "/") for b in blobs)  # really in Azurite
    jobs = backup_jobs(stack)
    started = sorted(j["hsm"] for j in jobs)
    assert started == sorted(n for n in names if status[n] in ("Succeeded", "Failed"))  # one job per HSM
    assert most_at_once(jobs) <= 4
    assert most_at_once(jobs) >= 2  # they did run side by side
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1 and "2 of 12 HSMs were not backed up" in errors[0], result.stderr
    assert f"{busy} (Busy)" in errors[0] and f"{refused} (Failed)" in errors[0]
    assert "Done 10 of 10" in result.stderr  # the progress lines on stderr

    table = create(stack, "--all", "--max-parallel", "4", "--mi", "-o", "table", "--only-show-errors")
    assert table.returncode == EXIT_SOME_FAILED  # the same fleet again, as a table
    rows = [line.split() for line in table.stdout.splitlines()]
    assert rows[0] == ["HsmName", "Status", "FolderName", "JobId", "Error", "Reason"]
    assert [(r[0], r[1]) for r in rows[2:]] == [(n, status[n]) for n in names]
    assert [r[3] for r in rows[2:] if r[1] == "Failed"] == ["AuthorizationFailure"]  # no folder: the code moves up


def test_ids_dedupe_and_tsv_gives_one_folder_url_a_line(stack, hsm):
    names = [f"{hsm}-x{i}" for i in range(3)]
    ids = [stack.hsm_url(names[0]), rid("rg-any", names[1]), stack.hsm_url(names[2]).upper(), stack.hsm_url(names[0])]
    result = create(stack, "--ids", *ids, "--mi", "--query", "[].folderUrl", "-o", "tsv", "--only-show-errors")
    assert result.returncode == 0, result.stderr
    urls = result.stdout.split()
    assert [u.rsplit("/", 1)[1].rsplit("-", 1)[0] for u in urls] == [f"mhsm-{n}" for n in names]
    assert all(u.startswith(stack.container_uri() + "/") for u in urls)
    assert sorted(j["hsm"] for j in backup_jobs(stack)) == sorted(names)  # the repeated HSM got one job
    assert result.stderr == ""


def test_hsm_object_takes_the_az_keyvault_list_output_from_stdin(stack, hsm, fleet):
    names = [f"{hsm}-o{i}" for i in range(3)]
    fleet([{"name": n, "resourceGroup": "rg-objects", "identity": "none" if n == names[2] else "user"} for n in names])
    listed = stack.az("keyvault", "list", "--resource-type", "hsm")
    assert listed.returncode == 0, listed.stderr
    result = create(stack, "--hsm-object", "-", "--mi", input=listed.stdout)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert [(e["hsmName"], e["status"]) for e in out] == [
        (names[0], "Succeeded"),
        (names[1], "Succeeded"),
        (names[2], "Skipped"),  # --mi asked for, and this HSM has no user-assigned identity
    ]
    assert "user-assigned" in out[2]["reason"] and out[0]["resourceId"] == rid("rg-objects", names[0])
    assert sorted(j["hsm"] for j in backup_jobs(stack)) == names[:2]
    listed_file = stack.dir / f"{hsm}-hsms.json"
    listed_file.write_text(listed.stdout)
    preview = create(stack, "--hsm-object", f"@{listed_file}", "--mi", "--what-if")  # the @file form
    assert [(e["hsmName"], e["status"]) for e in json.loads(preview.stdout)] == [
        (names[0], "WouldBackUp"),
        (names[1], "WouldBackUp"),
        (names[2], "Skipped"),
    ]


def test_resource_group_narrows_all_and_the_table_has_a_row_per_hsm(stack, hsm, fleet):
    fleet(
        [
            {"name": f"{hsm}-in1", "resourceGroup": "rg-in"},
            {"name": f"{hsm}-out", "resourceGroup": "rg-out"},
            {"name": f"{hsm}-in2", "resourceGroup": "RG-IN", "provisioningState": "Provisioning"},
        ]
    )
    result = create(stack, "--all", "-g", "rg-in", "--subscription", C.SUBSCRIPTION_ID, "--mi", "-o", "table")
    assert result.returncode == 0, result.stderr  # a skipped HSM does not fail the run
    rows = [line.split() for line in result.stdout.splitlines()]
    assert rows[0][:3] == ["HsmName", "Status", "FolderName"]
    assert [r[:2] for r in rows[2:]] == [[f"{hsm}-in1", "Succeeded"], [f"{hsm}-in2", "Skipped"]]
    assert [j["hsm"] for j in backup_jobs(stack)] == [f"{hsm}-in1"]


def test_what_if_lists_what_would_happen_and_sends_nothing_to_any_hsm(stack, hsm, fleet):
    fleet([{"name": f"{hsm}-w1"}, {"name": f"{hsm}-w2", "activationStatus": "NotActivated"}])
    result = create(stack, "--all", "--what-if", "--sas-token", f"@{stack.state['sas_file']}")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert [(e["hsmName"], e["status"]) for e in out] == [(f"{hsm}-w1", "WouldBackUp"), (f"{hsm}-w2", "Skipped")]
    assert "What if" in out[0]["reason"] and out[0]["hsmUrl"] == stack.hsm_url(f"{hsm}-w1")
    assert requests_to(stack) == []  # no data-plane call at all


def test_no_wait_then_wait_for_the_array(stack, hsm):
    names = [f"{hsm}-n{i}" for i in range(3)]
    stack.emulator("PUT", "config", {"job_duration_s": 2.0})
    started = create(stack, "--ids", *[stack.hsm_url(n) for n in names], "--mi", "--no-wait")
    assert started.returncode == 0, started.stderr
    out = json.loads(started.stdout)
    assert [e["status"] for e in out] == ["InProgress"] * 3 and all(e["jobId"] for e in out)
    waited = stack.az("hsm-backup", "wait", "--jobs", "-", input=started.stdout)
    assert waited.returncode == 0, waited.stderr
    done = json.loads(waited.stdout)
    assert [(e["hsmName"], e["jobId"], e["status"]) for e in done] == [
        (e["hsmName"], e["jobId"], "Succeeded") for e in out
    ]
    assert all(e["folderName"].startswith(f"mhsm-{e['hsmName']}-") for e in done)
    again = stack.az("hsm-backup", "wait", "--ids", *[e["hsmUrl"] for e in out], "--job-id", *[e["jobId"] for e in out])
    assert [e["status"] for e in json.loads(again.stdout)] == ["Succeeded"] * 3
    assert sum(len(accepted_backups(stack, n)) for n in names) == 3


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_in_mid_fleet_names_each_job_and_starts_no_more(stack, hsm, sig, code):
    names = [f"{hsm}-c{i}" for i in range(4)]
    stack.emulator("PUT", "config", {"job_duration_s": 30.0})
    ids = [stack.hsm_url(n) for n in names]
    to = ["--storage-container-uri", stack.container_uri(), "--mi"]
    returncode, stdout, stderr = stopped_at(
        stack,
        [AZ, "hsm-backup", "create", *to, "--ids", *ids, "--max-parallel", "2", "--only-show-errors"],
        lambda: len(backup_jobs(stack)) == 2,
        sig,
        "two jobs running",
    )
    assert returncode == code and stdout == "", stderr
    assert stderr.count("ERROR: ") == 1 and "Stopped the backups." in stderr
    jobs = {j["hsm"]: j["jobId"] for j in backup_jobs(stack)}
    assert sorted(jobs) == names[:2]
    for name, job_id in jobs.items():
        assert f"{name}: job {job_id}, check on it with: az hsm-backup show --id {stack.hsm_url(name)} " in stderr
    for name in names[2:]:
        assert f"{name}: not started." in stderr, stderr
    assert len(backup_jobs(stack)) == 2  # nothing started after the stop


def test_a_503_with_retry_after_on_one_hsm_is_waited_out_for_that_hsm_alone(stack, hsm):
    names = [f"{hsm}-r{i}" for i in range(3)]
    stack.emulator(
        "POST",
        "faults",
        {
            "rules": [
                {
                    "match": {"method": "POST", "path": "^/backup$", "hsm": names[1], "authorized": True},
                    "response": {"status": 503, "headers": {"Retry-After": "2"}, "body": {"error": {"code": "x"}}},
                }
            ]
        },
    )
    result = create(stack, "--ids", *[stack.hsm_url(n) for n in names], "--mi", "--only-show-errors")
    assert result.returncode == 0, result.stderr
    assert [e["status"] for e in json.loads(result.stdout)] == ["Succeeded"] * 3
    starts = [r for r in requests_to(stack, names[1]) if r["method"] == "POST" and r["auth_present"]]
    assert [r["status"] for r in starts] == [503, 202]
    gap = datetime.fromisoformat(starts[1]["time"]) - datetime.fromisoformat(starts[0]["time"])
    assert gap.total_seconds() >= 1.9  # the Retry-After, honoured
    started = {j["hsm"]: j["started"] for j in backup_jobs(stack)}
    assert started[names[1]] - max(started[names[0]], started[names[2]]) >= 1.5  # that HSM alone waited
