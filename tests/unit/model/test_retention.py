"""The plan of one HSM's folders (model/retention.py): what counts is what the HSM confirms; what stays, what may go,
what is left alone and why."""

from azext_hsmbackup.model import retention
from azext_hsmbackup.model.retention import Verdict
from azext_hsmbackup.operations import deletion
from tests.unit.fakes import NOW, STAMP, Container, Judge, backup, blob, folders, names

STAMP_FOLDER = "mhsm-myhsm-2026010112000050"


def test_no_file_name_is_needed_a_folder_without_an_index_passes_storages_check_and_no_more():
    folder = retention.Folder(STAMP_FOLDER, "myhsm", STAMP, [blob(f"{STAMP_FOLDER}/a"), blob(f"{STAMP_FOLDER}/b/c")])
    shown = retention.details(folder, "https://acct.blob.core.windows.net/bkp")
    assert (shown["state"], shown["problem"], shown["blobCount"], shown["sizeBytes"]) == ("Unverified", None, 2, 20)
    assert "complete" not in shown  # storage cannot tell a finished backup from one still being written


def test_an_hsm_that_cannot_be_asked_keeps_every_folder_and_says_why():
    running, older = folders(("myhsm", 0), ("myhsm", 5))
    busy = Verdict(retention.UNKNOWN, "another backup or restore runs (409)", 6)
    plan = retention.plan_hsm([running, older], Judge(**{running.name: busy}), keep=1)
    assert plan.kept == [] and plan.candidates == [] and plan.unconfirmed == busy
    assert [why for _, why in plan.left_alone] == ["not judged: another backup or restore runs (409)"] * 2


def test_older_than_alone_never_takes_an_hsms_only_or_newest_confirmed_backup():
    (only,) = folders(("onlyhsm", 400))
    assert retention.plan_hsm([only], Judge(), cutoff=retention.cutoff_of(30)).candidates == []
    newest, recent, old = folders(("twohsm", 100), ("twohsm", 110), ("twohsm", 200))
    plan = retention.plan_hsm([newest, recent, old], Judge(), cutoff=retention.cutoff_of(150))
    assert names(plan.kept) == [newest.name, recent.name] and names(plan.candidates) == [old.name]
    assert plan.kept[1][1:] == ("not older than --older-than", False)  # kept, but not counted as confirmed


def test_both_rules_delete_only_what_both_let_go():
    given = folders(*[("myhsm", d) for d in (1, 10, 20, 40, 50)])
    two_and_thirty = retention.plan_hsm(given, Judge(), keep=2, cutoff=retention.cutoff_of(30))
    assert names(two_and_thirty.candidates) == names(given[3:])
    four_and_five = retention.plan_hsm(given, Judge(), keep=4, cutoff=retention.cutoff_of(5))
    assert names(four_and_five.candidates) == names(given[4:])


def test_a_folder_storage_shows_is_no_backup_is_left_alone_unasked():
    (real,) = folders(("myhsm", 2))
    fake = retention.Folder("mhsm-myhsm-2026010100000000", "myhsm", STAMP, [blob("x", created=NOW)])
    judge = Judge()
    plan = retention.plan_hsm([real, fake], judge, keep=1)
    assert judge.asked == [real.name] and plan.candidates == []
    assert plan.left_alone[0][1].startswith("not a backup: it has 1 blob not written by a backup started at")


def plan_of(client, **verdicts):
    found = deletion.folders_of(client, with_blobs=True)
    return retention.plan_hsm(found, Judge(**verdicts), keep=1), found


def test_when_the_hsm_cannot_be_asked_at_deletion_the_rest_of_it_stays():
    client = Container(*[b for d in (1, 2, 3, 4) for b in backup("myhsm", d)])
    plan, found = plan_of(client)
    busy = Verdict(retention.UNKNOWN, "busy (409)", 6)
    outcomes = deletion.carry_out(client, plan, Judge(**{found[1].name: busy}))
    assert [o.action for o in outcomes] == ["leftAlone"] * 3 and plan.unconfirmed is not None
    assert not client.deleted
