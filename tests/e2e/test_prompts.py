"""What happens at a terminal: the hidden SAS prompt and the --confirm question, driven through a real pty."""

import json
import os
import pty
import re
import select
import subprocess
import time

from tests.e2e.conftest import requests_to
from tests.stack.launcher import AZ


def at_terminal(stack, args, answers, timeout=60):
    """Run az on a pseudo-terminal; answer each (prompt regex, text) in turn. Returns (exit code, screen text)."""
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [str(AZ), *args],
        env=stack.env(AZURE_CORE_OUTPUT="json"),
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
            os.write(master, pending.pop(0)[1].encode() + b"\r")
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
    assert code == 2 and "not confirmed" in screen
    assert requests_to(stack, hsm) == []
    code, screen = at_terminal(stack, args, [(r"Perform a full backup of HSM .* and store it in .*\?", "y")])
    assert code == 0 and '"Succeeded"' in screen
