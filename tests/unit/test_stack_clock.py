"""The local stack's clock knob, piece by piece, without a running stack: bounds, env, caches, hooks, token checks."""

import base64
import datetime as dt
import json
import os
import shutil
import stat
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from cryptography import x509

from tests.mhsm_emulator import auth
from tests.mhsm_emulator import clock as emulator_clock
from tests.mhsm_emulator import config as cfg
from tests.mhsm_emulator.jobs import Job
from tests.mhsm_emulator.operations import folder_name
from tests.stack import clock
from tests.stack import constants as C
from tests.stack.launcher import Stack
from tests.stack.pki import make_pki
from tests.stack.signin import SignIn, decode_jwt, make_jwt

DAY = 86400

# ---- bounds -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [timedelta(0), timedelta(days=30), -timedelta(days=30), timedelta(hours=-5)])
def test_offsets_within_30_days_are_taken_as_seconds(offset):
    assert clock.offset_seconds(offset) == offset.total_seconds()


@pytest.mark.parametrize("offset", [timedelta(days=30, seconds=1), -timedelta(days=30, seconds=1), timedelta(999)])
def test_offsets_beyond_30_days_are_refused(offset):
    with pytest.raises(ValueError, match="30 days"):
        clock.offset_seconds(offset)


@pytest.mark.parametrize("offset", [3, 3.0, "1d", None])
def test_an_offset_must_be_a_timedelta(offset):
    with pytest.raises(TypeError):
        clock.offset_seconds(offset)


@pytest.mark.parametrize("value", [True, "60", float("nan"), float("inf"), 30 * DAY + 1, -30 * DAY - 1, None])
def test_the_knob_of_the_services_takes_only_seconds_within_bounds(value):
    with pytest.raises(ValueError):
        clock.check_offset_s(value)
    with pytest.raises(ValueError):
        cfg.merge(cfg.defaults(), {"clock_offset_s": value})
    with pytest.raises(ValueError):
        SignIn(os.devnull, 3600).update({"clock_offset_s": value})


def test_the_knob_of_the_services_is_zero_until_set():
    assert cfg.defaults()["clock_offset_s"] == 0
    assert cfg.merge(cfg.defaults(), {"clock_offset_s": -3 * DAY})["clock_offset_s"] == -3 * DAY
    assert SignIn(os.devnull, 3600).update({"clock_offset_s": 2 * DAY})["clock_offset_s"] == 2 * DAY


def test_set_clock_out_of_bounds_changes_nothing(tmp_path):
    stack = Stack(tmp_path)
    with pytest.raises(ValueError):
        stack.set_clock(timedelta(days=31))
    with pytest.raises(TypeError):
        stack.set_clock(86400)
    assert stack.clock_offset == timedelta(0)
    assert not (tmp_path / clock.CLOCK_FILE).exists() and not (tmp_path / "stack.json").exists()


# ---- what the stack tells a test and an az process ----------------------------------------------------------------


def test_now_and_env_follow_the_offset_in_the_state(tmp_path):
    stack = Stack(tmp_path)
    plain = stack.env()
    assert clock.ENV_OFFSET not in plain and plain.get("PYTHONPATH") == os.environ.get("PYTHONPATH")
    assert abs((stack.now() - dt.datetime.now(dt.timezone.utc)).total_seconds()) < 5

    stack.state["clock_offset_s"] = -2.5 * DAY
    assert stack.clock_offset == timedelta(days=-2.5)
    assert abs((stack.now() - dt.datetime.now(dt.timezone.utc)).total_seconds() + 2.5 * DAY) < 5
    assert stack.now().tzinfo is not None
    shifted = stack.env()
    assert shifted[clock.ENV_OFFSET] == repr(-2.5 * DAY)
    assert shifted["PYTHONPATH"].split(os.pathsep)[0] == str(clock.CLOCKSHIFT_DIR)
    assert clock.ENV_OFFSET not in stack.env(clock_shift=False)  # the services' own processes


def test_python_env_keeps_a_pythonpath_already_there():
    env = clock.python_env(60, {"PYTHONPATH": "/somewhere"})
    assert env["PYTHONPATH"] == os.pathsep.join([str(clock.CLOCKSHIFT_DIR), "/somewhere"])
    assert clock.python_env(0, {"PYTHONPATH": "/somewhere"}) == {}


def test_cached_access_tokens_and_the_http_cache_are_forgotten(tmp_path):
    config = tmp_path / "configs" / "one"
    config.mkdir(parents=True)
    cache = config / clock.MSAL_TOKEN_CACHE
    kept = {"Account": {"a": {"x": 1}}, "RefreshToken": {"r": {"secret": "rt"}}}
    cache.write_text(json.dumps({"AccessToken": {"k": {"secret": "at", "expires_on": "1"}}, **kept}))
    cache.chmod(0o600)
    (config / clock.MSAL_HTTP_CACHE).write_bytes(b"pickled")
    (tmp_path / clock.MSAL_TOKEN_CACHE).write_text("{}")  # nothing to drop: left as it is

    changed = clock.forget_cached_tokens(tmp_path)

    assert changed == [cache, config / clock.MSAL_HTTP_CACHE]
    assert json.loads(cache.read_text()) == {"AccessToken": {}, **kept}
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert not (config / clock.MSAL_HTTP_CACHE).exists()


# ---- the start-up hook of the az processes ----------------------------------------------------------------


def _python(tmp_path, offset, extra_path=()):
    code = "import time, datetime; print(time.time(), time.monotonic(), datetime.datetime.now().timestamp())"
    path = os.pathsep.join([str(clock.CLOCKSHIFT_DIR), *map(str, extra_path)])
    env = {**os.environ, "PYTHONPATH": path, clock.ENV_OFFSET: str(offset)}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=tmp_path)


@pytest.mark.parametrize("offset", [DAY, -3 * DAY])
def test_the_hook_moves_the_clock_of_a_python_process(tmp_path, offset):
    before_wall, before_mono = time.time(), time.monotonic()
    result = _python(tmp_path, offset)
    assert result.returncode == 0, result.stderr
    wall, mono, now = map(float, result.stdout.split())
    assert abs(wall - before_wall - offset) < 10 and abs(now - before_wall - offset) < 10
    assert 0 <= mono - before_mono < 10  # timeouts keep measuring real time


def _without_time_machine(tmp_path):
    fake = tmp_path / "fake"
    (fake / "time_machine").mkdir(parents=True)
    (fake / "time_machine" / "__init__.py").write_text("raise ImportError('no time_machine in this venv')\n")
    return fake


def test_the_hook_refuses_to_run_without_time_machine(tmp_path):
    result = _python(tmp_path, DAY, [_without_time_machine(tmp_path)])
    assert result.returncode == 70
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "refusing to run" in result.stderr


def test_with_offset_zero_the_hook_does_nothing_even_without_time_machine(tmp_path):
    before = time.time()
    result = _python(tmp_path, 0, [_without_time_machine(tmp_path)])
    assert result.returncode == 0, result.stderr
    assert abs(float(result.stdout.split()[0]) - before) < 10


# ---- Azurite's preload --------------------------------------------------------------------------------------


def test_the_node_preload_shifts_dates_and_follows_the_file(tmp_path):
    node = shutil.which("node")
    assert node, "node is needed by Azurite (make setup)"
    offset_file = tmp_path / clock.CLOCK_FILE
    clock.write_offset_file(offset_file, 2 * DAY)
    script = """
        const out = [Date.now(), new Date().getTime(), Date.parse(Date()), new Date(0).getTime(),
                     new Date(2020, 0, 1) instanceof Date, Date.UTC(2020, 0, 1)];
        require("fs").renameSync(process.argv[1], process.env.HSMBACKUP_CLOCK_FILE);
        out.push(Date.now());
        console.log(JSON.stringify(out));
    """
    (tmp_path / "next").write_text(f"{-DAY}\n")
    env = clock.node_env(offset_file, dict(os.environ))
    before = time.time() * 1000
    result = subprocess.run(
        [node, "-e", script, str(tmp_path / "next")], env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    now, new, called, epoch, is_date, utc, after_change = json.loads(result.stdout)
    for value in (now, new, called):
        assert abs(value - before - 2 * DAY * 1000) < 10_000
    assert epoch == 0 and is_date and utc == 1577836800000  # dates of a given time are left alone
    assert abs(after_change - before + DAY * 1000) < 10_000  # the file changed: the offset with it


# ---- the emulator and the sign-in stand-in ----------------------------------------------------------------------


def _token(**claims):
    part = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"Bearer {part}.{part}.sig"


def test_the_emulator_refuses_a_token_from_its_future_with_five_minutes_of_leeway():
    config = cfg.defaults()
    now = 2_000_000_000
    base = {"aud": config["resource"], "tid": config["tenant"], "exp": now + 3600}
    assert auth.check(_token(**base, nbf=now + 290), config, now=now) == (True, "ok")
    assert auth.check(_token(**base, nbf=now + 310), config, now=now) == (False, "not-yet-valid")
    assert auth.check(_token(**base), config, now=now) == (True, "ok")  # no nbf: nothing to check


def test_the_emulators_jobs_and_folders_carry_its_shifted_time():
    try:
        emulator_clock.set_offset(3 * DAY)
        job = Job("hsm1", "backup", 1.0, 0, {})
        assert abs(job.start - time.time() - 3 * DAY) < 5
        assert abs(emulator_clock.now().timestamp() - time.time() - 3 * DAY) < 5
        emulator_clock.set_offset(0)  # the clock moves while the job runs: the job keeps its own
        assert abs(job.now() - job.start) < 5
        shifted = dt.datetime.now(dt.timezone.utc) + timedelta(days=3)
        assert folder_name("hsm1", job.start).startswith(f"mhsm-hsm1-{shifted:%Y%m%d%H}")
    finally:
        emulator_clock.set_offset(0)


def test_the_sign_in_stand_in_mints_tokens_in_its_shifted_time():
    state = SignIn(os.devnull, 3600)
    state.update({"clock_offset_s": -DAY})
    claims = decode_jwt(make_jwt(C.MHSM_RESOURCE, C.SP_OBJECT_ID, C.SP_APP_ID, 3600, now=state.now()))
    assert abs(claims["iat"] - time.time() + DAY) < 5
    assert claims["nbf"] < claims["iat"] < claims["exp"] == claims["iat"] + 3600


# ---- the PKI ------------------------------------------------------------------------------------------------------


def test_the_certificates_are_valid_across_the_whole_window_of_the_clock(tmp_path):
    paths = make_pki(tmp_path)
    now = dt.datetime.now(dt.timezone.utc)
    for name in ("ca", "cert"):
        cert = x509.load_pem_x509_certificate(paths[name].read_bytes())
        assert cert.not_valid_before_utc <= now - clock.MAX_OFFSET - timedelta(minutes=30)
        assert cert.not_valid_after_utc >= now + clock.MAX_OFFSET + timedelta(days=7)
