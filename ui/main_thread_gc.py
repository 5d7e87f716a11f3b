"""Python's cyclic garbage collector, run only in Qt's main thread.

The desk runs Python in other threads too (the SIP line, the audio callbacks, asyncio's
executor). Automatic collection happens in whichever thread allocates when a threshold
is crossed; when that thread frees a QObject caught in a reference cycle, ~QObject
cannot unregister the object's timers from the main thread's dispatcher ("Timers cannot
be stopped from another thread"), and the next timer tick calls into freed memory: a
segfault in QTimerInfoList::activateTimers, at a random later moment. (The test suite
met it twice in a row, after the desk tests.) So automatic collection is switched off
and the main thread collects on a timer, one generation at a time, with the
interpreter's own thresholds.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

#: Often enough that garbage does not pile up; cheap (a young-generation pass).
INTERVAL_MS = 500


class MainThreadCollector(QObject):
    def __init__(self, parent: QObject | None = None, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(parent)
        self._thresholds = gc.get_threshold()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.collect)
        self._timer.start(interval_ms)

    def collect(self) -> int:
        """Collect the generations whose counts crossed their thresholds, as the
        interpreter would have; returns the number of objects found unreachable."""
        count0, count1, count2 = gc.get_count()
        t0, t1, t2 = self._thresholds
        if count0 <= t0:
            return 0
        if count1 <= t1:
            return gc.collect(0)
        if count2 <= t2:
            return gc.collect(1)
        return gc.collect(2)

    def stop(self) -> None:
        """Back to automatic collection (after one last pass in this thread)."""
        self._timer.stop()
        gc.collect()
        gc.enable()


def install(app: QObject) -> MainThreadCollector:
    """Collect in the main thread for the application's lifetime."""
    return MainThreadCollector(app)
