"""`az hsm-backup create` driven through the real az, against the local stack, as a user would run it."""

import json
import re
from datetime import datetime, timedelta, timezone

import pytest

from tests.e2e.conftest import az_json, job_starts, requests_to
from tests.stack import constants as C

FOLDER_RE = re.compile(r"^mhsm-(?P<hsm>[a-z0-9-]+)-\d{16}$")
OUTPUT_KEYS = {"folderUrl", "folderName", "jobId", "status", "startTime", "endTime", "hsmUrl", "storageContainerUri"}


def assert_backup_landed(stack, hsm, out):
    assert set(out) == OUTPUT_KEYS
    assert out["status"] == "Succeeded"
    assert re.fullmatch(r"[0-9a-f]{32}", out["jobId"])
    assert out["hsmUrl"] == stack.hsm_url(hsm)
    assert out["storageContainerUri"] == stack.container_uri()
    assert out["folderUrl"] == f"{stack.container_uri()}/{out['folderName']}"
    assert FOLDER_RE.match(out["folderName"]).group("hsm") == hsm
    start, end = (datetime.fromisoformat(out[k].replace("Z", "+00:00")) for k in ("startTime", "endTime"))
    assert start <= end <= datetime.now(timezone.utc) + timedelta(seconds=5)
    blobs = stack.list_blobs(prefix=out["folderName"] + "/")
    assert blobs, "the emulator wrote no blob into Azurite"
    posts = job_starts(stack, hsm)  # every authorised start, not only 202s: a replay answered 409 counts
    assert [p["status"] for p in posts] == [202], posts
    return posts[0]


def test_hsm_name_and_account_container_with_sas_file(stack, hsm):
    sas = stack.mint_sas()
    sas_file = stack.dir / f"{hsm}.sas"
    sas_file.write_text("?" + sas + "\n")
    result = stack.az(
        "hsm-backup",
        "create",
        "--hsm-name",
        hsm,
        "--storage-account-name",
        C.STORAGE_ACCOUNT,
        "--storage-container-name",
        "backups",
        "--sas-token",
        f"@{sas_file}",
    )
    post = assert_backup_landed(stack, hsm, az_json(result))
    assert post["query"].get("api-version") in ("2025-07-01", ["2025-07-01"])
    assert post["body"]["storageResourceUri"] == stack.container_uri()
    assert post["body"].get("useManagedIdentity") in (False, None)
    assert sas not in json.dumps(requests_to(stack)) and sas not in result.stdout + result.stderr


def test_hsm_name_and_container_uri_with_sas_on_stdin(stack, hsm):
    sas = stack.mint_sas()
    result = stack.az(
        "hsm-backup",
        "create",
        "--hsm-name",
        hsm,
        "--storage-container-uri",
        stack.container_uri(),
        "--sas-token",
        "-",
        input=sas + "\n",
    )
    assert_backup_landed(stack, hsm, az_json(result))


def hsm_object_file(stack, hsm):
    """What `az keyvault show --hsm-name NAME` prints for a Managed HSM (trimmed to the fields that matter)."""
    path = stack.dir / f"{hsm}.json"
    path.write_text(
        json.dumps(
            {
                "id": f"/subscriptions/{C.SUBSCRIPTION_ID}/resourceGroups/rg/providers/"
                f"Microsoft.KeyVault/managedHSMs/{hsm}",
                "location": "westeurope",
                "name": hsm,
                "type": "Microsoft.KeyVault/managedHSMs",
                "sku": {"family": "B", "name": "Standard_B1"},
                "properties": {
                    "hsmUri": f"{stack.hsm_url(hsm)}/",
                    "provisioningState": "Succeeded",
                    "tenantId": C.TENANT_ID,
                    "publicNetworkAccess": "Enabled",
                },
            },
            indent=2,
        )
    )
    return path


def test_hsm_object_and_container_uri_with_managed_identity(stack, hsm):
    result = stack.az(
        "hsm-backup",
        "create",
        "--hsm-object",
        f"@{hsm_object_file(stack, hsm)}",
        "--storage-container-uri",
        stack.container_uri(),
        "--use-user-managed-identity",
    )
    post = assert_backup_landed(stack, hsm, az_json(result))
    assert post["body"]["useManagedIdentity"] is True and "token" not in post["body"]


def test_hsm_object_and_account_container_with_managed_identity(stack, hsm):
    result = stack.az(
        "hsm-backup",
        "create",
        "--hsm-object",
        f"@{hsm_object_file(stack, hsm)}",
        "--storage-account-name",
        C.STORAGE_ACCOUNT,
        "--storage-container-name",
        "backups",
        "--mi",
    )
    assert_backup_landed(stack, hsm, az_json(result))


def test_id_and_container_uri_with_sas(stack, hsm):
    result = stack.az(
        "hsm-backup",
        "create",
        "--id",
        stack.hsm_url(hsm),
        "--storage-container-uri",
        stack.container_uri(),
        "--sas-token",
        f"@{stack.state['sas_file']}",
    )
    assert_backup_landed(stack, hsm, az_json(result))


def test_builtin_flag_names_work_unchanged(stack, hsm):
    """An `az keyvault backup start` script works by changing the command name only."""
    sas = stack.mint_sas()
    result = stack.az(
        "hsm-backup",
        "create",
        "--hsm-name",
        hsm,
        "--storage-account-name",
        C.STORAGE_ACCOUNT,
        "--blob-container-name",
        "backups",
        "--storage-container-SAS-token",
        sas,
    )
    assert_backup_landed(stack, hsm, az_json(result))
    stack.emulator("POST", "reset")
    stack.emulator("PUT", "config", {"job_duration_s": 0.2})
    result = stack.az(
        "hsm-backup",
        "create",
        "--hsm-name",
        hsm,
        "--storage-resource-uri",
        stack.container_uri(),
        "--use-managed-identity",
        "true",
    )
    assert_backup_landed(stack, hsm, az_json(result))
    stack.emulator("POST", "reset")
    result = stack.az(
        "hsm-backup", "create", "--hsm-name", hsm, "--storage-resource-uri", stack.container_uri(), "-t", sas
    )
    assert_backup_landed(stack, hsm, az_json(result))


def test_query_folder_url_tsv_prints_exactly_what_the_cmdlet_prints(stack, hsm):
    result = stack.az(
        "hsm-backup",
        "create",
        "--hsm-name",
        hsm,
        "--storage-container-uri",
        stack.container_uri(),
        "--mi",
        "--query",
        "folderUrl",
        "-o",
        "tsv",
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and re.fullmatch(re.escape(stack.container_uri()) + r"/mhsm-[a-z0-9-]+-\d{16}", lines[0])


def test_table_output_is_readable(stack, hsm):
    result = stack.az(
        "hsm-backup",
        "create",
        "--hsm-name",
        hsm,
        "--storage-container-uri",
        stack.container_uri(),
        "--mi",
        "-o",
        "table",
    )
    assert result.returncode == 0, result.stderr
    header, rule, row = result.stdout.splitlines()[:3]
    assert "Status" in header and "FolderName" in header and set(rule) <= {"-", " "}
    assert "Succeeded" in row and f"mhsm-{hsm}-" in row


def test_what_if_prints_the_plan_and_sends_nothing(stack, hsm):
    result = stack.az(
        "hsm-backup",
        "create",
        "--hsm-name",
        hsm,
        "--storage-account-name",
        C.STORAGE_ACCOUNT,
        "--storage-container-name",
        "backups",
        "--sas-token",
        stack.mint_sas(),
        "--what-if",
    )
    out = az_json(result)
    assert out["hsmUrl"] == stack.hsm_url(hsm) and out["storageContainerUri"] == stack.container_uri()
    assert out["storageAuth"] == "sas" and out["apiVersion"] == "2025-07-01"
    assert requests_to(stack) == []


def test_confirm_without_a_terminal_fails_clearly(stack, hsm):
    result = stack.az(
        "hsm-backup", "create", "--hsm-name", hsm, "--storage-container-uri", stack.container_uri(), "--mi", "--confirm"
    )
    assert result.returncode == 2
    assert "--confirm" in result.stderr and "Traceback" not in result.stderr
    assert requests_to(stack) == []


def test_no_wait_returns_the_job_and_says_how_to_check(stack, hsm):
    stack.emulator("PUT", "config", {"job_duration_s": 3})
    result = stack.az(
        "hsm-backup", "create", "--hsm-name", hsm, "--storage-container-uri", stack.container_uri(), "--mi", "--no-wait"
    )
    out = az_json(result)
    assert out["status"] == "InProgress" and re.fullmatch(r"[0-9a-f]{32}", out["jobId"])
    assert out["folderUrl"] is None
    assert f"--job-id {out['jobId']}" in result.stderr
    assert [p["status"] for p in job_starts(stack, hsm)] == [202]


def test_failed_job_exits_4_with_the_service_error_on_one_line(stack, hsm):
    forged = stack.mint_sas().rsplit("sig=", 1)[0] + "sig=Zm9yZ2VkIHNpZ25hdHVyZQ%3D%3D"
    result = stack.az(
        "hsm-backup",
        "create",
        "--hsm-name",
        hsm,
        "--storage-container-uri",
        stack.container_uri(),
        "--sas-token",
        forged,
    )
    assert result.returncode == 4, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR")]
    assert len(errors) == 1 and "AuthenticationFailed" in errors[0] and "failed" in errors[0]
    assert "<?xml" not in result.stderr and "Traceback" not in result.stderr and forged not in result.stderr


def test_conflict_when_another_backup_runs(stack, hsm):
    stack.emulator("PUT", "config", {"job_duration_s": 5})
    first = stack.az(
        "hsm-backup", "create", "--hsm-name", hsm, "--storage-container-uri", stack.container_uri(), "--mi", "--no-wait"
    )
    assert first.returncode == 0, first.stderr
    second = stack.az(
        "hsm-backup", "create", "--hsm-name", hsm, "--storage-container-uri", stack.container_uri(), "--mi"
    )
    assert second.returncode == 6, second.stderr
    assert "Another backup or restore is already running" in second.stderr


def test_forbidden_names_the_roles(stack, hsm):
    stack.emulator(
        "POST",
        "faults",
        {
            "rules": [
                {
                    "match": {"method": "POST", "path": "^/backup$"},
                    "response": {
                        "status": 403,
                        "body": {
                            "error": {
                                "code": "Forbidden",
                                "message": "Caller is not authorized to perform action on resource.",
                            }
                        },
                    },
                    "times": 1,
                }
            ]
        },
    )
    result = stack.az(
        "hsm-backup", "create", "--hsm-name", hsm, "--storage-container-uri", stack.container_uri(), "--mi"
    )
    assert result.returncode == 5, result.stderr
    assert "Managed HSM Backup" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "args, flags",
    [
        ([], ["--hsm-name", "--id"]),
        (["--hsm-name", "a1b", "--id", "https://x.managedhsm.hsmbackup.test"], ["--hsm-name", "--id"]),
        (["--hsm-name", "a1b", "--storage-account-name", "devstoreaccount1"], ["--storage-container-name"]),
        (
            [
                "--hsm-name",
                "a1b",
                "--storage-account-name",
                "devstoreaccount1",
                "--storage-container-name",
                "bk1",
                "--storage-container-uri",
                "https://devstoreaccount1.blob.hsmbackup.test/bk1",
            ],
            ["--storage-container-uri"],
        ),
        (
            [
                "--hsm-name",
                "a1b",
                "--storage-container-uri",
                "https://devstoreaccount1.blob.hsmbackup.test/bk1",
                "--sas-token",
                "sv=1&sp=crdw&sig=x",
                "--mi",
            ],
            ["--sas-token", "--use-user-managed-identity"],
        ),
        (
            ["--hsm-name", "a1b", "--storage-container-uri", "https://devstoreaccount1.blob.hsmbackup.test/bk1"],
            ["--sas-token", "--use-user-managed-identity"],
        ),
    ],
)
def test_bad_parameter_sets_exit_2_with_one_line_and_no_request(stack, hsm, args, flags):
    result = stack.az("hsm-backup", "create", *args)
    assert result.returncode == 2, (result.returncode, result.stderr)
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR")]
    assert len(errors) == 1, result.stderr
    for flag in flags:
        assert flag in errors[0]
    assert "Traceback" not in result.stderr
    assert requests_to(stack) == []


def test_not_signed_in_says_az_login(stack, hsm):
    config_dir = stack.fresh_config_dir("signed-out", login=False)
    result = stack.az(
        "hsm-backup",
        "create",
        "--hsm-name",
        hsm,
        "--storage-container-uri",
        stack.container_uri(),
        "--mi",
        config_dir=config_dir,
    )
    assert result.returncode != 0 and "az login" in result.stderr and "Traceback" not in result.stderr
    assert requests_to(stack) == []


def test_subscription_picks_the_account(stack, hsm):
    result = stack.az(
        "hsm-backup",
        "create",
        "--hsm-name",
        hsm,
        "--storage-container-uri",
        stack.container_uri(),
        "--mi",
        "--subscription",
        C.SUBSCRIPTION_ID,
    )
    assert_backup_landed(stack, hsm, az_json(result))
    result = stack.az(
        "hsm-backup",
        "create",
        "--hsm-name",
        hsm,
        "--storage-container-uri",
        stack.container_uri(),
        "--mi",
        "--subscription",
        "00000000-0000-0000-0000-000000000000",
    )
    assert result.returncode != 0 and "00000000-0000-0000-0000-000000000000" in result.stderr


def test_help_documents_every_flag_and_example(stack):
    result = stack.az("hsm-backup", "create", "-h")
    assert result.returncode == 0
    for flag in [
        "--hsm-name",
        "--hsm-object",
        "--id",
        "--storage-account-name",
        "--storage-container-name",
        "--blob-container-name",
        "--storage-container-uri",
        "--storage-resource-uri",
        "--sas-token",
        "--storage-container-SAS-token",
        "--use-user-managed-identity",
        "--use-managed-identity",
        "--what-if",
        "--confirm",
        "--no-wait",
        "--subscription",
        "crdw",
    ]:
        assert flag in result.stdout, flag
    assert result.stdout.count("az hsm-backup create") >= 8
