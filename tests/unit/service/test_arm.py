"""ARM's list of Managed HSMs (service/arm.py): every page, a nextLink that never ends, ARM's refusals as one line."""

from types import SimpleNamespace
from unittest import mock

import pytest
from azure.cli.core import azclierror
from azure.core.exceptions import HttpResponseError, ServiceRequestError

from azext_hsmbackup.errors import ExitWith
from azext_hsmbackup.model.problems import Problem
from azext_hsmbackup.service import arm
from tests.unit.fakes import record


def service_error(status, code):
    response = SimpleNamespace(status_code=status, reason="x", headers={}, text=lambda: "", request=None)
    error = HttpResponseError(message=f"({code}) busy", response=response)
    error.status_code, error.error = status, SimpleNamespace(code=code, message="busy")
    return error


class FakeHsms:
    """The managed_hsms operations of az's KeyVaultManagementClient: pages of records, or an error."""

    def __init__(self, pages, fail=None):
        self.pages, self.fail, self.calls = pages, fail, []

    def _pager(self):
        if self.fail:
            raise self.fail
        return SimpleNamespace(by_page=lambda: iter(self.pages))

    def list_by_subscription(self):
        self.calls.append(("subscription",))
        return self._pager()

    def list_by_resource_group(self, group):
        self.calls.append(("group", group))
        return self._pager()


def listing(hsms, group=None):
    client = SimpleNamespace(managed_hsms=hsms)
    with mock.patch("azure.cli.core.commands.client_factory.get_mgmt_service_client", return_value=client) as get:
        records = arm.list_managed_hsms("CTX", resource_group=group)
    from azure.cli.core.profiles import ResourceType

    assert get.call_args.args == ("CTX", ResourceType.MGMT_KEYVAULT)  # the client of `az keyvault list`, az's profile
    return records


def test_all_reads_every_page_of_the_subscription_or_the_group():
    hsms = FakeHsms([[record("a")], [record("b"), 5]])
    assert [r["name"] for r in listing(hsms)] == ["a", "b"] and hsms.calls == [("subscription",)]
    assert listing(hsms, group="rg-x") and hsms.calls[-1] == ("group", "rg-x")


def test_a_next_link_that_never_ends_is_cut_off():
    pages = ([record("a")] for _ in range(arm.MAX_PAGES + 5))
    with pytest.raises(azclierror.InvalidArgumentValueError) as info:  # ARM's answer: an az error of the service
        listing(FakeHsms(pages))
    assert f"after {arm.MAX_PAGES} pages" in info.value.error_msg


def test_a_listing_of_exactly_the_page_bound_is_read_whole():
    pages = [[record(f"h{i}")] for i in range(arm.MAX_PAGES)]
    assert len(listing(FakeHsms(pages))) == arm.MAX_PAGES
    with pytest.raises(azclierror.InvalidArgumentValueError):
        listing(FakeHsms([*pages, [record("one-more")]]))


@pytest.mark.parametrize("status, code", [(401, 5), (403, 5), (404, 3), (500, 1)])
def test_what_arm_refuses_is_one_line_and_an_exit_code(status, code):
    error = service_error(status, "ResourceGroupNotFound")
    error.error.message = "Resource group 'g' could not be found."
    with (
        mock.patch.object(azclierror.AzCLIError, "print_error"),
        mock.patch.object(azclierror.AzCLIError, "send_telemetry"),
        pytest.raises(ExitWith) as info,
    ):
        listing(FakeHsms([], fail=error), group="g")
    assert info.value.code == code
    assert f"resource group g ({status}): (ResourceGroupNotFound)" in info.value.error.error_msg


def message(call, *args):
    with pytest.raises(Problem) as info:
        call(*args)
    return info.value.error_msg


def listed(error, group=None):
    def refuse():
        raise error

    hsms = SimpleNamespace(list_by_subscription=refuse, list_by_resource_group=lambda _: refuse())
    client = SimpleNamespace(managed_hsms=hsms)
    with (
        mock.patch("azure.cli.core.commands.client_factory.get_mgmt_service_client", return_value=client),
        mock.patch.object(azclierror.AzCLIError, "print_error"),
        mock.patch.object(azclierror.AzCLIError, "send_telemetry"),
        pytest.raises(ExitWith) as info,
    ):
        arm.list_managed_hsms("CTX", group)
    return info.value


def arm_error(status, code="Code", message="text", reason="R"):
    response = SimpleNamespace(status_code=status, reason=reason, headers={}, text=lambda: "", request=None)
    error = HttpResponseError(message="raw words", response=response)
    error.error = SimpleNamespace(code=code, message=message) if code or message else None
    return error


@pytest.mark.parametrize(
    "status, line, code",
    [
        (
            401,
            "ARM refused to list the Managed HSMs of the subscription (401): (Code) text Sign in again: az login.",
            5,
        ),
        (
            403,
            "ARM refused to list the Managed HSMs of the subscription (403): (Code) text The signed-in identity needs "
            "the Reader role (Microsoft.KeyVault/managedHSMs/read) there.",
            5,
        ),
        (
            404,
            "ARM refused to list the Managed HSMs of the subscription (404): (Code) text Check the resource group (-g) "
            "and the subscription (--subscription, az account show).",
            3,
        ),
        (429, "ARM refused to list the Managed HSMs of the subscription (429): (Code) text", 1),
    ],
)
def test_arm_refusals_are_one_line_with_the_fix(status, line, code):
    stop = listed(arm_error(status))
    assert (stop.error.error_msg, stop.code) == (line, code)


def test_an_arm_error_without_a_code_says_the_message_or_the_reason():
    stop = listed(arm_error(502, code=None, message=None, reason="Bad Gateway"), group="g")
    assert stop.error.error_msg == "ARM refused to list the Managed HSMs of resource group g (502): Bad Gateway"
    stop = listed(arm_error(500, code="E", message=None, reason="Oops"))
    assert stop.error.error_msg.endswith("(500): (E) Oops")


def test_arm_out_of_reach_is_exit_7():
    stop = listed(ServiceRequestError("refused\nmore"))
    assert (stop.error.error_msg, stop.code) == ("Cannot reach ARM to list the Managed HSMs: refused more", 7)
