"""What the user reads when something fails: show keeps a failed job's reason, an error line says the service's
message once with the URL and the next command, and storage codes read as the service writes them."""

import re

import pytest

from tests.e2e.conftest import az_json, create_with_identity

REASON = {"code": "InternalError", "message": "The backup could not be completed."}


def error_lines(result):
    return [line for line in result.stderr.splitlines() if line.startswith("ERROR:")]


def test_show_and_wait_keep_a_failed_jobs_reason_in_json_and_table(stack, hsm):
    stack.emulator("PUT", "config", {"job_duration_s": 0.2, "force_fail_next_job": REASON})
    job_id = az_json(create_with_identity(stack, hsm, "--no-wait"))["jobId"]
    waited = stack.az("hsm-backup", "wait", "--hsm-name", hsm, "--job-id", job_id)
    assert waited.returncode == 4, waited.stderr
    assert error_lines(waited) == [
        f"ERROR: The backup job {job_id} on {stack.hsm_url(hsm)} failed: (InternalError) {REASON['message']}"
    ]
    shown = az_json(stack.az("hsm-backup", "show", "--hsm-name", hsm, "--job-id", job_id))
    assert shown["status"] == "Failed" and shown["error"] == REASON
    table = stack.az("hsm-backup", "show", "--hsm-name", hsm, "--job-id", job_id, "-o", "table")
    header, _, row = table.stdout.splitlines()[:3]
    assert header.split()[-1] == "Error" and row.split()[-1] == "InternalError" and row.split()[0] == "Failed"


def test_a_succeeded_job_has_no_error_and_no_error_column(stack, hsm):
    job_id = az_json(create_with_identity(stack, hsm))["jobId"]
    shown = az_json(stack.az("hsm-backup", "show", "--hsm-name", hsm, "--job-id", job_id))
    assert shown["status"] == "Succeeded" and shown["error"] is None
    table = stack.az("hsm-backup", "show", "--hsm-name", hsm, "--job-id", job_id, "-o", "table")
    assert "Error" not in table.stdout.splitlines()[0]


def test_a_conflict_line_says_the_services_words_once_and_names_the_hsm(stack, hsm):
    stack.emulator("PUT", "config", {"job_duration_s": 20})
    az_json(create_with_identity(stack, hsm, "--no-wait"))
    second = create_with_identity(stack, hsm)
    lines = error_lines(second)
    assert second.returncode == 6 and len(lines) == 1, second.stderr
    assert lines[0].count("Another backup operation is in progress") == 1 and stack.hsm_url(hsm) in lines[0]
    assert "Code:" not in lines[0] and "Message:" not in lines[0]


@pytest.mark.parametrize("command", ["list", "delete"])
def test_storage_refusals_read_as_the_service_writes_its_code(stack, hsm, tmp_path, command):
    sas = re.sub(r"sig=[^&]+", "sig=Zm9yZ2VkLXNpZ25hdHVyZQ%3D%3D", stack.mint_sas(permissions="rld"))  # forged
    sas_file = tmp_path / "forged-sas.txt"
    sas_file.write_text(sas)
    extra = ["--backup-folder", f"mhsm-{hsm}-2026010100000000", "--yes"] if command == "delete" else []
    result = stack.az(
        "hsm-backup", command, "--storage-container-uri", stack.container_uri(), "--sas-token", f"@{sas_file}", *extra
    )
    lines = error_lines(result)
    assert result.returncode == 5 and len(lines) == 1, result.stderr
    assert "StorageErrorCode" not in result.stderr and "(403 Authorization" in lines[0], lines[0]
    assert stack.container_uri() in lines[0]


def test_a_backup_into_a_missing_container_ends_with_the_command_that_creates_it(stack, hsm):
    missing = stack.container_uri("nosuchcontainer")
    result = create_with_identity(stack, hsm, container_uri=missing)
    (line,) = error_lines(result)
    assert result.returncode == 4 and "(ContainerNotFound)" in line, result.stderr
    account = missing.split("//")[1].split(".")[0]
    assert line.endswith(
        f"Create the container first: az storage container create --account-name {account} "
        "--name nosuchcontainer --auth-mode login"
    ), line
