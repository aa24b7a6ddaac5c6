"""Error mapping: one line, the service's words without the storage dump, no secret, the documented exit code."""

from azext_hsmbackup.errors import EXIT_BAD_INPUT, first_line, from_sdk_error, job_failed, shown


def test_an_api_version_the_sdk_cannot_use_is_bad_input_not_a_traceback():
    mapped = from_sdk_error(
        ValueError("'begin_pre_full_backup' is not available in API version 7.1. Pass service API version 7.6."),
        "https://h.managedhsm.azure.net",
        "pre-backup check",
    )
    assert mapped.code == EXIT_BAD_INPUT and mapped.error.error_msg.startswith("--api-version: ")


def test_first_line_drops_the_storage_request_dump():
    message = "Container missing.\nRequestId:abc\r\nStatus: 404 (x)\r\nErrorCode: ContainerNotFound\r\n<?xml ...>"
    assert first_line(message) == "Container missing."


def test_job_failed_redacts_a_sas_the_service_echoed():
    job = {
        "jobId": "j1",
        "status": "Failed",
        "statusDetails": "AuthenticationFailed",
        "error": {"code": "AuthenticationFailed", "message": "Signature did not match: sv=1&sig=SECRET"},
    }
    mapped = job_failed(job, "backup", secrets=["sv=1&sig=SECRET"])
    assert mapped.code == 4 and "SECRET" not in mapped.error.error_msg and "\n" not in mapped.error.error_msg


def test_shown_quotes_and_escapes_user_values():
    assert shown("a\nb") == "'a\\nb'" and len(shown("x" * 500)) == 62
