"""What happens at a terminal: the hidden SAS prompt and the --confirm question, driven through a real pty."""

import json
import os
import pty
import re
import select
import signal
import subprocess
import time

import pytest

from tests.e2e.conftest import az_json, create_with_identity, requests_to, stderr_lines
from tests.stack.launcher import AZ


def at_terminal(stack, args, answers, timeout=60, **env):
    """Run az on a pseudo-terminal; answer each (prompt regex, text or SIGINT) in turn. Returns (code, screen)."""
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [str(AZ), *args],
        env=stack.env(AZURE_CORE_OUTPUT="json", **env),
        stdin=slave,
        stdout=slave,
        stderr=slave,
        close_fds=True,
    )
    os.close(slave)
    screen, pending = b"", list(answers)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            screen += chunk
        if pending and re.search(pending[0][0], screen.decode(errors="replace")):
            answer = pending.pop(0)[1]
            if answer == signal.SIGINT:  # what the terminal sends az for a typed Ctrl+C
                time.sleep(0.5)  # as a person would: a signal before readline waits is only seen at the next key
                process.send_signal(answer)
            else:
                os.write(master, answer.encode() + b"\r")
        if process.poll() is not None and not ready:
            break
    code = process.wait(timeout=10)
    os.close(master)
    return code, screen.decode(errors="replace")


def test_bare_sas_token_flag_asks_without_echo(stack, hsm):
    sas = stack.mint_sas()
    code, screen = at_terminal(
        stack,
        ["hsm-backup", "create", "--hsm-name", hsm, "--storage-container-uri", stack.container_uri(), "--sas-token"],
        [(r"SAS token: ", sas)],
    )
    assert code == 0, screen
    assert sas not in screen and re.search(r"sig=", screen) is None  # typed, never echoed
    assert json.loads(screen[screen.index("{") : screen.rindex("}") + 1])["status"] == "Succeeded"


def test_confirm_yes_starts_and_no_does_not(stack, hsm):
    args = [
        "hsm-backup",
        "create",
        "--hsm-name",
        hsm,
        "--storage-container-uri",
        stack.container_uri(),
        "--mi",
        "--confirm",
    ]
    code, screen = at_terminal(stack, args, [(r"Perform a full backup of HSM .* and store it in .*\?", "n")])
    assert code == 10 and "Cancelled at the question: nothing was done." in screen  # README: 10 cancelled
    assert requests_to(stack, hsm) == []
    code, screen = at_terminal(stack, args, [(r"Perform a full backup of HSM .* and store it in .*\?", "y")])
    assert code == 0 and '"Succeeded"' in screen


def test_confirm_asks_once_for_several_hsms_listing_them(stack, hsm):
    names = [f"{hsm}-q{i}" for i in range(3)]
    args = ["hsm-backup", "create", "--ids", *[stack.hsm_url(n) for n in names], "--mi", "--confirm"]
    args += ["--storage-container-uri", stack.container_uri()]
    question = rf"Perform a full backup of 3 HSM\(s\) \({', '.join(names)}\) into .*\?"
    code, screen = at_terminal(stack, args, [(question, "n")])
    assert code == 10 and screen.count("Perform a full backup") == 1 and requests_to(stack) == []
    code, screen = at_terminal(stack, args, [(question, "y")])
    assert code == 0 and screen.count("Perform a full backup") == 1 and screen.count('"Succeeded"') == 3, screen
    starts = [r for r in requests_to(stack) if r["method"] == "POST" and r["path"] == "/backup" and r["status"] == 202]
    assert sorted(r["hsm"] for r in starts) == names


def restore_args(hsm, folder_url, *extra):
    return ["hsm-backup", "restore", "--hsm-name", hsm, "--folder-url", folder_url, "--mi", *extra]


def restores_sent(stack, hsm):
    return [r for r in requests_to(stack, hsm) if r["method"] == "PUT" and r["auth_present"]]


def test_no_at_the_restore_question_is_cancelled_exit_10_and_ctrl_c_is_130(stack, hsm):
    folder_url = az_json(create_with_identity(stack, hsm))["folderUrl"]
    question = r"Restore HSM .* from .*\? This overwrites what the HSM holds\."
    code, screen = at_terminal(stack, restore_args(hsm, folder_url), [(question, "n")])
    assert code == 10 and "Cancelled at the question: nothing was done." in screen and "Traceback" not in screen
    code, screen = at_terminal(stack, restore_args(hsm, folder_url), [(question, signal.SIGINT)])
    assert code == 130 and "Stopped at the question: nothing was done." in screen and "Traceback" not in screen
    assert restores_sent(stack, hsm) == []
    code, screen = at_terminal(stack, restore_args(hsm, folder_url), [(question, "y")])
    assert code == 0 and '"Succeeded"' in screen and len(restores_sent(stack, hsm)) == 1


@pytest.mark.parametrize("how", ["environment", "az config"])
def test_disable_confirm_prompt_answers_yes_as_in_az(stack, hsm, how):
    """core.disable_confirm_prompt, from AZURE_CORE_DISABLE_CONFIRM_PROMPT or `az config set`, works like --yes."""
    folder_url = az_json(create_with_identity(stack, hsm))["folderUrl"]
    folder = folder_url.rsplit("/", 1)[1]
    if how == "environment":
        config_dir, env = None, stack.env(AZURE_CORE_DISABLE_CONFIRM_PROMPT="true")
    else:
        config_dir, env = stack.fresh_config_dir(f"noprompt-{hsm}"), None
        stack.az("config", "set", "core.disable_confirm_prompt=true", config_dir=config_dir, check=True)
    restored = stack.az(*restore_args(hsm, folder_url), config_dir=config_dir, env=env)  # no --yes, no terminal
    assert az_json(restored)["status"] == "Succeeded" and len(restores_sent(stack, hsm)) == 1
    create = ["--hsm-name", hsm, "--storage-container-uri", stack.container_uri(), "--mi", "--confirm"]
    assert az_json(stack.az("hsm-backup", "create", *create, config_dir=config_dir, env=env))["status"] == "Succeeded"
    storage = ["--storage-container-uri", stack.container_uri()]
    deleted = stack.az("hsm-backup", "delete", *storage, "--backup-folder", folder, config_dir=config_dir, env=env)
    assert [d["folderName"] for d in az_json(deleted)["deleted"]] == [folder]
    assert stack.list_blobs(prefix=folder + "/") == []


def test_a_disable_confirm_prompt_that_is_not_a_boolean_is_bad_input(stack, hsm):
    result = stack.az(
        *restore_args(hsm, stack.container_uri() + "/mhsm-xhsm-2026010100000000"),
        env=stack.env(AZURE_CORE_DISABLE_CONFIRM_PROMPT="sometimes"),
    )
    errors = stderr_lines(result)
    assert result.returncode == 2 and len(errors) == 1 and "AZURE_CORE_DISABLE_CONFIRM_PROMPT" in errors[0]
    assert restores_sent(stack, hsm) == []


def test_no_at_the_delete_question_is_cancelled_and_keeps_every_blob(stack, hsm):
    folder = az_json(create_with_identity(stack, hsm))["folderName"]
    blobs = stack.list_blobs()
    args = ["hsm-backup", "delete", "--storage-container-uri", stack.container_uri(), "--backup-folder", folder]
    code, screen = at_terminal(stack, args, [(r"Delete .*\? \(y/n\)", "n")])
    assert code == 10 and "Cancelled at the question: nothing was done." in screen and "Traceback" not in screen
    assert stack.list_blobs() == blobs
