"""Asking before something changes, as az's own commands ask: once, answered "y" or "n", or not at all where az's
confirmation prompts are off; never waiting on a terminal that is not there."""

from azext_hsmbackup._stop import stops_with
from azext_hsmbackup.errors import EXIT_BAD_INPUT, EXIT_CANCELLED, ExitWith


def confirm(question, flag="--confirm", cli_ctx=None):
    """Ask as az does: core.disable_confirm_prompt (AZURE_CORE_DISABLE_CONFIRM_PROMPT) answers yes for the user.

    "n" is an answer, not a mistake: exit 10 (cancelled). No terminal to ask on is a script mistake: exit 2.
    """
    from azure.cli.core.azclierror import InvalidArgumentValueError, UnclassifiedUserFault, ValidationError
    from knack.prompting import NoTTYException, prompt_y_n

    try:
        config = cli_ctx.config if cli_ctx is not None else _az_config()
        if config.getboolean("core", "disable_confirm_prompt", fallback=False):
            return
    except ValueError:
        raise ExitWith(
            InvalidArgumentValueError(
                "AZURE_CORE_DISABLE_CONFIRM_PROMPT (az config core.disable_confirm_prompt) is not a boolean: "
                "set it to true or false."
            ),
            EXIT_BAD_INPUT,
        ) from None
    try:
        with stops_with(lambda: "Stopped at the question: nothing was done."):
            answer = prompt_y_n(question)
    except NoTTYException:
        hint = "run without --confirm in scripts" if flag == "--confirm" else "pass --yes in scripts"
        raise ExitWith(
            ValidationError(f"{question} No terminal to ask on: {hint}, or preview with --what-if."), EXIT_BAD_INPUT
        ) from None
    if not answer:
        raise ExitWith(UnclassifiedUserFault("Cancelled at the question: nothing was done."), EXIT_CANCELLED)


def _az_config():
    """az's own configuration (config file and AZURE_* variables), for a caller that has no cli_ctx at hand."""
    from azure.cli.core._config import ENV_VAR_PREFIX, GLOBAL_CONFIG_DIR
    from knack.config import CLIConfig

    return CLIConfig(config_dir=GLOBAL_CONFIG_DIR, config_env_var_prefix=ENV_VAR_PREFIX)
