"""Azurite (blob only), from the project's own node_modules, on a free port, HTTPS and OAuth on."""

import os
import re
import subprocess
import time
from pathlib import Path

from tests.stack import clock

NODE_DIR = Path(__file__).resolve().parent / "node"
AZURITE_BLOB = NODE_DIR / "node_modules" / ".bin" / "azurite-blob"


def start(state_dir, cert, key, timeout=30):
    """Start Azurite and return (Popen, port). Its log goes to state_dir/azurite.log. Its clock follows the offset
    in state_dir/clock-offset (tests/stack/clock.py), 0 until Stack.set_clock writes another."""
    if not AZURITE_BLOB.exists():
        raise RuntimeError(f"{AZURITE_BLOB} is missing: run `make setup`.")
    log_path = Path(state_dir) / "azurite.log"
    clock_file = Path(state_dir) / clock.CLOCK_FILE
    if not clock_file.exists():
        clock.write_offset_file(clock_file, 0.0)
    log = open(log_path, "w", encoding="utf-8")  # noqa: SIM115 - handed to the child for its lifetime
    proc = subprocess.Popen(
        [
            str(AZURITE_BLOB),
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            "0",
            "--inMemoryPersistence",
            "--disableTelemetry",
            "--loose",
            "--cert",
            str(cert),
            "--key",
            str(key),
            "--oauth",
            "basic",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=clock.node_env(clock_file, dict(os.environ)),
        start_new_session=True,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        match = re.search(r"successfully listens on https?://127\.0\.0\.1:(\d+)", log_path.read_text())
        if match:
            return proc, int(match.group(1))
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"Azurite did not start: {log_path.read_text()[-2000:]}")
