"""How text from outside (a user's value, the service's words, a file's content) is shown in a line of ours:
secrets masked, every character that is not printable escaped, and cut. Pure: standard library only."""

import json
import re

from azext_hsmbackup._secrets import redact

# Service text in a line of ours: enough for a storage error's first sentence and its request id.
MAX_TEXT_CHARS = 300
_USER_INFO_RE = re.compile(r"(//)[^/@]*@")


def clean_text(value, limit=MAX_TEXT_CHARS):
    """Text from outside (the service, a file, a pipe) as it may reach a terminal: one line, every character that
    is not printable (control characters, escape sequences, BEL, bidi overrides, zero-width marks) escaped, and cut
    to `limit` characters. Only what can be shown is looked at, so a huge value costs little."""
    text = str(value)[: 4 * limit]
    text = " ".join(text.split())
    text = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)
    if len(text) > limit or len(str(value)) > 4 * limit:
        return text[: limit - 1] + "…"
    return text


def shown_value(value, limit=60):
    """A value quoted for a line: JSON-ish for non-text, cleaned and cut."""
    if isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value)[: 4 * limit]
        except (TypeError, ValueError, RecursionError):
            text = type(value).__name__
    return "'" + clean_text(text, limit) + "'"


def shown(value, limit=60):
    """A user's value, quoted for an error line: secrets masked, control characters escaped, long values cut.

    A SAS signature or a URL password pasted into the wrong flag is masked too.
    """
    raw = str(value)
    text = _USER_INFO_RE.sub(r"\1***@", redact(raw[: 4 * limit]))  # only what can show: huge values stay cheap
    text = "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)
    return "'" + (text if len(text) <= limit and len(raw) <= 4 * limit else text[: limit - 1] + "…") + "'"


def first_line(message):
    """The service's message without the storage request dump and XML that follow it."""
    text = ("" if message is None else str(message)).replace("\r", "").strip()
    for cut in ("\nRequestId:", "\nStatus:", "<?xml"):
        if cut in text:
            text = text[: text.index(cut)]
    return " ".join(text.split())


def service_line(message, secrets=()):
    """Text the service sent, as one of our lines shows it: its first line, secrets masked, every character that is
    not printable escaped (escape sequences, BEL, bidi overrides), and cut: the service's words get the treatment a
    user's value gets."""
    return clean_text(redact(first_line(message), secrets))


def code_text(code):
    """An error code as people read it: the value of an enum (StorageErrorCode.AUTHORIZATION_FAILURE), not its name;
    a code the service sent is text from outside, cleaned like its message."""
    return clean_text(getattr(code, "value", code), 100) if code is not None else None
