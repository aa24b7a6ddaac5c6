"""What the validators of restore, list/delete/prune and show/wait promise, held as behaviour (`make mutation` found
them held only by the Hypothesis property test, which it leaves out): what is refused, with which error class, and
which flag the line names; what is accepted, and what it resolves to. Wording beyond the flag is left free."""

import io
import json
import re
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

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
from azext_hsmbackup.model.bounds import bounded_number, check_keep, check_older_than, three_state
from azext_hsmbackup.model.folders import check_folder_name
from azext_hsmbackup.model.hsm_objects import hsm_url_from_object
from azext_hsmbackup.model.names import (
    check_account_name,
    check_api_version,
    check_container_name,
    check_hsm_filter,
    check_hsm_name,
    check_key_name,
)
from azext_hsmbackup.model.problems import ConflictingValues, InvalidValue, MissingValue
from azext_hsmbackup.model.target import (
    resolve_container_uri,
    resolve_job,
    resolve_restore_target,
    resolve_storage_auth,
    resolve_storage_target,
    resolve_target,
)
from azext_hsmbackup.model.urls import (
    check_container_uri,
    container_uri_from_names,
    hsm_name_from_url,
    hsm_url_from_id,
    parse_resource_id,
    split_folder_url,
    split_https_url,
)

MHSM = ".managedhsm.azure.net"
STORAGE = "core.windows.net"
CONTAINER = "https://acct.blob.core.windows.net/backups"
FOLDER = "mhsm-myhsm-2026112812000000"
JOB = "0123456789abcdef0123456789ABCDEF"
SUBSCRIPTION = "00000000-1111-2222-3333-444455556666"


def refused(error_class, call, *args, **kwargs):
    with pytest.raises(error_class) as info:
        call(*args, **kwargs)
    return info.value.error_msg


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


# ---- folders --------------------------------------------------------------------------------------------------


def test_a_folder_url_splits_into_container_and_folder():
    assert split_folder_url(f" {CONTAINER}/{FOLDER} ") == (CONTAINER, FOLDER)
    assert split_folder_url(f"{CONTAINER}/{FOLDER}/") == (CONTAINER, FOLDER)


def test_a_folder_url_with_the_folder_below_the_top_of_the_container_is_refused():
    # the service writes its folders at the top of the container: a deeper path is another folder, never this one
    message = refused(InvalidValue, split_folder_url, f"{CONTAINER}/a/{FOLDER}")
    assert message.startswith("--folder-url ") and f"'a/{FOLDER}'" in message


def test_a_path_style_folder_url_keeps_the_account_in_the_container():
    local = "https://127.0.0.1:10000/devstoreaccount1/backups"
    assert split_folder_url(f"{local}/{FOLDER}") == (local, FOLDER)


@pytest.mark.parametrize(
    "url",
    [None, "", CONTAINER, f"http://acct.blob.core.windows.net/backups/{FOLDER}", "https://127.0.0.1:10000/acct/c"],
    ids=["none", "empty", "no folder", "http", "path style without folder"],
)
def test_a_folder_url_without_a_folder_or_https_is_refused_naming_the_flag(url):
    assert refused(InvalidValue, split_folder_url, url, "--flag-x").startswith("--flag-x ")


def test_a_folder_url_with_its_own_sas_is_refused():
    message = refused(InvalidValue, split_folder_url, f"{CONTAINER}/{FOLDER}?sv=1&SIG=abc")
    assert message.startswith("--folder-url") and "--sas-token" in message and "abc" not in message


@pytest.mark.parametrize("name", ["", None, "/abs", "a/../b", "..", "a?b", "a#b", "a\\b"])
def test_a_folder_name_that_escapes_or_is_not_a_name_is_refused(name):
    assert refused(InvalidValue, check_folder_name, name, "--flag-y").startswith("--flag-y ")


def test_a_folder_name_is_returned_as_given():
    assert check_folder_name(FOLDER) == FOLDER


@pytest.mark.parametrize(
    "name",
    [
        f"a/{FOLDER}",
        f"{FOLDER}/",
        f"{FOLDER}/x",
        "mhsm-a-2026112812000000",  # an HSM name has 3-24 characters
        "mhsm-9bc-2026112812000000",  # and starts with a letter
        "mhsm-myhsm-2026023012000000",  # February 30th is no time
        "mhsm-myhsm-202611281200000",  # 15 digits
        "a..b",
    ],
    ids=["inner path", "trailing slash", "below", "1-letter hsm", "digit first", "no such day", "short stamp", "dots"],
)
def test_only_a_folder_name_of_the_services_form_is_accepted(name):
    assert refused(InvalidValue, check_folder_name, name).startswith("--backup-folder ")


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
    message = refused(ConflictingValues, restore, folder_url=f"{CONTAINER}/{FOLDER}", backup_folder=FOLDER)
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
    message = refused(ConflictingValues, restore, **{form: f"{CONTAINER}/{FOLDER}"}, **extra)
    assert message.startswith(f"--{form.replace('_', '-')} ") and names(named, message)


def test_restore_without_a_folder_is_refused_naming_both_forms():
    message = refused(MissingValue, restore)
    assert "--folder-url" in message and "--backup-folder" in message


def test_restore_needs_read_and_list_on_a_given_sas():
    target, _ = restore(folder_url=f"{CONTAINER}/{FOLDER}", mint_sas=None, sas_token="sp=rl&sig=abc")
    assert (target.storage_auth, target.sas_token) == ("sas", "sp=rl&sig=abc")
    message = refused(InvalidValue, restore, folder_url=f"{CONTAINER}/{FOLDER}", mint_sas=None, sas_token="sp=r&sig=x")
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
        InvalidValue,
        resolve_storage_target,
        storage_container_uri=CONTAINER,
        sas_token="sp=l&sig=x",
        needed_permissions="ld",
    )
    assert message.startswith("--sas-token") and "'d'" in message


def test_list_needs_list_permission_by_default():
    refused(InvalidValue, resolve_storage_target, storage_container_uri=CONTAINER, sas_token="sp=r&sig=x")


def test_delete_checks_the_folder_name():
    assert resolve_storage_target(storage_container_uri=CONTAINER, backup_folder=FOLDER)[0].folder == FOLDER
    message = refused(InvalidValue, resolve_storage_target, storage_container_uri=CONTAINER, backup_folder="../x")
    assert message.startswith("--backup-folder")


def test_an_empty_folder_name_given_to_delete_is_refused_not_ignored():
    refused(InvalidValue, resolve_storage_target, storage_container_uri=CONTAINER, backup_folder="")


# ---- show / wait ----------------------------------------------------------------------------------------------


def test_a_job_id_of_32_hex_digits_resolves_with_its_hsm():
    target, warnings = resolve_job(hsm_name="myhsm", job_id=JOB, mhsm_dns_suffix=MHSM)
    assert (target.hsm_url, target.hsm_name, target.container_uri, warnings) == (
        "https://myhsm.managedhsm.azure.net",
        "myhsm",
        None,
        [],
    )


@pytest.mark.parametrize("job_id", ["", JOB[:-1], JOB + "0", "g" * 32, f"{JOB[:16]} {JOB[16:]}"])
def test_anything_else_as_a_job_id_is_refused_naming_the_flag(job_id):
    message = refused(InvalidValue, resolve_job, hsm_name="myhsm", job_id=job_id, mhsm_dns_suffix=MHSM)
    assert message.startswith("--job-id ") and "\n" not in message


def test_no_job_id_is_a_missing_argument_naming_the_flag():
    message = refused(MissingValue, resolve_job, hsm_name="myhsm", job_id=None, mhsm_dns_suffix=MHSM)
    assert names("--job-id", message)


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
    message = refused(azclierror.RequiredArgumentMissingError, read_sas_token, PROMPT_FOR_SAS)  # the az glue's line
    assert message.startswith("--sas-token") and "@file" in message and message.endswith("--sas-token -.")


def test_a_sas_given_bare_is_asked_for(monkeypatch):
    from azext_hsmbackup._validators import PROMPT_FOR_SAS

    monkeypatch.setattr("knack.prompting.prompt_pass", lambda prompt: f"typed after {prompt!r}")
    assert read_sas_token(PROMPT_FOR_SAS) == "typed after 'SAS token: '"


def test_any_other_value_is_the_token_itself():
    assert read_sas_token("sp=l&sig=x") == "sp=l&sig=x" and read_sas_token(None) is None


# ---- flags named as the user types them, the HSM object, the resource ID, the container URL ----------------------


def names(flag, text):
    """`flag` appears as a whole flag (not glued to other characters) in `text`."""
    return re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", text) is not None


def storage_auth(**kwargs):
    base = {"sas_token": None, "use_managed_identity": None, "mint_sas": None}
    return resolve_storage_auth(**{**base, **kwargs}, container_uri=CONTAINER, needed_permissions="l")


@pytest.mark.parametrize(
    ("given", "flags"),
    [
        ({"sas_token": "sig=abcd", "use_managed_identity": True}, ["--sas-token", "--use-user-managed-identity"]),
        ({"sas_token": "sig=abcd", "mint_sas": True}, ["--sas-token", "--mint-sas"]),
        ({"use_managed_identity": True, "mint_sas": True}, ["--use-user-managed-identity", "--mint-sas"]),
    ],
)
def test_two_storage_access_forms_are_refused_naming_both(given, flags):
    message = refused(ConflictingValues, storage_auth, **given)
    assert all(names(flag, message) for flag in flags) and " and " in message


def test_no_storage_access_names_every_way_in():
    message = refused(MissingValue, storage_auth)
    assert all(names(flag, message) for flag in ("--sas-token", "--use-user-managed-identity", "--mint-sas"))


def test_the_hsms_identity_is_refused_where_the_command_runs_as_you():
    message = refused(
        InvalidValue,
        resolve_storage_auth,
        None,
        True,
        None,
        CONTAINER,
        "l",
        hsm_side=False,
    )
    assert names("--use-user-managed-identity", message) and names("--sas-token", message)


def test_the_modes_each_storage_form_resolves_to():
    assert storage_auth(use_managed_identity=True) == ("managedIdentity", None, [])
    assert storage_auth(mint_sas=True) == ("mintedSas", None, [])
    assert storage_auth(sas_token="?sp=l&sig=abcd")[:2] == ("sas", "sp=l&sig=abcd")


@pytest.mark.parametrize(
    ("given", "flags"),
    [
        ({"storage_account_name": "acct", "storage_container_uri": CONTAINER}, ["--storage-account-name"]),
        ({"storage_container_name": "backups", "storage_container_uri": CONTAINER}, ["--storage-container-name"]),
    ],
)
def test_a_container_uri_with_names_is_refused_naming_them(given, flags):
    message = refused(ConflictingValues, resolve_storage_target, **given)
    assert names("--storage-container-uri", message) and all(names(f, message) for f in flags)


@pytest.mark.parametrize(
    ("given", "flag"),
    [
        ({"storage_account_name": "acct"}, "--storage-container-name"),
        ({"storage_container_name": "c1x"}, "--storage-account-name"),
    ],
)
def test_half_a_container_name_pair_names_the_missing_half(given, flag):
    message = refused(MissingValue, resolve_storage_target, **given, storage_endpoint_suffix=STORAGE)
    assert names(flag, message) and message.startswith(f"--storage-{next(iter(given)).split('_')[1]}-name ")


@pytest.mark.parametrize(
    ("extra", "named"),
    [({"storage_account_name": "acct", "storage_container_name": "backups"}, "--storage-account-name")],
)
def test_a_folder_url_with_two_container_flags_names_them_joined(extra, named):
    message = refused(ConflictingValues, restore, folder_url=f"{CONTAINER}/{FOLDER}", **extra)
    assert names(named, message) and names("--storage-container-name", message) and " and " in message


def test_folder_flags_are_named_whole():
    assert names(
        "--folder-url",
        refused(ConflictingValues, restore, folder_url=f"{CONTAINER}/{FOLDER}", backup_folder=FOLDER),
    )
    message = refused(MissingValue, restore)
    assert names("--folder-url", message) and names("--backup-folder", message)
    bad = refused(InvalidValue, restore, folder_url=f"{CONTAINER}/{FOLDER}?sig=abc")
    assert names("--folder-url", bad)


def test_an_http_url_given_to_backup_folder_is_read_as_a_folder_url():
    message = refused(InvalidValue, restore, backup_folder=f"http://acct.blob.core.windows.net/backups/{FOLDER}")
    assert message.startswith("--backup-folder ") and "https" in message


HSM_OBJECT = {
    "type": "Microsoft.KeyVault/managedHSMs",
    "name": "myhsm",
    "properties": {"hsmUri": "https://MyHsm.managedhsm.azure.net/"},
}


def test_an_hsm_object_gives_its_uri():
    assert hsm_url_from_object(json.dumps(HSM_OBJECT), MHSM) == "https://myhsm.managedhsm.azure.net"
    assert hsm_url_from_object(json.dumps([HSM_OBJECT]), MHSM) == "https://myhsm.managedhsm.azure.net"


def test_an_hsm_object_with_the_uri_at_the_top_and_any_case_of_keys():
    obj = {"ResourceType": "Microsoft.KeyVault/managedHSMs", "HsmUri": "https://other.managedhsm.azure.net"}
    assert hsm_url_from_object(json.dumps(obj), MHSM) == "https://other.managedhsm.azure.net"
    upper = {"TYPE": "microsoft.keyvault/managedhsms", "PROPERTIES": {"HSMURI": "https://up.managedhsm.azure.net"}}
    assert hsm_url_from_object(json.dumps(upper), MHSM) == "https://up.managedhsm.azure.net"


@pytest.mark.parametrize("key", ["name", "VaultName"])
def test_an_hsm_object_without_a_uri_gives_the_url_of_its_name(key):
    obj = {"type": "Microsoft.KeyVault/managedHSMs", key: "named1", "properties": {"hsmUri": None}}
    assert hsm_url_from_object(json.dumps(obj), MHSM) == "https://named1.managedhsm.azure.net"


def test_an_hsm_object_that_is_already_parsed_is_read_as_it_is():
    assert hsm_url_from_object(HSM_OBJECT, MHSM) == "https://myhsm.managedhsm.azure.net"


@pytest.mark.parametrize(
    ("obj", "said"),
    [
        ({"type": "Microsoft.KeyVault/vaults", "name": "v"}, "'microsoft.keyvault/vaults'"),
        ({"resourceType": "Microsoft.Storage/x", "name": "v"}, "'microsoft.storage/x'"),
        ({"name": "v"}, "without a type"),
        ([HSM_OBJECT, HSM_OBJECT], "one JSON object"),
        ({"type": "Microsoft.KeyVault/managedHSMs", "properties": {"hsmUri": 5}}, "hsmUri that is not text (int)"),
        ({"type": "Microsoft.KeyVault/managedHSMs", "name": 7}, "name that is not text (int)"),
        ({"type": "Microsoft.KeyVault/managedHSMs"}, "neither"),
    ],
    ids=["key vault", "resource type", "no type", "two objects", "uri not text", "name not text", "no uri nor name"],
)
def test_an_hsm_object_that_is_not_one_managed_hsm_is_refused_saying_what_it_is(obj, said):
    message = refused(InvalidValue, hsm_url_from_object, json.dumps(obj), MHSM)
    assert message.startswith("--hsm-object ") and said in message


def test_an_hsm_uri_in_the_object_is_checked_under_its_own_name():
    obj = {"type": "Microsoft.KeyVault/managedHSMs", "properties": {"hsmUri": "http://plain.example"}}
    message = refused(InvalidValue, hsm_url_from_object, json.dumps(obj), MHSM)
    assert message.startswith("--hsm-object hsmUri ") and "https" in message


def test_an_hsm_object_that_is_no_json_says_where():
    message = refused(InvalidValue, hsm_url_from_object, '{"type": ', MHSM)
    assert message.startswith("--hsm-object is not valid JSON") and "line 1 column" in message


def test_a_resource_id_gives_the_url_of_its_hsm():
    rid = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/g/providers/Microsoft.KeyVault/managedHSMs/idhsm/"
    assert hsm_url_from_id(f" {rid} ", MHSM) == "https://idhsm.managedhsm.azure.net"
    assert hsm_url_from_id(rid.upper().replace("IDHSM", "IdHsm"), MHSM) == "https://idhsm.managedhsm.azure.net"


@pytest.mark.parametrize(
    "rid",
    [
        "/subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/managedHSMs/idhsm",
        f"/subscriptions/{SUBSCRIPTION}/resourceGroups/g/providers/Microsoft.KeyVault/managedHSMs/idhsm/keys/k",
        f"/subscriptions/{SUBSCRIPTION}/resourceGroups/g/providers/Microsoft.KeyVault/managedHSMs",
        f"/subscriptions/{SUBSCRIPTION}/groups/g/providers/Microsoft.KeyVault/managedHSMs/idhsm",
    ],
    ids=["subscription not a guid", "child resource", "no name", "not resourceGroups"],
)
def test_a_resource_id_must_be_exact(rid):
    message = refused(InvalidValue, hsm_url_from_id, rid, MHSM)
    assert message.startswith("--id ") and "resourceGroups/GROUP/providers" in message


@pytest.mark.parametrize(
    "rid",
    [
        "/subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/vaults/v",
        "/subscriptions/s/providers/Microsoft.KeyVault/managedHSMs",
    ],
    ids=["a vault", "no name"],
)
def test_a_resource_id_that_names_no_managed_hsm_is_refused(rid):
    assert refused(InvalidValue, hsm_url_from_id, rid, MHSM, "--flag-z").startswith("--flag-z ")


@pytest.mark.parametrize("url", ["http://h.managedhsm.azure.net", "https://", "h.managedhsm.azure.net"])
def test_an_hsm_url_must_be_https_with_a_host(url):
    assert refused(InvalidValue, hsm_url_from_id, url, MHSM).startswith("--id ")


@pytest.mark.parametrize(
    "uri",
    [f"{CONTAINER}#frag", f"{CONTAINER}?restype=container", f"{CONTAINER}?SIG=abc", f"{CONTAINER}/folder"],
    ids=["fragment", "query", "sas", "folder"],
)
def test_a_container_uri_with_more_than_the_container_is_refused(uri):
    message = refused(InvalidValue, resolve_storage_target, storage_container_uri=uri)
    assert message.startswith("--storage-container-uri ") and "abc" not in message


def test_a_container_uri_with_a_folder_says_which_container_to_use():
    with pytest.raises(InvalidValue) as info:
        resolve_storage_target(storage_container_uri=f"{CONTAINER}/folder/deeper")
    assert info.value.recommendations == [f"Use {CONTAINER}"]


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


@pytest.mark.parametrize(
    ("given", "flags"),
    [
        ({"hsm_name": "myhsm", "hsm_id": "https://x.managedhsm.azure.net"}, ["--hsm-name", "--id"]),
        ({"hsm_name": "myhsm", "hsm_object": json.dumps(HSM_OBJECT)}, ["--hsm-name", "--hsm-object"]),
    ],
)
def test_two_hsm_forms_are_refused_naming_both_whole(given, flags):
    message = refused(ConflictingValues, resolve_job, **given, job_id=JOB, mhsm_dns_suffix=MHSM)
    assert message.startswith(f"{flags[0]} and {flags[1]} "), "the line starts with the two flags given"


def test_a_localhost_container_uri_is_path_style():
    local = "https://localhost:10000/devstoreaccount1/backups"
    assert resolve_storage_target(storage_container_uri=local)[0].container_uri == local


def test_a_bad_job_id_is_shown_in_the_line():
    message = refused(InvalidValue, resolve_job, hsm_name="myhsm", job_id="nope", mhsm_dns_suffix=MHSM)
    assert "'nope'" in message


@pytest.mark.parametrize(
    ("check", "value", "flag"),
    [
        (check_hsm_name, "9bad", "--hsm-name"),
        (check_account_name, "Bad_Acct", "--storage-account-name"),
        (check_container_name, "Bad_C", "--storage-container-name"),
    ],
)
def test_a_bad_name_is_shown_and_a_fix_offered(check, value, flag):
    with pytest.raises(InvalidValue) as info:
        check(value)
    assert info.value.error_msg.startswith(f"{flag} '{value}' ") and len(info.value.recommendations) == 1


def test_a_bad_folder_name_is_shown():
    assert "'../x'" in refused(InvalidValue, check_folder_name, "../x")


@pytest.mark.parametrize(
    ("call", "args"),
    [
        (
            hsm_url_from_id,
            (f"/subscriptions/{SUBSCRIPTION}/resourceGroups/g/providers/Microsoft.KeyVault/vaults/v", MHSM),
        ),
        (hsm_url_from_object, ('{"type": "Microsoft.KeyVault/vaults"}', MHSM)),
        (hsm_url_from_object, ("{", MHSM)),
        (check_container_uri, (f"{CONTAINER}?sig=abc",)),
    ],
    ids=["a vault id", "a vault object", "no json", "container with sas"],
)
def test_each_refusal_offers_a_fix(call, args):
    with pytest.raises(InvalidValue) as info:
        call(*args)
    assert len(info.value.recommendations) == 1


@pytest.mark.parametrize(
    ("value", "fix"),
    [
        ("/subscriptions/s/providers/Microsoft.KeyVault/vaults/v", "give a resource ID /subscriptions/"),
        ("http://h.example", "e.g. https://myhsm.managedhsm.azure.net"),
    ],
    ids=["not a resource id", "http"],
)
def test_a_refusal_of_an_hsm_id_gives_the_fix_in_its_one_line(value, fix):
    with pytest.raises(InvalidValue) as info:
        hsm_url_from_id(value, MHSM)
    assert fix in info.value.error_msg and info.value.recommendations == []


@pytest.mark.parametrize(
    "form",
    [{"hsm_id": "https://idhsm.managedhsm.azure.net"}, {"hsm_object": json.dumps(HSM_OBJECT)}],
    ids=["id", "object"],
)
def test_restore_takes_every_hsm_form(form):
    base = {"folder_url": f"{CONTAINER}/{FOLDER}", "mint_sas": True, "mhsm_dns_suffix": MHSM}
    assert resolve_restore_target(**base, **form)[0].hsm_url.startswith("https://")


def test_create_can_mint_a_sas():
    target, _ = resolve_target(hsm_name="myhsm", storage_container_uri=CONTAINER, mint_sas=True, mhsm_dns_suffix=MHSM)
    assert target.storage_auth == "mintedSas"


OTHER_SAS_URL = "https://acct.blob.core.windows.net/other?sp=rl&sig=abcd"


def test_a_sas_url_for_another_container_is_refused_by_restore_and_list():
    refused(InvalidValue, restore, folder_url=f"{CONTAINER}/{FOLDER}", mint_sas=None, sas_token=OTHER_SAS_URL)
    refused(InvalidValue, resolve_storage_target, storage_container_uri=CONTAINER, sas_token=OTHER_SAS_URL)


def test_list_accepts_a_list_only_sas_by_default():
    assert resolve_storage_target(storage_container_uri=CONTAINER, sas_token="sp=l&sig=abcd")[0].storage_auth == "sas"


def test_a_localhost_folder_url_is_path_style():
    local = "https://localhost:10000/devstoreaccount1/backups"
    assert split_folder_url(f"{local}/{FOLDER}") == (local, FOLDER)


def test_a_folder_url_with_a_bad_container_names_the_flag():
    message = refused(InvalidValue, split_folder_url, f"https://acct.blob.core.windows.net/Bad_C/{FOLDER}")
    assert message.startswith("--folder-url ")


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


def test_a_uri_with_both_container_names_names_both_joined():
    message = refused(ConflictingValues, resolve_container_uri, "acct", "backups", CONTAINER, STORAGE)
    assert "with --storage-account-name and --storage-container-name:" in message


def test_no_hsm_name_is_no_name():
    refused(InvalidValue, check_hsm_name, None)


def test_folder_and_hsm_names_may_hold_any_letter_at_either_end():
    assert check_folder_name("mhsm-XhsmZ-2026112812000000") == "mhsm-XhsmZ-2026112812000000"
    rid = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/g/providers/Microsoft.KeyVault/managedHSMs/hsmX"
    assert hsm_url_from_id(rid, MHSM) == "https://hsmx.managedhsm.azure.net"


def test_a_cloud_without_a_storage_suffix_points_to_the_uri_flag():
    message = refused(InvalidValue, container_uri_from_names, "acct", "backups", None)
    assert message.startswith("--storage-account-name ") and names("--storage-container-uri", message)


def test_the_name_of_an_hsm_at_an_ip_address_is_the_address():
    assert hsm_name_from_url("https://127.0.0.1:8443") == "127.0.0.1"
    assert hsm_name_from_url("https://myhsm.managedhsm.azure.net") == "myhsm"


# ---- after the merge: the flags outside the parameter sets, bounded numbers, exact forms ----------------------------


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


def test_a_bounded_number_line_says_why_with_the_value():
    def line(value, kind=float, example=None):
        return refused(InvalidValue, bounded_number, value, "--f", 1, 10, kind=kind, example=example)

    assert line("abc") == "--f 'abc' is not a number: give a number of seconds from 1 to 10, e.g. --f 10."
    assert line("abc", int, 3) == "--f 'abc' is not a number: give a whole number of seconds from 1 to 10, e.g. --f 3."
    assert line("1.5", int).startswith("--f '1.5' is not a whole number: ")
    assert line(1.5, int).startswith("--f '1.5' is not a whole number: ")
    assert line("11").startswith("--f '11' is out of range: ")
    assert line("1e999").startswith("--f '1e999' is out of range: ")
    assert line(float("nan")).startswith("--f 'nan' is not a finite number: ")
    assert line(True).startswith("--f 'True' is not a number: ")


def test_keep_and_older_than_say_their_unit_and_example():
    assert refused(InvalidValue, check_keep, "0") == (
        "--keep '0' is out of range: give a whole number of newest backups of each HSM from 1 to 10000, e.g. --keep 7."
    )
    message = refused(InvalidValue, check_older_than, "-3")
    assert message.startswith("--older-than '-3' ") and message.endswith("e.g. --older-than 30.")


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


@pytest.mark.parametrize(
    ("value", "why"), [("", "is empty"), ("   ", "is empty"), ("a_b", "is not a key name"), (5, "is not a key name")]
)
def test_a_bad_key_name_is_shown_with_why_and_a_fix(value, why):
    with pytest.raises(InvalidValue) as info:
        check_key_name(value)
    assert info.value.error_msg.startswith(f"--key-name '{value}' {why}: a key name has 1-127 ")
    assert len(info.value.recommendations) == 1 and "--key-name" in info.value.recommendations[0]


def test_a_bad_hsm_filter_is_shown_with_the_rule():
    message = refused(InvalidValue, check_hsm_filter, "9x")
    assert message.startswith("--hsm-name '9x' ") and "3-24 letters" in message and "every HSM." in message


@pytest.mark.parametrize(
    ("call", "flag", "form"),
    [
        (check_hsm_name, "--hsm-name", "HSM: 3-24 letters"),
        (check_account_name, "--storage-account-name", "account: 3-24 lowercase letters and digits"),
        (check_container_name, "--storage-container-name", "container: 3-63 lowercase letters"),
        (check_api_version, "--api-version", "e.g. 2025-07-01"),
        (lambda v: hsm_url_from_id(v, MHSM), "--id", "e.g. https://myhsm.managedhsm.azure.net"),
        (lambda v: hsm_url_from_object(v, MHSM), "--hsm-object", "the JSON of the HSM, inline or as @file.json"),
        (lambda v: parse_resource_id(v, "--x"), "--x", "give a resource ID /subscriptions/"),
        (lambda v: split_https_url(v, "--u", "https://e.example"), "--u", "give an https URL, e.g. https://e.example"),
    ],
)
def test_an_empty_value_is_refused_with_the_form_wanted(call, flag, form):
    message = refused(InvalidValue, call, " ")
    assert message.startswith(f"{flag} is empty: ") and form in message


def test_a_value_that_is_not_text_says_its_type():
    assert refused(InvalidValue, check_hsm_name, 5).startswith("--hsm-name must be text, not int: ")


@pytest.mark.parametrize(
    ("call", "form"),
    [
        (check_hsm_name, "3-24 letters"),
        (check_account_name, "3-24 lowercase letters and digits"),
        (check_container_name, "3-63 lowercase letters"),
    ],
)
def test_a_bad_name_offers_the_rule_as_its_fix(call, form):
    with pytest.raises(InvalidValue) as info:
        call("B_d")
    assert form in info.value.recommendations[0]


def test_a_bad_api_version_is_shown_with_examples():
    message = refused(InvalidValue, check_api_version, "2025-13-01")
    assert message.startswith("--api-version '2025-13-01' ") and "e.g. 2025-07-01, 7.6 or 7.6-preview.2" in message


def test_three_state_shows_the_bad_value():
    assert refused(InvalidValue, three_state, "yes", "--f").startswith("--f 'yes' ")


def test_the_storage_identity_flag_is_checked_under_its_own_name():
    message = refused(InvalidValue, resolve_storage_auth, None, "maybe", None, CONTAINER, "l")
    assert message.startswith("--use-user-managed-identity 'maybe' ")


# ---- URLs ------------------------------------------------------------------------------------------------------


def test_a_url_of_exactly_the_longest_length_is_accepted():
    url = "https://h.example/" + "a" * (2048 - len("https://h.example/"))
    assert split_https_url(url, "--u", "x").path.endswith("a")
    assert refused(InvalidValue, split_https_url, url + "a", "--u", "x").startswith("--u '")


@pytest.mark.parametrize("url", ["https://h.example/a b", "https://h.exa\x00mple", "https://h.example/a\u2028b"])
def test_a_url_with_a_blank_or_control_character_is_no_url(url):
    message = refused(InvalidValue, split_https_url, url, "--u", "x")
    assert message.startswith("--u 'https://h.") and "is not a URL" in message


def test_a_host_with_a_trailing_dot_and_an_ipv6_host_are_urls():
    assert hsm_url_from_id("https://myhsm.managedhsm.azure.net.", MHSM) == "https://myhsm.managedhsm.azure.net."
    assert hsm_url_from_id("https://[::1]:8443/x", MHSM) == "https://[::1]:8443"


def test_a_url_with_a_bad_host_is_shown():
    message = refused(InvalidValue, split_https_url, "https://bad_host.example", "--u", "x")
    assert message.startswith("--u 'https://bad_host.example' ")
    assert refused(InvalidValue, split_https_url, "https://h.example:x", "--u", "x").startswith("--u '")


def test_a_bad_hsm_url_in_id_is_named_by_the_flag_given():
    assert refused(InvalidValue, hsm_url_from_id, "http://h.example", MHSM, "--flag-z").startswith("--flag-z ")


@pytest.mark.parametrize("uri", ["https://acct.file.core.windows.net/backups", "https://acct.blob.core.windows.net"])
def test_a_container_uri_refusal_gives_the_example(uri):
    message = refused(InvalidValue, check_container_uri, uri)
    assert "e.g. https://myaccount.blob.core.windows.net/backups" in message


def test_a_bad_container_uri_shows_the_value_and_the_example():
    message = refused(InvalidValue, check_container_uri, "https://bad_host/backups")
    assert "'https://bad_host/backups'" in message and "https://myaccount.blob.core.windows.net/backups" in message


def test_a_folder_inside_a_badly_named_container_is_not_suggested():
    with pytest.raises(InvalidValue) as info:
        check_container_uri("https://acct.blob.core.windows.net/Bad_C/folder")
    assert "Bad_C" not in info.value.recommendations[0] and "e.g. https://" in info.value.recommendations[0]


def test_a_folder_url_without_a_folder_asks_for_what_create_printed():
    for url in (CONTAINER, "https://127.0.0.1:10000/acct/c", "https://bad_host/c/x"):
        message = refused(InvalidValue, split_folder_url, url)
        assert "https://myaccount.blob.core.windows.net/backups/mhsm-myhsm-2026112812000000" in message, url


def test_a_sas_read_as_an_empty_line_names_the_flag(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))
    message = refused(azclierror.InvalidArgumentValueError, read_sas_token, "-")  # the az glue's line
    assert message.startswith("--sas-token - ") and "--sas-token @token.txt" in message


# ---- resource IDs and HSM objects ------------------------------------------------------------------------------


def test_a_resource_id_splits_into_its_parts():
    rid = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/grp/providers/Microsoft.KeyVault/managedHSMs/h1x"
    assert parse_resource_id(rid, "--x") == (SUBSCRIPTION, "grp", "microsoft.keyvault/managedhsms", "h1x")


def test_a_resource_id_with_a_bad_provider_is_no_resource_id():
    rid = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/g/providers/9icrosoft/managedHSMs/h1x"
    assert refused(InvalidValue, parse_resource_id, rid, "--x").startswith(f"--x '{rid[:40]}")


def hsm_id(kind="managedHSMs", name="h1x"):
    return f"/subscriptions/{SUBSCRIPTION}/resourceGroups/g/providers/Microsoft.KeyVault/{kind}/{name}"


@pytest.mark.parametrize(
    ("obj", "key"),
    [
        ({"id": "/bad", "name": "h1x"}, "id"),
        ({"ResourceId": "/bad", "Name": "h1x"}, "ResourceId"),
        ({"Name": "h1x", "OriginalManagedHsm": {"id": "/bad"}}, "id"),
    ],
)
def test_a_bad_resource_id_in_an_hsm_object_is_named_by_its_key(obj, key):
    assert refused(InvalidValue, hsm_url_from_object, obj, MHSM).startswith(f"--hsm-object {key} '/bad' ")


@pytest.mark.parametrize(
    "obj",
    [
        {"id": hsm_id("vaults"), "name": "h1x"},
        {"ResourceId": hsm_id("vaults"), "Name": "h1x"},
        {"Name": "h1x", "OriginalManagedHsm": {"id": hsm_id("vaults")}},
    ],
)
def test_an_hsm_object_whose_resource_id_is_a_vault_is_refused(obj):
    message = refused(InvalidValue, hsm_url_from_object, obj, MHSM)
    assert "'microsoft.keyvault/vaults'" in message


def test_a_powershell_hsm_object_gives_the_url_of_its_name_or_of_the_original():
    assert hsm_url_from_object({"ResourceId": hsm_id(), "Name": "h1x"}, MHSM) == "https://h1x.managedhsm.azure.net"
    original = {"OriginalManagedHsm": {"id": hsm_id(), "name": "orig1"}}
    assert hsm_url_from_object(original, MHSM) == "https://orig1.managedhsm.azure.net"


def test_an_hsm_object_with_two_names_shows_both():
    message = refused(InvalidValue, hsm_url_from_object, {"id": hsm_id(), "name": "aaa", "VaultName": "bbb"}, MHSM)
    assert "'aaa' and 'bbb'" in message


@pytest.mark.parametrize(
    "obj",
    [{"id": hsm_id()}, "[" * 100000 + "]" * 100000, "x" * 1_000_001],
    ids=["neither uri nor name", "nested too deeply", "too large"],
)
def test_an_hsm_object_refusal_offers_the_command_that_prints_one(obj):
    with pytest.raises(InvalidValue) as info:
        hsm_url_from_object(obj, MHSM)
    assert info.value.recommendations[0].startswith("Pass the output of `az keyvault show --hsm-name NAME`")


def test_an_hsm_object_of_exactly_the_largest_size_is_read():
    text = json.dumps({"type": "Microsoft.KeyVault/managedHSMs", "name": "h1x", "pad": ""})
    text = text.replace('"pad": ""', '"pad": "' + "x" * (1_000_000 - len(text)) + '"')
    assert len(text) == 1_000_000 and hsm_url_from_object(text, MHSM) == "https://h1x.managedhsm.azure.net"


def test_an_hsm_object_without_a_type_says_a_resource_id_would_do():
    assert "without a type or resource ID" in refused(InvalidValue, hsm_url_from_object, {"name": "h1x"}, MHSM)


def test_an_hsm_url_or_resource_id_is_named_as_id_by_default():
    from azext_hsmbackup.model.urls import hsm_url_from_resource_id, hsm_url_from_url

    assert refused(InvalidValue, hsm_url_from_url, "http://h.example").startswith("--id ")
    assert refused(InvalidValue, hsm_url_from_resource_id, hsm_id("vaults"), MHSM).startswith("--id ")


def test_a_resource_id_without_its_leading_slash_is_refused_even_when_the_rest_fits():
    rid = "x" + hsm_id()[1:]
    assert refused(InvalidValue, parse_resource_id, rid, "--x").startswith("--x 'xsubscriptions/")


def test_a_url_that_does_not_parse_is_shown():
    assert "'https://h.example:x'" in refused(InvalidValue, split_https_url, "https://h.example:x", "--u", "x")
