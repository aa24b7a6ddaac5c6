"""Never lose a backup (issue 18, families 1 and 5), through the real az: prune and delete count and take only the
backups the HSM confirms are finished, leave a half-written or running backup alone, and meet another run of
themselves as such. Each test asserts what the user sees and every blob left in Azurite."""

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

from tests.e2e.conftest import az_json, create_with_identity, requests_to
from tests.e2e.test_lifecycle import backup, fresh_container


def folders_in(stack, container):
    """{folder: sorted blob names} of every backup-named folder in the container."""
    found = {}
    for name in stack.list_blobs(container):
        folder, slash, _ = name.partition("/")
        if slash and folder.startswith("mhsm-"):
            found.setdefault(folder, []).append(name)
    return found


def names(entries):
    return [e["folderName"] for e in entries]


def prune(stack, uri, *flags, **kwargs):
    return stack.az("hsm-backup", "prune", "--storage-container-uri", uri, *flags, **kwargs)


def error_lines(result):
    return [line for line in result.stderr.splitlines() if line.startswith("ERROR")]


# ---- family 1: an unfinished backup is neither counted nor deleted ----------------------------------------------


def test_prune_after_an_interrupted_backup_keeps_the_last_backup_that_restores(stack, hsm):
    """The issue's data loss: a folder a failed job left half-written (no manifest.json) was the HSM's "newest"
    and prune --keep 1 deleted the last backup that restores."""
    container = f"trust{hsm}"
    uri = fresh_container(stack, container)
    old, good = (backup(stack, hsm, uri)["folderName"] for _ in range(2))
    stack.emulator("PUT", "config", {"interrupt_next_backup_after_blobs": 1})
    failed = create_with_identity(stack, hsm, container_uri=uri)
    assert failed.returncode == 4 and "interrupted" in failed.stderr, failed.stderr
    (half,) = set(folders_in(stack, container)) - {old, good}
    assert len(folders_in(stack, container)[half]) == 1  # one key written, no manifest: what a failed job leaves

    listed = {
        b["folderName"]: b for b in az_json(stack.az("hsm-backup", "list", "--storage-container-uri", uri, "--details"))
    }
    assert listed[half]["state"] == "Unverified" and "complete" not in listed[half]  # storage alone cannot tell

    plan = az_json(prune(stack, uri, "--keep", "1", "--what-if"))
    assert names(plan["kept"]) == [good] and plan["kept"][0]["confirmed"] is True
    assert names(plan["wouldDelete"]) == [old] and names(plan["leftAlone"]) == [half]
    assert plan["leftAlone"][0]["reason"].startswith("not a finished backup: ")

    before = folders_in(stack, container)
    done = prune(stack, uri, "--keep", "1", "--yes")
    out = az_json(done)
    assert names(out["deleted"]) == [old] and names(out["leftAlone"]) == [half] and out["alreadyGone"] == []
    after = folders_in(stack, container)
    assert after == {good: before[good], half: before[half]}  # the last backup that restores, and the half one
    assert f"Left alone (neither counted nor deleted): {half} (not a finished backup" in done.stderr


def write_folder_now(stack, container, hsm, files):
    """A folder named as a backup of `hsm` started now, holding `files` ({name: bytes}), written straight to
    storage: what anyone who may write to the container can leave there. Its name."""
    now = datetime.now(timezone.utc)
    folder = f"mhsm-{hsm}-{now:%Y%m%d%H%M%S}{now.microsecond // 10000:02d}"
    client = stack.blob_service().get_container_client(container)
    for name, data in files.items():
        client.upload_blob(f"{folder}/{name}", data)
    return folder


def test_a_folder_with_a_manifest_that_is_not_json_is_no_newest_backup(stack, hsm):
    """A folder that only a manifest's format would call unfinished (ours, the emulator's) is judged by the HSM."""
    container = f"trustjson{hsm}"
    uri = fresh_container(stack, container)
    old, good = (backup(stack, hsm, uri)["folderName"] for _ in range(2))
    files = {"keys/key-0-rsa.json": b'{"name": "key-0-rsa"}', "manifest.json": b"this is not JSON"}
    odd = write_folder_now(stack, container, hsm, files)
    out = az_json(prune(stack, uri, "--keep", "1", "--yes"))
    assert names(out["kept"]) == [good] and names(out["deleted"]) == [old] and names(out["leftAlone"]) == [odd]
    assert set(folders_in(stack, container)) == {good, odd}


def test_prune_and_delete_during_a_running_backup_keep_everything_of_that_hsm(stack, hsm):
    """While a backup runs, its folder fills; the HSM runs one job at a time, so it can confirm nothing of its
    backups: prune keeps them all (exit 12, having pruned the other HSM), delete refuses (exit 6), and the backup
    then ends Succeeded with its folder whole."""
    container = f"running{hsm}"
    uri = fresh_container(stack, container)
    other = f"{hsm}-b"
    mine = [backup(stack, hsm, uri)["folderName"] for _ in range(2)]
    theirs = [backup(stack, other, uri)["folderName"] for _ in range(2)]
    stack.emulator("PUT", "config", {"job_duration_by_hsm": {hsm: 60}})
    job = az_json(create_with_identity(stack, hsm, "--no-wait", container_uri=uri))["jobId"]
    (running,) = _wait_for_new_folder(stack, container, mine + theirs)

    result = prune(stack, uri, "--keep", "1", "--yes", timeout=150)
    assert result.returncode == 12, result.stderr
    out = json_of(result)
    assert names(out["deleted"]) == [theirs[0]]  # the other HSM is pruned as usual
    assert set(names(out["leftAlone"])) == {running, *mine}
    assert all(e["reason"].startswith("not judged: ") and "409" in e["reason"] for e in out["leftAlone"])
    (line,) = error_lines(result)
    assert "1 HSM(s) could not confirm which of their backups are finished" in line and hsm in line

    refused = stack.az(
        "hsm-backup", "delete", "--storage-container-uri", uri, "--backup-folder", running, "--yes", timeout=150
    )
    assert refused.returncode == 6 and "nothing was deleted" in refused.stderr, refused.stderr
    assert set(folders_in(stack, container)) == {running, *mine, theirs[1]}

    stack.emulator("PUT", "config", {"job_duration_by_hsm": {}})
    waited = az_json(stack.az("hsm-backup", "wait", "--hsm-name", hsm, "--job-id", job, timeout=150))
    assert waited["status"] == "Succeeded" and waited["folderName"] == running
    assert any(name.endswith("/manifest.json") for name in folders_in(stack, container)[running])


def json_of(result):
    import json

    return json.loads(result.stdout)


def _wait_for_new_folder(stack, container, known, timeout=30):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        new = set(folders_in(stack, container)) - set(known)
        if new:
            return new
        time.sleep(0.2)
    raise AssertionError("the running backup wrote nothing")


# ---- family 5: two runs at once --------------------------------------------------------------------------------


def at_once(stack, hsm, container, backups, argv, runs):
    """`backups` backups of `hsm` in a fresh container, then `runs` copies of the az command `argv(uri, made)` at
    once. The first pre-restore check is held 3 s, so that every run has listed the container before anything is
    deleted. (made, the folders before, the runs.)"""
    uri = fresh_container(stack, container)
    made = [backup(stack, hsm, uri)["folderName"] for _ in range(backups)]
    before = folders_in(stack, container)
    rule = {"match": {"method": "PUT", "path": "^/prerestore$", "hsm": hsm, "authorized": True}, "delay_s": 3}
    stack.emulator("POST", "faults", {"rules": [rule]})
    with ThreadPoolExecutor(runs) as pool:
        done = list(pool.map(lambda _: stack.az(*argv(uri, made), timeout=180), range(runs)))
    return made, before, done


def test_two_prunes_at_once_each_report_what_they_did_and_together_delete_the_plan(stack, hsm):
    container = f"twoprunes{hsm}"
    argv = ["hsm-backup", "prune", "--keep", "1", "--yes", "--storage-container-uri"]
    made, before, runs = at_once(stack, hsm, container, 4, lambda uri, _: [*argv, uri], 2)
    for run in runs:
        assert run.returncode == 0 and "Traceback" not in run.stderr and "not found" not in run.stderr, run.stderr
        out = json_of(run)
        assert names(out["kept"]) == [made[-1]]
        assert set(names(out["deleted"]) + names(out["alreadyGone"])) == set(made[:-1])  # each says what it did
    deleted = {}
    for run in runs:
        for entry in json_of(run)["deleted"]:
            deleted[entry["folderName"]] = deleted.get(entry["folderName"], 0) + entry["blobsDeleted"]
    assert all(deleted.get(f, 0) <= len(before[f]) for f in made[:-1])
    assert folders_in(stack, container) == {made[-1]: before[made[-1]]}


def test_three_deletes_of_one_folder_delete_it_once_and_the_others_say_it_is_gone(stack, hsm):
    container = f"threedeletes{hsm}"

    def delete(uri, made):
        return ["hsm-backup", "delete", "--storage-container-uri", uri, "--backup-folder", made[0], "--yes"]

    made, before, runs = at_once(stack, hsm, container, 2, delete, 3)
    outcomes = []
    for run in runs:
        assert run.returncode == 0, run.stderr  # none calls the complete backup incomplete
        out = json_of(run)
        outcomes += [("deleted", e["blobsDeleted"]) for e in out["deleted"]]
        outcomes += [("alreadyGone", e["reason"]) for e in out["alreadyGone"]]
        assert len(out["deleted"]) + len(out["alreadyGone"]) == 1
        if out["alreadyGone"]:
            assert f"Already gone: {made[0]} (another run" in run.stderr
    assert sum(n for action, n in outcomes if action == "deleted") == len(before[made[0]])
    assert folders_in(stack, container) == {made[1]: before[made[1]]}
    assert [r for r in requests_to(stack, hsm) if r["path"] in ("/restore", "/backup") and r["method"] != "GET"] == [
        r for r in requests_to(stack, hsm) if r["method"] == "POST" and r["path"] == "/backup"
    ]  # nothing but the two backups and the checks: no restore
