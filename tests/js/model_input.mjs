// examples/pixels.js's modelInput for each case of a JSON list of {width, height, file} (raw RGBA
// files): the 32x32x3 pixels of each, printed as one JSON list of lists.
//
//   node model_input.mjs CASES.json

import { readFileSync } from "node:fs";

import { modelInput } from "../../examples/pixels.js";

const cases = JSON.parse(readFileSync(process.argv[2], "utf8"));
const made = cases.map(({ width, height, file }) =>
  Array.from(modelInput(new Uint8Array(readFileSync(file)), width, height)),
);
console.log(JSON.stringify(made));
