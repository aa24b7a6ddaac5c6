"""Every flag's input, through the real az: hostile values are one line and exit 2 with nothing sent anywhere,
and the accepted forms (resource IDs, PowerShell objects, a JSON-quoted SAS file) really back up."""

import json
from datetime import datetime, timedelta, timezone

import pytest

from tests.e2e.conftest import accepted_backups, az_json, requests_to, stderr_lines
from tests.stack import constants as C

RID = f"/subscriptions/{C.SUBSCRIPTION_ID}/resourceGroups/{{rg}}/providers/Microsoft.KeyVault/{{type}}/{{name}}"
JOB = "0123456789abcdef0123456789abcdef"


def blobs_everywhere(stack):
    service = stack.blob_service()
    return {c.name: stack.list_blobs(c.name) for c in service.list_containers()}


def write(stack, name, text):
    path = stack.dir / name
    path.write_text(text, encoding="utf-8")
    return f"@{path}"


# (command, the rest of the command line, the flag the one error line must name). "{hsm}", "{uri}" and
# "{file:NAME:TEXT}" are filled in per test. Each value class appears at least once: empty, whitespace, control
# characters, zero, negative, NaN, infinity, too large, a word for a number, and valid strings that are not valid
# things.
HSM = ["--hsm-name", "{hsm}"]
TO = ["--storage-container-uri", "{uri}"]
MI = ["--mi"]
F = "mhsm-myhsm-2026010100000000"
BLOB = f"https://{C.STORAGE_ACCOUNT}.blob.{C.STORAGE_ENDPOINT_SUFFIX}"
CASES = [
    # --hsm-name
    ("create", ["--hsm-name", "", *TO, *MI], "--hsm-name"),
    ("create", ["--hsm-name", "my\x0bhsm", *TO, *MI], "--hsm-name"),
    ("wait", ["--hsm-name", "a", "--job-id", JOB], "--hsm-name"),
    # --hsm-object
    ("create", ["--hsm-object", " ", *TO, *MI], "--hsm-object"),
    ("create", ["--hsm-object", '{"type": "Microsoft.KeyVault/vaults", "name": "kv1"}', *TO, *MI], "--hsm-object"),
    ("create", ["--hsm-object", "{file:kv.json:KEY_VAULT_PS}", *TO, *MI], "--hsm-object"),
    ("show", ["--hsm-object", "[" * 20000, "--job-id", JOB], "--hsm-object"),
    # --id
    ("create", ["--id", RID.format(rg="rg", type="vaults", name="kv1"), *TO, *MI], "--id"),
    ("create", ["--id", RID.format(rg="managedHSMs", type="vaults", name="hsm1"), *TO, *MI], "--id"),
    (
        "check restore",
        ["--id", RID.format(rg="rg", type="managedHSMs", name="h"), "--folder-url", "{uri}/f", *MI],
        "--id",
    ),
    ("show", ["--id", "https://user:pw@h.managedhsm.hsmbackup.test", "--job-id", JOB], "--id"),
    ("wait", ["--id", "http://h.managedhsm.hsmbackup.test", "--job-id", JOB], "--id"),
    # storage names and URLs
    (
        "create",
        [*HSM, "--storage-account-name", "   ", "--storage-container-name", "backups", *MI],
        "--storage-account-name",
    ),
    (
        "prune",
        ["--storage-account-name", "ACCT", "--storage-container-name", "backups", "--keep", "3"],
        "--storage-account-name",
    ),
    (
        "create",
        [*HSM, "--storage-account-name", C.STORAGE_ACCOUNT, "--blob-container-name", "Backups", *MI],
        "--storage-container-name",
    ),
    ("list", ["--storage-account-name", C.STORAGE_ACCOUNT, "--storage-container-name", ""], "--storage-container-name"),
    (
        "create",
        [*HSM, "--storage-container-uri", "https://devstore\x0baccount1.blob.hsmbackup.test/b", *MI],
        "--storage-container-uri",
    ),
    ("list", ["--storage-container-uri", BLOB.replace("https", "http") + "/backups"], "--storage-container-uri"),
    ("delete", ["--storage-resource-uri", "x" * 5000, "--backup-folder", F, "--yes"], "--storage-container-uri"),
    ("restore", [*HSM, "--folder-url", f"{BLOB}/BK/{F}", *MI, "--yes"], "--folder-url"),
    # --sas-token
    ("create", [*HSM, *TO, "--sas-token", "   "], "--sas-token"),
    ("create", [*HSM, *TO, "--sas-token", '{file:quoted.sas:"se=2099-01-01&sig=unterminated}'], "--sas-token"),
    ("check backup", [*HSM, *TO, "--sas-token", "{file:blank.sas:  \n\n}"], "--sas-token"),
    ("list", ["--storage-container-uri", "{uri}", "--sas-token", "sv=2026-04-06&sp=l"], "--sas-token"),
    ("delete", [*TO, "--backup-folder", F, "--sas-token", "", "--yes"], "--sas-token"),
    ("prune", [*TO, "--keep", "3", "-t", "sv=1&sp=ld&se=soon&sig=abc"], "--sas-token"),
    ("restore", [*HSM, "--folder-url", "{uri}/" + F, "--sas-token", "sv=1&sp=w&sig=x", "--yes"], "--sas-token"),
    # --use-user-managed-identity (a three-state flag: its "false" is no storage access at all)
    ("create", [*HSM, *TO, "--mi", "abc"], "--use-user-managed-identity"),
    ("check backup", [*HSM, *TO, "--use-managed-identity", "false"], "--use-user-managed-identity"),
    # --api-version
    ("create", [*HSM, *TO, *MI, "--api-version", ""], "--api-version"),
    ("check backup", [*HSM, *TO, *MI, "--api-version", "latest"], "--api-version"),
    ("show", [*HSM, "--job-id", JOB, "--api-version", "7.6-preview"], "--api-version"),
    ("check restore", [*HSM, "--folder-url", "{uri}/f", *MI, "--api-version", "2025-02-30"], "--api-version"),
    # --polling-interval
    ("create", [*HSM, *TO, *MI, "--polling-interval", "abc"], "--polling-interval"),
    ("create", [*HSM, *TO, *MI, "--polling-interval", "nan"], "--polling-interval"),
    ("restore", [*HSM, "--folder-url", "{uri}/f", *MI, "--yes", "--polling-interval", "0"], "--polling-interval"),
    ("check backup", [*HSM, *TO, *MI, "--polling-interval", "1e309"], "--polling-interval"),
    ("wait", [*HSM, "--job-id", JOB, "--polling-interval", "-1"], "--polling-interval"),
    # --timeout
    ("wait", [*HSM, "--job-id", JOB, "--timeout", "0"], "--timeout"),
    ("wait", [*HSM, "--job-id", JOB, "--timeout", "inf"], "--timeout"),
    ("wait", [*HSM, "--job-id", JOB, "--timeout", "99999999"], "--timeout"),
    ("wait", [*HSM, "--job-id", JOB, "--timeout", "ten"], "--timeout"),
    # --job-id
    ("show", [*HSM, "--job-id", ""], "--job-id"),
    ("show", [*HSM, "--job-id", JOB + "0"], "--job-id"),
    ("wait", [*HSM], "--job-id"),
    # several HSMs: --ids, --all with -g and --max-parallel, a JSON array, wait --jobs and --ids with --job-id
    ("create", ["--ids", "", *TO, *MI], "--ids"),
    (
        "create",
        ["--ids", "https://a.managedhsm.hsmbackup.test", "http://b.managedhsm.hsmbackup.test", *TO, *MI],
        "--ids",
    ),
    ("create", ["--ids", "https://a.managedhsm.hsmbackup.test", *HSM, *TO, *MI], "--ids"),
    ("create", ["--all", "--max-parallel", "0", *TO, *MI], "--max-parallel"),
    ("create", ["--all", "--max-parallel", "-1", *TO, *MI], "--max-parallel"),
    ("create", ["--all", "--max-parallel", "nan", *TO, *MI], "--max-parallel"),
    ("create", ["--all", "--max-parallel", "1e9", *TO, *MI], "--max-parallel"),
    ("create", ["--all", "--max-parallel", "abc", *TO, *MI], "--max-parallel"),
    ("create", [*HSM, "--max-parallel", "4", *TO, *MI], "--max-parallel"),
    ("create", ["--all", "-g", "rg/x", *TO, *MI], "--resource-group"),
    ("create", [*HSM, "-g", "rg", *TO, *MI], "--resource-group"),
    ("create", ["--hsm-object", "[]", *TO, *MI], "--hsm-object"),
    ("create", ["--hsm-object", "[1, 2]", *TO, *MI], "--hsm-object"),
    ("wait", ["--jobs", "[]"], "--jobs"),
    ("wait", ["--jobs", '[{"hsmUrl": "https://a.managedhsm.hsmbackup.test", "jobId": "x"}]'], "--jobs"),
    (
        "wait",
        ["--ids", "https://a.managedhsm.hsmbackup.test", "https://b.managedhsm.hsmbackup.test", "--job-id", JOB],
        "--ids",
    ),
]

KEY_VAULT_PS = {  # Get-AzKeyVault | ConvertTo-Json: a PSKeyVault is not an HSM
    "VaultName": "kv1",
    "ResourceId": RID.format(rg="rg", type="vaults", name="kv1"),
    "ResourceGroupName": "rg",
    "Location": "westeurope",
    "VaultUri": "https://kv1.vault.azure.net/",
}


def fill(stack, hsm, args):
    filled = []
    for arg in args:
        if arg.startswith("{file:"):
            name, text = arg[len("{file:") : -1].split(":", 1)
            text = json.dumps(KEY_VAULT_PS) if text == "KEY_VAULT_PS" else text
            filled.append(write(stack, f"{hsm}-{name}", text))
        else:
            filled.append(arg.replace("{hsm}", hsm).replace("{uri}", stack.container_uri()))
    return filled


@pytest.mark.parametrize("command, args, flag", CASES, ids=[f"{c[0]}{c[2]}-{i}" for i, c in enumerate(CASES)])
def test_hostile_value_is_one_line_exit_2_and_touches_nothing(stack, hsm, command, args, flag):
    before = blobs_everywhere(stack)
    result = stack.az("hsm-backup", *command.split(), *fill(stack, hsm, args))
    lines = stderr_lines(result)
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert len(lines) == 1 and lines[0].startswith("ERROR: "), result.stderr
    assert flag in lines[0] and all(c.isprintable() for c in lines[0]), lines[0]
    assert result.stdout == ""
    assert "pw@" not in result.stderr and "sig=abc" not in result.stderr and "unterminated" not in result.stderr
    assert requests_to(stack) == []  # nothing reached the HSM ...
    assert blobs_everywhere(stack) == before  # ... nor storage


def test_every_flag_and_value_class_is_in_the_table():
    flags = {case[2] for case in CASES}
    assert flags >= {
        "--hsm-name", "--hsm-object", "--id", "--storage-account-name", "--storage-container-name",
        "--storage-container-uri", "--sas-token", "--use-user-managed-identity", "--api-version",
        "--polling-interval", "--timeout", "--job-id", "--ids", "--max-parallel", "--resource-group", "--jobs",
    }  # fmt: skip
    values = [value for case in CASES for value in case[1]]
    for value in ["", "   ", "abc", "0", "-1", "nan", "inf", "1e309", "99999999", "latest", "false"]:
        assert value in values, value
    assert any("\x0b" in value for value in values) and any(len(value) >= 5000 for value in values)


# ---- The forms that must work -----------------------------------------------------------------------------


def ps_managed_hsm(stack, hsm, with_uri=True):
    """What `Get-AzKeyVaultManagedHsm | ConvertTo-Json` writes (see tests/unit/test_parameter_sets.py)."""
    rid = RID.format(rg="hsm-rg", type="managedHSMs", name=hsm)
    uri = stack.hsm_url(hsm) + "/" if with_uri else None
    obj = {"Name": hsm, "HsmUri": uri, "ProvisioningState": "Succeeded", "ResourceId": rid, "VaultName": hsm,
           "ResourceGroupName": "hsm-rg", "Location": "westeurope", "Tags": {}, "TagsTable": None}  # fmt: skip
    if with_uri:
        obj["OriginalManagedHsm"] = {"Properties": {"HsmUri": uri}, "Id": rid, "Name": hsm,
                                     "Type": "Microsoft.KeyVault/managedHSMs", "Location": "westeurope"}  # fmt: skip
    return json.dumps(obj, indent=4)


@pytest.mark.parametrize("with_uri", [True, False], ids=["HsmUri", "name-and-ResourceId-only"])
def test_powershell_managed_hsm_object_backs_up(stack, hsm, with_uri):
    hsm_object = write(stack, f"{hsm}-ps.json", ps_managed_hsm(stack, hsm, with_uri))
    out = az_json(stack.az("hsm-backup", "create", "--hsm-object", hsm_object, "--storage-container-uri",
                           stack.container_uri(), "--mi"))  # fmt: skip
    assert out["status"] == "Succeeded" and out["hsmUrl"] == stack.hsm_url(hsm)
    assert len(accepted_backups(stack, hsm)) == 1 and stack.list_blobs(prefix=out["folderName"] + "/")


@pytest.mark.parametrize("rg", ["rg", "managedHSMs"])
def test_resource_id_backs_up_the_hsm_it_names(stack, hsm, rg):
    rid = RID.format(rg=rg, type="managedHSMs", name=hsm)
    out = az_json(
        stack.az("hsm-backup", "create", "--id", rid, "--storage-container-uri", stack.container_uri(), "--mi")
    )
    assert out["status"] == "Succeeded" and out["hsmUrl"] == stack.hsm_url(hsm)
    assert len(accepted_backups(stack, hsm)) == 1


def test_sas_file_as_generate_sas_writes_it_without_tsv(stack, hsm):
    """`az storage container generate-sas ... > sas.txt` (no -o tsv) writes "se=...&sig=..." with its quotes."""
    sas = stack.mint_sas()
    sas_file = write(stack, f"{hsm}-quoted.sas", json.dumps(sas) + "\n")
    result = stack.az("hsm-backup", "create", "--hsm-name", hsm, "--storage-container-uri", stack.container_uri(),
                      "--sas-token", sas_file)  # fmt: skip
    out = az_json(result)
    assert out["status"] == "Succeeded" and stack.list_blobs(prefix=out["folderName"] + "/")
    (post,) = accepted_backups(stack, hsm)
    assert post["body"]["token"] == "***"  # a token went to the HSM (masked in the emulator's log)
    assert sas not in result.stdout + result.stderr


def test_sas_lifetime_warning_only_where_a_job_runs(stack, hsm):
    short = stack.mint_sas(expiry=datetime.now(timezone.utc) + timedelta(hours=2))
    listed = stack.az("hsm-backup", "list", "--storage-container-uri", stack.container_uri(), "--sas-token", short)
    assert listed.returncode == 0 and stderr_lines(listed) == [], listed.stderr
    planned = stack.az("hsm-backup", "create", "--hsm-name", hsm, "--storage-container-uri", stack.container_uri(),
                       "--sas-token", short, "--what-if")  # fmt: skip
    assert planned.returncode == 0 and "24 hours" in planned.stderr and short not in planned.stderr
    assert requests_to(stack) == []
