// Classify image files with the exported ONNX model from Node.js, with onnxruntime-node:
//
//   node examples/node/classify.js runs/latest/onnx_model cat.jpg ship.png [--int8] [--top-k 3] [--json]
//
// The same contract as `alexnet-kfp predict`: the export directory's model.onnx (model.int8.onnx
// with --int8) takes uint8 [N, 32, 32, 3] RGB pixels and gives float32 [N, classes]
// probabilities; the class names are in the directory's export.json. PNG and JPEG files of any
// size are made into the model's pixels as `predict` makes them (../pixels.js). An unreadable file
// gets its own error and the others carry on; the exit code is 2 if any failed.

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";

import * as ort from "onnxruntime-node";

import { SIZE, modelInput, topClasses } from "../pixels.js";
import { decodeImage } from "./decode.js";

const USAGE = "usage: node classify.js EXPORT_DIR IMAGE... [--int8] [--top-k K] [--json]";

function fail(message) {
  console.error(`classify: error: ${message}`);
  process.exit(2);
}

function options() {
  try {
    const { values, positionals } = parseArgs({
      allowPositionals: true,
      options: {
        int8: { type: "boolean", default: false },
        "top-k": { type: "string", default: "3" },
        json: { type: "boolean", default: false },
      },
    });
    const topK = Number(values["top-k"]);
    if (positionals.length < 2 || !Number.isInteger(topK) || topK < 1) fail(USAGE);
    return { exportDir: positionals[0], images: positionals.slice(1), topK, ...values };
  } catch (e) {
    fail(`${e.message}\n${USAGE}`);
  }
}

// The export directory's record: the class names, and the note of a trial model.
function exportRecord(exportDir) {
  const path = join(exportDir, "export.json");
  if (!existsSync(path)) fail(`${path} not found: give the directory \`alexnet-kfp export\` wrote`);
  const { metadata } = JSON.parse(readFileSync(path, "utf8"));
  return { classNames: JSON.parse(metadata.class_names), trial: metadata.trial };
}

async function main() {
  const { exportDir, images, topK, int8, json } = options();
  const { classNames, trial } = exportRecord(exportDir);
  if (trial) console.error(`classify: warning: ${trial}`);
  const modelPath = join(exportDir, int8 ? "model.int8.onnx" : "model.onnx");
  const session = await ort.InferenceSession.create(modelPath);
  const results = images.map((path) => ({ path }));
  const readable = [];
  for (const result of results) {
    try {
      const { data, width, height } = decodeImage(new Uint8Array(readFileSync(result.path)));
      readable.push({ result, pixels: modelInput(data, width, height) });
    } catch (e) {
      result.error = e.code === "ENOENT" ? "no such file" : `cannot read as an image: ${e.message}`;
    }
  }
  if (readable.length) {
    const batch = new Uint8Array(readable.length * SIZE * SIZE * 3);
    readable.forEach(({ pixels }, i) => batch.set(pixels, i * pixels.length));
    const input = new ort.Tensor("uint8", batch, [readable.length, SIZE, SIZE, 3]);
    const output = (await session.run({ [session.inputNames[0]]: input }))[session.outputNames[0]];
    const classes = output.dims[1];
    readable.forEach(({ result }, i) => {
      result.probabilities = Array.from(output.data.subarray(i * classes, (i + 1) * classes));
      result.top = topClasses(result.probabilities, classNames, topK);
    });
  }
  for (const { path, top, error } of results) {
    if (error) console.error(`classify: error: ${path}: ${error}`);
    else if (!json) {
      console.log(`${path}: ${top.map((t) => `${t.label} ${t.probability.toFixed(3)}`).join(", ")}`);
    }
  }
  if (json) console.log(JSON.stringify(results, null, 2));
  process.exitCode = results.some((r) => r.error) ? 2 : 0;
}

await main();
