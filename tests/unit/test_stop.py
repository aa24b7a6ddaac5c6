"""Stopping (Ctrl+C, SIGTERM) and the prompt, without the network: the exit codes and what the line says."""

import os
import signal
from types import SimpleNamespace

import pytest

from azext_hsmbackup._stop import StartWatch, Terminated, sigterm_as_interrupt, stops_with
from azext_hsmbackup.errors import EXIT_BAD_INPUT, EXIT_CANCELLED, EXIT_INTERRUPTED, EXIT_TERMINATED, ExitWith
from azext_hsmbackup.model.target import Target
from azext_hsmbackup.operations import job, prompt

TARGET = Target("https://h.managedhsm.azure.net", "h", "https://a.blob.core.windows.net/backups", "sas", "sv=1&sig=S")


@pytest.mark.parametrize(("stop", "code"), [(KeyboardInterrupt, EXIT_INTERRUPTED), (Terminated, EXIT_TERMINATED)])
def test_a_stop_becomes_one_error_line_and_its_exit_code(stop, code):
    with pytest.raises(ExitWith) as info, stops_with(lambda: "Stopped. The backup job j1 keeps running."):
        raise stop()
    assert info.value.code == code and info.value.error.error_msg == "Stopped. The backup job j1 keeps running."


def test_sigterm_is_ours_only_inside_the_block():
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Terminated), sigterm_as_interrupt():
        assert signal.getsignal(signal.SIGTERM) is not before
        os.kill(os.getpid(), signal.SIGTERM)
    assert signal.getsignal(signal.SIGTERM) is before


class _Request:
    def __init__(self, headers, content=None):
        self.http_request = SimpleNamespace(headers=headers, content=content)


def test_start_watch_tells_the_challenge_probe_from_the_start_request():
    seen = []

    def start(client, **kwargs):  # what the SDK's pipeline does with the per-call hooks
        seen.append(kwargs["_polling_interval"])
        kwargs["raw_request_hook"](_Request({"Content-Length": "0"}))  # the bodiless, token-less challenge probe
        assert not watch.may_have_started
        kwargs["raw_response_hook"](object())  # its 401: the token and the real request come next
        assert watch.may_have_started

    watch = StartWatch()
    assert not watch.may_have_started
    watch.watching(start)("client", _polling_interval=1)
    assert seen == [1] and watch.called

    direct = StartWatch()  # no probe (a cached challenge): the first request carries the body and the token
    direct.watching(lambda client, **kw: kw["raw_request_hook"](_Request({"Authorization": "Bearer x"}, b"{}")))(None)
    assert direct.may_have_started


@pytest.mark.parametrize(
    ("job_id", "may", "says"),
    [
        ("j1", True, "az hsm-backup show --id https://h.managedhsm.azure.net --job-id j1"),
        (None, False, "no job was started"),
        (None, True, "az hsm-backup list --storage-container-uri https://a.blob.core.windows.net/backups --hsm-name h"),
    ],
)
def test_the_stop_line_names_the_job_or_says_what_may_have_happened(job_id, may, says):
    assert says in job.stopped_starting(TARGET, "backup", job_id, may)


def test_a_stop_during_a_storage_call_is_130_with_the_container_named():
    def interrupted():
        raise KeyboardInterrupt

    with pytest.raises(ExitWith) as info:
        job.storage_call(interrupted, TARGET)
    assert info.value.code == EXIT_INTERRUPTED and TARGET.container_uri in info.value.error.error_msg


class _Config:
    def __init__(self, value):
        self.value = value

    def getboolean(self, section, option, fallback=None):
        assert (section, option) == ("core", "disable_confirm_prompt")
        if self.value is None:
            return fallback
        if self.value not in ("true", "false"):
            raise ValueError(f"Not a boolean: {self.value}")
        return self.value == "true"


def ask(monkeypatch, config_value, answer):
    from knack import prompting

    asked = []

    def prompt_y_n(question):
        asked.append(question)
        if isinstance(answer, type) and issubclass(answer, BaseException):
            raise answer()
        return answer

    monkeypatch.setattr(prompting, "prompt_y_n", prompt_y_n)
    prompt.confirm("Restore HSM h?", flag="--yes", cli_ctx=SimpleNamespace(config=_Config(config_value)))
    return asked


def test_disable_confirm_prompt_answers_yes_without_asking(monkeypatch):
    assert ask(monkeypatch, "true", False) == []


@pytest.mark.parametrize(
    ("config_value", "answer", "code"),
    [
        (None, False, EXIT_CANCELLED),
        ("false", False, EXIT_CANCELLED),
        ("sometimes", True, EXIT_BAD_INPUT),
        (None, KeyboardInterrupt, EXIT_INTERRUPTED),
    ],
)
def test_prompt_outcomes(monkeypatch, config_value, answer, code):
    with pytest.raises(ExitWith) as info:
        ask(monkeypatch, config_value, answer)
    assert info.value.code == code


def test_no_terminal_is_bad_input(monkeypatch):
    from knack.prompting import NoTTYException

    with pytest.raises(ExitWith) as info:
        ask(monkeypatch, None, NoTTYException)
    assert info.value.code == EXIT_BAD_INPUT and "--yes" in info.value.error.error_msg


def test_yes_at_the_prompt_goes_on(monkeypatch):
    assert ask(monkeypatch, None, True) == ["Restore HSM h?"]
