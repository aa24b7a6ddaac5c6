"""The extension installed by name from an index of our own, as an organisation hosts it (README "Host your own
extension index"): `az config set extension.index_url=...`, `az extension add --name hsmbackup`, and later
`az extension update --name hsmbackup` to the next version, on the oldest and the newest az of the version matrix.

The index and the wheels are served over HTTPS from 127.0.0.1 with the stack's server certificate, whose CA az
trusts through REQUESTS_CA_BUNDLE. Each az runs with the network guard of the version matrix (tests/compat/netguard):
had it asked the default index on aka.ms, or anything else off this machine, the test fails. About 50 s on az 2.55
(whose first command, and the first after each add or update, loads every command module) and 15 s on az 2.91.
"""

import json
import subprocess
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler

import pytest
from packaging.version import Version

from tests.compat.hosts import MATRIX, host_dir
from tests.e2e.conftest import build_wheel, source_version
from tests.stack._server import HOST, TLSThreadingHTTPServer, server_tls_context
from tests.stack.launcher import ROOT
from tools.make_index import dumps, make_index

NETGUARD = ROOT / "tests" / "compat" / "netguard"
NAME = "hsmbackup"
PREVIEW_WARNING = f"WARNING: The installed extension '{NAME}' is in preview."
# The extension is in preview (azext.isPreview). az 2.55 installs the newest version whatever it is; later releases
# (2.67 on, at least) take stable versions only unless told `--allow-preview true`, and when there is none, as here,
# allow previews and say so.
NO_STABLE_WARNING = f"WARNING: No stable version of '{NAME}' to install. Preview versions allowed."
STABLE_FIRST_FROM = (2, 67, 0)


def next_version(version):
    """A release after `version`: the next pre-release of the same kind (1.0.0b1 -> 1.0.0b2), else the next patch."""
    parsed = Version(version)
    if parsed.pre:
        kind, number = parsed.pre
        return f"{parsed.base_version}{kind}{number + 1}"
    major, minor, micro = (*parsed.release, 0, 0)[:3]
    return f"{major}.{minor}.{micro + 1}"


@pytest.mark.parametrize(
    "version, following", [("1.0.0b1", "1.0.0b2"), ("1.0.0rc3", "1.0.0rc4"), ("0.1.0", "0.1.1"), ("2.0", "2.0.1")]
)
def test_next_version(version, following):
    assert next_version(version) == following


@pytest.fixture(scope="session")
def releases(tmp_path_factory):
    """This version's wheel and the next one's, each built from a copy of the sources."""
    current = source_version()
    following = next_version(current)
    assert Version(following) > Version(current)
    work = tmp_path_factory.mktemp("index-wheels")
    return {
        current: build_wheel(work / "current"),
        following: build_wheel(work / "next", version=following),
    }


class Site:
    """A folder served over HTTPS on 127.0.0.1 (a stand-in for a storage container's static website), with the
    requests it answered."""

    def __init__(self, root, pki):
        self.root, self.requests = root, []
        site = self

        class Handler(SimpleHTTPRequestHandler):
            def log_request(self, code="-", size="-"):
                site.requests.append((self.command, self.path, int(code)))

            def log_message(self, format, *args):
                pass

        self.server = TLSThreadingHTTPServer(
            (HOST, 0), partial(Handler, directory=str(root)), server_tls_context(pki["cert"], pki["key"])
        )
        self.url = f"https://{HOST}:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    def publish(self, wheels, tamper=False, name="index.json"):
        """Put the wheels in the folder and write the index of everything there (as `make index` would)."""
        for wheel in wheels:
            (self.root / wheel.name).write_bytes(wheel.read_bytes())
        index = make_index(sorted(self.root.glob("*.whl")), self.url)
        if tamper:
            for entry in index["extensions"][NAME]:
                entry["sha256Digest"] = "0" * 64
        (self.root / name).write_text(dumps(index), encoding="utf-8")
        return index

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


class User:
    """A user's az (one release of the version matrix) with a fresh config and extension folder. Its environment is
    the stack's: the stack's CA bundle, and the stack's proxy for everything but 127.0.0.1, which refuses what is not
    local (az checks for a newer az of its own on a fresh config folder)."""

    def __init__(self, stack, version, work):
        self.az_path = host_dir(version) / "bin" / "az"
        assert self.az_path.exists(), f"az {version} is not installed: run make compat-hosts"
        self.work, self.net_log = work, work / "off-machine.jsonl"
        self.extensions = work / "extensions"
        (work / "no-system-extensions").mkdir(parents=True)
        self.env = stack.env(
            work / "config",
            AZURE_EXTENSION_DIR=self.extensions,
            AZURE_EXTENSION_SYS_DIR=work / "no-system-extensions",
            PYTHONPATH=NETGUARD,
            HSMBACKUP_NET_LOG=self.net_log,
            HTTP_PROXY=stack.state["proxy_url"],
            PIP_DISABLE_PIP_VERSION_CHECK="1",
            PIP_NO_INDEX="1",
        )

    def az(self, *args, **env):
        # stdin closed: a prompt would fail at once instead of waiting. Not run from the checkout, whose
        # azext_hsmbackup would shadow the installed one on az releases that start as `python -m azure.cli`.
        return subprocess.run(
            [str(self.az_path), *map(str, args)],
            env={**self.env, **env},
            cwd=self.work,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def installed_version(self):
        shown = self.az("extension", "show", "--name", NAME)
        assert shown.returncode == 0, shown.stderr
        out = json.loads(shown.stdout)
        assert out["extensionType"] == "whl" and out["path"] == str(self.extensions / NAME), out
        return out["version"]

    def off_machine(self):
        lines = self.net_log.read_text().splitlines() if self.net_log.exists() else []
        return [json.loads(line) for line in lines]


def warnings(result):
    return [line for line in result.stderr.splitlines() if line.strip()]


# `host`: the parameter name tests/e2e/conftest.py groups by, so that each release's tests stay on one worker.
@pytest.mark.parametrize("host", [MATRIX[0], MATRIX[-1]], ids=lambda v: f"az{v}")
def test_add_and_update_by_name_from_our_own_index(host, stack, releases, tmp_path):
    (current, first), (following, second) = sorted(releases.items(), key=lambda kv: Version(kv[0]))
    user = User(stack, host, tmp_path / "user")
    (tmp_path / "site").mkdir()
    site = Site(tmp_path / "site", stack.state["pki"])
    try:
        configured = user.az("config", "set", f"extension.index_url={site.url}/index.json")
        assert configured.returncode == 0, configured.stderr

        # For one command, the environment variable wins over the setting. From an index whose digest does not
        # match the download, az refuses the wheel and installs nothing.
        site.publish([first], tamper=True, name="tampered.json")
        refused = user.az("extension", "add", "--name", NAME, AZURE_EXTENSION_INDEX_URL=f"{site.url}/tampered.json")
        assert refused.returncode != 0 and "checksum" in refused.stderr, refused.stderr
        assert site.requests == [("GET", "/tampered.json", 200), ("GET", f"/{first.name}", 200)]
        assert not (user.extensions / NAME).exists()

        site.publish([first])
        site.requests.clear()
        added = user.az("extension", "add", "--name", NAME)
        assert added.returncode == 0, added.stderr
        stable_first = tuple(int(p) for p in host.split(".")) >= STABLE_FIRST_FROM
        assert warnings(added) == [NO_STABLE_WARNING] * stable_first + [PREVIEW_WARNING], added.stderr
        assert site.requests == [("GET", "/index.json", 200), ("GET", f"/{first.name}", 200)]
        assert user.installed_version() == current
        helped = user.az("hsm-backup", "-h")
        assert helped.returncode == 0 and "create" in helped.stdout, helped.stderr

        # The next release joins the index; the one installed stays listed, as on the official index.
        index = site.publish([second])
        assert [e["metadata"]["version"] for e in index["extensions"][NAME]] == [current, following]
        site.requests.clear()
        updated = user.az("extension", "update", "--name", NAME)
        assert updated.returncode == 0, updated.stderr
        assert ("GET", f"/{second.name}", 200) in site.requests
        assert user.installed_version() == following
        installed = sorted(p.name for p in (user.extensions / NAME).iterdir())
        assert f"{NAME}-{following}.dist-info" in installed and f"{NAME}-{current}.dist-info" not in installed

        # Nothing newer: az says so and changes nothing.
        again = user.az("extension", "update", "--name", NAME)
        assert again.returncode == 0, again.stderr
        assert f"WARNING: Latest version of '{NAME}' is already installed." in warnings(again), again.stderr
        assert user.installed_version() == following
        assert user.off_machine() == [], f"az {host} tried to leave the machine"
    finally:
        site.close()
