"""Faults injected on the emulator's knobs, through the real az: retried where Azure says to, never a second job,
one clear line and exit code otherwise.

Every test asserts in the emulator's request log that its fault really fired (a rule that never matches fails the
test), and counts EVERY authorised request that starts a job, whatever it was answered (202, 409, 429, dropped):
a replayed start answered 409 shows up there although it starts nothing.
"""

import signal
import ssl
import subprocess
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from typing import ClassVar

import pytest

from tests.e2e.conftest import (
    WARM_UP_PATH,
    accepted_backups,
    az_json,
    create_with_identity,
    job_starts,
    requests_to,
)
from tests.stack.launcher import AZ
from tests.stack.pki import make_pki

# A status check of a job the HSM runs; not the warm-up read before the start (WARM_UP_PATH, a job of zeros).
JOB_POLL = "^/backup/(?!0{32}/)[0-9a-f]{32}/pending$"
CHALLENGE = 'Bearer authorization="https://login.example.invalid/tenant", resource="https://managedhsm.hsmbackup.test"'
CAP_S = 30  # MAX_RETRY_AFTER_S, as README states it
JOB_COMMANDS = ("create", "restore", "check backup", "check restore")


# ---- helpers ------------------------------------------------------------------------------------------------------


def fault(stack, **rule):
    """Add one fault rule; returns its id."""
    return stack.emulator("POST", "faults", {"rules": [rule]})["added"][0]["id"]


def fired(stack, hsm, rule_id, times=1):
    """Assert that the rule fired exactly `times` times (its own count and the request log agree); the hits."""
    rule = next(r for r in stack.emulator("GET", "faults")["rules"] if r["id"] == rule_id)
    hits = [r for r in requests_to(stack, hsm) if (r["fault"] or {}).get("id") == rule_id]
    assert rule["fired"] == times and len(hits) == times, (rule, hits)
    return hits


def answers(entries):
    return [(r["status"], (r["fault"] or {}).get("action")) for r in entries]


def polls(stack, hsm, since=0):
    """The status checks of jobs (not the warm-up read before a job start)."""
    log = requests_to(stack, hsm)[since:]
    return [r for r in log if r["auth_present"] and r["method"] == "GET" and r["path"] != WARM_UP_PATH]


def when(entry):
    return datetime.fromisoformat(entry["time"].replace("Z", "+00:00"))


def gap(first, second):
    return (when(second) - when(first)).total_seconds()


def jobs_of(stack, hsm):
    return [j for j in stack.emulator("GET", "jobs")["jobs"] if j["hsm"] == hsm]


def error_lines(result):
    return [line for line in result.stderr.splitlines() if line.startswith("ERROR")]


def folder_to_restore(stack, hsm):
    """A backup of `hsm` to restore from, and the request-log position after it."""
    folder = az_json(create_with_identity(stack, hsm))["folderUrl"]
    return folder, len(requests_to(stack, hsm))


def run_job(stack, hsm, command, folder_url=None):
    """One of the commands that start a job, with the HSM's identity, as a user types it."""
    where = {
        "create": ["create", "--storage-container-uri", stack.container_uri()],
        "restore": ["restore", "--folder-url", folder_url, "--yes"],
        "check backup": ["check", "backup", "--storage-container-uri", stack.container_uri()],
        "check restore": ["check", "restore", "--folder-url", folder_url],
    }[command]
    return stack.az("hsm-backup", *where, "--hsm-name", hsm, "--mi")


def prepared(stack, hsm, command):
    """(folder URL or None, log position) for `command`: restores need a backup first."""
    if command in ("restore", "check restore"):
        return folder_to_restore(stack, hsm)
    return None, 0


START_PATH = {"create": "^/backup$", "restore": "^/restore$", "check backup": "^/prebackup$"}
START_PATH["check restore"] = "^/prerestore$"


# ---- throttling, drops and token refresh: retried where safe, one job --------------------------------------------


@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.parametrize("where", ["start", "poll"])
def test_throttling_is_retried_after_retry_after_and_starts_one_job(stack, hsm, status, where):
    path = "^/backup$" if where == "start" else JOB_POLL
    rule = fault(
        stack,
        match={"path": path, "authorized": True},
        times=1,
        response={
            "status": status,
            "headers": {"Retry-After": "2"},
            "body": {"error": {"code": "Throttled" if status == 429 else "ServiceUnavailable", "message": "Later."}},
        },
    )
    out = az_json(create_with_identity(stack, hsm))
    assert out["status"] == "Succeeded"
    (refused,) = fired(stack, hsm, rule)
    assert refused["status"] == status
    starts = job_starts(stack, hsm)
    assert answers(starts) == ([(status, "respond"), (202, None)] if where == "start" else [(202, None)])
    log = [r for r in requests_to(stack, hsm) if r["auth_present"]]
    after = log[log.index(refused) + 1]
    assert after["path"] == refused["path"] and 1.9 <= gap(refused, after) < 5  # Retry-After honoured, not more


def test_dropped_connection_while_polling_resumes_the_same_job(stack, hsm):
    stack.emulator("PUT", "config", {"job_duration_s": 2})
    rule = fault(stack, match={"method": "GET", "path": JOB_POLL, "authorized": True}, nth=1, times=1, action="drop")
    out = az_json(create_with_identity(stack, hsm))
    assert out["status"] == "Succeeded"
    (dropped,) = fired(stack, hsm, rule)
    assert dropped["status"] is None  # no answer was sent
    assert answers(job_starts(stack, hsm)) == [(202, None)]
    seen = polls(stack, hsm)
    assert {p["path"] for p in seen} == {f"/backup/{out['jobId']}/pending"}
    assert seen.index(dropped) < len(seen) - 1 and seen[-1]["status"] == 200  # polled again after the drop


@pytest.mark.parametrize("command", JOB_COMMANDS)
def test_lost_answer_to_a_job_start_is_not_sent_again_and_says_so(stack, hsm, command):
    """The HSM starts the job, the answer is lost: azure-core would resend a PUT (restore); az must not."""
    folder, since = prepared(stack, hsm, command)
    rule = fault(stack, match={"path": START_PATH[command], "authorized": True}, action="drop-after")
    result = run_job(stack, hsm, command, folder)
    assert result.returncode == 7, result.stderr
    fired(stack, hsm, rule)
    assert answers(job_starts(stack, hsm, since)) == [(202, "drop-after")]  # the one start, never resent
    (line,) = error_lines(result)
    assert "may have started" in line and "not sent again" in line and stack.hsm_url(hsm) in line
    if command == "create":  # where a backup that started shows up: a command to paste, not a hint
        assert line.endswith(
            f"a finished backup shows in: az hsm-backup list --storage-container-uri {stack.container_uri()} "
            f"--hsm-name {hsm}."
        ), line
    assert "Traceback" not in result.stderr and result.stdout == ""
    started = jobs_of(stack, hsm)[-1]
    assert started["jobId"] == job_starts(stack, hsm, since)[0]["job_id"]


def test_dropped_job_start_then_the_same_command_finds_the_running_job(stack, hsm):
    stack.emulator("PUT", "config", {"job_duration_s": 6})
    rule = fault(stack, match={"method": "POST", "path": "^/backup$", "authorized": True}, action="drop-after")
    first = create_with_identity(stack, hsm)
    assert first.returncode == 7 and "409 (exit 6)" in first.stderr
    fired(stack, hsm, rule)
    again = create_with_identity(stack, hsm)  # what the error line tells the user to do
    assert again.returncode == 6 and "409" in again.stderr
    assert answers(job_starts(stack, hsm)) == [(202, "drop-after"), (409, None)]
    assert len(jobs_of(stack, hsm)) == 1


def test_connection_dropped_before_the_hsm_read_the_start_starts_nothing(stack, hsm):
    rule = fault(stack, match={"method": "POST", "path": "^/backup$", "authorized": True}, action="drop")
    result = create_with_identity(stack, hsm)
    assert result.returncode == 7, result.stderr
    fired(stack, hsm, rule)
    assert answers(job_starts(stack, hsm)) == [(None, "drop")]
    assert jobs_of(stack, hsm) == []
    assert len(error_lines(result)) == 1 and "Traceback" not in result.stderr


def test_token_expiring_mid_poll_reauthenticates_without_a_second_post(stack, hsm):
    stack.emulator("PUT", "config", {"job_duration_s": 2})
    rule = fault(
        stack, match={"method": "GET", "path": JOB_POLL, "authorized": True}, nth=1, times=1, action="challenge"
    )
    result = create_with_identity(stack, hsm)
    out = az_json(result)
    assert out["status"] == "Succeeded" and "409" not in result.stderr
    (challenged,) = fired(stack, hsm, rule)
    assert challenged["status"] == 401 and challenged["method"] == "GET" and challenged["path"] != WARM_UP_PATH
    assert answers(job_starts(stack, hsm)) == [(202, None)]  # no replayed POST, whatever it was answered
    posts = [(r["status"], r["auth_present"]) for r in requests_to(stack, hsm) if r["method"] == "POST"]
    assert posts == [(401, False), (202, True)]  # the SDK's token-less copy for the challenge, then the one start
    assert polls(stack, hsm)[-1]["status"] == 200


def test_refused_token_exits_5_and_starts_nothing(stack, hsm):
    rule = fault(stack, match={"method": "POST", "authorized": True}, times=None, action="challenge")
    result = create_with_identity(stack, hsm)
    assert result.returncode == 5, result.stderr
    assert "401" in result.stderr and "Managed HSM Backup" in result.stderr and "Traceback" not in result.stderr
    refused = [r for r in requests_to(stack, hsm) if (r["fault"] or {}).get("id") == rule]
    assert refused and all(r["status"] == 401 for r in refused)
    assert answers(job_starts(stack, hsm)) == [(401, "challenge")] * len(refused)
    assert jobs_of(stack, hsm) == []


# ---- Retry-After: honoured for the 202 and every status answer, the same in create, restore, check and wait --------


@pytest.mark.parametrize("command", JOB_COMMANDS)
def test_first_status_check_waits_for_the_202s_retry_after(stack, hsm, command):
    folder, since = prepared(stack, hsm, command)
    stack.emulator("PUT", "config", {"retry_after_202": 2})
    out = az_json(run_job(stack, hsm, command, folder))
    assert out["status"] == "Succeeded"
    (started,) = job_starts(stack, hsm, since)
    first, *_ = polls(stack, hsm, since)
    assert started["status"] == 202 and first["job_id"] == started["job_id"]
    assert 1.95 <= gap(started, first) < 3.5  # the 202 said 2 s: no sooner, and not much later


def test_the_real_services_retry_after_10_is_honoured(stack, hsm):
    stack.emulator("PUT", "config", {"retry_after_202": 10, "job_duration_s": 8})  # as the real service (8-11 s)
    out = az_json(create_with_identity(stack, hsm))
    (started,) = job_starts(stack, hsm)
    seen = polls(stack, hsm)
    assert 9.95 <= gap(started, seen[0]) < 11.5 and out["status"] == "Succeeded"
    assert len(seen) == 1  # the job was done by then: one status check instead of twenty


@pytest.mark.parametrize("command", ["create", "wait"])
def test_status_polls_wait_for_their_own_retry_after(stack, hsm, command):
    stack.emulator("PUT", "config", {"retry_after_202": None, "poll_retry_after_ms": 1500, "job_duration_s": 4})
    if command == "create":
        out = az_json(create_with_identity(stack, hsm))
        since = 0
    else:
        job_id = az_json(create_with_identity(stack, hsm, "--no-wait"))["jobId"]
        since = len(requests_to(stack, hsm))
        out = az_json(stack.az("hsm-backup", "wait", "--hsm-name", hsm, "--job-id", job_id))
    assert out["status"] == "Succeeded"
    seen = [p for p in polls(stack, hsm, since) if p["status"] == 200]
    gaps = [gap(a, b) for a, b in pairwise(seen)]
    assert len(gaps) >= 2 and all(1.45 <= g < 3 for g in gaps), gaps  # retry-after-ms: 1500, not the 0.5 s default


def test_absurd_retry_after_is_capped_and_does_not_hang_the_command(stack, hsm):
    stack.emulator("PUT", "config", {"retry_after_202": 99999, "job_duration_s": 1})
    started_at = time.monotonic()
    out = az_json(create_with_identity(stack, hsm, timeout=90))
    took = time.monotonic() - started_at
    (started,) = job_starts(stack, hsm)
    first = polls(stack, hsm)[0]
    assert CAP_S - 0.05 <= gap(started, first) < CAP_S + 2 and took < CAP_S + 15
    assert out["status"] == "Succeeded"


# ---- the traffic is the SDK's own where the SDK has no replay bug ------------------------------------------------


@pytest.mark.parametrize("command", JOB_COMMANDS)
def test_on_an_sdk_without_the_replay_bug_the_traffic_is_the_sdks_own(stack, hsm, command):
    """az 2.91's SDK (4.8.0b2) keeps no copy of a start to replay, so no warm-up read goes out (it would be one more
    round trip and one failed status read in the HSM's audit log per command): the first request is the SDK's own
    token-less copy of the start, which gets the challenge, as in the recordings
    (tests/unit/service/test_recordings.py).
    The warm-up of the builds that replay a start is pinned in the version matrix (tests/e2e/test_compat_matrix.py)."""
    folder_url, since = prepared(stack, hsm, command)
    az_json(run_job(stack, hsm, command, folder_url))
    log = requests_to(stack, hsm)[since:]
    probe, start = log[0], log[1]
    assert (probe["method"], probe["status"], probe["auth_present"]) in (("POST", 401, False), ("PUT", 401, False))
    assert (start["method"], start["path"], start["auth_present"], start["status"]) == (
        probe["method"],
        probe["path"],
        True,
        202,
    )
    assert [r for r in log if r["auth_present"] and r["method"] in ("POST", "PUT")] == [start]
    assert all(r["path"] != WARM_UP_PATH for r in log)


# ---- unreachable, rogue and untrusted HSMs ------------------------------------------------------------------------


def test_unreachable_hsm_exits_7(stack, hsm):
    result = stack.az(
        "hsm-backup", "create", "--id", "https://127.0.0.1:9", "--storage-container-uri", stack.container_uri(), "--mi"
    )
    assert result.returncode == 7, result.stderr
    errors = error_lines(result)
    assert len(errors) == 1 and "Cannot reach https://127.0.0.1:9" in errors[0]


class _Recorder(BaseHTTPRequestHandler):
    """A server that is not the HSM: answers every request with the Managed HSM challenge of this cloud."""

    seen: ClassVar[list] = []

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.seen.append(
            {"method": self.command, "path": self.path, "authorization": self.headers.get("Authorization")}
        )
        self.send_response(401)
        self.send_header("WWW-Authenticate", CHALLENGE)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def https_server(tmp_path):
    servers = []

    def start(cert, key):
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        _Recorder.seen = []
        return f"https://127.0.0.1:{server.server_port}"

    yield start
    for server in servers:
        server.shutdown()


def test_rogue_server_sending_the_hsm_challenge_gets_no_token(stack, hsm, https_server):
    url = https_server(stack.state["pki"]["cert"], stack.state["pki"]["key"])  # trusted cert, wrong host
    result = stack.az("hsm-backup", "create", "--id", url, "--storage-container-uri", stack.container_uri(), "--mi")
    assert result.returncode == 5, result.stderr
    assert "no token was sent" in result.stderr and "Traceback" not in result.stderr
    assert _Recorder.seen, "the rogue server should have been asked"
    assert all(r["authorization"] is None for r in _Recorder.seen)


def test_untrusted_tls_certificate_exits_7(stack, hsm, https_server, tmp_path):
    other = make_pki(tmp_path / "other-ca")  # a CA az does not trust
    url = https_server(other["cert"], other["key"])
    result = stack.az("hsm-backup", "create", "--id", url, "--storage-container-uri", stack.container_uri(), "--mi")
    assert result.returncode == 7, result.stderr
    assert "TLS" in result.stderr and "Traceback" not in result.stderr
    assert _Recorder.seen == []


# ---- Ctrl+C ---------------------------------------------------------------------------------------------------------


def test_ctrl_c_while_waiting_stops_waiting_keeps_the_job_and_exits_130(stack, hsm):
    stack.emulator("PUT", "config", {"job_duration_s": 6})
    process = subprocess.Popen(
        [str(AZ), "hsm-backup", "create", "--hsm-name", hsm, "--storage-container-uri", stack.container_uri(), "--mi"],
        env=stack.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while not accepted_backups(stack, hsm) and time.monotonic() < deadline:
        time.sleep(0.1)
    job_id = accepted_backups(stack, hsm)[0]["job_id"]
    time.sleep(1.5)  # past the 202's Retry-After: polling
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    assert job_id in stderr and f"az hsm-backup show --id {stack.hsm_url(hsm)} --job-id {job_id}" in stderr
    assert "Traceback" not in stderr and stdout == ""
    # The service has no cancel operation: what could stop the job is a request az sends after the 202. The HSM got
    # the one start and status checks of that job, nothing else.
    assert answers(job_starts(stack, hsm)) == [(202, None)]
    assert {(r["method"], r["path"]) for r in polls(stack, hsm)} == {("GET", f"/backup/{job_id}/pending")}
    assert [r["method"] for r in requests_to(stack, hsm) if r["method"] not in ("GET", "POST")] == []
    waited = az_json(stack.az("hsm-backup", "wait", "--hsm-name", hsm, "--job-id", job_id))
    assert waited["status"] == "Succeeded"
