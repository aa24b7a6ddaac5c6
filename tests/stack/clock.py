"""The stack's clock: one offset from the real clock that every piece of the stack applies (Stack.set_clock).

- Azurite: tests/stack/node/clock-shift.js (NODE_OPTIONS=--require) shifts node's `Date` by the seconds written to
  CLOCK_FILE in the state dir, re-read whenever the file changes, so a running Azurite follows it.
- The emulator and the sign-in stand-in: their `clock_offset_s` knob (admin APIs).
- The az processes a test runs: tests/stack/clockshift/sitecustomize.py (time-machine), put on PYTHONPATH by
  `python_env` only when the offset is not zero.
"""

import json
import math
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
MAX_OFFSET = timedelta(days=30)
CLOCK_FILE = "clock-offset"  # in the stack's state dir: the offset in seconds, as text
ENV_OFFSET = "HSMBACKUP_CLOCK_OFFSET_S"  # read by clockshift/sitecustomize.py
ENV_FILE = "HSMBACKUP_CLOCK_FILE"  # read by node/clock-shift.js
CLOCKSHIFT_DIR = HERE / "clockshift"
NODE_PRELOAD = HERE / "node" / "clock-shift.js"
# What az keeps that a clock change makes wrong: access tokens minted at another offset (expired, or not yet valid
# when the clock went back), and MSAL's HTTP cache, whose entries (throttling, discovery) expire by the clock too.
MSAL_TOKEN_CACHE = "msal_token_cache.json"
MSAL_HTTP_CACHE = "msal_http_cache.bin"


def check_offset_s(value, name="clock_offset_s"):
    """The offset in seconds as a float, or ValueError when it is not a number within ±30 days."""
    limit = MAX_OFFSET.total_seconds()
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a number of seconds")
    if abs(value) > limit:
        raise ValueError(f"{name} must be within ±{limit:.0f} s (30 days), not {value}")
    return float(value)


def offset_seconds(offset):
    """A timedelta offset as seconds: TypeError for anything else, ValueError beyond ±30 days."""
    if not isinstance(offset, timedelta):
        raise TypeError(f"the clock offset must be a timedelta, not {type(offset).__name__}")
    return check_offset_s(offset.total_seconds(), "the clock offset")


def shifted_now(offset_s):
    return datetime.now(timezone.utc) + timedelta(seconds=offset_s)


def write_offset_file(path, offset_s):
    """Replace the file at once (temp file + rename), so Azurite never reads half of it."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(f"{offset_s!r}\n")
    os.replace(tmp, path)


def node_env(clock_file, base):
    """NODE_OPTIONS (and the file it reads) that make a node process follow the stack's clock."""
    preload = f'--require "{NODE_PRELOAD}"'
    options = f"{base.get('NODE_OPTIONS', '')} {preload}".strip()
    return {**base, "NODE_OPTIONS": options, ENV_FILE: str(clock_file)}


def python_env(offset_s, base):
    """The variables that shift a Python process's clock; none at all with offset 0 (the process runs as ever)."""
    if not offset_s:
        return {}
    path = base.get("PYTHONPATH")
    return {
        "PYTHONPATH": os.pathsep.join([str(CLOCKSHIFT_DIR), *([path] if path else [])]),
        ENV_OFFSET: repr(float(offset_s)),
    }


def forget_cached_tokens(root):
    """Drop the access tokens (not the accounts or refresh tokens) and the HTTP cache of every az config dir under
    root; the list of files changed."""
    changed = []
    for cache in sorted(Path(root).rglob(MSAL_TOKEN_CACHE)):
        try:
            content = json.loads(cache.read_text() or "{}")
        except ValueError:
            content = None
        if isinstance(content, dict) and content.get("AccessToken"):
            content["AccessToken"] = {}
            tmp = cache.with_name(cache.name + ".tmp")
            tmp.write_text(json.dumps(content))
            os.chmod(tmp, cache.stat().st_mode)  # az keeps it private (0600)
            os.replace(tmp, cache)
            changed.append(cache)
    for cache in sorted(Path(root).rglob(MSAL_HTTP_CACHE)):
        cache.unlink(missing_ok=True)
        changed.append(cache)
    return changed
