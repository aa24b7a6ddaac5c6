"""A job's status: show it once, or wait until it ends (one HSM; several: operations/fleet.py), read as paced as a
running create reads it."""

import time
from functools import partial

from azext_hsmbackup._stop import stops_with
from azext_hsmbackup._text import code_text, service_line
from azext_hsmbackup.errors import EXIT_NOT_FOUND, EXIT_TIMEOUT, ExitWith, show_command
from azext_hsmbackup.model.pacing import PollSchedule
from azext_hsmbackup.operations.job import job_output, sdk_call, wait_with_progress
from azext_hsmbackup.service.failures import job_failed
from azext_hsmbackup.service.keyvault import backup_client, job_status
from azext_hsmbackup.service.pipeline import JobTracker


def _fetch_job(client, target, job_id):
    """job_status of one HSM's job for show and wait: errors as one line, a job the HSM does not have is exit 3."""
    from azure.cli.core.azclierror import ResourceNotFoundError

    with stops_with(lambda: _stopped_on_job(target, job_id)):  # show, and wait's first look and each poll
        kind, job = sdk_call(lambda: job_status(client, job_id), target, "status")
    if kind is None:
        raise ExitWith(ResourceNotFoundError(f"No backup or restore job {job_id} on {target.hsm_url}."), EXIT_NOT_FOUND)
    return kind, job


def _job_view(kind, job, target):
    """A job as show and wait print it, with the service's reason when it failed."""
    out = job_output(job, target)
    del out["storageContainerUri"]
    return {"operation": kind, **out, "error": _job_error(job)}


def _job_error(job):
    error = job.get("error")
    if not error and job.get("status") in (None, "InProgress", "Succeeded"):
        return None
    error = error or {}
    return {
        "code": code_text(error.get("code") or job.get("statusDetails") or job.get("status")),
        "message": service_line(error.get("message")) or None,
    }


def show(cmd, target, job_id, api_version):
    """az hsm-backup show: one read of the job's status."""
    connect = partial(backup_client, cmd.cli_ctx, target.hsm_url, api_version)
    with stops_with(lambda: _stopped_on_job(target, job_id)), connect() as client:  # novm
        kind, job = _fetch_job(client, target, job_id)
    return _job_view(kind, job, target)


def _stopped_on_job(target, job_id):
    return f"Stopped; the job {job_id} is not affected. Check on it with: {show_command(target.hsm_url, job_id)}"


class JobPoller:
    """Enough of a poller for az's LongRunningOperation, with the pacing of create/restore/check.

    The first status read goes at once; each next one when the tracker's schedule says (the Retry-After of the
    latest answer, else a gap that grows with the time the job has run; model/pacing.py).
    `expired()` runs on every tick.
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


def wait(cmd, target, job_id, *, timeout, polling_interval, api_version):
    """az hsm-backup wait for one job: its status until it ends, with az's progress indicator; exit 4 if it failed,
    8 if --timeout runs out first (the job runs on)."""
    from azure.cli.core.azclierror import AzureResponseError

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
    with backup_client(cmd.cli_ctx, target.hsm_url, api_version, tracker) as client:
        poller = JobPoller(lambda: _fetch_job(client, target, job_id), tracker, expired)
        wait_with_progress(cmd, poller, job_id, target, poller.kind)
    if poller.job.get("status") != "Succeeded":
        raise job_failed(poller.job, poller.kind, hsm_url=target.hsm_url, container_uri=target.container_uri)
    return _job_view(poller.kind, poller.job, target)
