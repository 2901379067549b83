"""The worker threads that plain (non-async) methods run in: daemon threads, so a stuck method never keeps the process alive."""

from __future__ import annotations

import concurrent.futures
import queue
import threading
from typing import Any, Callable

__all__ = ["MethodThreads"]


class MethodThreads(concurrent.futures.Executor):
    """Up to ``max_workers`` daemon threads, started as work arrives.

    ``concurrent.futures.ThreadPoolExecutor`` joins its threads when the
    interpreter exits, so one method blocked forever kept the whole app
    alive after ``stop()``. These threads are daemons: when the process
    exits, a method still running in one is stopped where it is (its
    ``finally`` blocks do not run), as any daemon thread is.
    """

    def __init__(self, max_workers: int, name: str = "sidegears-method") -> None:
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        self.max_workers = max_workers
        self._name = name
        self._work: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._lock = threading.Lock()
        self._shut_down = False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        with self._lock:
            if self._shut_down:
                raise RuntimeError("cannot run new methods after shutdown")
            self._work.put((future, fn, args, kwargs))
            if self._idle:
                self._idle -= 1  # a waiting thread takes this work
            elif len(self._threads) < self.max_workers:
                thread = threading.Thread(
                    target=self._run, name=f"{self._name}_{len(self._threads)}", daemon=True
                )
                self._threads.append(thread)
                thread.start()
        return future

    def _run(self) -> None:
        while True:
            item = self._work.get()
            if item is None:
                return
            future, fn, args, kwargs = item
            if future.set_running_or_notify_cancel():
                try:
                    result = fn(*args, **kwargs)
                except BaseException as exc:  # noqa: BLE001  (handed to the caller, as ThreadPoolExecutor does)
                    future.set_exception(exc)
                else:
                    future.set_result(result)
                del future, fn, args, kwargs, item
            with self._lock:
                self._idle += 1

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._shut_down = True
            threads = list(self._threads)
        if cancel_futures:
            while True:
                try:
                    item = self._work.get_nowait()
                except queue.Empty:
                    break
                if item is not None:
                    item[0].cancel()
        for _ in threads:
            self._work.put(None)
        if wait:
            for thread in threads:
                thread.join()
