"""A simulated week of the nightly job (issue 20), as a scheduler runs it: examples/nightly.sh, no terminal, CI=true,
a managed-identity sign-in (IDENTITY_ENDPOINT / IDENTITY_HEADER, as Container Apps jobs, Functions and App Service
give it), --keep 5, on a fleet of 6 HSMs in 2 resource groups (and one HSM ARM says cannot be backed up), the
stack's clock a day further each night. Then one HSM's storage refuses it for two nights, and the night after.

Asserted on what the scheduler and the user see (the script's exit code and summary, the JSON it keeps) and on
the other side: the emulator's jobs and Azurite's folders. The stack is this module's own: its clock moves."""

import json
import os
import subprocess
from collections import Counter
from datetime import timedelta

import pytest

from tests.stack import constants as C
from tests.stack.launcher import ROOT, VENV_BIN, Stack

SCRIPT = ROOT / "examples" / "nightly.sh"
KEEP = 5
FLEET = [
    {"name": "week-a1", "resourceGroup": "rg-week-a"},
    {"name": "week-a2", "resourceGroup": "rg-week-a"},
    {"name": "week-a3", "resourceGroup": "rg-week-a"},
    {"name": "week-b1", "resourceGroup": "rg-week-b"},
    {"name": "week-b2", "resourceGroup": "rg-week-b"},
    {"name": "week-b3", "resourceGroup": "rg-week-b"},
    {"name": "week-new", "resourceGroup": "rg-week-b", "activationStatus": "NotActivated"},
]
BACKABLE = [h["name"] for h in FLEET if "activationStatus" not in h]
REFUSED = "week-b2"


@pytest.fixture(scope="module")
def week(tmp_path_factory):
    home = tmp_path_factory.mktemp("week")
    stack = Stack(home / "stack")
    try:
        stack.up(login=False)
        # Quick jobs with the real service's headers: the week is about what happens night after night.
        stack.emulator("PUT", "defaults", {"job_duration_s": 0.2, "retry_after_202": None})
        stack.declare_fleet(FLEET)
        config_dir = stack.fresh_config_dir("scheduler", login=False)  # the job's own az: cloud only, no sign-in
        yield stack, config_dir, home
    finally:
        stack.down()


def night(week, number):
    """Night `number`: the clock `number` days ahead, then the script as the scheduler runs it."""
    stack, config_dir, home = week
    stack.set_clock(timedelta(days=number))
    out = home / f"night-{number}"
    env = stack.env(
        config_dir=config_dir,
        PATH=f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
        CI="true",
        IDENTITY_ENDPOINT=stack.state["signin_url"] + "/msi/token",
        IDENTITY_HEADER=C.MI_IDENTITY_HEADER,
        HSMBACKUP_LOGIN_IDENTITY="true",
        HSMBACKUP_CONTAINER_URI=stack.container_uri(),
        HSMBACKUP_KEEP=str(KEEP),
        HSMBACKUP_OUTPUT_DIR=str(out),
    )
    done = subprocess.run(
        ["bash", str(SCRIPT)], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300
    )
    assert "Traceback" not in done.stderr and "Are you sure" not in done.stdout + done.stderr, done.stderr
    freshness = json.loads((out / "freshness.json").read_text())
    return done, {e["hsmName"]: e for e in freshness}


def backup_jobs(stack):
    return Counter(j["hsm"] for j in stack.emulator("GET", "jobs")["jobs"] if j["kind"] == "backup")


def folders(stack):
    """{HSM: its backup folders in Azurite, oldest first}; each must hold a whole backup (its index written last)."""
    found = {}
    for name in stack.list_blobs():
        folder, _, rest = name.partition("/")
        found.setdefault(folder, set()).add(rest)
    by_hsm = {}
    for folder, names in sorted(found.items()):
        assert "manifest.json" in names, f"{folder} is not a whole backup: {sorted(names)}"
        by_hsm.setdefault(folder[len("mhsm-") : -17], []).append(folder)
    return by_hsm


@pytest.mark.timeout(900)  # eleven nights of three commands each: about 2.5 min alone, longer beside other workers
def test_a_week_of_nights_then_two_nights_of_refused_storage_then_all_fresh_again(week):
    stack = week[0]
    for number in range(8):
        done, fresh = night(week, number)
        assert done.returncode == 0, f"night {number}:\n{done.stdout}\n{done.stderr}"
        assert backup_jobs(stack) == {hsm: number + 1 for hsm in BACKABLE}, f"night {number}"
        kept = folders(stack)
        assert {hsm: len(f) for hsm, f in kept.items()} == {hsm: min(number + 1, KEEP) for hsm in BACKABLE}
        assert {hsm: e["state"] for hsm, e in fresh.items()} == {
            **dict.fromkeys(BACKABLE, "Fresh"),
            "week-new": "Skipped",
        }
        assert all(fresh[hsm]["lastBackupFolder"] == kept[hsm][-1] for hsm in BACKABLE)
    newest_before = folders(stack)[REFUSED][-1]

    stack.emulator("PUT", "config", {"storage_refuses_hsms": [REFUSED]})  # a storage firewall now keeps it out
    for number, state, code in ((8, "Unknown", 12), (9, "Stale", 13)):
        done, fresh = night(week, number)
        assert done.returncode == code, f"night {number}:\n{done.stdout}\n{done.stderr}"
        summary = done.stdout + done.stderr
        assert REFUSED in summary and all(f"{hsm}:" not in summary for hsm in BACKABLE if hsm != REFUSED), summary
        assert backup_jobs(stack) == {**{hsm: number + 1 for hsm in BACKABLE}}, f"night {number}"
        kept = folders(stack)
        assert {hsm: len(f) for hsm, f in kept.items()} == dict.fromkeys(BACKABLE, KEEP)  # the others pruned
        assert kept[REFUSED][-1] == newest_before  # its newest backup stays, whatever prune could not confirm
        assert fresh[REFUSED]["state"] == state and fresh[REFUSED]["lastBackupFolder"] == newest_before
        assert {fresh[hsm]["state"] for hsm in BACKABLE if hsm != REFUSED} == {"Fresh"}

    stack.emulator("PUT", "config", {"storage_refuses_hsms": []})
    done, fresh = night(week, 10)
    assert done.returncode == 0, done.stdout + done.stderr
    assert {fresh[hsm]["state"] for hsm in BACKABLE} == {"Fresh"}
    kept = folders(stack)
    assert {hsm: len(f) for hsm, f in kept.items()} == dict.fromkeys(BACKABLE, KEEP)
    assert kept[REFUSED][-2] == newest_before  # the new one on top, the oldest of before gone
    # Every token of the eleven nights came from the managed identity endpoint, with its header: no other sign-in.
    tokens = [r for r in stack.signin("GET", "requests") if "token" in r["path"]]
    assert len(tokens) >= 11 and {(r["path"], r["identity_header"], r["status"]) for r in tokens} == {
        ("/msi/token", True, 200)
    }
