#!/usr/bin/env python3
"""Renders labelled text into the document formats docclass reads, for quality and speed
measurements and for the small test fixtures.

For every selected document it writes OUT/<format>/<label>/<name>.<ext> (one folder per
format, so each is a job's input prefix and LABEL_FOLDERS training data):
  txt   the exact text that was rendered (the baseline a text model sees)
  pdf   a native PDF: the text laid out with an embedded TrueType font (a real text layer)
  scan  an image-only PDF: the same page rendered to a grey image at 200 dpi, JPEG-compressed,
        with no text layer (what a scanner gives)
  docx  a Word document: one paragraph per text paragraph
  png   the page image (as in "scan"), alone

Every document is one page: text longer than a page is cut at the page's end, so all formats
(and the txt baseline) hold the same words. Selection is deterministic (seed 20261129).

Usage:
  render.py --corpus ../shared/data/20news/train --out work/docs --per-label 10 [--skip-first N]
  render.py --fixtures tests/fixtures/docs      (the few-KB files plain `cargo test` uses)
"""

import argparse
import datetime
import io
import os
import random
import textwrap

import reportlab
from docx import Document
from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.pagesizes import LETTER
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

SEED = 20261129
FONT = os.path.join(os.path.dirname(reportlab.__file__), "fonts", "Vera.ttf")
PAGE_W, PAGE_H = LETTER  # points
MARGIN = 54
FONT_PT = 10
LEADING = 12.5
COLUMNS = 95  # characters a line holds at FONT_PT in Vera on a letter page
LINES_PER_PAGE = int((PAGE_H - 2 * MARGIN) // LEADING)
DPI = 200

pdfmetrics.registerFont(TTFont("Vera", FONT))


def page_lines(text):
    """The text wrapped to the page, cut at one page."""
    lines = []
    for para in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        wrapped = textwrap.wrap(para.expandtabs(4), COLUMNS) or [""]
        lines.extend(wrapped)
    # Drop leading blank lines; keep what fits on one page.
    while lines and not lines[0].strip():
        lines.pop(0)
    return lines[:LINES_PER_PAGE]


def write_pdf(path, pages):
    c = canvas.Canvas(path, pagesize=LETTER, invariant=1)
    for lines in pages:
        c.setFont("Vera", FONT_PT)
        y = PAGE_H - MARGIN
        for line in lines:
            c.drawString(MARGIN, y, line)
            y -= LEADING
        c.showPage()
    c.save()


def render_image(lines):
    scale = DPI / 72.0
    img = Image.new("L", (int(PAGE_W * scale), int(PAGE_H * scale)), 255)
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(FONT, int(FONT_PT * scale))
    y = MARGIN * scale
    for line in lines:
        draw.text((MARGIN * scale, y), line, fill=0, font=font)
        y += LEADING * scale
    return img


def write_scan(path, images):
    # JPEG pages inside a PDF with no text: what a scanner produces.
    rgb = [im.convert("RGB") for im in images]
    rgb[0].save(path, "PDF", resolution=DPI, save_all=True, append_images=rgb[1:], quality=85)


def write_docx(path, pages):
    doc = Document()
    for i, lines in enumerate(pages):
        if i:
            doc.add_page_break()
        for para in "\n".join(lines).split("\n\n"):
            doc.add_paragraph(para.replace("\n", " "))
    # A fixed time, so the same text gives the same file.
    doc.core_properties.created = datetime.datetime(2026, 1, 1)
    doc.core_properties.modified = datetime.datetime(2026, 1, 1)
    doc.save(path)


def render(text, out, label, name, formats):
    """Writes OUT/<format>/<label>/<name>.<ext> for every format."""
    lines = page_lines(text)

    def path(fmt, ext):
        folder = os.path.join(out, fmt, label)
        os.makedirs(folder, exist_ok=True)
        return os.path.join(folder, name + ext)

    if "txt" in formats:
        with open(path("txt", ".txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
    if "pdf" in formats:
        write_pdf(path("pdf", ".pdf"), [lines])
    image = render_image(lines) if ("png" in formats or "scan" in formats) else None
    if "scan" in formats:
        write_scan(path("scan", ".pdf"), [image])
    if "png" in formats:
        image.save(path("png", ".png"), optimize=True)
    if "docx" in formats:
        write_docx(path("docx", ".docx"), [lines])


def select(corpus, per_label, skip_first):
    """(label, name, text) of `per_label` documents per label folder, seeded."""
    rng = random.Random(SEED)
    out = []
    for label in sorted(os.listdir(corpus)):
        folder = os.path.join(corpus, label)
        if not os.path.isdir(folder):
            continue
        names = sorted(os.listdir(folder))
        rng.shuffle(names)
        for name in names[skip_first:skip_first + per_label]:
            with open(os.path.join(folder, name), "rb") as f:
                raw = f.read()
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = raw.decode("latin-1")
            out.append((label, name, text))
    return out


FIXTURE_TEXT = {
    "spam": "WINNER!! As a valued network customer you have been selected to receive a "
            "900 prize reward! To claim call 09061701461. Claim code KL341. Valid 12 hours only.",
    "ham": "Hi mum, I will be home for dinner tonight around seven. Can you save me some "
           "of the lasagne? See you later, love you.",
}


def write_core_pdf(path, pages, encrypt=None):
    """A native PDF in a standard font (Helvetica, not embedded): the smallest real text layer."""
    c = canvas.Canvas(path, pagesize=LETTER, invariant=1, encrypt=encrypt)
    for lines in pages:
        c.setFont("Helvetica", FONT_PT)
        y = PAGE_H - MARGIN
        for line in lines:
            c.drawString(MARGIN, y, line)
            y -= LEADING
        c.showPage()
    c.save()


def write_small_docx(path, paragraphs, table):
    """A Word document with only the parts Word needs: two pages (an explicit page break),
    and a table."""
    import zipfile
    esc = lambda t: t.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    para = lambda t: f'<w:p><w:r><w:t xml:space="preserve">{esc(t)}</w:t></w:r></w:p>'
    rows = "".join(
        "<w:tr>" + "".join(f"<w:tc>{para(c)}</w:tc>" for c in row) + "</w:tr>" for row in table)
    body = (para(paragraphs[0]) + f"<w:tbl>{rows}</w:tbl>"
            + '<w:p><w:r><w:br w:type="page"/></w:r></w:p>' + para(paragraphs[1]))
    ns = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    files = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
        "word/document.xml": f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{ns}"><w:body>{body}<w:sectPr/></w:body></w:document>',
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in files.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, text)


def fixtures(out):
    """Tiny documents for plain `cargo test` and the OCR tests: native and encrypted PDFs, a
    scan, a Word file, images and a two-page TIFF, a few KB each."""
    os.makedirs(out, exist_ok=True)
    spam, ham = page_lines(FIXTURE_TEXT["spam"]), page_lines(FIXTURE_TEXT["ham"])
    write_core_pdf(os.path.join(out, "two-pages.pdf"), [spam, ham])
    write_core_pdf(os.path.join(out, "encrypted.pdf"), [spam], encrypt="secret")
    write_small_docx(os.path.join(out, "letter.docx"), [FIXTURE_TEXT["spam"], FIXTURE_TEXT["ham"]],
                     [["Prize", "900"], ["Claim code", "KL341"]])
    global DPI
    DPI = 150
    images = [render_image(spam), render_image(ham)]
    # Only the lines with text, in black and white: OCR reads them, the files stay small.
    crop = [im.crop((0, 0, im.width, int(MARGIN * DPI / 72 + 3 * LEADING * DPI / 72)))
               .point(lambda v: 0 if v < 128 else 255, "1") for im in images]
    crop[0].convert("L").save(os.path.join(out, "scanned.pdf"), "PDF", resolution=DPI,
                              save_all=True, append_images=[crop[1].convert("L")], quality=50)
    crop[0].save(os.path.join(out, "spam.png"), optimize=True)
    crop[1].convert("L").save(os.path.join(out, "ham.jpg"), quality=60)
    crop[0].save(os.path.join(out, "pages.tiff"), save_all=True, append_images=[crop[1]],
                 compression="group4")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus")
    ap.add_argument("--out")
    ap.add_argument("--per-label", type=int, default=10)
    ap.add_argument("--skip-first", type=int, default=0,
                    help="skip this many shuffled documents per label (to keep them out of training)")
    ap.add_argument("--formats", default="txt,pdf,scan,docx,png")
    ap.add_argument("--fixtures", help="write the test fixtures into this folder and stop")
    a = ap.parse_args()
    if a.fixtures:
        fixtures(a.fixtures)
        return
    formats = set(a.formats.split(","))
    docs = select(a.corpus, a.per_label, a.skip_first)
    for label, name, text in docs:
        render(text, a.out, label, name, formats)
    print(f"rendered {len(docs)} documents into {a.out}")


if __name__ == "__main__":
    main()
