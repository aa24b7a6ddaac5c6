"""Flags of `az hsm-backup`: the Backup-AzKeyVault names, plus the `az keyvault backup start` names as aliases.

The flags that say which HSM, container, folder and storage authentication (the parameter sets) are `c.extra`, as in
az's own keyvault module: only the command validators read them, resolve them into one `target` and remove them
from the namespace, so the command functions take `target` and the few flags that change what they do.
"""

from azext_hsmbackup._constants import (
    BACKUP_SAS_PERMISSIONS,
    DEFAULT_API_VERSION,
    DEFAULT_POLLING_INTERVAL,
    MAX_RETRY_AFTER_S,
    RESTORE_SAS_PERMISSIONS,
    RETENTION_SAS_PERMISSIONS,
)
from azext_hsmbackup._validators import PROMPT_FOR_SAS
from azext_hsmbackup.model.bounds import MAX_PARALLEL_RANGE, POLLING_INTERVAL_RANGE, TIMEOUT_RANGE
from azext_hsmbackup.model.freshness import DEFAULT_MAX_AGE

HSM_COMMANDS = ("create", "restore", "check backup", "check restore", "show", "wait")
STORAGE_COMMANDS = ("list", "delete", "prune")


def load_arguments(loader, _):
    for command in HSM_COMMANDS:
        scope = f"hsm-backup {command}"
        _hsm_arguments(loader, scope)
        with loader.argument_context(scope) as c:
            c.argument(
                "api_version",
                options_list=["--api-version"],
                help="Managed HSM data-plane api-version (7.x, 7.x-preview.N, YYYY-MM-DD or YYYY-MM-DD-preview). "
                f"Default: {DEFAULT_API_VERSION}.",
            )
            c.argument(  # no `type=`: the validator checks the number and says what is wrong in one line
                "polling_interval",
                options_list=["--polling-interval"],
                help=f"Seconds between status checks while waiting, {POLLING_INTERVAL_RANGE[0]:g} to "
                f"{POLLING_INTERVAL_RANGE[1]:g}. Default: {DEFAULT_POLLING_INTERVAL:g}; "
                f"a Retry-After sent by the service is honoured, up to {MAX_RETRY_AFTER_S} s.",
            )
            c.ignore("target")
    for command, permissions in (
        ("create", BACKUP_SAS_PERMISSIONS),
        ("check backup", BACKUP_SAS_PERMISSIONS),
        ("restore", RESTORE_SAS_PERMISSIONS),
        ("check restore", RESTORE_SAS_PERMISSIONS),
    ):
        _storage_arguments(loader, f"hsm-backup {command}")
        _hsm_storage_auth_arguments(loader, f"hsm-backup {command}", permissions)
    for command, permissions in (
        ("list", "l"),
        ("delete", RETENTION_SAS_PERMISSIONS),
        ("prune", RETENTION_SAS_PERMISSIONS),
    ):
        scope = f"hsm-backup {command}"
        _storage_arguments(loader, scope)
        with loader.argument_context(scope, arg_group="Storage Authentication") as c:
            _sas_flag(c, _sas_help(permissions, minted_default=True))
            if command != "list":
                _managed_identity_flag(
                    c,
                    "Let each HSM read its backup folders for its pre-restore check with its OWN user-assigned "
                    "managed identity (storage behind a firewall or private endpoint); you still list and delete as "
                    "your signed-in identity.",
                )
        with loader.argument_context(scope) as c:
            c.ignore("target")
    for command in ("restore", "check restore"):
        _folder_arguments(loader, f"hsm-backup {command}")
    _freshness_arguments(loader)

    for command in ("create", "restore", "delete", "prune"):
        with loader.argument_context(f"hsm-backup {command}") as c:
            c.argument(
                "what_if",
                options_list=["--what-if"],
                action="store_true",
                help="Show what would happen and change nothing.",
            )
    for command in ("restore", "delete", "prune"):
        with loader.argument_context(f"hsm-backup {command}") as c:
            c.argument("yes", options_list=["--yes", "-y"], action="store_true", help="Do not ask for confirmation.")
    for command in ("create", "restore"):
        with loader.argument_context(f"hsm-backup {command}") as c:
            c.argument(  # not az's `no_wait`: that one would make az drop the job id from the output
                "skip_wait",
                options_list=["--no-wait"],
                action="store_true",
                help="Return as soon as the service has accepted the job, with its job id.",
            )

    with loader.argument_context("hsm-backup create") as c:
        c.argument("confirm", options_list=["--confirm"], action="store_true", help="Ask before starting the backup.")
        c.argument(
            "max_parallel",
            options_list=["--max-parallel"],
            help=f"Several HSMs: how many backup jobs run at once, {MAX_PARALLEL_RANGE[0]}-{MAX_PARALLEL_RANGE[1]}, "
            "at most one per HSM. Default: 5.",
        )
    _fleet_arguments(loader, "hsm-backup create", "backed up once, and the output is one entry per HSM")
    with loader.argument_context("hsm-backup wait", arg_group="HSM Id") as c:
        c.extra(
            "hsm_ids",
            options_list=["--ids"],
            nargs="+",
            help="Several HSMs, with one --job-id each in the same order.",
        )
        c.extra(
            "jobs",
            options_list=["--jobs"],
            help="The JSON array that `az hsm-backup create --no-wait` printed for several HSMs (inline, @file.json, "
            "or - for stdin): waits for every job in it.",
        )
    with loader.argument_context("hsm-backup restore") as c:
        c.argument(
            "key_name",
            options_list=["--key-name", "--key"],
            help="Restore only this key from the backup (selective key restore): 1-127 letters, digits and hyphens.",
        )
    for command in ("show", "wait"):
        with loader.argument_context(f"hsm-backup {command}") as c:
            c.argument(  # not required by argparse: the validator says it is missing in one line
                "job_id",
                options_list=["--job-id"],
                required=False,
                nargs="+" if command == "wait" else None,
                help="Id of the job (32 hex digits, from create or restore). Required"
                + (" (one per HSM with --ids; not with --jobs)." if command == "wait" else "."),
            )
    with loader.argument_context("hsm-backup wait") as c:
        c.argument(
            "timeout",
            options_list=["--timeout"],
            help=f"Give up waiting after this many seconds, {TIMEOUT_RANGE[0]:g} to {TIMEOUT_RANGE[1]:g} (7 days).",
        )
    with loader.argument_context("hsm-backup list") as c:
        c.argument("hsm_filter", options_list=["--hsm-name"], help="Only the backups of this HSM.")
        c.argument(
            "details",
            options_list=["--details"],
            action="store_true",
            help="Also count each backup's blobs and bytes (one more listing per backup).",
        )
    with loader.argument_context("hsm-backup delete") as c:
        c.extra(
            "backup_folder",
            options_list=["--backup-folder"],
            help="The folderName that create printed, mhsm-HSMNAME-TIMESTAMP (e.g. mhsm-myhsm-2026112812000000).",
        )
    with loader.argument_context("hsm-backup prune") as c:
        c.argument(
            "keep",
            options_list=["--keep"],
            help="Keep this many newest backups of each HSM (1-10000). The newest always stays.",
        )
        c.argument(
            "older_than",
            options_list=["--older-than"],
            help="Delete backups older than this many days (above 0, at most 36500).",
        )
        c.argument("hsm_filter", options_list=["--hsm-name"], help="Only prune the backups of this HSM.")


def _fleet_arguments(loader, scope, each):
    with loader.argument_context(scope, arg_group="HSM Id") as c:
        c.extra(
            "hsm_ids",
            options_list=["--ids"],
            nargs="+",
            help="Several HSMs: their URLs or resource IDs, space-separated (a `-o tsv` list works). "
            f"Each HSM is {each}.",
        )
        c.extra(
            "all_hsms",
            options_list=["--all"],
            action="store_true",
            help="Every Managed HSM of the subscription (--subscription, or the current one), or of the resource "
            "group given with --resource-group, as ARM lists them.",
        )
        c.extra(
            "resource_group",
            options_list=["--resource-group", "-g"],
            help="With --all: only the Managed HSMs of this resource group.",
        )


def _freshness_arguments(loader):
    scope = "hsm-backup check freshness"
    _hsm_arguments(loader, scope)
    _fleet_arguments(loader, scope, "checked once, and the output is one entry per HSM")
    _storage_arguments(loader, scope)
    with loader.argument_context(scope, arg_group="Storage Authentication") as c:
        _sas_flag(
            c,
            _sas_help("rl", minted_default=True)
            + " The HSMs read their newest folders with it for their pre-restore checks.",
        )
        _managed_identity_flag(
            c,
            "Let each HSM read its newest folders for its pre-restore check with its OWN user-assigned managed "
            "identity (storage behind a firewall or private endpoint); you still list the container as your "
            "signed-in identity.",
        )
    with loader.argument_context(scope) as c:
        c.argument(
            "max_age",
            options_list=["--max-age"],
            help=f"How old an HSM's newest finished backup may be and still count as fresh: 26h, 90m, 7d, 2w, or "
            f"ISO 8601 such as P1D or PT26H; from 1 minute to 366 days. Default: {DEFAULT_MAX_AGE} (a nightly "
            "backup, with two hours to spare).",
        )
        c.ignore("target")


def _sas_help(permissions, minted_default=False):
    default = " Without it, a SAS is minted for you from your signed-in identity." if minted_default else ""
    if permissions == RETENTION_SAS_PERMISSIONS:
        default += " The HSMs read the folders with it for their pre-restore checks (r, l)."
    return (
        f"SAS token of the container, with permissions '{permissions}'. Keep it out of shell history and the process "
        "list: `--sas-token @file` reads it from a file, `--sas-token -` from stdin, and `--sas-token` alone asks "
        f"for it without echo. A leading '?' is fine.{default}"
    )


def _hsm_arguments(loader, scope):
    with loader.argument_context(scope, arg_group="HSM Id") as c:
        c.extra("hsm_name", options_list=["--hsm-name"], help="Name of the Managed HSM.")
        c.extra(
            "hsm_object",
            options_list=["--hsm-object"],
            help="The HSM as printed by `az keyvault show --hsm-name NAME`, or by PowerShell's "
            "`Get-AzKeyVaultManagedHsm | ConvertTo-Json` (JSON inline, @file.json, or - for stdin); its hsmUri is "
            "used. create and check freshness also take a JSON array (`az keyvault list --resource-type hsm`): "
            "every HSM in it.",
        )
        c.extra(
            "hsm_id",
            options_list=["--id"],
            help="URL of the HSM, e.g. `https://myhsm.managedhsm.azure.net` (private endpoints, other clouds), or its "
            "resource ID: `/subscriptions/ID/resourceGroups/GROUP/providers/Microsoft.KeyVault/managedHSMs/NAME`.",
        )


def _storage_arguments(loader, scope):
    with loader.argument_context(scope, arg_group="Storage Id") as c:
        c.extra("storage_account_name", options_list=["--storage-account-name"], help="Name of the storage account.")
        c.extra(
            "storage_container_name",
            options_list=["--storage-container-name", "--blob-container-name"],
            help="Name of the blob container in --storage-account-name. The container must exist.",
        )
        c.extra(
            "storage_container_uri",
            options_list=["--storage-container-uri", "--storage-resource-uri"],
            help="URL of the blob container, e.g. `https://myaccount.blob.core.windows.net/backups`. "
            "Replaces --storage-account-name and --storage-container-name.",
        )


def _hsm_storage_auth_arguments(loader, scope, permissions):
    with loader.argument_context(scope, arg_group="Storage Authentication") as c:
        _sas_flag(c, _sas_help(permissions))
        _managed_identity_flag(
            c,
            "Let the HSM reach storage with its OWN user-assigned managed identity (assigned to the HSM, "
            "with 'Storage Blob Data Contributor' on the container) instead of a SAS token. "
            "Accepts the `--use-managed-identity true` form of `az keyvault backup start`.",
        )
        c.extra(
            "mint_sas",
            options_list=["--mint-sas"],
            action="store_true",
            help=f"Mint a user-delegation SAS for this one container, with only '{permissions}' and valid for the "
            "24 hours the service asks for, from your signed-in identity: no secret to type. Your identity needs "
            "'Storage Blob Data Contributor' on the container and 'Storage Blob Delegator' on the storage account "
            "(for the user-delegation key).",
        )


def _sas_flag(c, help_text):
    """--sas-token (and the built-in's name for it): alone it asks without echo, `-` reads stdin, @file az reads."""
    c.extra(
        "sas_token",
        options_list=["--sas-token", "--storage-container-SAS-token", "-t"],
        nargs="?",
        const=PROMPT_FOR_SAS,
        help=help_text,
    )


def _managed_identity_flag(c, help_text):
    """az's three-state flag (--mi, --mi true, --mi false), without argparse choices: the validator refuses other
    values in one line."""
    c.extra(
        "use_managed_identity",
        nargs="?",
        const="true",
        options_list=["--use-user-managed-identity", "--use-managed-identity", "--mi"],
        help=f"{help_text} Allowed values: true, false.",
    )


def _folder_arguments(loader, scope):
    with loader.argument_context(scope, arg_group="Backup Folder") as c:
        c.extra(
            "folder_url",
            options_list=["--folder-url"],
            help="The folderUrl that create printed; names the container too.",
        )
        c.extra(
            "backup_folder",
            options_list=["--backup-folder"],
            help="The folderName that create printed (e.g. mhsm-myhsm-2026112812000000), with the Storage Id flags.",
        )
