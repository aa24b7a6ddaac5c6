"""Starts and stops the whole local stand-in of Azure, and runs the real `az` against it.

Pieces (each its own process, stopped by PID): Azurite (blob, HTTPS + OAuth), the Managed HSM emulator, the
sign-in stand-in (Entra ID + ARM + managed identity) and a CONNECT proxy that maps the `.test` names of the local
cloud to their ports. `az` sees only what a real user could set: a registered cloud, HTTPS_PROXY and a CA bundle.
"""

import json
import os
import signal
import socket
import subprocess
import time
from datetime import timedelta
from pathlib import Path

from tests.stack import azurite, clock
from tests.stack import constants as C
from tests.stack.pki import make_pki

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(os.environ.get("HSMBACKUP_VENV_BIN", ROOT / ".venv" / "bin"))
AZ = VENV_BIN / "az"
PYTHON = VENV_BIN / "python"
CONTAINER = "backups"
# Variables that would send the stack's traffic elsewhere, or mix the developer's own az set-up in.
_SCRUB = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
    "MSI_ENDPOINT",
    "MSI_SECRET",
    "IMDS_ENDPOINT",
    "CURL_CA_BUNDLE",
    "AZURE_EXTENSION_DIR",
    "AZURE_EXTENSION_DEV_SOURCES",
    "AZURE_EXTENSION_SYS_DIR",
    "AZURE_CONFIG_DIR",
)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in _SCRUB}
    env.update({k: str(v) for k, v in extra.items()})
    return env


class Stack:
    """The running stack, described by DIR/stack.json so that `down` works from another process."""

    def __init__(self, state_dir):
        self.dir = Path(state_dir).resolve()
        self.state_file = self.dir / "stack.json"
        self.state = json.loads(self.state_file.read_text()) if self.state_file.exists() else {"pids": {}}

    # ---- life cycle --------------------------------------------------------------------------------------

    def up(self, login=True):
        self.dir.mkdir(parents=True, exist_ok=True)
        self.state = {"pids": {}, "clock_offset_s": 0.0}
        clock.write_offset_file(self.dir / clock.CLOCK_FILE, 0.0)  # a stack starts on the real clock
        try:
            self._start_processes()
            self.register_cloud(self.config_dir)
            if login:
                self.login(self.config_dir)
            self.create_container(CONTAINER)
            (self.dir / "sas.txt").write_text(self.mint_sas(CONTAINER) + "\n")
            self.state["sas_file"] = str(self.dir / "sas.txt")
            self._save()
        except BaseException:
            self.down()
            raise
        return self

    def _start_processes(self):
        pki = make_pki(self.dir / "pki")
        self.state["pki"] = {k: str(v) for k, v in pki.items()}
        proc, port = azurite.start(self.dir, pki["cert"], pki["key"])
        self._track("azurite", proc)
        self.state["azurite_port"] = port
        self._save()
        tls = ["--state-dir", self.dir, "--cert", pki["cert"], "--key", pki["key"]]
        signin = self._spawn("signin", ["-m", "tests.stack.signin", *tls])
        self.state["signin_url"] = signin["url"]
        self.state["proxy_url"] = f"http://127.0.0.1:{free_port()}"
        emulator = self._spawn("emulator", ["-m", "tests.mhsm_emulator", *tls, "--authority", signin["url"]])
        self.state["emulator_url"] = emulator["url"]
        self._spawn(
            "proxy",
            [
                "-m",
                "tests.stack.proxy",
                "--state-dir",
                self.dir,
                "--port",
                self.state["proxy_url"].rsplit(":", 1)[1],
                "--route",
                f"*{C.MHSM_DNS_SUFFIX}=127.0.0.1:{emulator['port']}",
                "--route",
                f"*.blob.{C.STORAGE_ENDPOINT_SUFFIX}=127.0.0.1:{port}",
            ],
        )

    def _spawn(self, name, args, timeout=20):
        ready = self.dir / f"{name}.json"
        ready.unlink(missing_ok=True)
        log = open(self.dir / f"{name}.log", "w", encoding="utf-8")  # noqa: SIM115 - the child owns it
        proc = subprocess.Popen(
            [str(PYTHON), *map(str, args)],
            cwd=ROOT,
            env=self.env(clock_shift=False),  # the services take their offset from their admin APIs
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self._track(name, proc)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ready.exists():
                return json.loads(ready.read_text())
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"{name} did not start; its log:\n{(self.dir / f'{name}.log').read_text()[-3000:]}")

    def _track(self, name, proc):
        self.state["pids"][name] = proc.pid
        self._save()

    def _save(self):
        self.state_file.write_text(json.dumps(self.state, indent=2))

    def down(self):
        """Stop every process this stack started (by PID, with its process group), then forget them."""
        for name, pid in list(self.state.get("pids", {}).items()):
            _stop(pid)
            del self.state["pids"][name]
        if self.dir.exists():
            self._save()

    # ---- what a shell (or a test) needs ----------------------------------------------------------------

    @property
    def config_dir(self):
        return self.dir / "azconfig"

    @property
    def bundle(self):
        return self.state["pki"]["bundle"]

    @property
    def emulator_url(self):
        return self.state["emulator_url"]

    def hsm_url(self, name):
        return f"https://{name}{C.MHSM_DNS_SUFFIX}"

    def container_uri(self, container=CONTAINER, account=C.STORAGE_ACCOUNT):
        return f"https://{account}.blob.{C.STORAGE_ENDPOINT_SUFFIX}/{container}"

    def env(self, config_dir=None, clock_shift=True, **extra):
        """The environment `az` runs in: isolated config dir, our CA bundle, and the proxy for `.test` names; with
        the stack's clock shifted (set_clock), the Python start-up hook that shifts az's clock as much."""
        values = {
            "AZURE_CONFIG_DIR": config_dir or self.config_dir,
            "AZURE_CORE_COLLECT_TELEMETRY": "false",
            "AZURE_CORE_INSTANCE_DISCOVERY": "false",
            "AZURE_CORE_NO_COLOR": "true",
            "AZURE_CORE_SURVEY_MESSAGE": "false",
        }
        if "pki" in self.state:
            values["REQUESTS_CA_BUNDLE"] = self.bundle
        if "proxy_url" in self.state:
            values.update(HTTPS_PROXY=self.state["proxy_url"], NO_PROXY="127.0.0.1,localhost")
        if clock_shift:
            values.update(clock.python_env(self.state.get("clock_offset_s", 0.0), os.environ))
        values.update(extra)
        return clean_env(**values)

    # ---- the clock -------------------------------------------------------------------------------------------

    @property
    def clock_offset(self):
        return timedelta(seconds=self.state.get("clock_offset_s", 0.0))

    def now(self):
        """The stack's now: an aware UTC datetime, the real one moved by clock_offset."""
        return clock.shifted_now(self.state.get("clock_offset_s", 0.0))

    def set_clock(self, offset):
        """Move the whole stack's clock to the real one + offset (a timedelta within ±30 days; not cumulative):
        Azurite, the emulator, the sign-in stand-in, the az processes of env()/az(), and a new sas.txt."""
        seconds = clock.offset_seconds(offset)
        clock.write_offset_file(self.dir / clock.CLOCK_FILE, seconds)
        # defaults: the emulator's reset (every test's `hsm` fixture) keeps the offset
        self.emulator("PUT", "defaults", {"clock_offset_s": seconds})
        self.signin("POST", "config", {"clock_offset_s": seconds})
        self.state["clock_offset_s"] = seconds
        self._save()
        clock.forget_cached_tokens(self.dir)
        if "sas_file" in self.state:
            Path(self.state["sas_file"]).write_text(self.mint_sas(CONTAINER) + "\n")

    def az(self, *args, config_dir=None, env=None, check=False, input=None, timeout=120, az=AZ, cwd=None):
        """Run the real `az` (the project venv's, or another release's), as a user would; the CompletedProcess."""
        result = subprocess.run(
            [str(az), *map(str, args)],
            env=env or self.env(config_dir),
            capture_output=True,
            text=True,
            input=input,
            timeout=timeout,
            stdin=None if input is not None else subprocess.DEVNULL,
            cwd=cwd,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"az {' '.join(map(str, args))} failed ({result.returncode}):\n{result.stderr}")
        return result

    # ---- sign-in --------------------------------------------------------------------------------------

    def cloud_config(self):
        signin = self.state["signin_url"]
        return {
            "endpoints": {
                "activeDirectory": signin,
                "activeDirectoryResourceId": C.ARM_RESOURCE,
                "resourceManager": signin + "/",
                "management": C.ARM_RESOURCE,
                # Only a resource id (no request goes there); az releases before 2.70 refuse a cloud without it.
                "activeDirectoryGraphResourceId": C.GRAPH_RESOURCE,
            },
            "suffixes": {
                "mhsmDns": C.MHSM_DNS_SUFFIX,
                "keyvaultDns": ".vault." + C.DOMAIN,
                "storageEndpoint": C.STORAGE_ENDPOINT_SUFFIX,
            },
        }

    def register_cloud(self, config_dir, az=AZ, env=None):
        cloud_file = self.dir / "cloud.json"
        cloud_file.write_text(json.dumps(self.cloud_config()))
        register = ("cloud", "register", "-n", C.CLOUD_NAME, "--cloud-config", f"@{cloud_file}")
        # Newer releases would ask the ARM stand-in for the cloud's endpoints without the flag; older ones have no
        # such flag and ask nobody when the config names every endpoint.
        result = self.az(*register, "--skip-endpoint-discovery", config_dir=config_dir, az=az, env=env)
        if result.returncode and "unrecognized arguments: --skip-endpoint-discovery" in result.stderr:
            result = self.az(*register, config_dir=config_dir, az=az, env=env)
        if result.returncode:
            raise RuntimeError(f"az cloud register failed ({result.returncode}):\n{result.stderr}")
        self.az("cloud", "set", "-n", C.CLOUD_NAME, config_dir=config_dir, check=True, az=az, env=env)

    def login(self, config_dir, az=AZ, env=None):
        self.az(
            "login",
            "--service-principal",
            "-u",
            C.SP_APP_ID,
            "-p",
            C.SP_SECRET,
            "--tenant",
            C.TENANT_ID,
            config_dir=config_dir,
            check=True,
            az=az,
            env=env,
        )

    def fresh_config_dir(self, name, login=True, az=AZ):
        """A new, isolated AZURE_CONFIG_DIR with the local cloud registered (and signed in unless told not to)."""
        config_dir = self.dir / "configs" / name
        config_dir.mkdir(parents=True, exist_ok=True)
        self.register_cloud(config_dir, az=az)
        if login:
            self.login(config_dir, az=az)
        return config_dir

    # ---- storage ----------------------------------------------------------------------------------------

    def blob_service(self):
        from azure.storage.blob import BlobServiceClient

        return BlobServiceClient(
            f"https://{C.STORAGE_ACCOUNT}.blob.{C.STORAGE_ENDPOINT_SUFFIX}",
            credential={"account_name": C.STORAGE_ACCOUNT, "account_key": C.STORAGE_ACCOUNT_KEY},
            proxies={"https": self.state["proxy_url"]},
            connection_verify=self.bundle,
        )

    def create_container(self, name):
        from azure.core.exceptions import ResourceExistsError

        try:
            self.blob_service().create_container(name)
        except ResourceExistsError:
            pass

    def list_blobs(self, container=CONTAINER, prefix=None):
        client = self.blob_service().get_container_client(container)
        return sorted(b.name for b in client.list_blobs(name_starts_with=prefix))

    def mint_sas(self, container=CONTAINER, permissions="crdwl", expiry=None):
        from azure.storage.blob import ContainerSasPermissions, generate_container_sas

        return generate_container_sas(
            C.STORAGE_ACCOUNT,
            container,
            account_key=C.STORAGE_ACCOUNT_KEY,
            permission=ContainerSasPermissions.from_string(permissions),
            expiry=expiry or self.now() + timedelta(days=2),
        )

    # ---- the admin APIs of the emulator and the sign-in stand-in (tests only) ------------------------------

    def emulator(self, method, path, body=None):
        return self._admin(method, f"{self.emulator_url}/_emulator/{path.lstrip('/')}", body)

    def signin(self, method, path, body=None):
        return self._admin(method, f"{self.state['signin_url']}/_signin/{path.lstrip('/')}", body)

    def declare_fleet(self, hsms, page_size=100):
        """The Managed HSMs ARM lists from now on (see tests.stack.signin.Fleet); [] empties the fleet."""
        return self.signin("POST", "fleet", {"hsms": hsms, "page_size": page_size})

    def _admin(self, method, url, body):
        import requests

        response = requests.request(method, url, json=body, verify=self.bundle, timeout=30, proxies={"https": None})
        response.raise_for_status()
        return response.json() if response.content else None


def _stop(pid):
    """SIGTERM the process group, wait up to 5 s for it to go, then SIGKILL it."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        return
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if _gone(pid):
            return
        time.sleep(0.05)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    _gone(pid)


def _gone(pid):
    """True once the process has exited (reaping it when it is our own child, so it does not linger as a zombie)."""
    try:
        reaped, _ = os.waitpid(pid, os.WNOHANG)
        return reaped == pid
    except ChildProcessError:  # started by another process (`python -m tests.stack down`)
        try:
            os.killpg(pid, 0)
            return False
        except ProcessLookupError:
            return True
