"""Keep secrets out of every log record while a command runs.

Under --debug the SDK's network trace logs request bodies, and the backup body carries the SAS token. While a
`secrets_redacted` block is open, every log record is cleaned twice, so no handler ever sees a secret, whoever added
it, to whichever logger, whenever:
- when it is made (a log record factory: records made on any thread, such as the SDK poller's, for any logger, are
  clean before any filter or handler sees them);
- when a logger hands it to its handlers (`Logger.callHandlers`: also fields set after it was made, `extra=`).

A secret is masked in every spelling it can reach a log in: as given, without its '?', URL-decoded (with '+' or a
space) and URL-encoded ('%2B', '%3D', any case); a SAS token's signature also on its own. Any other `sig=` value is
masked too, for a SAS nobody registered.
"""

import logging
import re
import threading
from contextlib import contextmanager
from urllib.parse import quote, quote_plus, unquote, unquote_plus

MASK = "***"
# Shorter strings are no secret worth garbling every log line for (a real SAS signature has 43+ characters).
MIN_SECRET_LENGTH = 4
_ANY_SIG = re.compile(r"(sig(?:=|%3D))[^&\s\"'<>\\]+", re.IGNORECASE)
_SAS_SIG = re.compile(r"(?:^|&)sig=([^&]*)", re.IGNORECASE)


def secret_forms(secret):
    """The spellings in which `secret` (and, for a SAS token, its signature) can reach a log line."""
    secret = (secret or "").strip().lstrip("?")
    if len(secret) < MIN_SECRET_LENGTH:
        return set()
    seeds = {secret}
    signature = _SAS_SIG.search(secret)
    if signature and len(signature.group(1)) >= MIN_SECRET_LENGTH:
        seeds.add(signature.group(1))
    forms = set()
    for seed in seeds:
        plains = {seed, unquote(seed), unquote_plus(seed)}
        plains |= {p.replace("+", " ") for p in plains} | {p.replace(" ", "+") for p in plains}
        for plain in plains:
            forms |= {plain, plain.replace("+", "%2B"), quote(plain, safe=""), quote_plus(plain)}
    return forms


class Redactor:  # pylint: disable=too-few-public-methods  # a callable: masking a text is all it does
    """Masks the forms of the given secrets, then any `sig=` value, in a text."""

    def __init__(self, secrets=()):
        forms = set().union(*(secret_forms(s) for s in secrets))
        # Longest first: a form that is a prefix of another must not leave the other's tail behind.
        ordered = sorted(forms, key=len, reverse=True)
        self.pattern = re.compile("|".join(map(re.escape, ordered)), re.IGNORECASE) if ordered else None

    def __call__(self, text):
        if self.pattern is not None:
            text = self.pattern.sub(MASK, text)
        return _ANY_SIG.sub(r"\1" + MASK, text)


def redact(text, secrets=()):
    """`text` with every form of the given secrets and every `sig=` value masked."""
    return Redactor(secrets)(text)


def clean_record(record, redactor):
    """Mask secrets in everything a handler or formatter can print of `record`: message, arguments (rendered
    once, here), exception, stack and any other text attribute."""
    try:
        message = record.getMessage()
    except Exception:  # pylint: disable=broad-exception-caught
        # A broken format: logging's own error report would print the raw arguments; print them masked instead.
        message = f"{record.msg} {record.args!r}"
    record.msg, record.args = message, ()
    if record.exc_info:
        record.exc_text, record.exc_info = logging.Formatter().formatException(record.exc_info), None
    for key, value in list(vars(record).items()):
        if isinstance(value, str):
            setattr(record, key, redactor(value))


_lock = threading.Lock()
_open_blocks = []  # one Redactor per open block, innermost last
_current = None  # one Redactor for all open blocks; None when none is open (read by the hooks without the lock)
_uninstall = None


def _clean_if_open(record):
    redactor = _current
    if redactor is not None:
        clean_record(record, redactor)


def _install():
    """Hook record creation and handler dispatch; returns what undoes it (unless someone hooked on top of us)."""
    make_record = logging.getLogRecordFactory()
    call_handlers = logging.Logger.callHandlers

    def redacting_factory(*args, **kwargs):
        record = make_record(*args, **kwargs)
        _clean_if_open(record)
        return record

    def redacting_call_handlers(logger, record):
        _clean_if_open(record)
        call_handlers(logger, record)

    logging.setLogRecordFactory(redacting_factory)
    logging.Logger.callHandlers = redacting_call_handlers

    def uninstall():
        # A hook someone stacked on ours keeps calling ours; with no block open it does nothing.
        if logging.getLogRecordFactory() is redacting_factory:
            logging.setLogRecordFactory(make_record)
        if logging.Logger.callHandlers is redacting_call_handlers:
            logging.Logger.callHandlers = call_handlers

    return uninstall


@contextmanager
def secrets_redacted(*secrets):
    """Redact the given secrets (and any `sig=` value) from every log record made or handled inside the block."""
    # One process-wide hook, shared by nested blocks and threads.
    global _current, _uninstall  # noqa: PLW0603  pylint: disable=global-statement
    block = secrets
    with _lock:
        _open_blocks.append(block)
        _current = Redactor([s for b in _open_blocks for s in b])
        if _uninstall is None:
            _uninstall = _install()
    try:
        yield
    finally:
        with _lock:
            _open_blocks.remove(block)
            _current = Redactor([s for b in _open_blocks for s in b]) if _open_blocks else None
            if not _open_blocks:
                _uninstall()  # pylint: disable=not-callable  # set by _install() while any block is open
                _uninstall = None
