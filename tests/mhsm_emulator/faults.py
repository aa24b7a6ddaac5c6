"""Fault rules: make chosen data-plane requests misbehave (admin requests are never matched).

A rule (POST /_emulator/faults with {"rules": [rule, ...]}, a list, or one rule):

    {"match": {"method": "GET", "path": "^/backup/[0-9a-f]+/pending$", "hsm": "hsm1", "authorized": true},
     "nth": 1,            # first matching request (1-based, counted per rule) on which the rule fires
     "times": 1,          # how many times it fires, then it is spent (null: unlimited)
     "delay_s": 0,        # sleep this long before the first byte (alone: then answer normally)
     "action": "respond", # respond | challenge | drop | drop-after | alter | pass  (default: respond if "response")
     "response": {"status": 503, "headers": {"Retry-After": "1"}, "body": {"error": {...}}}}

- respond: send `response` (status, headers, JSON body; no body when "body" is absent or null);
- challenge: the 401 bearer challenge, exactly as for a missing token (a token "expired" mid-poll);
- drop: close the connection without any response (the request is never handled: no job starts);
- drop-after: handle the request as usual (a job may start), then close the connection without the answer, as when
  the answer is lost on its way back;
- alter: handle the request as usual (a job starts, a status is read), then change the answer before it leaves:
  "response": {"drop_headers": [...], "headers": {...}, "fields": {...}, "body": <any JSON>} drops those headers,
  sets those headers, sets those fields of the JSON body (when it is an object), or replaces the whole body - the
  odd answers a broken service or something between could give to a real request;
- pass: nothing besides the delay.

`match` fields are all optional: method (case-insensitive, "*" for any), path (regex, searched in the normalized
path without query), hsm (exact name), authorized (true: only requests carrying an Authorization header; false:
only those without, such as the SDK's bodiless challenge request).
Rules are tried in the order they were added; every matching rule counts the request, the first eligible fires.
"""

import re
import threading

ACTIONS = ("respond", "challenge", "drop", "drop-after", "alter", "pass")


class FaultRule:
    def __init__(self, rule_id, spec):
        if not isinstance(spec, dict):
            raise ValueError("a fault rule must be a JSON object")
        match = spec.get("match") or {}
        if not isinstance(match, dict):
            raise ValueError("match must be an object")
        self.id = rule_id
        self.spec = spec
        method = match.get("method") or "*"
        self.method = None if method == "*" else str(method).upper()
        try:
            self.path = re.compile(match["path"]) if match.get("path") else None
        except re.error as exc:
            raise ValueError(f"match.path is not a valid regex: {exc}") from exc
        self.hsm = match.get("hsm")
        self.authorized = match.get("authorized")
        if self.authorized not in (None, True, False):
            raise ValueError("match.authorized must be true, false or absent")
        self.nth = spec.get("nth", 1)
        self.times = spec.get("times", 1)
        if not isinstance(self.nth, int) or self.nth < 1:
            raise ValueError("nth must be an integer >= 1")
        if self.times is not None and (not isinstance(self.times, int) or self.times < 1):
            raise ValueError("times must be an integer >= 1 or null")
        self.delay_s = spec.get("delay_s", 0) or 0
        if isinstance(self.delay_s, bool) or not isinstance(self.delay_s, (int, float)) or not 0 <= self.delay_s <= 300:
            raise ValueError("delay_s must be a number of seconds between 0 and 300")
        self.action = spec.get("action") or ("respond" if "response" in spec else "pass")
        if self.action not in ACTIONS:
            raise ValueError(f"action must be one of {', '.join(ACTIONS)}")
        if self.action == "pass" and not self.delay_s:
            raise ValueError(
                'a rule needs an action ("respond" with "response", "challenge", "drop", "drop-after") or delay_s'
            )
        self.response = spec.get("response") or {}
        if self.action == "alter":
            drop, fields = self.response.get("drop_headers") or [], self.response.get("fields") or {}
            if not isinstance(drop, list) or not all(isinstance(h, str) for h in drop):
                raise ValueError("response.drop_headers must be a list of header names")
            if not isinstance(fields, dict):
                raise ValueError("response.fields must be an object")
        if self.action == "respond":
            status = self.response.get("status")
            headers = self.response.get("headers") or {}
            if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
                raise ValueError("response.status must be an HTTP status code")
            if not isinstance(headers, dict) or not all(isinstance(v, (str, int)) for v in headers.values()):
                raise ValueError("response.headers must map names to strings")
        self.seen = 0
        self.fired = 0

    def matches(self, method, path, hsm, authorized):
        return (
            (self.method is None or self.method == method)
            and (self.path is None or self.path.search(path) is not None)
            and (self.hsm is None or self.hsm == hsm)
            and (self.authorized is None or self.authorized == authorized)
        )

    def eligible(self):
        return self.seen >= self.nth and (self.times is None or self.fired < self.times)

    def describe(self):
        spent = self.times is not None and self.fired >= self.times
        return {"id": self.id, **self.spec, "seen": self.seen, "fired": self.fired, "spent": spent}


class FaultBook:
    def __init__(self):
        self._lock = threading.Lock()
        self._rules = []
        self._next_id = 1

    def add(self, payload):
        specs = payload.get("rules") if isinstance(payload, dict) and "rules" in payload else payload
        specs = specs if isinstance(specs, list) else [specs]
        with self._lock:
            rules = [FaultRule(self._next_id + i, spec) for i, spec in enumerate(specs)]
            self._next_id += len(rules)
            self._rules.extend(rules)
        return [r.describe() for r in rules]

    def take(self, method, path, hsm, authorized):
        """The rule that fires for this request (counting it against every matching rule), or None."""
        with self._lock:
            chosen = None
            for rule in self._rules:
                if rule.matches(method, path, hsm, authorized):
                    rule.seen += 1
                    if chosen is None and rule.eligible():
                        rule.fired += 1
                        chosen = rule
            return chosen

    def describe(self):
        with self._lock:
            return [r.describe() for r in self._rules]

    def clear(self):
        with self._lock:
            self._rules = []
