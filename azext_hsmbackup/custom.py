"""The command bodies of `az hsm-backup`: each hands its resolved target and flags to an operation and returns what
az prints. One HSM or several is the validator's decision (a Target or a Fleet); what a command does is in
operations/. az passes every argument by name, so the flags are keyword-only where there are many."""

from azext_hsmbackup._constants import DEFAULT_API_VERSION
from azext_hsmbackup.model.target import Target
from azext_hsmbackup.operations import backup_restore, checks, fleet, freshness, retention, status


def create_backup(
    cmd,
    *,
    what_if=False,
    confirm=False,
    skip_wait=False,
    api_version=None,
    polling_interval=None,
    max_parallel=None,
    target=None,
):
    options = {
        "what_if": what_if,
        "confirm": confirm,
        "skip_wait": skip_wait,
        "api_version": api_version or DEFAULT_API_VERSION,
        "polling_interval": polling_interval,
    }
    if isinstance(target, Target):
        return backup_restore.back_up_one(cmd, target, **options)
    return fleet.create_many(cmd, target, max_parallel=max_parallel, **options)  # --ids, --all, a JSON array


def restore_backup(
    cmd,
    *,
    key_name=None,
    what_if=False,
    yes=False,
    skip_wait=False,
    api_version=None,
    polling_interval=None,
    target=None,
):
    return backup_restore.restore(
        cmd,
        target,
        key_name=key_name,
        what_if=what_if,
        yes=yes,
        skip_wait=skip_wait,
        api_version=api_version or DEFAULT_API_VERSION,
        polling_interval=polling_interval,
    )


def check_backup(cmd, api_version=None, polling_interval=None, target=None):
    return checks.check_backup(
        cmd, target, api_version=api_version or DEFAULT_API_VERSION, polling_interval=polling_interval
    )


def check_restore(cmd, api_version=None, polling_interval=None, target=None):
    return checks.check_restore(
        cmd, target, api_version=api_version or DEFAULT_API_VERSION, polling_interval=polling_interval
    )


def check_freshness(cmd, max_age=None, target=None):
    # --max-age was checked (and its default applied) before any network call: a timedelta here.
    return freshness.check(cmd, target, max_age)


def show_job(cmd, job_id, api_version=None, target=None):
    return status.show(cmd, target, job_id, api_version or DEFAULT_API_VERSION)


def wait_job(
    cmd,
    *,
    job_id,
    timeout=None,
    polling_interval=None,
    api_version=None,
    target=None,
):
    options = {
        "timeout": timeout,
        "polling_interval": polling_interval,
        "api_version": api_version or DEFAULT_API_VERSION,
    }
    if isinstance(target, Target):
        return status.wait(cmd, target, job_id, **options)
    return fleet.wait_many(cmd, target, **options)  # one job per HSM (--ids with a --job-id each, or --jobs)


def list_backups(cmd, hsm_filter=None, details=False, target=None):
    return retention.list_backups(cmd, target, hsm_filter, details)


def delete_backup(cmd, yes=False, what_if=False, target=None):
    return retention.delete(cmd, target, yes, what_if)


def prune_backups(
    cmd,
    *,
    keep=None,
    older_than=None,
    hsm_filter=None,
    yes=False,
    what_if=False,
    target=None,
):
    # --keep, --older-than and --hsm-name were checked (bounds, at least one rule) before any network call.
    return retention.prune(
        cmd, target, keep=keep, older_than=older_than, hsm_filter=hsm_filter, yes=yes, what_if=what_if
    )
