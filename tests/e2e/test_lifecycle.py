"""The rest of the life cycle through the real az: restore, show/wait, list, prune, delete, checks, minted SAS."""

import json
import re

import pytest

from tests.e2e.conftest import az_json, create_with_identity, job_starts, requests_to, stderr_lines
from tests.stack import constants as C


def keys_of(stack, hsm):
    return {k["name"]: k for k in stack.emulator("GET", f"hsms/{hsm}/keys")["keys"]}


def fresh_container(stack, name):
    stack.create_container(name)
    return stack.container_uri(name)


def backup(stack, hsm, container_uri, *extra):
    return az_json(create_with_identity(stack, hsm, *extra, container_uri=container_uri))


def test_full_round_trip_restore_fed_with_creates_output(stack, hsm):
    before = keys_of(stack, hsm)
    assert len(before) >= 2
    folder_url = stack.az(
        "hsm-backup",
        "create",
        "--hsm-name",
        hsm,
        "--storage-account-name",
        C.STORAGE_ACCOUNT,
        "--storage-container-name",
        "backups",
        "--mi",
        "--query",
        "folderUrl",
        "-o",
        "tsv",
    )
    assert folder_url.returncode == 0, folder_url.stderr
    for name in before:
        stack.emulator("DELETE", f"hsms/{hsm}/keys/{name}")
    assert keys_of(stack, hsm) == {}
    restored = stack.az(
        "hsm-backup",
        "restore",
        "--hsm-name",
        hsm,
        "--folder-url",
        folder_url.stdout.strip(),
        "--sas-token",
        stack.mint_sas(permissions="rl"),
        "--yes",
    )
    out = az_json(restored)
    assert out["status"] == "Succeeded" and out["folderUrl"] == folder_url.stdout.strip()
    assert keys_of(stack, hsm) == before  # every key, version, attribute and byte of material


def test_selective_key_restore_brings_back_only_that_key(stack, hsm):
    before = keys_of(stack, hsm)
    out = backup(stack, hsm, stack.container_uri())
    first, second = sorted(before)[:2]
    stack.emulator("DELETE", f"hsms/{hsm}/keys/{first}")
    stack.emulator("DELETE", f"hsms/{hsm}/keys/{second}")
    result = stack.az(
        "hsm-backup",
        "restore",
        "--hsm-name",
        hsm,
        "--storage-account-name",
        C.STORAGE_ACCOUNT,
        "--blob-container-name",
        "backups",
        "--backup-folder",
        out["folderName"],
        "--key-name",
        second,
        "--mi",
        "--yes",
    )
    assert az_json(result)["status"] == "Succeeded"
    after = keys_of(stack, hsm)
    assert after[second] == before[second] and first not in after
    starts = [r for r in job_starts(stack, hsm) if r["method"] == "PUT"]  # every authorised PUT, whatever its answer
    assert [(r["path"], r["status"]) for r in starts] == [(f"/keys/{second}/restore", 202)]


def test_restore_asks_first_and_what_if_changes_nothing(stack, hsm):
    out = backup(stack, hsm, stack.container_uri())
    refused = stack.az("hsm-backup", "restore", "--hsm-name", hsm, "--folder-url", out["folderUrl"], "--mi")
    assert refused.returncode == 2 and "--yes" in refused.stderr and "Traceback" not in refused.stderr
    plan = az_json(
        stack.az("hsm-backup", "restore", "--hsm-name", hsm, "--folder-url", out["folderUrl"], "--mi", "--what-if")
    )
    assert plan["whatIf"] is True and plan["folderUrl"] == out["folderUrl"] and plan["hsmUrl"] == stack.hsm_url(hsm)
    assert not [r for r in requests_to(stack, hsm) if r["method"] == "PUT"]


def test_no_wait_then_show_and_wait(stack, hsm):
    stack.emulator(
        "PUT", "config", {"job_duration_s": 8}
    )  # still running when `show` has started, even on a busy machine
    started = backup(stack, hsm, stack.container_uri(), "--no-wait")
    shown = az_json(stack.az("hsm-backup", "show", "--hsm-name", hsm, "--job-id", started["jobId"]))
    assert shown["status"] == "InProgress" and shown["operation"] == "backup"
    waited = az_json(stack.az("hsm-backup", "wait", "--hsm-name", hsm, "--job-id", started["jobId"]))
    assert waited["status"] == "Succeeded" and waited["folderName"].startswith(f"mhsm-{hsm}-")
    assert stack.list_blobs(prefix=waited["folderName"] + "/")


def test_wait_times_out_with_exit_8_and_reports_failed_jobs_with_exit_4(stack, hsm):
    stack.emulator("PUT", "config", {"job_duration_s": 30})
    started = backup(stack, hsm, stack.container_uri(), "--no-wait")
    timed_out = stack.az("hsm-backup", "wait", "--hsm-name", hsm, "--job-id", started["jobId"], "--timeout", "1")
    assert timed_out.returncode == 8 and started["jobId"] in timed_out.stderr
    assert f"az hsm-backup show --id https://{hsm}" in timed_out.stderr  # the next command, complete
    assert len(stderr_lines(timed_out)) == 1
    stack.emulator("POST", "reset")
    stack.emulator(
        "PUT",
        "config",
        {
            "job_duration_s": 0.2,
            "force_fail_next_job": {"code": "InternalError", "message": "The backup could not be completed."},
        },
    )
    failed = backup_result = stack.az(
        "hsm-backup", "create", "--hsm-name", hsm, "--storage-container-uri", stack.container_uri(), "--mi", "--no-wait"
    )
    job_id = az_json(backup_result)["jobId"]
    failed = stack.az("hsm-backup", "wait", "--hsm-name", hsm, "--job-id", job_id)
    assert failed.returncode == 4 and "(InternalError) The backup could not be completed." in failed.stderr


def test_show_unknown_job_exits_3(stack, hsm):
    result = stack.az("hsm-backup", "show", "--hsm-name", hsm, "--job-id", "0" * 32)
    assert result.returncode == 3 and "0" * 32 in result.stderr


def test_list_after_backups_from_two_hsms(stack, hsm):
    container = f"list{hsm}"
    uri = fresh_container(stack, container)
    other = hsm + "-b"
    made = [backup(stack, name, uri)["folderName"] for name in (hsm, other, hsm)]
    listed = az_json(
        stack.az(
            "hsm-backup", "list", "--storage-account-name", C.STORAGE_ACCOUNT, "--storage-container-name", container
        )
    )
    assert [b["folderName"] for b in listed] == made[::-1]  # newest first
    assert {b["hsmName"] for b in listed} == {hsm, other}
    only = az_json(stack.az("hsm-backup", "list", "--storage-container-uri", uri, "--hsm-name", other, "--details"))
    assert [b["folderName"] for b in only] == [made[1]]
    assert only[0]["blobCount"] > 0 and only[0]["sizeBytes"] > 0 and only[0]["lastWritten"].endswith("Z")
    assert (only[0]["state"], only[0]["problem"]) == ("Unverified", None)  # storage alone cannot say "finished"
    table = stack.az("hsm-backup", "list", "--storage-container-uri", uri, "-o", "table")
    assert table.stdout.splitlines()[0].split() == ["FolderName", "HsmName", "BackupTime"]
    assert len(table.stdout.splitlines()) == 2 + 3


def test_prune_keep_two_leaves_the_two_newest(stack, hsm):
    container = f"prune{hsm}"
    uri = fresh_container(stack, container)
    made = [backup(stack, hsm, uri)["folderName"] for _ in range(4)]
    preview = az_json(stack.az("hsm-backup", "prune", "--storage-container-uri", uri, "--keep", "2", "--what-if"))
    assert sorted(f["folderName"] for f in preview["wouldDelete"]) == sorted(made[:2])
    assert len(az_json(stack.az("hsm-backup", "list", "--storage-container-uri", uri))) == 4
    no_tty = stack.az("hsm-backup", "prune", "--storage-container-uri", uri, "--keep", "2")
    assert no_tty.returncode == 2 and "--yes" in no_tty.stderr
    pruned = az_json(stack.az("hsm-backup", "prune", "--storage-container-uri", uri, "--keep", "2", "--yes"))
    assert sorted(f["folderName"] for f in pruned["deleted"]) == sorted(made[:2])
    left = az_json(stack.az("hsm-backup", "list", "--storage-container-uri", uri))
    assert [b["folderName"] for b in left] == made[:1:-1]
    assert not stack.list_blobs(container, prefix=made[0] + "/")


def test_delete_one_backup(stack, hsm):
    out = backup(stack, hsm, stack.container_uri())
    result = az_json(
        stack.az(
            "hsm-backup",
            "delete",
            "--storage-container-uri",
            stack.container_uri(),
            "--backup-folder",
            out["folderName"],
            "--yes",
        )
    )
    assert result["deleted"][0]["blobsDeleted"] > 0
    assert not stack.list_blobs(prefix=out["folderName"] + "/")
    again = stack.az(
        "hsm-backup",
        "delete",
        "--storage-container-uri",
        stack.container_uri(),
        "--backup-folder",
        out["folderName"],
        "--yes",
    )
    assert again.returncode == 3


def test_check_backup_and_restore_pass_and_fail_on_the_right_inputs(stack, hsm):
    ok = az_json(
        stack.az(
            "hsm-backup", "check", "backup", "--hsm-name", hsm, "--storage-container-uri", stack.container_uri(), "--mi"
        )
    )
    assert ok["status"] == "Succeeded" and ok["check"] == "backup"
    forged = re.sub(r"sig=[^&]+", "sig=Zm9yZ2Vk", stack.mint_sas())
    bad = stack.az(
        "hsm-backup",
        "check",
        "backup",
        "--hsm-name",
        hsm,
        "--storage-container-uri",
        stack.container_uri(),
        "--sas-token",
        forged,
    )
    assert bad.returncode == 4 and "AuthenticationFailed" in bad.stderr
    folder = backup(stack, hsm, stack.container_uri())["folderUrl"]
    ok = az_json(stack.az("hsm-backup", "check", "restore", "--hsm-name", hsm, "--folder-url", folder, "--mi"))
    assert ok["status"] == "Succeeded"
    missing = stack.az(
        "hsm-backup",
        "check",
        "restore",
        "--hsm-name",
        hsm,
        "--folder-url",
        folder.rsplit("/", 1)[0] + "/mhsm-nothere-2020010100000000",
        "--mi",
    )
    assert missing.returncode == 4
    old = stack.az(
        "hsm-backup",
        "check",
        "backup",
        "--hsm-name",
        hsm,
        "--storage-container-uri",
        stack.container_uri(),
        "--mi",
        "--api-version",
        "7.5",
    )
    assert old.returncode == 2 and "7.6" in old.stderr and "--api-version" in old.stderr


def test_minted_sas_backup_and_list_without_typing_a_secret(stack, hsm):
    out = az_json(
        stack.az(
            "hsm-backup", "create", "--hsm-name", hsm, "--storage-container-uri", stack.container_uri(), "--mint-sas"
        )
    )
    assert out["status"] == "Succeeded" and stack.list_blobs(prefix=out["folderName"] + "/")
    (post,) = [r for r in requests_to(stack, hsm) if r["method"] == "POST" and r["status"] == 202]
    assert post["body"]["token"] == "***"  # a SAS was sent (masked in the log), not the managed identity
    listed = az_json(
        stack.az("hsm-backup", "list", "--storage-container-uri", stack.container_uri(), "--hsm-name", hsm)
    )
    assert [b["folderName"] for b in listed] == [out["folderName"]]


def test_storage_refusing_your_identity_names_the_role_and_the_alternatives(stack, hsm):
    config_dir = stack.fresh_config_dir(f"norole-{hsm}")
    stack.signin("POST", "config", {"storage_refuses": True})
    try:
        result = stack.az(
            "hsm-backup",
            "create",
            "--hsm-name",
            hsm,
            "--storage-container-uri",
            stack.container_uri(),
            "--mint-sas",
            config_dir=config_dir,
        )
        listed = stack.az("hsm-backup", "list", "--storage-container-uri", stack.container_uri(), config_dir=config_dir)
    finally:
        stack.signin("POST", "config", {"storage_refuses": False})
    for run in (result, listed):
        assert run.returncode == 5, run.stderr
        for words in ("Storage Blob Data Contributor", "--sas-token", "--use-user-managed-identity"):
            assert words in run.stderr
        assert "Traceback" not in run.stderr
    assert not [r for r in requests_to(stack, hsm) if r["method"] == "POST" and r["status"] == 202]


@pytest.mark.parametrize("command", ["restore", "check restore"])
def test_folder_flags_are_one_parameter_set(stack, hsm, command):
    result = stack.az(
        "hsm-backup",
        *command.split(),
        "--hsm-name",
        hsm,
        "--folder-url",
        stack.container_uri() + "/mhsm-xhsm-2026010100000000",
        "--storage-account-name",
        "devstoreaccount1",
        "--mi",
        "--yes" if command == "restore" else "--mi",
    )
    assert result.returncode == 2 and "--folder-url" in result.stderr and "--storage-account-name" in result.stderr
    assert json.dumps(requests_to(stack)) == "[]"
