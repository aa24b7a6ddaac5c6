"""`python -m tests.record [pytest args]` (make record): the scenario tests of azext_hsmbackup/tests/latest run live
against a fresh local stack, and so write their recordings anew (recordings/*.yaml, scrubbed as they are written).

The stack is started afresh in its own state directory (.stack-record/ by default, emptied first), the tests get
its environment (az's config dir, signed in to the local cloud, the CA bundle, the proxy for the `.test` names)
with AZURE_TEST_RUN_LIVE=true and the HSMBACKUP_TEST_* names, and the stack is stopped whatever the tests did.
"""

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

from tests.stack.launcher import CONTAINER, ROOT, VENV_BIN, Stack

SCENARIO_TESTS = "azext_hsmbackup/tests/latest"
HSM = "contosohsm"
RESOURCE_GROUP = "rg-hsmbackup"
# Short jobs, and a Retry-After of 1 s on the 202 (10 s from Azure): recording all the tests takes a minute.
# Recordings keep no Retry-After (the testsdk filters the header), so playback does not depend on these values.
EMULATOR_CONFIG = {"job_duration_s": 0.4, "retry_after_202": 1}


def live_env(stack):
    """The environment of a live run of the scenario tests against `stack` (base.py ENV)."""
    from tests.stack import constants as C

    keys = stack.emulator("GET", f"hsms/{HSM}/keys")["keys"]  # created, with its seed keys, on first use
    return stack.env(
        AZURE_TEST_RUN_LIVE="true",
        HSMBACKUP_TEST_HSM_NAME=HSM,
        HSMBACKUP_TEST_STORAGE_ACCOUNT=C.STORAGE_ACCOUNT,
        HSMBACKUP_TEST_CONTAINER=CONTAINER,
        HSMBACKUP_TEST_RESOURCE_GROUP=RESOURCE_GROUP,
        HSMBACKUP_TEST_KEY_NAME=sorted(k["name"] for k in keys)[0],
        HSMBACKUP_TEST_SAS_FILE=stack.state["sas_file"],
    )


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.record", description=__doc__)
    parser.add_argument("--dir", default=ROOT / ".stack-record", type=Path, help="the stack's state directory")
    args, pytest_args = parser.parse_known_args(argv)
    stack = Stack(args.dir)
    if stack.state.get("pids"):
        stack.down()
    shutil.rmtree(stack.dir, ignore_errors=True)  # a fresh stack: its cloud registration, sign-in, blobs, jobs
    stack = Stack(args.dir)
    stack.up()
    try:
        stack.emulator("PUT", "defaults", EMULATOR_CONFIG)
        command = [str(VENV_BIN / "pytest"), "-p", "no:cacheprovider", "-q", SCENARIO_TESTS, *pytest_args]
        return subprocess.run(command, cwd=ROOT, env=live_env(stack)).returncode
    finally:
        stack.down()


if __name__ == "__main__":
    sys.exit(main())
