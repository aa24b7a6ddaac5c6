"""A full backup of one HSM, and a restore of one HSM or one key: what if, the question, the storage secret, the
job. Several HSMs at once: operations/fleet.py."""

from azext_hsmbackup._constants import BACKUP_SAS_PERMISSIONS, RESTORE_SAS_PERMISSIONS
from azext_hsmbackup.errors import EXIT_BAD_INPUT, ExitWith
from azext_hsmbackup.operations import prompt
from azext_hsmbackup.operations.job import job_output, run_job, storage_secret


def back_up_one(cmd, target, *, what_if, confirm, skip_wait, api_version, polling_interval):
    """az hsm-backup create of one HSM: what would happen, or the question, the storage secret and the job."""
    if what_if:
        return {
            "whatIf": True,
            "operation": "Full backup",
            "hsmUrl": target.hsm_url,
            "hsmName": target.hsm_name,
            "storageContainerUri": target.container_uri,
            "storageAuth": target.storage_auth,
            "apiVersion": api_version,
            "message": f"What if: Performing a full backup of HSM {target.hsm_name} into {target.container_uri}.",
        }
    if confirm:
        prompt.confirm(
            f"Perform a full backup of HSM {target.hsm_name} and store it in {target.container_uri}?",
            cli_ctx=cmd.cli_ctx,
        )
    secret = storage_secret(cmd, target, BACKUP_SAS_PERMISSIONS)
    job, _ = run_job(
        cmd,
        target,
        "backup",
        lambda client, **kw: client.begin_backup(target.container_uri, **kw),
        skip_wait=skip_wait,
        polling_interval=polling_interval,
        api_version=api_version,
        sas_token=secret,
    )
    return job_output(job, target)  # the final status, read field by field (a Succeeded backup names its folder)


def restore(cmd, target, *, key_name, what_if, yes, skip_wait, api_version, polling_interval):
    """az hsm-backup restore: of the whole HSM, or of one key (--key-name), from one backup folder."""
    # The validator refused an empty or impossible --key-name; a key name given at all means a selective restore,
    # so that no value of it can ever turn into a full restore.
    selective = key_name is not None
    if selective and not key_name.strip():  # belt and braces: the SDK takes an empty name as "every key"
        from azure.cli.core.azclierror import InvalidArgumentValueError

        raise ExitWith(
            InvalidArgumentValueError(
                "--key-name is empty: give the one key to restore, 1-127 letters, digits and hyphens."
            ),
            EXIT_BAD_INPUT,
        )
    what = f"key {key_name} of HSM {target.hsm_name}" if selective else f"HSM {target.hsm_name}"
    if what_if:
        return {
            "whatIf": True,
            "operation": "Selective key restore" if selective else "Full restore",
            "hsmUrl": target.hsm_url,
            "hsmName": target.hsm_name,
            "folderUrl": target.folder_url,
            "keyName": key_name,
            "storageAuth": target.storage_auth,
            "apiVersion": api_version,
            "message": f"What if: Restoring {what} from {target.folder_url}, overwriting what the HSM holds.",
        }
    if not yes:
        prompt.confirm(f"Restore {what} from {target.folder_url}? This overwrites what the HSM holds.", flag="--yes")
    secret = storage_secret(cmd, target, RESTORE_SAS_PERMISSIONS)
    job, _ = run_job(
        cmd,
        target,
        "restore",
        lambda client, **kw: client.begin_restore(target.folder_url, key_name=key_name, **kw),
        skip_wait=skip_wait,
        polling_interval=polling_interval,
        api_version=api_version,
        sas_token=secret,
    )
    result = job_output(job, target)
    result.update(folderUrl=target.folder_url, folderName=target.folder, keyName=key_name)
    return result
