"""The checks that keep delete, prune and restore to what a backup wrote: pure, no network."""

import math
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from azext_hsmbackup import _validators as v
from azext_hsmbackup._format import deletion_table
from azext_hsmbackup.model import bounds, retention
from azext_hsmbackup.model import folders as folders_model
from azext_hsmbackup.model import names as names_model
from azext_hsmbackup.model import target as target_model
from azext_hsmbackup.model.problems import InvalidValue, MissingValue
from azext_hsmbackup.model.retention import Verdict
from azext_hsmbackup.operations import deletion
from azext_hsmbackup.service import blob as blob_service

UTC = timezone.utc
STAMP = datetime(2026, 1, 1, 12, 0, 0, 500000, tzinfo=UTC)  # mhsm-...-2026010112000050


# ---- folder names -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, hsm, when",
    [
        ("mhsm-mcpatinotesthsm-2021091800411638", "mcpatinotesthsm", datetime(2021, 9, 18, 0, 41, 16, 380000, UTC)),
        ("mhsm-cli-test-hsm-bcup-000002-2023112206465081", "cli-test-hsm-bcup-000002", None),
        ("mhsm-myhsm-2026010112000050", "myhsm", STAMP),
    ],
)
def test_folder_names_the_service_writes_parse(name, hsm, when):
    parsed = folders_model.parse_folder_name(name)
    assert parsed[0] == hsm and (when is None or parsed[1] == when)
    assert folders_model.check_folder_name(name) == name


NOT_BACKUP_FOLDERS = [
    "",
    " ",
    "important",
    "important/x.txt",
    "mhsm-notes.txt",
    "mhsm-myhsm-2026010112000050/keys",
    "mhsm-myhsm-2026010112000050/",
    "/mhsm-myhsm-2026010112000050",
    "../x",
    "../mhsm-myhsm-2026010112000050",
    "mhsm-myhsm-2026010112000050-copy",
    "mhsm-myhsm-20260101",  # a prefix of a backup name
    "mhsm-myhsm-202601011200005",
    "mhsm-myhsm-20260101120000500",
    "mhsm-a-2026010112000050",  # HSM names have 3-24 characters
    "mhsm-myhsm--2026010112000050",
    "mhsm--myhsm-2026010112000050",
    "mhsm-" + "h" * 25 + "-2026010112000050",
    "mhsm-myhsm-2026023012000050",  # 30 February
    "mhsm-myhsm-2026010124000050",  # hour 24
    "mhsm-myhsm-2026130112000050",  # month 13
    "mhsm-myhsm-0000010112000050",  # year 0
    "mhsm-myhsm-2026010112000050\n",
    " mhsm-myhsm-2026010112000050",
    "MHSM-myhsm-2026010112000050",
    "mhsm-myhsm-٢٠٢٦٠١٠١١٢٠٠٠٠٥٠",  # digits of another script
    "mhsm-my_hsm-2026010112000050",
    "mhsm-myhsm-2026010112000050?comp=list",
    "mhsm-myhsm-*",
]


@pytest.mark.parametrize("name", NOT_BACKUP_FOLDERS)
def test_anything_else_is_not_a_backup_folder(name):
    assert folders_model.parse_folder_name(name) is None
    with pytest.raises(InvalidValue) as caught:
        folders_model.check_folder_name(name)
    message = str(caught.value.error_msg)
    assert "--backup-folder" in message and "mhsm-<hsm name>-<yyyyMMddHHmmssff>" in message and "\n" not in message


@pytest.mark.parametrize("value", [None, 5, b"mhsm-myhsm-2026010112000050", ["x"]])
def test_a_folder_name_of_the_wrong_type_is_not_a_backup_folder(value):
    assert folders_model.parse_folder_name(value) is None


@pytest.mark.parametrize("name", ["important", "mhsm-myhsm-2026010112000050/keys", "../x", "mhsm-myhsm-20260101"])
def test_folder_url_and_backup_folder_of_restore_and_delete_refuse_the_same(name):
    container = "https://acct.blob.core.windows.net/bkp"
    with pytest.raises(InvalidValue, match="--folder-url"):
        target_model.resolve_restore_target(
            hsm_id="https://h.managedhsm.azure.net", folder_url=f"{container}/{name}", mint_sas=1
        )
    with pytest.raises(InvalidValue, match="--backup-folder"):
        target_model.resolve_restore_target(
            hsm_id="https://h.managedhsm.azure.net",
            backup_folder=name,
            storage_container_uri=container,
            mint_sas=True,
        )
    with pytest.raises(InvalidValue, match="--backup-folder"):
        target_model.resolve_storage_target(storage_container_uri=container, backup_folder=name)


# ---- numbers and names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", [0, -1, -(10**30), 10001, 10**30, True, 1.5, "0", "-1", "", " ", "1.5", "abc", "nan", "1e3", "10001"]
)
def test_keep_is_bounded(value):
    with pytest.raises(InvalidValue, match=r"--keep .* from 1 to 10000"):
        bounds.check_keep(value)


@pytest.mark.parametrize(
    ("value", "kept"), [(None, None), (1, 1), (7, 7), (10000, 10000), ("3", 3), (" 10000 ", 10000)]
)
def test_keep_in_range_passes(value, kept):
    assert bounds.check_keep(value) == kept


@pytest.mark.parametrize(
    "value",
    [
        0,
        0.0,
        -0.0,
        -1,
        -1e-9,
        math.nan,
        math.inf,
        -math.inf,
        36500.001,
        1e300,
        "0",
        "-0",
        "-1",
        "nan",
        "inf",
        "-inf",
        "1e300",
        "1e999",
        "",
        " ",
        "thirty",
        "36500.5",
    ],
)
def test_older_than_is_a_finite_positive_bounded_number_of_days(value):
    with pytest.raises(InvalidValue, match=r"--older-than .* above 0 and at most 36500"):
        bounds.check_older_than(value)


@pytest.mark.parametrize("value", [None, 1e-6, 0.5, 30, 36500, "30", "0.5", "36500"])
def test_older_than_in_range_passes_and_the_date_arithmetic_holds(value):
    days = bounds.check_older_than(value)
    assert days == (None if value is None else float(value))
    retention.cutoff_of(days)  # no OverflowError at either end


@pytest.mark.parametrize(
    "value", ["", " ", "\t", "\n", "key name", "key_1", "key/1", "../k", "k" * 128, "ключ", "key-1\n", "*"]
)
def test_key_name_must_be_one_the_service_can_have(value):
    with pytest.raises(InvalidValue) as caught:
        names_model.check_key_name(value)
    assert "--key-name" in caught.value.error_msg and "1-127 letters, digits and hyphens" in caught.value.error_msg


@pytest.mark.parametrize("value", [None, "k", "key-1", "K" * 127, "0"])
def test_key_names_the_service_accepts_pass(value):
    assert names_model.check_key_name(value) == value


@pytest.mark.parametrize("value", ["", " ", "ab", "a" * 25, "1hsm", "hsm-", "my--hsm", "myhsm\n", "my hsm", "my_hsm"])
def test_hsm_filter_must_be_a_valid_hsm_name(value):
    with pytest.raises(InvalidValue, match="--hsm-name"):
        names_model.check_hsm_filter(value)


# ---- the command validators: checks run first, and exit 2 ---------------------------------------------------


def prune_namespace(**flags):
    return SimpleNamespace(**{"keep": None, "older_than": None, "hsm_filter": None, **flags})


@pytest.mark.parametrize(
    "flags",
    [
        {},
        {"keep": 0},
        {"keep": -1},
        {"older_than": -1.0},
        {"older_than": math.nan},
        {"older_than": math.inf},
        {"older_than": 1e300},
        {"keep": 2, "hsm_filter": ""},
    ],
)
def test_prune_validator_exits_2_before_resolving_anything(flags):
    resolved = []
    validate = v.validator(lambda **flags: resolved.append(flags), check=v.check_prune_flags)
    with pytest.raises(SystemExit) as caught:
        validate(None, prune_namespace(**flags))
    assert caught.value.code == 2 and resolved == []
    assert "\n" not in caught.value.error.error_msg


def test_prune_without_a_rule_says_which_flags_to_give():
    with pytest.raises(MissingValue, match=r"--keep N .*--older-than DAYS"):
        v.check_prune_flags(prune_namespace())


def test_restore_validator_refuses_an_empty_key_name_before_resolving():
    resolved = []
    validate = v.validator(lambda **flags: resolved.append(flags) or (None, []), check=v.check_restore_flags)
    with pytest.raises(SystemExit) as caught:
        validate(None, SimpleNamespace(key_name=""))
    assert caught.value.code == 2 and resolved == []
    cmd = SimpleNamespace(
        cli_ctx=SimpleNamespace(cloud=SimpleNamespace(suffixes=SimpleNamespace(mhsm_dns=None, storage_endpoint=None)))
    )
    validate(cmd, SimpleNamespace())  # check restore has no --key-name
    assert len(resolved) == 1


# ---- what a folder holds, as far as storage can tell ------------------------------------------------------------


def blob(name, size=10, created=STAMP + timedelta(seconds=5), etag=None):
    return SimpleNamespace(name=name, size=size, creation_time=created, last_modified=created, etag=etag or f"e-{name}")


FOLDER = "mhsm-myhsm-2026010112000050"


@pytest.mark.parametrize(
    "blobs, problem",
    [
        ([], "it holds no blobs"),
        ([blob(f"{FOLDER}/a", size=0)], "it has 1 empty blob"),
        ([blob(f"{FOLDER}/a", created=STAMP + timedelta(days=40))], "not written by a backup started at"),
        ([blob(f"{FOLDER}/a", created=STAMP - timedelta(hours=1))], "not written by a backup started at"),
        ([blob(f"{FOLDER}/a", created=None)], "not written by a backup started at"),
        (
            [blob(f"{FOLDER}/a"), blob(f"{FOLDER}/notes.txt", created=STAMP + timedelta(days=2))],
            "it has 1 blob not written",
        ),
    ],
)
def test_a_folder_that_only_looks_like_a_backup_is_not_one(blobs, problem):
    assert problem in folders_model.blob_problem(blobs, STAMP)


def test_within_the_job_window_and_clock_skew_the_blobs_are_a_backups():
    for created in (STAMP - timedelta(minutes=14), STAMP + timedelta(hours=24, minutes=14)):
        assert folders_model.blob_problem([blob(f"{FOLDER}/a", created=created)], STAMP) is None


def test_no_file_name_is_needed_a_folder_without_an_index_passes_storages_check_and_no_more():
    folder = retention.Folder(FOLDER, "myhsm", STAMP, [blob(f"{FOLDER}/a"), blob(f"{FOLDER}/b/c")])
    shown = retention.details(folder, "https://acct.blob.core.windows.net/bkp")
    assert (shown["state"], shown["problem"], shown["blobCount"], shown["sizeBytes"]) == ("Unverified", None, 2, 20)
    assert "complete" not in shown  # storage cannot tell a finished backup from one still being written


class Container:
    """Enough of a ContainerClient for the retention code: a flat listing and deletes that honour an ETag."""

    def __init__(self, *blobs):
        self.blobs = {b.name: b for b in blobs}
        self.deleted = []
        self.listings = 0
        self.gone_with_412 = set()

    def list_blobs(self, name_starts_with=""):
        self.listings += 1
        return [b for n, b in sorted(self.blobs.items()) if n.startswith(name_starts_with)]

    def walk_blobs(self, delimiter="/"):
        """The top level: a prefix ("folder/") per folder, each once, and the blobs that sit at the top."""
        self.listings += 1
        tops = sorted({n.split(delimiter)[0] + delimiter if delimiter in n else n for n in self.blobs})
        return [SimpleNamespace(name=top) for top in tops]

    def delete_blob(self, name, etag=None, match_condition=None):
        from azure.core.exceptions import ResourceModifiedError, ResourceNotFoundError

        if name not in self.blobs:
            if name in self.gone_with_412:  # Azurite: a failed If-Match on a blob that is gone
                raise ResourceModifiedError("ConditionNotMet")
            raise ResourceNotFoundError("BlobNotFound")
        if etag is not None and self.blobs[name].etag != etag:
            raise ResourceModifiedError("ConditionNotMet")
        self.deleted.append(name)
        del self.blobs[name]


def backup(hsm, days_ago, blobs=2, now=None):
    """The blobs of one backup folder of `hsm`, written `days_ago` days before `now`."""
    when = (now or NOW) - timedelta(days=days_ago)
    folder = f"mhsm-{hsm}-{when:%Y%m%d%H%M%S}00"
    return [blob(f"{folder}/keys/k{i}.json", created=when + timedelta(seconds=i + 1)) for i in range(blobs)]


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


# ---- the plan: what counts is what the HSM confirms ------------------------------------------------------------

NOW = datetime.now(UTC)
FINISHED_, NOT_FINISHED_ = Verdict(retention.FINISHED), Verdict(retention.NOT_FINISHED, "(InvalidBackupFolder) no")


class Judge:
    """The HSM's verdicts by folder name (finished unless told otherwise), and the folders it was asked about."""

    def __init__(self, **by_name):
        self.by_name, self.asked = by_name, []

    def __call__(self, folder):
        self.asked.append(folder.name)
        return self.by_name.get(folder.name, FINISHED_)


def folders(*specs):
    """Folders of (hsm, days ago) specs, newest first, with their blobs."""
    client = Container(*(b for hsm, days in specs for b in backup(hsm, days)))
    return deletion.folders_of(client, with_blobs=True)


def names(entries):
    return [e[0].name if isinstance(e, tuple) else e.name for e in entries]


def test_an_unfinished_newest_backup_is_neither_counted_nor_deleted_and_the_last_that_restores_stays():
    """The issue's data loss: prune --keep 1 took a half-written folder for the newest backup and deleted the last
    backup that restores. Now the folder the HSM does not confirm stays, uncounted; the next one is the newest."""
    half, good, old = folders(("myhsm", 1), ("myhsm", 2), ("myhsm", 3))
    judge = Judge(**{half.name: NOT_FINISHED_})
    plan = retention.plan_hsm([half, good, old], judge, keep=1)
    assert names(plan.kept) == [good.name] and names(plan.candidates) == [old.name]
    assert plan.left_alone == [(half, "not a finished backup: (InvalidBackupFolder) no")]
    assert judge.asked == [half.name, good.name]  # only what the decision needs


def test_an_hsm_that_cannot_be_asked_keeps_every_folder_and_says_why():
    running, older = folders(("myhsm", 0), ("myhsm", 5))
    busy = Verdict(retention.UNKNOWN, "another backup or restore runs (409)", 6)
    plan = retention.plan_hsm([running, older], Judge(**{running.name: busy}), keep=1)
    assert plan.kept == [] and plan.candidates == [] and plan.unconfirmed == busy
    assert [why for _, why in plan.left_alone] == ["not judged: another backup or restore runs (409)"] * 2


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


def test_hsm_names_group_without_regard_to_case():
    given = folders(("MyHsm", 1), ("myhsm", 2), ("other", 3))
    assert [len(group) for group in retention.by_hsm(given).values()] == [2, 1]


# ---- deleting: confirmed right before, never more than listed, another run met as such --------------------------


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


def test_when_the_hsm_cannot_be_asked_at_deletion_the_rest_of_it_stays():
    client = Container(*[b for d in (1, 2, 3, 4) for b in backup("myhsm", d)])
    plan, found = plan_of(client)
    busy = Verdict(retention.UNKNOWN, "busy (409)", 6)
    outcomes = deletion.carry_out(client, plan, Judge(**{found[1].name: busy}))
    assert [o.action for o in outcomes] == ["leftAlone"] * 3 and plan.unconfirmed is not None
    assert not client.deleted


def test_a_blob_rewritten_during_the_deletion_stops_it_and_a_gone_one_is_counted():
    blobs = backup("myhsm", 2, blobs=4)
    client = Container(*blobs)
    client.blobs[blobs[3].name] = blob(blobs[3].name, etag="rewritten")
    del client.blobs[blobs[1].name]
    del client.blobs[blobs[2].name]
    client.gone_with_412.add(blobs[2].name)  # gone, answered 412 rather than 404
    assert blob_service.delete_blobs(client, blobs) == (1, 2, blobs[3].name)


# ---- tables -----------------------------------------------------------------------------------------------------


def test_deletion_table_shows_what_went_would_go_was_gone_or_stayed_and_why():
    done = {
        "deleted": [{"folderName": FOLDER, "hsmName": "myhsm", "backupTime": "t", "blobsDeleted": 3}],
        "alreadyGone": [{"folderName": "g", "hsmName": "myhsm", "backupTime": "t", "reason": "another run"}],
        "leftAlone": [{"folderName": "l", "hsmName": "myhsm", "backupTime": "t", "reason": "not judged: 403"}],
    }
    preview = {"wouldDelete": [{"folderName": FOLDER, "hsmName": "myhsm", "backupTime": "t", "blobCount": 4}]}
    assert [list(r.values()) for r in deletion_table(done)] == [
        ["Deleted", FOLDER, "myhsm", "t", 3, ""],
        ["Already gone", "g", "myhsm", "t", "", "another run"],
        ["Left alone", "l", "myhsm", "t", "", "not judged: 403"],
    ]
    assert [list(r.values()) for r in deletion_table(preview)] == [["Would delete", FOLDER, "myhsm", "t", 4, ""]]
    assert deletion_table({"deleted": [], "wouldDelete": []}) == []
