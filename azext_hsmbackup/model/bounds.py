"""The numbers and switches az hsm-backup takes, and their bounds: seconds, counts, days, true or false."""

import math
import re

from azext_hsmbackup._text import shown
from azext_hsmbackup.model.problems import InvalidValue

# Bounds the wait arithmetic and the service can live with: polls no faster than 10 a second and at least hourly,
# and a wait of at most a week.
POLLING_INTERVAL_RANGE = (0.1, 3600)


TIMEOUT_RANGE = (1, 7 * 24 * 3600)


# Jobs of different HSMs at once: each is a thread and a connection in this process, and a poll every 0.5 s.
MAX_PARALLEL_RANGE = (1, 64)


KEEP_MAX = 10000


OLDER_THAN_MAX_DAYS = 36500  # 100 years: far inside what date arithmetic can take


_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,4})?")


_INTEGER_RE = re.compile(r"[+-]?\d{1,30}")


def bounded_number(value, flag, low, high, *, kind=float, unit="seconds", example=None):
    """A number flag, from az's text or a Python number: finite, of `kind` (int or float), within [low, high].

    Refuses empty text, words ("abc"), NaN, infinity, booleans and values out of range with one line that names
    the flag, the range and an example.
    """
    wanted = f"{'a whole number' if kind is int else 'a number'} of {unit} from {low:g} to {high:g}"
    fix = f"give {wanted}, e.g. {flag} {example if example is not None else f'{high:g}'}."

    def bad(why):
        return InvalidValue(f"{flag} {shown(value)} {why}: {fix}")

    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise bad("is not a number")
    if isinstance(value, str):
        text = value.strip()
        if not (_INTEGER_RE if kind is int else _NUMBER_RE).fullmatch(text):
            raise bad("is not a whole number" if kind is int and _NUMBER_RE.fullmatch(text) else "is not a number")
        number = int(text) if kind is int else float(text)
        if isinstance(number, float) and math.isinf(number):  # digits beyond what a float holds
            raise bad("is out of range")
    else:
        number = value
    if isinstance(number, float) and not math.isfinite(number):
        raise bad("is not a finite number")
    if kind is int and number != int(number):
        raise bad("is not a whole number")
    if not low <= number <= high:
        raise bad("is out of range")
    return kind(number)


def three_state(value, flag):
    """`--flag`, `--flag true` or `--flag false` (case-insensitive), as az's three-state flags take them."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise InvalidValue(
        f"{flag} {shown(value)} is not true or false: give {flag} alone (true), {flag} true, or {flag} false."
    )


def check_keep(value):
    """--keep as az hands it over (text), or a number: a whole number of backups from 1 to KEEP_MAX."""
    if value is None:
        return None
    return bounded_number(value, "--keep", 1, KEEP_MAX, kind=int, unit="newest backups of each HSM", example=7)


def check_older_than(value):
    """--older-than as az hands it over (text), or a number: days above 0, at most OLDER_THAN_MAX_DAYS."""
    if value is None:
        return None
    try:
        days = bounded_number(value, "--older-than", 0, OLDER_THAN_MAX_DAYS, unit="days")
    except InvalidValue:
        days = 0
    if days == 0:  # zero ("older than now") is refused too: say what was meant instead of guessing
        raise InvalidValue(
            f"--older-than {shown(value)} is not a number of days above 0 and at most {OLDER_THAN_MAX_DAYS}: "
            "give one, e.g. --older-than 30."
        )
    return days
