"""Moves this Python process's clock by HSMBACKUP_CLOCK_OFFSET_S seconds (the local stack's Stack.set_clock).

Python imports `sitecustomize` at start-up from sys.path; Stack.env() puts this directory on PYTHONPATH only when
the stack's clock is shifted, so an az process agrees with the stack about "now" (time.time, datetime.now, ...;
time.monotonic is left alone, so timeouts still measure real time). A Python without time_machine (an old az
release's venv) refuses to run rather than run with the real clock among pieces that have moved theirs.
"""

import os
import sys


def _travel():
    raw = os.environ.get("HSMBACKUP_CLOCK_OFFSET_S", "").strip()
    try:
        offset = float(raw or 0)
    except ValueError:
        offset = None
    if offset == 0:
        return
    try:
        if offset is None:
            raise ValueError(f"HSMBACKUP_CLOCK_OFFSET_S={raw!r} is not a number of seconds")
        import time

        import time_machine
    except (ImportError, ValueError) as exc:
        sys.stderr.write(f"hsmbackup test clock: cannot shift this Python's clock ({exc}); refusing to run\n")
        sys.stderr.flush()
        os._exit(70)  # EX_SOFTWARE, at once: nothing of the program runs with the wrong clock
    time_machine.travel(time.time() + offset, tick=True).start()


_travel()
