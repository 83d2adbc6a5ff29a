"""Bounded parallel calls from plain synchronous code.

XAPI calls spend their time waiting on the network, so threads over the pooled httpx client are
enough: ``run_all`` runs callables at most ``limit`` at a time and returns their results in
order (the first exception is raised once every call has finished, so no call is left running
behind the caller's back); ``run_each`` returns each result or exception instead, for work
across several pools where one pool failing must not hide the others.

A ``WorkerPool`` keeps its threads for the life of a connection and starts the ones a batch
needs (as many as it has calls, up to the limit) before handing any call over: a CLI run
whose only batch is its one read starts that many threads, no more (thread start-up was a
visible part of ``network create``'s client CPU). Starting threads *while* a batch is being
sent staggers it: every ``Thread.start`` waits until the new thread gets the GIL, which the
threads already parsing answers hold (XML-RPC parsing is Python code), so under load the
last calls of a batch left only after the first answers had come back. That was measured as a
third dependent round trip in a connection's first XML-RPC snapshot; with the threads started
up front, handing a batch over is one queue put per call and every call leaves at once.

Every batch is announced (``xapictl._batch``): each call's first request says it is sent with
the others, so the simulator's batch gate can hold their answers until all have arrived.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from xapictl._batch import announced

T = TypeVar("T")

DEFAULT_LIMIT = 16
SHARED_LIMIT = 64
"""Threads of the process-wide pool ``run_beside`` uses (started on demand, then kept)."""


class WorkerPool:
    """At most ``limit`` kept threads, started before the batch that needs them and kept
    until ``close()``.

    A batch of ``n`` calls finds ``min(n, limit)`` threads running before any of its calls is
    handed over (the threads it lacks are started first, and waited for), so every call
    leaves at once; a connection whose reads are one batch of eleven starts eleven threads,
    not ``limit``. A batch of one runs on the caller's thread."""

    def __init__(self, limit: int = DEFAULT_LIMIT, *, name: str = "xapictl-call") -> None:
        self.limit = max(1, limit)
        self._name = name
        self._threads: list[threading.Thread] = []
        self._workers: set[int] = set()
        self._inbox: queue.SimpleQueue[_Work | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._closed = False

    def _started(self, wanted: int) -> bool:
        """At least ``wanted`` threads (at most ``limit``) running; ``False`` once closed."""
        with self._lock:
            if self._closed:
                return False
            missing = min(wanted, self.limit) - len(self._threads)
            if missing > 0:
                arrived = threading.Semaphore(0)
                for _ in range(missing):
                    number = len(self._threads)
                    thread = threading.Thread(target=self._work, args=(arrived,), daemon=True,
                                              name=f"{self._name}_{number}")
                    self._threads.append(thread)
                    thread.start()
                for _ in range(missing):  # each has registered itself and waits for work
                    arrived.acquire()
            return True

    def _work(self, arrived: threading.Semaphore) -> None:
        self._workers.add(threading.get_ident())
        arrived.release()
        while (work := self._inbox.get()) is not None:
            work.run()
            del work

    def run_each(self, calls: Sequence[Callable[[], T]]) -> list[T | BaseException]:
        """Every call at once (at most ``limit`` running); each result or its exception."""
        if len(calls) <= 1 or self.limit == 1:
            return [_capture(call) for call in calls]
        if threading.get_ident() in self._workers or not self._started(len(calls)):
            # Closed, or called from one of our own workers: waiting on the pool from inside
            # it could deadlock, so this batch gets threads of its own.
            return run_each(calls, limit=self.limit)
        answers: queue.SimpleQueue[tuple[int, T | BaseException]] = queue.SimpleQueue()
        for index, call in enumerate(announced(calls, self.limit)):
            self._inbox.put(_Work(index, call, answers))
        results: list[T | BaseException] = [None] * len(calls)  # type: ignore[list-item]
        for _ in calls:
            index, result = answers.get()
            results[index] = result
        return results

    def run_all(self, calls: Sequence[Callable[[], T]]) -> list[T]:
        """Results in order, or the first exception (after every call has finished)."""
        return _raise_first(self.run_each(calls))

    def close(self) -> None:
        """Stop the threads (waits for running calls). Idempotent."""
        with self._lock:
            threads, self._threads = self._threads, []
            self._closed = True
        for _ in threads:
            self._inbox.put(None)
        for thread in threads:
            thread.join()


class _Work:
    """One call of a batch handed to a worker: its place in the batch and where to answer."""

    __slots__ = ("answers", "call", "index")

    def __init__(self, index: int, call: Callable[[], Any],
                 answers: queue.SimpleQueue[tuple[int, Any]]) -> None:
        self.index = index
        self.call = call
        self.answers = answers

    def run(self) -> None:
        self.answers.put((self.index, _capture_all(self.call)))


def run_each(calls: Sequence[Callable[[], T]], *, limit: int = DEFAULT_LIMIT
             ) -> list[T | BaseException]:
    """Run every call (at most ``limit`` at once); each result or the exception it raised."""
    if not calls:
        return []
    if len(calls) == 1 or limit <= 1:
        return [_capture(call) for call in calls]
    from concurrent.futures import ThreadPoolExecutor  # not loaded by a run that uses the pool

    with ThreadPoolExecutor(max_workers=min(limit, len(calls)),
                            thread_name_prefix="xapictl-call") as pool:
        return list(pool.map(_capture, announced(calls, limit)))


class _SideThread(threading.Thread):
    """One kept thread of ``run_beside``: runs a call, goes back to the idle list, and only
    then hands the result over, so a caller that waits for its result always finds the thread
    idle again (one login at a time needs exactly one thread, however loaded the machine)."""

    def __init__(self, threads: _SideThreads, number: int) -> None:
        super().__init__(name=f"xapictl-shared-{number}", daemon=True)
        self._threads = threads
        self.inbox: queue.SimpleQueue[tuple[Callable[[], Any], queue.SimpleQueue[Any]]] = (
            queue.SimpleQueue())

    def run(self) -> None:
        while True:
            call, answer = self.inbox.get()
            result = _capture_all(call)
            del call
            self._threads.idle(self)
            answer.put(result)
            del result, answer


class _SideThreads:
    def __init__(self) -> None:
        self.pid = os.getpid()
        self.started = 0
        self._idle: list[_SideThread] = []
        self._lock = threading.Lock()

    def idle(self, thread: _SideThread) -> None:
        with self._lock:
            self._idle.append(thread)

    def submit(self, call: Callable[[], Any]) -> queue.SimpleQueue[Any]:
        answer: queue.SimpleQueue[Any] = queue.SimpleQueue()
        with self._lock:
            thread = self._idle.pop() if self._idle else None
            if thread is None and self.started < SHARED_LIMIT:
                self.started += 1
                thread = _SideThread(self, self.started)
                thread.start()
        if thread is not None:
            thread.inbox.put((call, answer))
        else:  # every kept thread is busy: a thread of its own, not kept
            threading.Thread(target=lambda: answer.put(_capture_all(call)), daemon=True,
                             name="xapictl-side").start()
        return answer


_side: _SideThreads | None = None
_side_lock = threading.Lock()


def _side_threads() -> _SideThreads:
    """The process's kept threads; a forked child (which inherits the object but none of its
    threads) gets its own."""
    global _side
    with _side_lock:
        if _side is None or _side.pid != os.getpid():
            _side = _SideThreads()
        return _side


def run_beside(calls: Sequence[Callable[[], T]]) -> list[T]:
    """Results in order, or the first exception (after every call has finished): the first
    call runs on this thread, the others at the same time on the process's kept threads.

    For the few calls a login sends together: a fleet logs in to hundreds of pools, and
    starting threads for each login cost more CPU than the login's own requests. Kept threads
    are started on demand, at most ``SHARED_LIMIT``, and an idle one is always reused."""
    if len(calls) <= 1:
        return [call() for call in calls]
    calls = announced(calls, len(calls))
    threads = _side_threads()
    answers = [threads.submit(call) for call in calls[1:]]
    results: list[T | BaseException] = [_capture(calls[0])]
    results += [answer.get() for answer in answers]
    return _raise_first(results)


def start_beside(call: Callable[[], object]) -> None:
    """Start ``call`` on one of the process's kept threads and return at once. Its outcome
    is dropped: it keeps what it must tell (``XapiSession.login_ahead``)."""
    _side_threads().submit(call)


def run_all(calls: Sequence[Callable[[], T]], *, limit: int = DEFAULT_LIMIT) -> list[T]:
    """Run every call; the results in order, or the first exception (after all finished)."""
    return _raise_first(run_each(calls, limit=limit))


def _raise_first(results: list[T | BaseException]) -> list[T]:
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results  # type: ignore[return-value]  # no exceptions left in it


def _capture_all(call: Callable[[], T]) -> T | BaseException:
    """``_capture`` on a thread whose caller waits for an answer: even ``SystemExit`` and the
    like are handed over rather than ending the thread with the caller left waiting."""
    try:
        return call()
    except BaseException as exc:  # handed back to the waiting caller
        return exc


def _capture(call: Callable[[], T]) -> T | BaseException:
    try:
        return call()
    except Exception as exc:  # handed back to the caller, who decides
        return exc


__all__ = ["DEFAULT_LIMIT", "SHARED_LIMIT", "WorkerPool", "run_all", "run_beside", "run_each",
           "start_beside"]
