// Drive examples/browser/ as a user does, in headless Chromium (Playwright, from the examples'
// node_modules): open the page, pick a photo in its file input, wait for the answer, and print
// {result, status, console} as JSON.
//
//   node pick_photo.mjs EXAMPLES_DIR PAGE_URL PHOTO CHROMIUM

import { createRequire } from "node:module";
import { join } from "node:path";

const [examplesDir, pageUrl, photo, executablePath] = process.argv.slice(2);
const { chromium } = createRequire(join(examplesDir, "package.json"))("playwright-core");

const browser = await chromium.launch({
  executablePath,
  headless: true,
  // the flags a sandboxed machine without a network needs
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
});
try {
  const page = await browser.newPage();
  const console_ = [];
  page.on("console", (message) => console_.push(`${message.type()}: ${message.text()}`));
  page.on("pageerror", (error) => console_.push(`pageerror: ${error.message}`));
  await page.goto(pageUrl);
  await page.waitForSelector("body[data-ready], #result[data-done]", { state: "attached", timeout: 60000 });
  if (photo !== "-") {
    await page.setInputFiles("#photo", photo);
    await page.waitForSelector("#result[data-done]", { state: "attached", timeout: 120000 });
  }
  const result = await page.textContent("#result");
  const status = await page.textContent("#status");
  const trial = await page.textContent("#trial");
  console.log(JSON.stringify({ result: result ? JSON.parse(result) : null, status, trial, console: console_ }));
} finally {
  await browser.close();
}
