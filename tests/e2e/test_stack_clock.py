"""The local stack's clock knob (Stack.set_clock), proven with the real az: every piece agrees on the shifted time.

The stack is this module's own (the session's stack stays on the real clock for every other test). A backup made
three days "ahead" is named, stamped by Azurite and reported by az three days ahead; az's tokens are minted then;
back on the real clock, the next backup is named now and az holds no token from the future; a day behind, too.
"""

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from azure.core.exceptions import HttpResponseError
from azure.storage.blob import ContainerClient

from tests.e2e.conftest import TEST_EMULATOR_CONFIG, az_json
from tests.stack import constants as C
from tests.stack.launcher import CONTAINER, Stack

AHEAD = timedelta(days=3)
NEAR = timedelta(minutes=2)


@pytest.fixture
def stack(tmp_path):
    running = Stack(tmp_path / "stack")
    try:
        running.up()
        running.emulator("PUT", "defaults", TEST_EMULATOR_CONFIG)
        yield running
    finally:
        running.down()


def backup(stack, hsm):
    result = stack.az(
        "hsm-backup",
        "create",
        "--id",
        stack.hsm_url(hsm),
        "--storage-container-uri",
        stack.container_uri(),
        "--sas-token",
        f"@{stack.state['sas_file']}",
    )
    return az_json(result)


def stamp(folder):
    """The UTC time in mhsm-NAME-yyyyMMddHHmmssff."""
    digits = folder.rsplit("-", 1)[1]
    return datetime.strptime(digits[:14], "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)


def blob_times(stack, folder):
    client = stack.blob_service().get_container_client(CONTAINER)
    blobs = list(client.list_blobs(name_starts_with=folder + "/"))
    assert blobs, f"no blobs in {folder}"
    return [t for b in blobs for t in (b.creation_time, b.last_modified)]


def container_with_sas(stack, sas):
    return ContainerClient.from_container_url(
        f"{stack.container_uri()}?{sas}",
        proxies={"https": stack.state["proxy_url"]},
        connection_verify=stack.bundle,
    )


def access_token_expiry(stack):
    token = az_json(stack.az("account", "get-access-token", "--resource", C.MHSM_RESOURCE))
    return datetime.fromtimestamp(token["expires_on"], timezone.utc)


def test_stack_clock_moves_every_piece_and_comes_back(stack):
    real_sas = stack.mint_sas()  # expires in 2 days of the real clock
    access_token_expiry(stack)  # a token in az's cache, minted on the real clock

    stack.set_clock(AHEAD)
    assert stack.clock_offset == AHEAD
    assert abs(stack.now() - datetime.now(timezone.utc) - AHEAD) < timedelta(seconds=5)

    made = backup(stack, "hsmclock")
    assert made["status"] == "Succeeded", made
    ahead = datetime.now(timezone.utc) + AHEAD
    assert abs(stamp(made["folderName"]) - ahead) < NEAR  # the emulator's now
    assert abs(datetime.fromisoformat(made["startTime"].replace("Z", "+00:00")) - ahead) < NEAR  # az's answer
    for when in blob_times(stack, made["folderName"]):  # Azurite's now
        assert abs(when - stamp(made["folderName"])) < NEAR
    # Azurite checks SAS expiry by its shifted clock: the SAS of the real clock has expired, sas.txt is new
    with pytest.raises(HttpResponseError) as refused:
        list(container_with_sas(stack, real_sas).list_blobs())
    assert refused.value.status_code == 403
    assert any(container_with_sas(stack, Path(stack.state["sas_file"]).read_text().strip()).list_blobs())
    # az's clock, the sign-in stand-in's tokens and Azurite's OAuth checks agree: a user delegation SAS works
    listed = az_json(stack.az("hsm-backup", "list", "--storage-container-uri", stack.container_uri()))
    assert made["folderName"] in json.dumps(listed)
    assert abs(access_token_expiry(stack) - (ahead + timedelta(hours=1))) < NEAR

    stack.set_clock(timedelta(0))
    # no token from three days ahead is left in az's cache: the next one is minted on the real clock
    assert abs(access_token_expiry(stack) - (datetime.now(timezone.utc) + timedelta(hours=1))) < NEAR
    again = backup(stack, "hsmclock")
    assert again["status"] == "Succeeded", again
    assert abs(stamp(again["folderName"]) - datetime.now(timezone.utc)) < NEAR
    for when in blob_times(stack, again["folderName"]):
        assert abs(when - datetime.now(timezone.utc)) < NEAR

    stack.set_clock(-timedelta(days=1))  # behind the real clock: the token cached just now is from the future
    behind = backup(stack, "hsmclock")
    assert abs(stamp(behind["folderName"]) - (datetime.now(timezone.utc) - timedelta(days=1))) < NEAR
