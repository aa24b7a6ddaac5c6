"""The signed-in az account's credential: one per command, shared by every client it makes (HSMs, storage, ARM)."""


def cli_credential(cli_ctx):
    """The signed-in az account's credential (one per command: several HSMs' clients share it and its tokens)."""
    from azure.cli.core._profile import Profile

    credential, _, _ = Profile(cli_ctx=cli_ctx).get_login_credentials(
        subscription_id=cli_ctx.data.get("subscription_id")
    )
    return credential
