"""Adaptive batching: the images of concurrent requests for one model gathered into one
onnxruntime call, run off the event loop.

A request is announced when it arrives (`coming`), before its images are decoded, and queued with
its images once they are (`Ticket.infer`). The batcher runs one batch at a time on a thread of its
own: when it is free it takes the queued requests, first come first served, up to
`max_batch_size` images, and waits for the requests still being decoded at most
`max_batch_delay_ms` milliseconds after the first of them was queued. A lone request on an idle
server runs at once: nothing else is coming. Under load the requests that arrive while a batch runs
make up the next one.

Each request gets exactly its own rows. A request whose client went away is dropped before its
batch runs, or its rows are dropped after. Should onnxruntime fail a batch, its requests run one
by one, so that only a request that fails alone gets the error.
"""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np


@dataclass
class _Queued:
    images: np.ndarray
    answer: asyncio.Future
    queued_at: float = field(default_factory=time.monotonic)


class Ticket:
    """One announced request: `infer` queues its images and waits for its rows."""

    def __init__(self, batcher: "Batcher"):
        self.batcher, self.queued = batcher, False

    async def infer(self, images: np.ndarray) -> np.ndarray:
        self.queued = True
        return await self.batcher.queue(images)


class Batcher:
    """Runs `run` (uint8 [N, 32, 32, 3] -> float32 [N, classes]) on batches of the requests'
    images; `max_batch_size` 1 runs every request alone, as it comes."""

    def __init__(
        self,
        run: Callable[[np.ndarray], np.ndarray],
        max_batch_size: int,
        max_batch_delay_ms: float,
    ):
        self.run, self.max_batch_size = run, max_batch_size
        self.delay = max_batch_delay_ms / 1000  # seconds, as time.monotonic counts
        self._pending: list[_Queued] = []
        self._coming = 0  # announced requests whose images are not queued yet
        self._changed: asyncio.Event | None = None
        self._worker: asyncio.Task | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="batch")

    @contextlib.asynccontextmanager
    async def coming(self) -> AsyncIterator[Ticket]:
        """Announce a request while its images are decoded: a batch waits for it (at most the
        delay). Leaving without queueing (a bad request) withdraws it."""
        ticket = Ticket(self)
        self._coming += 1
        try:
            yield ticket
        finally:
            if not ticket.queued:
                self._coming -= 1
                self._signal()

    async def queue(self, images: np.ndarray) -> np.ndarray:
        """Queue a request's images (an announced one's, through its Ticket) and return its rows
        of the batch they ran in."""
        loop = asyncio.get_running_loop()
        self._coming = max(self._coming - 1, 0)  # arrived: no longer waited for
        if self.max_batch_size == 1:  # batching off: each request on its own, as they come
            return await loop.run_in_executor(None, self.run, images)
        queued = _Queued(images, loop.create_future())
        self._pending.append(queued)
        self._signal()
        if self._worker is None or self._worker.done():
            self._worker = loop.create_task(self._work())
        return await queued.answer

    def _signal(self) -> None:
        if self._changed is not None:
            self._changed.set()

    async def _work(self) -> None:
        self._changed = asyncio.Event()
        while self._pending:
            await self._gather()
            batch = self._take()
            if batch:
                await self._run(batch)

    async def _gather(self) -> None:
        """Wait for the requests being decoded, until the batch is full, none is coming, or the
        first queued request has waited `delay`."""
        assert self._changed is not None
        deadline = self._pending[0].queued_at + self.delay
        while self._coming > 0 and self._queued_images() < self.max_batch_size:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)

    def _queued_images(self) -> int:
        return sum(len(q.images) for q in self._pending if not q.answer.done())

    def _take(self) -> list[_Queued]:
        """The next batch: queued requests in order, up to max_batch_size images (a larger
        request alone); requests whose clients went away are dropped."""
        self._pending = [q for q in self._pending if not q.answer.done()]
        batch: list[_Queued] = []
        images = 0
        while self._pending:
            size = len(self._pending[0].images)
            if batch and images + size > self.max_batch_size:
                break
            batch.append(self._pending.pop(0))
            images += size
        return batch

    async def _run(self, batch: list[_Queued]) -> None:
        loop = asyncio.get_running_loop()
        together = np.concatenate([q.images for q in batch])
        try:
            probabilities = await loop.run_in_executor(self._executor, self.run, together)
        except Exception as error:
            if len(batch) == 1:
                _settle(batch[0], error=error)
                return
            for queued in batch:  # alone, so that only a request that fails alone fails
                await self._run([queued])
            return
        start = 0
        for queued in batch:
            end = start + len(queued.images)
            _settle(queued, rows=probabilities[start:end].copy())
            start = end


def _settle(
    queued: _Queued, rows: np.ndarray | None = None, error: BaseException | None = None
) -> None:
    """Give a request its rows (or the error of running it alone), unless its client went away."""
    if queued.answer.done():
        return
    if error is not None:
        queued.answer.set_exception(error)
    else:
        queued.answer.set_result(rows)
