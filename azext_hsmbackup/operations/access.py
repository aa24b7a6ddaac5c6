"""How a command over a container reaches it: storage as you (the SAS you gave, or one minted from your signed-in
identity), how each HSM reads its folders for its pre-restore check, and the HSMs' judgement of a folder. Shared by
list, delete, prune (operations/retention.py) and check freshness (operations/freshness.py)."""

from contextlib import contextmanager

from azext_hsmbackup.model.target import MI_MODE, SAS_MODE
from azext_hsmbackup.operations.job import storage_call
from azext_hsmbackup.service import blob
from azext_hsmbackup.service.evidence import HsmJudge

MINT_MODES = ("mintedSas", MI_MODE)  # you reach storage with a SAS minted from your identity


def mint_for(cmd, target, permissions):
    """A user-delegation SAS of the target's container with only `permissions`, from your signed-in identity."""
    return storage_call(
        lambda: blob.mint_user_delegation_sas(cmd.cli_ctx, target.container_uri, permissions, blob.CLI_SAS_LIFETIME),
        target,
    )


def cli_container(cmd, target, permissions):
    """A ContainerClient as you: with the given SAS, or one minted from your signed-in identity; and that SAS."""
    sas_token = mint_for(cmd, target, permissions) if target.storage_auth in MINT_MODES else target.sas_token
    return blob.container_client(cmd.cli_ctx, target.container_uri, sas_token), sas_token


def hsm_read_access(cmd, target, minted=None):
    """How the HSMs read the folders for their pre-restore checks: their own identity (--mi), the SAS you gave (it
    has 'rl'), or a SAS with only 'rl' minted from your identity (`minted`, if one with 'rl' is at hand).
    (auth keywords, the secret to redact)."""
    if target.storage_auth == MI_MODE:
        return {"use_managed_identity": True}, None
    if target.storage_auth == SAS_MODE:
        return {"sas_token": target.sas_token}, None
    minted = minted or mint_for(cmd, target, "rl")
    return {"sas_token": minted}, minted


@contextmanager
def hsm_judge(cmd, target, auth, hsm_url=None):
    """folder -> the Verdict of its HSM. `hsm_url(name)` gives the HSM a folder name names; by default
    https://NAME + the cloud's Managed HSM DNS suffix."""
    suffix = target.mhsm_dns_suffix

    def by_name(name):
        return f"https://{name.lower()}{suffix}" if suffix else None

    judge = HsmJudge(cmd.cli_ctx, target.container_uri, auth, hsm_url or by_name)
    try:
        yield lambda folder: judge.verdict(folder.hsm, folder.name)
    finally:
        judge.close()
