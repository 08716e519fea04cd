//! PDF through hayro, a pure-Rust PDF interpreter and renderer (Apache-2.0/MIT): the file is
//! parsed lazily (objects as pages ask for them), so a long PDF costs memory page by page. A
//! page is interpreted once by a device that collects its glyphs (Unicode from ToUnicode maps,
//! glyph names or encodings; positions for reading order) and notes its images. A page with a
//! text layer is NATIVE_PDF and read from it; a page whose text is (nearly) empty but holds an
//! image is SCANNED_PDF and is rendered at its image's resolution and OCR'd. In
//! FORCE_DOCUMENT_READ_ACTION mode every page is rendered and OCR'd.

use std::ops::RangeInclusive;
use std::sync::Arc;

use hayro::hayro_interpret::font::{Glyph, GlyphRun};
use hayro::hayro_interpret::hayro_cmap::BfString;
use hayro::hayro_interpret::util::TransformExt;
use hayro::hayro_interpret::{
    interpret_page, BlendMode, ClipPath, Context, Device, DrawMode, DrawProps, Image,
    ImageDrawProps, InterpreterCache, InterpreterSettings, SoftMask,
};
use hayro::hayro_syntax::page::Page as PdfPage;
use hayro::hayro_syntax::Filter;
use hayro::hayro_syntax::{LoadPdfError, Pdf, PdfData};
use hayro::kurbo::{BezPath, Point, Rect};
use hayro::vello_cpu::color::palette::css::WHITE;
use hayro::{PixmapSettings, RenderCache, RenderSettings};
use rayon::prelude::*;

use super::layout::{self, Glyph as Positioned};
use super::ocr::{OcrImage, Word};
use super::{guarded, DocumentType, Failure, Page, Paged, ReadMode, Reader};
use super::{INVALID_DOCUMENT, TEXTRACT_BAD_PAGE};
use crate::input::FileBytes;

/// A page with fewer characters than this in its text layer, and an image, is a scan.
const SCAN_MAX_CHARACTERS: usize = 20;
/// Render resolution for OCR: the page image's own, within these bounds; 300 dpi without one.
const MIN_DPI: f64 = 150.0;
const MAX_DPI: f64 = 400.0;
const DEFAULT_DPI: f64 = 300.0;
/// Largest rendering, in pixels (40 million: a 300-dpi page of 17 x 26 inches).
const MAX_PIXELS: f64 = 40e6;

/// A PDF read a range of pages at a time: each range parses the file anew (its cross-reference
/// table and page tree, which is quick) and drops what its pages cached (decoded content,
/// fonts) when done, so memory does not grow with the number of pages.
pub struct PdfDocument {
    bytes: Arc<FileBytes>,
    pages: u32,
}

/// Opens a PDF: its cross-reference table and page tree, nothing more.
pub fn open(bytes: Arc<FileBytes>) -> Result<Box<dyn Paged>, Failure> {
    let pdf = parse(Arc::clone(&bytes))?;
    let pages = pdf.pages().len() as u32;
    Ok(Box::new(PdfDocument { bytes, pages }))
}

fn parse(bytes: Arc<FileBytes>) -> Result<Pdf, Failure> {
    guarded("PDF", || {
        Pdf::new(PdfData::from(bytes)).map_err(|e| match e {
            LoadPdfError::Decryption(_) => Failure::new(
                INVALID_DOCUMENT,
                "The PDF is encrypted and needs a password; remove the password and resubmit.",
            ),
            LoadPdfError::Invalid => Failure::new(
                INVALID_DOCUMENT,
                "The file is not a readable PDF (it is damaged or truncated).",
            ),
        })
    })
    .map_err(|f| Failure::new(INVALID_DOCUMENT, f.message))
}

impl Paged for PdfDocument {
    fn page_count(&self) -> u32 {
        self.pages
    }

    fn page(&self, number: u32, reader: &Reader) -> Page {
        self.pages(number..=number, reader).remove(0)
    }

    fn pages(&self, numbers: RangeInclusive<u32>, reader: &Reader) -> Vec<Page> {
        match parse(Arc::clone(&self.bytes)) {
            Ok(pdf) => numbers
                .into_par_iter()
                .map(|n| read_page(&pdf.pages()[n as usize - 1], n, reader))
                .collect(),
            Err(f) => numbers
                .map(|number| Page {
                    number,
                    kind: DocumentType::NativePdf,
                    text: Err(f.clone()),
                })
                .collect(),
        }
    }
}

/// One page: its text layer, or OCR of the page as the settings and the page ask.
fn read_page(page: &PdfPage<'_>, number: u32, reader: &Reader) -> Page {
    // A page that names its content but whose content cannot be found or decoded is
    // damaged (a truncated file keeps its page tree but loses its streams): say so rather
    // than classify an empty page.
    if page.raw().contains_key(b"Contents") && page.page_stream().is_none() {
        return Page {
            number,
            kind: DocumentType::NativePdf,
            text: Err(Failure::new(
                TEXTRACT_BAD_PAGE,
                "The page's content is missing or damaged (the file may be truncated).",
            )),
        };
    }
    let seen = match guarded("page", || Ok(look(page))) {
        Ok(seen) => seen,
        Err(f) => {
            return Page {
                number,
                kind: DocumentType::NativePdf,
                text: Err(f),
            }
        }
    };
    let scanned = seen.characters() < SCAN_MAX_CHARACTERS && seen.images > 0;
    let kind = if scanned {
        DocumentType::ScannedPdf
    } else {
        DocumentType::NativePdf
    };
    if !scanned && reader.config.mode() == ReadMode::ServiceDefault {
        return reader.finish(number, kind, layout::text_of(seen.glyphs));
    }
    let dpi = seen
        .image_dpi
        .map_or(DEFAULT_DPI, |d| d.clamp(MIN_DPI, MAX_DPI));
    let text = guarded("page", || {
        let ocr = |image: OcrImage| {
            reader
                .ocr
                .words(image, Some(dpi as u32), None)
                .map_err(|e| Failure::new(TEXTRACT_BAD_PAGE, e.to_string()))
        };
        // A scan that is one JPEG goes to OCR as it is stored: no rendering, no resampling.
        let jpeg = if scanned { page_jpeg(page) } else { None };
        let words = match jpeg {
            Some(jpeg) => match ocr(OcrImage::Encoded(&jpeg)) {
                Ok(words) => words,
                Err(_) => ocr_rendered(page, dpi, &ocr)?,
            },
            None => ocr_rendered(page, dpi, &ocr)?,
        };
        Ok(reader.ocr_text(&words))
    });
    match text {
        Ok(text) => reader.finish(number, kind, text),
        Err(f) => Page {
            number,
            kind,
            text: Err(f),
        },
    }
}

/// What interpreting a page found: its glyphs and its images.
#[derive(Default)]
struct Seen {
    glyphs: Vec<Positioned>,
    images: usize,
    /// Resolution of the page's largest image, in dots per inch of the page.
    image_dpi: Option<f64>,
    largest_image: f64,
}

impl Seen {
    fn characters(&self) -> usize {
        self.glyphs
            .iter()
            .map(|g| g.text.chars().filter(|c| !c.is_whitespace()).count())
            .sum()
    }
}

impl<'a> Device<'a> for Seen {
    fn draw_path(&mut self, _: &BezPath, _: DrawProps<'a>, _: &DrawMode) {}
    fn push_clip_path(&mut self, _: &ClipPath) {}
    fn push_transparency_group(&mut self, _: f32, _: Option<SoftMask<'a>>, _: BlendMode) {}
    fn pop_clip(&mut self) {}
    fn pop_transparency_group(&mut self) {}

    fn draw_glyph_run(&mut self, run: &GlyphRun<'_, 'a>, props: DrawProps<'a>, _: &DrawMode) {
        for g in run.glyphs() {
            let t = props.transform * g.transform();
            let [a, b, c, d, _, _] = t.as_coeffs();
            let origin = t * Point::ZERO;
            // Glyph space is 1000 units to the em.
            let size = (c * c + d * d).sqrt() * 1000.0;
            let x_scale = (a * a + b * b).sqrt();
            let (text, advance) = match &**g {
                Glyph::Outline(o) => (o.as_unicode(), o.advance_width()),
                Glyph::Type3(t3) => (t3.as_unicode(), t3.advance_width()),
            };
            let text = match text {
                Some(BfString::Char(c)) => c.to_string(),
                Some(BfString::String(s)) => s,
                None => continue,
            };
            self.glyphs.push(Positioned {
                x: origin.x,
                y: origin.y,
                size,
                advance: advance.unwrap_or(500.0) as f64 * x_scale,
                text,
            });
        }
    }

    fn draw_image(&mut self, image: Image<'a, '_>, props: ImageDrawProps<'a>) {
        self.images += 1;
        let [a, b, c, d, _, _] = props.transform.as_coeffs();
        // The transform places the image's pixels on the page: one pixel is this many points.
        let (px, py) = ((a * a + b * b).sqrt(), (c * c + d * d).sqrt());
        let area = px * py * image.width() as f64 * image.height() as f64;
        if area > self.largest_image && px > 0.0 {
            self.largest_image = area;
            self.image_dpi = Some(72.0 / px);
        }
    }
}

/// OCR of the page rendered in grey.
fn ocr_rendered(
    page: &PdfPage<'_>,
    dpi: f64,
    ocr: &dyn Fn(OcrImage) -> Result<Vec<Word>, Failure>,
) -> Result<Vec<Word>, Failure> {
    let (width, height, pixels) = render(page, dpi)?;
    ocr(OcrImage::Gray {
        width,
        height,
        pixels: &pixels,
    })
}

/// The page's image as stored, when the page holds exactly one image and it is a JPEG (a
/// complete JPEG file inside the PDF, as scanners write them).
fn page_jpeg(page: &PdfPage<'_>) -> Option<Vec<u8>> {
    let resources = page.resources();
    let mut images = resources.x_objects.keys().filter_map(|name| {
        let stream = resources.get_x_object(&name)?;
        let subtype = stream
            .dict()
            .get::<hayro::hayro_syntax::object::Name>(b"Subtype")?;
        (subtype.as_ref() == b"Image").then_some(stream)
    });
    let image = images.next()?;
    if images.next().is_some() {
        return None;
    }
    let filters = image.filters();
    (filters.len() == 1 && filters[0] == Filter::DctDecode).then(|| image.raw_data().into_owned())
}

/// Interprets a page without drawing it.
fn look(page: &PdfPage<'_>) -> Seen {
    let cache = InterpreterCache::new();
    let (w, h) = page.render_dimensions();
    let mut ctx = Context::new(
        page.initial_transform(true).to_kurbo(),
        Rect::new(0.0, 0.0, w as f64, h as f64),
        &cache,
        page.xref(),
        InterpreterSettings::default(),
    );
    let mut seen = Seen::default();
    interpret_page(page, &mut ctx, &mut seen);
    seen
}

/// Renders a page in grey at `dpi` (lowered when the page would exceed `MAX_PIXELS`).
fn render(page: &PdfPage<'_>, dpi: f64) -> Result<(u32, u32, Vec<u8>), Failure> {
    let (w, h) = page.render_dimensions();
    let (w, h) = (w as f64, h as f64);
    let mut scale = dpi / 72.0;
    if w * h * scale * scale > MAX_PIXELS {
        scale = (MAX_PIXELS / (w * h)).sqrt();
    }
    if !(w * scale >= 1.0 && h * scale >= 1.0 && w * scale < 65_000.0 && h * scale < 65_000.0) {
        return Err(Failure::new(
            TEXTRACT_BAD_PAGE,
            format!("The page measures {w:.0} x {h:.0} points and cannot be rendered."),
        ));
    }
    let pixmap = hayro::render(
        page,
        &RenderCache::new(),
        &InterpreterSettings::default(),
        &RenderSettings::default(),
        &PixmapSettings {
            x_scale: scale as f32,
            y_scale: scale as f32,
            bg_color: WHITE,
        },
    );
    let (pw, ph) = (pixmap.width() as u32, pixmap.height() as u32);
    // Premultiplied RGBA over white: luma of the colour channels.
    let gray = pixmap
        .data_as_u8_slice()
        .chunks_exact(4)
        .map(|p| ((p[0] as u32 * 77 + p[1] as u32 * 150 + p[2] as u32 * 29) >> 8) as u8)
        .collect();
    Ok((pw, ph, gray))
}
