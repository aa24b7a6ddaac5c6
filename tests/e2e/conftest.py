"""The local stack as a pytest session fixture: started once, stopped by PID whatever happens."""

import json
import re
import shutil
import subprocess
import sys

import pytest

from tests.stack.launcher import Stack

# Fast jobs for the suite. The real service's headers keep their shape (a Retry-After on the 202, none on polls),
# but the 202 asks for 1 s instead of the real 10 s: az honours it, so each job would cost 10 s. test_faults.py
# pins the pacing with the real value.
TEST_EMULATOR_CONFIG = {"job_duration_s": 0.4, "retry_after_202": 1}


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    running = Stack(tmp_path_factory.mktemp("stack"))
    try:
        running.up()
        running.emulator("PUT", "defaults", TEST_EMULATOR_CONFIG)  # what a test's own "reset" returns to
        yield running
    finally:
        running.down()


@pytest.fixture
def hsm(stack, request):
    """A fresh emulator state and a unique HSM name for this test (the emulator creates it on first use)."""
    stack.emulator("POST", "reset")
    stack.emulator("PUT", "config", TEST_EMULATOR_CONFIG)
    name = "hsm" + format(abs(hash(request.node.nodeid)) % 10**8, "08d")
    return name


# The body-less read the extension sends before every job start so that the SDK caches the HSM's challenge
# (azext_hsmbackup._client_factory.cache_the_challenge): the status of a job that cannot exist.
WARM_UP_PATH = f"/backup/{'0' * 32}/pending"


def requests_to(stack, hsm_name=None):
    """What the emulator received (admin calls excluded), optionally for one HSM."""
    log = stack.emulator("GET", "requests")
    entries = log["requests"] if isinstance(log, dict) else log
    return [e for e in entries if hsm_name is None or e.get("hsm") == hsm_name]


# The line az prints on stderr before every command of a command group in preview (commands.py, is_preview), also
# before a flag is checked, and not under --only-show-errors. Tests that count stderr's lines count the others.
PREVIEW_LINE = re.compile(
    r"(WARNING: )?Command group 'hsm-backup( check)?' is in preview and under development\. "
    r"Reference and support levels: https://aka\.ms/CLI_refstatus"
)


def stderr_lines(result):
    """The non-blank lines of a run's stderr (a CompletedProcess or the text), without az's preview line."""
    text = result if isinstance(result, str) else result.stderr
    return [line for line in text.splitlines() if line.strip() and not PREVIEW_LINE.fullmatch(line.strip())]


def az_json(result):
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def accepted_backups(stack, hsm):
    """The backup jobs the HSM accepted (the SDK's bodiless challenge probe gets a 401 and starts nothing)."""
    return [
        r for r in requests_to(stack, hsm) if r["method"] == "POST" and r["path"] == "/backup" and r["status"] == 202
    ]


def job_starts(stack, hsm, since=0):
    """Every authorised request that asks the HSM to start a job (POST/PUT), whatever it was answered: a replayed
    start answered 409 counts too, although it starts nothing. `since`: skip that many log entries of the HSM."""
    log = requests_to(stack, hsm)[since:]
    return [r for r in log if r["auth_present"] and r["method"] in ("POST", "PUT")]


def create_with_identity(stack, hsm, *extra, container_uri=None, **kwargs):
    """`az hsm-backup create` of one HSM into a container (the stack's default one) with the HSM's identity."""
    return stack.az(
        "hsm-backup",
        "create",
        "--hsm-name",
        hsm,
        "--storage-container-uri",
        container_uri or stack.container_uri(),
        "--mi",
        *extra,
        **kwargs,
    )


def pytest_collection_modifyitems(items):
    """The tests of one az release of the version matrix run on one worker, which installs the extension once."""
    for item in items:
        version = getattr(getattr(item, "callspec", None), "params", {}).get("host")
        if version:
            item.add_marker(pytest.mark.xdist_group(f"az{version}"))


# What setup.py reads: the package, and the users' page and history for the long description.
WHEEL_SOURCES = ("setup.py", "setup.cfg", "HISTORY.rst", "docs/extension.md", "azext_hsmbackup")


SETUP_VERSION = re.compile(r'^VERSION = "([^"]+)"$', re.MULTILINE)


def source_version():
    """The extension's version, as setup.py sets it."""
    from tests.stack.launcher import ROOT

    (version,) = SETUP_VERSION.findall((ROOT / "setup.py").read_text(encoding="utf-8"))
    return version


def build_wheel(work_dir, version=None):
    """The extension's wheel, built from a copy of its sources in work_dir: a build in the checkout itself writes
    build/ and *.egg-info there, and two workers building at once would trip over each other's files. With
    `version`, the copy's setup.py says that version (a release after this one, for `az extension update`)."""
    from tests.stack.launcher import ROOT

    source = work_dir / "source"
    for name in WHEEL_SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    if version:
        setup_py = source / "setup.py"
        text, count = SETUP_VERSION.subn(f'VERSION = "{version}"', setup_py.read_text(encoding="utf-8"))
        assert count == 1, "setup.py sets VERSION once"
        setup_py.write_text(text, encoding="utf-8")
    dist = work_dir / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", dist, source],
        check=True,
        cwd=work_dir,
        capture_output=True,
    )
    (wheel,) = dist.glob("hsmbackup-*.whl")
    return wheel
