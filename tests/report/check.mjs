// Opens a training report (report.html) in headless Chromium, as a person would open the file,
// and fails unless the page renders its confusion matrix as a drawn SVG heat map with no console
// errors, page errors or network requests (the report must work offline). Keeps a screenshot.
//
// usage: node check.mjs REPORT.html SCREENSHOT.png [CHROMIUM]
import { chromium } from "playwright-core";
import { pathToFileURL } from "node:url";

const [report, screenshot, executable = "/usr/bin/chromium"] = process.argv.slice(2);
if (!report || !screenshot) {
  console.error("usage: node check.mjs REPORT.html SCREENSHOT.png [CHROMIUM]");
  process.exit(2);
}

const problems = [];
const browser = await chromium.launch({ executablePath: executable, args: ["--no-sandbox"] });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("request", (r) => {
    if (!r.url().startsWith("file:") && !r.url().startsWith("data:")) problems.push(`network request: ${r.url()}`);
  });
  await page.goto(pathToFileURL(report).href, { waitUntil: "load" });

  const matrix = await page.evaluate(() => {
    const found = document.getElementById("confusion-matrix");
    const svg = found && (found.tagName.toLowerCase() === "svg" ? found : found.querySelector("svg"));
    if (!svg) return null;
    const box = svg.getBoundingClientRect();
    // Heat-map cells: filled rectangles plotters draws, one per (true, predicted) pair at least.
    const cells = [...svg.querySelectorAll("rect")].filter((r) => r.getAttribute("fill") && r.getAttribute("fill") !== "none");
    return { width: box.width, height: box.height, cells: cells.length, labels: svg.querySelectorAll("text").length };
  });
  if (!matrix) problems.push("no <svg> at #confusion-matrix");
  else {
    if (matrix.width < 100 || matrix.height < 100) problems.push(`confusion matrix drawn at ${matrix.width}x${matrix.height} px`);
    if (matrix.cells < 4) problems.push(`confusion matrix has ${matrix.cells} filled cells`);
    if (matrix.labels < 2) problems.push("confusion matrix has no axis labels");
  }
  const sections = await page.$$eval("section h2", (hs) => hs.map((h) => h.textContent.trim()));
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(`report rendered: matrix ${JSON.stringify(matrix)}, sections ${JSON.stringify(sections)}, screenshot ${screenshot}`);
} finally {
  await browser.close();
}
if (problems.length) {
  for (const p of problems) console.error(p);
  process.exit(1);
}
