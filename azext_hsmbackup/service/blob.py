"""Blob storage as the CLI user sees it: the backup folders of a container and their blobs, deleting them, and SAS
tokens minted from the signed-in identity. SDK imports stay inside the functions."""

from datetime import datetime, timedelta, timezone

from azext_hsmbackup.model.folders import iso_utc, parse_folder_name
from azext_hsmbackup.model.urls import split_container_uri
from azext_hsmbackup.service.credential import cli_credential

# The service asks a backup's SAS to stay valid for 24 hours from the start of the job.
JOB_SAS_LIFETIME = timedelta(hours=24, minutes=10)


CLI_SAS_LIFETIME = timedelta(hours=1)


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
    return container.from_container_url(container_uri, credential=cli_credential(cli_ctx))


def mint_user_delegation_sas(cli_ctx, container_uri, permissions, lifetime):
    """A user-delegation SAS for this one container, with only `permissions`, signed by the signed-in identity."""
    blob = blob_sdk()
    account_url, account, container = split_container_uri(container_uri)
    start = datetime.now(timezone.utc) - timedelta(minutes=5)  # clock skew between here and storage
    expiry = datetime.now(timezone.utc) + lifetime
    service = blob.BlobServiceClient(account_url, credential=cli_credential(cli_ctx))
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
        {"folderName": name, "folderUrl": f"{container_url}/{name}", "hsmName": hsm, "backupTime": iso_utc(when)}
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
