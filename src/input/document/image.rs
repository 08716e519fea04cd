//! Images: PNG, JPEG and TIFF (one page per TIFF image directory). Only headers are read here,
//! for the page count and the image size (a file claiming more pixels than OCR reads is refused
//! before anything is decoded); Tesseract decodes the pixels itself, from the original bytes, so
//! docclass adds no decoding of its own to the OCR time.

use std::sync::Arc;

use super::ocr::OcrImage;
use super::{DocumentType, Failure, Format, Limits, Page, Paged, Reader};
use super::{INVALID_DOCUMENT, TEXTRACT_BAD_PAGE};
use crate::input::FileBytes;

pub struct ImageDocument {
    bytes: Arc<FileBytes>,
    /// Width and height of each page.
    pages: Vec<(u32, u32)>,
    max_side: u32,
}

pub fn open(
    bytes: Arc<FileBytes>,
    format: Format,
    limits: &Limits,
) -> Result<Box<dyn Paged>, Failure> {
    let pages = match format {
        Format::Png => vec![png_size(&bytes)?],
        Format::Jpeg => vec![jpeg_size(&bytes)?],
        _ => tiff_sizes(&bytes)?,
    };
    Ok(Box::new(ImageDocument {
        bytes,
        pages,
        max_side: limits.max_image_side,
    }))
}

impl Paged for ImageDocument {
    fn page_count(&self) -> u32 {
        self.pages.len() as u32
    }

    fn page(&self, number: u32, reader: &Reader) -> Page {
        let (w, h) = self.pages[number as usize - 1];
        if w > self.max_side || h > self.max_side || w == 0 || h == 0 {
            return Page {
                number,
                kind: DocumentType::Image,
                text: Err(Failure::new(
                    TEXTRACT_BAD_PAGE,
                    format!(
                        "The image is {w} x {h} pixels; OCR reads images of 1 to {} pixels on each side.",
                        self.max_side
                    ),
                )),
            };
        }
        let page = (self.pages.len() > 1).then_some(number - 1);
        match reader.ocr.words(OcrImage::Encoded(&self.bytes), None, page) {
            Ok(words) => reader.finish(number, DocumentType::Image, reader.ocr_text(&words)),
            Err(e) => Page {
                number,
                kind: DocumentType::Image,
                text: Err(Failure::new(TEXTRACT_BAD_PAGE, e.to_string())),
            },
        }
    }
}

fn damaged(what: &str) -> Failure {
    Failure::new(
        INVALID_DOCUMENT,
        format!("The {what} image cannot be read: its header is damaged or truncated."),
    )
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(b: &[u8]) -> Result<(u32, u32), Failure> {
    if b.len() < 24 || &b[12..16] != b"IHDR" {
        return Err(damaged("PNG"));
    }
    let be = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    Ok((be(16), be(20)))
}

/// Width and height from a JPEG's start-of-frame marker.
fn jpeg_size(b: &[u8]) -> Result<(u32, u32), Failure> {
    let mut i = 2;
    while i + 4 <= b.len() {
        if b[i] != 0xff {
            return Err(damaged("JPEG"));
        }
        let marker = b[i + 1];
        if marker == 0xff {
            i += 1;
            continue;
        }
        let len = u16::from_be_bytes([b[i + 2], b[i + 3]]) as usize;
        // SOF0-SOF15, except DHT (C4), JPG (C8) and DAC (CC).
        if (0xc0..=0xcf).contains(&marker) && ![0xc4, 0xc8, 0xcc].contains(&marker) {
            if i + 9 > b.len() {
                break;
            }
            let h = u16::from_be_bytes([b[i + 5], b[i + 6]]) as u32;
            let w = u16::from_be_bytes([b[i + 7], b[i + 8]]) as u32;
            return Ok((w, h));
        }
        if len < 2 {
            break;
        }
        i += 2 + len;
    }
    Err(damaged("JPEG"))
}

/// Width and height of every image directory (page) of a TIFF.
fn tiff_sizes(b: &[u8]) -> Result<Vec<(u32, u32)>, Failure> {
    let mut decoder =
        tiff::decoder::Decoder::new(std::io::Cursor::new(b)).map_err(|_| damaged("TIFF"))?;
    let mut pages = Vec::new();
    loop {
        pages.push(decoder.dimensions().map_err(|_| damaged("TIFF"))?);
        if !decoder.more_images() {
            break;
        }
        decoder.next_image().map_err(|_| damaged("TIFF"))?;
        if pages.len() > 100_000 {
            return Err(damaged("TIFF"));
        }
    }
    Ok(pages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_give_sizes_without_decoding() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend_from_slice(&100_000u32.to_be_bytes());
        png.extend_from_slice(&7u32.to_be_bytes());
        assert_eq!(png_size(&png).unwrap(), (100_000, 7));
        assert!(png_size(b"\x89PNG\r\n\x1a\n").is_err());
        let jpeg = [
            0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0, 0xff, 0xc0, 0, 11, 8, 0, 30, 0, 40, 1,
        ];
        assert_eq!(jpeg_size(&jpeg).unwrap(), (40, 30));
        assert!(jpeg_size(&[0xff, 0xd8, 0xff, 0xe0, 0, 1]).is_err());
        assert!(tiff_sizes(b"II*\0\xff\xff\xff\x7f").is_err());
    }
}
