"""_parallel.in_parallel: order, the bound, an item's exception, and a generator whose items start as they come."""

import threading
import time

import pytest

from azext_hsmbackup._parallel import in_parallel


def test_results_keep_the_order_of_the_items_and_an_exception_is_that_items_result():
    def work(n):
        if n == 3:
            raise ValueError("three")
        time.sleep(0.01 * (5 - n))
        return n * 10

    results = in_parallel(range(5), work, 3)
    assert results[:3] == [0, 10, 20] and results[4] == 40
    assert isinstance(results[3], ValueError)


def test_never_more_than_parallel_at_once_and_only_as_many_threads_as_needed():
    lock, state = threading.Lock(), {"now": 0, "peak": 0, "threads": set()}

    def work(_):
        with lock:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
            state["threads"].add(threading.current_thread().name)
        time.sleep(0.02)
        with lock:
            state["now"] -= 1

    in_parallel(range(12), work, 4, name="judge")
    assert state["peak"] == 4
    assert state["threads"] == {f"judge-{n}" for n in range(4)}
    state["threads"].clear()
    in_parallel(range(2), work, 32, name="few")
    assert state["threads"] == {"few-0", "few-1"}


def test_nothing_to_do_is_an_empty_list():
    assert in_parallel([], lambda _: 1 / 0, 4) == []


def test_a_generators_items_start_while_it_goes_on():
    started = threading.Event()

    def items():
        yield "first"
        assert started.wait(5), "the first item's work did not start before the generator went on"
        yield "second"

    def work(item):
        started.set()
        return item.upper()

    assert in_parallel(items(), work, 2) == ["FIRST", "SECOND"]


def test_the_generators_own_exception_is_raised_after_the_items_it_gave():
    done = []

    def items():
        yield 1
        raise OSError("listing failed")

    with pytest.raises(OSError, match="listing failed"):
        in_parallel(items(), done.append, 2)
