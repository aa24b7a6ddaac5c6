"""Work on several HSMs at once, in one process, so that Ctrl+C still stops the command at once.

Daemon threads: a stop (Ctrl+C, SIGTERM) reaches the main thread, which waits in short steps, and the process can
end without waiting for a thread that is still talking to an HSM; what a thread had started runs on on the HSM.
"""

import queue
import threading


def in_parallel(items, work, parallel, name="hsm-backup"):
    """[work(item) for item in items], at most `parallel` at a time; an exception in `work` is that item's result.

    `items` may be a generator: it runs in the calling thread and each item's work starts as soon as it is yielded,
    while the generator goes on (check freshness starts an HSM's check while the listing goes on). An exception of
    the generator itself is raised here."""
    results, todo, workers = [], queue.SimpleQueue(), []

    def worker():
        while True:
            job = todo.get()
            if job is None:
                return
            index, item = job
            try:
                results[index] = work(item)
            except Exception as ex:  # pylint: disable=broad-exception-caught
                results[index] = ex

    try:
        for item in items:
            results.append(None)
            todo.put((len(results) - 1, item))
            if len(workers) < max(1, parallel):
                workers.append(threading.Thread(target=worker, name=f"{name}-{len(workers)}", daemon=True))
                workers[-1].start()
    finally:
        for _ in workers:
            todo.put(None)  # each worker ends once the queue before it is done
    for thread in workers:
        while thread.is_alive():
            thread.join(0.2)  # short waits: Ctrl+C reaches the main thread at once
    return results
