"""Data-plane clients built from the CLI's signed-in credential and the CLI's pipeline settings."""

import json

from azure.core.pipeline.policies import SansIOHTTPPolicy


class JobTracker(SansIOHTTPPolicy):
    """Remembers the newest job document the HSM returned (the 202 and every status poll).

    The SDK's poller exposes only the folder URL; jobId, status and the times come from these bodies.
    """

    def __init__(self):
        super().__init__()
        self.job = {}

    def on_response(self, request, response):
        http = response.http_response
        if http.status_code not in (200, 202) or "json" not in (http.headers.get("content-type") or ""):
            return
        try:
            # The SDK streams the 202 of a job start; reading it here caches the bytes, which it then iterates.
            body = json.loads(http.read())
        except ValueError:
            return
        if isinstance(body, dict) and body.get("jobId"):
            self.job = body


def _cli_client_kwargs(cli_ctx):
    """User agent, request id, TLS-verify switch and the token-redacting network trace policy of az."""
    try:
        from azure.cli.core.commands.client_factory import _prepare_client_kwargs_track2
    except ImportError:  # a future az without it: the SDK's own defaults still work
        return {}
    kwargs = _prepare_client_kwargs_track2(cli_ctx)
    kwargs.pop("http_logging_policy", None)  # as az keyvault does: Key Vault has its own allow-list
    return kwargs


def check_sdk_version(version):
    """Refuse an SDK whose challenge policy can replay the job start on a mid-poll 401.

    azure-keyvault-administration 4.4.0 to 4.7.1 (and 4.8.0b1) kept the first request on the policy and could send
    `POST /backup` again when a poll got a 401: the HSM answers 409 while the first backup runs on.
    """
    from azure.cli.core.azclierror import ValidationError
    from packaging.version import Version

    parsed = Version(version)
    if Version("4.4.0") <= parsed < Version("4.7.2") or parsed == Version("4.8.0b1"):
        raise ValidationError(
            f"This az has azure-keyvault-administration {version}, which can start a backup twice after a token "
            "refresh (fixed in 4.7.2): upgrade az (az upgrade), or install azure-keyvault-administration>=4.7.2 "
            "into its Python."
        )


def backup_client(cli_ctx, hsm_url, api_version, tracker=None):
    """A KeyVaultBackupClient for hsm_url, authenticated as the signed-in az account.

    The challenge-resource check stays ON: a server that is not the HSM never receives a Managed HSM token.
    """
    from azure.cli.core._profile import Profile
    from azure.keyvault.administration import KeyVaultBackupClient
    from azure.keyvault.administration._version import VERSION

    check_sdk_version(VERSION)

    credential, _, _ = Profile(cli_ctx=cli_ctx).get_login_credentials(
        subscription_id=cli_ctx.data.get("subscription_id")
    )
    kwargs = _cli_client_kwargs(cli_ctx)
    if tracker is not None:
        kwargs["per_call_policies"] = [tracker]
    return KeyVaultBackupClient(
        vault_url=hsm_url, credential=credential, api_version=api_version, verify_challenge_resource=True, **kwargs
    )
