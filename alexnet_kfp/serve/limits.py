"""The server's request limits, free of kserve so that clients and tests can read them."""

MAX_REQUEST_BYTES = 16 * 2**20  # 1,024 raw 32x32 images are 3 MiB; a few phone photos fit
MAX_IMAGES = 1024  # per request: larger batches gain nothing (the model's batch is 256)
MAX_PIXELS = 4096 * 4096  # per encoded image, checked before decoding
# per request, all encoded images together (1,024 images of 256x256): a few KB of PNG can claim
# gigapixels, and decoding them all would hold a worker for minutes
MAX_REQUEST_PIXELS = 2**26
