"""Blob storage as the CLI user sees it: the backups in a container, deleting them, and SAS tokens minted from
the signed-in identity. SDK imports stay inside the functions."""

import json
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


# What "holds a backup's files" means. The service names a backup folder after the UTC time its job started and asks
# the SAS to stay valid for 24 hours from then, so a folder it wrote holds blobs, none of them empty, every one
# created between that time and 24 hours later (give or take clock skew between the HSM and storage). That needs no
# knowledge of the service's file names, so it holds against Azure as against the local stack. A folder someone
# made with a backup's name later on, or filled with other files, fails it. A backup that carries an index of its
# blobs (`manifest.json` naming `keys[].blob`, as the local stand-in of the service writes) must also still have
# every blob the index names: a folder with part of it deleted is not a backup any more.
CLOCK_SKEW = timedelta(minutes=15)
JOB_WINDOW = timedelta(hours=24)
MANIFEST = "manifest.json"
MANIFEST_MAX_BYTES = 8 * 1024 * 1024


def _plural(count, word):
    return f"{count} {word}" + ("" if count == 1 else "s")


def _blob_problem(blobs, when):
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


def _manifest_problem(client, folder, blobs):
    """Why the folder's own index of its blobs (when it has one) does not match what is there, or None."""
    names = {b.name: b for b in blobs}
    manifest = names.get(f"{folder}/{MANIFEST}")
    if manifest is None:
        return None
    if manifest.size > MANIFEST_MAX_BYTES:
        return f"its {MANIFEST} is too large to check"
    from azure.core.exceptions import HttpResponseError

    try:
        index = json.loads(client.download_blob(manifest.name).readall())
    except ValueError:
        return None  # not an index of ours to check
    except HttpResponseError:  # e.g. a SAS with 'ld' but no 'r': unchecked is not complete
        return f"its {MANIFEST} could not be read (a --sas-token needs 'r' too)"
    entries = index.get("keys") if isinstance(index, dict) else None
    if not isinstance(entries, list):
        return None
    wanted = {f"{folder}/{e['blob']}" for e in entries if isinstance(e, dict) and isinstance(e.get("blob"), str)}
    missing = len(wanted - names.keys())
    return f"it lacks {_plural(missing, 'blob')} its {MANIFEST} names" if missing else None


def inspect_folder(client, folder, when):
    """One listing of `folder/` (the slash: never a longer name that starts the same): counts and completeness."""
    blobs = list(client.list_blobs(name_starts_with=folder + "/"))
    problem = _blob_problem(blobs, when) or _manifest_problem(client, folder, blobs)
    return {
        "blobCount": len(blobs),
        "sizeBytes": sum(b.size or 0 for b in blobs),
        "complete": problem is None,
        "problem": problem,
    }


def iso_time(when):
    return when.isoformat().replace("+00:00", "Z")


def list_backups(client, hsm_name=None, details=False):
    """Backup folders in the container, newest first.

    One delimiter listing: the cost grows with the number of backups, not blobs. `details` adds one listing per
    folder (blob count, size, completeness and, when not complete, the problem; a read of its index if it has one).
    """
    backups = []
    for item in client.walk_blobs(delimiter="/"):
        name = item.name.rstrip("/")
        parsed = parse_folder_name(name) if item.name.endswith("/") else None
        if not parsed or (hsm_name and parsed[0].lower() != hsm_name.lower()):
            continue
        backups.append(
            {
                "folderName": name,
                "folderUrl": f"{client.url.split('?')[0].rstrip('/')}/{name}",
                "hsmName": parsed[0],
                "backupTime": iso_time(parsed[1]),
            }
        )
    backups.sort(key=lambda b: (b["backupTime"], b["folderName"]), reverse=True)
    return inspect_all(client, backups) if details else backups


def inspect_all(client, backups):
    """inspect_folder for each backup in place, eight at a time: each is a round trip or two, so latency counts."""
    from concurrent.futures import ThreadPoolExecutor

    def inspect(backup):
        return inspect_folder(client, backup["folderName"], parse_folder_name(backup["folderName"])[1])

    with ThreadPoolExecutor(8) as pool:
        states = list(pool.map(inspect, backups))  # map keeps the order and yields one state per backup
    for backup, state in zip(backups, states):
        backup.update(state)
    return backups


def plan_prune(backups, keep=None, older_than=None, now=None):
    """The folders prune deletes, from `backups` (newest first, each with `complete`).

    Only complete backups count: a folder that is not one is neither deleted nor counted. Per HSM, the newest
    complete backup always stays; with `keep`, the `keep` newest stay; with `older_than` (days), only older ones go;
    with both, only what both rules let go.
    """
    cutoff = (now or datetime.now(timezone.utc)) - timedelta(days=older_than) if older_than is not None else None
    doomed, rank = [], {}
    for backup in backups:
        if not backup["complete"]:
            continue
        hsm = backup["hsmName"].lower()
        rank[hsm] = rank.get(hsm, 0) + 1
        if rank[hsm] == 1:
            continue  # the newest backup of an HSM, whatever the flags
        if keep is not None and rank[hsm] <= keep:
            continue
        if cutoff is not None and parse_folder_name(backup["folderName"])[1] >= cutoff:
            continue
        doomed.append(backup)
    return doomed


def delete_folder(client, folder):
    """Delete the blobs of one backup folder, re-checked on the listing it deletes from.

    Returns (blobs deleted, None), or (0, why it is not a backup folder any more) having deleted nothing.
    """
    parsed = parse_folder_name(folder)
    if not parsed:
        return 0, "its name is not a backup folder's"
    blobs = list(client.list_blobs(name_starts_with=folder + "/"))
    problem = _blob_problem(blobs, parsed[1])
    if problem:
        return 0, problem
    for blob in blobs:
        client.delete_blob(blob.name)
    return len(blobs), None
