"""The stack's ARM fleet (issue 11 groundwork): what ARM lists points at emulator HSMs that really back up."""

import json

from tests.e2e.conftest import az_json, job_starts
from tests.stack import constants as C

HSMS = f"/subscriptions/{C.SUBSCRIPTION_ID}/resourceGroups/rg-fleet/providers/Microsoft.KeyVault/managedHSMs"


def test_an_arm_listed_hsm_record_backs_up_through_hsm_object(stack, hsm, tmp_path):
    stack.declare_fleet([{"name": hsm, "resourceGroup": "rg-fleet"}, {"name": hsm + "-b", "resourceGroup": "rg-x"}])
    try:
        listed = az_json(stack.az("rest", "--method", "get", "--url", f"{HSMS}?api-version=2025-05-01"))
        assert [h["name"] for h in listed["value"]] == [hsm]  # -g narrows to its group
        record = tmp_path / "hsm.json"
        record.write_text(json.dumps(listed["value"][0]))
        out = az_json(
            stack.az(
                "hsm-backup",
                "create",
                "--hsm-object",
                f"@{record}",
                "--storage-container-uri",
                stack.container_uri(),
                "--mi",
            )
        )
        assert out["status"] == "Succeeded" and out["hsmUrl"] == stack.hsm_url(hsm)
        assert stack.list_blobs(prefix=out["folderName"] + "/")
        assert [p["status"] for p in job_starts(stack, hsm)] == [202]
    finally:
        stack.declare_fleet([])
