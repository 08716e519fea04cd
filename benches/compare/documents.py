#!/usr/bin/env python3
"""Document throughput against what a user would script instead, on this machine's cores.

* Native PDF: `docclass classify` straight on the PDFs, against poppler's `pdftotext` on every
  file (as many at once as there are cores) followed by `docclass classify` on the text files.
* OCR: `docclass classify` on page images (PNG) and on scanned PDFs of the same pages, against
  the `tesseract` command alone on those images (one process per core, OMP_THREAD_LIMIT=1), the
  limit any OCR pipeline built on Tesseract can reach.

Rounds alternate the tools; medians are reported. Needs pdftotext (poppler-utils), tesseract and
the renderer's packages (benches/documents/requirements.txt).

Usage: documents.py --docclass target/release/docclass --corpus ../shared/data/20news/train
                    --work target/doc-speed [--pdfs 200 --pages 10 --images 40 --rounds 3]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "documents"))
import render  # noqa: E402

CORES = os.cpu_count() or 1


def timed(fn):
    t = time.time()
    fn()
    return time.time() - t


def classify(docclass, inp, out, model):
    r = subprocess.run([docclass, "classify", "--input", inp + "/", "--input-format",
                        "ONE_DOC_PER_FILE", "--model", model, "--output", out + "/",
                        "--job-store", out + "/jobs", "-q"], capture_output=True, text=True)
    if r.returncode not in (0, 3):
        sys.exit(r.stderr)


def parallel(cmds):
    def one(cmd):
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True,
                       env=dict(os.environ, OMP_THREAD_LIMIT="1"))
    with ThreadPoolExecutor(CORES) as pool:
        list(pool.map(one, cmds))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--docclass", required=True)
    ap.add_argument("--model", default=os.path.join(HERE, "..", "..", "models", "spam-ham"))
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--pdfs", type=int, default=200)
    ap.add_argument("--pages", type=int, default=10)
    ap.add_argument("--images", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    work = os.path.abspath(a.work)
    shutil.rmtree(work, ignore_errors=True)
    docs = render.select(a.corpus, max(1, (a.pdfs * a.pages) // 20 + 1), 0)
    pdf_dir, png_dir, scan_dir, jpg_dir = (os.path.join(work, d) for d in ("pdf", "png", "scan", "jpg"))
    for d in (pdf_dir, png_dir, scan_dir, jpg_dir):
        os.makedirs(d)
    for i in range(a.pdfs):
        pages = [render.page_lines(docs[(i * a.pages + p) % len(docs)][2]) for p in range(a.pages)]
        render.write_pdf(os.path.join(pdf_dir, f"doc{i:04}.pdf"), pages)
    for i in range(a.images):
        image = render.render_image(render.page_lines(docs[i % len(docs)][2]))
        image.save(os.path.join(png_dir, f"page{i:04}.png"))
        render.write_scan(os.path.join(scan_dir, f"page{i:04}.pdf"), [image])
        # The scan's page image exactly as the PDF holds it (the same JPEG encoding).
        image.convert("RGB").save(os.path.join(jpg_dir, f"page{i:04}.jpg"), quality=85)
    pdfs = sorted(os.listdir(pdf_dir))
    pngs = sorted(os.listdir(png_dir))
    jpgs = sorted(os.listdir(jpg_dir))

    def native_docclass():
        classify(a.docclass, pdf_dir, os.path.join(work, "o1"), a.model)

    def native_pdftotext():
        txt = os.path.join(work, "txt")
        os.makedirs(txt, exist_ok=True)
        parallel([["pdftotext", os.path.join(pdf_dir, f), os.path.join(txt, f + ".txt")] for f in pdfs])
        classify(a.docclass, txt, os.path.join(work, "o2"), a.model)

    def ocr_docclass():
        classify(a.docclass, png_dir, os.path.join(work, "o3"), a.model)

    def scan_docclass():
        classify(a.docclass, scan_dir, os.path.join(work, "o4"), a.model)

    def ocr_tesseract():
        parallel([["tesseract", os.path.join(png_dir, f), "stdout", "--psm", "3", "tsv"] for f in pngs])

    def scan_tesseract():
        parallel([["tesseract", os.path.join(jpg_dir, f), "stdout", "--psm", "3", "tsv"] for f in jpgs])

    runs = {k: [] for k in ("docclass PDF", "pdftotext + docclass", "docclass PNG",
                            "tesseract alone on the PNGs", "docclass scanned PDF",
                            "tesseract alone on the scans' JPEGs")}
    for _ in range(a.rounds):
        for name, fn in (("docclass PDF", native_docclass), ("pdftotext + docclass", native_pdftotext),
                         ("docclass PNG", ocr_docclass), ("tesseract alone on the PNGs", ocr_tesseract),
                         ("docclass scanned PDF", scan_docclass),
                         ("tesseract alone on the scans' JPEGs", scan_tesseract)):
            for d in ("o1", "o2", "o3", "o4", "txt"):
                shutil.rmtree(os.path.join(work, d), ignore_errors=True)
            runs[name].append(timed(fn))
    native_pages = a.pdfs * a.pages
    print(f"{CORES} cores, median of {a.rounds} alternating rounds")
    print("| what | pages | seconds | pages/s |")
    print("|---|---|---|---|")
    for name, times in runs.items():
        pages = native_pages if name in ("docclass PDF", "pdftotext + docclass") else a.images
        m = statistics.median(times)
        print(f"| {name} | {pages} | {m:.2f} | {pages / m:.1f} |")


if __name__ == "__main__":
    main()
