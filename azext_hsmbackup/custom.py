"""Command bodies of `az hsm-backup`: call the SDK, wait the az way, shape the output."""

from datetime import datetime, timezone

from knack.log import get_logger

from azext_hsmbackup._constants import DEFAULT_API_VERSION, DEFAULT_POLLING_INTERVAL

logger = get_logger(__name__)


def _iso(unix_seconds):
    if unix_seconds in (None, 0):
        return None
    return datetime.fromtimestamp(int(unix_seconds), timezone.utc).isoformat().replace("+00:00", "Z")


def job_output(job, target):
    """The job document as az users get it: camelCase, ISO 8601 times, the folder split out."""
    folder_url = job.get("azureStorageBlobContainerUri")
    return {
        "folderUrl": folder_url,
        "folderName": folder_url.rstrip("/").rsplit("/", 1)[-1] if folder_url else None,
        "jobId": job.get("jobId"),
        "status": job.get("status"),
        "startTime": _iso(job.get("startTime")),
        "endTime": _iso(job.get("endTime")),
        "hsmUrl": target.hsm_url,
        "storageContainerUri": target.container_uri,
    }


def _show_command(target, job_id):
    return f"az hsm-backup show --id {target.hsm_url} --job-id {job_id}"


def _confirm(question):
    from azure.cli.core.azclierror import ManualInterrupt, ValidationError
    from knack.prompting import NoTTYException, prompt_y_n

    from azext_hsmbackup.errors import EXIT_BAD_INPUT, ExitWith

    try:
        answer = prompt_y_n(question)
    except NoTTYException:
        raise ExitWith(
            ValidationError(
                "--confirm needs a terminal to ask on, and there is none.",
                "Run without --confirm in scripts, or preview with --what-if.",
            ),
            EXIT_BAD_INPUT,
        ) from None
    if not answer:
        raise ExitWith(ManualInterrupt("Backup not started: not confirmed."), EXIT_BAD_INPUT)


def _wait(cmd, poller, tracker, target, operation):
    """Wait with az's progress indicator (it honours --only-show-errors and core.disable_progress_bar)."""
    from azure.cli.core.commands import LongRunningOperation

    from azext_hsmbackup.errors import EXIT_INTERRUPTED

    try:
        LongRunningOperation(cmd.cli_ctx, start_msg="", finish_msg="", poller_done_interval_ms=100)(poller)
    except KeyboardInterrupt:
        job_id = tracker.job.get("jobId")
        logger.warning(
            "Stopped waiting. The %s job %s keeps running on the HSM; check on it with: %s",
            operation,
            job_id,
            _show_command(target, job_id),
        )
        raise SystemExit(EXIT_INTERRUPTED) from None


def _sdk_call(call, target, operation):
    """Run an SDK call, turning what the service or network says into one clear error and exit code."""
    from azext_hsmbackup.errors import from_sdk_error

    try:
        return call()
    except Exception as ex:  # pylint: disable=broad-exception-caught
        mapped = from_sdk_error(ex, target.hsm_url, operation, secrets=[target.sas_token])
        if mapped is None:
            raise
        raise mapped from None


def create_backup(  # pylint: disable=unused-argument,too-many-arguments,too-many-locals
    cmd,
    hsm_name=None,
    hsm_object=None,
    hsm_id=None,
    storage_account_name=None,
    storage_container_name=None,
    storage_container_uri=None,
    sas_token=None,
    use_managed_identity=None,
    what_if=False,
    confirm=False,
    no_wait=False,
    api_version=None,
    polling_interval=None,
    target=None,
):
    api_version = api_version or DEFAULT_API_VERSION
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
        _confirm(f"Perform a full backup of HSM {target.hsm_name} and store it in {target.container_uri}?")

    from azext_hsmbackup._client_factory import JobTracker, backup_client
    from azext_hsmbackup._secrets import secrets_redacted

    tracker = JobTracker()
    auth = {"sas_token": target.sas_token} if target.storage_auth == "sas" else {"use_managed_identity": True}
    with secrets_redacted(target.sas_token):
        client = backup_client(cmd.cli_ctx, target.hsm_url, api_version, tracker)
        with client:
            poller = _sdk_call(
                lambda: client.begin_backup(
                    target.container_uri,
                    polling=not no_wait,
                    _polling_interval=polling_interval or DEFAULT_POLLING_INTERVAL,
                    **auth,
                ),
                target,
                "backup",
            )
            if no_wait:
                job_id = tracker.job.get("jobId")
                logger.warning("Backup job %s started. Check on it with: %s", job_id, _show_command(target, job_id))
                return job_output(tracker.job, target)
            _sdk_call(lambda: _wait(cmd, poller, tracker, target, "backup"), target, "backup")
    result = job_output(tracker.job, target)
    result["folderUrl"] = poller.result().folder_url  # the SDK's own reading of the final status
    return result


def show_job(cmd, job_id, hsm_name=None, hsm_object=None, hsm_id=None, api_version=None, target=None):  # pylint: disable=unused-argument
    """Status of a backup or restore job; the HSM keeps each kind under its own path."""
    from azure.cli.core.azclierror import ResourceNotFoundError
    from azure.core.rest import HttpRequest

    from azext_hsmbackup._client_factory import backup_client
    from azext_hsmbackup.errors import EXIT_NOT_FOUND, ExitWith

    with backup_client(cmd.cli_ctx, target.hsm_url, api_version or DEFAULT_API_VERSION) as client:
        for kind in ("backup", "restore"):
            request = HttpRequest("GET", f"/{kind}/{job_id}/pending")
            response = _sdk_call(lambda r=request: client.send_request(r), target, "status")
            if response.status_code == 404:
                continue
            _sdk_call(response.raise_for_status, target, "status")
            out = job_output(response.json(), target)
            del out["storageContainerUri"]
            return {"operation": kind, **out}
    raise ExitWith(ResourceNotFoundError(f"No backup or restore job {job_id} on {target.hsm_url}."), EXIT_NOT_FOUND)
