"""What a rule of the model says when a value cannot be used: one line, what is wrong and the fix.

The az glue (_validators.py) turns each kind into the az error of the same meaning; the model itself imports no
part of az."""


class Problem(ValueError):
    """A value that cannot be used: `error_msg` says what is wrong, `recommendations` the fix (as az errors do)."""

    def __init__(self, error_msg, recommendation=None):
        super().__init__(error_msg)
        self.error_msg = error_msg
        self.recommendations = [recommendation] if recommendation else []


class InvalidValue(Problem):
    """A value of the wrong form (az: InvalidArgumentValueError)."""


class MissingValue(Problem):
    """A value that must be given and was not (az: RequiredArgumentMissingError)."""


class ConflictingValues(Problem):
    """Values that cannot be given together (az: MutuallyExclusiveArgumentError)."""
