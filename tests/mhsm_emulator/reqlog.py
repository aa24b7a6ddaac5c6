"""The request log (one JSON line per request) and the masking that keeps secrets out of it.

Nothing that could be a credential reaches a log line, the admin API or stdout: `token` fields become "***", any
`sig=` value becomes `sig=***`, anything shaped like a JWT becomes "***", and Authorization is reduced to its scheme.
"""

import json
import re

MASK = "***"
_SIG = re.compile(r"(?i)(\bsig=)[^&\s\"'<>]*")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_SECRET_FIELDS = {"token", "access_token", "refresh_token", "sastoken", "sas_token", "client_secret", "account_key"}
LOGGED_HEADERS = ("host", "content-type", "content-length", "accept", "user-agent", "x-ms-client-request-id")


def mask_text(text, secrets=()):
    """`text` with every given secret, every `sig=` value and every JWT replaced."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, MASK)
    return _JWT.sub(MASK, _SIG.sub(lambda m: m.group(1) + MASK, text))


def mask_json(value):
    if isinstance(value, dict):
        return {
            k: (MASK if isinstance(k, str) and k.lower() in _SECRET_FIELDS and v not in (None, "") else mask_json(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [mask_json(v) for v in value]
    if isinstance(value, str):
        return mask_text(value)
    return value


def loggable_body(raw):
    """The request body for the log: parsed and masked JSON, null when empty, else a masked excerpt."""
    if not raw:
        return None
    try:
        return mask_json(json.loads(raw))
    except ValueError:
        return {"unparsed": mask_text(raw[:1000].decode("utf-8", "replace")), "length": len(raw)}


def redact_authorization(value):
    if value is None:
        return None
    scheme = value.strip().split(" ", 1)[0] if value.strip() else ""
    return f"{scheme} <redacted>" if scheme and not _JWT.fullmatch(scheme) else "<redacted>"


def loggable_query(query):
    """parse_qs output -> {name: value} (a list only when repeated), values masked."""
    return {k: mask_text(v[0]) if len(v) == 1 else [mask_text(x) for x in v] for k, v in query.items()}
