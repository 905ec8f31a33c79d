"""helpers.reporting.child: one function in a fresh interpreter (never a fork of a threaded process)."""
from __future__ import annotations

import os
import threading

import pytest

from helpers.data.validate import validate_folder
from helpers.reporting.child import run_in_child


def test_the_result_comes_back_from_another_process():
    assert run_in_child(os.getpid) != os.getpid()


def test_the_childs_exception_is_raised_here():
    with pytest.raises(ValueError, match="invalid literal"):
        run_in_child(int, "not a number")


def test_a_lock_held_by_a_thread_here_does_not_stop_the_child(tmp_path):
    """A forked child inherits a lock another thread holds and waits forever; a fresh interpreter does not."""
    held, release = threading.Event(), threading.Event()
    lock = threading.Lock()

    def hold():
        with lock:
            held.set()
            release.wait(120)

    worker = threading.Thread(target=hold, daemon=True)
    worker.start()
    held.wait(30)
    try:
        report = run_in_child(validate_folder, tmp_path)  # an empty folder: a report that says so, not a hang
        assert not report.ok
    finally:
        release.set()
        worker.join(30)
