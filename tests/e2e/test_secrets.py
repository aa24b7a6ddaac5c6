"""A SAS token or access token never shows: not in output, errors, --debug traces, nor files az leaves behind."""

import json
import re
from datetime import datetime, timedelta, timezone

import pytest

from tests.e2e.conftest import az_json, requests_to

# The only files allowed to hold an access token: az's own MSAL token cache (that is its job).
TOKEN_CACHE_FILES = {"msal_token_cache.json", "msal_token_cache.bin", "msal_http_cache.bin"}


def secrets_in(stack, config_dir):
    """The access tokens az holds for this config dir (from its MSAL cache), to look for everywhere else."""
    cache = config_dir / "msal_token_cache.json"
    if not cache.exists():
        return []
    return [entry["secret"] for entry in json.loads(cache.read_text()).get("AccessToken", {}).values()]


def assert_nowhere(result, config_dir, secrets, allow_command_line=False):
    for secret in secrets:
        for stream in (result.stdout, result.stderr):
            lines = [line for line in stream.splitlines() if secret in line]
            if allow_command_line:  # az itself echoes argv under --debug before any extension code runs
                lines = [line for line in lines if "Command arguments:" not in line]
            assert not lines, lines[:3]
        for path in config_dir.rglob("*"):
            if path.is_file() and path.name not in TOKEN_CACHE_FILES:
                assert secret not in path.read_text(errors="replace"), path


def sas_in_file(stack, config_dir, **kwargs):
    """A distinctive SAS written to a file beside the config dir (how a careful user passes it): (sas, sig, path)."""
    sas, sig = distinctive_sas(stack, **kwargs)
    path = config_dir.with_suffix(".sas")
    path.write_text(sas)
    return sas, sig, path


def distinctive_sas(stack, **kwargs):
    sas = stack.mint_sas(**kwargs)
    return sas, re.search(r"sig=([^&]+)", sas).group(1)


CASES = {
    "success": [],
    "success-table": ["-o", "table"],
    "success-tsv": ["-o", "tsv"],
    "success-debug": ["--debug"],
    "success-verbose": ["--verbose"],
    "no-wait": ["--no-wait"],
    "no-wait-debug": ["--no-wait", "--debug"],
    "what-if": ["--what-if"],
    "what-if-debug": ["--what-if", "--debug"],
}


@pytest.mark.parametrize("extra", CASES.values(), ids=CASES.keys())
def test_sas_from_file_never_shows(stack, hsm, extra):
    config_dir = stack.fresh_config_dir(f"secrets-{hsm}")
    sas, sig, sas_file = sas_in_file(stack, config_dir)
    result = stack.az(
        "hsm-backup",
        "create",
        "--hsm-name",
        hsm,
        "--storage-container-uri",
        stack.container_uri(),
        "--sas-token",
        f"@{sas_file}",
        *extra,
        config_dir=config_dir,
    )
    assert result.returncode == 0, result.stderr
    assert_nowhere(result, config_dir, [sas, sig, *secrets_in(stack, config_dir)])
    if "--debug" in extra and "--what-if" not in extra:
        assert "/backup" in result.stderr, "the debug trace should still show the request"
    if "--what-if" not in extra:
        assert sas not in json.dumps(requests_to(stack, hsm)) and sig not in json.dumps(requests_to(stack, hsm))


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
def test_sas_never_shows_when_the_job_fails(stack, hsm, debug):
    config_dir = stack.fresh_config_dir(f"secrets-fail-{hsm}")
    sas, sig = distinctive_sas(stack, permissions="rlcd")  # no write: storage refuses, the job fails
    forged = re.sub(r"sp=[a-z]+", "sp=crdw", sas)  # looks right to the client; the signature no longer matches
    result = stack.az(
        "hsm-backup",
        "create",
        "--hsm-name",
        hsm,
        "--storage-container-uri",
        stack.container_uri(),
        "--sas-token",
        "-",
        *(["--debug"] if debug else []),
        input=forged,
        config_dir=config_dir,
    )
    assert result.returncode == 4, result.stderr
    assert_nowhere(result, config_dir, [forged, sig, *secrets_in(stack, config_dir)])


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
def test_sas_never_shows_in_validation_errors(stack, hsm, debug):
    config_dir = stack.fresh_config_dir(f"secrets-bad-{hsm}")
    sas, sig, sas_file = sas_in_file(stack, config_dir, expiry=datetime.now(timezone.utc) - timedelta(hours=1))
    result = stack.az(
        "hsm-backup",
        "create",
        "--hsm-name",
        hsm,
        "--storage-container-uri",
        stack.container_uri(),
        "--sas-token",
        f"@{sas_file}",
        *(["--debug"] if debug else []),
        config_dir=config_dir,
    )
    assert result.returncode == 2 and "expired" in result.stderr
    assert_nowhere(result, config_dir, [sas, sig])


def test_inline_sas_under_debug_shows_only_in_azs_own_argv_line(stack, hsm):
    config_dir = stack.fresh_config_dir(f"secrets-inline-{hsm}")
    sas, sig = distinctive_sas(stack)
    result = stack.az(
        "hsm-backup",
        "create",
        "--hsm-name",
        hsm,
        "--storage-container-uri",
        stack.container_uri(),
        "--sas-token",
        sas,
        "--debug",
        config_dir=config_dir,
    )
    assert result.returncode == 0, result.stderr
    assert_nowhere(result, config_dir, [sas, sig], allow_command_line=True)


def test_access_token_payload_never_printed_under_debug(stack, hsm):
    config_dir = stack.fresh_config_dir(f"secrets-token-{hsm}")
    result = stack.az(
        "hsm-backup",
        "create",
        "--hsm-name",
        hsm,
        "--storage-container-uri",
        stack.container_uri(),
        "--mi",
        "--debug",
        config_dir=config_dir,
    )
    assert result.returncode == 0, result.stderr
    tokens = secrets_in(stack, config_dir)
    assert tokens, "az should have cached the HSM token it used"
    signatures = [t.rsplit(".", 1)[-1] for t in tokens]
    bodies = [t.split(".")[1] for t in tokens]
    assert_nowhere(result, config_dir, tokens + signatures + bodies)


COMMANDS = {
    "create": lambda s, h, f: ["hsm-backup", "create", "--hsm-name", h, "--storage-container-uri", s.container_uri()],
    "check backup": lambda s, h, f: [
        "hsm-backup",
        "check",
        "backup",
        "--hsm-name",
        h,
        "--storage-container-uri",
        s.container_uri(),
    ],
    "restore": lambda s, h, f: ["hsm-backup", "restore", "--hsm-name", h, "--folder-url", f, "--yes"],
    "check restore": lambda s, h, f: ["hsm-backup", "check", "restore", "--hsm-name", h, "--folder-url", f],
    "list": lambda s, h, f: ["hsm-backup", "list", "--storage-container-uri", s.container_uri()],
    "delete": lambda s, h, f: [
        "hsm-backup",
        "delete",
        "--storage-container-uri",
        s.container_uri(),
        "--backup-folder",
        f.rsplit("/", 1)[1],
        "--yes",
    ],
    "prune": lambda s, h, f: [
        "hsm-backup",
        "prune",
        "--storage-container-uri",
        s.container_uri(),
        "--keep",
        "1",
        "--hsm-name",
        h,
        "--yes",
    ],
}


@pytest.mark.parametrize("command", COMMANDS, ids=COMMANDS.keys())
def test_every_command_keeps_the_sas_out_of_debug_output_and_files(stack, hsm, command):
    folder_url = az_json(
        stack.az("hsm-backup", "create", "--hsm-name", hsm, "--storage-container-uri", stack.container_uri(), "--mi")
    )["folderUrl"]
    config_dir = stack.fresh_config_dir(f"secrets-cmd-{hsm}-{command.replace(' ', '-')}")
    sas, sig, sas_file = sas_in_file(stack, config_dir)
    result = stack.az(
        *COMMANDS[command](stack, hsm, folder_url), "--sas-token", f"@{sas_file}", "--debug", config_dir=config_dir
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert_nowhere(result, config_dir, [sas, sig, *secrets_in(stack, config_dir)])
