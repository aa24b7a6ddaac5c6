"""The test-only admin API under /_emulator/ (no auth, not fault-matched, not in the request log).

GET    /_emulator/config                    the config            PUT /_emulator/config   merge keys, 400 if bad
PUT    /_emulator/defaults                  merge keys into the config AND into what reset restores (a test session's
                                            own defaults, e.g. short jobs)
GET    /_emulator/hsms                      {"hsms": [names]}
GET    /_emulator/hsms/{name}/keys          {"hsm", "keys": [records]}   (creates the HSM on first use)
PUT    /_emulator/hsms/{name}/keys          replace: body {"keys": [records]} or [records]
DELETE /_emulator/hsms/{name}/keys/{key}    {"deleted": key}, 404 if absent
GET    /_emulator/requests                  {"requests": [log records]}
GET    /_emulator/jobs                      {"jobs": [...]}
GET    /_emulator/faults                    {"rules": [...]}      DELETE: clear them
POST   /_emulator/faults                    add rules (faults.py); body may also set force_fail_next_job
POST   /_emulator/reset                     clear jobs, HSMs, faults, the request log; startup config back
"""

import json
import re

from tests.mhsm_emulator.hsms import KEY_NAME


def _error(status, code, message):
    return status, {"error": {"code": code, "message": message}}


def _body(raw):
    if not raw:
        return {}
    return json.loads(raw)


def _hsm_name(name):
    name = name.lower()
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,62}", name):
        raise ValueError(f"{name!r} is not an HSM name")
    return name


def handle(emulator, method, path, query, raw):
    """(status, JSON payload) for an admin request."""
    parts = path.split("/")[2:]  # "/_emulator/a/b" -> ["a", "b"]
    try:
        body = _body(raw) if method in ("PUT", "POST") else None
        return _route(emulator, method, parts, body)
    except ValueError as exc:
        return _error(400, "BadParameter", str(exc))


def _route(emulator, method, parts, body):
    route = (method, *parts)
    if route == ("GET", "config"):
        return 200, emulator.config
    if route == ("PUT", "config"):
        return 200, emulator.update_config(body)
    if route == ("PUT", "defaults"):
        return 200, emulator.update_defaults(body)
    if route == ("POST", "reset"):
        emulator.reset()
        return 200, {"reset": True}
    if route == ("GET", "requests"):
        return 200, {"requests": emulator.log.read()}
    if route == ("GET", "jobs"):
        return 200, {"jobs": emulator.jobs.describe()}
    if route == ("GET", "hsms"):
        return 200, {"hsms": emulator.hsms.names()}
    if parts[:1] == ["faults"] and len(parts) == 1:
        return _faults(emulator, method, body)
    if len(parts) >= 3 and parts[0] == "hsms" and parts[2] == "keys":
        return _keys(emulator, method, _hsm_name(parts[1]), parts[3:], body)
    return _error(404, "NotFound", f"No admin route {method} /_emulator/{'/'.join(parts)}")


def _faults(emulator, method, body):
    if method == "GET":
        return 200, {"rules": emulator.faults.describe()}
    if method == "DELETE":
        emulator.faults.clear()
        return 200, {"rules": []}
    if method == "POST":
        added = []
        if isinstance(body, dict) and "force_fail_next_job" in body:
            emulator.update_config({"force_fail_next_job": body["force_fail_next_job"]})
            body = {k: v for k, v in body.items() if k != "force_fail_next_job"}
        if body:
            added = emulator.faults.add(body)
        return 200, {"added": added, "rules": emulator.faults.describe()}
    return _error(405, "MethodNotAllowed", f"{method} is not allowed on /_emulator/faults")


def _keys(emulator, method, hsm_name, rest, body):
    hsm = emulator.hsm(hsm_name)
    if not rest and method == "GET":
        return 200, {"hsm": hsm.name, "keys": hsm.snapshot()}
    if not rest and method == "PUT":
        records = body.get("keys") if isinstance(body, dict) else body
        if not isinstance(records, list):
            raise ValueError('the body must be {"keys": [key records]} or a list of key records')
        hsm.replace_all(records)
        return 200, {"hsm": hsm.name, "keys": hsm.snapshot()}
    if len(rest) == 1 and method == "DELETE":
        if not KEY_NAME.match(rest[0]):
            raise ValueError(f"{rest[0]!r} is not a key name")
        if not hsm.delete(rest[0]):
            return _error(404, "KeyNotFound", f"HSM {hsm.name} has no key {rest[0]}")
        return 200, {"deleted": rest[0]}
    return _error(404, "NotFound", f"No admin route {method} /_emulator/hsms/{hsm_name}/keys/{'/'.join(rest)}")
