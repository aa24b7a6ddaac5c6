"""HTTP handling: which HSM a request is for, faults, the bearer challenge, the real service's headers, the log."""

import copy
import json
import re
import socket
import threading
import time
import uuid
from email.utils import formatdate
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tests.mhsm_emulator import admin, auth, clock, operations
from tests.mhsm_emulator import config as cfg
from tests.mhsm_emulator.faults import FaultBook
from tests.mhsm_emulator.hsms import HsmRegistry
from tests.mhsm_emulator.jobs import JobManager
from tests.mhsm_emulator.reqlog import (
    LOGGED_HEADERS,
    loggable_body,
    loggable_query,
    mask_text,
    redact_authorization,
)
from tests.stack import constants as C
from tests.stack._server import JsonHandler, JsonLines, utc_now

# Headers every Managed HSM response carries (rest-api.md 2.1/2.2, recordings).
_SECURITY_HEADERS = (
    ("Cache-Control", "no-cache"),
    ("Content-Security-Policy", "default-src 'self'"),
    ("Strict-Transport-Security", "max-age=31536000; includeSubDomains"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "SAMEORIGIN"),
)
_JSON = "application/json; charset=utf-8"
BUILD_VERSION = "1.0.20250601-1-emulator"


class Emulator:
    """Everything the server keeps: config, HSMs, jobs, fault rules and the request logs."""

    def __init__(self, state_dir, startup_config):
        state_dir = Path(state_dir)
        self.startup_config = copy.deepcopy(startup_config)
        self.config = copy.deepcopy(startup_config)
        clock.set_offset(self.config["clock_offset_s"])
        self._config_lock = threading.Lock()
        self.hsms = HsmRegistry()
        self.jobs = JobManager()
        self.faults = FaultBook()
        self.log = JsonLines(state_dir / "emulator-requests.jsonl")
        self.admin_log = JsonLines(state_dir / "emulator-admin.jsonl")

    def hsm(self, name):
        return self.hsms.get(name, self.config["seed_keys"])

    def update_config(self, update):
        with self._config_lock:
            self.config = cfg.merge(self.config, update)
            clock.set_offset(self.config["clock_offset_s"])
            return self.config

    def update_defaults(self, update):
        """Merge keys into the config and into the config that reset restores."""
        with self._config_lock:
            self.startup_config = cfg.merge(self.startup_config, update)
            self.config = cfg.merge(self.config, update)
            clock.set_offset(self.config["clock_offset_s"])
            return self.config

    def take_forced_failure(self):
        with self._config_lock:
            forced = self.config.get("force_fail_next_job")
            if forced:
                self.config = {**self.config, "force_fail_next_job": None}
            return forced

    def take_backup_interruption(self):
        """The next backup's interruption (interrupt_next_backup_after_blobs), spent by the backup that takes it."""
        with self._config_lock:
            after = self.config.get("interrupt_next_backup_after_blobs")
            if after is not None:
                self.config = {**self.config, "interrupt_next_backup_after_blobs": None}
            return after

    def reset(self):
        self.jobs.reset()
        self.hsms.clear()
        self.faults.clear()
        self.log.clear()
        with self._config_lock:
            self.config = copy.deepcopy(self.startup_config)
            clock.set_offset(self.config["clock_offset_s"])


def hsm_name_from_host(host):
    """`hsm1.managedhsm.hsmbackup.test[:port]` -> `hsm1`; an IP, localhost or anything else -> `local`."""
    host = (host or "").strip().lower()
    if host.startswith("["):
        hostname = host[1:].split("]", 1)[0]
    else:
        hostname = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    suffix = C.MHSM_DNS_SUFFIX.lower()
    if hostname.endswith(suffix) and len(hostname) > len(suffix):
        return hostname[: -len(suffix)].split(".")[0]
    return "local"


def normalize_path(path):
    """Collapse repeated slashes (the C++ SDK sends `//backup`) and drop a trailing one."""
    path = re.sub(r"/{2,}", "/", path or "/")
    return path.rstrip("/") or "/"


def altered(reply, change):
    """The reply with a fault rule's changes (action "alter"): headers dropped or set, fields set, or a new body."""
    drop = {name.lower() for name in change.get("drop_headers") or []}
    headers = [(n, v) for n, v in reply.headers if n.lower() not in drop]
    headers += [(k, str(v)) for k, v in (change.get("headers") or {}).items()]
    body = reply.body
    if "body" in change:
        body = change["body"]
    elif change.get("fields") and isinstance(body, dict):
        body = {**body, **change["fields"]}
    altered_reply = operations.Reply(reply.status, body, headers, job_id=reply.job_id, poll=reply.poll)
    altered_reply.drop_headers = drop
    return altered_reply


class Handler(JsonHandler):
    server_version = "Kestrel"

    def version_string(self):
        return "Kestrel"

    def do_GET(self):
        self._handle()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    # ---- sending ---------------------------------------------------------------------------------------------

    def _send(self, status, body_bytes, headers):
        self.send_response_only(status)
        for name, value in headers:
            self.send_header(name, str(value))
        self.end_headers()
        if body_bytes and self.command != "HEAD":
            self.wfile.write(body_bytes)
        self.wfile.flush()

    def _send_challenge(self, started):
        headers = [
            ("Cache-Control", "no-cache"),
            ("Content-Length", "0"),
            ("Content-Security-Policy", "default-src 'self'"),
            ("Content-Type", _JSON),
            ("Strict-Transport-Security", "max-age=31536000; includeSubDomains"),
            ("WWW-Authenticate", auth.challenge(self.server.emulator.config)),
            ("X-Content-Type-Options", "nosniff"),
            ("X-Frame-Options", "SAMEORIGIN"),
            ("x-ms-server-latency", str(int((time.monotonic() - started) * 1000))),
        ]
        self._send(401, b"", headers)

    def _send_reply(self, reply, started):
        body = b"" if reply.body is None else json.dumps(reply.body, separators=(",", ":")).encode("utf-8")
        headers = [
            ("api-supported-versions", "20180927, 20211111"),
            *_SECURITY_HEADERS,
            ("Content-Length", str(len(body))),
            ("Content-Type", _JSON),
            ("Date", formatdate(clock.time(), usegmt=True)),
            ("Server", "Kestrel"),
            ("x-ms-keyvault-network-info", f"conn_type=Ipv4;addr={self.client_address[0]};act_addr_fam=Ipv4;"),
            ("x-ms-keyvault-region", "local"),
            ("x-ms-request-id", str(uuid.uuid4())),
            ("x-ms-server-latency", str(int((time.monotonic() - started) * 1000))),
        ]
        if reply.poll:
            headers.append(("x-ms-build-version", BUILD_VERSION))
        override = {name.lower() for name, _ in reply.headers} | getattr(reply, "drop_headers", set())
        headers = [(n, v) for n, v in headers if n.lower() not in override] + reply.headers
        self._send(reply.status, body, headers)

    def _drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)  # no TLS close_notify, no response: a dropped connection
        except OSError:
            pass

    def _reject(self, status, message, started):
        """Answer a request whose body cannot be read, and close: the stream is no longer in step."""
        self.close_connection = True
        self._send_reply(operations.Reply(status, {"error": {"code": "BadParameter", "message": message}}), started)

    # ---- handling --------------------------------------------------------------------------------------------

    def _handle(self):
        started = time.monotonic()
        emulator = self.server.emulator
        split = urlsplit(self.path)
        path = normalize_path(split.path)
        query = parse_qs(split.query, keep_blank_values=True)
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._reject(411, "A Content-Length is required (chunked bodies are not supported).", started)
        try:
            body = self.read_body()
        except ValueError:
            return self._reject(413, "The request body is too large or its Content-Length is not valid.", started)
        if path == "/_emulator" or path.startswith("/_emulator/"):
            status, payload = admin.handle(emulator, self.command, path, query, body)
            self.send_json(status, payload)
            emulator.admin_log.append({"time": utc_now(), "method": self.command, "path": path, "status": status})
            return
        host = self.headers.get("Host") or f"127.0.0.1:{self.server.server_port}"
        authorization = self.headers.get("Authorization")
        request = operations.Request(self.command, path, query, body, host, hsm_name_from_host(host))
        record = {
            "time": utc_now(),
            "hsm": request.hsm_name,
            "method": self.command,
            "path": path,
            "query": loggable_query(query),
            "headers": {h: mask_text(self.headers[h]) for h in LOGGED_HEADERS if self.headers.get(h) is not None},
            "authorization": redact_authorization(authorization),
            "auth_present": authorization is not None,
            "auth": None,
            "body": loggable_body(body),
            "status": None,
            "job_id": None,
            "fault": None,
        }
        try:
            self._respond(emulator, request, authorization, record, started)
        finally:
            record["latency_ms"] = int((time.monotonic() - started) * 1000)
            emulator.log.append(record)

    def _respond(self, emulator, request, authorization, record, started):
        rule = emulator.faults.take(request.method, request.path, request.hsm_name, authorization is not None)
        if rule is not None:
            record["fault"] = {"id": rule.id, "action": rule.action}
            if rule.delay_s:
                time.sleep(rule.delay_s)
            if rule.action == "drop":
                self._drop()
                return
            if rule.action == "challenge":
                record["status"] = 401
                self._send_challenge(started)
                return
            if rule.action == "respond":
                response = rule.response
                headers = [(k, str(v)) for k, v in (response.get("headers") or {}).items()]
                reply = operations.Reply(response["status"], response.get("body"), headers)
                record["status"] = reply.status
                self._send_reply(reply, started)
                return
        ok, reason = auth.check(authorization, emulator.config)
        record["auth"] = reason
        if not ok:
            record["status"] = 401
            self._send_challenge(started)
            return
        try:
            reply = operations.dispatch(emulator, request)
        except Exception as exc:
            message = mask_text(f"{type(exc).__name__}: {exc}")
            reply = operations.Reply(500, {"error": {"code": "InternalError", "message": message}})
        record["status"], record["job_id"] = reply.status, reply.job_id
        if rule is not None and rule.action == "alter":
            reply = altered(reply, rule.response)
        if rule is not None and rule.action == "drop-after":
            self._drop()  # handled (a job may have started), but the answer never leaves
            return
        self._send_reply(reply, started)
