"""`make demo`: start the local stack, run a real `az hsm-backup create` against it, show the blobs, stop."""

import shlex
import sys
import tempfile
import time

from tests.stack.launcher import AZ, Stack

HSM = "contosohsm"


def main():
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="hsmbackup-demo-") as state_dir:
        stack = Stack(state_dir)
        try:
            print("Starting the local stack (Azurite, Managed HSM emulator, sign-in, proxy)...", flush=True)
            stack.up()
            print(f"Signed in to the local cloud; HSM {stack.hsm_url(HSM)}, container {stack.container_uri()}\n")
            args = [
                "hsm-backup",
                "create",
                "--hsm-name",
                HSM,
                "--storage-account-name",
                "devstoreaccount1",
                "--storage-container-name",
                "backups",
                "--sas-token",
                f"@{stack.state['sas_file']}",
            ]
            print("$ az " + " ".join(shlex.quote(a) for a in args), flush=True)
            result = stack.az(*args)
            sys.stdout.write(result.stdout)
            sys.stderr.write(result.stderr)
            if result.returncode != 0:
                print(f"\n{AZ.name} exited with {result.returncode}", file=sys.stderr)
                return result.returncode
            import json

            folder = json.loads(result.stdout)["folderName"]
            blobs = stack.list_blobs(prefix=folder + "/")
            print(f"\nBlobs of {folder} in Azurite (written by the emulator through the SAS): {len(blobs)}")
            for name in blobs:
                print("  " + name)
            return 0 if blobs else 1
        finally:
            stack.down()
            print(f"\nStack stopped. Demo took {time.monotonic() - started:.1f} s.")


if __name__ == "__main__":
    sys.exit(main())
