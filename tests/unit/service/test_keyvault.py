"""Which SDK builds get the warm-up read (service/keyvault.py)."""

import pytest

from azext_hsmbackup.service.keyvault import resends_job_start_after_401


@pytest.mark.parametrize(
    ("version", "replays"),
    [
        ("4.4.0b2", False),  # az 2.55-2.76
        ("4.4.0", True),  # az 2.77-2.87
        ("4.5.0b1", True),
        ("4.6.0", True),
        ("4.7.0", True),
        ("4.7.1", True),
        ("4.7.2", False),  # the fix
        ("4.8.0b1", True),  # az 2.88
        ("4.8.0b2", False),  # az 2.89-2.91
        ("4.8.0b3", False),
        ("4.8.0", False),
        ("5.0.0", False),
        ("4.3.9", False),
        ("4.4.0rc1", False),
        ("not a version", True),  # unknown: one request more rather than a job twice
        ("", True),
    ],
)
def test_the_warm_up_read_goes_only_where_the_sdk_replays_a_job_start(version, replays):
    assert resends_job_start_after_401(version) is replays
