"""Keep secrets out of every log record while a command runs.

Under --debug the SDK's network trace logs request bodies, and the backup body carries the SAS token. A filter on
every logging handler replaces any registered secret (and any `sig=` value) before a record is written anywhere:
stderr, az's command log files, or a handler added later by another library.
"""

import logging
import re
from contextlib import contextmanager

MASK = "***"
_SIG_RE = re.compile(r"(sig=)[^&\s\"']+", re.IGNORECASE)


def redact(text, secrets=()):
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return _SIG_RE.sub(r"\1" + MASK, text)


class SecretFilter(logging.Filter):
    def __init__(self, secrets):
        super().__init__()
        # Also the form the SDK may log it in: a '?'-less token and its URL-encoded signature.
        self.secrets = sorted({s for s in secrets if s} | {s.lstrip("?") for s in secrets if s}, key=len, reverse=True)

    def filter(self, record):
        message = record.getMessage()
        cleaned = redact(message, self.secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info:
            formatted = logging.Formatter().formatException(record.exc_info)
            record.exc_text, record.exc_info = redact(formatted, self.secrets), None
        return True


def _all_handlers():
    loggers = [logging.getLogger()] + [
        logger for logger in logging.Logger.manager.loggerDict.values() if isinstance(logger, logging.Logger)
    ]
    return {handler for logger in loggers for handler in logger.handlers}


@contextmanager
def secrets_redacted(*secrets):
    """Redact the given secrets from every log record emitted inside the block."""
    secret_filter = SecretFilter(secrets)
    handlers = _all_handlers()
    for handler in handlers:
        handler.addFilter(secret_filter)
    try:
        yield secret_filter
    finally:
        for handler in handlers:
            handler.removeFilter(secret_filter)
