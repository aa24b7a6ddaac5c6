"""Every example of every command's help runs against the stack, so that no example can rot.

The examples are read from the `helps` dict of `_help.py` (YAML, as az reads them) and run by bash exactly as
written, with only the names of the user's world put in: the HSM, the storage account and container, a real
backup folder, a real job id, and the files an example reads (the SAS token and the `az keyvault show` JSON).
"""

import os
import re
import subprocess

import pytest
import yaml

from azext_hsmbackup._help import helps
from tests.e2e.conftest import PREVIEW_LINE, TEST_EMULATOR_CONFIG, az_json, create_with_identity, stderr_lines
from tests.e2e.test_create import hsm_object_file
from tests.stack import constants as C
from tests.stack.launcher import VENV_BIN

HSM = "helpexamples"
CONTAINER = "helpexamples"
EXAMPLE_FOLDER = "mhsm-myhsm-2026112812000000"
EXAMPLE_JOB_ID = "0123456789abcdef0123456789abcdef"


def examples():
    for command, text in helps.items():
        entry = yaml.safe_load(text)
        if entry.get("type") != "command":
            continue
        for example in entry.get("examples") or []:
            yield pytest.param(command, example, id=f"{command.removeprefix('hsm-backup ')}: {example['name']}")


def test_every_command_has_at_least_two_examples():
    counts = {}
    for param in examples():
        command = param.values[0]
        counts[command] = counts.get(command, 0) + 1
    commands = [k for k, v in helps.items() if yaml.safe_load(v).get("type") == "command"]
    assert {c: counts.get(c, 0) for c in commands if counts.get(c, 0) < 2} == {}


@pytest.fixture(scope="module")
def world(stack, tmp_path_factory):
    """A container with one real backup of the example HSM, a SAS file for it and the HSM's `az keyvault show`."""
    stack.emulator("POST", "reset")  # made before any test's own reset: no fault or slow job left by another file
    stack.emulator("PUT", "config", TEST_EMULATOR_CONFIG)
    stack.create_container(CONTAINER)
    home = tmp_path_factory.mktemp("help-examples")
    (home / "sas.txt").write_text(stack.mint_sas(CONTAINER) + "\n")
    (home / "hsm.json").write_text(hsm_object_file(stack, HSM).read_text())
    return {"home": home, "folder": backup(stack)["folderName"]}


def backup(stack, *extra):
    return az_json(create_with_identity(stack, HSM, *extra, container_uri=stack.container_uri(CONTAINER)))


def programs(text):
    """The programs a shell line runs: the first word of each part of a pipeline or list, and of each $(...)."""
    words = []
    for part in re.split(r"&&|\|\||\||;|\$\(", text):
        command = re.sub(r"^\s*\w+=", "", part).strip()  # `job=$(...)` only assigns
        if command:
            words.append(command.split()[0])
    return words


def in_our_world(text, stack, folder, job_id):
    """The example with the user's names replaced by the stack's; nothing else changes."""
    for placeholder, ours in (
        ("https://myaccount.blob.core.windows.net/backups", stack.container_uri(CONTAINER)),
        ("https://myotherhsm.managedhsm.azure.net", stack.hsm_url(f"{HSM}-b")),
        ("https://myhsm.managedhsm.azure.net", stack.hsm_url(HSM)),
        (EXAMPLE_FOLDER, folder),
        (EXAMPLE_JOB_ID, job_id or EXAMPLE_JOB_ID),
        ("--key-name mykey", "--key-name key-0-rsa"),  # a key the emulator's HSMs hold
    ):
        text = text.replace(placeholder, ours)
    text = re.sub(r"(--storage-container-name|--blob-container-name) backups\b", rf"\1 {CONTAINER}", text)
    text = re.sub(r"\bmyaccount\b", C.STORAGE_ACCOUNT, text)
    text = re.sub(r"\bmyotherhsm\b", f"{HSM}-b", text)
    text = re.sub(r"/subscriptions/0{8}-0{4}-0{4}-0{4}-0{12}/", f"/subscriptions/{C.SUBSCRIPTION_ID}/", text)
    return re.sub(r"\bmyhsm\b", HSM, text)


@pytest.mark.usefixtures("hsm")  # a fresh emulator: no job left running by the example before
@pytest.mark.parametrize(("command", "example"), list(examples()))
def test_help_example_runs(stack, world, command, example):
    text = example["text"].strip()
    assert set(programs(text)) == {"az"}, f"an example runs az and nothing else: {text}"
    folder = backup(stack)["folderName"] if "delete" in command else world["folder"]  # delete takes its own
    job_id = backup(stack, "--no-wait")["jobId"] if EXAMPLE_JOB_ID in text else None
    if "freshness" in command:  # the other HSM of --ids and --all -g has a fresh backup too
        az_json(create_with_identity(stack, f"{HSM}-b", container_uri=stack.container_uri(CONTAINER)))
    if "@started.json" in text:  # what `create --no-wait` of several HSMs printed, saved as the example says
        to = ["--storage-container-uri", stack.container_uri(CONTAINER), "--mi", "--no-wait"]
        started = stack.az("hsm-backup", "create", "--ids", stack.hsm_url(HSM), stack.hsm_url(f"{HSM}-b"), *to)
        (world["home"] / "started.json").write_text(started.stdout)
    script = in_our_world(text, stack, folder, job_id)
    assert not re.search(r"\bmy(hsm|otherhsm|account|key)\b|0123456789abcdef|0{8}-", script), script
    # The HSMs ARM lists for --all and `az keyvault list`: the example HSM and one more, in the example's group.
    stack.declare_fleet([{"name": HSM, "resourceGroup": "myrg"}, {"name": f"{HSM}-b", "resourceGroup": "myrg"}])
    env = stack.env(PATH=f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}", AZURE_CORE_ONLY_SHOW_ERRORS="false")
    try:
        result = subprocess.run(
            ["bash", "-o", "errexit", "-o", "pipefail", "-c", script],
            cwd=world["home"],
            env=env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=120,
        )
    finally:
        stack.declare_fleet([])
    assert result.returncode == 0, f"{script}\n{result.stderr}"
    assert "Traceback" not in result.stderr


def test_the_command_groups_say_they_are_in_preview(stack):
    """As azext.isPreview says: help shows it, and az's preview line comes once before a command's own lines."""
    for group in ("hsm-backup", "hsm-backup check"):
        shown = stack.az(*group.split(), "-h")
        assert shown.returncode == 0 and "is in preview and under development" in shown.stdout, shown.stdout
    refused = stack.az("hsm-backup", "wait", "--hsm-name", "a", "--job-id", EXAMPLE_JOB_ID)
    lines = [line for line in refused.stderr.splitlines() if line.strip()]
    assert refused.returncode == 2 and PREVIEW_LINE.fullmatch(lines[0]) and len(lines) == 2, refused.stderr
    assert stderr_lines(refused) == lines[1:] and lines[1].startswith("ERROR: ") and "--hsm-name" in lines[1]
    quiet = stack.az("hsm-backup", "check", "freshness", "--max-age", "0h", "--only-show-errors")
    assert quiet.returncode == 2 and not PREVIEW_LINE.search(quiet.stderr), quiet.stderr
