"""What a backup folder is: its name (mhsm-<HSM name>-<yyyyMMddHHmmssff>, the UTC time its job started) and, as far
as storage alone can tell, the files of a backup."""

import re
from datetime import datetime, timedelta, timezone

from azext_hsmbackup._text import shown
from azext_hsmbackup.model.names import HSM_NAME_RE
from azext_hsmbackup.model.problems import InvalidValue

# mhsm-<HSM name>-<yyyyMMddHHmmssff>: the only folders the service writes, always at the top of the container.
# [0-9], not \d, which would also take other scripts' digits.
FOLDER_RE = re.compile(r"mhsm-(?P<hsm>[A-Za-z0-9-]+)-(?P<stamp>[0-9]{16})")


def parse_folder_name(name):
    """mhsm-{hsm}-{yyyyMMddHHmmssff} (a valid HSM name, a real UTC time) -> (hsm name, UTC time), else None."""
    match = FOLDER_RE.fullmatch(name) if isinstance(name, str) else None
    if not match or not HSM_NAME_RE.fullmatch(match["hsm"]):
        return None
    s = match["stamp"]
    try:
        when = datetime(
            int(s[0:4]),
            int(s[4:6]),
            int(s[6:8]),
            int(s[8:10]),
            int(s[10:12]),
            int(s[12:14]),
            int(s[14:16]) * 10000,
            tzinfo=timezone.utc,
        )
    except ValueError:  # 2026-02-30, hour 24, ...
        return None
    return match["hsm"], when


# What "holds a backup's files" means, as far as storage alone can tell. The service names a backup folder after the
# UTC time its job started and asks the SAS to stay valid for 24 hours from then, so a folder it wrote holds blobs,
# none of them empty, every one created between that time and 24 hours later (give or take clock skew between the
# HSM and storage). That needs no knowledge of the service's file names, so it holds against Azure as against the
# local stack; a folder someone made with a backup's name later on, or filled with other files, fails it. Passing it
# does not make a folder a finished backup (one still being written, or one a failed job left half-written, passes
# it too): only the HSM can say that (model/retention.py, service/evidence.py).
CLOCK_SKEW = timedelta(minutes=15)


JOB_WINDOW = timedelta(hours=24)


def _plural(count, word):
    return f"{count} {word}" + ("" if count == 1 else "s")


def blob_problem(blobs, when):
    """Why these blobs (one listing of a folder) are not the files of a backup started at `when`, or None."""
    if not blobs:
        return "it holds no blobs"
    empty = sum(1 for b in blobs if not b.size)
    if empty:
        return f"it has {_plural(empty, 'empty blob')}"
    earliest, latest = when - CLOCK_SKEW, when + JOB_WINDOW + CLOCK_SKEW
    stray = sum(1 for b in blobs if not (b.creation_time and earliest <= b.creation_time <= latest))
    if stray:
        return f"it has {_plural(stray, 'blob')} not written by a backup started at {iso_utc(when)}"
    return None


def iso_utc(when):
    return when.isoformat().replace("+00:00", "Z")


def check_folder_name(name, flag="--backup-folder"):
    """A backup folder is one top-level name of the service's form: never a path, a prefix or another folder."""
    if parse_folder_name(name) is None:
        raise InvalidValue(
            f"{flag} {shown(name)} is not a backup folder: give the folderName that create printed, "
            "mhsm-<hsm name>-<yyyyMMddHHmmssff> at the top of the container, e.g. mhsm-myhsm-2026112812000000."
        )
    return name
