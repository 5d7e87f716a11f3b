"""Garbage holding Qt objects is freed in the main thread, never in a SIP or audio
thread (ui/main_thread_gc.py says why: dangling timers, then a segfault)."""

from __future__ import annotations

import gc
import threading
import weakref

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication

from ui.main_thread_gc import MainThreadCollector


class Holder(QObject):
    """A QObject that can hold a timer and itself (a reference cycle)."""

    timer: QTimer
    itself: QObject


def abandon_a_cycle(freed_in: list[int]) -> weakref.ref[QObject]:
    """A QObject with a running timer, kept alive only by a reference cycle; the weak
    reference's callback notes the thread that frees it."""
    holder = Holder()
    holder.timer = QTimer(holder)
    holder.timer.start(60_000)
    holder.itself = holder
    return weakref.ref(holder, lambda _: freed_in.append(threading.get_ident()))


def churn() -> None:
    """Allocate container objects, as a busy thread does: crosses gc's thresholds."""
    for _ in range(20):
        [[i] for i in range(20_000)]


def test_a_busy_thread_does_not_free_qt_garbage(qapp: QApplication) -> None:
    gc.enable()  # the desk's starting point (the suite's fixture disables it for Qt tests)
    collector = MainThreadCollector(interval_ms=10)
    try:
        assert not gc.isenabled()
        freed_in: list[int] = []
        ref = abandon_a_cycle(freed_in)
        worker = threading.Thread(target=churn)
        worker.start()
        worker.join()
        assert freed_in == []  # the worker's allocations collected nothing
        kept = [[i] for i in range(2_000)]  # past the young generation's threshold
        for _ in range(200):
            qapp.processEvents()
            if freed_in:
                break
            threading.Event().wait(0.01)
        assert freed_in == [threading.get_ident()] and ref() is None
        del kept
    finally:
        collector.stop()
        collector.deleteLater()
    assert gc.isenabled()


def test_without_the_collector_the_busy_thread_would_free_it(qapp: QApplication) -> None:
    """The test above can fail: with automatic collection, the worker frees the cycle.
    (The timer is stopped first, so the object dies cleanly even in the wrong thread.)"""
    gc.enable()
    freed_in: list[int] = []
    holder = Holder()
    holder.itself = holder
    ref = weakref.ref(holder, lambda _: freed_in.append(threading.get_ident()))
    del holder
    worker = threading.Thread(target=churn)
    worker.start()
    worker.join()
    assert ref() is None
    assert len(freed_in) == 1 and freed_in[0] != threading.get_ident()
