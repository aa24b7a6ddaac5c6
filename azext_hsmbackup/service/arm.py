"""ARM: the Managed HSMs of a subscription or a resource group (create --all), through the management client that
`az keyvault list --resource-type hsm` uses. SDK imports stay inside the functions."""

from contextlib import contextmanager

from azext_hsmbackup._text import code_text, service_line
from azext_hsmbackup.errors import EXIT_CONNECTION, EXIT_NOT_FOUND, EXIT_UNAUTHORIZED, ExitWith

MAX_PAGES = 1000  # a nextLink loop (a broken or hostile endpoint) ends here instead of running forever


def list_managed_hsms(cli_ctx, resource_group=None):
    """Every Managed HSM ARM lists for the subscription (az's current one, or --subscription), or one resource group,
    as `az keyvault list --resource-type hsm` prints them: through the management client az itself uses for that
    (azure-mgmt-keyvault, in every az release), with the CLI's credential, cloud and API profile. The SDK follows
    nextLink; a nextLink that never ends stops after MAX_PAGES pages."""
    from azure.cli.core import azclierror
    from azure.cli.core.commands.client_factory import get_mgmt_service_client
    from azure.cli.core.profiles import ResourceType

    try:  # how az turns SDK models into its JSON output (azure-cli-core's own since it handles TypeSpec models)
        from azure.cli.core.util import todict
    except ImportError:
        from knack.util import todict

    where = f"resource group {resource_group}" if resource_group else "the subscription"
    with _arm_errors(where):
        hsms = get_mgmt_service_client(cli_ctx, ResourceType.MGMT_KEYVAULT).managed_hsms
        pager = hsms.list_by_resource_group(resource_group) if resource_group else hsms.list_by_subscription()
        records = []
        for number, page in enumerate(pager.by_page(), 1):
            if number > MAX_PAGES:
                raise azclierror.InvalidArgumentValueError(
                    f"ARM kept sending a nextLink after {MAX_PAGES} pages of Managed HSMs."
                )
            records.extend(todict(hsm) for hsm in page)
    return [r for r in records if isinstance(r, dict)]


@contextmanager
def _arm_errors(where):
    """What ARM or the network says while listing becomes one line and an exit code."""
    from azure.cli.core import azclierror
    from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError

    try:
        yield
    except HttpResponseError as ex:
        status = ex.status_code
        code = code_text(getattr(getattr(ex, "error", None), "code", None))
        message = service_line(getattr(getattr(ex, "error", None), "message", None) or ex.reason or str(ex))
        words = f"({code}) {message}" if code else message
        fix = {
            401: "Sign in again: az login.",
            403: "The signed-in identity needs the Reader role (Microsoft.KeyVault/managedHSMs/read) there.",
            404: "Check the resource group (-g) and the subscription (--subscription, az account show).",
        }.get(status)
        codes = {401: EXIT_UNAUTHORIZED, 403: EXIT_UNAUTHORIZED, 404: EXIT_NOT_FOUND}
        raise ExitWith(
            azclierror.AzureResponseError(f"ARM refused to list the Managed HSMs of {where} ({status}): {words}", fix),
            codes.get(status, 1),
        ) from None
    except (ServiceRequestError, ServiceResponseError) as ex:
        raise ExitWith(
            azclierror.AzureConnectionError(f"Cannot reach ARM to list the Managed HSMs: {service_line(str(ex))}"),
            EXIT_CONNECTION,
        ) from None
