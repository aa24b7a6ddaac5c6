"""Ctrl+C and SIGTERM at every moment of create and restore: exit 130 / 143, one line that survives
--only-show-errors and names the job (or says one may have started), and never a second job.

The moments are pinned with the emulator's fault rules (`delay_s` holds a request in flight) and its request log;
the proxy's log tells when the HSM's connection is open, i.e. when the first, token-less request that gets the HSM's
challenge is on its way (the SDK's body-less copy of the start, or on SDK builds that replay a start the warm-up
read, tests/e2e/conftest.py WARM_UP_PATH).
"""

import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import az_json, create_with_identity, requests_to
from tests.stack.launcher import AZ

START = {"create": ("POST", "^/backup$"), "restore": ("PUT", "^/restore$")}
POLL = {"create": "^/backup/(?!0{32}/)[0-9a-f]+/pending$", "restore": "^/restore/[0-9a-f]+/pending$"}  # no warm-up
EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143}
HOLD_S = 4  # how long a held request stays in flight


def fault(stack, **rule):
    stack.emulator("POST", "faults", {"rules": [rule]})


def wait_for(condition, timeout=30, what="the moment"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def start_requests(stack, hsm, operation, authorized):
    method, _ = START[operation]
    path = START[operation][1].strip("^$")
    return [
        r
        for r in requests_to(stack, hsm)
        if r["method"] == method and r["path"] == path and r["auth_present"] == authorized
    ]


def stopped_at(stack, argv, reached, sig, what="the moment", settle=0.0):
    """Start `argv` (az), wait until `reached()`, let `settle` seconds pass, send `sig`: (exit code, stdout, stderr)."""
    process = subprocess.Popen(
        [str(a) for a in argv],
        env=stack.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    try:
        wait_for(reached, what=what)
        time.sleep(settle)
        process.send_signal(sig)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    return process.returncode, stdout, stderr


def tunnels_to(stack, hsm):
    log = stack.dir / "proxy-requests.jsonl"
    return [line for line in log.read_text().splitlines() if f"{hsm}." in line and '"tunnel"' in line]


def command(stack, hsm, operation, folder_url=None):
    if operation == "create":
        tail = ["create", "--storage-container-uri", stack.container_uri(), "--mi"]
    else:  # with a SAS token, which the stop line must not show
        tail = ["restore", "--folder-url", folder_url, "--yes", "--sas-token", f"@{stack.state['sas_file']}"]
    return [str(AZ), "hsm-backup", *tail, "--hsm-name", hsm, "--only-show-errors"]


def arrange(stack, hsm, operation, moment):
    """Set the emulator up so that `moment` lasts long enough to be hit; return a function that waits for it."""
    method, path = START[operation]
    if moment == "before":  # the token-less first request is held: the start request with its token is not sent
        fault(stack, match={"hsm": hsm, "authorized": False}, delay_s=HOLD_S, action="pass")
        tunnels = len(tunnels_to(stack, hsm))
        return lambda: len(tunnels_to(stack, hsm)) > tunnels
    if moment == "in flight":  # the authorized start request is held: the HSM has it but has not answered
        fault(stack, match={"method": method, "path": path, "authorized": True}, delay_s=HOLD_S, action="pass")
        # the rule counts the start request when it arrives, before holding it
        return lambda: any(rule["fired"] for rule in stack.emulator("GET", "faults")["rules"])
    stack.emulator("PUT", "config", {"job_duration_s": 20})
    if moment == "after the 202":  # the first status poll is held: the job runs, nothing polled yet
        fault(stack, match={"method": "GET", "path": POLL[operation]}, delay_s=HOLD_S, action="pass")
        return lambda: start_requests(stack, hsm, operation, authorized=True)
    polls = re.compile(POLL[operation])
    # while waiting: a status poll has come back (a long job: even a first poll put off by Retry-After finds it running)
    return lambda: len([r for r in requests_to(stack, hsm) if polls.search(r["path"]) and r["status"] == 200]) >= 1


CASES = [
    *[("create", moment, sig) for moment in ("before", "in flight", "after the 202", "waiting") for sig in EXIT],
    ("restore", "before", signal.SIGTERM),
    ("restore", "in flight", signal.SIGINT),
    ("restore", "after the 202", signal.SIGTERM),
    ("restore", "waiting", signal.SIGINT),
]


@pytest.mark.parametrize(("operation", "moment", "sig"), CASES, ids=lambda v: getattr(v, "name", v))
def test_a_stop_at_any_moment_says_what_runs_on_and_starts_no_second_job(stack, hsm, operation, moment, sig):
    folder_url = az_json(create_with_identity(stack, hsm))["folderUrl"] if operation == "restore" else None
    before_jobs = [j["jobId"] for j in stack.emulator("GET", "jobs")["jobs"] if j["hsm"] == hsm]
    reached = arrange(stack, hsm, operation, moment)
    code, stdout, stderr = stopped_at(stack, command(stack, hsm, operation, folder_url), reached, sig, moment, 0.3)
    time.sleep(HOLD_S + 0.5)  # let a held request land on the HSM, so that what it started can be counted

    assert code == EXIT[sig], stderr
    assert stdout == "" and "Traceback" not in stderr
    assert "sig=" not in stderr and Path(stack.state["sas_file"]).read_text().strip() not in stderr
    errors = [line for line in stderr.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1 and errors[0].startswith("ERROR: Stopped"), stderr  # shown under --only-show-errors
    new_jobs = [j for j in stack.emulator("GET", "jobs")["jobs"] if j["hsm"] == hsm and j["jobId"] not in before_jobs]
    sent = start_requests(stack, hsm, operation, authorized=True)
    if moment == "before":
        assert "no job was started" in stderr, stderr
        assert sent == [] and new_jobs == []
        return
    assert len(sent) == 1 and len(new_jobs) == 1, sent  # one start request, one job: never a replay
    job_id = new_jobs[0]["jobId"]
    if moment == "in flight":
        assert f"a {'backup' if operation == 'create' else 'restore'} job may have started" in stderr, stderr
        if operation == "create":
            assert f"az hsm-backup list --storage-container-uri {stack.container_uri()} --hsm-name {hsm}" in stderr, (
                stderr
            )
    else:
        assert f"az hsm-backup show --id {stack.hsm_url(hsm)} --job-id {job_id}" in stderr, stderr
        assert new_jobs[0]["status"] in ("InProgress", "Succeeded")  # stopping the wait never cancels the job


@pytest.mark.parametrize("sig", list(EXIT), ids=lambda v: v.name)
def test_stopping_wait_names_the_job_which_runs_on(stack, hsm, sig):
    stack.emulator("PUT", "config", {"job_duration_s": 20})
    job_id = az_json(create_with_identity(stack, hsm, "--no-wait"))["jobId"]
    polls = len([r for r in requests_to(stack, hsm) if r["method"] == "GET"])
    code, stdout, stderr = stopped_at(
        stack,
        [AZ, "hsm-backup", "wait", "--hsm-name", hsm, "--job-id", job_id, "--only-show-errors"],
        lambda: len([r for r in requests_to(stack, hsm) if r["method"] == "GET"]) > polls + 1,
        sig,
    )
    errors = [line for line in stderr.splitlines() if line.startswith("ERROR:")]
    assert code == EXIT[sig] and stdout == "" and len(errors) == 1, stderr
    assert f"az hsm-backup show --id {stack.hsm_url(hsm)} --job-id {job_id}" in errors[0]
    jobs = {j["jobId"]: j for j in stack.emulator("GET", "jobs")["jobs"]}
    assert jobs[job_id]["status"] == "InProgress"  # stopping wait stops only the waiting
