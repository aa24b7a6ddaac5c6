"""How an error leaves a command (errors.py): one line, what is wrong then the fix, and our exit code."""

from azure.cli.core import azclierror

from azext_hsmbackup.errors import (
    ExitWith,
)


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
