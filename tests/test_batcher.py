"""Adaptive batching in the event loop, with a real function of the images as the model: each
request gets exactly its own rows, a lone request on an idle batcher runs at once, requests being
decoded are waited for, a failing request fails alone, and a request whose client went away
leaves its batch unharmed."""

import asyncio

import numpy as np
import pytest

from alexnet_kfp.serve.batcher import Batcher

pytestmark = pytest.mark.unit

POISON = 255  # a first pixel of this value makes the model below raise


class Model:
    """A deterministic model (each image's mean and first pixel), recording its batches."""

    def __init__(self):
        self.batches: list[int] = []

    def __call__(self, images: np.ndarray) -> np.ndarray:
        self.batches.append(len(images))
        if (images[:, 0, 0, 0] == POISON).any():
            raise ValueError("poisoned image")
        flat = images.reshape(len(images), -1).astype(np.float32)
        return np.stack([flat.mean(axis=1), flat[:, 0]], axis=1)


def _images(count: int, seed: int) -> np.ndarray:
    images = np.random.default_rng(seed).integers(0, 200, (count, 32, 32, 3), dtype=np.uint8)
    images[:, 0, 0, 0] = seed % 200
    return images


async def _request(batcher: Batcher, images: np.ndarray, decoding: float = 0.0) -> np.ndarray:
    async with batcher.coming() as ticket:
        await asyncio.sleep(decoding)  # the request's images being decoded
        return await ticket.infer(images)


def test_a_lone_request_on_an_idle_batcher_runs_at_once():
    model = Model()
    batcher = Batcher(
        model, max_batch_size=64, max_batch_delay_ms=10_000_000
    )  # waiting would hang the test
    images = _images(3, 1)
    rows = asyncio.run(_request(batcher, images))
    np.testing.assert_array_equal(rows, Model()(images))
    assert model.batches == [3]


def test_concurrent_requests_share_batches_and_get_exactly_their_rows():
    model = Model()
    batcher = Batcher(model, max_batch_size=64, max_batch_delay_ms=10_000_000)
    sizes = [1, 5, 2, 1, 7, 1, 3, 1, 1, 4]
    requests = [_images(n, seed) for seed, n in enumerate(sizes)]

    async def main():
        return await asyncio.gather(
            *(_request(batcher, images, decoding=0.001 * i) for i, images in enumerate(requests))
        )

    for images, rows in zip(requests, asyncio.run(main()), strict=True):
        np.testing.assert_array_equal(rows, Model()(images))
    assert sum(model.batches) == sum(sizes) and len(model.batches) < len(sizes)


def test_a_batch_never_exceeds_its_size_and_a_larger_request_runs_alone():
    model = Model()
    batcher = Batcher(model, max_batch_size=8, max_batch_delay_ms=10_000_000)
    requests = [_images(n, seed) for seed, n in enumerate([3, 3, 3, 20, 1])]

    async def main():
        return await asyncio.gather(*(_request(batcher, images) for images in requests))

    for images, rows in zip(requests, asyncio.run(main()), strict=True):
        np.testing.assert_array_equal(rows, Model()(images))
    assert max(model.batches) == 20 and all(b <= 8 for b in model.batches if b != 20)


def test_a_request_that_fails_fails_alone():
    model = Model()
    batcher = Batcher(model, max_batch_size=64, max_batch_delay_ms=10_000_000)
    requests = [_images(2, seed) for seed in range(6)]
    requests[3][1, 0, 0, 0] = POISON

    async def main():
        return await asyncio.gather(
            *(_request(batcher, images) for images in requests), return_exceptions=True
        )

    answers = asyncio.run(main())
    assert isinstance(answers[3], ValueError)
    for i, (images, rows) in enumerate(zip(requests, answers, strict=True)):
        if i != 3:
            np.testing.assert_array_equal(rows, Model()(images))


def test_a_request_given_up_while_queued_leaves_its_batch_unharmed():
    model = Model()
    batcher = Batcher(model, max_batch_size=64, max_batch_delay_ms=10_000_000)
    requests = [_images(n, seed) for seed, n in enumerate([2, 3, 4])]

    async def main():
        async with batcher.coming() as slow:  # keeps the batch waiting while the others queue
            tasks = [asyncio.create_task(_request(batcher, images)) for images in requests]
            await asyncio.sleep(0.01)
            tasks[1].cancel()  # its client went away
            await asyncio.sleep(0.01)
            rows = await slow.infer(_images(1, 9))
        return rows, await asyncio.gather(*tasks, return_exceptions=True)

    rows, answers = asyncio.run(main())
    np.testing.assert_array_equal(rows, Model()(_images(1, 9)))
    assert isinstance(answers[1], asyncio.CancelledError)
    for i in (0, 2):
        np.testing.assert_array_equal(answers[i], Model()(requests[i]))
    assert model.batches == [2 + 4 + 1]  # the cancelled request's images never ran


def test_a_bad_request_withdrawn_while_decoding_is_not_waited_for():
    model = Model()
    batcher = Batcher(model, max_batch_size=64, max_batch_delay_ms=10_000_000)

    async def bad():
        async with batcher.coming():
            await asyncio.sleep(0.01)
            raise ValueError("not an image")

    async def main():
        return await asyncio.gather(bad(), _request(batcher, _images(2, 1)), return_exceptions=True)

    failed, rows = asyncio.run(main())
    assert isinstance(failed, ValueError)
    np.testing.assert_array_equal(rows, Model()(_images(2, 1)))


def test_batching_off_runs_every_request_alone():
    model = Model()
    batcher = Batcher(model, max_batch_size=1, max_batch_delay_ms=0)
    requests = [_images(n, seed) for seed, n in enumerate([2, 1, 3])]

    async def main():
        return await asyncio.gather(*(_request(batcher, images) for images in requests))

    for images, rows in zip(requests, asyncio.run(main()), strict=True):
        np.testing.assert_array_equal(rows, Model()(images))
    assert sorted(model.batches) == [1, 2, 3]
