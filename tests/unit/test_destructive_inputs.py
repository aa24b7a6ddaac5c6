"""The checks that keep delete, prune and restore to what a backup wrote: pure, no network."""

import json
import math
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from azure.cli.core.azclierror import InvalidArgumentValueError, RequiredArgumentMissingError

from azext_hsmbackup import _validators as v
from azext_hsmbackup import storage
from azext_hsmbackup._format import deletion_table

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
    parsed = storage.parse_folder_name(name)
    assert parsed[0] == hsm and (when is None or parsed[1] == when)
    assert v.check_folder_name(name) == name


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
    assert storage.parse_folder_name(name) is None
    with pytest.raises(InvalidArgumentValueError) as caught:
        v.check_folder_name(name)
    message = str(caught.value.error_msg)
    assert "--backup-folder" in message and "mhsm-<hsm name>-<yyyyMMddHHmmssff>" in message and "\n" not in message


@pytest.mark.parametrize("value", [None, 5, b"mhsm-myhsm-2026010112000050", ["x"]])
def test_a_folder_name_of_the_wrong_type_is_not_a_backup_folder(value):
    assert storage.parse_folder_name(value) is None


@pytest.mark.parametrize("name", ["important", "mhsm-myhsm-2026010112000050/keys", "../x", "mhsm-myhsm-20260101"])
def test_folder_url_and_backup_folder_of_restore_and_delete_refuse_the_same(name):
    container = "https://acct.blob.core.windows.net/bkp"
    with pytest.raises(InvalidArgumentValueError, match="--folder-url"):
        v.resolve_restore_target(hsm_id="https://h.managedhsm.azure.net", folder_url=f"{container}/{name}", mint_sas=1)
    with pytest.raises(InvalidArgumentValueError, match="--backup-folder"):
        v.resolve_restore_target(
            hsm_id="https://h.managedhsm.azure.net",
            backup_folder=name,
            storage_container_uri=container,
            mint_sas=True,
        )
    with pytest.raises(InvalidArgumentValueError, match="--backup-folder"):
        v.resolve_storage_target(storage_container_uri=container, backup_folder=name)


# ---- numbers and names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", [0, -1, -(10**30), 10001, 10**30, True, 1.5, "0", "-1", "", " ", "1.5", "abc", "nan", "1e3", "10001"]
)
def test_keep_is_bounded(value):
    with pytest.raises(InvalidArgumentValueError, match=r"--keep .* from 1 to 10000"):
        v.check_keep(value)


@pytest.mark.parametrize(
    ("value", "kept"), [(None, None), (1, 1), (7, 7), (10000, 10000), ("3", 3), (" 10000 ", 10000)]
)
def test_keep_in_range_passes(value, kept):
    assert v.check_keep(value) == kept


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
    with pytest.raises(InvalidArgumentValueError, match=r"--older-than .* above 0 and at most 36500"):
        v.check_older_than(value)


@pytest.mark.parametrize("value", [None, 1e-6, 0.5, 30, 36500, "30", "0.5", "36500"])
def test_older_than_in_range_passes_and_the_date_arithmetic_holds(value):
    days = v.check_older_than(value)
    assert days == (None if value is None else float(value))
    storage.plan_prune([], older_than=days)  # no OverflowError at either end


@pytest.mark.parametrize(
    "value", ["", " ", "\t", "\n", "key name", "key_1", "key/1", "../k", "k" * 128, "ключ", "key-1\n", "*"]
)
def test_key_name_must_be_one_the_service_can_have(value):
    with pytest.raises(InvalidArgumentValueError) as caught:
        v.check_key_name(value)
    assert "--key-name" in caught.value.error_msg and "1-127 letters, digits and hyphens" in caught.value.error_msg


@pytest.mark.parametrize("value", [None, "k", "key-1", "K" * 127, "0"])
def test_key_names_the_service_accepts_pass(value):
    assert v.check_key_name(value) == value


@pytest.mark.parametrize("value", ["", " ", "ab", "a" * 25, "1hsm", "hsm-", "my--hsm", "myhsm\n", "my hsm", "my_hsm"])
def test_hsm_filter_must_be_a_valid_hsm_name(value):
    with pytest.raises(InvalidArgumentValueError, match="--hsm-name"):
        v.check_hsm_filter(value)


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
    validate = v._checked_first(v._check_prune, lambda cmd, ns: resolved.append(ns))
    with pytest.raises(SystemExit) as caught:
        validate(None, prune_namespace(**flags))
    assert caught.value.code == 2 and resolved == []
    assert "\n" not in caught.value.error.error_msg


def test_prune_without_a_rule_says_which_flags_to_give():
    with pytest.raises(RequiredArgumentMissingError, match=r"--keep N .*--older-than DAYS"):
        v._check_prune(prune_namespace())


def test_restore_validator_refuses_an_empty_key_name_before_resolving():
    resolved = []
    validate = v._checked_first(v._check_restore, lambda cmd, ns: resolved.append(ns))
    with pytest.raises(SystemExit) as caught:
        validate(None, SimpleNamespace(key_name=""))
    assert caught.value.code == 2 and resolved == []
    validate(None, SimpleNamespace())  # check restore has no --key-name
    assert len(resolved) == 1


# ---- what a folder holds ------------------------------------------------------------------------------------


def blob(name, size=10, created=STAMP + timedelta(seconds=5)):
    return SimpleNamespace(name=name, size=size, creation_time=created)


class Container:
    """Enough of a ContainerClient for the inspection code: blobs by name, contents by name."""

    def __init__(self, *blobs, contents=None):
        self.blobs = {b.name: b for b in blobs}
        self.contents = contents or {}
        self.deleted = []

    def list_blobs(self, name_starts_with=""):
        return [b for n, b in sorted(self.blobs.items()) if n.startswith(name_starts_with)]

    def download_blob(self, name):
        return SimpleNamespace(readall=lambda: self.contents[name])

    def delete_blob(self, name):
        self.deleted.append(name)
        del self.blobs[name]


FOLDER = "mhsm-myhsm-2026010112000050"


def backup_blobs(folder=FOLDER, keys=("k1", "k2"), created=STAMP + timedelta(seconds=5)):
    manifest = {"format": "x", "keys": [{"name": k, "blob": f"keys/{k}.json"} for k in keys]}
    data = json.dumps(manifest).encode()
    blobs = [blob(f"{folder}/keys/{k}.json", created=created) for k in keys]
    blobs.append(blob(f"{folder}/manifest.json", size=len(data), created=created))
    return blobs, {f"{folder}/manifest.json": data}


def test_a_backup_as_written_is_complete():
    blobs, contents = backup_blobs()
    state = storage.inspect_folder(Container(*blobs, contents=contents), FOLDER, STAMP)
    assert state == {"blobCount": 3, "sizeBytes": 20 + len(contents[f"{FOLDER}/manifest.json"]), "complete": True,
                     "problem": None}  # fmt: skip


def test_a_gutted_backup_is_not_complete():
    blobs, contents = backup_blobs()
    gutted = [b for b in blobs if "/keys/" not in b.name]
    state = storage.inspect_folder(Container(*gutted, contents=contents), FOLDER, STAMP)
    assert state["complete"] is False and state["problem"] == "it lacks 2 blobs its manifest.json names"


def test_a_folder_without_an_index_is_judged_by_its_blobs_alone():
    state = storage.inspect_folder(Container(blob(f"{FOLDER}/a"), blob(f"{FOLDER}/b/c")), FOLDER, STAMP)
    assert state["complete"] is True and state["blobCount"] == 2


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
    state = storage.inspect_folder(Container(*blobs), FOLDER, STAMP)
    assert state["complete"] is False and problem in state["problem"]


def test_within_the_job_window_and_clock_skew_is_a_backup():
    for created in (STAMP - timedelta(minutes=14), STAMP + timedelta(hours=24, minutes=14)):
        assert storage.inspect_folder(Container(blob(f"{FOLDER}/a", created=created)), FOLDER, STAMP)["complete"]


def test_an_unreadable_index_is_not_a_complete_backup():
    class Refusing(Container):
        def download_blob(self, name):
            from azure.core.exceptions import HttpResponseError

            raise HttpResponseError("403 AuthorizationPermissionMismatch")

    blobs, contents = backup_blobs()
    state = storage.inspect_folder(Refusing(*blobs, contents=contents), FOLDER, STAMP)
    assert state["complete"] is False and "'r'" in state["problem"]


def test_a_longer_folder_name_that_starts_the_same_is_another_folder():
    blobs, contents = backup_blobs()
    other = blob(FOLDER + "0/keys/k.json")  # mhsm-myhsm-20260101120000500: not this folder
    client = Container(*blobs, other, contents=contents)
    assert storage.inspect_folder(client, FOLDER, STAMP)["blobCount"] == 3
    count, problem = storage.delete_folder(client, FOLDER)
    assert (count, problem) == (3, None) and list(client.blobs) == [other.name]


def test_delete_folder_rechecks_on_the_listing_it_deletes_from():
    client = Container(blob(f"{FOLDER}/a"), blob(f"{FOLDER}/late.txt", created=STAMP + timedelta(days=3)))
    count, problem = storage.delete_folder(client, FOLDER)
    assert count == 0 and "not written by a backup" in problem and client.deleted == []
    assert storage.delete_folder(Container(), "important") == (0, "its name is not a backup folder's")


# ---- prune's plan ---------------------------------------------------------------------------------------------

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def entry(hsm, days_ago, complete=True):
    when = NOW - timedelta(days=days_ago)
    folder = f"mhsm-{hsm}-{when:%Y%m%d%H%M%S}00"
    return {"folderName": folder, "hsmName": hsm, "backupTime": when.isoformat(), "complete": complete}


def plan(backups, **rules):
    backups = sorted(backups, key=lambda b: b["folderName"][-16:], reverse=True)
    return [b["folderName"] for b in storage.plan_prune(backups, now=NOW, **rules)]


def test_older_than_alone_never_takes_an_hsms_only_or_newest_backup():
    only = entry("onlyhsm", 400)
    newest, old = entry("twohsm", 100), entry("twohsm", 200)
    assert plan([only, newest, old], older_than=30) == [old["folderName"]]


def test_keep_counts_complete_backups_and_the_newest_complete_one_always_stays():
    fake_newest = entry("myhsm", 1, complete=False)
    real = [entry("myhsm", d) for d in (2, 3, 4)]
    assert plan([fake_newest, *real], keep=1) == [real[1]["folderName"], real[2]["folderName"]]
    assert plan([fake_newest, *real], keep=2) == [real[2]["folderName"]]


def test_both_rules_delete_only_what_both_let_go():
    backups = [entry("myhsm", d) for d in (1, 10, 20, 40, 50)]
    assert plan(backups, keep=2, older_than=30) == [backups[3]["folderName"], backups[4]["folderName"]]
    assert plan(backups, keep=4, older_than=5) == [backups[4]["folderName"]]


def test_hsm_names_group_without_regard_to_case():
    assert plan([entry("MyHsm", 1), entry("myhsm", 2)], keep=1) == [entry("myhsm", 2)["folderName"]]


def test_incomplete_folders_are_never_planned():
    backups = [entry("myhsm", 1), entry("myhsm", 100, complete=False)]
    assert plan(backups, keep=1) == [] and plan(backups, older_than=1) == []


# ---- table -----------------------------------------------------------------------------------------------------


def test_deletion_table_shows_what_went_or_would_go():
    done = {"deleted": [{"folderName": FOLDER, "hsmName": "myhsm", "backupTime": "t", "blobsDeleted": 3}]}
    preview = {"wouldDelete": [{"folderName": FOLDER, "hsmName": "myhsm", "backupTime": "t", "blobCount": 4}]}
    assert [list(r.values()) for r in deletion_table(done)] == [["Deleted", FOLDER, "myhsm", "t", 3]]
    assert [list(r.values()) for r in deletion_table(preview)] == [["Would delete", FOLDER, "myhsm", "t", 4]]
    assert deletion_table({"deleted": [], "wouldDelete": []}) == []


# ---- the real run plans again and re-checks each folder right before deleting it ----------------------------


class Closing(Container):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def run_delete(monkeypatch, client, plans, what_if=False):
    """custom._delete_folders with `client` as the container and `plans` as what each planning pass returns."""
    from azext_hsmbackup import custom
    from azext_hsmbackup._validators import Target

    monkeypatch.setattr(custom, "_container", lambda cmd, target, permissions: (client, None))
    passes = iter(plans)

    def plan(_client, quiet=False):
        return next(passes)

    target = Target(None, None, "https://acct.blob.core.windows.net/bkp", "sas", "sig=x")
    return custom._delete_folders(None, target, plan, True, what_if)


def planned(folder, hsm="myhsm"):
    return {"folderName": folder, "hsmName": hsm, "backupTime": "t", "blobCount": 1}


OTHER = "mhsm-myhsm-2026010112000060"


def test_what_if_shows_the_plan_and_deletes_nothing(monkeypatch):
    client = Closing(blob(f"{FOLDER}/a"))
    out = run_delete(monkeypatch, client, [[planned(FOLDER)]], what_if=True)
    assert [f["folderName"] for f in out["wouldDelete"]] == [FOLDER] and out["deleted"] == []
    assert client.deleted == []


def test_a_folder_no_longer_planned_after_the_prompt_is_left_alone(monkeypatch):
    client = Closing(blob(f"{FOLDER}/a"), blob(f"{OTHER}/a", created=STAMP + timedelta(seconds=10)))
    out = run_delete(monkeypatch, client, [[planned(FOLDER), planned(OTHER)], [planned(OTHER)]])
    assert [f["folderName"] for f in out["deleted"]] == [OTHER] and client.deleted == [f"{OTHER}/a"]


def test_a_folder_that_changed_after_planning_is_left_alone(monkeypatch):
    client = Closing(blob(f"{FOLDER}/a"), blob(f"{FOLDER}/added-later.txt", created=STAMP + timedelta(days=9)))
    out = run_delete(monkeypatch, client, [[planned(FOLDER)], [planned(FOLDER)]])
    assert out["deleted"] == [] and client.deleted == []
