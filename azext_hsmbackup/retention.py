"""Which backups of a container stay and which go: list --details, prune and delete, on the HSM's own evidence.

A folder counts toward --keep, and as an HSM's newest backup, only when the HSM that wrote it confirms it holds a
finished backup (its pre-restore check, evidence.py); a folder it does not confirm is neither counted nor deleted,
and each folder prune deletes is confirmed right before it goes. Storage alone sorts out what cannot be a backup at
all (storage.blob_problem). One flat listing reads the blobs of every folder; the HSM is asked only what a decision
needs: per HSM, newest first, until --keep backups are confirmed, and each folder that is about to be deleted.
"""

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone

from azext_hsmbackup import storage
from azext_hsmbackup._parallel import in_parallel
from azext_hsmbackup.evidence import FINISHED, NOT_FINISHED, UNKNOWN, Verdict

# HSMs judged at once (threads of one process, as a fleet backup's): each HSM runs one check at a time, since it
# runs one job at a time, so the HSMs side by side are what makes a plan of many HSMs quick.
PARALLEL_HSMS = 32


@dataclass
class Folder:
    """A backup folder as a listing saw it: its name, the HSM and time the name gives, and its blobs (None until
    they are listed: only the folders a decision needs are)."""

    name: str
    hsm: str
    when: datetime
    blobs: list = None

    @property
    def problem(self):
        return storage.blob_problem(self.blobs, self.when)

    @property
    def fingerprint(self):
        return frozenset((b.name, b.etag) for b in self.blobs)

    def entry(self, container_uri, **extra):
        return {
            "folderName": self.name,
            "folderUrl": f"{container_uri}/{self.name}",
            "hsmName": self.hsm,
            "backupTime": storage.iso_time(self.when),
            **extra,
        }


def folders_of(client, hsm_filter=None, with_blobs=False):
    """The backup folders of the container, newest first: their names from one delimiter listing, or (with_blobs,
    for list --details) with every blob from one flat listing."""
    if not with_blobs:
        found = [Folder(name, hsm, when) for name, hsm, when in storage.backup_folders(client, hsm_filter)]
    else:
        found = []
        for name, blobs in storage.folder_blobs(client).items():
            parsed = storage.parse_folder_name(name)
            if parsed and (not hsm_filter or parsed[0].lower() == hsm_filter.lower()):
                found.append(Folder(name, parsed[0], parsed[1], blobs))
    return sorted(found, key=lambda f: (f.when, f.name), reverse=True)


def details(folder, container_uri):
    """list --details: what storage shows of a folder, and never more than storage can tell."""
    problem = folder.problem
    written = max((b.last_modified for b in folder.blobs if b.last_modified), default=None)
    return folder.entry(
        container_uri,
        blobCount=len(folder.blobs),
        sizeBytes=sum(b.size or 0 for b in folder.blobs),
        lastWritten=storage.iso_time(written) if written else None,
        state="NotABackup" if problem else "Unverified",
        problem=problem,
    )


# ---- the plan of one HSM ----------------------------------------------------------------------------------------


@dataclass
class HsmPlan:
    """One HSM's folders, newest first, sorted into what stays (and why), what may go, and what is left alone."""

    hsm: str
    kept: list = field(default_factory=list)  # (Folder, reason, confirmed by the HSM)
    candidates: list = field(default_factory=list)  # Folder
    left_alone: list = field(default_factory=list)  # (Folder, reason)
    unconfirmed: Verdict = None  # why the HSM could not be asked: then nothing of it is counted or deleted


def plan_hsm(folders, judge, keep=None, cutoff=None, load=None):
    """The plan for one HSM's folders (newest first). `judge(folder)` is the HSM's Verdict; `load(folder)` lists the
    blobs of a folder not listed yet (only those the HSM is asked about are: the others wait for their deletion).

    Per HSM, the newest confirmed backup always stays; with `keep`, the `keep` newest confirmed ones; with `cutoff`
    (--older-than), only folders older than it may go; with both, only what both rules let go. The HSM is asked
    about the newest folders until enough are confirmed; a folder it does not confirm stays and does not count.
    """
    plan = HsmPlan(folders[0].hsm if folders else "")
    needed, confirmed = keep or 1, 0
    for folder in folders:
        if plan.unconfirmed is not None:
            plan.left_alone.append((folder, f"not judged: {plan.unconfirmed.reason}"))
            continue
        if confirmed < needed:
            if folder.blobs is None:
                folder.blobs = load(folder)
            problem = folder.problem
            if problem:
                plan.left_alone.append((folder, f"not a backup: {problem}"))
                continue
            verdict = judge(folder)
            if verdict.state == UNKNOWN:
                plan.unconfirmed = verdict
                plan.left_alone.append((folder, f"not judged: {verdict.reason}"))
            elif verdict.state == NOT_FINISHED:
                plan.left_alone.append((folder, f"not a finished backup: {verdict.reason}"))
            else:
                confirmed += 1
                plan.kept.append((folder, _why_kept(confirmed, keep), True))
            continue
        problem = folder.problem if folder.blobs is not None else None
        if problem:
            plan.left_alone.append((folder, f"not a backup: {problem}"))
        elif cutoff is not None and folder.when >= cutoff:
            plan.kept.append((folder, "not older than --older-than", False))
        else:
            plan.candidates.append(folder)
    return plan


def _why_kept(rank, keep):
    if rank == 1:
        return "the newest finished backup of its HSM"
    return f"one of the {keep} newest finished backups of its HSM"


def cutoff_of(older_than, now=None):
    return (now or datetime.now(timezone.utc)) - timedelta(days=older_than) if older_than is not None else None


def by_hsm(folders):
    """{HSM name (any case): its folders, newest first}, the HSMs in the order their newest folder comes."""
    grouped = {}
    for folder in folders:
        grouped.setdefault(folder.hsm.lower(), []).append(folder)
    return grouped


def plan_all(folders, judge, keep=None, older_than=None, load=None):
    """Plans of every HSM, each judged on its own thread (an HSM runs one check at a time, HSMs run side by side)."""
    cutoff = cutoff_of(older_than)
    groups = list(by_hsm(folders).values())
    plans = in_parallel(groups, lambda group: plan_hsm(group, judge, keep, cutoff, load), PARALLEL_HSMS, "hsm-judge")
    for plan in plans:
        if isinstance(plan, Exception):
            raise plan
    return plans


# ---- deleting what the plan lets go -------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What happened to one folder: deleted (blobs), already gone, or left alone (why)."""

    folder: Folder
    action: str  # "deleted", "alreadyGone", "leftAlone"
    blobs: int = 0
    reason: str = None


def gone_meanwhile(client, folder):
    """Why the folder (as it was listed) is already gone: another run deleted it, or is deleting it; else None."""
    now = _fingerprint(storage.blobs_of(client, folder.name))
    if not now:
        return "another run deleted it"
    if now < folder.fingerprint:  # fewer of the same blobs, none new or rewritten
        return "another run is deleting it"
    return None


def _fingerprint(blobs):
    return frozenset((b.name, b.etag) for b in blobs)


def delete_one(client, folder, judge):
    """Delete `folder` if storage shows a backup's files and the HSM confirms it now; never more than the listing
    that was judged (each blob only as listed, by its ETag).

    Another run deleting the same folder is met as such: a folder that shrank or vanished is already gone; a check
    that fails because the folder is half gone says so too."""
    fresh = storage.blobs_of(client, folder.name)
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
    deleted, gone, changed = storage.delete_blobs(client, fresh)
    if changed:
        return Outcome(folder, "leftAlone", deleted, f"{changed} changed while the folder was being deleted")
    if not deleted and gone:
        return Outcome(folder, "alreadyGone", reason="another run deleted it")
    return Outcome(folder, "deleted", deleted)


def kept_unchanged(client, plan):
    """The name of a confirmed backup of the plan that changed (or went) since it was judged, or None."""
    for folder, _, confirmed in plan.kept:
        if confirmed and _fingerprint(storage.blobs_of(client, folder.name)) != folder.fingerprint:
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
            plan.unconfirmed = plan.unconfirmed or Verdict(UNKNOWN, outcome.reason[len("not judged: ") :])
            outcomes += [Outcome(f, "leftAlone", reason=outcome.reason) for f in plan.candidates[index + 1 :]]
            break
    return outcomes
