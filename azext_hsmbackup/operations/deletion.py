"""Deleting what a retention plan lets go: the folders of a container, each HSM's plan on its own thread, and each
folder deleted only as it was listed, once its HSM confirms it again; another run's deletion met as such."""

from dataclasses import replace

from azext_hsmbackup._parallel import in_parallel
from azext_hsmbackup.model.folders import parse_folder_name
from azext_hsmbackup.model.retention import (
    FINISHED,
    UNKNOWN,
    Folder,
    Outcome,
    Verdict,
    by_hsm,
    cutoff_of,
    plan_hsm,
)
from azext_hsmbackup.service import blob

# HSMs judged at once (threads of one process, as a fleet backup's): each HSM runs one check at a time, since it
# runs one job at a time, so the HSMs side by side are what makes a plan of many HSMs quick.
PARALLEL_HSMS = 32


def folders_of(client, hsm_filter=None, with_blobs=False):
    """The backup folders of the container, newest first: their names from one delimiter listing, or (with_blobs,
    for list --details) with every blob from one flat listing."""
    if not with_blobs:
        found = [Folder(name, hsm, when) for name, hsm, when in blob.backup_folders(client, hsm_filter)]
    else:
        found = []
        for name, blobs in blob.folder_blobs(client).items():
            parsed = parse_folder_name(name)
            if parsed and (not hsm_filter or parsed[0].lower() == hsm_filter.lower()):
                found.append(Folder(name, parsed[0], parsed[1], blobs))
    return sorted(found, key=lambda f: (f.when, f.name), reverse=True)


def plan_all(folders, judge, keep=None, older_than=None, load=None):
    """Plans of every HSM, each judged on its own thread (an HSM runs one check at a time, HSMs run side by side)."""
    cutoff = cutoff_of(older_than)
    groups = list(by_hsm(folders).values())
    plans = in_parallel(groups, lambda group: plan_hsm(group, judge, keep, cutoff, load), PARALLEL_HSMS, "hsm-judge")
    for plan in plans:
        if isinstance(plan, Exception):
            raise plan
    return plans


def gone_meanwhile(client, folder):
    """Why the folder (as it was listed) is already gone: another run deleted it, or is deleting it; else None."""
    now = _fingerprint(blob.blobs_of(client, folder.name))
    if not now:
        return "another run deleted it"
    if now < folder.fingerprint:  # fewer of the same blobs, none new or rewritten
        return "another run is deleting it"
    return None


def _fingerprint(blobs):
    return frozenset((b.name, b.etag) for b in blobs)


# One return per outcome reads better than a chain of assignments (as PLR0911 in ruff.toml).
def delete_one(client, folder, judge):  # pylint: disable=too-many-return-statements
    """Delete `folder` if storage shows a backup's files and the HSM confirms it now; never more than the listing
    that was judged (each blob only as listed, by its ETag).

    Another run deleting the same folder is met as such: a folder that shrank or vanished is already gone; a check
    that fails because the folder is half gone says so too."""
    fresh = blob.blobs_of(client, folder.name)
    if not fresh:
        return Outcome(folder, "alreadyGone", reason="another run deleted it")
    if folder.blobs is not None and _fingerprint(fresh) != folder.fingerprint:
        if _fingerprint(fresh) < folder.fingerprint:
            return Outcome(folder, "alreadyGone", reason="another run is deleting it")
        return Outcome(folder, "leftAlone", reason="it changed after it was planned")
    seen = replace(folder, blobs=fresh)
    problem = seen.problem
    if problem:
        return Outcome(folder, "leftAlone", reason=f"not a backup: {problem}")
    verdict = judge(seen) if judge else Verdict(FINISHED)
    if verdict.state != FINISHED:
        gone = gone_meanwhile(client, seen)
        if gone:
            return Outcome(folder, "alreadyGone", reason=gone)
        words = "not judged" if verdict.state == UNKNOWN else "not a finished backup"
        return Outcome(folder, "leftAlone", reason=f"{words}: {verdict.reason}")
    deleted, gone, changed = blob.delete_blobs(client, fresh)
    if changed:
        return Outcome(folder, "leftAlone", deleted, f"{changed} changed while the folder was being deleted")
    if not deleted and gone:
        return Outcome(folder, "alreadyGone", reason="another run deleted it")
    return Outcome(folder, "deleted", deleted)


def kept_unchanged(client, plan):
    """The name of a confirmed backup of the plan that changed (or went) since it was judged, or None."""
    for folder, _, confirmed in plan.kept:
        if confirmed and _fingerprint(blob.blobs_of(client, folder.name)) != folder.fingerprint:
            return folder.name
    return None


def carry_out(client, plan, judge):
    """Delete the plan's candidates, each confirmed by the HSM right before it goes; the outcomes, in order.

    If a backup the plan keeps changed since it was judged, nothing of that HSM goes: the plan no longer holds."""
    if not plan.candidates:
        return []
    changed = kept_unchanged(client, plan)
    if changed:
        why = f"{changed}, which it keeps, changed after the plan was made: run prune again"
        return [Outcome(f, "leftAlone", reason=why) for f in plan.candidates]
    outcomes = []
    for index, folder in enumerate(plan.candidates):
        outcome = delete_one(client, folder, judge)
        outcomes.append(outcome)
        if outcome.action == "leftAlone" and outcome.reason.startswith("not judged"):
            # the HSM cannot be asked now: what is left of this HSM stays too
            cut, rest = len("not judged: "), index + 1  # slice bounds by name: no `x[a + 1 :]` for flake8's E203
            plan.unconfirmed = plan.unconfirmed or Verdict(UNKNOWN, outcome.reason[cut:])
            outcomes += [Outcome(f, "leftAlone", reason=outcome.reason) for f in plan.candidates[rest:]]
            break
    return outcomes
