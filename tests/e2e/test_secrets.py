"""A SAS token or access token never shows: not in output, errors, --debug traces, nor files az leaves behind.

One generic scan looks for ANY `sig=` value that is not the mask, raw or URL-encoded, in stdout, stderr and every
file under the az config dir (except az's MSAL token cache, whose job is to hold tokens): it also catches a SAS the
extension minted itself, which the test never sees.
"""

import json
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import unquote

import pytest

from tests.e2e.conftest import az_json, create_with_identity, requests_to

# The only files allowed to hold an access token: az's own MSAL token cache (that is its job).
TOKEN_CACHE_FILES = {"msal_token_cache.json", "msal_token_cache.bin", "msal_http_cache.bin"}
MASKS = {"", "***", "%2A%2A%2A"}
# `sig=VALUE` or `sig%3DVALUE` (any case), and `'sig': ['VALUE']` as parse_qs output is printed.
_SIG_VALUE = re.compile(r"sig(?:=|%3D)([^&\s\"'<>\\]*)|[\"']sig[\"']\s*:\s*\[?\s*[\"']([^\"']*)", re.IGNORECASE)


def unmasked_signatures(text):
    """Every `sig=` value in `text` that is not the mask."""
    return [m.group(0) for m in _SIG_VALUE.finditer(text) if (m.group(1) or m.group(2) or "") not in MASKS]


def secrets_in(stack, config_dir):
    """The access tokens az holds for this config dir (from its MSAL cache), to look for everywhere else."""
    cache = config_dir / "msal_token_cache.json"
    if not cache.exists():
        return []
    return [entry["secret"] for entry in json.loads(cache.read_text()).get("AccessToken", {}).values()]


def signature_forms(sas):
    """The signature of a SAS the test knows, as given (URL-encoded), decoded, and decoded with a space for '+'."""
    sig = re.search(r"sig=([^&]+)", sas).group(1)
    return {sig, unquote(sig), unquote(sig).replace("+", " ")}


def assert_no_leak(result, config_dir, known=(), allow_command_line=False):
    """No unmasked `sig=` value (and none of the `known` secrets) in stdout, stderr or any file under the config dir.

    Returns the command log files read, so that a test can show the scan looked where az writes."""
    texts = {"stdout": result.stdout, "stderr": result.stderr}
    for path in config_dir.rglob("*"):
        if path.is_file() and path.name not in TOKEN_CACHE_FILES:
            texts[str(path)] = path.read_text(errors="replace")
    leaks = []
    for where, text in texts.items():
        for line in text.splitlines():
            if allow_command_line and "Command arguments:" in line:
                continue  # az itself echoes argv under --debug before any extension code runs
            found = unmasked_signatures(line) + [s for s in known if s and s in line]
            leaks += [(where, found, line[:300])] if found else []
    assert not leaks, leaks[:5]
    return [where for where in texts if "/commands/" in where]


def sas_in_file(stack, config_dir, **kwargs):
    """A distinctive SAS written to a file beside the config dir (how a careful user passes it): (sas, path)."""
    sas = stack.mint_sas(**kwargs)
    path = config_dir.with_suffix(".sas")
    path.write_text(sas)
    return sas, path


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
    sas, sas_file = sas_in_file(stack, config_dir)
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
    command_logs = assert_no_leak(result, config_dir, {*signature_forms(sas), *secrets_in(stack, config_dir)})
    assert command_logs, "az should have written its command log under the config dir"
    if "--debug" in extra and "--what-if" not in extra:
        assert '"token": "***"' in result.stderr, "the debug trace should show the request body, masked"
    if "--what-if" not in extra:
        assert not unmasked_signatures(json.dumps(requests_to(stack, hsm)))


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
def test_sas_never_shows_when_the_job_fails(stack, hsm, debug):
    config_dir = stack.fresh_config_dir(f"secrets-fail-{hsm}")
    sas = stack.mint_sas(permissions="rlcd")  # no write: storage refuses, the job fails
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
    assert_no_leak(result, config_dir, {*signature_forms(sas), *secrets_in(stack, config_dir)})


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
def test_sas_never_shows_in_validation_errors(stack, hsm, debug):
    config_dir = stack.fresh_config_dir(f"secrets-bad-{hsm}")
    sas, sas_file = sas_in_file(stack, config_dir, expiry=datetime.now(timezone.utc) - timedelta(hours=1))
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
    assert_no_leak(result, config_dir, signature_forms(sas))


def test_inline_sas_under_debug_shows_only_in_azs_own_argv_line(stack, hsm):
    config_dir = stack.fresh_config_dir(f"secrets-inline-{hsm}")
    sas = stack.mint_sas()
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
    assert "Command arguments:" in result.stderr and any(s in result.stderr for s in signature_forms(sas))
    assert_no_leak(result, config_dir, signature_forms(sas), allow_command_line=True)


def test_access_token_payload_never_printed_under_debug(stack, hsm):
    config_dir = stack.fresh_config_dir(f"secrets-token-{hsm}")
    result = create_with_identity(stack, hsm, "--debug", config_dir=config_dir)
    assert result.returncode == 0, result.stderr
    tokens = secrets_in(stack, config_dir)
    assert tokens, "az should have cached the HSM token it used"
    signatures = [t.rsplit(".", 1)[-1] for t in tokens]
    bodies = [t.split(".")[1] for t in tokens]
    assert_no_leak(result, config_dir, tokens + signatures + bodies)


COMMANDS = {
    "create": lambda s, h, f: ["create", "--hsm-name", h, "--storage-container-uri", s.container_uri()],
    "create several": lambda s, h, f: [
        "create",
        "--ids",
        *[s.hsm_url(f"{h}{i}") for i in ("", "-b", "-c")],
        "--storage-container-uri",
        s.container_uri(),
    ],
    "check backup": lambda s, h, f: ["check", "backup", "--hsm-name", h, "--storage-container-uri", s.container_uri()],
    "restore": lambda s, h, f: ["restore", "--hsm-name", h, "--folder-url", f, "--yes"],
    "check restore": lambda s, h, f: ["check", "restore", "--hsm-name", h, "--folder-url", f],
    "list": lambda s, h, f: ["list", "--storage-container-uri", s.container_uri()],
    "delete": lambda s, h, f: [
        "delete",
        "--storage-container-uri",
        s.container_uri(),
        "--backup-folder",
        f.rsplit("/", 1)[1],
        "--yes",
    ],
    "prune": lambda s, h, f: ["prune", "--storage-container-uri", s.container_uri(), "--keep", "1", "--hsm-name", h],
}
# Commands that run a job on the HSM send the SAS in the request body: the debug trace shows that body, masked.
JOB_COMMANDS = {"create", "create several", "check backup", "restore", "check restore"}


def _folder(stack, hsm):
    return az_json(create_with_identity(stack, hsm))["folderUrl"]


def _confirmed(command):
    return ["--yes"] if command == "prune" else []


@pytest.mark.parametrize("command", COMMANDS, ids=COMMANDS.keys())
def test_every_command_keeps_the_sas_out_of_debug_output_and_files(stack, hsm, command):
    folder_url = _folder(stack, hsm)
    config_dir = stack.fresh_config_dir(f"secrets-cmd-{hsm}-{command.replace(' ', '-')}")
    sas, sas_file = sas_in_file(stack, config_dir)
    result = stack.az(
        "hsm-backup",
        *COMMANDS[command](stack, hsm, folder_url),
        *_confirmed(command),
        "--sas-token",
        f"@{sas_file}",
        "--debug",
        config_dir=config_dir,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert_no_leak(result, config_dir, {*signature_forms(sas), *secrets_in(stack, config_dir)})


@pytest.mark.parametrize("command", COMMANDS, ids=COMMANDS.keys())
def test_a_sas_the_extension_mints_never_shows_under_debug(stack, hsm, command):
    """--mint-sas on the HSM's commands; list, delete and prune mint one by default without --sas-token."""
    folder_url = _folder(stack, hsm)
    config_dir = stack.fresh_config_dir(f"secrets-mint-{hsm}-{command.replace(' ', '-')}")
    mint = ["--mint-sas"] if command in JOB_COMMANDS else []
    result = stack.az(
        "hsm-backup",
        *COMMANDS[command](stack, hsm, folder_url),
        *_confirmed(command),
        *mint,
        "--debug",
        config_dir=config_dir,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert_no_leak(result, config_dir, secrets_in(stack, config_dir))
    assert "/.default" in result.stderr and "storage" in result.stderr, "a SAS was minted from the signed-in identity"
    if command in JOB_COMMANDS:
        assert '"token": "***"' in result.stderr, "the minted SAS went to the HSM in the body the trace shows, masked"
    if command == "create several":  # one SAS for every HSM: one user delegation key, three starts with the SAS
        assert result.stderr.count("comp=userdelegationkey") == 1, result.stderr.count("comp=userdelegationkey")
        assert result.stderr.count('"token": "***"') == 3


@pytest.fixture
def echoing_storage(stack):
    """The emulator's storage errors quote the job's SAS unmasked, as real storage errors can."""
    stack.emulator("PUT", "config", {"echo_sas_in_errors": True})
    yield
    stack.emulator("PUT", "config", {"echo_sas_in_errors": False})


def _echoed(stack, hsm):
    """The unmasked signatures the emulator put into its failed jobs' messages (proof the echo fired)."""
    jobs = [j for j in stack.emulator("GET", "jobs")["jobs"] if j["hsm"] == hsm and j["status"] == "Failed"]
    return [sig for j in jobs for sig in unmasked_signatures(j["error"]["message"])]


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
def test_a_service_error_that_echoes_a_given_sas_is_masked(stack, hsm, echoing_storage, debug):
    config_dir = stack.fresh_config_dir(f"secrets-echo-{hsm}")
    sas = stack.mint_sas(permissions="rlcd")
    forged = re.sub(r"sp=[a-z]+", "sp=crdw", sas)  # the job fails, and the error quotes it
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
    assert len(_echoed(stack, hsm)) == 2, "the emulator should have echoed the SAS (URL-encoded and decoded)"
    assert "AuthenticationFailed" in result.stderr and "sig=***" in result.stderr
    assert_no_leak(result, config_dir, {*signature_forms(sas), *secrets_in(stack, config_dir)})


ECHO_FAILURES = {
    "create": lambda s, h: ["create", "--hsm-name", h, "--storage-container-uri", s.container_uri("nosuchcontainer")],
    "restore": lambda s, h: [
        "restore",
        "--hsm-name",
        h,
        "--folder-url",
        s.container_uri() + "/mhsm-nosuchbackup-2020010100000000",
        "--yes",
    ],
}


@pytest.mark.parametrize("command", ECHO_FAILURES, ids=ECHO_FAILURES.keys())
def test_a_service_error_that_echoes_a_minted_sas_is_masked(stack, hsm, echoing_storage, command):
    config_dir = stack.fresh_config_dir(f"secrets-echo-mint-{hsm}-{command}")
    result = stack.az("hsm-backup", *ECHO_FAILURES[command](stack, hsm), "--mint-sas", "--debug", config_dir=config_dir)
    assert result.returncode == 4, result.stderr[-3000:]
    assert len(_echoed(stack, hsm)) == 2, "the emulator should have echoed the minted SAS"
    assert_no_leak(result, config_dir, secrets_in(stack, config_dir))
