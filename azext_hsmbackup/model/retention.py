"""Which backups of a container stay and which may go, on the HSM's own evidence: the plan of one HSM's folders.

A folder counts toward --keep, and as an HSM's newest backup, only when the HSM that wrote it confirms it holds a
finished backup (its pre-restore check: service/evidence.py); a folder it does not confirm is neither counted nor
deleted. Storage alone sorts out what cannot be a backup at all (folders.blob_problem). Pure: the HSM's word and
the listing of a folder's blobs come in as functions (operations/deletion.py gives them)."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from azext_hsmbackup.model.folders import blob_problem, iso_utc

FINISHED, NOT_FINISHED, UNKNOWN = "Finished", "NotFinished", "Unknown"


@dataclass(frozen=True)
class Verdict:
    state: str  # FINISHED, NOT_FINISHED or UNKNOWN
    reason: str = None  # what the HSM said (NOT_FINISHED) or why it could not be asked (UNKNOWN), as one line
    code: int = None  # UNKNOWN: the exit code of its cause (5 not authorized, 7 unreachable, 6 busy, ...)


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
        return blob_problem(self.blobs, self.when)

    @property
    def fingerprint(self):
        return frozenset((b.name, b.etag) for b in self.blobs)

    def entry(self, container_uri, **extra):
        return {
            "folderName": self.name,
            "folderUrl": f"{container_uri}/{self.name}",
            "hsmName": self.hsm,
            "backupTime": iso_utc(self.when),
            **extra,
        }


def details(folder, container_uri):
    """list --details: what storage shows of a folder, and never more than storage can tell."""
    problem = folder.problem
    written = max((b.last_modified for b in folder.blobs if b.last_modified), default=None)
    return folder.entry(
        container_uri,
        blobCount=len(folder.blobs),
        sizeBytes=sum(b.size or 0 for b in folder.blobs),
        lastWritten=iso_utc(written) if written else None,
        state="NotABackup" if problem else "Unverified",
        problem=problem,
    )


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


@dataclass
class Outcome:
    """What happened to one folder: deleted (blobs), already gone, or left alone (why)."""

    folder: Folder
    action: str  # "deleted", "alreadyGone", "leftAlone"
    blobs: int = 0
    reason: str = None
