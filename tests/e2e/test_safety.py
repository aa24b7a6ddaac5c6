"""Data safety through the real az (issue 9): delete, prune and restore act only on what a backup wrote.

A container holds real backups next to other data: a folder that is not a backup, blobs named like backups, a
folder with a backup's name and a backup's files written later (it only looks like one), a backup with its keys
deleted (gutted). Every hostile value runs without --yes (no terminal), with --yes and with --what-if; each case
compares every blob in Azurite, the HSM's keys and the emulator's log before and after.
"""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.e2e.conftest import TEST_EMULATOR_CONFIG, az_json, create_with_identity, requests_to, stderr_lines

HSM_A, HSM_B = "safetyhsma", "safetyhsmb"
FAKE = f"mhsm-{HSM_A}-2026010100000000"  # a backup's name and files, written long after that time
MODES = {"no-yes": [], "yes": ["--yes"], "what-if": ["--what-if"]}


def blobs_of(stack, container):
    """Every blob of the container with what would change if it were rewritten or deleted."""
    client = stack.blob_service().get_container_client(container)
    return {b.name: (b.etag, b.size) for b in client.list_blobs()}


def keys_of(stack, hsm):
    return stack.emulator("GET", f"hsms/{hsm}/keys")["keys"]


def tunnels(stack):
    """Connections az opened through the proxy to the HSM or storage: the network calls it made."""
    path = stack.dir / "proxy-requests.jsonl"
    return sum(1 for line in path.read_text().splitlines() if '"tunnel"' in line)


def put_blob(stack, container, name, data=b"not a backup"):
    stack.blob_service().get_container_client(container).upload_blob(name, data, overwrite=True)


def build_yard(stack, container):
    """Backups of two HSMs and the data that lives beside them; returns the folder names by role."""
    stack.create_container(container)
    uri = stack.container_uri(container)
    made = {}
    for role, hsm in (("a_old", HSM_A), ("a_new", HSM_A), ("b_only", HSM_B), ("a_gutted", HSM_A)):
        made[role] = az_json(create_with_identity(stack, hsm, container_uri=uri))["folderName"]
    client = stack.blob_service().get_container_client(container)
    for name in stack.list_blobs(container, prefix=made["a_gutted"] + "/keys/"):
        client.delete_blob(name)  # a backup with part of it deleted: only its manifest is left
    for name in stack.list_blobs(container, prefix=made["a_old"] + "/"):  # a copy made now under an old name
        data = client.download_blob(name).readall()
        put_blob(stack, container, FAKE + name[len(made["a_old"]) :], data)
    for name in (
        "important/x.txt",
        "mhsm-notes.txt",
        f"mhsm-{HSM_A}-2026010100000000-copy/keys/k.json",
        f"{made['a_old']}0/keep.txt",  # a longer name that starts with a backup's
        f"{made['a_old']}.json",
    ):
        put_blob(stack, container, name)
    return uri, made


@pytest.fixture(scope="module")
def yard(stack):
    stack.emulator("POST", "reset")
    stack.emulator("PUT", "config", TEST_EMULATOR_CONFIG)
    uri, made = build_yard(stack, "safety")
    return {"container": "safety", "uri": uri, **made}


def only_checks(log):
    """The HSM requests of a pre-restore check (its challenge probe, the check, its status reads), nothing else."""
    return all(r["path"] == "/prerestore" or (r["method"] == "GET" and r["path"].startswith("/restore/")) for r in log)


def assert_all_refused(stack, yard, cases, network=False, one_line=True, checks=False):
    """Run every case (args, words) in every mode, a few at a time: each must exit 2 with the words on stderr
    (one line, no traceback); afterwards no blob or key has changed, the HSM heard nothing (with checks=True: only
    its pre-restore checks), and with network=False az opened no connection at all."""
    blobs, keys, hsm_log = blobs_of(stack, yard["container"]), keys_of(stack, HSM_A), requests_to(stack)
    calls = tunnels(stack)
    with ThreadPoolExecutor(4) as pool:
        runs = {
            (case, mode): pool.submit(stack.az, *args, *extra)
            for case, (args, _) in cases.items()
            for mode, extra in MODES.items()
        }
        runs = {key: run.result() for key, run in runs.items()}
    made_calls = tunnels(stack) - calls
    for (case, mode), run in runs.items():
        where = f"{case} ({mode}): {run.stderr}"
        assert run.returncode == 2, where
        assert run.stdout == "" and "Traceback" not in run.stderr, where
        assert all(word in run.stderr for word in cases[case][1]), where
        assert not one_line or len(stderr_lines(run)) == 1, where
    assert blobs_of(stack, yard["container"]) == blobs
    assert keys_of(stack, HSM_A) == keys
    heard = requests_to(stack)
    assert heard[: len(hsm_log)] == hsm_log
    assert heard == hsm_log or (checks and only_checks(heard[len(hsm_log) :]))  # no restore started, no backup
    assert network or made_calls == 0, f"bad input reached the network ({made_calls} connections)"


# The issue's own cases (prune --older-than -1 / --keep 0 / --keep -1, delete important and <folder>/keys, restore
# --key-name "") are in the last test; the tables below hold the rest of the family.

# ---- delete ---------------------------------------------------------------------------------------------------

DELETE_FOLDERS = {
    "a-blob-beside": lambda y: "important/x.txt",
    "named-mhsm": lambda y: "mhsm-notes.txt",
    "trailing-slash": lambda y: f"{y['a_old']}/",
    "leading-slash": lambda y: f"/{y['a_old']}",
    "dot-dot": lambda y: "../x",
    "dot-dot-backup": lambda y: f"../{y['a_old']}",
    "prefix": lambda y: y["a_old"][:-4],
    "longer-name": lambda y: f"{y['a_old']}0",
    "copy-suffix": lambda y: f"mhsm-{HSM_A}-2026010100000000-copy",
    "blob-named-like": lambda y: f"{y['a_old']}.json",
    "empty": lambda y: "",
    "whitespace": lambda y: "  ",
    "wildcard": lambda y: f"mhsm-{HSM_A}-*",
}


def test_delete_refuses_anything_but_a_backup_folder_before_any_call(stack, yard):
    words = ["--backup-folder", "mhsm-<hsm name>-<yyyyMMddHHmmssff>"]
    delete = ["hsm-backup", "delete", "--storage-container-uri", yard["uri"], "--backup-folder"]
    assert_all_refused(stack, yard, {case: ([*delete, f(yard)], words) for case, f in DELETE_FOLDERS.items()})


def test_delete_refuses_a_folder_that_is_not_a_complete_backup(stack, yard):
    delete = ["hsm-backup", "delete", "--storage-container-uri", yard["uri"], "--backup-folder"]
    cases = {
        role: ([*delete, folder], [folder, "does not hold a complete backup", "nothing was deleted"])
        for role, folder in (("fake", FAKE), ("gutted", yard["a_gutted"]))
    }
    assert_all_refused(stack, yard, cases, network=True, checks=True)  # the HSM judged the gutted one


# ---- prune ----------------------------------------------------------------------------------------------------

PRUNE_VALUES = {
    "older-than-zero": (["--older-than", "0"], ["--older-than", "above 0"]),
    "older-than-nan": (["--older-than", "nan"], ["--older-than", "above 0"]),
    "older-than-inf": (["--older-than", "inf"], ["--older-than", "above 0"]),
    "older-than-minus-inf": (["--older-than=-inf"], ["--older-than", "above 0"]),
    "older-than-huge": (["--older-than", "1e300"], ["--older-than", "at most 36500"]),
    "older-than-too-many-days": (["--older-than", "36501"], ["--older-than", "at most 36500"]),
    "keep-huge": (["--keep", "99999999999999999999"], ["--keep", "from 1 to 10000"]),
    "keep-zero-with-older-than": (["--keep", "0", "--older-than", "1"], ["--keep", "from 1 to 10000"]),
    "no-rule": ([], ["--keep N", "--older-than DAYS"]),
    "hsm-empty": (["--keep", "1", "--hsm-name", ""], ["--hsm-name", "3-24"]),
    "hsm-whitespace": (["--keep", "1", "--hsm-name", " "], ["--hsm-name", "3-24"]),
    "hsm-path": (["--keep", "1", "--hsm-name", f"../{HSM_A}"], ["--hsm-name", "3-24"]),
    "keep-empty": (["--keep", ""], ["--keep", "from 1 to 10000"]),
    "keep-fraction": (["--keep", "1.5"], ["--keep", "whole number"]),
    "keep-word": (["--keep", "all"], ["--keep", "from 1 to 10000"]),
    "older-than-empty": (["--older-than", ""], ["--older-than", "above 0"]),
    "older-than-word": (["--older-than", "a month"], ["--older-than", "above 0"]),
}
# ---- restore --------------------------------------------------------------------------------------------------

KEY_NAMES = {
    "empty": "",
    "whitespace": " ",
    "space": "my key",
    "too-long": "k" * 128,
    "path": "k/../x",
    "unicode": "ключ",
}


def test_restore_refuses_a_key_name_the_service_cannot_have_and_never_restores_everything(stack, yard):
    restore = ["hsm-backup", "restore", "--hsm-name", HSM_A, "--folder-url", f"{yard['uri']}/{yard['a_new']}", "--mi"]
    words = ["--key-name", "1-127 letters"]
    assert_all_refused(stack, yard, {case: ([*restore, "--key-name", key], words) for case, key in KEY_NAMES.items()})


RESTORE_FOLDERS = {
    "not-a-backup": ("--folder-url", lambda y: f"{y['uri']}/important"),
    "inside-a-backup": ("--folder-url", lambda y: f"{y['uri']}/{y['a_new']}/keys"),
    "prefix": ("--folder-url", lambda y: f"{y['uri']}/{y['a_new'][:-2]}"),
    "blob-named-like": ("--folder-url", lambda y: f"{y['uri']}/mhsm-notes.txt"),
    "backup-folder-path": ("--backup-folder", lambda y: f"{y['a_new']}/keys"),
    "backup-folder-dot-dot": ("--backup-folder", lambda y: "../x"),
}


def test_restore_refuses_a_folder_that_is_not_a_backup_folder(stack, yard):
    cases = {}
    for case, (flag, value) in RESTORE_FOLDERS.items():
        where = [flag, value(yard)] + ([] if flag == "--folder-url" else ["--storage-container-uri", yard["uri"]])
        cases[case] = (["hsm-backup", "restore", "--hsm-name", HSM_A, *where, "--mi"], [flag, "is not a backup folder"])
    assert_all_refused(stack, yard, cases)


# ---- list ---------------------------------------------------------------------------------------------------


def test_list_shows_only_backup_folders_and_claims_no_more_than_storage_shows(stack, yard):
    listed = {
        b["folderName"]: b
        for b in az_json(stack.az("hsm-backup", "list", "--storage-container-uri", yard["uri"], "--details"))
    }
    assert set(listed) == {yard["a_old"], yard["a_new"], yard["b_only"], yard["a_gutted"], FAKE}
    # A gutted backup looks like any other to storage: only its HSM can tell (prune and delete ask it).
    unverified = {yard["a_old"], yard["a_new"], yard["b_only"], yard["a_gutted"]}
    assert {name for name, b in listed.items() if b["state"] == "Unverified"} == unverified
    assert listed[FAKE]["state"] == "NotABackup"
    assert "not written by a backup started at 2026-01-01T00:00:00Z" in listed[FAKE]["problem"]
    assert all("complete" not in b for b in listed.values())


# ---- what does go, and only that ----------------------------------------------------------------------------


def gone(before, after):
    assert set(after) <= set(before) and all(after[n] == before[n] for n in after)
    return sorted(set(before) - set(after))


def test_prune_and_delete_remove_exactly_the_planned_backups_and_nothing_beside_them(stack):
    uri, made = build_yard(stack, "safetyrun")
    prune = ["hsm-backup", "prune", "--storage-container-uri", uri]
    before = blobs_of(stack, "safetyrun")
    a_old_blobs = sorted(n for n in before if n.startswith(made["a_old"] + "/"))

    plan = az_json(stack.az(*prune, "--keep", "1", "--what-if"))
    # The plan reads only what it decides on: the names, and the newest folders the HSMs confirm. The folder that
    # only has a backup's name (FAKE) is a candidate by its name; its files are checked right before deletion.
    assert [f["folderName"] for f in plan["wouldDelete"]] == [made["a_old"], FAKE] and plan["deleted"] == []
    table = stack.az(*prune, "--keep", "1", "--what-if", "-o", "table")
    assert table.stdout.splitlines()[0].split()[:3] == ["Action", "FolderName", "HsmName"]
    assert "Would delete" in table.stdout and made["a_old"] in table.stdout
    assert stack.az(*prune, "--keep", "1").returncode == 2  # no terminal to ask on, no --yes
    assert blobs_of(stack, "safetyrun") == before

    done = az_json(stack.az(*prune, "--keep", "1", "--yes"))
    assert [f["folderName"] for f in done["deleted"]] == [made["a_old"]]  # of the set --what-if planned
    (fake,) = [f for f in done["leftAlone"] if f["folderName"] == FAKE]
    assert fake["reason"].startswith("not a backup: it has 4 blobs not written by a backup started at 2026-01-01")
    assert done["deleted"][0]["blobsDeleted"] == len(a_old_blobs)
    after = blobs_of(stack, "safetyrun")
    assert gone(before, after) == a_old_blobs

    # --older-than alone: every HSM's newest complete backup stays (here that is all that is left)
    assert az_json(stack.az(*prune, "--older-than", "0.00001", "--yes"))["deleted"] == []
    assert blobs_of(stack, "safetyrun") == after

    delete = ["hsm-backup", "delete", "--storage-container-uri", uri, "--backup-folder", made["a_new"]]
    assert az_json(stack.az(*delete, "--what-if"))["wouldDelete"][0]["folderName"] == made["a_new"]
    table = stack.az(*delete, "--yes", "-o", "table")
    assert table.returncode == 0 and "Deleted" in table.stdout and made["a_new"] in table.stdout
    assert gone(after, blobs_of(stack, "safetyrun")) == sorted(n for n in after if n.startswith(made["a_new"] + "/"))


def test_the_three_destructive_cases_of_the_issue_leave_every_blob_and_key_in_place(stack, yard):
    folder_url = f"{yard['uri']}/{yard['a_old']}"
    cases = {
        "prune-older-than-minus-1": (
            ["prune", "--storage-container-uri", yard["uri"], "--older-than", "-1"],
            ["--older-than"],
        ),
        "prune-keep-0": (["prune", "--storage-container-uri", yard["uri"], "--keep", "0"], ["--keep"]),
        "prune-keep-minus-1": (["prune", "--storage-container-uri", yard["uri"], "--keep", "-1"], ["--keep"]),
        "delete-important": (
            ["delete", "--storage-container-uri", yard["uri"], "--backup-folder", "important"],
            ["--backup-folder"],
        ),
        "delete-inside": (
            ["delete", "--storage-container-uri", yard["uri"], "--backup-folder", f"{yard['a_old']}/keys"],
            ["--backup-folder"],
        ),
        "restore-empty-key": (
            ["restore", "--hsm-name", HSM_A, "--folder-url", folder_url, "--mi", "--key-name", ""],
            ["--key-name"],
        ),
    }
    before = len(requests_to(stack, HSM_A))  # other tests of this stack may have asked it before
    assert_all_refused(stack, yard, {case: (["hsm-backup", *args], words) for case, (args, words) in cases.items()})
    assert json.dumps([r for r in requests_to(stack, HSM_A)[before:] if r["method"] == "PUT"]) == "[]"
