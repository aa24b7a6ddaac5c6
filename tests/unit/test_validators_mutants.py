"""What the validators of restore, list/delete/prune and show/wait promise, held as behaviour (`make mutation` found
them held only by the Hypothesis property test, which it leaves out): what is refused, with which error class, and
which flag the line names; what is accepted, and what it resolves to. Wording beyond the flag is left free."""

import io
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from azure.cli.core.azclierror import (
    InvalidArgumentValueError,
    MutuallyExclusiveArgumentError,
    RequiredArgumentMissingError,
)

from azext_hsmbackup._validators import (
    check_folder_name,
    read_sas_token,
    resolve_job,
    resolve_restore_target,
    resolve_storage_target,
    split_folder_url,
    validate_job,
    validate_restore,
)
from azext_hsmbackup.errors import ExitWith

MHSM = ".managedhsm.azure.net"
STORAGE = "core.windows.net"
CONTAINER = "https://acct.blob.core.windows.net/backups"
FOLDER = "mhsm-myhsm-2026112812000000"
JOB = "0123456789abcdef0123456789ABCDEF"


def refused(error_class, call, *args, **kwargs):
    with pytest.raises(error_class) as info:
        call(*args, **kwargs)
    return info.value.error_msg


# ---- folders --------------------------------------------------------------------------------------------------


def test_a_folder_url_splits_into_container_and_folder():
    assert split_folder_url(f" {CONTAINER}/{FOLDER} ") == (CONTAINER, FOLDER)
    assert split_folder_url(f"{CONTAINER}/a/{FOLDER}") == (CONTAINER, f"a/{FOLDER}")


def test_a_path_style_folder_url_keeps_the_account_in_the_container():
    local = "https://127.0.0.1:10000/devstoreaccount1/backups"
    assert split_folder_url(f"{local}/{FOLDER}") == (local, FOLDER)


@pytest.mark.parametrize(
    "url",
    [None, "", CONTAINER, f"http://acct.blob.core.windows.net/backups/{FOLDER}", "https://127.0.0.1:10000/acct/c"],
    ids=["none", "empty", "no folder", "http", "path style without folder"],
)
def test_a_folder_url_without_a_folder_or_https_is_refused_naming_the_flag(url):
    assert refused(InvalidArgumentValueError, split_folder_url, url, "--flag-x").startswith("--flag-x ")


def test_a_folder_url_with_its_own_sas_is_refused():
    message = refused(InvalidArgumentValueError, split_folder_url, f"{CONTAINER}/{FOLDER}?sv=1&SIG=abc")
    assert message.startswith("--folder-url") and "--sas-token" in message and "abc" not in message


@pytest.mark.parametrize("name", ["", None, "/abs", "a/../b", "..", "a?b", "a#b", "a\\b"])
def test_a_folder_name_that_escapes_or_is_not_a_name_is_refused(name):
    assert refused(InvalidArgumentValueError, check_folder_name, name, "--flag-y").startswith("--flag-y ")


def test_a_folder_name_keeps_its_inner_path_and_loses_a_trailing_slash():
    assert check_folder_name(f"a/{FOLDER}/") == f"a/{FOLDER}"
    assert check_folder_name("a..b") == "a..b"


# ---- restore / check restore ----------------------------------------------------------------------------------


def restore(**kwargs):
    base = {"hsm_name": "myhsm", "mint_sas": True, "mhsm_dns_suffix": MHSM, "storage_endpoint_suffix": STORAGE}
    return resolve_restore_target(**{**base, **kwargs})


def test_restore_from_a_folder_url():
    target, warnings = restore(folder_url=f"{CONTAINER}/{FOLDER}")
    assert (target.hsm_url, target.hsm_name, target.container_uri, target.folder) == (
        "https://myhsm.managedhsm.azure.net",
        "myhsm",
        CONTAINER,
        FOLDER,
    )
    assert target.storage_auth == "mintedSas" and warnings == []


def test_restore_from_a_url_given_to_backup_folder():
    assert restore(backup_folder=f"{CONTAINER}/{FOLDER}")[0].folder == FOLDER


def test_restore_from_a_folder_name_and_the_container_flags():
    target, _ = restore(backup_folder=FOLDER, storage_account_name="acct", storage_container_name="backups")
    assert (target.container_uri, target.folder) == (CONTAINER, FOLDER)
    assert restore(backup_folder=FOLDER, storage_container_uri=CONTAINER)[0].container_uri == CONTAINER


def test_restore_with_both_folder_forms_is_refused_naming_both():
    message = refused(MutuallyExclusiveArgumentError, restore, folder_url=f"{CONTAINER}/{FOLDER}", backup_folder=FOLDER)
    assert "--folder-url" in message and "--backup-folder" in message


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"storage_account_name": "acct"}, "--storage-account-name"),
        ({"storage_container_name": "backups"}, "--storage-container-name"),
        ({"storage_container_uri": CONTAINER}, "--storage-container-uri"),
    ],
)
@pytest.mark.parametrize("form", ["folder_url", "backup_folder"])
def test_a_folder_url_with_a_container_flag_is_refused_naming_both(extra, named, form):
    message = refused(MutuallyExclusiveArgumentError, restore, **{form: f"{CONTAINER}/{FOLDER}"}, **extra)
    assert message.startswith(f"--{form.replace('_', '-')} ") and named in message


def test_restore_without_a_folder_is_refused_naming_both_forms():
    message = refused(RequiredArgumentMissingError, restore)
    assert "--folder-url" in message and "--backup-folder" in message


def test_restore_needs_read_and_list_on_a_given_sas():
    target, _ = restore(folder_url=f"{CONTAINER}/{FOLDER}", mint_sas=None, sas_token="sp=rl&sig=abc")
    assert (target.storage_auth, target.sas_token) == ("sas", "sp=rl&sig=abc")
    message = refused(
        InvalidArgumentValueError, restore, folder_url=f"{CONTAINER}/{FOLDER}", mint_sas=None, sas_token="sp=r&sig=x"
    )
    assert message.startswith("--sas-token") and "'l'" in message


# ---- list / delete / prune ------------------------------------------------------------------------------------


def test_storage_commands_mint_as_the_signed_in_user_by_default():
    target, warnings = resolve_storage_target(storage_container_uri=CONTAINER)
    assert (target.hsm_url, target.container_uri, target.storage_auth, target.folder) == (
        None,
        CONTAINER,
        "mintedSas",
        None,
    )
    assert warnings == []


def test_storage_commands_check_the_sas_for_the_permissions_they_need():
    target, _ = resolve_storage_target(
        storage_container_uri=CONTAINER, sas_token="sp=ld&sig=x", needed_permissions="ld"
    )
    assert target.sas_token == "sp=ld&sig=x"
    message = refused(
        InvalidArgumentValueError,
        resolve_storage_target,
        storage_container_uri=CONTAINER,
        sas_token="sp=l&sig=x",
        needed_permissions="ld",
    )
    assert message.startswith("--sas-token") and "'d'" in message


def test_list_needs_list_permission_by_default():
    refused(InvalidArgumentValueError, resolve_storage_target, storage_container_uri=CONTAINER, sas_token="sp=r&sig=x")


def test_delete_checks_the_folder_name():
    assert resolve_storage_target(storage_container_uri=CONTAINER, backup_folder=FOLDER)[0].folder == FOLDER
    message = refused(
        InvalidArgumentValueError, resolve_storage_target, storage_container_uri=CONTAINER, backup_folder="../x"
    )
    assert message.startswith("--backup-folder")


def test_an_empty_folder_name_given_to_delete_is_refused_not_ignored():
    refused(InvalidArgumentValueError, resolve_storage_target, storage_container_uri=CONTAINER, backup_folder="")


# ---- show / wait ----------------------------------------------------------------------------------------------


def test_a_job_id_of_32_hex_digits_resolves_with_its_hsm():
    target, warnings = resolve_job(hsm_name="myhsm", job_id=JOB, mhsm_dns_suffix=MHSM)
    assert (target.hsm_url, target.hsm_name, target.container_uri, warnings) == (
        "https://myhsm.managedhsm.azure.net",
        "myhsm",
        None,
        [],
    )


@pytest.mark.parametrize("job_id", [None, "", JOB[:-1], JOB + "0", "g" * 32, f"{JOB[:16]} {JOB[16:]}"])
def test_anything_else_as_a_job_id_is_refused_naming_the_flag(job_id):
    message = refused(InvalidArgumentValueError, resolve_job, hsm_name="myhsm", job_id=job_id, mhsm_dns_suffix=MHSM)
    assert message.startswith("--job-id ") and "\n" not in message


# ---- the command-level validator ------------------------------------------------------------------------------


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


# ---- reading the SAS ------------------------------------------------------------------------------------------


def test_a_sas_given_as_dash_is_read_from_stdin_stripped(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("  sp=l&sig=x \nignored\n"))
    assert read_sas_token("-") == "sp=l&sig=x"


def test_a_sas_given_bare_without_a_terminal_is_refused_naming_the_safe_forms(monkeypatch):
    from knack.prompting import NoTTYException

    from azext_hsmbackup._validators import PROMPT_FOR_SAS

    def no_tty(_):
        raise NoTTYException()

    monkeypatch.setattr("knack.prompting.prompt_pass", no_tty)
    message = refused(RequiredArgumentMissingError, read_sas_token, PROMPT_FOR_SAS)
    assert message.startswith("--sas-token") and "@file" in message and "--sas-token -" in message


def test_a_sas_given_bare_is_asked_for(monkeypatch):
    from azext_hsmbackup._validators import PROMPT_FOR_SAS

    monkeypatch.setattr("knack.prompting.prompt_pass", lambda prompt: f"typed after {prompt!r}")
    assert read_sas_token(PROMPT_FOR_SAS) == "typed after 'SAS token: '"


def test_any_other_value_is_the_token_itself():
    assert read_sas_token("sp=l&sig=x") == "sp=l&sig=x" and read_sas_token(None) is None
