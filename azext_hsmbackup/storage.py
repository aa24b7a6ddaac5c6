"""Blob storage as the CLI user sees it: the backups in a container, deleting them, and SAS tokens minted from
the signed-in identity. SDK imports stay inside the functions."""

import re
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

FOLDER_RE = re.compile(r"^mhsm-(?P<hsm>.+)-(?P<stamp>\d{16})$")

# The service asks a backup's SAS to stay valid for 24 hours from the start of the job.
JOB_SAS_LIFETIME = timedelta(hours=24, minutes=10)
CLI_SAS_LIFETIME = timedelta(hours=1)


def parse_folder_name(name):
    """mhsm-{hsm}-{yyyyMMddHHmmssff} -> (hsm name, UTC time), or None for anything else."""
    match = FOLDER_RE.match(name)
    if not match:
        return None
    stamp = match.group("stamp")
    try:
        when = datetime.strptime(stamp[:14], "%Y%m%d%H%M%S").replace(
            microsecond=int(stamp[14:]) * 10000, tzinfo=timezone.utc
        )
    except ValueError:
        return None
    return match.group("hsm"), when


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


def container_client(cli_ctx, container_uri, sas_token=None):
    """A ContainerClient that authenticates with the SAS token, or else as the signed-in identity (OAuth)."""
    from azure.storage.blob import ContainerClient

    if sas_token:
        return ContainerClient.from_container_url(f"{container_uri}?{sas_token}")
    return ContainerClient.from_container_url(container_uri, credential=_cli_credential(cli_ctx))


def mint_user_delegation_sas(cli_ctx, container_uri, permissions, lifetime):
    """A user-delegation SAS for this one container, with only `permissions`, signed by the signed-in identity."""
    from azure.storage.blob import BlobServiceClient, ContainerSasPermissions, generate_container_sas

    account_url, account, container = split_container_uri(container_uri)
    start = datetime.now(timezone.utc) - timedelta(minutes=5)  # clock skew between here and storage
    expiry = datetime.now(timezone.utc) + lifetime
    service = BlobServiceClient(account_url, credential=_cli_credential(cli_ctx))
    with service:
        key = service.get_user_delegation_key(start, expiry)
    return generate_container_sas(
        account,
        container,
        user_delegation_key=key,
        permission=ContainerSasPermissions.from_string(permissions),
        start=start,
        expiry=expiry,
        protocol="https",
    )


def list_backups(client, hsm_name=None, details=False):
    """Backup folders in the container, newest first.

    One delimiter listing: the cost grows with the number of backups, not blobs. `details` adds one listing per
    folder (blob count, size, completeness).
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
                "backupTime": parsed[1].isoformat().replace("+00:00", "Z"),
            }
        )
    backups.sort(key=lambda b: (b["backupTime"], b["folderName"]), reverse=True)
    if details:
        for backup in backups:
            backup.update(folder_details(client, backup["folderName"]))
    return backups


def folder_details(client, folder):
    count = size = 0
    empty = 0
    for blob in client.list_blobs(name_starts_with=folder + "/"):
        count += 1
        size += blob.size or 0
        empty += not blob.size
    return {"blobCount": count, "sizeBytes": size, "complete": count > 0 and empty == 0}


def delete_folder(client, folder):
    """Delete every blob of one backup folder; returns how many went."""
    names = [blob.name for blob in client.list_blobs(name_starts_with=folder + "/")]
    for name in names:
        client.delete_blob(name)
    return len(names)
