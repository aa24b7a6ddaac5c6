"""Installs the az releases of the version matrix into `.venv-az/<version>/`, each as a user's host has them.

The slim recipe of requirements/az-host.txt, per release: azure-cli-core and the data-plane SDKs at the pins that
release's own azure-cli wheel names (read from its METADATA, never typed here), then azure-cli with --no-deps (its
command modules without the mgmt SDKs). An install is kept until the pins it was made from change.

    python -m tests.compat.hosts [VERSION ...]     # all of MATRIX when none is given
"""

import json
import shutil
import subprocess
import sys
import time
import zipfile
from email.parser import Parser
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
HOSTS = ROOT / ".venv-az"
MATRIX = ("2.55.0", "2.67.0", "2.80.0", "2.88.0", "2.91.0")
# What the extension and the matrix's commands load from the host, besides azure-cli-core: the two data-plane SDKs
# (azure-multiapi-storage is where az < 2.82 keeps its blob client), the ARM subscriptions client `az login`
# uses, and the Key Vault management client `create --all` lists HSMs with. A release that does not name a package
# does not get it.
HOST_PACKAGES = (
    "azure-cli-core",
    "azure-keyvault-administration",
    "azure-storage-blob",
    "azure-multiapi-storage",
    "azure-mgmt-resource",
    "azure-mgmt-keyvault",
)
# Two more, as every real host of these releases has them:
# - setuptools < 80: azure-multiapi-storage 1.2-1.3 (az 2.55-2.7x) imports pkg_resources, which setuptools warns
#   about from 80 on and dropped in 81. az's packages bundled a setuptools of their time and a venv of Python <= 3.11
#   is seeded with one; azure-cli names setuptools without a version, or not at all.
# - msrest: az's own error handler imports it; a full install has it through the mgmt SDKs the slim one skips.
HOST_EXTRAS = ("setuptools<80", "msrest")
# Every download stays inside the checkout: a fresh machine has no other cache.
CACHE = HOSTS / ".cache"


def uv(*args):
    subprocess.run([str(Path(sys.executable).parent / "uv"), *map(str, args)], check=True, env=_uv_env())


def _uv_env():
    import os

    return {**os.environ, "UV_CACHE_DIR": str(CACHE / "uv"), "UV_NO_PROGRESS": "1"}


def cli_wheel(version):
    """azure-cli's own wheel for `version` (downloaded once, without dependencies)."""
    folder = CACHE / "azure-cli" / version
    found = sorted(folder.glob("azure_cli-*.whl"))
    if not found:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", f"azure-cli=={version}", "-d", folder],
            check=True,
        )
        found = sorted(folder.glob("azure_cli-*.whl"))
    return found[0]


def release_pins(wheel):
    """The requirements of HOST_PACKAGES as the release's METADATA states them (e.g. azure-storage-blob==12.29.0b1)."""
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = Parser().parsestr(archive.read(name).decode("utf-8"))
    wanted = {}
    for line in metadata.get_all("Requires-Dist") or []:
        requirement = Requirement(line)
        key = requirement.name.lower().replace("_", "-")
        if key in HOST_PACKAGES and (requirement.marker is None or requirement.marker.evaluate()):
            wanted[key] = f"{requirement.name}{requirement.specifier}"
    missing = {"azure-cli-core", "azure-keyvault-administration"} - wanted.keys()
    if missing:
        raise SystemExit(f"{wheel.name} names no {', '.join(sorted(missing))}: is it an azure-cli wheel?")
    return [wanted[k] for k in HOST_PACKAGES if k in wanted] + list(HOST_EXTRAS)


def host_dir(version):
    return HOSTS / version


def install(version):
    """Install az `version` into .venv-az/<version>/ unless the same pins are there already; returns the pins."""
    wheel = cli_wheel(version)
    pins = release_pins(wheel)
    target = host_dir(version)
    stamp = target / ".installed.json"
    if stamp.exists() and json.loads(stamp.read_text()) == pins:
        return pins
    shutil.rmtree(target, ignore_errors=True)
    # --seed: pip, setuptools and wheel in the venv, which `az extension add` runs.
    uv("venv", "-q", "--seed", "-p", sys.executable, target)
    python = target / "bin" / "python"
    uv("pip", "install", "-q", "-p", python, *pins)
    uv("pip", "install", "-q", "-p", python, "--no-deps", wheel)
    stamp.write_text(json.dumps(pins))
    return pins


def main(argv=None):
    versions = (argv if argv is not None else sys.argv[1:]) or MATRIX
    started = time.monotonic()
    for version in versions:
        begun = time.monotonic()
        pins = install(version)
        print(f"az {version}: {' '.join(pins)} ({time.monotonic() - begun:.1f} s)")
    print(f"az version matrix installed in {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()
