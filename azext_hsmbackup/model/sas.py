"""Reading a SAS token the way the service will: what it grants, until when, and whether it was pasted whole.

Pure functions: no I/O, no SDK. The token itself never goes into a message.
"""

import json
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

from azext_hsmbackup._constants import SAS_MIN_VALIDITY_HOURS
from azext_hsmbackup._text import shown
from azext_hsmbackup.model.problems import InvalidValue

SAS_FLAG = "--sas-token"


class SasToken:
    """The parsed query string of a SAS token (without a leading '?'); a field with no value counts as absent."""

    def __init__(self, text):
        self.fields = {k: v[-1] for k, v in parse_qs(text).items()}

    @property
    def expiry(self):
        return _parse_time(self.fields.get("se"))

    @property
    def permissions(self):
        return self.fields.get("sp")

    @property
    def uses_stored_policy(self):
        return "si" in self.fields


def _parse_time(value):
    if not value:
        return None
    for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%MZ", "%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=timezone.utc)
        except ValueError:
            continue
    raise InvalidValue(
        f"{SAS_FLAG}: its expiry se={shown(value)} is not a date the service understands.",
        "Generate a new SAS token, e.g. with `az storage container generate-sas`.",
    )


def split_sas_url(value, container_uri):
    """A whole SAS URL pasted into --sas-token: keep its query when it points at the same container."""
    parts = urlsplit(value)
    if not parts.query:
        raise InvalidValue(
            f"{SAS_FLAG} looks like a URL without a SAS query string.",
            f"Pass only the token (the part after '?'), e.g. {SAS_FLAG} @token.txt.",
        )
    pasted = f"{parts.scheme}://{parts.netloc}{parts.path}".rstrip("/").lower()
    if container_uri and pasted != container_uri.rstrip("/").lower():
        raise InvalidValue(
            f"{SAS_FLAG} is a whole SAS URL for {shown(pasted)}, not for the backup container {container_uri}.",
            "Pass only the token (the part after '?') of a SAS for the backup container.",
        )
    return parts.query


# A SAS is a few hundred characters; a user-delegation SAS with every field well under 2 KB.
MAX_SAS_CHARS = 16384


def unquote_json_string(value):
    """`az storage container generate-sas` without `-o tsv` writes the token as a JSON string: "se=...&sig=..."."""
    if not value.startswith('"'):
        return value
    try:
        text = json.loads(value)
    except ValueError:
        text = None
    if not isinstance(text, str):
        raise InvalidValue(
            f"{SAS_FLAG} starts with a quote but is not one complete JSON string.",
            "Write the token with `az storage container generate-sas ... -o tsv > token.txt` and pass "
            f"{SAS_FLAG} @token.txt.",
        )
    return text.strip()


def normalize_sas(value, container_uri=None):
    """Return the token without '?', splitting a pasted SAS URL. Raise a one-line error for what is not a SAS."""
    if not isinstance(value, str):
        raise InvalidValue(f"{SAS_FLAG} must be text, not {type(value).__name__}.")
    value = value.strip()
    if not value:
        raise InvalidValue(
            f"{SAS_FLAG} is empty.",
            f"Pass the SAS token as {SAS_FLAG} @token.txt, {SAS_FLAG} - (stdin), or {SAS_FLAG} alone to be asked.",
        )
    if len(value) > MAX_SAS_CHARS:
        raise InvalidValue(
            f"{SAS_FLAG} is {len(value)} characters long, too long for a SAS token.",
            "Pass only the token (the part after '?'), e.g. 'sv=...&sp=crdw&se=...&sig=...'.",
        )
    value = unquote_json_string(value)
    if any(not "!" <= c <= "~" for c in value):  # a SAS is URL-encoded: printable ASCII, no blanks
        raise InvalidValue(
            f"{SAS_FLAG} has spaces, control or non-ASCII characters, which a SAS token never has.",
            "Copy the token again, or write it with `az storage container generate-sas ... -o tsv > token.txt`.",
        )
    if value.lower().startswith(("https://", "http://")):
        value = split_sas_url(value, container_uri)
    value = value.lstrip("?")
    if "sig" not in SasToken(value).fields:
        raise InvalidValue(
            f"{SAS_FLAG} is not a SAS token: it has no signature (sig=).",
            "Pass the query string of a container or account SAS, e.g. 'sv=...&sp=crdw&se=...&sig=...'.",
        )
    return value


def check_sas(token_text, needed_permissions, now=None):
    """Raise for an expired token or missing permissions; return warnings (as strings) for weaker problems."""
    token = SasToken(token_text)
    now = now or datetime.now(timezone.utc)
    warnings = []
    expiry = token.expiry
    if expiry is not None:
        if expiry <= now:
            raise InvalidValue(
                f"{SAS_FLAG} expired at {expiry:%Y-%m-%dT%H:%M:%SZ}.",
                f"Generate a new SAS token valid for at least {SAS_MIN_VALIDITY_HOURS} hours.",
            )
        if expiry - now < timedelta(hours=SAS_MIN_VALIDITY_HOURS):
            warnings.append(
                f"{SAS_FLAG} expires at {expiry:%Y-%m-%dT%H:%M:%SZ}, in less than the "
                f"{SAS_MIN_VALIDITY_HOURS} hours the service asks for; a long job may fail."
            )
    if not token.uses_stored_policy:
        granted = token.permissions or ""
        missing = "".join(p for p in needed_permissions if p not in granted)
        if missing:
            raise InvalidValue(
                f"{SAS_FLAG} lacks the permission(s) '{missing}' (it grants {shown(granted)}); "
                f"this operation needs '{needed_permissions}'.",
                f"Generate a SAS with --permissions {needed_permissions}.",
            )
    return warnings
