// The page's work: load the export directory's model.onnx and export.json with onnxruntime-web
// (WebAssembly, one thread), and classify the photo the user picks, in the browser: the browser
// decodes it (EXIF orientation applied), ../pixels.js makes the model's 32x32 pixels as
// `alexnet-kfp predict` does, and the top classes are shown. `?model=URL` names the export
// directory (default: runs/latest/onnx_model of the clone this page is served from).

import * as ort from "../node_modules/onnxruntime-web/dist/ort.wasm.min.mjs";

import { SIZE, declaredSize, modelInput, topClasses } from "../pixels.js";

const TOP_K = 3;
const exportDir = new URL(
  new URLSearchParams(location.search).get("model") || "../../runs/latest/onnx_model/",
  location.href,
);
if (!exportDir.pathname.endsWith("/")) exportDir.pathname += "/";
const status = document.getElementById("status");
const resultBox = document.getElementById("result");

ort.env.wasm.wasmPaths = new URL("../node_modules/onnxruntime-web/dist/", import.meta.url).href;
ort.env.wasm.numThreads = 1; // no cross-origin isolation needed

async function loadModel() {
  document.getElementById("model-url").textContent = exportDir.href;
  const record = await fetch(new URL("export.json", exportDir));
  if (!record.ok) throw new Error(`${record.url}: ${record.status} (no export directory there)`);
  const { metadata } = await record.json();
  if (metadata.trial) {
    const trial = document.getElementById("trial");
    trial.textContent = `This is ${metadata.trial}.`;
    trial.style.display = "block";
  }
  const session = await ort.InferenceSession.create(new URL("model.onnx", exportDir).href);
  return { session, classNames: JSON.parse(metadata.class_names) };
}

// The picked file as upright RGBA pixels, decoded by the browser once its header has said it is
// a PNG or JPEG of at most MAX_PIXELS (the browser decodes it whole, whatever its size).
async function pixelsOf(file) {
  declaredSize(new Uint8Array(await file.arrayBuffer()));
  const bitmap = await createImageBitmap(file, {
    imageOrientation: "from-image",
    premultiplyAlpha: "none",
    colorSpaceConversion: "none",
  });
  const { width, height } = bitmap;
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  return { data: context.getImageData(0, 0, width, height).data, width, height };
}

function show(name, top) {
  const list = document.getElementById("top");
  list.replaceChildren(
    ...top.map(({ label, probability }) => {
      const item = document.createElement("li");
      const bar = document.createElement("span");
      bar.className = "bar";
      bar.style.width = `${Math.round(probability * 200)}px`;
      item.append(`${label} ${probability.toFixed(3)}`, bar);
      return item;
    }),
  );
  status.textContent = `${name}: ${top[0].label}`;
}

async function classify(model, file) {
  status.textContent = `classifying ${file.name}...`;
  resultBox.removeAttribute("data-done");
  const preview = document.getElementById("photo-preview");
  preview.src = URL.createObjectURL(file);
  preview.style.display = "block";
  const { data, width, height } = await pixelsOf(file);
  const input = new ort.Tensor("uint8", modelInput(data, width, height), [1, SIZE, SIZE, 3]);
  const { session, classNames } = model;
  const output = (await session.run({ [session.inputNames[0]]: input }))[session.outputNames[0]];
  const probabilities = Array.from(output.data);
  const top = topClasses(probabilities, classNames, TOP_K);
  show(file.name, top);
  resultBox.textContent = JSON.stringify({ path: file.name, top, probabilities }, null, 2);
}

async function main() {
  const picker = document.getElementById("photo");
  let model;
  try {
    model = await loadModel();
  } catch (e) {
    status.textContent = `cannot load the model: ${e.message}`;
    resultBox.dataset.done = "error";
    return;
  }
  status.textContent = "ready: pick a photo";
  picker.addEventListener("change", async () => {
    if (!picker.files.length) return;
    try {
      await classify(model, picker.files[0]);
      resultBox.dataset.done = "ok";
    } catch (e) {
      status.textContent = `cannot classify ${picker.files[0].name}: ${e.message}`;
      resultBox.textContent = JSON.stringify({ error: e.message });
      resultBox.dataset.done = "error";
    }
  });
  document.body.dataset.ready = "true";
}

main();
