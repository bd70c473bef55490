// examples/node/decode.js on one JPEG's EXIF orientation, applied to raw RGBA pixels of the
// given size: {orientation, width, height, data} as JSON.
//
//   node upright.mjs PHOTO.jpg PIXELS.rgba WIDTH HEIGHT

import { readFileSync } from "node:fs";

import { jpegOrientation, upright } from "../../examples/node/decode.js";

const [photo, raw, width, height] = process.argv.slice(2);
const orientation = jpegOrientation(new Uint8Array(readFileSync(photo)));
const pixels = new Uint8Array(readFileSync(raw));
const turned = upright(pixels, Number(width), Number(height), orientation);
console.log(JSON.stringify({ orientation, ...turned, data: Array.from(turned.data) }));
