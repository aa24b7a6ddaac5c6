"""`python -m tests.stack up|down|env [--dir DIR]`: the local Azure stand-in for a shell or a demo."""

import argparse
import shlex
import sys
from pathlib import Path

from tests.stack.clock import ENV_OFFSET as HSMBACKUP_CLOCK_OFFSET_S
from tests.stack.launcher import ROOT, Stack


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.stack", description=__doc__)
    parser.add_argument("action", choices=["up", "down", "env"])
    parser.add_argument("--dir", default=ROOT / ".stack", type=Path, help="state directory (default .stack/)")
    args = parser.parse_args(argv)
    stack = Stack(args.dir)
    if args.action == "up":
        if stack.state.get("pids"):
            stack.down()
        stack.up()
        print(f"# Local stack is up (state in {stack.dir}). Stop it with: python -m tests.stack down", file=sys.stderr)
    if args.action in ("up", "env"):
        env = stack.env()
        for key in (
            "AZURE_CONFIG_DIR",
            "REQUESTS_CA_BUNDLE",
            "HTTPS_PROXY",
            "NO_PROXY",
            "AZURE_CORE_INSTANCE_DISCOVERY",
            "AZURE_CORE_COLLECT_TELEMETRY",
        ):
            print(f"export {key}={shlex.quote(env[key])}")
        if HSMBACKUP_CLOCK_OFFSET_S in env:  # the stack's clock was moved (Stack.set_clock): az's clock with it
            for key in ("PYTHONPATH", HSMBACKUP_CLOCK_OFFSET_S):
                print(f"export {key}={shlex.quote(env[key])}")
        print(f"export HSM_URL={shlex.quote(stack.hsm_url('contosohsm'))}")
        print(f"export CONTAINER_URI={shlex.quote(stack.container_uri())}")
        print(f"export SAS_FILE={shlex.quote(stack.state['sas_file'])}")
    if args.action == "down":
        stack.down()
        print("# Local stack stopped.", file=sys.stderr)


if __name__ == "__main__":
    main()
