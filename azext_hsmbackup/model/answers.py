"""What the service sends back, read as untrusted input: JSON bodies, job documents, and text for the terminal.

Pure: standard library only. Every field of every answer is checked before anything is built from it; an answer
of the wrong shape raises UnreadableAnswer, which the error mapping turns into one line and exit 11.
"""

import json
import math
from datetime import datetime, timezone
from urllib.parse import urlsplit

from azext_hsmbackup._text import shown_value
from azext_hsmbackup.model.names import JOB_ID_RE
from azext_hsmbackup.model.urls import MAX_URL_CHARS

# A job document is a few hundred bytes; a failed job's storage dump a few KB. Nothing we read is larger.
MAX_BODY_BYTES = 1024 * 1024
# A job document is two levels deep (error.innererror); JSON nested deeper than this is not one.
MAX_DEPTH = 32
# What a field of a job document may hold before it is cut (a message is cut to its first line later).
MAX_FIELD_CHARS = 64 * 1024
# Unix seconds of 9999-12-31T23:59:59Z: what a UTC datetime can hold.
MAX_UNIX_TIME = 253402300799

STATUSES = {"inprogress": "InProgress", "succeeded": "Succeeded", "failed": "Failed", "canceled": "Canceled"}


class UnreadableAnswer(Exception):
    """An answer (of the HSM or storage) the extension cannot read: `what` says which part and how, in words that
    fit after "its answer ..."; `job_id` is the job it was about, when that much was readable."""

    def __init__(self, what, job_id=None):
        super().__init__(what)
        self.what = what
        self.job_id = job_id


def nesting_depth(text, stop_at=MAX_DEPTH):
    """How deep JSON text nests its arrays and objects (strings skipped), counting no further than `stop_at` + 1:
    the check that runs before json.loads, whose recursion would otherwise end the process's patience first."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop_at:
                    return deepest
        elif char in "]}":
            depth -= 1
    return deepest


def parse_json(data, max_bytes=MAX_BODY_BYTES, max_depth=MAX_DEPTH):
    """JSON from bytes or text, bounded in size and depth before it is parsed; UnreadableAnswer otherwise (its words
    follow "the answer ...")."""
    if isinstance(data, (bytes, bytearray)):
        if len(data) > max_bytes:
            raise UnreadableAnswer(f"has a body of {len(data)} bytes, more than the {max_bytes} a job's answer can be")
        try:
            data = bytes(data).decode("utf-8-sig")
        except UnicodeDecodeError:
            raise UnreadableAnswer("has a body that is not UTF-8 text") from None
    if not isinstance(data, str):
        raise UnreadableAnswer("has a body that is not text")
    if len(data) > max_bytes:
        raise UnreadableAnswer(f"has a body of {len(data)} characters, more than a job's answer can be")
    if nesting_depth(data, max_depth) > max_depth:
        raise UnreadableAnswer(f"has a body nested more than {max_depth} levels deep")
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        raise UnreadableAnswer("has a body that is not JSON") from None


def _kind(value):
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(value), "a number" if isinstance(value, (int, float)) else "null" if value is None else "a value"
    )


def _text_field(doc, key, job_id, limit=MAX_FIELD_CHARS):
    value = doc.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise UnreadableAnswer(f"gives {key} as {_kind(value)}, not text", job_id)
    return value[:limit]


def unix_time(value, key, job_id=None):
    """A job's startTime/endTime (Unix seconds) as an int, or None; anything else is unreadable."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UnreadableAnswer(f"gives {key} as {_kind(value)} {shown_value(value)}, not a time", job_id)
    if (isinstance(value, float) and not math.isfinite(value)) or not 0 <= value <= MAX_UNIX_TIME:
        raise UnreadableAnswer(f"gives {key} {shown_value(value)}, which is not a time", job_id)
    return int(value)


def folder_url(value, job_id=None, key="azureStorageBlobContainerUri"):
    """The folder URL a finished backup names: an https URL of printable characters, or None."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise UnreadableAnswer(f"gives {key} as {_kind(value)}, not a URL", job_id)
    bad = len(value) > MAX_URL_CHARS or any(not c.isprintable() or c.isspace() for c in value)
    parts = None if bad else urlsplit(value)
    if bad or parts.scheme.lower() != "https" or not parts.hostname or not parts.path.strip("/"):
        raise UnreadableAnswer(f"gives {key} {shown_value(value)}, which is not the URL of a folder", job_id)
    return value


def read_job(doc, job_id=None, folder_expected=False):
    """A job document (202 or status) checked field by field: the same keys, values of the documented types.

    `job_id`: the job the answer is about, when the request named it (a status read); the document must name the
    same one. `folder_expected`: a finished backup must name its folder (a pre-check's document names none).
    """
    if not isinstance(doc, dict):
        raise UnreadableAnswer(f"is {_kind(doc)}, not a job document", job_id)
    named = doc.get("jobId")
    if not isinstance(named, str) or not JOB_ID_RE.fullmatch(named):
        what = "names no job" if named is None else f"names the job {shown_value(named)}, which is not a job id"
        raise UnreadableAnswer(what, job_id)
    named = named.lower()
    if job_id and named != job_id.lower():
        raise UnreadableAnswer(f"is about the job {named}, not the one asked for", job_id)
    status = doc.get("status")
    if not isinstance(status, str) or status.lower() not in STATUSES:
        raise UnreadableAnswer(f"gives the status {shown_value(status)}, which the extension does not know", named)
    status = STATUSES[status.lower()]
    error = doc.get("error")
    if error is not None and not isinstance(error, dict):
        raise UnreadableAnswer(f"gives its error as {_kind(error)}, not an object", named)
    job = {
        "jobId": named,
        "status": status,
        "statusDetails": _text_field(doc, "statusDetails", named),
        "error": None
        if error is None
        else {"code": _text_field(error, "code", named, 200), "message": _text_field(error, "message", named)},
        "startTime": unix_time(doc.get("startTime"), "startTime", named),
        "endTime": unix_time(doc.get("endTime"), "endTime", named),
        "azureStorageBlobContainerUri": folder_url(doc.get("azureStorageBlobContainerUri"), named),
    }
    if folder_expected and status == "Succeeded" and not job["azureStorageBlobContainerUri"]:
        raise UnreadableAnswer("says Succeeded but names no backup folder", named)
    return job


def iso_time(unix_seconds):
    """A job document's time (checked by read_job) as az prints times: ISO 8601 UTC; None for none (or 0)."""
    if not unix_seconds:
        return None
    return datetime.fromtimestamp(int(unix_seconds), timezone.utc).isoformat().replace("+00:00", "Z")


def folder_name(url):
    """The backup folder's name: the last segment of the folder URL the service reports."""
    return url.rstrip("/").rsplit("/", 1)[-1] if url else None
