"""list, prune and delete: storage access for you and for the HSMs, the HSMs' judgement, the question, the deletion,
and what is printed and with which exit code. What stays and what goes: model/retention.py; the deleting:
operations/deletion.py."""

from knack.log import get_logger

from azext_hsmbackup._parallel import in_parallel
from azext_hsmbackup._secrets import secrets_redacted
from azext_hsmbackup.errors import EXIT_BAD_INPUT, EXIT_NOT_FOUND, EXIT_UNCONFIRMED, ExitWith, fail_after_output
from azext_hsmbackup.model.folders import parse_folder_name
from azext_hsmbackup.model.retention import FINISHED, NOT_FINISHED, UNKNOWN, Folder, HsmPlan, Outcome
from azext_hsmbackup.model.retention import details as folder_details
from azext_hsmbackup.operations import deletion, prompt
from azext_hsmbackup.operations.access import cli_container, hsm_judge, hsm_read_access
from azext_hsmbackup.operations.job import storage_call
from azext_hsmbackup.service import blob
from azext_hsmbackup.service.failures import from_storage_error

logger = get_logger(__name__)


def list_backups(cmd, target, hsm_filter, details):
    """az hsm-backup list: the backup folders, newest first; with details, what storage shows of each."""
    with secrets_redacted(target.sas_token):
        client, minted = cli_container(cmd, target, "l")
        with secrets_redacted(minted), client:
            if not details:
                return storage_call(lambda: blob.list_backups(client, hsm_filter), target)
            folders = storage_call(lambda: deletion.folders_of(client, hsm_filter, with_blobs=True), target)
            return [folder_details(f, target.container_uri) for f in folders]


def prune(cmd, target, *, keep, older_than, hsm_filter, yes, what_if):
    """az hsm-backup prune: plan every HSM's folders on the HSMs' evidence, show or ask, then delete what may go."""
    with secrets_redacted(target.sas_token):
        client, minted = cli_container(cmd, target, "l" if what_if else "ld")
        with secrets_redacted(minted), client:
            folders = storage_call(lambda: deletion.folders_of(client, hsm_filter), target)
            auth, hsm_secret = hsm_read_access(cmd, target) if folders else ({}, None)
            with secrets_redacted(hsm_secret), hsm_judge(cmd, target, auth) as judge:

                def load(folder):
                    return blob.blobs_of(client, folder.name)

                plans = storage_call(lambda: deletion.plan_all(folders, judge, keep, older_than, load), target)
                candidates = [f for plan in plans for f in plan.candidates]
                if what_if or not candidates:
                    return _report(cmd, target, plans, [], what_if)
                if not yes:
                    names = [f.name for f in candidates]
                    listed = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
                    question = f"Delete {len(names)} backup folder(s) from {target.container_uri}: {listed}?"
                    prompt.confirm(question + " Each goes only once its HSM confirms it again.", flag="--yes")
                results = storage_call(
                    lambda: in_parallel(
                        plans, lambda plan: deletion.carry_out(client, plan, judge), deletion.PARALLEL_HSMS
                    ),
                    target,
                )
    outcomes = []
    for result in results:
        if isinstance(result, Exception):  # storage refused a deletion: the command's error, as one line
            raise from_storage_error(result, target.container_uri, secrets=[target.sas_token]) or result
        outcomes += result
    return _report(cmd, target, plans, outcomes, False)


def _report(cmd, target, plans, outcomes, what_if):
    """The result both prune and delete print, the warnings that go with it, and exit 12 for an HSM not asked."""

    uri = target.container_uri
    left = [f.entry(uri, reason=why) for plan in plans for f, why in plan.left_alone]
    left += [o.folder.entry(uri, reason=o.reason) for o in outcomes if o.action == "leftAlone"]
    gone = [o.folder.entry(uri, reason=o.reason) for o in outcomes if o.action == "alreadyGone"]
    result = {
        "whatIf": bool(what_if),
        "deleted": [o.folder.entry(uri, blobsDeleted=o.blobs) for o in outcomes if o.action == "deleted"],
        "wouldDelete": [f.entry(uri) for p in plans for f in p.candidates] if what_if else [],
        "alreadyGone": gone,
        "leftAlone": left,
        "kept": [f.entry(uri, reason=why, confirmed=sure) for plan in plans for f, why, sure in plan.kept],
    }
    _warn("Left alone (neither counted nor deleted)", left)
    _warn("Already gone", gone)
    if what_if and result["wouldDelete"]:
        logger.warning(
            "What if: each folder that would go is checked in storage and confirmed by its HSM right before it is "
            "deleted; one that is not stays."
        )
    unconfirmed = [p for p in plans if p.unconfirmed is not None]
    if unconfirmed:
        named = "; ".join(f"{p.hsm}: {p.unconfirmed.reason}" for p in unconfirmed[:3])
        more = f"; and {len(unconfirmed) - 3} more" if len(unconfirmed) > 3 else ""
        fail_after_output(
            cmd.cli_ctx,
            EXIT_UNCONFIRMED,
            f"{len(unconfirmed)} HSM(s) could not confirm which of their backups are finished, so none of their "
            f"backups was counted or deleted ({named}{more}). Fix that and run prune again.",
        )
    return result


def _warn(what, entries):
    if entries:
        shown = "; ".join(f"{e['folderName']} ({e['reason']})" for e in entries[:5])
        more = f"; and {len(entries) - 5} more" if len(entries) > 5 else ""
        logger.warning("%s: %s%s", what, shown, more)


def delete(cmd, target, yes, what_if):
    """az hsm-backup delete: the one named folder, if its HSM confirms it holds a finished backup."""
    with secrets_redacted(target.sas_token):
        client, minted = cli_container(cmd, target, "l" if what_if else "ld")
        with secrets_redacted(minted), client:
            folder = storage_call(lambda: _the_folder(client, target), target)
            auth, hsm_secret = hsm_read_access(cmd, target)
            with secrets_redacted(hsm_secret), hsm_judge(cmd, target, auth) as judge:
                verdict = judge(folder)
                plan = HsmPlan(folder.hsm, candidates=[folder])
                gone = None if verdict.state == FINISHED else deletion.gone_meanwhile(client, folder)
                if gone:  # the check found it half deleted: another run is deleting it
                    plan.candidates = []
                    return _report(cmd, target, [plan], [Outcome(folder, "alreadyGone", reason=gone)], False)
                _confirmed(target, folder, verdict)
                if what_if:
                    return _report(cmd, target, [plan], [], True)
                if not yes:
                    prompt.confirm(f"Delete the backup folder {folder.name} from {target.container_uri}?", flag="--yes")
                outcome = storage_call(lambda: deletion.delete_one(client, folder, None), target)
    if outcome.action == "leftAlone":
        raise _not_a_backup(target, folder.name, outcome.reason)
    plan.candidates = []
    return _report(cmd, target, [plan], [outcome], False)


def _the_folder(client, target):
    from azure.cli.core.azclierror import ResourceNotFoundError

    hsm, when = parse_folder_name(target.folder)  # the validator let only backup folder names through
    blobs = blob.blobs_of(client, target.folder)
    if not blobs:
        raise ExitWith(
            ResourceNotFoundError(f"No backup folder {target.folder} in {target.container_uri}."), EXIT_NOT_FOUND
        )
    return Folder(target.folder, hsm, when, blobs)


def _confirmed(target, folder, verdict):
    """Nothing is deleted unless storage shows a backup's files and the HSM confirms the backup is finished."""
    from azure.cli.core.azclierror import AzureResponseError

    problem = folder.problem
    if problem:
        raise _not_a_backup(target, folder.name, problem)
    if verdict.state == NOT_FINISHED:
        raise _not_a_backup(target, folder.name, f"its HSM says: {verdict.reason}")
    if verdict.state == UNKNOWN:
        raise ExitWith(
            AzureResponseError(
                f"Cannot confirm that {folder.name} holds a finished backup, so nothing was deleted: {verdict.reason}"
            ),
            verdict.code or 1,
        )


def _not_a_backup(target, folder, problem):
    from azure.cli.core.azclierror import InvalidArgumentValueError

    return ExitWith(
        InvalidArgumentValueError(
            f"--backup-folder {folder} in {target.container_uri} does not hold a complete backup ({problem}), so "
            "it is left alone; nothing was deleted. If you mean to remove it, use az storage blob delete-batch."
        ),
        EXIT_BAD_INPUT,
    )
