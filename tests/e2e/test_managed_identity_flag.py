"""`--use-managed-identity` has three states, as in `az keyvault backup start`: absent, true (also bare), false.

`false` means "not the HSM's identity": with a SAS the backup runs with that SAS; alone it is no storage access at
all (bad input, exit 2, nothing sent). It must never turn into the identity, whatever its case or spelling.
"""

import pytest

from tests.e2e.conftest import az_json, requests_to, stderr_lines


def create(stack, hsm, *storage_access):
    return stack.az(
        "hsm-backup", "create", "--hsm-name", hsm, "--storage-container-uri", stack.container_uri(), *storage_access
    )


def the_job(stack, hsm):
    (job,) = [j for j in stack.emulator("GET", "jobs")["jobs"] if j["hsm"] == hsm]
    (start,) = [r for r in requests_to(stack, hsm) if r["auth_present"] and r["method"] == "POST"]
    return job, start["body"]


@pytest.mark.parametrize(("flag", "value"), [("--use-managed-identity", "false"), ("--mi", "FALSE")])
def test_managed_identity_false_with_a_sas_backs_up_with_that_sas(stack, hsm, tmp_path, flag, value):
    sas_file = tmp_path / "sas.txt"
    sas_file.write_text(stack.mint_sas(), encoding="utf-8")
    out = az_json(create(stack, hsm, flag, value, "--sas-token", f"@{sas_file}"))
    assert out["status"] == "Succeeded"
    job, body = the_job(stack, hsm)
    assert job["auth"] == "sas"
    assert body["token"] == "***" and body.get("useManagedIdentity") in (False, None)


@pytest.mark.parametrize(("flag", "value"), [("--use-managed-identity", "false"), ("--mi", "False")])
def test_managed_identity_false_alone_is_no_storage_access(stack, hsm, flag, value):
    result = create(stack, hsm, flag, value)
    assert result.returncode == 2, result.stderr
    (line,) = stderr_lines(result)
    assert "--sas-token" in line and "--use-user-managed-identity" in line and "Traceback" not in result.stderr
    assert result.stdout == "" and requests_to(stack, hsm) == []


@pytest.mark.parametrize("value", [["true"], []])
def test_managed_identity_true_or_bare_uses_the_hsms_identity(stack, hsm, value):
    out = az_json(create(stack, hsm, "--use-managed-identity", *value))
    assert out["status"] == "Succeeded"
    job, body = the_job(stack, hsm)
    assert job["auth"] == "managedIdentity" and body["useManagedIdentity"] is True and "token" not in body
