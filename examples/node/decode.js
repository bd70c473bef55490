// PNG and JPEG files as upright RGBA pixels, for classify.js: pngjs and jpeg-js (pure
// JavaScript, no native decoder), the size checked against MAX_PIXELS before decoding, and a
// JPEG's EXIF orientation applied as Pillow's ImageOps.exif_transpose does.

import jpeg from "jpeg-js";
import { PNG } from "pngjs";

import { MAX_DECODE_MB, MAX_PIXELS, declaredSize } from "../pixels.js";

// The EXIF orientation (1-8) in a JPEG's APP1 segment, or 1.
export function jpegOrientation(bytes) {
  let at = 2; // after SOI
  while (at + 4 <= bytes.length && bytes[at] === 0xff) {
    const marker = bytes[at + 1];
    const length = (bytes[at + 2] << 8) | bytes[at + 3];
    if (marker === 0xda || length < 2) break; // the image data starts: no EXIF before it
    const exif = at + 4;
    const isExif =
      marker === 0xe1 && Buffer.from(bytes.subarray(exif, exif + 6)).toString("latin1") === "Exif\0\0";
    if (isExif) return tiffOrientation(bytes.subarray(exif + 6, at + 2 + length));
    at += 2 + length;
  }
  return 1;
}

function tiffOrientation(tiff) {
  if (tiff.length < 8) return 1;
  const little = tiff[0] === 0x49; // "II"
  const view = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  const u16 = (at) => view.getUint16(at, little);
  const ifd = view.getUint32(4, little);
  if (ifd + 2 > tiff.length) return 1;
  const entries = u16(ifd);
  for (let i = 0; i < entries; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > tiff.length) break;
    if (u16(entry) === 0x0112) {
      const value = u16(entry + 8);
      return value >= 1 && value <= 8 ? value : 1;
    }
  }
  return 1;
}

// RGBA pixels turned upright for an EXIF orientation (Pillow's transposes: 2 mirror, 3 rotate
// 180, 4 flip, 5 transpose, 6 rotate 270, 7 transverse, 8 rotate 90).
export function upright(data, width, height, orientation) {
  if (orientation === 1) return { data, width, height };
  const swap = orientation >= 5;
  const [outWidth, outHeight] = swap ? [height, width] : [width, height];
  const source = {
    2: (x, y) => [width - 1 - x, y],
    3: (x, y) => [width - 1 - x, height - 1 - y],
    4: (x, y) => [x, height - 1 - y],
    5: (x, y) => [y, x],
    6: (x, y) => [y, height - 1 - x],
    7: (x, y) => [width - 1 - y, height - 1 - x],
    8: (x, y) => [width - 1 - y, x],
  }[orientation];
  const out = new Uint8Array(outWidth * outHeight * 4);
  for (let y = 0; y < outHeight; y++) {
    for (let x = 0; x < outWidth; x++) {
      const [sx, sy] = source(x, y);
      out.set(data.subarray((sy * width + sx) * 4, (sy * width + sx) * 4 + 4), (y * outWidth + x) * 4);
    }
  }
  return { data: out, width: outWidth, height: outHeight };
}

// {data: RGBA, width, height} of a PNG or JPEG file's bytes, upright; anything else is refused.
export function decodeImage(bytes) {
  const { format } = declaredSize(bytes); // before any pixel is inflated or decoded
  if (format === "PNG") {
    const png = PNG.sync.read(Buffer.from(bytes));
    return { data: new Uint8Array(png.data), width: png.width, height: png.height };
  }
  const image = jpeg.decode(bytes, {
    useTArray: true,
    formatAsRGBA: true,
    maxResolutionInMP: MAX_PIXELS / 1e6,
    maxMemoryUsageInMB: MAX_DECODE_MB,
  });
  return upright(image.data, image.width, image.height, jpegOrientation(bytes));
}
