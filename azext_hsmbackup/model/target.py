"""Where a job runs and what it reaches: the HSM, the blob container (and a backup folder in it) and how storage is
reached, resolved from any parameter set of Backup-AzKeyVault, in az words. Pure: plain values in, a Target (and
warnings) or one Problem out, so the whole parameter-set table is tested without a CLI."""

from dataclasses import dataclass, replace

from azext_hsmbackup._constants import BACKUP_SAS_PERMISSIONS, RESTORE_SAS_PERMISSIONS
from azext_hsmbackup.model import sas
from azext_hsmbackup.model.bounds import three_state
from azext_hsmbackup.model.folders import check_folder_name
from azext_hsmbackup.model.hsm_objects import hsm_url_from_object
from azext_hsmbackup.model.names import check_job_id
from azext_hsmbackup.model.problems import ConflictingValues, InvalidValue, MissingValue
from azext_hsmbackup.model.urls import (
    check_container_uri,
    container_uri_from_names,
    hsm_name_from_url,
    hsm_url_from_id,
    hsm_url_from_name,
    split_folder_url,
)

HSM_FLAGS = "--hsm-name, --hsm-object or --id"


STORAGE_FLAGS = "--storage-container-uri, or --storage-account-name with --storage-container-name"


@dataclass(frozen=True)
class Target:
    """Where a backup goes, resolved from any parameter set."""

    hsm_url: str
    hsm_name: str
    container_uri: str
    storage_auth: str  # "sas", "managedIdentity" or "mintedSas" (a user-delegation SAS minted when needed)
    sas_token: str = None
    folder: str = None  # the backup folder a restore or delete works on
    mhsm_dns_suffix: str = None  # the cloud's, to reach the HSM a folder's name names (prune, delete)

    def __repr__(self):  # never show the token, even in a debugger or a log line
        return f"Target(hsm_url={self.hsm_url!r}, container_uri={self.container_uri!r}, auth={self.storage_auth!r})"

    @property
    def folder_url(self):
        return f"{self.container_uri}/{self.folder}" if self.folder else None


def given_flags(**flags):
    """The flags the user typed. An empty string was typed too: it is refused by the flag's own check."""
    return [name for name, value in flags.items() if value is not None and value is not False]


def resolve_hsm_url(hsm_name, hsm_object, hsm_id, mhsm_dns_suffix):
    given = given_flags(**{"--hsm-name": hsm_name, "--hsm-object": hsm_object, "--id": hsm_id})
    if not given:
        raise MissingValue(f"No HSM given: specify it with {HSM_FLAGS}.")
    if len(given) > 1:
        raise ConflictingValues(
            f"{' and '.join(given)} cannot be used together: specify the HSM once, with {HSM_FLAGS}."
        )
    if hsm_name is not None:
        return hsm_url_from_name(hsm_name, mhsm_dns_suffix)
    if hsm_object is not None:
        return hsm_url_from_object(hsm_object, mhsm_dns_suffix)
    return hsm_url_from_id(hsm_id, mhsm_dns_suffix)


def resolve_container_uri(account, container, container_uri, storage_endpoint_suffix):
    if container_uri is not None and (account is not None or container is not None):
        names = " and ".join(given_flags(**{"--storage-account-name": account, "--storage-container-name": container}))
        raise ConflictingValues(
            f"--storage-container-uri cannot be combined with {names}: "
            "give the container either as a URI or as account and container names."
        )
    if container_uri is not None:
        return check_container_uri(container_uri)
    if account is not None and container is None:
        raise MissingValue("--storage-account-name needs --storage-container-name (or --blob-container-name) too.")
    if container is not None and account is None:
        raise MissingValue("--storage-container-name needs --storage-account-name too.")
    if account is None:
        raise MissingValue(f"No blob container given: specify it with {STORAGE_FLAGS}.")
    return container_uri_from_names(account, container, storage_endpoint_suffix)


SAS_MODE, MI_MODE, MINT_MODE = "sas", "managedIdentity", "mintedSas"


def resolve_storage_auth(
    sas_token, use_managed_identity, mint_sas, container_uri, *, needed_permissions, hsm_side=True
):
    """Return (mode, token, warnings).

    hsm_side: the HSM itself reaches storage (backup, restore, checks), so its managed identity is an option and one
    option is required. Otherwise (list, delete, prune) az reaches storage, as the signed-in identity by default.
    Warnings about the SAS's lifetime matter only where the HSM runs a job with it, so only hsm_side gives them.
    """
    use_managed_identity = three_state(use_managed_identity, "--use-user-managed-identity")
    given = given_flags(
        **{"--sas-token": sas_token, "--use-user-managed-identity": use_managed_identity, "--mint-sas": mint_sas}
    )
    if len(given) > 1:
        raise ConflictingValues(
            f"{' and '.join(given)} cannot be used together: storage is reached with a SAS token "
            "or with the HSM's user-assigned managed identity."
        )
    if use_managed_identity:
        if not hsm_side:
            raise InvalidValue(
                "--use-user-managed-identity is the HSM's identity and this command runs as you: "
                "pass --sas-token, or leave it out to use your signed-in identity."
            )
        return MI_MODE, None, []
    if mint_sas or (sas_token is None and not hsm_side):
        return MINT_MODE, None, []
    if sas_token is None:
        raise MissingValue(
            "No storage access given: pass --sas-token (e.g. --sas-token @token.txt), "
            "--use-user-managed-identity (the HSM's own user-assigned identity), or --mint-sas "
            "(a short-lived SAS minted from your signed-in identity)."
        )
    token = sas.normalize_sas(sas_token, container_uri)
    warnings = sas.check_sas(token, needed_permissions)
    return SAS_MODE, token, warnings if hsm_side else []


def resolve_folder(folder_url, backup_folder, account, container, container_uri, *, storage_endpoint_suffix):
    """One folder form: --folder-url (or a URL in --backup-folder), or --backup-folder NAME with the storage flags."""
    if backup_folder and backup_folder.lower().startswith(("https://", "http://")):
        folder_url, backup_folder = backup_folder, None
        flag = "--backup-folder"
    else:
        flag = "--folder-url"
    if folder_url and backup_folder:
        raise ConflictingValues(
            "--folder-url and --backup-folder cannot be used together: give the folder URL, "
            "or the folder name with the container."
        )
    if folder_url:
        storage = given_flags(
            **{
                "--storage-account-name": account,
                "--storage-container-name": container,
                "--storage-container-uri": container_uri,
            }
        )
        if storage:
            raise ConflictingValues(f"{flag} already names the container: leave out {' and '.join(storage)}.")
        return split_folder_url(folder_url, flag)
    if not backup_folder:
        raise MissingValue(
            "No backup folder given: pass --folder-url (the folderUrl create printed), "
            "or --backup-folder with the container."
        )
    uri = resolve_container_uri(account, container, container_uri, storage_endpoint_suffix)
    return uri, check_folder_name(backup_folder)


def resolve_target(*, hsm_name=None, hsm_object=None, hsm_id=None, mhsm_dns_suffix=None, **storage_flags):
    """create, check backup: one HSM form, one storage form, one storage auth mode. Returns (Target, warnings).

    `storage_flags` are resolve_backup_storage's (container, storage auth, suffix, permissions)."""
    hsm_url = resolve_hsm_url(hsm_name, hsm_object, hsm_id, mhsm_dns_suffix)
    storage, warnings = resolve_backup_storage(**storage_flags)
    return replace(storage, hsm_url=hsm_url, hsm_name=hsm_name_from_url(hsm_url)), warnings


def resolve_backup_storage(
    *,
    storage_account_name=None,
    storage_container_name=None,
    storage_container_uri=None,
    sas_token=None,
    use_managed_identity=None,
    mint_sas=None,
    storage_endpoint_suffix=None,
    needed_permissions=BACKUP_SAS_PERMISSIONS,
):
    """Where backups go and how the HSM reaches it, for one HSM or many: a Target without an HSM, and warnings."""
    container_uri = resolve_container_uri(
        storage_account_name, storage_container_name, storage_container_uri, storage_endpoint_suffix
    )
    mode, token, warnings = resolve_storage_auth(
        sas_token, use_managed_identity, mint_sas, container_uri, needed_permissions=needed_permissions
    )
    return Target(None, None, container_uri, mode, token), warnings


def resolve_restore_target(
    *,
    hsm_name=None,
    hsm_object=None,
    hsm_id=None,
    folder_url=None,
    backup_folder=None,
    storage_account_name=None,
    storage_container_name=None,
    storage_container_uri=None,
    sas_token=None,
    use_managed_identity=None,
    mint_sas=None,
    mhsm_dns_suffix=None,
    storage_endpoint_suffix=None,
    needed_permissions=RESTORE_SAS_PERMISSIONS,
):
    """restore, check restore: one HSM form, one folder form, one storage auth mode."""
    hsm_url = resolve_hsm_url(hsm_name, hsm_object, hsm_id, mhsm_dns_suffix)
    container_uri, folder = resolve_folder(
        folder_url,
        backup_folder,
        storage_account_name,
        storage_container_name,
        storage_container_uri,
        storage_endpoint_suffix=storage_endpoint_suffix,
    )
    mode, token, warnings = resolve_storage_auth(
        sas_token, use_managed_identity, mint_sas, container_uri, needed_permissions=needed_permissions
    )
    return Target(hsm_url, hsm_name_from_url(hsm_url), container_uri, mode, token, folder), warnings


def resolve_storage_target(
    *,
    storage_account_name=None,
    storage_container_name=None,
    storage_container_uri=None,
    sas_token=None,
    use_managed_identity=None,
    storage_endpoint_suffix=None,
    needed_permissions="l",
    backup_folder=None,
    mhsm_dns_suffix=None,
):
    """list, delete, prune: the container (and a folder name for delete), reached as the CLI user.

    delete and prune also let each HSM read its folders for its pre-restore check: with the SAS given (so it needs
    'r' and 'l' besides 'd'), a SAS minted for it, or --use-user-managed-identity, its own identity."""
    container_uri = resolve_container_uri(
        storage_account_name, storage_container_name, storage_container_uri, storage_endpoint_suffix
    )
    if three_state(use_managed_identity, "--use-user-managed-identity"):
        if sas_token is not None:
            raise ConflictingValues(
                "--sas-token and --use-user-managed-identity cannot be used together: with the HSMs' own identities "
                "for their checks, you reach storage as your signed-in identity; leave --sas-token out."
            )
        mode, token, warnings = MI_MODE, None, []
    else:
        mode, token, warnings = resolve_storage_auth(
            sas_token, None, None, container_uri, needed_permissions=needed_permissions, hsm_side=False
        )
    folder = check_folder_name(backup_folder) if backup_folder is not None else None
    return Target(None, None, container_uri, mode, token, folder, mhsm_dns_suffix), warnings


def resolve_job(*, hsm_name=None, hsm_object=None, hsm_id=None, job_id=None, mhsm_dns_suffix=None, **_):
    hsm_url = resolve_hsm_url(hsm_name, hsm_object, hsm_id, mhsm_dns_suffix)
    check_job_id(job_id)
    return Target(hsm_url, hsm_name_from_url(hsm_url), None, None), []
