"""Error mapping: one line, the service's words without the storage dump, no secret, the documented exit code."""

import http
import io
import json

import pytest
import requests
import urllib3

from azext_hsmbackup._text import code_text, first_line, shown
from azext_hsmbackup.errors import EXIT_BAD_INPUT, EXIT_CONFLICT, EXIT_NOT_FOUND, EXIT_UNAUTHORIZED
from azext_hsmbackup.service.failures import from_sdk_error, from_storage_error, job_failed


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


# ---- realistic azure-core exceptions: the real SDK clients over a transport that answers like the service --------

HSM = "https://contoso.managedhsm.azure.net"
CONTAINER = "https://contosoblobs.blob.core.windows.net/backups"
CHALLENGE = 'Bearer authorization="https://login.microsoftonline.com/tenant", resource="https://managedhsm.azure.net"'
CHALLENGE_HEADER = {"WWW-Authenticate": CHALLENGE}
CONFLICT = "Another backup operation is in progress. Retry after the backup operation (Activity ID: 4f1c)"


class Canned(requests.adapters.BaseAdapter):
    """Answers a bodiless (challenge probe) request with the HSM's 401, anything else with one canned response."""

    def __init__(self, status, body, headers=None):
        super().__init__()
        self.status, self.body, self.headers = status, body, headers or {}

    def send(self, request, **kwargs):
        if "Authorization" not in request.headers and request.method != "GET" and "managedhsm" in request.url:
            return self._response(request, 401, b"", {"WWW-Authenticate": CHALLENGE})
        body = self.body if isinstance(self.body, bytes) else json.dumps(self.body).encode()
        kind = "application/xml" if body.startswith(b"<?xml") else "application/json; charset=utf-8"
        return self._response(request, self.status, body, {"Content-Type": kind, **self.headers})

    @staticmethod
    def _response(request, status, content, headers):
        response = requests.Response()
        headers = {**headers, "Content-Length": str(len(content))}
        response.status_code, response.reason = status, http.HTTPStatus(status).phrase
        response.headers.update(headers)
        response.raw = urllib3.HTTPResponse(
            body=io.BytesIO(content), headers=headers, status=status, preload_content=False
        )
        response.request, response.url = request, request.url
        return response

    def close(self):
        pass


def transport(adapter):
    from azure.core.pipeline.transport import RequestsTransport

    session = requests.Session()
    session.mount("https://", adapter)
    return RequestsTransport(session=session, session_owner=False)


def hsm_error(status, body, headers=None):
    """What begin_backup raises when the HSM answers the start request with `status` and `body`."""
    from azure.core.credentials import AccessToken
    from azure.keyvault.administration import KeyVaultBackupClient
    from azure.keyvault.administration._internal import HttpChallengeCache

    class Credential:
        def get_token(self, *scopes, **_):
            return AccessToken("token", 2_000_000_000)

    HttpChallengeCache.clear()
    client = KeyVaultBackupClient(
        HSM, Credential(), api_version="7.6", transport=transport(Canned(status, body, headers))
    )
    with pytest.raises(Exception) as info:
        client.begin_backup(CONTAINER, sas_token="sv=2024&sig=SECRET")
    return info.value


def one_line(mapped):
    message = mapped.error.error_msg
    assert "\n" not in message and all(c.isprintable() for c in message)
    return message


@pytest.mark.parametrize(
    ("status", "code", "exit_code"),
    [
        (409, "Conflict", EXIT_CONFLICT),
        (404, "NotFound", EXIT_NOT_FOUND),
        (400, "BadParameter", 1),
        (501, "NotImplemented", 1),
    ],
)
def test_an_hsm_error_line_says_the_services_message_once_and_names_the_url(status, code, exit_code):
    ex = hsm_error(status, {"error": {"code": code, "message": CONFLICT}})
    assert str(ex).count(CONFLICT) == 2  # azure-core's own text says it twice: the fault this guards against
    mapped = from_sdk_error(ex, HSM, "backup", secrets=["sv=2024&sig=SECRET"])
    message = one_line(mapped)
    assert mapped.code == exit_code
    assert message.count(CONFLICT) == 1 and f"({code}) {CONFLICT}" in message and HSM in message
    assert "Code:" not in message and "Message:" not in message


def test_a_refused_role_ends_with_the_complete_role_assignment_command():
    ex = hsm_error(403, {"error": {"code": "Forbidden", "message": "Operation backup is not allowed."}})
    mapped = from_sdk_error(ex, HSM, "backup")
    message = one_line(mapped)
    assert mapped.code == EXIT_UNAUTHORIZED and message.count("Operation backup is not allowed.") == 1
    assert message.endswith(
        f'az keyvault role assignment create --id {HSM} --role "Managed HSM Backup" --assignee OBJECT_ID --scope /'
    )


def test_an_error_without_a_json_body_is_still_one_line():
    ex = hsm_error(405, b"<html><body>Method not allowed</body></html>")
    message = one_line(from_sdk_error(ex, HSM, "backup"))
    assert message.startswith(f"{HSM} answered 405 to the backup")


def storage_error(status, code):
    from azure.storage.blob import ContainerClient

    body = (
        f'<?xml version="1.0" encoding="utf-8"?><Error><Code>{code}</Code><Message>This request is not '
        "authorized to perform this operation.\nRequestId:0c1d\nTime:2026-12-03T08:00:00.0000000Z</Message></Error>"
    ).encode()
    client = ContainerClient.from_container_url(
        f"{CONTAINER}?sv=2024&sig=SECRET", transport=transport(Canned(status, body, {"x-ms-error-code": code}))
    )
    with pytest.raises(Exception) as info:
        list(client.walk_blobs(delimiter="/"))
    return info.value


@pytest.mark.parametrize("status", [403, 400])
def test_storage_error_codes_read_as_the_service_writes_them_not_as_an_enum(status):
    ex = storage_error(status, "AuthorizationFailure")
    assert f"{ex.error_code}" == "StorageErrorCode.AUTHORIZATION_FAILURE"  # what an f-string of the code prints
    message = one_line(from_storage_error(ex, CONTAINER, secrets=["sv=2024&sig=SECRET"]))
    assert f"{status} AuthorizationFailure" in message and "StorageErrorCode" not in message and CONTAINER in message
    assert "SECRET" not in message


def test_a_failed_job_line_names_the_hsm():
    job = {"jobId": "j2", "status": "Failed", "error": {"code": "InternalError", "message": "Try again."}}
    message = one_line(job_failed(job, "restore", hsm_url=HSM))
    assert message == f"The restore job j2 on {HSM} failed: (InternalError) Try again."


def test_code_text_is_the_enum_value():
    from azure.storage.blob import StorageErrorCode

    assert code_text(StorageErrorCode.AUTHORIZATION_FAILURE) == "AuthorizationFailure" and code_text(None) is None


def test_a_refused_token_ends_with_the_login_command_for_the_hsms_tenant():
    ex = hsm_error(401, {"error": {"code": "Unauthorized", "message": "AKV10032: Invalid issuer."}}, CHALLENGE_HEADER)
    mapped = from_sdk_error(ex, HSM, "backup")
    assert mapped.code == EXIT_UNAUTHORIZED and one_line(mapped).endswith("az login --tenant tenant")
    assert HSM in one_line(mapped)
