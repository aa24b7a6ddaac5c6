"""The az glue of the parameter sets: the argparse namespace in, model objects out.

Each command-level validator checks the plain flags, reads what comes from stdin or a hidden prompt, hands the
parameter-set flags to a resolver of the model (pure), puts the resolved `target` on the namespace and removes the
flags the command function does not take. A Problem of the model becomes the az error of the same meaning and
exit 2, before any network call. The cloud's suffixes are read here, once, and handed to the model.
"""

from azure.cli.core.azclierror import (
    InvalidArgumentValueError,
    MutuallyExclusiveArgumentError,
    RequiredArgumentMissingError,
)

from azext_hsmbackup._constants import RETENTION_SAS_PERMISSIONS
from azext_hsmbackup.errors import EXIT_BAD_INPUT, ExitWith
from azext_hsmbackup.model.bounds import (
    MAX_PARALLEL_RANGE,
    POLLING_INTERVAL_RANGE,
    TIMEOUT_RANGE,
    bounded_number,
    check_keep,
    check_older_than,
    three_state,
)
from azext_hsmbackup.model.fleet import resolve_create_target, resolve_freshness_target, resolve_wait
from azext_hsmbackup.model.freshness import DEFAULT_MAX_AGE, check_max_age
from azext_hsmbackup.model.hsm_objects import MAX_HSM_OBJECT_CHARS
from azext_hsmbackup.model.names import check_api_version, check_hsm_filter, check_job_id, check_key_name
from azext_hsmbackup.model.problems import ConflictingValues, MissingValue, Problem
from azext_hsmbackup.model.target import resolve_job, resolve_restore_target, resolve_storage_target, resolve_target

# `--sas-token` given without a value: ask for it without echo. `-`: read it (or a flag's JSON) from stdin.
PROMPT_FOR_SAS = "\0prompt"
STDIN_SAS = "-"


def cloud_suffix(cloud, attr):
    """A cloud suffix, or None when the cloud does not define it (azure-cli-core raises for an unset one)."""
    from azure.cli.core.cloud import CloudSuffixNotSetException

    try:
        return getattr(cloud.suffixes, attr)
    except CloudSuffixNotSetException:
        return None


def read_sas_token(value):
    """The secret-safe inputs: `--sas-token` alone prompts without echo; `--sas-token -` reads stdin.

    (`--sas-token @file` is expanded by az itself before we see it.)
    """
    if value == PROMPT_FOR_SAS:
        from knack.prompting import NoTTYException, prompt_pass

        try:
            return prompt_pass("SAS token: ")
        except NoTTYException:
            raise RequiredArgumentMissingError(
                "--sas-token was given without a value and there is no terminal to ask for it: "
                "pass it as --sas-token @file, or pipe it in with --sas-token -."
            ) from None
    if value == STDIN_SAS:
        import sys

        line = sys.stdin.readline().strip()
        if not line:
            raise InvalidArgumentValueError(
                "--sas-token - read an empty line from stdin: pipe the token in, e.g. "
                "`cat token.txt | az hsm-backup ... --sas-token -`, or use --sas-token @token.txt."
            )
        return line
    return value


def read_stdin_flags(namespace):
    """`--hsm-object -` and `--jobs -` read their JSON from stdin (`@file` is expanded by az itself)."""
    import sys

    readers = [name for name in ("hsm_object", "jobs", "sas_token") if getattr(namespace, name, None) == STDIN_SAS]
    flags = {"hsm_object": "--hsm-object -", "jobs": "--jobs -", "sas_token": "--sas-token -"}
    if len(readers) > 1:
        raise MutuallyExclusiveArgumentError(
            f"{' and '.join(flags[name] for name in readers)} both read stdin: pass all but one of them as @file."
        )
    if readers and readers[0] != "sas_token":
        text = sys.stdin.read(MAX_HSM_OBJECT_CHARS + 1)
        if not text.strip():
            raise InvalidArgumentValueError(
                f"{flags[readers[0]]} read nothing from stdin: pipe the JSON in, e.g. "
                "`az keyvault list --resource-type hsm | az hsm-backup create --hsm-object - ...`."
            )
        setattr(namespace, readers[0], text)


def check_options(namespace):
    """The flags outside the parameter sets, checked and normalised in place on az's namespace."""
    if getattr(namespace, "api_version", None) is not None:
        namespace.api_version = check_api_version(namespace.api_version)
    if getattr(namespace, "polling_interval", None) is not None:
        low, high = POLLING_INTERVAL_RANGE
        namespace.polling_interval = bounded_number(
            namespace.polling_interval, "--polling-interval", low, high, example=5
        )
    if getattr(namespace, "timeout", None) is not None:
        low, high = TIMEOUT_RANGE
        namespace.timeout = bounded_number(namespace.timeout, "--timeout", low, high, example=600)
    if getattr(namespace, "use_managed_identity", None) is not None:
        namespace.use_managed_identity = three_state(namespace.use_managed_identity, "--use-user-managed-identity")
    if getattr(namespace, "max_parallel", None) is not None:
        low, high = MAX_PARALLEL_RANGE
        namespace.max_parallel = bounded_number(
            namespace.max_parallel, "--max-parallel", low, high, kind=int, unit="jobs at once", example=5
        )
    job_id = getattr(namespace, "job_id", None)
    if isinstance(job_id, list) and len(job_id) == 1:  # wait takes one --job-id per HSM
        job_id = job_id[0]
    if isinstance(job_id, list):
        namespace.job_id = [check_job_id(value) for value in job_id]
    elif job_id is not None:
        namespace.job_id = check_job_id(job_id)


def _pick(namespace, *names):
    return {name: getattr(namespace, name, None) for name in names}


HSM_ARGS = ("hsm_name", "hsm_object", "hsm_id")
STORAGE_ARGS = ("storage_account_name", "storage_container_name", "storage_container_uri")
AUTH_ARGS = ("sas_token", "use_managed_identity", "mint_sas")
FLEET_ARGS = ("hsm_ids", "all_hsms", "resource_group")
# The az error each kind of Problem of the model is.
AZ_ERRORS = {MissingValue: RequiredArgumentMissingError, ConflictingValues: MutuallyExclusiveArgumentError}


def az_error(problem):
    """The az error that says what a Problem of the model says, with its fix."""
    error_class = next((az for kind, az in AZ_ERRORS.items() if isinstance(problem, kind)), InvalidArgumentValueError)
    return error_class(problem.error_msg, *problem.recommendations)


def _suffixes(cmd):
    """Both cloud suffixes (None when the cloud has none); resource IDs and names both need them."""
    cloud = cmd.cli_ctx.cloud
    return {
        "mhsm_dns_suffix": cloud_suffix(cloud, "mhsm_dns"),
        "storage_endpoint_suffix": cloud_suffix(cloud, "storage_endpoint"),
    }


def _refused(step):
    """Run `step()`; an az error or a Problem of the model is one line and exit 2."""
    from azure.cli.core.azclierror import AzCLIError

    try:
        return step()
    except Problem as problem:
        raise ExitWith(az_error(problem), EXIT_BAD_INPUT) from None
    except AzCLIError as error:
        raise ExitWith(error, EXIT_BAD_INPUT) from None


def validator(resolve, *arg_names, check=None, reads=(), **fixed):
    """A command-level validator: resolve the parameter set before any network call; bad input exits 2.

    `check(namespace)` (pure, on the raw flags) runs first, before a SAS prompt and before anything is resolved.
    `arg_names` are the parameter-set flags (registered with c.extra): resolved into namespace.target, then removed
    from the namespace, since the command function does not take them. `reads` are passed to `resolve` and stay.
    """

    def validate(cmd, namespace):
        from knack.log import get_logger

        def resolved():
            if check is not None:
                check(namespace)
            check_options(namespace)
            read_stdin_flags(namespace)
            if hasattr(namespace, "sas_token"):
                namespace.sas_token = read_sas_token(namespace.sas_token)
            return resolve(**_pick(namespace, *arg_names, *reads), **_suffixes(cmd), **fixed)

        target, warnings = _refused(resolved)
        for warning in warnings:
            get_logger(__name__).warning(warning)
        for name in arg_names:
            if hasattr(namespace, name):
                delattr(namespace, name)
        namespace.target = target

    return validate


# ---- The raw flags of the destructive commands, checked first: retention rules, key names, the HSM filter ----


def check_list_flags(namespace):
    check_hsm_filter(getattr(namespace, "hsm_filter", None))


def check_prune_flags(namespace):
    check_list_flags(namespace)
    namespace.keep, namespace.older_than = check_keep(namespace.keep), check_older_than(namespace.older_than)
    if namespace.keep is None and namespace.older_than is None:
        raise MissingValue("Say what to prune: --keep N (the N newest of each HSM stay) and/or --older-than DAYS.")


def check_freshness_flags(namespace):
    value = namespace.max_age
    namespace.max_age = check_max_age(DEFAULT_MAX_AGE if value is None else value)


def check_restore_flags(namespace):
    check_key_name(getattr(namespace, "key_name", None))


# ---- The validators of the commands -------------------------------------------------------------------------

validate_create = validator(
    resolve_create_target, *HSM_ARGS, *FLEET_ARGS, *STORAGE_ARGS, *AUTH_ARGS, reads=("max_parallel",)
)
validate_check_backup = validator(resolve_target, *HSM_ARGS, *STORAGE_ARGS, *AUTH_ARGS)
validate_restore = validator(
    resolve_restore_target,
    *HSM_ARGS,
    "folder_url",
    "backup_folder",
    *STORAGE_ARGS,
    *AUTH_ARGS,
    check=check_restore_flags,
)
validate_list = validator(
    resolve_storage_target, *STORAGE_ARGS, "sas_token", check=check_list_flags, needed_permissions="l"
)
# delete and prune list (l) and delete (d); the HSM's pre-restore check reads the folders with the same SAS (r, l).
validate_delete = validator(
    resolve_storage_target,
    *STORAGE_ARGS,
    "sas_token",
    "use_managed_identity",
    "backup_folder",
    needed_permissions=RETENTION_SAS_PERMISSIONS,
)
validate_prune = validator(
    resolve_storage_target,
    *STORAGE_ARGS,
    "sas_token",
    "use_managed_identity",
    check=check_prune_flags,
    needed_permissions=RETENTION_SAS_PERMISSIONS,
)
validate_freshness = validator(
    resolve_freshness_target,
    *HSM_ARGS,
    *FLEET_ARGS,
    *STORAGE_ARGS,
    "sas_token",
    "use_managed_identity",
    check=check_freshness_flags,
)
validate_show = validator(resolve_job, *HSM_ARGS, reads=("job_id",))
validate_wait = validator(resolve_wait, *HSM_ARGS, "hsm_ids", "jobs", reads=("job_id",))
