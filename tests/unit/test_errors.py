"""How an error leaves a command (errors.py): one line, what is wrong then the fix, and our exit code."""

from types import SimpleNamespace
from unittest import mock

import pytest
from azure.cli.core import azclierror

from azext_hsmbackup.errors import ExitWith, fail_after_output


def test_exit_with_joins_the_fix_to_the_message_in_one_line(caplog):
    mapped = ExitWith(azclierror.InvalidArgumentValueError("--flag is wrong.  ", "Do this."), 2)
    assert mapped.code == 2 and mapped.error.error_msg == "--flag is wrong. Do this."
    assert "--flag is wrong. Do this." in caplog.messages


def test_exit_with_and_no_fix_keeps_the_message():
    mapped = ExitWith(azclierror.InvalidArgumentValueError("--flag is wrong."), 2)
    assert mapped.error.error_msg == "--flag is wrong."


def test_exit_with_joins_several_fixes_with_a_space():
    mapped = ExitWith(azclierror.InvalidArgumentValueError("Wrong.", ["Do this.", "Or that."]), 2)
    assert mapped.error.error_msg == "Wrong. Do this. Or that."


def test_a_failure_after_output_is_raised_when_az_has_printed_the_result():
    from knack.events import EVENT_CLI_SUCCESSFUL_EXECUTE

    registered = []
    fail_after_output(SimpleNamespace(register_event=lambda *a: registered.append(a)), 9, "2 of 3 HSMs failed.")
    ((event, handler),) = registered
    assert event == EVENT_CLI_SUCCESSFUL_EXECUTE
    with (
        mock.patch.object(azclierror.AzCLIError, "print_error"),
        mock.patch.object(azclierror.AzCLIError, "send_telemetry"),
        pytest.raises(ExitWith) as info,
    ):
        handler(None, result=[])
    assert (info.value.code, info.value.error.error_msg) == (9, "2 of 3 HSMs failed.")
