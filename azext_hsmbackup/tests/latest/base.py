"""The base of the scenario tests: the names a test uses (environment variables live, the recorded ones in
playback), playback that needs no network, no sign-in and none of this machine's az settings, and exit codes read
as az returns them.

Live (`AZURE_TEST_RUN_LIVE=true`): the commands run against what the signed-in az of AZURE_CONFIG_DIR reaches, the
local stack (`make record`) or a real subscription (README, "Test against your own subscription"), with the
names of HSMBACKUP_TEST_*; the recordings are written anew. Playback (the default): recordings/*.yaml answer every
request, the cloud is the public one and az's config dir a temporary one, so that this machine's cloud, output
format or sign-in change nothing; a request without its recorded twin fails the test, it never goes out.
"""

import atexit
import functools
import inspect
import os
import shutil
import tempfile
import threading

from azure.cli.testsdk import ScenarioTest
from azure.cli.testsdk.reverse_dependency import get_dummy_cli
from azure.cli.testsdk.scenario_tests import mock_in_unit_test
from azure.cli.testsdk.scenario_tests.const import MOCKED_SUBSCRIPTION_ID

from azext_hsmbackup.tests.latest.recording import (
    PLAYBACK_MHSM_SUFFIX,
    PLAYBACK_STORAGE_SUFFIX,
    NameReplacer,
    SecretScrubber,
    SignInFilter,
    cloud_suffix_pairs,
)

# What a live run takes from the environment, and what recordings hold instead (NameReplacer).
ENV = {
    "hsm": "HSMBACKUP_TEST_HSM_NAME",
    "account": "HSMBACKUP_TEST_STORAGE_ACCOUNT",
    "container": "HSMBACKUP_TEST_CONTAINER",
    "group": "HSMBACKUP_TEST_RESOURCE_GROUP",
    "key": "HSMBACKUP_TEST_KEY_NAME",
    "sas_file": "HSMBACKUP_TEST_SAS_FILE",
}
PLAYBACK = {
    "hsm": "hsmbackuptest",
    "account": "hsmbackupstore",
    "container": "backups",
    "group": "hsmbackup-rg",
    "key": "hsmbackup-test-key",
}
# The SAS of playback: far from expiry, and signed by nobody (recordings hold none but REDACTED signatures).
PLAYBACK_SAS = "sv=2025-01-05&sr=c&sp=crdwl&se=2099-12-31T00:00:00Z&sig=REDACTED"
# A SAS storage refuses, live and recorded alike: well formed, valid for long, with a signature nobody made.
FORGED_SAS = "sv=2025-01-05&sr=c&sp=rl&se=2099-12-31T00:00:00Z&sig=bm90LWEtc2lnbmF0dXJlLWF0LWFsbA%3D%3D"
# What a playback copies from the real config dir: the command and extension indexes (az rebuilds them otherwise).
_INDEX_FILES = ("commandIndex.json", "extensionIndex.json", "helpIndex.json", "extensionHelpIndex.json")


@functools.lru_cache(maxsize=None)
def playback_config_dir(source):
    """One az config dir for the playbacks of this process (deleted at exit), with `source`'s indexes and the SAS
    file of playback."""
    folder = tempfile.mkdtemp(prefix="hsmbackup-playback-")
    atexit.register(shutil.rmtree, folder, True)
    for name in _INDEX_FILES:
        if source and os.path.isfile(os.path.join(source, name)):
            shutil.copy(os.path.join(source, name), folder)
    with open(os.path.join(folder, "sas.txt"), "w", encoding="utf-8") as sas_file:
        sas_file.write(PLAYBACK_SAS + "\n")
    return folder


def join_pollers(timeout=120):
    """Wait for the SDK's poller threads. A `--no-wait` run leaves one behind: in a real az process it ends with the
    process; in this one it ends at its first status read, which fails (live, the command has closed its client by
    then: no recording holds that read; in playback, nothing answers it: the SDK's reads carry no api-version,
    `wait`'s do, so it cannot take `wait`'s answer), and the testsdk fails a test that leaves one running."""
    for thread in threading.enumerate():
        if thread.name.startswith("LROPoller") and thread is not threading.current_thread():
            thread.join(timeout)


def forget_challenges():
    """Drop the Key Vault SDK's process-wide cache of HSM challenges, so that every test, live or replayed, begins
    with the 401 challenge of its first request whatever ran before it in the process."""
    try:
        from azure.keyvault.administration._internal import http_challenge_cache
    except ImportError:  # another SDK build: its cache lives elsewhere, or nowhere
        return
    http_challenge_cache.clear()


class PlaybackCredential:
    """The signed-in user's MSAL credential in playback: a token for any scope, without asking anyone."""

    def acquire_token(self, scopes, **kwargs):
        return {"access_token": "playback-token", "token_type": "Bearer", "expires_in": 3600}


def patch_playback_credential(test):
    """The testsdk's own patch gives az a credential with get_token only; azure-cli-core 2.91's CredentialAdaptor asks
    it for acquire_token (the MSAL credential's method)."""
    mock_in_unit_test(
        test, "azure.cli.core.auth.identity.Identity.get_user_credential", lambda *args, **kwargs: PlaybackCredential()
    )


def _read(path):
    try:
        with open(path, "rb") as recording:
            return recording.read()
    except FileNotFoundError:
        return None


def _restore_environ(environ, saved):
    """The testsdk's tearDown puts back a plain dict copy as os.environ; put back the real one, as it was."""
    os.environ = environ  # noqa: B003 - rebinding the real mapping, whose contents follow
    for name in [n for n in environ if n not in saved]:
        del environ[name]
    for name, value in saved.items():
        if environ.get(name) != value:
            environ[name] = value


class HsmBackupScenarioTest(ScenarioTest):
    """A ScenarioTest whose kwargs name the HSM, storage and key, and whose recordings hold no secret."""

    def __init__(self, method_name):
        recording = os.path.join(os.path.dirname(inspect.getfile(type(self))), "recordings", f"{method_name}.yaml")
        kept = _read(recording)
        super().__init__(method_name)  # live, the testsdk deletes the recording here: for every test collected
        if self.is_live and kept is not None:
            with open(recording, "wb") as restored:  # only a test that runs records anew (setUp)
                restored.write(kept)
        if self.is_live:
            live = {key: os.environ.get(ENV[key]) for key in PLAYBACK}
            self.recording_processors += [
                SignInFilter(),
                NameReplacer(cloud_suffix_pairs(self.cli_ctx.cloud), [(live[k], PLAYBACK[k]) for k in PLAYBACK]),
                SecretScrubber(),
            ]
        else:
            self.vcr.record_mode = "none"  # no network in playback, with or without a recording
            self.in_recording = False
        self.replay_processors += [SecretScrubber()]
        self.replay_patches += [patch_playback_credential]  # after the testsdk's patch of the same method

    def setUp(self):
        self.addCleanup(_restore_environ, os.environ, dict(os.environ))
        if self.is_live:
            missing = [ENV[key] for key in ENV if not os.environ.get(ENV[key])]
            if missing:
                self.fail(f"A live run needs {', '.join(missing)} (README, 'Test against your own subscription').")
            if os.path.exists(self.recording_file):
                os.remove(self.recording_file)
        else:
            self._playback_cli()
        super().setUp()
        forget_challenges()
        self.kwargs.update(self._names())

    def _playback_cli(self):
        """A fresh az (DummyCli) on a temporary config dir and the public cloud; the extension is found as before:
        in az's extension dirs, or in the dev sources azdev configured."""
        from azure.cli.core.cloud import AZURE_PUBLIC_CLOUD

        dev_sources = self.cli_ctx.config.get("extension", "dev_sources", None)
        settings = ("AZURE_CORE_", "AZURE_CLOUD_", "AZURE_DEFAULTS_")
        for name in [n for n in os.environ if n.startswith(settings) or n.upper().endswith("_PROXY")]:
            del os.environ[name]
        os.environ.update(
            AZURE_CONFIG_DIR=playback_config_dir(self.cli_ctx.config.config_dir),
            AZURE_CORE_OUTPUT="json",
            AZURE_CORE_COLLECT_TELEMETRY="false",
            AZURE_CORE_NO_COLOR="true",
        )
        if dev_sources:
            os.environ["AZURE_EXTENSION_DEV_SOURCES"] = dev_sources
        self.cli_ctx = get_dummy_cli()  # on the fresh config dir: the public cloud, with its API profile
        self.assertEqual(self.cli_ctx.cloud.name, AZURE_PUBLIC_CLOUD.name)

    def _names(self):
        if self.is_live:
            names = {key: os.environ[ENV[key]] for key in ENV}
            mhsm, storage = self.cli_ctx.cloud.suffixes.mhsm_dns, self.cli_ctx.cloud.suffixes.storage_endpoint
            subscription = self.get_subscription_id()
        else:
            names = dict(PLAYBACK, sas_file=os.path.join(os.environ["AZURE_CONFIG_DIR"], "sas.txt"))
            mhsm, storage, subscription = PLAYBACK_MHSM_SUFFIX, PLAYBACK_STORAGE_SUFFIX, MOCKED_SUBSCRIPTION_ID
        names["hsm_url"] = f"https://{names['hsm']}{mhsm}"
        names["hsm_id"] = (
            f"/subscriptions/{subscription}/resourceGroups/{names['group']}/providers/Microsoft.KeyVault/"
            f"managedHSMs/{names['hsm']}"
        )
        names["container_uri"] = f"https://{names['account']}.blob.{storage}/{names['container']}"
        names["forged_sas"] = FORGED_SAS
        return names

    def exits_with(self, code, command):
        """Run `command`, which must fail, and assert az's exit code for it.

        The testsdk lets a SystemExit through (the extension's ExitWith, argparse's exit 2) except exit 3, which
        it swallows; knack has kept the code in cli_ctx.result either way."""
        self.cli_ctx.result = None
        try:
            self.cmd(command, expect_failure=True)
        except SystemExit as stop:
            exit_code = stop.code
        else:
            result = self.cli_ctx.result
            exit_code = result.exit_code if result is not None else 1
        self.assertEqual(exit_code, code, f"az {self._apply_kwargs(command)}")

    def sent_nothing(self):
        """Assert the test sent no request (live: none recorded; playback: none would have found a recording)."""
        self.assertEqual(len(self.cassette.data), 0)
