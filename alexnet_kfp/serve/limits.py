"""The server's request limits, free of kserve so that clients and tests can read them."""

# per encoded image, checked before decoding: the one limit `predict` applies too
from alexnet_kfp.image_limits import MAX_PIXELS

MAX_REQUEST_BYTES = 16 * 2**20  # 1,024 raw 32x32 images are 3 MiB; a few phone photos fit
MAX_IMAGES = 1024  # per request: larger batches gain nothing (the model's batch is 256)
# per request, all encoded images together (1,024 images of 256x256): a few KB of PNG can claim
# gigapixels, and decoding them all would hold a worker for minutes
MAX_REQUEST_PIXELS = 2**26

__all__ = ["MAX_IMAGES", "MAX_PIXELS", "MAX_REQUEST_BYTES", "MAX_REQUEST_PIXELS"]
