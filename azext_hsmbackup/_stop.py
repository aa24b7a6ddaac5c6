"""Ctrl+C and SIGTERM at any moment: one line that says what keeps running, then exit 130 (SIGTERM: 143).

knack turns a KeyboardInterrupt into exit 1 with nothing said, and Python dies on SIGTERM without a word; a job
started on the HSM runs on either way, so the user must learn its id (or that one may have started).
"""

import signal
import threading
from contextlib import contextmanager

from azext_hsmbackup.errors import EXIT_INTERRUPTED, EXIT_TERMINATED, ExitWith


class Terminated(KeyboardInterrupt):
    """SIGTERM, taken down the same path as Ctrl+C."""


def _raise_terminated(signum, frame):  # pylint: disable=unused-argument
    raise Terminated()


@contextmanager
def sigterm_as_interrupt():
    """For the block, SIGTERM raises Terminated in the main thread; the previous handler comes back after."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGTERM"):
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


@contextmanager
def stops_with(describe):
    """Ctrl+C or SIGTERM inside the block: the error line describe() returns, exit 130 or 143.

    An az error line (logger.error) is what `--only-show-errors` still shows, and it passes through the redaction.
    """
    from azure.cli.core.azclierror import ManualInterrupt

    with sigterm_as_interrupt():
        try:
            yield
        except KeyboardInterrupt as stop:
            code = EXIT_TERMINATED if isinstance(stop, Terminated) else EXIT_INTERRUPTED
            raise ExitWith(ManualInterrupt(describe()), code) from None


class StartWatch:
    """How far the start request got, from the SDK's per-call hooks, so that a stop can be told honestly.

    In a new process the SDK first sends the Key Vault challenge probe, with no body and no token: it cannot start a
    job. Once anything else has gone out, or any answer has come back, a job may have started.
    A stop is acted on at once, never held until the HSM answers: that would send a start request (a restore!) the
    user had stopped before it went out.
    """

    def __init__(self):
        self.called = False
        self.real_request_sent = False
        self.answered = False

    def watching(self, start):
        """The SDK start call `start(client, **kwargs)`, watched through per-call hooks (they also see its polls)."""

        def watched(client, **kwargs):
            self.called = True
            return start(client, raw_request_hook=self._on_request, raw_response_hook=self._on_response, **kwargs)

        return watched

    def _on_request(self, pipeline_request):
        request = pipeline_request.http_request
        if request.headers.get("Authorization") or getattr(request, "content", None):
            self.real_request_sent = True

    def _on_response(self, _pipeline_response):
        self.answered = True

    @property
    def may_have_started(self):
        return self.called and (self.real_request_sent or self.answered)
