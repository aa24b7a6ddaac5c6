"""A fake `az` for examples/nightly.sh (tests/unit/test_nightly_script.py): put first on PATH as `az`, it records
each call (argv, whether stdin was /dev/null, the az settings in its environment) to $FAKE_AZ_LOG, one JSON line
each, and answers from $FAKE_AZ_SPEC: per call ("login-help", "login", "create", "prune", "freshness"), the stdout
(a string, or JSON to print as az does), stderr and exit code. A call the spec does not name answers as if all went
well. Nothing here talks to any network.
"""

import json
import os
import stat
import sys

DEFAULT = {
    "login-help": {"stdout": "Managed Identity Arguments\n    --client-id : Client ID of the identity.\n"},
    "login": {"stdout": []},
    "create": {"stdout": []},
    "prune": {"stdout": {"deleted": [], "wouldDelete": [], "alreadyGone": [], "leftAlone": [], "kept": []}},
    "freshness": {"stdout": []},
}
ENV_KEYS = (
    "AZURE_CORE_DISABLE_CONFIRM_PROMPT",
    "AZURE_CORE_ONLY_SHOW_ERRORS",
    "AZURE_CORE_NO_COLOR",
    "AZURE_CORE_USE_MSAL_MANAGED_IDENTITY",
    "CI",
)


def call_name(argv):
    if argv[:1] == ["login"]:
        return "login-help" if "--help" in argv else "login"
    if argv[:2] == ["hsm-backup", "create"]:
        return "create"
    if argv[:2] == ["hsm-backup", "prune"]:
        return "prune"
    if argv[:3] == ["hsm-backup", "check", "freshness"]:
        return "freshness"
    return "unknown"


def stdin_state():
    try:
        got = os.fstat(0)
    except OSError:
        return "closed"
    null = os.stat(os.devnull)
    if stat.S_ISCHR(got.st_mode) and got.st_rdev == null.st_rdev:
        return "devnull"
    return "other"


def main():
    argv = sys.argv[1:]
    name = call_name(argv)
    record = {
        "call": name,
        "argv": argv,
        "stdin": stdin_state(),
        "env": {k: os.environ[k] for k in ENV_KEYS if k in os.environ},
    }
    with open(os.environ["FAKE_AZ_LOG"], "a", encoding="utf-8") as log:
        log.write(json.dumps(record) + "\n")
    with open(os.environ["FAKE_AZ_SPEC"], encoding="utf-8") as f:
        spec = json.load(f)
    answer = spec.get(name, DEFAULT.get(name, {"stderr": f"ERROR: fake az has no answer for {argv}\n", "rc": 2}))
    stdout = answer.get("stdout", "")
    if not isinstance(stdout, str):
        stdout = json.dumps(stdout, indent=2, sort_keys=True) + "\n"  # as az prints -o json
    sys.stdout.write(stdout)
    sys.stderr.write(answer.get("stderr", ""))
    return answer.get("rc", 0)


if __name__ == "__main__":
    sys.exit(main())
