"""What one image may cost, in `predict`, `serve` and the data step alike: free of Pillow, so that
the CLI and the server's settings read them without loading a decoder."""

# The most pixels one encoded image may decode to; a JPEG counts at the scale it is decoded at
# (image_file.load_image decodes it at 1/2, 1/4 or 1/8 when that leaves its short side 256
# pixels), so a 50-megapixel photo decodes to under a megapixel.
MAX_PIXELS = 4096 * 4096

# The most memory one image's decoding may take (a 50-megapixel progressive phone photo needs
# about 150 MB; 4096 x 4096 pixels of 16-bit RGBA, 128 MiB).
MAX_DECODE_BYTES = 256 << 20
