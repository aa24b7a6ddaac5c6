"""Command bodies of `az hsm-backup`: call the SDK, wait the az way, shape the output."""

import time
from contextlib import contextmanager
from functools import partial

from knack.log import get_logger

from azext_hsmbackup._constants import (
    BACKUP_SAS_PERMISSIONS,
    DEFAULT_API_VERSION,
    RESTORE_SAS_PERMISSIONS,
)
from azext_hsmbackup._validators import Target
from azext_hsmbackup.answers import folder_name, iso_time
from azext_hsmbackup.errors import show_command

logger = get_logger(__name__)


def job_output(job, target):
    """The job document as az users get it: camelCase, ISO 8601 times, the folder split out."""
    folder_url = job.get("azureStorageBlobContainerUri")
    return {
        "folderUrl": folder_url,
        "folderName": folder_name(folder_url),
        "jobId": job.get("jobId"),
        "status": job.get("status"),
        "startTime": iso_time(job.get("startTime")),
        "endTime": iso_time(job.get("endTime")),
        "hsmUrl": target.hsm_url,
        "storageContainerUri": target.container_uri,
    }


def _confirm(question, flag="--confirm", cli_ctx=None):
    """Ask as az does: core.disable_confirm_prompt (AZURE_CORE_DISABLE_CONFIRM_PROMPT) answers yes for the user.

    "n" is an answer, not a mistake: exit 10 (cancelled). No terminal to ask on is a script mistake: exit 2.
    """
    from azure.cli.core.azclierror import InvalidArgumentValueError, UnclassifiedUserFault, ValidationError
    from knack.prompting import NoTTYException, prompt_y_n

    from azext_hsmbackup._stop import stops_with
    from azext_hsmbackup.errors import EXIT_BAD_INPUT, EXIT_CANCELLED, ExitWith

    try:
        config = cli_ctx.config if cli_ctx is not None else _az_config()
        if config.getboolean("core", "disable_confirm_prompt", fallback=False):
            return
    except ValueError:
        raise ExitWith(
            InvalidArgumentValueError(
                "AZURE_CORE_DISABLE_CONFIRM_PROMPT (az config core.disable_confirm_prompt) is not a boolean: "
                "set it to true or false."
            ),
            EXIT_BAD_INPUT,
        ) from None
    try:
        with stops_with(lambda: "Stopped at the question: nothing was done."):
            answer = prompt_y_n(question)
    except NoTTYException:
        hint = "run without --confirm in scripts" if flag == "--confirm" else "pass --yes in scripts"
        raise ExitWith(
            ValidationError(f"{question} No terminal to ask on: {hint}, or preview with --what-if."), EXIT_BAD_INPUT
        ) from None
    if not answer:
        raise ExitWith(UnclassifiedUserFault("Cancelled at the question: nothing was done."), EXIT_CANCELLED)


def _az_config():
    """az's own configuration (config file and AZURE_* variables), for a caller that has no cli_ctx at hand."""
    from azure.cli.core._config import ENV_VAR_PREFIX, GLOBAL_CONFIG_DIR
    from knack.config import CLIConfig

    return CLIConfig(config_dir=GLOBAL_CONFIG_DIR, config_env_var_prefix=ENV_VAR_PREFIX)


def _sdk_call(call, target, operation, secrets=()):
    """Run an SDK call, turning what the service or network says into one clear error and exit code."""
    from azext_hsmbackup.errors import from_sdk_error

    try:
        return call()
    except Exception as ex:  # pylint: disable=broad-exception-caught
        mapped = from_sdk_error(
            ex, target.hsm_url, operation, secrets=[target.sas_token, *secrets], container_uri=target.container_uri
        )
        if mapped is None:
            raise
        raise mapped from None


def _wait(cmd, poller, job_id, target, operation):
    """Wait with az's progress indicator (it honours --only-show-errors and core.disable_progress_bar).

    Ctrl+C or SIGTERM stops waiting, not the job: the line names the job and how to check on it.
    """
    from azure.cli.core.commands import LongRunningOperation

    from azext_hsmbackup._stop import stops_with

    def stopped():
        current = job_id() if callable(job_id) else job_id
        return (
            f"Stopped waiting. The {operation} job {current} keeps running on the HSM; check on it with: "
            f"{show_command(target.hsm_url, current)}"
        )

    with stops_with(stopped), _without_azs_cancel_line():  # novm: vermin takes the call for 3.9 parentheses
        return LongRunningOperation(cmd.cli_ctx, start_msg="", finish_msg="", poller_done_interval_ms=100)(poller)


@contextmanager
def _without_azs_cancel_line():
    """az logs "Long-running operation wait cancelled." on Ctrl+C; our one line says more (which job, what next)."""
    import logging

    def not_the_cancel_line(record):
        return not str(record.msg).startswith("Long-running operation wait cancelled")

    az_logger = logging.getLogger("cli.azure.cli.core.commands")
    az_logger.addFilter(not_the_cancel_line)
    try:
        yield
    finally:
        az_logger.removeFilter(not_the_cancel_line)


def _stopped_starting(target, operation, job_id, may_have_started):
    """The line for a stop while a job was being started: its id, or whether one may have started and how to see."""
    from azext_hsmbackup.errors import list_command

    if job_id:
        return (
            f"Stopped. The {operation} job {job_id} keeps running on the HSM; check on it with: "
            f"{show_command(target.hsm_url, job_id)}"
        )
    if not may_have_started:
        return f"Stopped before the {operation} request was sent to {target.hsm_url}: no job was started."
    line = (
        f"Stopped before {target.hsm_url} answered the {operation} request: a {operation} job may have started, "
        "and while one runs the HSM refuses another backup or restore (exit 6)."
    )
    if operation == "backup":
        line += f" Its folder shows up in: {list_command(target.container_uri, target.hsm_name)}"
    return line


def _storage_secret(cmd, target, permissions):
    """The SAS the HSM gets: the given one, or one minted now from the signed-in identity (--mint-sas)."""
    from azext_hsmbackup import storage

    if target.storage_auth != "mintedSas":
        return target.sas_token
    return _storage_call(
        lambda: storage.mint_user_delegation_sas(
            cmd.cli_ctx, target.container_uri, permissions, storage.JOB_SAS_LIFETIME
        ),
        target,
        stopped=lambda: f"Stopped before anything was sent to {target.hsm_url}: no job was started.",
    )


def _storage_call(call, target, stopped=None):
    """A call to blob storage: its errors as one line and exit code; Ctrl+C / SIGTERM as 130 / 143 with a line."""
    from azext_hsmbackup._stop import stops_with
    from azext_hsmbackup.errors import from_storage_error

    def stopped_here():
        return (
            f"Stopped while working on {target.container_uri}; what storage had already done stays done "
            "(a delete may have removed part of a folder)."
        )

    with stops_with(stopped or stopped_here):
        try:
            return call()
        except Exception as ex:  # pylint: disable=broad-exception-caught
            mapped = from_storage_error(ex, target.container_uri, secrets=[target.sas_token])
            if mapped is None:
                raise
            raise mapped from None


def _auth_kwargs(target, sas_token):
    return {"use_managed_identity": True} if target.storage_auth == "managedIdentity" else {"sas_token": sas_token}


def _run_job(cmd, target, operation, start, skip_wait, polling_interval, api_version, sas_token):
    """Start a backup/restore/check through the SDK, then wait for it (or not); returns the last job document.

    A stop (Ctrl+C, SIGTERM) at any moment says what runs on; nothing here ever sends the start request twice.
    """
    from azext_hsmbackup._client_factory import JobTracker, backup_client, cache_the_challenge
    from azext_hsmbackup._secrets import secrets_redacted
    from azext_hsmbackup._stop import StartWatch, stops_with
    from azext_hsmbackup.pacing import PollSchedule

    tracker, watch = JobTracker(PollSchedule(polling_interval)), StartWatch()
    start = watch.watching(start)

    def stopped():
        return _stopped_starting(target, operation, tracker.job.get("jobId"), watch.may_have_started)

    connect = partial(backup_client, cmd.cli_ctx, target.hsm_url, api_version or DEFAULT_API_VERSION, tracker)
    with secrets_redacted(target.sas_token, sas_token), stops_with(stopped), connect() as client:  # novm
        _sdk_call(lambda: cache_the_challenge(client), target, operation)  # on the SDK builds that need it
        poller = _sdk_call(
            lambda: start(client, _polling_interval=0, **_auth_kwargs(target, sas_token)),  # the tracker paces
            target,
            operation,
            [sas_token],
        )
        if skip_wait:
            job_id = tracker.job.get("jobId")
            logger.warning(
                "The %s job %s started. Check on it with: %s", operation, job_id, show_command(target.hsm_url, job_id)
            )
            return tracker.job, poller
        _sdk_call(
            lambda: _wait(cmd, poller, lambda: tracker.job.get("jobId"), target, operation),
            target,
            operation,
            [sas_token],
        )
    return tracker.job, poller


# ---- create -----------------------------------------------------------------------------------------------------


def create_backup(  # pylint: disable=too-many-arguments
    cmd,
    what_if=False,
    confirm=False,
    skip_wait=False,
    api_version=None,
    polling_interval=None,
    max_parallel=None,
    target=None,
):
    api_version = api_version or DEFAULT_API_VERSION
    if not isinstance(target, Target):  # several HSMs (--ids, --all, a JSON array): fleet_run.py
        from azext_hsmbackup.fleet_run import create_many

        return create_many(
            cmd,
            target,
            what_if=what_if,
            confirm=confirm,
            skip_wait=skip_wait,
            api_version=api_version,
            polling_interval=polling_interval,
            max_parallel=max_parallel,
        )
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
        _confirm(
            f"Perform a full backup of HSM {target.hsm_name} and store it in {target.container_uri}?",
            cli_ctx=cmd.cli_ctx,
        )
    secret = _storage_secret(cmd, target, BACKUP_SAS_PERMISSIONS)
    job, _ = _run_job(
        cmd,
        target,
        "backup",
        lambda client, **kw: client.begin_backup(target.container_uri, **kw),
        skip_wait,
        polling_interval,
        api_version,
        secret,
    )
    return job_output(job, target)  # the final status, read field by field (a Succeeded backup names its folder)


# ---- restore ----------------------------------------------------------------------------------------------------


def restore_backup(  # pylint: disable=too-many-arguments
    cmd,
    key_name=None,
    what_if=False,
    yes=False,
    skip_wait=False,
    api_version=None,
    polling_interval=None,
    target=None,
):
    # The validator refused an empty or impossible --key-name; a key name given at all means a selective restore,
    # so that no value of it can ever turn into a full restore.
    selective = key_name is not None
    if selective and not key_name.strip():  # belt and braces: the SDK takes an empty name as "every key"
        from azure.cli.core.azclierror import InvalidArgumentValueError

        from azext_hsmbackup.errors import EXIT_BAD_INPUT, ExitWith

        raise ExitWith(
            InvalidArgumentValueError(
                "--key-name is empty: give the one key to restore, 1-127 letters, digits and hyphens."
            ),
            EXIT_BAD_INPUT,
        )
    what = f"key {key_name} of HSM {target.hsm_name}" if selective else f"HSM {target.hsm_name}"
    api_version = api_version or DEFAULT_API_VERSION
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
        _confirm(f"Restore {what} from {target.folder_url}? This overwrites what the HSM holds.", flag="--yes")
    secret = _storage_secret(cmd, target, RESTORE_SAS_PERMISSIONS)
    job, _ = _run_job(
        cmd,
        target,
        "restore",
        lambda client, **kw: client.begin_restore(target.folder_url, key_name=key_name, **kw),
        skip_wait,
        polling_interval,
        api_version,
        secret,
    )
    result = job_output(job, target)
    result.update(folderUrl=target.folder_url, folderName=target.folder, keyName=key_name)
    return result


# ---- check ------------------------------------------------------------------------------------------------------

_PRE_CHECK_VERSIONS = ("7.2", "7.3", "7.4", "7.5", "7.5-preview.1", "7.6-preview.1")


def _check_api_version(api_version):
    from azure.cli.core.azclierror import InvalidArgumentValueError

    from azext_hsmbackup.errors import EXIT_BAD_INPUT, ExitWith

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

    from azext_hsmbackup.errors import EXIT_BAD_INPUT, ExitWith

    if not hasattr(KeyVaultBackupClient, method):
        raise ExitWith(
            ValidationError(
                f"az hsm-backup check needs az 2.88.0 or later: this az ships azure-keyvault-administration {VERSION}, "
                "which has no pre-backup or pre-restore check. Upgrade az (az upgrade); create and restore work here."
            ),
            EXIT_BAD_INPUT,
        )


def check_backup(
    cmd,
    api_version=None,
    polling_interval=None,
    target=None,
):
    api_version = api_version or DEFAULT_API_VERSION
    _check_api_version(api_version)
    _check_sdk_has("begin_pre_backup")
    secret = _storage_secret(cmd, target, BACKUP_SAS_PERMISSIONS)
    job, _ = _run_job(
        cmd,
        target,
        "pre-backup check",
        lambda client, **kw: client.begin_pre_backup(target.container_uri, **kw),
        False,
        polling_interval,
        api_version,
        secret,
    )
    out = job_output(job, target)
    del out["folderUrl"], out["folderName"]
    return {"check": "backup", **out}


def check_restore(  # pylint: disable=too-many-arguments
    cmd,
    api_version=None,
    polling_interval=None,
    target=None,
):
    api_version = api_version or DEFAULT_API_VERSION
    _check_api_version(api_version)
    _check_sdk_has("begin_pre_restore")
    secret = _storage_secret(cmd, target, RESTORE_SAS_PERMISSIONS)
    job, _ = _run_job(
        cmd,
        target,
        "pre-restore check",
        lambda client, **kw: client.begin_pre_restore(target.folder_url, **kw),
        False,
        polling_interval,
        api_version,
        secret,
    )
    out = job_output(job, target)
    out.update(folderUrl=target.folder_url, folderName=target.folder)
    return {"check": "restore", **out}


# ---- show / wait ------------------------------------------------------------------------------------------------


def job_status(client, job_id):
    """(kind, job document) of a backup or restore job, or (None, None) when the HSM has neither; the HSM keeps each
    kind under its own path. The document is read field by field (UnreadableAnswer otherwise). What the SDK raises
    is the caller's to map (one HSM: ExitWith; several: an entry)."""
    from azure.core.rest import HttpRequest

    from azext_hsmbackup.answers import parse_json, read_job

    for kind in ("backup", "restore"):
        response = client.send_request(HttpRequest("GET", f"/{kind}/{job_id}/pending"))
        if response.status_code != 404:
            response.raise_for_status()
            return kind, read_job(parse_json(response.read()), job_id)
    return None, None


def _fetch_job(client, target, job_id):
    """job_status of one HSM's job for show and wait: errors as one line, a job the HSM does not have is exit 3."""
    from azure.cli.core.azclierror import ResourceNotFoundError

    from azext_hsmbackup._stop import stops_with
    from azext_hsmbackup.errors import EXIT_NOT_FOUND, ExitWith

    with stops_with(lambda: _stopped_on_job(target, job_id)):  # show, and wait's first look and each poll
        kind, job = _sdk_call(lambda: job_status(client, job_id), target, "status")
    if kind is None:
        raise ExitWith(ResourceNotFoundError(f"No backup or restore job {job_id} on {target.hsm_url}."), EXIT_NOT_FOUND)
    return kind, job


def _job_view(kind, job, target):
    """A job as show and wait print it, with the service's reason when it failed."""
    out = job_output(job, target)
    del out["storageContainerUri"]
    return {"operation": kind, **out, "error": _job_error(job)}


def _job_error(job):
    from azext_hsmbackup.errors import code_text, service_line

    error = job.get("error")
    if not error and job.get("status") in (None, "InProgress", "Succeeded"):
        return None
    error = error or {}
    return {
        "code": code_text(error.get("code") or job.get("statusDetails") or job.get("status")),
        "message": service_line(error.get("message")) or None,
    }


def show_job(cmd, job_id, api_version=None, target=None):
    from azext_hsmbackup._client_factory import backup_client
    from azext_hsmbackup._stop import stops_with

    connect = partial(backup_client, cmd.cli_ctx, target.hsm_url, api_version or DEFAULT_API_VERSION)
    with stops_with(lambda: _stopped_on_job(target, job_id)), connect() as client:  # novm
        kind, job = _fetch_job(client, target, job_id)
    return _job_view(kind, job, target)


def _stopped_on_job(target, job_id):
    return f"Stopped; the job {job_id} is not affected. Check on it with: {show_command(target.hsm_url, job_id)}"


class _JobPoller:
    """Enough of a poller for az's LongRunningOperation, with the pacing of create/restore/check.

    The first status read goes at once; each next one when the tracker's schedule says (the Retry-After of the
    latest answer, else a gap that grows with the time the job has run; pacing.py). `expired()` runs on every tick.
    """

    def __init__(self, fetch, tracker, expired=lambda: None):
        self.fetch, self.tracker, self.expired = fetch, tracker, expired
        self.kind, self.job = fetch()

    def done(self):
        if self.job.get("status") == "InProgress":
            self.expired()
            if self.tracker.next_read is None or time.monotonic() >= self.tracker.next_read:
                self.kind, self.job = self.fetch()
        return self.job.get("status") != "InProgress"

    def status(self):
        return self.job.get("status")

    def result(self):
        return self.job


def wait_job(  # pylint: disable=too-many-arguments
    cmd,
    job_id,
    timeout=None,
    polling_interval=None,
    api_version=None,
    target=None,
):
    from azure.cli.core.azclierror import AzureResponseError

    from azext_hsmbackup._client_factory import JobTracker, backup_client
    from azext_hsmbackup.errors import EXIT_TIMEOUT, ExitWith, job_failed
    from azext_hsmbackup.pacing import PollSchedule

    if not isinstance(target, Target):  # one job per HSM (--ids with --job-id each, or --jobs): fleet_run.py
        from azext_hsmbackup.fleet_run import wait_many

        return wait_many(
            cmd,
            target,
            timeout=timeout,
            polling_interval=polling_interval,
            api_version=api_version or DEFAULT_API_VERSION,
        )
    deadline = time.monotonic() + timeout if timeout else None

    def expired():
        if deadline and time.monotonic() > deadline:
            raise ExitWith(
                AzureResponseError(
                    f"The job {job_id} is still running after {timeout:g} s; it keeps running.",
                    f"Check on it with: {show_command(target.hsm_url, job_id)}",
                ),
                EXIT_TIMEOUT,
            )

    tracker = JobTracker(PollSchedule(polling_interval))
    with backup_client(cmd.cli_ctx, target.hsm_url, api_version or DEFAULT_API_VERSION, tracker) as client:
        poller = _JobPoller(lambda: _fetch_job(client, target, job_id), tracker, expired)
        _wait(cmd, poller, job_id, target, poller.kind)
    if poller.job.get("status") != "Succeeded":
        raise job_failed(poller.job, poller.kind, hsm_url=target.hsm_url, container_uri=target.container_uri)
    return _job_view(poller.kind, poller.job, target)


# ---- list / delete / prune (retention_run.py) -----------------------------------------------------------------


def list_backups(  # pylint: disable=too-many-arguments
    cmd,
    hsm_filter=None,
    details=False,
    target=None,
):
    from azext_hsmbackup import retention_run

    return retention_run.list_backups(cmd, target, hsm_filter, details)


def delete_backup(  # pylint: disable=too-many-arguments
    cmd,
    yes=False,
    what_if=False,
    target=None,
):
    from azext_hsmbackup import retention_run

    return retention_run.delete(cmd, target, yes, what_if)


def prune_backups(  # pylint: disable=too-many-arguments
    cmd,
    keep=None,
    older_than=None,
    hsm_filter=None,
    yes=False,
    what_if=False,
    target=None,
):
    # --keep, --older-than and --hsm-name were checked (bounds, at least one rule) before any network call.
    from azext_hsmbackup import retention_run

    return retention_run.prune(cmd, target, keep, older_than, hsm_filter, yes, what_if)
