"""Whether an HSM has a recent enough backup: --max-age, and the state of one HSM from its folders, newest first.

A folder counts only once the HSM that wrote it confirms it holds a finished backup (model/retention.py's rule, the
HSM's pre-restore check: service/evidence.py). The HSM is asked about its newest folders one by one until it
confirms one; older folders are never looked at. Pure: the HSM's word and a folder's blobs come in as functions.
"""

import math
import re
from dataclasses import dataclass
from datetime import timedelta

from azext_hsmbackup._text import shown
from azext_hsmbackup.model.folders import CLOCK_SKEW, iso_utc
from azext_hsmbackup.model.problems import InvalidValue
from azext_hsmbackup.model.retention import FINISHED, NOT_FINISHED

FRESH, STALE, MISSING, SKIPPED, UNKNOWN = "Fresh", "Stale", "Missing", "Skipped", "Unknown"

DEFAULT_MAX_AGE = "26h"  # a nightly backup, with two hours' slack for a job that starts late or runs long
MAX_AGE_RANGE = (timedelta(minutes=1), timedelta(days=366))
_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}
_SHORT_RE = re.compile(r"(?P<number>[0-9]{1,30}(?:\.[0-9]{1,9})?)(?P<unit>[mhdw])", re.IGNORECASE)
_NUMBER = r"[0-9]{1,30}(?:[.,][0-9]{1,9})?"
_ISO_RE = re.compile(
    rf"P(?:(?P<w>{_NUMBER})W)?(?:(?P<d>{_NUMBER})D)?(?:T(?:(?P<h>{_NUMBER})H)?(?:(?P<m>{_NUMBER})M)?"
    rf"(?:(?P<s>{_NUMBER})S)?)?",
    re.IGNORECASE,
)
_MONTHS_OR_YEARS_RE = re.compile(r"P(?:[0-9.,]+[YM])", re.IGNORECASE)


def check_max_age(value):
    """--max-age: 26h, 90m, 7d, 2w, or an ISO 8601 duration (P1D, PT26H, P1DT2H, P2W); from 1 minute to 366 days.
    Returns a timedelta; anything else is one line naming the flag, the forms and the range."""
    fix = "give minutes, hours, days or weeks such as 26h, 90m, 7d or 2w, or ISO 8601 such as P1D or PT26H"
    low, high = MAX_AGE_RANGE

    def bad(why):
        return InvalidValue(f"--max-age {shown(value)} {why}: {fix}, from 1 minute to 366 days.")

    if not isinstance(value, str) or not value.strip():
        raise bad("is not a duration")
    text = value.strip()
    seconds = _short_seconds(text)
    if seconds is None:
        seconds = _iso_seconds(text)
    if seconds is None:
        if text.startswith("-"):
            raise bad("is negative")
        if _MONTHS_OR_YEARS_RE.match(text):
            raise bad("counts months or years, which have no fixed length")
        if re.fullmatch(r"[+-]?[0-9.]+", text):
            raise bad("has no unit")
        raise bad("is not a duration")
    if not math.isfinite(seconds) or not low.total_seconds() <= seconds <= high.total_seconds():
        raise bad("is out of range")
    return timedelta(seconds=round(seconds))


def _short_seconds(text):
    match = _SHORT_RE.fullmatch(text)
    return float(match["number"]) * _UNITS[match["unit"].lower()] if match else None


def _iso_seconds(text):
    match = _ISO_RE.fullmatch(text)
    if not match or not any(match.groupdict().values()) or text.upper().endswith("T"):
        return None
    factors = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
    return sum(float(match[k].replace(",", ".")) * f for k, f in factors.items() if match[k])


def iso_duration(delta):
    """A timedelta as ISO 8601 (P1DT2H, PT26H30M, PT45S): what --max-age was, in the output."""
    seconds = int(delta.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    time = "".join(f"{n}{u}" for n, u in ((hours, "H"), (minutes, "M"), (secs, "S")) if n)
    return "P" + (f"{days}D" if days else "") + (f"T{time}" if time else "") if seconds else "PT0S"


def describe_age(delta):
    """An age as a person reads it, to the two largest units: 2d 3h, 1d, 5h 10m, 45m, 30s."""
    seconds = max(0, int(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    return f"{minutes}m" if minutes else f"{secs}s"


@dataclass(frozen=True)
class Freshness:
    """One HSM's answer: its state, the folder it rests on (its newest finished backup, or the newest folder it
    could not confirm), whether the HSM confirmed that folder, and why, in one line."""

    state: str
    folder: object = None  # model.retention.Folder
    confirmed: bool = False
    reason: str = None


def freshness_of(folders, judge, load, now, max_age):
    """The Freshness of one HSM from its folders (newest first). `judge(folder)` is the HSM's Verdict, `load(folder)`
    lists a folder's blobs. A folder dated more than CLOCK_SKEW in the future cannot be a backup made yet: it is
    passed over (and said so). An age of exactly --max-age is still fresh."""
    passed = []  # (folder, why it does not count), newest first
    for folder in folders:
        if folder.when > now + CLOCK_SKEW:
            passed.append((folder, f"dated {iso_utc(folder.when)}, in the future"))
            continue
        if folder.blobs is None:
            folder.blobs = load(folder)
        problem = folder.problem
        if problem:
            passed.append((folder, f"not a backup: {problem}"))
            continue
        verdict = judge(folder)
        if verdict.state == FINISHED:
            fresh = now - folder.when <= max_age
            return Freshness(FRESH if fresh else STALE, folder, True, None if fresh else _too_old(folder, max_age))
        if verdict.state == NOT_FINISHED:
            passed.append((folder, f"not a finished backup: {verdict.reason}"))
            continue
        if now - folder.when > max_age:  # whatever it holds, nothing newer is finished: not fresh either way
            return Freshness(
                STALE,
                folder,
                False,
                f"no finished backup within --max-age {describe_age(max_age)}{_newer(passed)}; whether "
                f"{folder.name} is one could not be confirmed: {verdict.reason}",
            )
        return Freshness(UNKNOWN, folder, False, f"the HSM could not confirm {folder.name}: {verdict.reason}")
    if not passed:
        return Freshness(MISSING, reason="no backup folder of this HSM in the container")
    newest, why = passed[0]
    return Freshness(
        MISSING, reason=f"{len(passed)} folder(s), none a finished backup; the newest, {newest.name}, is {why}"
    )


def _too_old(folder, max_age):
    return f"its newest finished backup, {folder.name}, is older than --max-age {describe_age(max_age)}"


def _newer(passed):
    if not passed:
        return ""
    newest, why = passed[0]
    return f" ({len(passed)} newer folder(s) do not count; the newest, {newest.name}, is {why})"


def freshness_entry(member, result, container_uri, now, max_age):
    """What `check freshness` prints for one HSM."""
    folder = result.folder
    age = max(now - folder.when, timedelta(0)) if folder else None
    return {
        "hsmName": member.hsm_name,
        "hsmUrl": member.hsm_url,
        "resourceId": member.resource_id,
        "state": result.state,
        "lastBackupTime": iso_utc(folder.when) if folder else None,
        "lastBackupFolder": folder.name if folder else None,
        "lastBackupUrl": f"{container_uri}/{folder.name}" if folder else None,
        "confirmed": result.confirmed,
        "age": describe_age(age) if folder else None,
        "ageSeconds": int(age.total_seconds()) if folder else None,
        "maxAge": iso_duration(max_age),
        "reason": result.reason,
    }
