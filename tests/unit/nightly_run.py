"""The harness of the examples/nightly.sh tests: the script run with a fake `az` (tests/unit/nightly_fake_az.py)
first on PATH, in a clean environment with no terminal; what each az call was asked is in `result.calls`."""

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "examples" / "nightly.sh"
FAKE = Path(__file__).with_name("nightly_fake_az.py")
BASH = shutil.which("bash")
URI = "https://myaccount.blob.core.windows.net/backups"
CLIENT_ID = "5e4d3c2b-1a09-4f8e-8d7c-6b5a4f3e2d1c"


def entry(name, status="Succeeded", **extra):
    return {"hsmName": name, "hsmUrl": f"https://{name}.managedhsm.azure.net", "status": status, **extra}


def fresh(name, state="Fresh", **extra):
    return {"hsmName": name, "state": state, "maxAge": "26h", "confirmed": state == "Fresh", **extra}


class Run:
    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.bin = tmp_path / "bin"
        self.bin.mkdir()
        az = self.bin / "az"
        az.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} {shlex.quote(str(FAKE))} "$@"\n')
        az.chmod(0o755)
        self.out = tmp_path / "out"
        self.log = tmp_path / "az-calls.jsonl"
        self.spec = tmp_path / "spec.json"

    def __call__(self, spec=None, stdin=subprocess.DEVNULL, output_dir=True, shell=BASH, **settings):
        self.spec.write_text(json.dumps(spec or {}))
        self.log.write_text("")
        env = {
            "PATH": f"{self.bin}{os.pathsep}{os.environ['PATH']}",
            "HOME": str(self.tmp),
            "TMPDIR": str(self.tmp),
            "LC_ALL": "C",
            "FAKE_AZ_LOG": str(self.log),
            "FAKE_AZ_SPEC": str(self.spec),
            "HSMBACKUP_CONTAINER_URI": URI,
        }
        if output_dir:
            env["HSMBACKUP_OUTPUT_DIR"] = str(self.out)
        env.update(settings)
        env = {k: v for k, v in env.items() if v is not None}
        result = subprocess.run(
            [shell, str(SCRIPT)],
            env=env,
            stdin=stdin,
            capture_output=True,
            text=True,
            timeout=60,
            start_new_session=True,  # no controlling terminal, as under cron or a CI runner
        )
        result.calls = [json.loads(line) for line in self.log.read_text().splitlines()]
        return result


def argv(result, name):
    found = [c["argv"] for c in result.calls if c["call"] == name]
    assert len(found) == 1, result.calls
    return found[0]


def summary(result):
    return result.stdout.split("summary", 1)[1]
