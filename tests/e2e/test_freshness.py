"""az hsm-backup check freshness with the real az against the stack: one HSM, --ids with a SAS, --all -g in ARM's
order with a skipped HSM, a table, and the exit codes of an HSM that is not fresh (13), of one that could not be
checked (12), of storage refusing you (5) and of a bad --max-age (2, no request sent)."""

import json

import pytest

from tests.e2e.conftest import az_json, create_with_identity, requests_to, stderr_lines


@pytest.fixture
def container(stack, hsm):
    name = f"fresh{hsm[3:]}"
    stack.create_container(name)
    return stack.container_uri(name)


def backed_up(stack, hsm, container):
    return az_json(create_with_identity(stack, hsm, container_uri=container))


def freshness(stack, *args):
    return stack.az("hsm-backup", "check", "freshness", *args)


def test_one_hsm_with_a_new_backup_is_fresh_and_exits_0(stack, hsm, container):
    made = backed_up(stack, hsm, container)
    result = freshness(stack, "--hsm-name", hsm, "--storage-container-uri", container)
    (entry,) = az_json(result)
    assert entry["state"] == "Fresh" and entry["confirmed"] is True and entry["reason"] is None
    assert entry["lastBackupFolder"] == made["folderName"] and entry["lastBackupUrl"] == made["folderUrl"]
    assert entry["hsmUrl"] == stack.hsm_url(hsm) and entry["maxAge"] == "P1DT2H" and 0 <= entry["ageSeconds"] < 120
    assert stderr_lines(result) == []
    checks = [r for r in requests_to(stack, hsm) if r["path"] == "/prerestore" and r["status"] == 202]
    assert len(checks) == 1  # the newest folder, confirmed by the HSM; nothing older asked


def test_an_hsm_with_no_backup_is_missing_and_exits_13_after_printing_every_hsm(stack, hsm, container):
    backed_up(stack, hsm, container)
    result = freshness(stack, "--ids", stack.hsm_url(hsm), stack.hsm_url(hsm + "-b"), "--storage-container-uri",
                       container, "--max-age", "P1D")  # fmt: skip
    assert result.returncode == 13, result.stderr
    entries = json.loads(result.stdout)
    assert [(e["hsmName"], e["state"]) for e in entries] == [(hsm, "Fresh"), (hsm + "-b", "Missing")]
    assert entries[1]["reason"] == "no backup folder of this HSM in the container"
    assert stderr_lines(result) == [
        f"ERROR: 1 of 2 HSM(s) have no finished backup within --max-age 1d: {hsm}-b (Missing)."
    ]


def test_ids_with_a_sas_from_a_file_as_a_table(stack, hsm, container, tmp_path):
    backed_up(stack, hsm, container)
    backed_up(stack, hsm + "-b", container)
    sas = tmp_path / "sas.txt"
    sas.write_text(stack.mint_sas(container.rsplit("/", 1)[1], permissions="rl") + "\n")
    ids = [stack.hsm_url(hsm), stack.hsm_url(hsm + "-b")]
    result = freshness(stack, "--ids", *ids, "--storage-container-uri", container, "--sas-token", f"@{sas}",
                       "--max-age", "7d", "-o", "table")  # fmt: skip
    assert result.returncode == 0, result.stderr
    header, _rule, *rows = result.stdout.splitlines()
    assert header.split() == ["HsmName", "State", "LastBackupTime", "Age", "LastBackupFolder", "Reason"]
    assert [row.split()[:2] for row in rows] == [[hsm, "Fresh"], [hsm + "-b", "Fresh"]]
    assert sas.read_text().split("sig=")[1].strip()[:8] not in result.stdout + result.stderr


def test_all_in_a_resource_group_in_arms_order_with_a_skipped_hsm(stack, hsm, container):
    fleet = [
        {"name": hsm + "-z", "resourceGroup": "rg-fresh"},
        {"name": hsm + "-noid", "resourceGroup": "rg-fresh", "identity": "none"},
        {"name": hsm, "resourceGroup": "rg-fresh"},
        {"name": hsm + "-other", "resourceGroup": "rg-elsewhere"},
    ]
    stack.declare_fleet(fleet)
    try:
        backed_up(stack, hsm, container)
        backed_up(stack, hsm + "-z", container)
        result = freshness(stack, "--all", "-g", "rg-fresh", "--storage-container-uri", container, "--mi")
    finally:
        stack.declare_fleet([])
    assert result.returncode == 0, result.stderr
    entries = json.loads(result.stdout)
    assert [(e["hsmName"], e["state"]) for e in entries] == [(hsm + "-z", "Fresh"), (hsm + "-noid", "Skipped"),
                                                             (hsm, "Fresh")]  # fmt: skip
    assert "no user-assigned managed identity" in entries[1]["reason"]
    assert all(e["resourceId"].endswith(f"/resourceGroups/rg-fresh/providers/Microsoft.KeyVault/managedHSMs/"
                                        f"{e['hsmName']}") for e in entries)  # fmt: skip


def test_an_hsm_storage_refuses_is_unknown_and_exits_12(stack, hsm, container):
    made = backed_up(stack, hsm, container)
    stack.emulator("PUT", "config", {"storage_refuses_hsms": [hsm]})  # a firewall now keeps the HSM out
    result = freshness(stack, "--hsm-name", hsm, "--storage-container-uri", container)
    assert result.returncode == 12, result.stderr
    (entry,) = json.loads(result.stdout)
    assert (entry["state"], entry["confirmed"], entry["lastBackupFolder"]) == ("Unknown", False, made["folderName"])
    assert "AuthorizationFailure" in entry["reason"]
    assert f"freshness is unknown: {hsm} (Unknown)" in result.stderr


def test_storage_refusing_you_is_its_own_exit_code_not_a_verdict(stack, hsm, container):
    backed_up(stack, hsm, container)
    other = stack.mint_sas("backups", permissions="rl")  # a SAS of another container: storage says 403
    result = freshness(stack, "--hsm-name", hsm, "--storage-container-uri", container, "--sas-token", other)
    assert result.returncode == 5, result.stderr
    assert result.stdout == "" and len(stderr_lines(result)) == 1 and "sig=" not in result.stderr


@pytest.mark.parametrize("value", ["", "0h", "-1d", "P1M", "26", "nan", "400d", "9" * 400 + "h"])
def test_a_bad_max_age_is_one_line_exit_2_and_no_request(stack, hsm, container, value):
    before = len(requests_to(stack))
    result = freshness(stack, "--hsm-name", hsm, "--storage-container-uri", container, f"--max-age={value}")
    assert result.returncode == 2, result.stderr
    (line,) = stderr_lines(result)
    assert line.startswith("ERROR: --max-age ") and "26h" in line and "Traceback" not in result.stderr
    assert len(requests_to(stack)) == before
