"""What the service or the network says, as one az error and a documented exit code (service/failures.py)."""

import http
import io
import json
from urllib.parse import unquote

import pytest
import requests
import urllib3
from azure.cli.core import azclierror
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ServiceRequestError

from azext_hsmbackup.errors import (
    EXIT_BAD_ANSWER,
    EXIT_BAD_INPUT,
    EXIT_CONFLICT,
    EXIT_CONNECTION,
    EXIT_JOB_FAILED,
    EXIT_NOT_FOUND,
    EXIT_UNAUTHORIZED,
    ExitWith,
)
from azext_hsmbackup.service.failures import from_sdk_error, from_storage_error, job_failed


def test_an_api_version_the_sdk_cannot_use_is_bad_input_not_a_traceback():
    mapped = from_sdk_error(
        ValueError("'begin_pre_full_backup' is not available in API version 7.1. Pass service API version 7.6."),
        "https://h.managedhsm.azure.net",
        "pre-backup check",
    )
    assert mapped.code == EXIT_BAD_INPUT and mapped.error.error_msg.startswith("--api-version: ")


def test_job_failed_redacts_a_sas_the_service_echoed():
    job = {
        "jobId": "j1",
        "status": "Failed",
        "statusDetails": "AuthenticationFailed",
        "error": {"code": "AuthenticationFailed", "message": "Signature did not match: sv=1&sig=SECRET"},
    }
    mapped = job_failed(job, "backup", secrets=["sv=1&sig=SECRET"])
    assert mapped.code == 4 and "SECRET" not in mapped.error.error_msg and "\n" not in mapped.error.error_msg


HSM = "https://contoso.managedhsm.azure.net"


CONTOSO_CONTAINER = "https://contosoblobs.blob.core.windows.net/backups"


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
        client.begin_backup(CONTOSO_CONTAINER, sas_token="sv=2024&sig=SECRET")
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
        f"{CONTOSO_CONTAINER}?sv=2024&sig=SECRET", transport=transport(Canned(status, body, {"x-ms-error-code": code}))
    )
    with pytest.raises(Exception) as info:
        list(client.walk_blobs(delimiter="/"))
    return info.value


@pytest.mark.parametrize("status", [403, 400])
def test_storage_error_codes_read_as_the_service_writes_them_not_as_an_enum(status):
    ex = storage_error(status, "AuthorizationFailure")
    assert f"{ex.error_code}" == "StorageErrorCode.AUTHORIZATION_FAILURE"  # what an f-string of the code prints
    message = one_line(from_storage_error(ex, CONTOSO_CONTAINER, secrets=["sv=2024&sig=SECRET"]))
    assert (
        f"{status} AuthorizationFailure" in message
        and "StorageErrorCode" not in message
        and CONTOSO_CONTAINER in message
    )
    assert "SECRET" not in message


def test_a_failed_job_line_names_the_hsm():
    job = {"jobId": "j2", "status": "Failed", "error": {"code": "InternalError", "message": "Try again."}}
    message = one_line(job_failed(job, "restore", hsm_url=HSM))
    assert message == f"The restore job j2 on {HSM} failed: (InternalError) Try again."


def test_a_refused_token_ends_with_the_login_command_for_the_hsms_tenant():
    ex = hsm_error(401, {"error": {"code": "Unauthorized", "message": "AKV10032: Invalid issuer."}}, CHALLENGE_HEADER)
    mapped = from_sdk_error(ex, HSM, "backup")
    assert mapped.code == EXIT_UNAUTHORIZED and one_line(mapped).endswith("az login --tenant tenant")
    assert HSM in one_line(mapped)


CONTAINER = "https://acct.blob.core.windows.net/backups"


SIG = "ab%2Bcd%2Fef%3D"


SAS = f"sv=2025-01-05&sp=crdw&sig={SIG}"


class Response:
    def __init__(self, status, body=None, reason="Reason"):
        self.status_code, self.reason, self.body, self.headers = status, reason, body, {}

    def json(self):
        if self.body is None:
            raise ValueError("no JSON")
        return self.body

    def text(self):
        return "" if self.body is None else json.dumps(self.body)


def http_error(status, message="The service said no.", cls=HttpResponseError, body=None, error_code=None):
    ex = cls(message=message)
    ex.status_code, ex.reason, ex.response = status, "Reason", Response(status, body)
    if error_code:
        ex.error_code = error_code
    return ex


def line(mapped):
    assert isinstance(mapped, ExitWith)
    text = mapped.error.error_msg
    assert "\n" not in text and "\r" not in text and mapped.error.recommendations == []
    return text


def no_secret(text):
    for form in (SIG, unquote(SIG), unquote(SIG).replace("+", " "), "cd/ef", "cd%2Fef"):
        assert form not in text, text


JOB1 = "1" * 32  # a job id as the service writes them: 32 hex digits


HSM_ANSWERS = {
    "401": (http_error(401), azclierror.UnauthorizedError, EXIT_UNAUTHORIZED),
    "auth error": (http_error(None, cls=ClientAuthenticationError), azclierror.UnauthorizedError, EXIT_UNAUTHORIZED),
    "403": (http_error(403), azclierror.ForbiddenError, EXIT_UNAUTHORIZED),
    "409": (http_error(409), azclierror.AzureResponseError, EXIT_CONFLICT),
    "404": (http_error(404), azclierror.ResourceNotFoundError, EXIT_NOT_FOUND),
    "400": (http_error(400), azclierror.BadRequestError, 1),
    "500": (http_error(500), azclierror.AzureResponseError, 1),
    "200 not JSON": (http_error(200), azclierror.AzureResponseError, EXIT_BAD_ANSWER),  # an unreadable answer
}


@pytest.mark.parametrize(("ex", "error_class", "code"), HSM_ANSWERS.values(), ids=HSM_ANSWERS.keys())
def test_each_hsm_answer_has_its_exit_code_and_error_class(ex, error_class, code, caplog):
    mapped = from_sdk_error(ex, HSM, "backup")
    assert mapped.code == code and type(mapped.error) is error_class
    assert HSM in line(mapped) or error_class in (azclierror.ResourceNotFoundError, azclierror.BadRequestError)
    assert line(mapped) in caplog.messages, "printed when raised"


@pytest.mark.parametrize("status", [403, 409, 404, 400, 500])
def test_the_hsm_answer_keeps_the_services_words_without_a_secret(status):
    ex = http_error(status, message=f"Denied for https://a/c?{SAS} because.\nRequestId:1\nStatus: {status}")
    text = line(from_sdk_error(ex, HSM, "backup", secrets=[SAS]))
    assert "Denied for https://a/c?" in text and "because." in text and "RequestId" not in text
    no_secret(text)


def test_a_401_says_to_sign_in_and_names_the_role():
    text = line(from_sdk_error(http_error(401), HSM, "backup"))
    assert "401" in text and "az login" in text and "Managed HSM Backup" in text


def test_a_403_says_how_to_assign_the_role():
    text = line(from_sdk_error(http_error(403), HSM, "restore"))
    assert "403" in text and "restore" in text and "az keyvault role assignment create" in text


def test_a_409_says_another_job_runs():
    assert "409" in line(from_sdk_error(http_error(409), HSM, "backup"))


def test_a_failed_job_in_a_200_poll_is_exit_4_with_the_service_code():
    body = {"jobId": JOB1, "status": "Failed", "error": {"code": "ContainerNotFound", "message": "Gone."}}
    mapped = from_sdk_error(http_error(200, body=body), HSM, "backup")
    text = line(mapped)
    assert mapped.code == EXIT_JOB_FAILED and "(ContainerNotFound) Gone." in text and JOB1 in text
    assert "az storage container create" in text, "the storage hint is appended"


@pytest.mark.parametrize(
    ("container", "account", "name"),
    [(CONTAINER, "acct", "backups"), ("https://127.0.0.1:10000/devstoreaccount1/keep", "devstoreaccount1", "keep")],
)
def test_a_missing_container_gets_the_complete_command_that_creates_it(container, account, name):
    body = {"jobId": JOB1, "status": "Failed", "error": {"code": "ContainerNotFound", "message": "Gone."}}
    text = line(from_sdk_error(http_error(200, body=body), HSM, "backup", container_uri=container))
    assert text.endswith(
        f"Create the container first: az storage container create --account-name {account} --name {name} "
        "--auth-mode login"
    ), text


def test_other_storage_codes_keep_their_hint_when_the_container_is_known():
    body = {"jobId": JOB1, "status": "Failed", "error": {"code": "AuthenticationFailed", "message": "No."}}
    text = line(from_sdk_error(http_error(200, body=body), HSM, "backup", container_uri=CONTAINER))
    assert "The SAS token was refused" in text and "container create" not in text


def test_an_error_that_is_not_the_services_is_not_mapped():
    assert from_sdk_error(RuntimeError("bug"), HSM, "backup") is None
    assert from_storage_error(RuntimeError("bug"), CONTAINER) is None
    assert from_sdk_error(ValueError("something else"), HSM, "backup") is None


def test_a_challenge_for_another_resource_is_refused_without_sending_a_token():
    mapped = from_sdk_error(ValueError("The challenge resource 'x' does not match"), HSM, "backup")
    assert mapped.code == EXIT_UNAUTHORIZED and HSM in line(mapped) and "no token" in line(mapped)


@pytest.mark.parametrize("cls", [ValueError, NotImplementedError])
def test_an_api_version_the_sdk_cannot_use_names_the_flag(cls):
    mapped = from_sdk_error(cls("Not available in API version 7.1.\nUse 7.6."), HSM, "backup")
    text = line(mapped)
    assert mapped.code == EXIT_BAD_INPUT and text.startswith("--api-version") and "7.1" in text


@pytest.mark.parametrize(
    ("detail", "hint"),
    [("[SSL: CERTIFICATE_VERIFY_FAILED] bad", "REQUESTS_CA_BUNDLE"), ("Name or service not known", "DNS")],
    ids=["tls", "dns"],
)
def test_an_unreachable_hsm_is_exit_7_with_the_right_hint(detail, hint):
    mapped = from_sdk_error(ServiceRequestError(f"{detail} for https://a/c?{SAS}"), HSM, "backup", secrets=[SAS])
    text = line(mapped)
    assert mapped.code == EXIT_CONNECTION and HSM in text and detail in text and hint in text
    assert ("REQUESTS_CA_BUNDLE" in text) == (hint == "REQUESTS_CA_BUNDLE")
    no_secret(text)


def test_a_certificate_problem_is_recognised_in_any_case():
    assert "REQUESTS_CA_BUNDLE" in line(from_sdk_error(ServiceRequestError("Certificate expired"), HSM, "x"))


STORAGE_ANSWERS = {
    "401": (http_error(401), azclierror.ForbiddenError, EXIT_UNAUTHORIZED),
    "403": (http_error(403, error_code="AuthorizationPermissionMismatch"), azclierror.ForbiddenError, 5),
    "auth error": (http_error(None, cls=ClientAuthenticationError), azclierror.ForbiddenError, EXIT_UNAUTHORIZED),
    "404": (http_error(404, error_code="ContainerNotFound"), azclierror.ResourceNotFoundError, EXIT_NOT_FOUND),
    "500": (http_error(500), azclierror.AzureResponseError, 1),
    "unreachable": (ServiceRequestError("refused"), azclierror.AzureConnectionError, EXIT_CONNECTION),
}


@pytest.mark.parametrize(("ex", "error_class", "code"), STORAGE_ANSWERS.values(), ids=STORAGE_ANSWERS.keys())
def test_each_storage_answer_has_its_exit_code_and_names_the_container(ex, error_class, code):
    mapped = from_storage_error(ex, CONTAINER)
    assert mapped.code == code and type(mapped.error) is error_class
    assert CONTAINER in line(mapped) or code == 1


def test_storage_refusal_names_the_code_and_every_way_in():
    text = line(from_storage_error(http_error(403, error_code="AuthorizationPermissionMismatch"), CONTAINER))
    assert "AuthorizationPermissionMismatch" in text
    for way in ("--sas-token", "Storage Blob Data Contributor", "--use-user-managed-identity"):
        assert way in text


def test_storage_not_found_names_the_code():
    assert "ContainerNotFound" in line(from_storage_error(http_error(404, error_code="ContainerNotFound"), CONTAINER))


def test_storage_refusal_without_an_error_code_names_the_reason():
    assert "Reason" in line(from_storage_error(http_error(403), CONTAINER))


@pytest.mark.parametrize("ex", [http_error(500, message=f"Bad https://a/c?{SAS}"), ServiceRequestError(f"x?{SAS}")])
def test_storage_errors_keep_the_words_without_a_secret(ex):
    text = line(from_storage_error(ex, CONTAINER, secrets=[SAS]))
    assert "https://a/c?" in text or "x?" in text
    no_secret(text)


def test_a_failed_job_falls_back_through_status_details_and_status_for_its_code():
    assert "(Detail)" in line(job_failed({"statusDetails": "Detail", "status": "Failed"}, "backup"))
    assert "(Canceled)" in line(job_failed({"status": "Canceled"}, "backup"))
    assert "(Failed)" in line(job_failed({}, "backup"))


def test_a_failed_job_without_a_message_says_so():
    text = line(job_failed({"jobId": "j2", "error": {"code": "X"}}, "restore"))
    assert "restore" in text and "j2" in text and "gave no reason" in text


def test_a_failed_job_message_loses_every_form_of_the_sas():
    for echoed in (SAS, SIG, unquote(SIG), unquote(SIG).replace("+", " ")):
        job = {"error": {"code": "AuthenticationFailed", "message": f"Refused {echoed}."}}
        text = line(job_failed(job, "backup", secrets=[SAS]))
        assert "Refused ***." in text and "SAS token was refused" in text, "the hint for AuthenticationFailed"
        no_secret(text)


DECODED_SIG = unquote(SIG)  # a signature echoed alone: no `sig=` before it, only the registered secret masks it


@pytest.mark.parametrize("status", [403, 409, 404, 400, 500])
def test_a_signature_echoed_alone_by_the_hsm_is_masked(status):
    text = line(from_sdk_error(http_error(status, message=f"Refused {DECODED_SIG} here."), HSM, "x", secrets=[SAS]))
    assert "Refused *** here." in text


@pytest.mark.parametrize(
    "ex", [http_error(500, message=f"Refused {DECODED_SIG} here."), ServiceRequestError(f"Refused {DECODED_SIG} here.")]
)
def test_a_signature_echoed_alone_by_storage_is_masked(ex):
    assert "Refused *** here." in line(from_storage_error(ex, CONTAINER, secrets=[SAS]))


def test_an_unreachable_hsm_echoing_the_signature_alone_is_masked():
    assert "Refused *** here." in line(
        from_sdk_error(ServiceRequestError(f"Refused {DECODED_SIG} here."), HSM, "x", secrets=[SAS])
    )


def test_a_failed_job_in_a_200_poll_masks_a_signature_echoed_alone_and_names_the_operation():
    body = {"jobId": JOB1, "status": "Failed", "error": {"code": "X", "message": f"Refused {DECODED_SIG} here."}}
    text = line(from_sdk_error(http_error(200, body=body), HSM, "restore", secrets=[SAS]))
    assert "Refused *** here." in text and f"restore job {JOB1}" in text


def _with_words(ex, words="The service's own words."):
    ex.message = words  # azure-core keeps the service's words here; str(ex) may say more or less
    return ex


@pytest.mark.parametrize("status", [403, 409, 404, 400, 500])
def test_the_hsm_line_uses_the_services_words_not_the_exception_text(status):
    ex = _with_words(http_error(status, message="exception text"))
    assert "The service's own words." in line(from_sdk_error(ex, HSM, "backup"))


def test_the_storage_line_uses_the_services_words_not_the_exception_text():
    ex = _with_words(http_error(500, message="exception text"))
    assert "The service's own words." in line(from_storage_error(ex, CONTAINER))


@pytest.mark.parametrize(("status", "code"), [(409, EXIT_CONFLICT), (403, EXIT_UNAUTHORIZED), (400, 1)])
def test_an_error_body_on_a_status_other_than_200_is_not_read_as_a_job(status, code):
    body = {"error": {"code": "Conflict", "message": "Another job."}, "status": "Failed", "jobId": "j9"}
    assert from_sdk_error(http_error(status, body=body), HSM, "backup").code == code


def test_a_409_and_a_challenge_for_another_resource_end_with_a_next_step():
    assert not line(from_sdk_error(http_error(409), HSM, "backup")).endswith("The service said no.")
    challenge = line(from_sdk_error(ValueError("challenge resource mismatch"), HSM, "backup"))
    assert "--hsm-name" in challenge and "--id" in challenge


def test_a_401_names_both_roles_that_may_run_a_backup():
    assert '"Managed HSM Backup" or "Managed HSM Administrator"' in line(from_sdk_error(http_error(401), HSM, "x"))


def test_an_ssl_failure_without_the_word_certificate_gets_the_tls_hint():
    assert "REQUESTS_CA_BUNDLE" in line(from_sdk_error(ServiceRequestError("SSL handshake failed"), HSM, "x"))


def test_a_lost_answer_to_a_job_start_is_a_connection_error_naming_the_hsm_and_the_operation():
    from azext_hsmbackup.service.pipeline import StartAnswerLost

    mapped = from_sdk_error(StartAnswerLost("POST", OSError("reset")), HSM, "restore")
    text = line(mapped)
    assert mapped.code == EXIT_CONNECTION and isinstance(mapped.error, azclierror.AzureConnectionError)
    assert HSM in text and "restore" in text
    assert "409 (exit 6)" in text and "az hsm-backup list" in text, "the fix: how to find out whether it started"


def test_a_lost_backup_start_names_the_list_command_for_its_container_and_hsm():
    from azext_hsmbackup.service.pipeline import StartAnswerLost

    text = line(from_sdk_error(StartAnswerLost("POST", OSError("reset")), HSM, "backup", container_uri=CONTAINER))
    assert text.endswith(
        f"a finished backup shows in: az hsm-backup list --storage-container-uri {CONTAINER} --hsm-name contoso."
    ), text
    restore = line(from_sdk_error(StartAnswerLost("PUT", OSError("reset")), HSM, "restore", container_uri=CONTAINER))
    assert "--storage-container-uri" not in restore, "a restore writes no folder to list"


class ParsedError:
    code, message = "Conflict", "A job is running."


def test_the_services_words_come_from_its_parsed_error_once():
    ex = http_error(409, message="(Conflict) A job is running.\nCode: Conflict\nMessage: A job is running.")
    ex.error = ParsedError()
    text = line(from_sdk_error(ex, HSM, "backup"))
    assert text.count("A job is running.") == 1 and "(Conflict) A job is running." in text


def test_without_a_parsed_error_the_words_stop_before_the_repeated_code():
    ex = http_error(404, message="The HSM is busy.\nCode: Busy\nMessage: The HSM is busy.\nCode: Again")
    ex.error = None
    text = line(from_sdk_error(ex, HSM, "backup"))
    assert text.endswith(": The HSM is busy.") and "Code" not in text


def test_an_error_without_a_message_attribute_gives_its_text_without_a_code():
    from azext_hsmbackup.service.failures import service_words

    assert service_words(ValueError("plain words")) == "plain words"


def test_a_job_that_failed_without_an_hsm_url_names_no_place():
    text = line(job_failed({"jobId": JOB1, "error": {"code": "X", "message": "m"}}, "backup"))
    assert f"job {JOB1} failed: (X) m" in text


def test_a_401_without_a_response_asks_for_the_tenant_by_a_placeholder():
    ex = ClientAuthenticationError(message="no")
    ex.response = None
    text = line(from_sdk_error(ex, HSM, "backup"))
    assert "az login --tenant TENANT_ID" in text


def test_a_401_challenge_names_a_tenant_with_capitals_whole():
    ex = http_error(401, cls=ClientAuthenticationError)
    ex.response.headers = {"WWW-Authenticate": 'Bearer authorization="https://login.example/Contoso.onmicrosoft.com"'}
    assert "az login --tenant Contoso.onmicrosoft.com" in line(from_sdk_error(ex, HSM, "backup"))


def test_the_parsed_error_is_preferred_to_the_exceptions_text():
    class Parsed:
        code, message = "Busy", "the parsed words"

    ex = http_error(404, message="(Other) the exception's own text")
    ex.error = Parsed()
    assert line(from_sdk_error(ex, HSM, "backup")).endswith(": (Busy) the parsed words")


def unreadable(operation, job_id=None, container_uri=None, what="is not JSON"):
    from azext_hsmbackup.model.answers import UnreadableAnswer
    from azext_hsmbackup.service.failures import sdk_failure

    failure = sdk_failure(UnreadableAnswer(what, job_id), HSM, operation, container_uri=container_uri)
    assert (failure.code, failure.service_code) == (EXIT_BAD_ANSWER, "UnreadableAnswer")
    assert isinstance(failure.error, azclierror.AzureResponseError)
    return failure.error.error_msg, failure.error.recommendations


def test_an_unreadable_status_answer_names_its_job_and_says_to_try_later():
    assert unreadable("status", JOB1) == (
        f"{HSM} sent an answer that cannot be read: the answer about the job {JOB1} is not JSON.",
        ["Run the command again later; if the answer stays so, something between (a proxy) may change it."],
    )


def test_an_unreadable_answer_about_a_started_job_ends_with_its_show_command():
    assert unreadable("restore", JOB1, what="has no status") == (
        f"{HSM} sent an answer that cannot be read: the answer about the restore job {JOB1} has no status.",
        [f"The job may still be running; check on it with: az hsm-backup show --id {HSM} --job-id {JOB1}"],
    )


def test_an_unreadable_answer_to_a_start_says_where_a_job_that_may_have_started_shows():
    message, fix = unreadable("backup", container_uri=CONTAINER)
    assert message == f"{HSM} sent an answer that cannot be read: the answer to the backup request is not JSON."
    assert fix == [
        "A backup job may have started; while one runs, the HSM refuses another backup or restore. A finished backup "
        f"shows in: az hsm-backup list --storage-container-uri {CONTAINER} --hsm-name contoso"
    ]
    only_refusal = ["A restore job may have started; while one runs, the HSM refuses another backup or restore."]
    assert unreadable("restore", container_uri=CONTAINER)[1] == only_refusal  # a restore writes no folder
    assert unreadable("backup")[1] == [only_refusal[0].replace("restore job", "backup job")]  # no container known


def test_an_unreadable_failed_job_in_a_200_poll_names_the_operation_and_where_to_look():
    ex = http_error(200, body="<html>proxy</html>")  # JSON, but a string where a job document belongs
    text = line(from_sdk_error(ex, HSM, "backup", container_uri=CONTAINER))
    assert text.startswith(f"{HSM} sent an answer that cannot be read: the answer to the backup request ")
    assert text.endswith(f"az hsm-backup list --storage-container-uri {CONTAINER} --hsm-name contoso"), text


def test_a_job_that_ended_without_its_container_gets_the_command_that_creates_it():
    job = {"jobId": JOB1, "status": "Failed", "error": {"code": "ContainerNotFound", "message": "m"}}
    assert line(job_failed(job, "backup", hsm_url=HSM, container_uri=CONTAINER)).endswith(
        "Create the container first: az storage container create --account-name acct --name backups --auth-mode login"
    )


def test_the_next_steps_word_for_word():
    """The fix each kind of failure ends with, as the user reads it."""
    from azext_hsmbackup.service.pipeline import StartAnswerLost

    challenge = line(from_sdk_error(ValueError("challenge resource 'x' does not match"), HSM, "backup"))
    assert challenge == (
        f"{HSM} asked for a token of another service; no token was sent to it. "
        "Check the HSM URL (--id / --hsm-name / --hsm-object) and the cloud (az cloud show)."
    )
    busy = line(from_sdk_error(http_error(409, "(Conflict) busy"), HSM, "backup"))
    assert busy.endswith("(409): (Conflict) busy Run this command again once that job has ended."), busy
    tls = line(from_sdk_error(ServiceRequestError("certificate verify failed"), HSM, "backup"))
    assert tls == (
        f"Cannot reach {HSM}: certificate verify failed Check the HSM's TLS certificate chain; behind a "
        "TLS-inspecting proxy set REQUESTS_CA_BUNDLE."
    )
    dns = line(from_sdk_error(ServiceRequestError("Name or service not known"), HSM, "backup"))
    assert dns == (
        f"Cannot reach {HSM}: Name or service not known Check the HSM name or URL, DNS and network access "
        "(private endpoint, firewall)."
    )
    lost = line(from_sdk_error(StartAnswerLost("PUT", OSError("reset")), HSM, "restore"))
    assert lost == (
        f"The connection to {HSM} broke before the HSM answered the restore request: the restore may have started. "
        "The request was not sent again, so that no second job starts. Find out before you run it again: while that "
        "job runs, the same command gets 409 (exit 6) and starts nothing; a finished backup shows in az hsm-backup "
        "list."
    )
    reasonless = line(job_failed({"jobId": JOB1, "status": "Failed"}, "backup"))
    assert reasonless == f"The backup job {JOB1} failed: (Failed) The service gave no reason."


def test_a_storage_refusal_word_for_word():
    text = line(from_storage_error(http_error(403, error_code="AuthorizationFailure"), CONTAINER))
    assert text == (
        f"Storage refused access to {CONTAINER} (403 AuthorizationFailure). With --sas-token, check its permissions "
        "and expiry; as your signed-in identity, you need the 'Storage Blob Data Contributor' role on the container "
        "(it also lets you mint a SAS); or let the HSM use its own identity with --use-user-managed-identity."
    )
