"""Deleting what a plan lets go (operations/deletion.py): each folder confirmed right before it goes, never more than
was listed, another run's deletion met as such."""

from datetime import timedelta

import pytest

from azext_hsmbackup.model import retention
from azext_hsmbackup.operations import deletion
from azext_hsmbackup.service import blob as blob_service
from tests.unit.fakes import NOT_FINISHED_, NOW, Container, Judge, backup, blob, folders, names


@pytest.mark.parametrize("with_blobs", [False, True])
def test_one_listing_finds_every_folder_newest_first_and_a_longer_name_is_another_folder(with_blobs):
    """Names alone from one delimiter listing (prune, delete); every blob from one flat listing (list --details)."""
    older, newer = backup("myhsm", 9), backup("MyHsm", 1)
    longer = blob(newer[0].name.split("/")[0] + "0/keep.txt")  # mhsm-...000: not a backup folder's name
    client = Container(*older, *newer, longer, blob("mhsm-notes.txt"), blob("important/x.txt"))
    folders = deletion.folders_of(client, with_blobs=with_blobs)
    assert [f.name for f in folders] == [newer[0].name.split("/")[0], older[0].name.split("/")[0]]
    assert client.listings == 1 and [f.blobs and len(f.blobs) for f in folders] == (
        [2, 2] if with_blobs else [None] * 2
    )
    assert [f.name for f in deletion.folders_of(client, "MYHSM", with_blobs)] == [f.name for f in folders]


def test_an_unfinished_newest_backup_is_neither_counted_nor_deleted_and_the_last_that_restores_stays():
    """The issue's data loss: prune --keep 1 took a half-written folder for the newest backup and deleted the last
    backup that restores. Now the folder the HSM does not confirm stays, uncounted; the next one is the newest."""
    half, good, old = folders(("myhsm", 1), ("myhsm", 2), ("myhsm", 3))
    judge = Judge(**{half.name: NOT_FINISHED_})
    plan = retention.plan_hsm([half, good, old], judge, keep=1)
    assert names(plan.kept) == [good.name] and names(plan.candidates) == [old.name]
    assert plan.left_alone == [(half, "not a finished backup: (InvalidBackupFolder) no")]
    assert judge.asked == [half.name, good.name]  # only what the decision needs


def test_the_hsm_is_asked_only_until_keep_backups_are_confirmed_and_only_their_blobs_are_listed():
    client = Container(*(b for d in range(1, 11) for b in backup("myhsm", d)))
    given = deletion.folders_of(client)  # names only
    judge, listed = Judge(), []

    def load(folder):
        listed.append(folder.name)
        return blob_service.blobs_of(client, folder.name)

    plan = retention.plan_hsm(given, judge, keep=3, load=load)
    assert judge.asked == names(given[:3]) == listed and names(plan.candidates) == names(given[3:])
    assert all(f.blobs is None for f in plan.candidates)  # read when (and if) each is about to be deleted
    assert [why for _, why, _ in plan.kept] == [
        "the newest finished backup of its HSM",
        "one of the 3 newest finished backups of its HSM",
        "one of the 3 newest finished backups of its HSM",
    ]


def test_hsm_names_group_without_regard_to_case():
    given = folders(("MyHsm", 1), ("myhsm", 2), ("other", 3))
    assert [len(group) for group in retention.by_hsm(given).values()] == [2, 1]


def plan_of(client, **verdicts):
    found = deletion.folders_of(client, with_blobs=True)
    return retention.plan_hsm(found, Judge(**verdicts), keep=1), found


def test_a_candidate_whose_files_are_no_backups_is_left_alone_when_it_comes_to_deleting_it():
    fake = f"mhsm-myhsm-{(NOW - timedelta(days=5)):%Y%m%d%H%M%S}00"
    client = Container(*backup("myhsm", 1), blob(f"{fake}/notes.txt", created=NOW))  # written now: no backup's
    found = deletion.folders_of(client)  # names only: the candidate's blobs are not read for the plan
    plan = retention.plan_hsm(found, Judge(), keep=1, load=lambda f: blob_service.blobs_of(client, f.name))
    judge = Judge()
    (outcome,) = deletion.carry_out(client, plan, judge)
    assert outcome.action == "leftAlone" and outcome.reason.startswith("not a backup: it has 1 blob not written")
    assert judge.asked == [] and not client.deleted


def test_a_candidate_goes_once_the_hsm_confirms_it_again_and_nothing_beside_it():
    client = Container(*backup("myhsm", 1), *backup("myhsm", 2), blob("important/x.txt"))
    plan, (newest, old) = plan_of(client)
    judge = Judge()
    outcomes = deletion.carry_out(client, plan, judge)
    assert [(o.action, o.blobs) for o in outcomes] == [("deleted", 2)] and judge.asked == [old.name]
    assert sorted(client.blobs) == sorted([*[b.name for b in newest.blobs], "important/x.txt"])


def test_a_candidate_the_hsm_no_longer_confirms_is_left_alone():
    client = Container(*backup("myhsm", 1), *backup("myhsm", 2))
    plan, (_, old) = plan_of(client)
    (outcome,) = deletion.carry_out(client, plan, Judge(**{old.name: NOT_FINISHED_}))
    assert outcome.action == "leftAlone" and outcome.reason.startswith("not a finished backup") and not client.deleted


def test_a_folder_another_run_deleted_or_is_deleting_is_already_gone():
    client = Container(*backup("myhsm", 1), *backup("myhsm", 2), *backup("myhsm", 3))
    plan, (_, middle, oldest) = plan_of(client)
    for b in middle.blobs:
        del client.blobs[b.name]  # gone entirely
    del client.blobs[oldest.blobs[0].name]  # half gone
    outcomes = deletion.carry_out(client, plan, Judge())
    assert [(o.action, o.reason) for o in outcomes] == [
        ("alreadyGone", "another run deleted it"),
        ("alreadyGone", "another run is deleting it"),
    ]


def test_a_check_that_fails_because_the_folder_is_being_deleted_is_already_gone():
    client = Container(*backup("myhsm", 1), *backup("myhsm", 2))
    plan, _ = plan_of(client)

    def judge(folder):  # while the HSM reads it, another run deletes a blob: the check fails
        del client.blobs[folder.blobs[0].name]
        return NOT_FINISHED_

    (outcome,) = deletion.carry_out(client, plan, judge)
    assert (outcome.action, outcome.reason) == ("alreadyGone", "another run is deleting it")


def test_a_folder_that_changed_after_planning_is_left_alone():
    client = Container(*backup("myhsm", 1), *backup("myhsm", 2))
    plan, (_, old) = plan_of(client)
    client.blobs[old.blobs[0].name] = blob(old.blobs[0].name, etag="rewritten")
    (outcome,) = deletion.carry_out(client, plan, Judge())
    assert (outcome.action, outcome.reason) == ("leftAlone", "it changed after it was planned") and not client.deleted


def test_when_a_kept_backup_changed_nothing_of_that_hsm_goes():
    client = Container(*backup("myhsm", 1), *backup("myhsm", 2))
    plan, (newest, _) = plan_of(client)
    del client.blobs[newest.blobs[0].name]
    outcomes = deletion.carry_out(client, plan, Judge())
    assert [o.action for o in outcomes] == ["leftAlone"] and "which it keeps, changed" in outcomes[0].reason
    assert not client.deleted
