"""The az glue of the parameter sets (_validators.py): the namespace in, the model's Target out, a Problem as the az
error of the same meaning and exit 2 before any call; stdin, the hidden prompt, the plain flags."""

import argparse
import io
import json
import math
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from unittest import mock

import pytest
from azure.cli.core import azclierror

from azext_hsmbackup import _validators as v
from azext_hsmbackup._validators import (
    AUTH_ARGS,
    HSM_ARGS,
    STORAGE_ARGS,
    check_options,
    read_sas_token,
)
from azext_hsmbackup._validators import check_prune_flags as _check_prune
from azext_hsmbackup.errors import ExitWith
from azext_hsmbackup.model.problems import InvalidValue, MissingValue
from azext_hsmbackup.model.target import (
    resolve_job,
    resolve_restore_target,
    resolve_storage_target,
    resolve_target,
)
from tests.unit.fakes import FOLDER, MHSM, STORAGE, refused


def prune_namespace(**flags):
    return SimpleNamespace(**{"keep": None, "older_than": None, "hsm_filter": None, **flags})


@pytest.mark.parametrize(
    "flags",
    [
        {},
        {"keep": 0},
        {"keep": -1},
        {"older_than": -1.0},
        {"older_than": math.nan},
        {"older_than": math.inf},
        {"older_than": 1e300},
        {"keep": 2, "hsm_filter": ""},
    ],
)
def test_prune_validator_exits_2_before_resolving_anything(flags):
    resolved = []
    validate = v.validator(lambda **flags: resolved.append(flags), check=v.check_prune_flags)
    with pytest.raises(SystemExit) as caught:
        validate(None, prune_namespace(**flags))
    assert caught.value.code == 2 and resolved == []
    assert "\n" not in caught.value.error.error_msg


def test_prune_without_a_rule_says_which_flags_to_give():
    with pytest.raises(MissingValue, match=r"--keep N .*--older-than DAYS"):
        v.check_prune_flags(prune_namespace())


def test_restore_validator_refuses_an_empty_key_name_before_resolving():
    resolved = []
    validate = v.validator(lambda **flags: resolved.append(flags) or (None, []), check=v.check_restore_flags)
    with pytest.raises(SystemExit) as caught:
        validate(None, SimpleNamespace(key_name=""))
    assert caught.value.code == 2 and resolved == []
    cmd = SimpleNamespace(
        cli_ctx=SimpleNamespace(cloud=SimpleNamespace(suffixes=SimpleNamespace(mhsm_dns=None, storage_endpoint=None)))
    )
    validate(cmd, SimpleNamespace())  # check restore has no --key-name
    assert len(resolved) == 1


@pytest.mark.parametrize(
    "value", ["0", "-1", "65", "1.5", "nan", "inf", "1e9", "", "  ", "abc", "99999999999999999999"]
)
def test_max_parallel_takes_a_whole_number_from_1_to_64(value):
    with pytest.raises(InvalidValue) as info:
        v.check_options(argparse.Namespace(max_parallel=value))
    assert info.value.error_msg.startswith("--max-parallel")


def test_max_parallel_bounds_are_accepted():
    for value, expected in (("1", 1), (" 64 ", 64), (5, 5)):
        namespace = argparse.Namespace(max_parallel=value)
        v.check_options(namespace)
        assert namespace.max_parallel == expected


def test_stdin_is_read_once_for_one_flag():
    namespace = argparse.Namespace(hsm_object="-", sas_token=None)
    with mock.patch("sys.stdin", io.StringIO('[{"a": 1}]')):
        v.read_stdin_flags(namespace)
    assert namespace.hsm_object == '[{"a": 1}]'
    with pytest.raises(azclierror.MutuallyExclusiveArgumentError) as info:  # the az glue's own line
        v.read_stdin_flags(argparse.Namespace(hsm_object="-", sas_token="-"))
    assert "--hsm-object - and --sas-token -" in info.value.error_msg
    with mock.patch("sys.stdin", io.StringIO(" \n")), pytest.raises(azclierror.InvalidArgumentValueError) as info:
        v.read_stdin_flags(argparse.Namespace(jobs="-"))
    assert info.value.error_msg.startswith("--jobs - read nothing")
    untouched = argparse.Namespace(sas_token="-", jobs=None)
    v.read_stdin_flags(untouched)  # --sas-token - is read_sas_token's: one line, stripped
    assert untouched.sas_token == "-"


CONTAINER = "https://acct.blob.core.windows.net/backups"


JOB = "0123456789abcdef0123456789ABCDEF"


# The command validators are built at import time; building them again here, the same way, lets a mutation run
# reach the body of `validator` (a mutant of it would otherwise never be called).
def validate_job(cmd, ns):
    return v.validator(resolve_job, *HSM_ARGS, reads=("job_id",))(cmd, ns)


def validate_restore(cmd, ns):
    return v.validator(resolve_restore_target, *HSM_ARGS, "folder_url", "backup_folder", *STORAGE_ARGS, *AUTH_ARGS)(
        cmd, ns
    )


def validate_list(cmd, ns):
    return v.validator(resolve_storage_target, *STORAGE_ARGS, "sas_token", needed_permissions="l")(cmd, ns)


class Cloud:
    class suffixes:  # shaped like azure-cli-core's Cloud.suffixes
        mhsm_dns = MHSM
        storage_endpoint = STORAGE


CMD = SimpleNamespace(cli_ctx=SimpleNamespace(cloud=Cloud))


def namespace(**kwargs):
    base = {name: None for name in ("hsm_name", "hsm_object", "hsm_id", "storage_account_name")}
    base.update(storage_container_name=None, storage_container_uri=None, sas_token=None)
    return SimpleNamespace(**{**base, **kwargs})


def test_the_validator_resolves_the_target_with_the_clouds_suffixes():
    ns = namespace(hsm_name="myhsm", folder_url=None, backup_folder=FOLDER, storage_account_name="acct")
    ns.storage_container_name, ns.use_managed_identity, ns.mint_sas = "backups", True, None
    validate_restore(CMD, ns)
    assert (ns.target.hsm_url, ns.target.container_uri, ns.target.folder) == (
        "https://myhsm.managedhsm.azure.net",
        CONTAINER,
        FOLDER,
    )


def test_bad_input_leaves_with_exit_2_before_any_call(caplog):
    ns = namespace(hsm_name="myhsm", job_id="nope")
    with pytest.raises(ExitWith) as info:
        validate_job(CMD, ns)
    assert info.value.code == 2 and not hasattr(ns, "target")
    assert any(m.startswith("--job-id ") for m in caplog.messages)


@pytest.mark.parametrize("interval", [0, -1])
def test_a_polling_interval_that_is_not_positive_is_bad_input(interval, caplog):
    ns = namespace(hsm_name="myhsm", job_id=JOB, polling_interval=interval)
    with pytest.raises(ExitWith) as info:
        validate_job(CMD, ns)
    assert info.value.code == 2 and any(m.startswith("--polling-interval") for m in caplog.messages)


def test_a_small_positive_polling_interval_is_accepted():
    ns = namespace(hsm_name="myhsm", job_id=JOB, polling_interval=0.1)
    validate_job(CMD, ns)
    assert ns.target.hsm_name == "myhsm"


def test_the_validators_warnings_are_logged_and_the_command_goes_on(caplog):
    soon = (datetime.now(timezone.utc) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ns = namespace(hsm_name="myhsm", folder_url=f"{CONTAINER}/{FOLDER}", backup_folder=None)
    ns.sas_token, ns.use_managed_identity, ns.mint_sas = f"sp=rl&se={soon}&sig=x", None, None
    validate_restore(CMD, ns)
    assert ns.target.sas_token == f"sp=rl&se={soon}&sig=x"
    assert [r.levelname for r in caplog.records if r.getMessage().startswith("--sas-token expires")] == ["WARNING"]


def test_a_sas_given_as_dash_is_read_from_stdin_stripped(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("  sp=l&sig=x \nignored\n"))
    assert read_sas_token("-") == "sp=l&sig=x"


def test_a_sas_given_bare_without_a_terminal_is_refused_naming_the_safe_forms(monkeypatch):
    from knack.prompting import NoTTYException

    from azext_hsmbackup._validators import PROMPT_FOR_SAS

    def no_tty(_):
        raise NoTTYException()

    monkeypatch.setattr("knack.prompting.prompt_pass", no_tty)
    message = refused(azclierror.RequiredArgumentMissingError, read_sas_token, PROMPT_FOR_SAS)  # the az glue's line
    assert message.startswith("--sas-token") and "@file" in message and message.endswith("--sas-token -.")


def test_a_sas_given_bare_is_asked_for(monkeypatch):
    from azext_hsmbackup._validators import PROMPT_FOR_SAS

    monkeypatch.setattr("knack.prompting.prompt_pass", lambda prompt: f"typed after {prompt!r}")
    assert read_sas_token(PROMPT_FOR_SAS) == "typed after 'SAS token: '"


def test_any_other_value_is_the_token_itself():
    assert read_sas_token("sp=l&sig=x") == "sp=l&sig=x" and read_sas_token(None) is None


HSM_OBJECT = {
    "type": "Microsoft.KeyVault/managedHSMs",
    "name": "myhsm",
    "properties": {"hsmUri": "https://MyHsm.managedhsm.azure.net/"},
}


def test_the_validator_uses_the_clouds_suffixes_only_for_names():
    ns = namespace(hsm_object=json.dumps({**HSM_OBJECT, "properties": {}}), job_id=JOB)
    validate_job(CMD, ns)
    assert ns.target.hsm_url == "https://myhsm.managedhsm.azure.net", "an HSM object's name needs the cloud's suffix"
    # the HSM flags (c.extra) are resolved and removed; the job id, which show and wait take, stays
    assert ns.job_id == JOB.lower() and not any(hasattr(ns, name) for name in HSM_ARGS)
    ids = namespace(hsm_id="https://x.managedhsm.azure.net", job_id=JOB)
    validate_job(CMD, ids)
    assert ids.target.hsm_url == "https://x.managedhsm.azure.net"


def test_the_validator_passes_fixed_arguments_and_checks_the_storage_flags():
    ns = namespace(storage_account_name="acct", storage_container_name="backups", sas_token="sp=l&sig=abcd")
    validate_list(CMD, ns)
    assert (ns.target.container_uri, ns.target.sas_token) == (CONTAINER, "sp=l&sig=abcd")
    short = namespace(storage_account_name="acct", storage_container_name="backups", sas_token="sp=r&sig=abcd")
    with pytest.raises(ExitWith) as info:
        validate_list(CMD, short)
    assert info.value.code == 2


def test_the_validators_built_at_import_are_the_same_as_built_here():
    from azext_hsmbackup import _validators

    for real, ours in ((_validators.validate_show, validate_job), (v.validate_list, validate_list)):
        a, b = (namespace(hsm_name="myhsm", job_id=JOB, storage_container_uri=CONTAINER) for _ in range(2))
        real(CMD, a)
        ours(CMD, b)
        assert vars(a.target) == vars(b.target)


def test_a_bad_input_in_the_validator_leaves_with_exit_2_naming_the_flag():
    ns = namespace(hsm_name="myhsm", job_id=JOB, polling_interval=-5)
    with pytest.raises(ExitWith) as info:
        validate_job(CMD, ns)
    assert info.value.code == 2 and info.value.error.error_msg.startswith("--polling-interval ")


def test_a_sas_read_from_stdin_in_the_validator_is_the_token_checked(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("sp=l&sig=abcd\n"))
    ns = namespace(storage_container_uri=CONTAINER, sas_token="-")
    validate_list(CMD, ns)
    assert ns.target.sas_token == "sp=l&sig=abcd" and not hasattr(ns, "sas_token")  # resolved, then removed


def test_a_warning_is_logged_by_the_validators_logger(caplog):
    soon = (datetime.now(timezone.utc) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ns = namespace(hsm_name="myhsm", folder_url=f"{CONTAINER}/{FOLDER}", backup_folder=None)
    ns.sas_token, ns.use_managed_identity, ns.mint_sas = f"sp=rl&se={soon}&sig=x", None, None
    validate_restore(CMD, ns)
    assert [r.name for r in caplog.records if r.levelname == "WARNING"] == ["cli.azext_hsmbackup._validators"]


def test_a_validator_needs_only_the_arguments_of_its_command():
    bare = SimpleNamespace(hsm_id="https://x.managedhsm.azure.net", hsm_name=None, hsm_object=None, job_id=JOB)
    validate_job(CMD, bare)  # show/wait have no storage flags
    assert bare.target.hsm_url == "https://x.managedhsm.azure.net"
    listing = SimpleNamespace(
        storage_account_name="acct", storage_container_name="backups", storage_container_uri=None, sas_token=None
    )
    validate_list(CMD, listing)  # list has no HSM flags
    assert listing.target.container_uri == CONTAINER


def test_the_delete_validator_asks_for_delete_permission():
    validate_delete = v.validator(
        resolve_storage_target, *STORAGE_ARGS, "sas_token", "backup_folder", needed_permissions="ld"
    )
    ns = namespace(storage_container_uri=CONTAINER, sas_token="sp=l&sig=abcd", backup_folder=FOLDER)
    with pytest.raises(ExitWith) as info:
        validate_delete(CMD, ns)
    assert info.value.code == 2 and "'d'" in info.value.error.error_msg


def options(**kwargs):
    ns = SimpleNamespace(**kwargs)
    check_options(ns)
    return ns


def test_the_options_are_normalised_in_place():
    ns = options(api_version=" 7.6 ", polling_interval="2.5", timeout="30", use_managed_identity="FALSE", job_id=JOB)
    assert (ns.api_version, ns.polling_interval, ns.timeout) == ("7.6", 2.5, 30.0)
    assert ns.use_managed_identity is False and ns.job_id == JOB.lower()
    assert vars(options()) == {}, "a command without these flags is left alone"


@pytest.mark.parametrize(
    ("given", "line"),
    [
        (
            {"timeout": "0"},
            "--timeout '0' is out of range: give a number of seconds from 1 to 604800, e.g. --timeout 600.",
        ),
        (
            {"polling_interval": "x"},
            "--polling-interval 'x' is not a number: give a number of seconds from 0.1 to 3600, "
            "e.g. --polling-interval 5.",
        ),
    ],
)
def test_a_bad_number_option_names_its_flag_range_and_example(given, line):
    assert refused(InvalidValue, options, **given) == line


@pytest.mark.parametrize(
    ("given", "flag"),
    [
        ({"api_version": "7"}, "--api-version '7' "),
        ({"use_managed_identity": "maybe"}, "--use-user-managed-identity 'maybe' "),
        ({"job_id": "nope"}, "--job-id 'nope' "),
    ],
)
def test_a_bad_option_names_its_flag_and_value(given, flag):
    assert refused(InvalidValue, options, **given).startswith(flag)


def test_prune_normalises_each_rule_and_needs_only_one():
    ns = SimpleNamespace(hsm_filter=None, keep="7", older_than=None)
    _check_prune(ns)
    assert ns.keep == 7 and ns.older_than is None
    ns = SimpleNamespace(hsm_filter=None, keep=None, older_than="30")
    _check_prune(ns)
    assert ns.keep is None and ns.older_than == 30.0


def test_a_checked_validator_passes_the_namespace_to_its_check_and_resolves_after_it():
    seen = []
    ns = SimpleNamespace(x=1)

    def resolve(**flags):
        seen.append("resolved")
        return None, []

    v.validator(resolve, check=seen.append)(CMD, ns)
    assert seen == [ns, "resolved"]


def test_a_sas_read_as_an_empty_line_names_the_flag(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))
    message = refused(azclierror.InvalidArgumentValueError, read_sas_token, "-")  # the az glue's line
    assert message.startswith("--sas-token - ") and "--sas-token @token.txt" in message


def test_max_parallel_out_of_range_word_for_word():
    assert refused(InvalidValue, options, max_parallel="0") == (
        "--max-parallel '0' is out of range: give a whole number of jobs at once from 1 to 64, e.g. --max-parallel 5."
    )


def test_one_job_id_is_one_value_and_several_are_each_checked():
    assert options(job_id=[JOB]).job_id == JOB.lower()
    assert options(job_id=[JOB, "1" * 32]).job_id == [JOB.lower(), "1" * 32]
    assert refused(InvalidValue, options, job_id=[JOB, "nope"]).startswith("--job-id 'nope' ")


def test_a_problem_becomes_the_az_error_of_its_kind_with_its_fix():
    error = v.az_error(MissingValue("No storage access given.", "pass --sas-token"))
    assert isinstance(error, azclierror.RequiredArgumentMissingError)
    assert (error.error_msg, error.recommendations) == ("No storage access given.", ["pass --sas-token"])


def test_an_az_error_in_the_validator_leaves_with_exit_2_and_its_line(monkeypatch, caplog):
    from knack.prompting import NoTTYException

    def no_tty(_):
        raise NoTTYException()

    monkeypatch.setattr("knack.prompting.prompt_pass", no_tty)
    ns = namespace(
        hsm_name="myhsm", storage_container_uri=CONTAINER, sas_token=v.PROMPT_FOR_SAS, use_managed_identity=None
    )
    with pytest.raises(ExitWith) as info:
        v.validate_create(CMD, ns)
    assert info.value.code == 2 and isinstance(info.value.error, azclierror.RequiredArgumentMissingError)
    assert info.value.error.error_msg.startswith("--sas-token") and not hasattr(ns, "target")


def test_the_validator_reads_an_hsm_object_from_stdin(monkeypatch):
    monkeypatch.setattr(
        "sys.stdin", io.StringIO(json.dumps({"name": "piped", "type": "Microsoft.KeyVault/managedHSMs"}))
    )
    ns = namespace(hsm_object="-", storage_container_uri=CONTAINER, use_managed_identity=True, mint_sas=None)
    v.validator(resolve_target, *v.HSM_ARGS, *v.STORAGE_ARGS, *v.AUTH_ARGS)(CMD, ns)  # built here: see above
    assert ns.target.hsm_url == "https://piped.managedhsm.azure.net"
