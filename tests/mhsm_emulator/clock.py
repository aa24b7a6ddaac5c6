"""The emulator's clock: the real one moved by the config knob `clock_offset_s` (the stack's set_clock).

One emulator runs per process, with one clock, so the offset is the process's: Emulator sets it whenever its config
changes, and everything that asks "what time is it" here (folder names, job times, token checks, the Date header,
storage error texts, the manifest's createdUtc) asks this module.
"""

import time as _time
from datetime import UTC, datetime

_offset_s = [0.0]  # one cell, set by Emulator


def set_offset(seconds):
    _offset_s[0] = float(seconds)


def offset():
    return _offset_s[0]


def time():
    """Seconds since the epoch, shifted."""
    return _time.time() + _offset_s[0]


def now():
    """An aware UTC datetime, shifted."""
    return datetime.fromtimestamp(time(), UTC)
