"""Redaction: every form of a secret, in every field of a log record, for every handler, on every thread."""

import io
import logging
import threading
from urllib.parse import parse_qs, quote, quote_plus

import pytest

from azext_hsmbackup._secrets import MASK, clean_record, redact, secret_forms, secrets_redacted

# A signature with the three characters URL encoding changes ('+', '/', '=') as a real SAS carries it: encoded.
SIG_DECODED = "ab+cd/ef+gh=="
SIG = quote(SIG_DECODED, safe="")  # ab%2Bcd%2Fef%2Bgh%3D%3D
SAS = f"sv=2025-01-05&sp=crdw&se=2030-01-01T00%3A00%3A00Z&sr=c&sig={SIG}"
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq"  # no sig=: only registration masks it

# Every way the SDK, a library or a service may spell the signature or the token.
FORMS = {
    "as given": SAS,
    "with ?": "?" + SAS,
    "signature alone": SIG,
    "signature lowercase escapes": SIG.lower(),
    "decoded (parse_qs)": parse_qs(SAS)["sig"][0],
    "decoded, + as space": SIG_DECODED.replace("+", " "),
    "decoded, + as %2B": SIG_DECODED.replace("+", "%2B"),
    "encoded with +": quote_plus(SIG_DECODED.replace("+", " ")),
    "whole token encoded": quote(SAS, safe=""),
    "whole token decoded": "sv=2025-01-05&sp=crdw&se=2030-01-01T00:00:00Z&sr=c&sig=" + SIG_DECODED,
}


def registered_leaks(text, *secrets):
    """The pieces of the signature left in `text` after redaction (any 4 characters of it in a row)."""
    cleaned = redact(text, secrets)
    core = "cd/ef"
    return cleaned if any(piece in cleaned for piece in (SIG, SIG_DECODED, core, "cd%2Fef", "cd%2fef")) else None


@pytest.mark.parametrize("text", FORMS.values(), ids=FORMS.keys())
def test_every_form_of_a_registered_sas_is_masked(text):
    assert registered_leaks(f"body={{'token': '{text}'}}", SAS) is None


@pytest.mark.parametrize("text", FORMS.values(), ids=FORMS.keys())
def test_every_form_is_masked_when_only_the_token_with_its_question_mark_was_registered(text):
    assert registered_leaks(f"x {text} y", "?" + SAS + " ") is None


def test_a_secret_that_is_not_a_sas_is_masked_where_no_sig_pattern_could_find_it():
    assert redact(f"key={ACCOUNT_KEY}.", [ACCOUNT_KEY]) == f"key={MASK}."
    assert redact(f"key={ACCOUNT_KEY}.") == f"key={ACCOUNT_KEY}.", "an unregistered key is not a sig= value"


def test_masking_keeps_the_text_around_the_secret():
    assert redact(f"PUT /c?{SAS} done", [SAS]) == f"PUT /c?{MASK} done"
    assert redact(f"the sig {SIG_DECODED} was wrong", [SAS]) == f"the sig {MASK} was wrong"


def test_no_secret_none_or_blank_masks_nothing_but_sig_values():
    assert redact("plain text", [None, "", "   "]) == "plain text"
    assert secret_forms(None) == set() and secret_forms("  ?  ") == set()


def test_secrets_shorter_than_four_characters_are_not_registered_but_four_are():
    assert secret_forms("abc") == set()
    assert "abcd" in secret_forms("abcd")
    assert redact("abc abcd", ["abc"]) == "abc abcd"
    assert redact("xabcdx", ["abcd"]) == f"x{MASK}x"


def test_a_short_signature_is_not_registered_alone_but_a_four_character_one_is():
    assert "xyz" not in secret_forms("sv=1&sig=xyz")
    assert "wxyz" in secret_forms("sv=1&sig=wxyz")
    assert redact("signed wxyz", ["sv=1&sig=wxyz"]) == f"signed {MASK}"


def test_a_signature_is_found_only_as_the_sig_field():
    assert "wxyz" not in secret_forms("sv=1&xsig=wxyz"), "xsig= is another field, not the signature"
    assert "wxyz" in secret_forms("sig=wxyz&sv=1") and "wxyz" in secret_forms("?sig=wxyz")
    assert "wxyz" in secret_forms("SIG=wxyz&sv=1"), "a field name in another case still names the signature"


def test_forms_are_case_insensitive_for_percent_escapes():
    assert redact("ab%2bcd%2fef%2bgh%3d%3d", [SAS]) == MASK


def test_the_longest_form_wins_when_one_secret_starts_another():
    assert redact("abcdefgh", ["abcd", "abcdefgh"]) == MASK
    assert redact("abcdefgh", ["abcdefgh", "abcd"]) == MASK


UNREGISTERED = {
    "query": ("GET /c?sv=1&sig=SECRETSIG&se=2", f"GET /c?sv=1&sig={MASK}&se=2"),
    "upper case": ("SIG=SECRETSIG", f"SIG={MASK}"),
    "encoded =": ("u=https%3A%2F%2Fa%2Fc%3Fsig%3DSECRETSIG", f"u=https%3A%2F%2Fa%2Fc%3Fsig%3D{MASK}"),
    "quoted": ("{'u': 'x?sig=SECRETSIG'}", f"{{'u': 'x?sig={MASK}'}}"),
    "double quoted": ('{"u": "x?sig=SECRETSIG"}', f'{{"u": "x?sig={MASK}"}}'),
    "then space": ("sig=SECRETSIG and", f"sig={MASK} and"),
    "then tag": ("<u>sig=SECRETSIG</u>", f"<u>sig={MASK}</u>"),
    "then >": ("<sig=SECRETSIG>", f"<sig={MASK}>"),
    "then backslash": ('"sig=SECRETSIG\\"', f'"sig={MASK}\\"'),
    "one character": ("sig=S", f"sig={MASK}"),
    "empty": ("sig=&sv=1", "sig=&sv=1"),
}


@pytest.mark.parametrize(("text", "expected"), UNREGISTERED.values(), ids=UNREGISTERED.keys())
def test_any_sig_value_is_masked_even_unregistered(text, expected):
    assert redact(text) == expected


# ---- log records ---------------------------------------------------------------------------------------------


class Recorder(logging.Handler):
    """Keeps each record and its formatted text (with any extra field) as a handler added by a library would."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records, self.lines = [], []
        self.setFormatter(logging.Formatter("%(message)s|%(detail)s", defaults={"detail": ""}))

    def emit(self, record):
        self.records.append(record)
        self.lines.append(self.format(record))

    def text(self):
        return "\n".join(self.lines) + "".join(repr(r.args) + repr(vars(r)) for r in self.records)


@pytest.fixture
def library_logger():
    """A library's logger (propagation off, as some libraries do) and a cleanup of every handler we add."""
    logger = logging.getLogger("some.library.http")
    logger.setLevel(logging.DEBUG)
    added = []

    def attach(target=logger):
        recorder = Recorder()
        target.addHandler(recorder)
        added.append((target, recorder))
        return recorder

    yield logger, attach
    for target, recorder in added:
        target.removeHandler(recorder)


class Body:
    def __str__(self):
        return f"Body(token={SAS})"


RECORD_CALLS = {
    "msg": lambda log: log.debug(f"Request body: {SAS}"),
    "msg decoded": lambda log: log.debug("sig=" + SIG_DECODED),
    "tuple args": lambda log: log.debug("Request URL: %r, body %s", "https://a/c", SAS),
    "dict args": lambda log: log.debug("%(url)s %(token)s", {"url": "https://a/c", "token": SIG_DECODED}),
    "object arg": lambda log: log.debug("body %s", Body()),
    "object msg": lambda log: log.debug(Body()),
    "extra": lambda log: log.debug("request", extra={"detail": f"token={SIG_DECODED}"}),
}


def _raise_and_log(log):
    try:
        raise ValueError(f"storage refused {SIG_DECODED.replace('+', ' ')}")
    except ValueError:
        log.exception("failed")


RECORD_CALLS["exc_info"] = _raise_and_log


@pytest.mark.parametrize("call", RECORD_CALLS.values(), ids=RECORD_CALLS.keys())
def test_a_handler_added_inside_the_block_never_sees_the_secret(library_logger, call):
    logger, attach = library_logger
    with secrets_redacted(SAS):
        recorder = attach()
        call(logger)
    assert recorder.records, "the record reached the handler"
    assert "cd/ef" not in recorder.text() and "cd%2Fef" not in recorder.text()


def _log_with_stack(log):
    log.debug("here", stack_info=True)  # StackFrameSecret42: the stack text quotes this source line


def test_stack_info_holding_the_secret_is_masked(library_logger):
    logger, attach = library_logger
    recorder = attach()
    with secrets_redacted("StackFrameSecret42"):
        _log_with_stack(logger)
    stack = recorder.records[0].stack_info
    assert "_log_with_stack" in stack and f"# {MASK}: the stack text" in stack and "Frame" not in stack


def test_the_exception_text_is_masked_and_still_shown(library_logger):
    logger, attach = library_logger
    recorder = attach()
    with secrets_redacted(SAS):
        _raise_and_log(logger)
    record = recorder.records[0]
    assert record.exc_info is None and "ValueError: storage refused ***" in record.exc_text
    assert "ValueError: storage refused ***" in recorder.lines[0]


def test_a_handler_on_the_root_logger_added_inside_the_block_is_covered():
    root = logging.getLogger()
    recorder = Recorder()
    with secrets_redacted(SAS):
        root.addHandler(recorder)
        try:
            logging.getLogger("azure.core.pipeline.policies.http_logging_policy").warning("body %s", SAS)
        finally:
            root.removeHandler(recorder)
    assert recorder.lines == [f"body {MASK}|"]


def test_a_logger_filter_sees_the_record_already_clean(library_logger):
    logger, _ = library_logger
    seen = []

    def spy(record):
        seen.append(record.getMessage())
        return True

    logger.addFilter(spy)
    try:
        with secrets_redacted(SAS):
            logger.debug("body %s", SAS)
    finally:
        logger.removeFilter(spy)
    assert seen == [f"body {MASK}"]


def test_a_field_set_after_the_record_was_made_is_masked_before_the_handlers(library_logger):
    logger, attach = library_logger
    recorder = attach()

    def stamp(record):  # a library filter that adds a field after creation
        record.detail = f"url=https://a/c?{SAS}"
        return True

    logger.addFilter(stamp)
    try:
        with secrets_redacted(SAS):
            logger.debug("request")
    finally:
        logger.removeFilter(stamp)
    assert recorder.lines == [f"request|url=https://a/c?{MASK}"]


def test_records_made_on_another_thread_are_masked(library_logger):
    logger, attach = library_logger
    recorder = attach()
    with secrets_redacted(SAS):
        worker = threading.Thread(target=lambda: logger.debug("poll %s", SIG_DECODED))
        worker.start()
        worker.join()
    assert recorder.lines == [f"poll {MASK}|"]


def test_the_arguments_are_rendered_once_and_dropped(library_logger):
    logger, attach = library_logger
    recorder = attach()
    with secrets_redacted(SAS):
        logger.debug("%s and %s", "a", SAS)
    record = recorder.records[0]
    assert record.args == () and record.msg == f"a and {MASK}"


def test_a_record_that_cannot_be_formatted_is_kept_masked_not_reported_raw(library_logger, capsys):
    logger, attach = library_logger
    recorder = attach()
    with secrets_redacted(SAS):
        logger.debug("%s %s", SAS)  # noqa: PLE1206 - one argument short: logging would report it with the raw argument
    assert recorder.lines == [f"%s %s ('{MASK}',)|"]
    assert SIG not in capsys.readouterr().err


def test_clean_record_masks_every_text_field():
    record = logging.LogRecord("n", logging.INFO, "p", 1, "m %s", (SAS,), None, sinfo=f"Stack {SIG}")
    record.detail = SIG_DECODED
    record.number = 7
    clean_record(record, lambda text: text.replace(SIG, MASK).replace(SIG_DECODED, MASK))
    assert (record.msg, record.args, record.stack_info, record.detail, record.number) == (
        f"m sv=2025-01-05&sp=crdw&se=2030-01-01T00%3A00%3A00Z&sr=c&sig={MASK}",
        (),
        f"Stack {MASK}",
        MASK,
        7,
    )


def test_outside_the_block_nothing_is_touched_and_logging_is_as_before(library_logger):
    logger, attach = library_logger
    factory, call_handlers = logging.getLogRecordFactory(), logging.Logger.callHandlers
    with secrets_redacted(SAS):
        assert logging.getLogRecordFactory() is not factory and logging.Logger.callHandlers is not call_handlers
    assert logging.getLogRecordFactory() is factory and logging.Logger.callHandlers is call_handlers
    recorder = attach()
    logger.debug("after %s", ACCOUNT_KEY)
    assert recorder.lines == [f"after {ACCOUNT_KEY}|"] and recorder.records[0].args == (ACCOUNT_KEY,)


def test_nested_blocks_mask_both_secrets_and_the_outer_one_after_the_inner_closes(library_logger):
    logger, attach = library_logger
    recorder = attach()
    minted_key = "MintedUserDelegationKey0123456789"
    with secrets_redacted(ACCOUNT_KEY):
        with secrets_redacted(minted_key):
            logger.debug("%s %s", ACCOUNT_KEY, minted_key)
        logger.debug("%s %s", ACCOUNT_KEY, minted_key)
    logger.debug("%s", ACCOUNT_KEY)
    assert recorder.lines == [f"{MASK} {MASK}|", f"{MASK} {minted_key}|", f"{ACCOUNT_KEY}|"]


def test_a_block_with_no_secret_still_masks_sig_values(library_logger):
    logger, attach = library_logger
    recorder = attach()
    with secrets_redacted(None):
        logger.debug("GET /c?sig=abc")
    assert recorder.lines == [f"GET /c?sig={MASK}|"]


def test_blocks_open_on_two_threads_share_one_hook_and_both_secrets():
    logger = logging.getLogger("some.library.threads")
    logger.setLevel(logging.DEBUG)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    inside, release = threading.Event(), threading.Event()

    def other():
        with secrets_redacted("OtherThreadSecret"):
            inside.set()
            release.wait(10)

    worker = threading.Thread(target=other)
    worker.start()
    try:
        inside.wait(10)
        with secrets_redacted(ACCOUNT_KEY):
            logger.debug("%s OtherThreadSecret", ACCOUNT_KEY)
        logger.debug("still OtherThreadSecret")
    finally:
        release.set()
        worker.join()
        logger.removeHandler(handler)
    logger.addHandler(handler)
    logger.debug("done OtherThreadSecret")
    logger.removeHandler(handler)
    assert stream.getvalue().splitlines() == [f"{MASK} {MASK}", f"still {MASK}", "done OtherThreadSecret"]


def test_a_factory_someone_installs_on_top_of_ours_is_kept_and_ours_goes_quiet(library_logger):
    logger, attach = library_logger
    recorder = attach()
    original = logging.getLogRecordFactory()
    tagged = []
    try:
        with secrets_redacted(ACCOUNT_KEY):
            ours = logging.getLogRecordFactory()

            def theirs(*args, **kwargs):
                tagged.append(1)
                return ours(*args, **kwargs)

            logging.setLogRecordFactory(theirs)
            logger.debug("%s", ACCOUNT_KEY)
        assert logging.getLogRecordFactory() is theirs, "their factory must stay"
        logger.debug("%s", ACCOUNT_KEY)
    finally:
        logging.setLogRecordFactory(original)
    assert tagged == [1, 1] and recorder.lines == [f"{MASK}|", f"{ACCOUNT_KEY}|"]


def test_a_call_handlers_hook_someone_installs_on_top_of_ours_is_kept():
    original = logging.Logger.callHandlers
    try:
        with secrets_redacted(ACCOUNT_KEY):
            ours = logging.Logger.callHandlers

            def theirs(logger, record):
                ours(logger, record)

            logging.Logger.callHandlers = theirs
        assert logging.Logger.callHandlers is theirs
    finally:
        logging.Logger.callHandlers = original


def test_an_exception_inside_the_block_still_uninstalls(library_logger):
    factory = logging.getLogRecordFactory()
    with pytest.raises(RuntimeError), secrets_redacted(SAS):
        raise RuntimeError("boom")
    assert logging.getLogRecordFactory() is factory


# ---- spellings a mutation run showed untested ------------------------------------------------------------------


def test_only_question_marks_are_stripped_from_the_front():
    assert redact("key XAbc123", ["XAbc123"]) == f"key {MASK}"


def test_a_secret_is_always_masked_as_given_even_with_both_plus_and_space():
    assert redact("abc+def ghi", ["abc+def ghi"]) == MASK


def test_a_secret_given_with_a_space_is_masked_with_a_plus_where_nothing_else_is_encoded():
    assert redact("ab+cd/ef==", ["ab cd/ef=="]) == MASK


def test_a_secret_with_a_space_and_a_slash_is_masked_fully_percent_encoded():
    assert redact("ab%20cd%2Fef12", ["ab cd/ef12"]) == MASK


def test_the_longest_form_wins_whatever_the_case_of_the_shorter_one():
    assert redact("ABCDEF", ["abcd", "ABCDEF"]) == MASK


def test_the_factory_passes_keyword_arguments_through():
    with secrets_redacted(SAS):
        record = logging.getLogRecordFactory()(
            "n", logging.INFO, "p", 1, "m", (), None, func="caller", sinfo=f"Stack {SIG}"
        )
    assert record.funcName == "caller" and record.stack_info == f"Stack {MASK}"
