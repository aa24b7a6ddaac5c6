"""Blob storage as the CLI user sees it: the backups in a container, deleting them, and SAS tokens minted from
the signed-in identity. SDK imports stay inside the functions."""

import re
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

# mhsm-<HSM name>-<yyyyMMddHHmmssff>: the only folders the service writes, always at the top of the container.
# [0-9], not \d, which would also take other scripts' digits.
FOLDER_RE = re.compile(r"mhsm-(?P<hsm>[A-Za-z0-9-]+)-(?P<stamp>[0-9]{16})")

# The service asks a backup's SAS to stay valid for 24 hours from the start of the job.
JOB_SAS_LIFETIME = timedelta(hours=24, minutes=10)
CLI_SAS_LIFETIME = timedelta(hours=1)


def parse_folder_name(name):
    """mhsm-{hsm}-{yyyyMMddHHmmssff} (a valid HSM name, a real UTC time) -> (hsm name, UTC time), else None."""
    from azext_hsmbackup._validators import HSM_NAME_RE

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


def split_container_uri(container_uri):
    """(account URL, account name, container name) for host-style and path-style (IP) container URLs."""
    parts = urlsplit(container_uri)
    segments = [s for s in parts.path.split("/") if s]
    host = parts.hostname or ""
    if re.fullmatch(r"[\d.]+|localhost|\[.*\]", host):
        return f"{parts.scheme}://{parts.netloc}/{segments[0]}", segments[0], segments[1]
    return f"{parts.scheme}://{parts.netloc}", host.split(".")[0], segments[0]


def _cli_credential(cli_ctx):
    from azure.cli.core._profile import Profile

    credential, _, _ = Profile(cli_ctx=cli_ctx).get_login_credentials(
        subscription_id=cli_ctx.data.get("subscription_id")
    )
    return credential


def blob_sdk():
    """The host's blob SDK: azure-storage-blob, or the copy of it (12.16) inside azure-multiapi-storage.

    An extension cannot bring its own SDK (az puts the host's packages first on sys.path), and az releases before
    2.82 ship the blob client only inside azure-multiapi-storage.
    """
    try:
        from azure.storage import blob
    except ImportError:
        from azure.multiapi.storagev2.blob import v2022_11_02 as blob
    return blob


def container_client(cli_ctx, container_uri, sas_token=None):
    """A ContainerClient that authenticates with the SAS token, or else as the signed-in identity (OAuth)."""
    container = blob_sdk().ContainerClient
    if sas_token:
        return container.from_container_url(f"{container_uri}?{sas_token}")
    return container.from_container_url(container_uri, credential=_cli_credential(cli_ctx))


def mint_user_delegation_sas(cli_ctx, container_uri, permissions, lifetime):
    """A user-delegation SAS for this one container, with only `permissions`, signed by the signed-in identity."""
    blob = blob_sdk()
    account_url, account, container = split_container_uri(container_uri)
    start = datetime.now(timezone.utc) - timedelta(minutes=5)  # clock skew between here and storage
    expiry = datetime.now(timezone.utc) + lifetime
    service = blob.BlobServiceClient(account_url, credential=_cli_credential(cli_ctx))
    with service:
        key = service.get_user_delegation_key(start, expiry)
    return blob.generate_container_sas(
        account,
        container,
        user_delegation_key=key,
        permission=blob.ContainerSasPermissions.from_string(permissions),
        start=start,
        expiry=expiry,
        protocol="https",
    )


# What "holds a backup's files" means, as far as storage alone can tell. The service names a backup folder after the
# UTC time its job started and asks the SAS to stay valid for 24 hours from then, so a folder it wrote holds blobs,
# none of them empty, every one created between that time and 24 hours later (give or take clock skew between the
# HSM and storage). That needs no knowledge of the service's file names, so it holds against Azure as against the
# local stack; a folder someone made with a backup's name later on, or filled with other files, fails it. Passing it
# does not make a folder a finished backup (one still being written, or one a failed job left half-written, passes
# it too): only the HSM can say that (retention.py, evidence.py).
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
        return f"it has {_plural(stray, 'blob')} not written by a backup started at {iso_time(when)}"
    return None


def iso_time(when):
    return when.isoformat().replace("+00:00", "Z")


def backup_folders(client, hsm_name=None):
    """(folder name, HSM name, UTC time) of each backup folder at the top of the container: one delimiter listing,
    so the cost grows with the number of backups, not blobs."""
    for item in client.walk_blobs(delimiter="/"):
        name = item.name.rstrip("/")
        parsed = parse_folder_name(name) if item.name.endswith("/") else None
        if parsed and (not hsm_name or parsed[0].lower() == hsm_name.lower()):
            yield name, parsed[0], parsed[1]


def list_backups(client, hsm_name=None):
    """Backup folders in the container, newest first (one delimiter listing)."""
    container_url = client.url.split("?")[0].rstrip("/")
    backups = [
        {"folderName": name, "folderUrl": f"{container_url}/{name}", "hsmName": hsm, "backupTime": iso_time(when)}
        for name, hsm, when in backup_folders(client, hsm_name)
    ]
    backups.sort(key=lambda b: (b["backupTime"], b["folderName"]), reverse=True)
    return backups


def folder_blobs(client, prefix="mhsm-"):
    """{folder name: its blobs} for the top-level folders whose names start with `prefix`: one flat listing (pages
    of 5,000 blobs), not one listing per folder. The folder name is everything before the first '/'."""
    folders = {}
    for blob in client.list_blobs(name_starts_with=prefix):
        folder, slash, _ = blob.name.partition("/")
        if slash:
            folders.setdefault(folder, []).append(blob)
    return folders


def blobs_of(client, folder):
    """The blobs of one folder (the slash: never a longer name that starts the same)."""
    return list(client.list_blobs(name_starts_with=folder + "/"))


def delete_blobs(client, blobs):
    """Delete exactly these blobs, each only as it was listed (its ETag): (deleted, already gone, changed).

    A blob another run deleted meanwhile is already gone, not an error; a blob rewritten since it was listed stops
    the deletion of the rest (it is not the backup that was judged any more). A condition that fails on a blob that
    no longer exists (412 rather than 404, as Azurite answers and HTTP allows) is a blob already gone too.
    """
    from azure.core import MatchConditions
    from azure.core.exceptions import ResourceModifiedError, ResourceNotFoundError

    deleted = gone = 0
    for blob in blobs:
        try:
            client.delete_blob(blob.name, etag=blob.etag, match_condition=MatchConditions.IfNotModified)
            deleted += 1
        except ResourceNotFoundError:
            gone += 1
        except ResourceModifiedError:
            # a listing ('l'), not a read: the SAS of delete and prune may not read
            if any(b.name == blob.name for b in client.list_blobs(name_starts_with=blob.name)):
                return deleted, gone, blob.name
            gone += 1
    return deleted, gone, None
