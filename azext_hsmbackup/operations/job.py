"""One job's life on one HSM, the same for one HSM and for many: the client with its warm-up read, the start (never
sent twice), the wait with az's progress indicator, and the one line that says what runs on when the user stops it.
Its output: the job document, read field by field, as az users get it."""

from contextlib import contextmanager

from knack.log import get_logger

from azext_hsmbackup._secrets import secrets_redacted
from azext_hsmbackup._stop import StartWatch, stops_with
from azext_hsmbackup.errors import list_command, show_command
from azext_hsmbackup.model.answers import folder_name, iso_time
from azext_hsmbackup.model.pacing import PollSchedule
from azext_hsmbackup.service import blob
from azext_hsmbackup.service.failures import from_sdk_error, from_storage_error
from azext_hsmbackup.service.keyvault import backup_client, cache_the_challenge
from azext_hsmbackup.service.pipeline import JobTracker

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


def sdk_call(call, target, operation, secrets=()):
    """Run an SDK call, turning what the service or network says into one clear error and exit code."""
    try:
        return call()
    except Exception as ex:  # pylint: disable=broad-exception-caught
        mapped = from_sdk_error(
            ex, target.hsm_url, operation, secrets=[target.sas_token, *secrets], container_uri=target.container_uri
        )
        if mapped is None:
            raise
        raise mapped from None


def wait_with_progress(cmd, poller, job_id, target, operation):
    """Wait with az's progress indicator (it honours --only-show-errors and core.disable_progress_bar).

    Ctrl+C or SIGTERM stops waiting, not the job: the line names the job and how to check on it.
    """
    from azure.cli.core.commands import LongRunningOperation

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


def stopped_starting(target, operation, job_id, may_have_started):
    """The line for a stop while a job was being started: its id, or whether one may have started and how to see."""
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


def storage_secret(cmd, target, permissions):
    """The SAS the HSM gets: the given one, or one minted now from the signed-in identity (--mint-sas)."""
    if target.storage_auth != "mintedSas":
        return target.sas_token
    return storage_call(
        lambda: blob.mint_user_delegation_sas(cmd.cli_ctx, target.container_uri, permissions, blob.JOB_SAS_LIFETIME),
        target,
        stopped=lambda: f"Stopped before anything was sent to {target.hsm_url}: no job was started.",
    )


def storage_call(call, target, stopped=None):
    """A call to blob storage: its errors as one line and exit code; Ctrl+C / SIGTERM as 130 / 143 with a line."""

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


def auth_kwargs(target, sas_token):
    """How the HSM reaches storage, as the SDK takes it: its own identity, or the SAS."""
    return {"use_managed_identity": True} if target.storage_auth == "managedIdentity" else {"sas_token": sas_token}


def job_parts(cli_ctx, hsm_url, api_version, polling_interval, credential=None):
    """What one job on one HSM is run with, one HSM or many: its tracker (which reads each answer and paces the
    status reads, --polling-interval fixing the gap), the StartWatch that tells how far the start got, and the
    client (to be entered) whose pipeline holds the tracker."""
    tracker, watch = JobTracker(PollSchedule(polling_interval)), StartWatch()
    return tracker, watch, backup_client(cli_ctx, hsm_url, api_version, tracker, credential=credential)


def start_job(client, watch, start, auth):
    """The request that starts the job, sent once (JobStartRetryPolicy), after the warm-up read on the SDK builds
    that need it; the SDK's own gap between status reads is 0: the tracker paces them. Returns the SDK's poller."""
    cache_the_challenge(client)
    return watch.watching(start)(client, _polling_interval=0, **auth)


def run_job(cmd, target, operation, start, *, skip_wait, polling_interval, api_version, sas_token):
    """Start a backup/restore/check through the SDK, then wait for it (or not); returns the last job document.

    A stop (Ctrl+C, SIGTERM) at any moment says what runs on; nothing here ever sends the start request twice.
    """
    tracker, watch, client = job_parts(cmd.cli_ctx, target.hsm_url, api_version, polling_interval)

    def stopped():
        return stopped_starting(target, operation, tracker.job.get("jobId"), watch.may_have_started)

    with secrets_redacted(target.sas_token, sas_token), stops_with(stopped), client:  # novm
        poller = sdk_call(
            lambda: start_job(client, watch, start, auth_kwargs(target, sas_token)), target, operation, [sas_token]
        )
        if skip_wait:
            job_id = tracker.job.get("jobId")
            logger.warning(
                "The %s job %s started. Check on it with: %s", operation, job_id, show_command(target.hsm_url, job_id)
            )
            return tracker.job, poller
        sdk_call(
            lambda: wait_with_progress(cmd, poller, lambda: tracker.job.get("jobId"), target, operation),
            target,
            operation,
            [sas_token],
        )
    return tracker.job, poller
