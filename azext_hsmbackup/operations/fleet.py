"""The work of several HSMs: each one's backup (or its wait), in the runner of operations/runner.py, with one
credential and one storage secret for all; the HSMs as given, or as ARM lists them now (--all)."""

import time
from functools import partial

from knack.log import get_logger

from azext_hsmbackup._constants import BACKUP_SAS_PERMISSIONS, DEFAULT_MAX_PARALLEL
from azext_hsmbackup._secrets import secrets_redacted
from azext_hsmbackup._stop import stops_with
from azext_hsmbackup.errors import EXIT_NOT_FOUND, ExitWith, list_command, one_line
from azext_hsmbackup.model import fleet as fleet_model
from azext_hsmbackup.model.bounds import MAX_PARALLEL_RANGE
from azext_hsmbackup.model.pacing import PollSchedule
from azext_hsmbackup.model.target import MI_MODE
from azext_hsmbackup.operations import prompt
from azext_hsmbackup.operations.job import auth_kwargs, job_parts, start_job, storage_secret
from azext_hsmbackup.operations.runner import TIMED_OUT, entry, exit_after_output, failed_entry, job_fields, run
from azext_hsmbackup.service import arm
from azext_hsmbackup.service.credential import cli_credential
from azext_hsmbackup.service.failures import job_failure
from azext_hsmbackup.service.keyvault import backup_client, job_status
from azext_hsmbackup.service.pipeline import JobTracker

logger = get_logger(__name__)


def back_up(cmd, fleet, slot, stopping, *, secret, api_version, polling_interval, skip_wait, credential):
    """Start one HSM's backup and (unless --no-wait) wait for it; its entry, whatever happens. The same job life as
    one HSM's (operations/job.py), in a worker thread: no progress indicator, the outcome in the entry."""
    member, target = slot.member, fleet.target_for(slot.member)
    slot.tracker, slot.watch, client = job_parts(cmd.cli_ctx, member.hsm_url, api_version, polling_interval, credential)
    start = partial(_begin_backup, container_uri=target.container_uri)
    try:
        with client:
            if stopping.is_set():
                return entry(member, "NotStarted", reason="Stopped before its job started.")
            poller = start_job(client, slot.watch, start, auth_kwargs(target, secret))
            slot.state = "running"
            if skip_wait:
                return entry(member, "InProgress", **job_fields(slot.tracker.job))
            poller.result()  # raises for a job that ended Failed
        return entry(member, "Succeeded", **job_fields(slot.tracker.job))
    except Exception as ex:  # pylint: disable=broad-exception-caught
        secrets = [target.sas_token, secret]
        return failed_entry(member, ex, "backup", slot.tracker.job, secrets=secrets, container_uri=target.container_uri)


def _begin_backup(client, container_uri, **kwargs):
    return client.begin_backup(container_uri, **kwargs)


def wait_for(cmd, slot, stopping, *, api_version, polling_interval, deadline, credential):
    """Wait for one HSM's job (backup or restore); its entry when the job ends or the deadline passes."""
    member = slot.member
    slot.tracker, slot.state = JobTracker(PollSchedule(polling_interval)), "running"
    kind, job = None, None
    try:
        with backup_client(cmd.cli_ctx, member.hsm_url, api_version, slot.tracker, credential=credential) as client:
            while not stopping.is_set():
                kind, job = job_status(client, member.job_id)
                if job is None:
                    return entry(
                        member,
                        "Failed",
                        jobId=member.job_id,
                        error={"code": "NotFound", "message": f"No job {member.job_id} on {member.hsm_url}."},
                    )
                if job.get("status") != "InProgress":
                    break
                if deadline and time.monotonic() > deadline:
                    return entry(member, "InProgress", **job_fields(job), reason=TIMED_OUT)
                next_read = slot.tracker.next_read or time.monotonic()
                stopping.wait(max(0.0, min(next_read, deadline or next_read) - time.monotonic()))
    except Exception as ex:  # pylint: disable=broad-exception-caught
        return failed_entry(member, ex, "status", slot.tracker.job)
    if job is None or job.get("status") == "InProgress":  # stopped: the job itself runs on
        return entry(member, "InProgress", jobId=member.job_id)
    if job.get("status") == "Succeeded":
        return entry(member, "Succeeded", **job_fields(job))
    failure = job_failure(job, kind, hsm_url=member.hsm_url)
    error = {"code": failure.service_code, "message": one_line(failure.error)}
    return entry(member, "Failed", **job_fields(job), error=error)


def members_of(cmd, fleet, task="back up", nothing_done="no job was started"):
    """The fleet's members: as given, or (--all) as ARM lists them now; none at all is an error, not a quiet 0."""
    from azure.cli.core.azclierror import ResourceNotFoundError

    if not fleet.list_all:
        return fleet.members
    with stops_with(lambda: f"Stopped while ARM listed the Managed HSMs: {nothing_done}."):
        records = arm.list_managed_hsms(cmd.cli_ctx, fleet.resource_group)
    use_mi = fleet.storage.storage_auth == MI_MODE
    members = fleet_model.distinct(fleet_model.members_from_records(records, fleet.mhsm_dns_suffix, use_mi))
    if not members:
        where = f"resource group {fleet.resource_group}" if fleet.resource_group else "the subscription"
        raise ExitWith(
            ResourceNotFoundError(
                f"ARM lists no Managed HSM in {where}: nothing to {task}. Check --subscription and -g "
                "(az keyvault list --resource-type hsm)."
            ),
            EXIT_NOT_FOUND,
        )
    return members


def create_many(cmd, fleet, *, what_if, confirm, skip_wait, api_version, polling_interval, max_parallel):
    """az hsm-backup create for several HSMs: one entry per distinct HSM, in the order given or listed."""
    members = members_of(cmd, fleet)
    container = fleet.storage.container_uri
    if what_if:
        return [_what_if(m, container) for m in members]
    ready = [m for m in members if not m.skip_reason]
    if confirm and ready:
        names = [m.hsm_name for m in ready]
        listed = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
        skipped = len(members) - len(ready)
        prompt.confirm(
            f"Perform a full backup of {len(ready)} HSM(s) ({listed}) into {container}"
            + (f" ({skipped} skipped)" if skipped else "")
            + "?",
            cli_ctx=cmd.cli_ctx,
        )
    with secrets_redacted(fleet.storage.sas_token):
        secret = storage_secret(cmd, fleet.storage, BACKUP_SAS_PERMISSIONS) if ready else None  # once for all
        with secrets_redacted(secret):
            work = partial(
                back_up,
                cmd,
                fleet,
                secret=secret,
                api_version=api_version,
                polling_interval=polling_interval,
                skip_wait=skip_wait,
                credential=cli_credential(cmd.cli_ctx) if ready else None,
            )
            entries = run(
                members,
                work,
                max_parallel or DEFAULT_MAX_PARALLEL,
                "backup",
                lambda m: list_command(container, m.hsm_name),
            )
    if skip_wait and any(e["status"] == "InProgress" for e in entries):
        logger.warning(
            "Wait for them all with: az hsm-backup wait --jobs @FILE (this output saved in FILE), or --jobs -"
        )
    exit_after_output(cmd.cli_ctx, entries)
    return entries


def _what_if(member, container_uri):
    if member.skip_reason:
        return entry(member, "Skipped", reason=member.skip_reason)
    return entry(member, "WouldBackUp", reason=f"What if: a full backup of HSM {member.hsm_name} into {container_uri}.")


def wait_many(cmd, fleet, *, timeout, polling_interval, api_version):
    """az hsm-backup wait for several jobs (create --no-wait's array, or --ids with a --job-id each)."""
    deadline = time.monotonic() + timeout if timeout else None
    waiting = [m for m in fleet.members if m.job_id]
    work = partial(
        wait_for,
        cmd,
        api_version=api_version,
        polling_interval=polling_interval,
        deadline=deadline,
        credential=cli_credential(cmd.cli_ctx) if waiting else None,
    )
    # Every job already runs: wait for all at once, up to create's bound (a queued one is polled when a slot frees).
    entries = run(fleet.members, work, min(len(waiting), MAX_PARALLEL_RANGE[1]) or 1, "wait")
    exit_after_output(cmd.cli_ctx, entries, failed="have no job that succeeded")
    return entries
