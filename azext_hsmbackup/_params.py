"""Flags of `az hsm-backup`: the Backup-AzKeyVault names, plus the `az keyvault backup start` names as aliases."""

from azext_hsmbackup._constants import BACKUP_SAS_PERMISSIONS, DEFAULT_API_VERSION, DEFAULT_POLLING_INTERVAL
from azext_hsmbackup._validators import PROMPT_FOR_SAS


def load_arguments(loader, _):
    for scope in ("hsm-backup create", "hsm-backup show"):
        _hsm_arguments(loader, scope)
        with loader.argument_context(scope) as c:
            c.argument(
                "api_version",
                options_list=["--api-version"],
                help=f"Managed HSM data-plane api-version. Default: {DEFAULT_API_VERSION}.",
            )
            c.ignore("target")
    _storage_arguments(loader, "hsm-backup create", BACKUP_SAS_PERMISSIONS)

    with loader.argument_context("hsm-backup create") as c:
        c.argument(
            "what_if",
            options_list=["--what-if"],
            action="store_true",
            help="Show the resolved HSM URL, container, storage authentication and api-version; start nothing.",
        )
        c.argument("confirm", options_list=["--confirm"], action="store_true", help="Ask before starting the backup.")
        c.argument(
            "no_wait",
            options_list=["--no-wait"],
            action="store_true",
            help="Return as soon as the service has accepted the job, with its job id.",
        )
        c.argument(
            "polling_interval",
            options_list=["--polling-interval"],
            type=float,
            help=f"Seconds between status checks while waiting. Default: {DEFAULT_POLLING_INTERVAL:g}; "
            "a Retry-After sent by the service is always honoured.",
        )

    with loader.argument_context("hsm-backup show") as c:
        c.argument(
            "job_id", options_list=["--job-id"], help="Id of the backup or restore job (32 hex digits, from create)."
        )


def _hsm_arguments(loader, scope):
    with loader.argument_context(scope, arg_group="HSM Id") as c:
        c.argument("hsm_name", options_list=["--hsm-name"], help="Name of the Managed HSM.")
        c.argument(
            "hsm_object",
            options_list=["--hsm-object"],
            help="The HSM as printed by `az keyvault show --hsm-name NAME` (JSON inline or @file.json); "
            "its hsmUri is used.",
        )
        c.argument(
            "hsm_id",
            options_list=["--id"],
            help="URL of the HSM, e.g. https://myhsm.managedhsm.azure.net (private endpoints, other clouds), "
            "or its resource ID.",
        )


def _storage_arguments(loader, scope, permissions):
    from azure.cli.core.commands.parameters import get_three_state_flag

    with loader.argument_context(scope, arg_group="Storage Id") as c:
        c.argument("storage_account_name", options_list=["--storage-account-name"], help="Name of the storage account.")
        c.argument(
            "storage_container_name",
            options_list=["--storage-container-name", "--blob-container-name"],
            help="Name of the blob container in --storage-account-name. The container must exist.",
        )
        c.argument(
            "storage_container_uri",
            options_list=["--storage-container-uri", "--storage-resource-uri"],
            help="URL of the blob container, e.g. https://myaccount.blob.core.windows.net/backups. "
            "Replaces --storage-account-name and --storage-container-name.",
        )

    with loader.argument_context(scope, arg_group="Storage Authentication") as c:
        c.argument(
            "sas_token",
            options_list=["--sas-token", "--storage-container-SAS-token", "-t"],
            nargs="?",
            const=PROMPT_FOR_SAS,
            help=f"SAS token of the container, with permissions '{permissions}' and valid for 24 hours. "
            "Keep it out of shell history and the process list: `--sas-token @file` reads it from a file, "
            "`--sas-token -` from stdin, and `--sas-token` alone asks for it without echo. A leading '?' is fine.",
        )
        c.argument(
            "use_managed_identity",
            arg_type=get_three_state_flag(),
            options_list=["--use-user-managed-identity", "--use-managed-identity", "--mi"],
            help="Let the HSM reach storage with its OWN user-assigned managed identity (assigned to the HSM, "
            "with 'Storage Blob Data Contributor' on the container) instead of a SAS token. "
            "Accepts the `--use-managed-identity true` form of `az keyvault backup start`.",
        )
