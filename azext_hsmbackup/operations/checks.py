"""The service's pre-backup and pre-restore checks (api-version 7.6 and later): a job that checks, and changes
nothing."""

from azext_hsmbackup._constants import BACKUP_SAS_PERMISSIONS, DEFAULT_API_VERSION, RESTORE_SAS_PERMISSIONS
from azext_hsmbackup.errors import EXIT_BAD_INPUT, ExitWith
from azext_hsmbackup.operations.job import job_output, run_job, storage_secret

_PRE_CHECK_VERSIONS = ("7.2", "7.3", "7.4", "7.5", "7.5-preview.1", "7.6-preview.1")


def _check_api_version(api_version):
    from azure.cli.core.azclierror import InvalidArgumentValueError

    if api_version in _PRE_CHECK_VERSIONS:
        raise ExitWith(
            InvalidArgumentValueError(
                f"--api-version {api_version} has no pre-backup or pre-restore check: the checks need 7.6 or later "
                f"(default {DEFAULT_API_VERSION})."
            ),
            EXIT_BAD_INPUT,
        )


def _check_sdk_has(method):
    """The pre-checks came with azure-keyvault-administration 4.6.0; az ships it from 2.88.0 on (4.8.0b1)."""
    from azure.cli.core.azclierror import ValidationError
    from azure.keyvault.administration import KeyVaultBackupClient
    from azure.keyvault.administration._version import VERSION

    if not hasattr(KeyVaultBackupClient, method):
        raise ExitWith(
            ValidationError(
                f"az hsm-backup check needs az 2.88.0 or later: this az ships azure-keyvault-administration {VERSION}, "
                "which has no pre-backup or pre-restore check. Upgrade az (az upgrade); create and restore work here."
            ),
            EXIT_BAD_INPUT,
        )


def _run_check(cmd, target, sdk_method, location, permissions, *, api_version, polling_interval):
    """Start one of the HSM's pre-checks of `location`, wait for it, and give its final status."""
    _check_api_version(api_version)
    _check_sdk_has(sdk_method)
    secret = storage_secret(cmd, target, permissions)
    what = sdk_method.replace("begin_", "").replace("_", "-") + " check"  # "pre-backup check"
    job, _ = run_job(
        cmd,
        target,
        what,
        lambda client, **kw: getattr(client, sdk_method)(location, **kw),
        skip_wait=False,
        polling_interval=polling_interval,
        api_version=api_version,
        sas_token=secret,
    )
    return job_output(job, target)


def check_backup(cmd, target, *, api_version, polling_interval):
    """az hsm-backup check backup: the pre-backup check of the HSM and container."""
    out = _run_check(
        cmd,
        target,
        "begin_pre_backup",
        target.container_uri,
        BACKUP_SAS_PERMISSIONS,
        api_version=api_version,
        polling_interval=polling_interval,
    )
    del out["folderUrl"], out["folderName"]
    return {"check": "backup", **out}


def check_restore(cmd, target, *, api_version, polling_interval):
    """az hsm-backup check restore: the pre-restore check of the HSM and backup folder."""
    out = _run_check(
        cmd,
        target,
        "begin_pre_restore",
        target.folder_url,
        RESTORE_SAS_PERMISSIONS,
        api_version=api_version,
        polling_interval=polling_interval,
    )
    out.update(folderUrl=target.folder_url, folderName=target.folder)
    return {"check": "restore", **out}
