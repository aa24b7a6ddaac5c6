"""Work on several HSMs at once, in one process, so that Ctrl+C still stops the command at once.

Daemon threads: a stop (Ctrl+C, SIGTERM) reaches the main thread, which waits in short steps, and the process can
end without waiting for a thread that is still talking to an HSM; what a thread had started runs on on the HSM.
"""

import threading


def in_parallel(items, work, parallel, name="hsm-backup"):
    """[work(item) for item in items], at most `parallel` at a time; an exception in `work` is that item's result."""
    items = list(items)
    results = [None] * len(items)
    if not items:
        return results
    lock, done = threading.Lock(), threading.Event()
    state = {"next": 0, "finished": 0}

    def worker():
        while True:
            with lock:
                index = state["next"]
                if index >= len(items):
                    return
                state["next"] += 1
            try:
                results[index] = work(items[index])
            except Exception as ex:  # pylint: disable=broad-exception-caught
                results[index] = ex
            with lock:
                state["finished"] += 1
                if state["finished"] == len(items):
                    done.set()

    for number in range(max(1, min(parallel, len(items)))):
        threading.Thread(target=worker, name=f"{name}-{number}", daemon=True).start()
    while not done.wait(0.2):  # short waits: Ctrl+C reaches the main thread at once
        pass
    return results
