"""Collect concurrent requests into batches for one model worker thread.

JAX is called from exactly one thread: HTTP handlers put a `Job` on a queue and await a future;
the worker takes the first waiting job, keeps collecting for a short window (or until
`batch_size` jobs), and runs each group of jobs with the same sampling settings through ONE
`generate` call. The sampler pads every batch to `batch_size` rows and a prompt-length bucket,
so batching costs no extra compilation: a lone request and a full batch run the same program.
While a batch runs, new requests queue up and form the next one, so under load batches fill
without any window at all.
"""

from __future__ import annotations

import asyncio
import dataclasses
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from gentool_jax.sample.sampling import SamplingSettings

# (prompts, settings, max_new_tokens, grammars=per prompt a `RowGrammar` or None,
# prefix_lengths=per prompt its toolset prefix's length or 0) -> per prompt the generated ids up
# to the first stop id.
Generator = Callable[..., list[list[int]]]


@dataclasses.dataclass(frozen=True)
class Job:
    prompt: list[int]
    max_new_tokens: int
    settings: SamplingSettings
    grammar: Any = None  # a `sample.constraint.RowGrammar` the reply is held to, or None
    prefix_length: int = 0  # leading tokens that are its toolset prefix (0: none)


@dataclasses.dataclass
class _Waiting:
    job: Job
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future


@dataclasses.dataclass
class BatchStats:
    """Counters for /metrics: how well concurrent requests were batched."""

    batches: int = 0  # generate() calls
    requests: int = 0  # jobs answered (or failed) by them
    largest_batch: int = 0


class Batcher:
    """Owns the model worker thread; `await submit(job)` returns the job's generated ids."""

    def __init__(self, generator: Generator, *, batch_size: int, window_s: float):
        self.generator, self.batch_size, self.window_s = generator, batch_size, window_s
        self.stats = BatchStats()
        self._queue: queue.Queue[_Waiting | None] = queue.Queue()
        self._thread = threading.Thread(target=self._work, name="gentool-serve-model",
                                        daemon=True)
        self._thread.start()

    async def submit(self, job: Job) -> list[int]:
        loop = asyncio.get_running_loop()
        waiting = _Waiting(job, loop, loop.create_future())
        self._queue.put(waiting)
        return await waiting.future

    def queued(self) -> int:
        return self._queue.qsize()

    def close(self) -> None:
        """Finish every job already queued, then stop the worker (jobs run in queue order, so
        the stop marker comes after all of them)."""
        self._queue.put(None)
        self._thread.join()

    def _work(self) -> None:
        closing = False
        while not closing:
            first = self._queue.get()
            if first is None:
                return
            batch, deadline = [first], time.monotonic() + self.window_s
            while len(batch) < self.batch_size:
                try:
                    item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if item is None:
                    closing = True
                    break
                batch.append(item)
            self._run(batch)

    def _run(self, batch: list[_Waiting]) -> None:
        groups: dict[SamplingSettings, list[_Waiting]] = {}
        for waiting in batch:
            groups.setdefault(waiting.job.settings, []).append(waiting)
        for settings, group in groups.items():
            longest = max(w.job.max_new_tokens for w in group)
            try:
                outputs: list[Any] = self.generator(
                    [w.job.prompt for w in group], settings, longest,
                    grammars=[w.job.grammar for w in group],
                    prefix_lengths=[w.job.prefix_length for w in group])
                # A shorter budget is a prefix of a longer one: each row is decoded on its own.
                outputs = [out[:w.job.max_new_tokens] for w, out in zip(group, outputs)]
                error = None
            except Exception as caught:  # reported to each waiting request, never kills the worker
                outputs, error = [None] * len(group), caught
            self.stats.batches += 1
            self.stats.requests += len(group)
            self.stats.largest_batch = max(self.stats.largest_batch, len(group))
            for waiting, output in zip(group, outputs):
                if not waiting.loop.is_closed():
                    waiting.loop.call_soon_threadsafe(_resolve, waiting.future, output, error)


def _resolve(future: asyncio.Future, output: list[int] | None, error: Exception | None
             ) -> None:
    if future.cancelled():  # the client went away
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(output)
