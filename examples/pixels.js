// The model's input from decoded pixels, made as `alexnet-kfp predict` makes it, so that Node.js
// and the browser give the model the same 32x32 pixels Python does: transparency composited on
// white, the centre square cut out and resized to 32x32 with Pillow's antialiased bicubic filter
// (ImageOps.fit), integer arithmetic and rounding as Pillow 13's Resample.c and AlphaComposite.c.
// Decoding the file is the caller's: Node's decoders or the browser's.

export const SIZE = 32; // the model takes uint8 [N, 32, 32, 3] RGB
export const MAX_PIXELS = 4096 * 4096; // the most pixels an image may have, as in `predict`
// The most memory one image's decoding may take, as in `predict`: decoders here hold a JPEG's
// coefficients (2 bytes each, up to 3 per pixel) and the RGBA pixels (4 bytes) at full size, so
// MAX_PIXELS keeps it under 160 MiB.
export const MAX_DECODE_MB = 256;

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
// JPEG's start-of-frame markers (SOF0-SOF15 but DHT, JPG and DAC), which carry the image's size
const SOF = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

// {format, width, height} that a PNG's or JPEG's header declares, read before anything is
// decoded; any other file, or a header cut short, is refused. A size over MAX_PIXELS is refused.
export function declaredSize(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let found = null;
  if (bytes.length >= 24 && PNG_SIGNATURE.every((byte, i) => bytes[i] === byte)) {
    found = { format: "PNG", width: view.getUint32(16), height: view.getUint32(20) };
  } else if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8) {
    let at = 2;
    while (at + 4 <= bytes.length && bytes[at] === 0xff && bytes[at + 1] !== 0xda) {
      const marker = bytes[at + 1];
      if (marker === 0xff) {
        at += 1; // fill byte
        continue;
      }
      if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
        at += 2; // markers without a length
        continue;
      }
      const length = view.getUint16(at + 2);
      if (SOF.has(marker) && at + 9 <= bytes.length) {
        found = { format: "JPEG", width: view.getUint16(at + 7), height: view.getUint16(at + 5) };
        break;
      }
      at += 2 + length;
    }
    if (!found) throw new Error("a JPEG file without a readable size");
  } else {
    throw new Error("not a PNG or JPEG file");
  }
  if (found.width * found.height > MAX_PIXELS) {
    throw new Error(`${found.width}x${found.height} pixels is more than the ${MAX_PIXELS} allowed`);
  }
  return found;
}

const PRECISION_BITS = 32 - 8 - 2; // Pillow's fixed point for 8-bit resampling
const ONE = 2 ** PRECISION_BITS;
const BICUBIC_SUPPORT = 2.0;

function bicubic(x) {
  const a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

// Each output pixel's first input pixel, count and fixed-point weights along one axis, from the
// box [in0, in1) of an axis of inSize pixels (Pillow's precompute_coeffs and
// normalize_coeffs_8bpc; the box's ends are C floats there, hence Math.fround).
function coefficients(inSize, in0, in1, outSize) {
  in0 = Math.fround(in0);
  in1 = Math.fround(in1);
  const scale = Math.fround(in1 - in0) / outSize;
  const filterscale = Math.max(scale, 1.0);
  const support = BICUBIC_SUPPORT * filterscale;
  const result = [];
  for (let xx = 0; xx < outSize; xx++) {
    const center = in0 + (xx + 0.5) * scale;
    const ss = 1.0 / filterscale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    const weights = [];
    let ww = 0.0;
    for (let x = 0; x < xmax; x++) {
      const w = bicubic((x + xmin - center + 0.5) * ss);
      weights.push(w);
      ww += w;
    }
    const fixed = weights.map((w) => {
      const k = ww !== 0.0 ? w / ww : w;
      return Math.trunc(k < 0 ? -0.5 + k * ONE : 0.5 + k * ONE);
    });
    result.push({ first: xmin, weights: fixed });
  }
  return result;
}

function clip8(sum) {
  const value = Math.floor(sum / ONE); // C's arithmetic shift by PRECISION_BITS
  return value < 0 ? 0 : value > 255 ? 255 : value;
}

// Pillow's horizontal pass: rows [firstRow, firstRow + rows) of an RGB image `width` wide,
// each resampled to taps.length pixels.
function horizontalPass(rgb, width, taps, firstRow, rows) {
  const outWidth = taps.length;
  const out = new Uint8Array(outWidth * rows * 3);
  for (let row = 0; row < rows; row++) {
    for (let x = 0; x < outWidth; x++) {
      const { first, weights } = taps[x];
      const sums = [ONE / 2, ONE / 2, ONE / 2];
      for (let t = 0; t < weights.length; t++) {
        const at = ((row + firstRow) * width + first + t) * 3;
        for (let c = 0; c < 3; c++) sums[c] += rgb[at + c] * weights[t];
      }
      for (let c = 0; c < 3; c++) out[(row * outWidth + x) * 3 + c] = clip8(sums[c]);
    }
  }
  return out;
}

// Pillow's vertical pass: columns [firstColumn, firstColumn + columns) of an RGB image `width`
// wide, each resampled to taps.length rows.
function verticalPass(rgb, width, taps, firstColumn, columns) {
  const out = new Uint8Array(columns * taps.length * 3);
  for (let y = 0; y < taps.length; y++) {
    const { first, weights } = taps[y];
    for (let x = 0; x < columns; x++) {
      const sums = [ONE / 2, ONE / 2, ONE / 2];
      for (let t = 0; t < weights.length; t++) {
        const at = ((first + t) * width + firstColumn + x) * 3;
        for (let c = 0; c < 3; c++) sums[c] += rgb[at + c] * weights[t];
      }
      for (let c = 0; c < 3; c++) out[(y * columns + x) * 3 + c] = clip8(sums[c]);
    }
  }
  return out;
}

// The span of input pixels a pass reads: [first, first + count), and the taps shifted to it.
function span(taps) {
  const first = taps[0].first;
  const last = taps[taps.length - 1];
  const count = last.first + last.weights.length - first;
  return { first, count, taps: taps.map((tap) => ({ ...tap, first: tap.first - first })) };
}

// Pillow's Image.resize(size, BICUBIC, box) of an RGB image (ImagingResampleInner): two passes,
// each reading only the pixels the other needs. Pillow 13 runs the vertical pass first when the
// height shrinks by more than twice what the width does (as measured on ImageOps.fit's boxes:
// tests/test_js_examples.py); each pass rounds to 8 bits, so the order shows in the pixels.
function resize(rgb, width, height, box, outWidth, outHeight) {
  const [left, top, right, bottom] = box;
  const needHorizontal = outWidth !== width || left !== 0 || right !== outWidth;
  const needVertical = outHeight !== height || top !== 0 || bottom !== outHeight;
  const horizontal = coefficients(width, left, right, outWidth);
  const vertical = coefficients(height, top, bottom, outHeight);
  const verticalFirst = outHeight < height && height - outHeight > 2 * (width - outWidth);
  if (needHorizontal && needVertical && verticalFirst) {
    const columns = span(horizontal);
    const tall = verticalPass(rgb, width, vertical, columns.first, columns.count);
    return horizontalPass(tall, columns.count, columns.taps, 0, outHeight);
  }
  if (needHorizontal && needVertical) {
    const rows = span(vertical);
    const wide = horizontalPass(rgb, width, horizontal, rows.first, rows.count);
    return verticalPass(wide, outWidth, rows.taps, 0, outWidth);
  }
  if (needHorizontal) return horizontalPass(rgb, width, horizontal, 0, height);
  if (needVertical) return verticalPass(rgb, width, vertical, 0, width);
  return rgb;
}

// RGBA to RGB on a white background, as Image.alpha_composite(white, rgba) computes it.
function onWhite(rgba, pixels) {
  const rgb = new Uint8Array(pixels * 3);
  for (let p = 0; p < pixels; p++) {
    const alpha = rgba[p * 4 + 3];
    for (let c = 0; c < 3; c++) {
      const value = rgba[p * 4 + c];
      if (alpha === 255) {
        rgb[p * 3 + c] = value;
      } else if (alpha === 0) {
        rgb[p * 3 + c] = 255;
      } else {
        const coef1 = alpha * 128; // Pillow's 7-bit fixed point, the background opaque
        const coef2 = 255 * 128 - coef1;
        const sum = value * coef1 + 255 * coef2 + (0x80 << 7);
        rgb[p * 3 + c] = (((sum >> 8) + sum) >> 8) >> 7;
      }
    }
  }
  return rgb;
}

// The box ImageOps.fit cuts out: the centre of the image at the output's aspect ratio (1:1).
function centreSquare(width, height) {
  const ratio = width / height;
  if (ratio === 1) return [0, 0, width, height];
  if (ratio >= 1) {
    const side = height;
    const left = (width - side) * 0.5;
    return [left, 0, left + side, height];
  }
  const side = width;
  const top = (height - side) * 0.5;
  return [0, top, width, top + side];
}

// uint8 RGB [32 * 32 * 3] (HWC) from decoded RGBA pixels (`rgba`: width * height * 4 bytes,
// upright, not premultiplied).
export function modelInput(rgba, width, height) {
  if (width * height > MAX_PIXELS) {
    throw new Error(`${width}x${height} pixels is more than the ${MAX_PIXELS} allowed`);
  }
  const rgb = onWhite(rgba, width * height);
  if (width === SIZE && height === SIZE) return rgb;
  return resize(rgb, width, height, centreSquare(width, height), SIZE, SIZE);
}

// The k best classes of one image's probabilities: [{label, probability}], best first (ties
// keep the class order, as `predict` does).
export function topClasses(probabilities, classNames, k) {
  return Array.from(probabilities, (p, i) => ({ label: classNames[i], probability: p, i }))
    .sort((a, b) => b.probability - a.probability || a.i - b.i)
    .slice(0, k)
    .map(({ label, probability }) => ({ label, probability }));
}
