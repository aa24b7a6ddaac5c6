"""Session-wide report: how long the az version matrix (tests/e2e/test_compat_matrix.py) took."""

from collections import defaultdict

MATRIX_FILE = "tests/e2e/test_compat_matrix.py"
_matrix_seconds = defaultdict(float)  # az release -> seconds of setup, call and teardown of its tests


def pytest_runtest_logreport(report):
    """Runs in the controller for every report of every worker."""
    if report.nodeid.startswith(MATRIX_FILE) and "[az" in report.nodeid:
        version = report.nodeid.split("[az", 1)[1].split("-", 1)[0].rstrip("]")
        _matrix_seconds[version] += report.duration


def pytest_terminal_summary(terminalreporter):
    if _matrix_seconds:
        per_release = ", ".join(f"az {v} {s:.0f} s" for v, s in sorted(_matrix_seconds.items()))
        terminalreporter.write_line(
            f"az version matrix: {sum(_matrix_seconds.values()):.0f} s of test time ({per_release}), "
            "spread over the workers"
        )
