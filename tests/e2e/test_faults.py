"""Faults injected on the emulator's knobs: retried where Azure says to, one clear line and exit code otherwise."""

import signal
import ssl
import subprocess
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from tests.e2e.conftest import accepted_backups, az_json, create_with_identity, requests_to
from tests.stack.launcher import AZ
from tests.stack.pki import make_pki

CHALLENGE = 'Bearer authorization="https://login.example.invalid/tenant", resource="https://managedhsm.hsmbackup.test"'


def fault(stack, **rule):
    stack.emulator("POST", "faults", {"rules": [rule]})


def when(entry):
    return datetime.fromisoformat(entry["time"].replace("Z", "+00:00"))


@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.parametrize("where", ["start", "poll"])
def test_throttling_is_retried_after_retry_after_and_starts_one_job(stack, hsm, status, where):
    path = "^/backup$" if where == "start" else "^/backup/[0-9a-f]+/pending$"
    fault(
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
    assert len(accepted_backups(stack, hsm)) == 1
    log = [r for r in requests_to(stack, hsm) if r["auth_present"]]
    refused = next(i for i, r in enumerate(log) if r["status"] == status)
    assert (when(log[refused + 1]) - when(log[refused])).total_seconds() >= 1.9  # Retry-After honoured


def test_dropped_connection_while_polling_resumes_the_same_job(stack, hsm):
    stack.emulator("PUT", "config", {"job_duration_s": 1.5})
    fault(stack, match={"method": "GET", "path": "/pending$"}, nth=1, times=1, action="drop")
    out = az_json(create_with_identity(stack, hsm))
    assert out["status"] == "Succeeded"
    assert len(accepted_backups(stack, hsm)) == 1
    polls = [r for r in requests_to(stack, hsm) if r["method"] == "GET"]
    assert {p["path"] for p in polls} == {f"/backup/{out['jobId']}/pending"}


def test_token_expiring_mid_poll_reauthenticates_without_a_second_post(stack, hsm):
    stack.emulator("PUT", "config", {"job_duration_s": 1.5})
    fault(stack, match={"method": "GET", "path": "/pending$", "authorized": True}, nth=1, times=1, action="challenge")
    result = create_with_identity(stack, hsm)
    out = az_json(result)
    assert out["status"] == "Succeeded" and "409" not in result.stderr
    posts = [r for r in requests_to(stack, hsm) if r["method"] == "POST"]
    assert [p["status"] for p in posts] == [401, 202]  # the challenge probe, then the one job; no replayed POST
    assert [r["status"] for r in requests_to(stack, hsm) if r["method"] == "GET"].count(401) == 1


def test_refused_token_exits_5(stack, hsm):
    fault(stack, match={"method": "POST", "authorized": True}, times=None, action="challenge")
    result = create_with_identity(stack, hsm)
    assert result.returncode == 5, result.stderr
    assert "401" in result.stderr and "Managed HSM Backup" in result.stderr and "Traceback" not in result.stderr


def test_unreachable_hsm_exits_7(stack, hsm):
    result = stack.az(
        "hsm-backup", "create", "--id", "https://127.0.0.1:9", "--storage-container-uri", stack.container_uri(), "--mi"
    )
    assert result.returncode == 7, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR")]
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
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    assert job_id in stderr and f"az hsm-backup show --id {stack.hsm_url(hsm)} --job-id {job_id}" in stderr
    assert "Traceback" not in stderr and stdout == ""
    jobs = {j["jobId"]: j for j in stack.emulator("GET", "jobs")["jobs"]}
    assert jobs[job_id]["status"] in ("InProgress", "Succeeded")  # not cancelled
    waited = az_json(stack.az("hsm-backup", "wait", "--hsm-name", hsm, "--job-id", job_id))
    assert waited["status"] == "Succeeded"
