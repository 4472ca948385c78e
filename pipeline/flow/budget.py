"""Time budgets for the stage thread: work over its budget is interrupted, not waited for.

A thread cannot be cancelled in Python, so a watchdog thread raises `ProcessingTimeout` in
the stage thread with `PyThreadState_SetAsyncExc`. The exception fires at the next bytecode
boundary, which the exact extractors, validation and spaCy's `nlp.pipe` (thinc's layers are
Python calling numpy) reach every few microseconds. What it cannot interrupt is one long call
into C that never returns to the interpreter: a single `re` match that backtracks, one numpy
or Cython call over a huge array, a blocking socket read. Those end on their own (the
extractors are linear, NER input is capped, clients have timeouts) and the interrupt lands as
soon as they return. And an exception that lands between a Python-level lock's acquire and
its try (a `threading.Condition`'s `__enter__`, `logging.Handler.acquire`) leaves that lock
held: the CPU stages take none in their loops, which is why only they are interruptible.

Only sections marked `interruptible()` are interrupted: the CPU stages. Stages that talk to
Elasticsearch (dedup state, the bulk sink) are bounded by their own timeouts and must end in
backpressure, never in a dead letter: a slow cluster is not the record's fault. A budget that
runs out outside an interruptible section makes the next one raise as it starts.
"""

from __future__ import annotations

import ctypes
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["Budget", "ProcessingTimeout"]


class ProcessingTimeout(BaseException):
    """The stage thread's budget ran out.

    A BaseException, like KeyboardInterrupt, and deliberately outside `PipelineError`: it is
    raised asynchronously anywhere in library code, and library code that catches `Exception`
    (retries, fallbacks) must not swallow it.
    """


def _raise_in(thread_id: int, exc: type[BaseException] | None) -> None:
    """Make `thread_id` raise `exc` at its next bytecode boundary; None cancels a pending one."""
    arg = ctypes.py_object(exc) if exc is not None else None
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), arg)


class Budget:
    """One watchdog thread guarding one stage thread's `limit()` at a time.

    Invariant, kept under `_lock`: an interrupt is sent only while the guarded thread is
    inside `interruptible()`, at most once per `limit()`, and every way out of an
    interruptible section either raises it or cancels it, so it never escapes `limit()`.
    While an interrupt may be pending, the guarded thread touches only `_lock`, a C lock
    whose `with` cannot be torn by it: an exception landing inside a Python-level
    `__enter__` (a `threading.Condition`'s) would leave that lock held for good.
    """

    def __init__(self) -> None:
        # Reentrant: an interrupted `interruptible()` generator left suspended is finalised by
        # the garbage collector in whichever thread runs it, perhaps one already holding the
        # lock (the watchdog's loop); a plain Lock would deadlock there. Still a C lock.
        self._lock = threading.RLock()
        self._wake = threading.Event()  # set by the guarded thread only when nothing is pending
        self._thread: threading.Thread | None = None
        self._target: int | None = None
        self._deadline: float | None = None
        self._inside = False
        self._expired = False
        self._sent = False
        self._closed = False

    @contextmanager
    def limit(self, seconds: float) -> Iterator[None]:
        """Give the calling thread `seconds` for the block; interruptible sections inside it
        raise `ProcessingTimeout` once they are spent. Not reentrant."""
        with self._lock:
            if self._target is not None:
                raise RuntimeError("Budget.limit is not reentrant")
            self._target = threading.get_ident()
            self._deadline = time.monotonic() + seconds
            self._expired = self._sent = self._inside = False
            self._start()
        self._wake.set()
        try:
            yield
        finally:
            with self._lock:
                self._disarm()
                self._target = self._deadline = None
                self._expired = False
            self._wake.set()

    @contextmanager
    def interruptible(self) -> Iterator[None]:
        """Mark the block as CPU work the watchdog may interrupt (a no-op outside `limit`)."""
        with self._lock:
            if self._target != threading.get_ident():
                guarded = False
            elif self._expired:
                raise ProcessingTimeout("time budget spent")
            else:
                guarded = self._inside = True
        try:
            yield
        finally:
            if guarded:
                with self._lock:
                    self._disarm()

    def close(self) -> None:
        """Stop the watchdog thread."""
        with self._lock:
            self._closed = True
            thread, self._thread = self._thread, None
        self._wake.set()
        if thread is not None:
            thread.join()

    def _disarm(self) -> None:
        # Under the lock, in the guarded thread: leave the section and cancel an interrupt
        # sent but not raised yet (if it was raised, cancelling is a no-op).
        self._inside = False
        if self._sent:
            self._sent = False
            assert self._target is not None
            _raise_in(self._target, None)

    def _start(self) -> None:
        if self._thread is None:
            self._closed = False
            # daemon: a stage thread stuck in C must not keep the process from exiting
            self._thread = threading.Thread(target=self._watch, name="stage-budget", daemon=True)
            self._thread.start()

    def _watch(self) -> None:
        while True:
            self._wake.clear()  # before reading the state: a later set() is never lost
            with self._lock:
                if self._closed:
                    return
                deadline = None if self._expired else self._deadline
                if deadline is not None and time.monotonic() >= deadline:
                    self._expired = True
                    if self._inside and self._target is not None:
                        self._sent = True
                        _raise_in(self._target, ProcessingTimeout)
                    continue
            self._wake.wait(None if deadline is None else deadline - time.monotonic())
