//! The QR code of a certificate: its modules (drawn by [`crate::pdf`] as vector squares), and
//! reading a QR text back from a picture of it (rqrr) or from a PDF (rendered by `pdftoppm`).

use std::path::Path;
use std::process::Command;

use qrcode::{EcLevel, QrCode};

use crate::CertError;

/// Error correction of the printed code: M (15%), as the EU DCC recommends for paper.
pub const EC_LEVEL: EcLevel = EcLevel::M;

/// Largest picture decoded (pixels): a 600 dpi A4 scan is about 35 million.
pub const MAX_PIXELS: u64 = 60_000_000;

/// A QR code's modules.
#[derive(Debug, Clone)]
pub struct Matrix {
    /// Modules per side, without the quiet zone.
    pub width: usize,
    /// QR version (1-40).
    pub version: i16,
    dark: Vec<bool>,
}

impl Matrix {
    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        self.dark[y * self.width + x]
    }
}

/// The QR code of `text` at error correction M.
pub fn encode(text: &str) -> Result<Matrix, CertError> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EC_LEVEL)
        .map_err(|e| CertError::Encode(format!("QR code: {e}")))?;
    let version = match code.version() {
        qrcode::Version::Normal(v) => v,
        qrcode::Version::Micro(v) => v,
    };
    Ok(Matrix {
        width: code.width(),
        version,
        dark: code
            .to_colors()
            .into_iter()
            .map(|c| c == qrcode::Color::Dark)
            .collect(),
    })
}

/// Finds and decodes the QR code(s) in a grey picture; returns the first one that decodes.
pub fn decode_gray(
    width: usize,
    height: usize,
    pixel: impl FnMut(usize, usize) -> u8,
) -> Result<String, CertError> {
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(width, height, pixel);
    let grids = img.detect_grids();
    if grids.is_empty() {
        return Err(CertError::Image(
            "no QR code found in the picture: photograph or scan the code straight, sharp and whole".into(),
        ));
    }
    let mut last = String::new();
    for g in grids {
        match g.decode() {
            Ok((_, text)) => return Ok(text),
            Err(e) => last = e.to_string(),
        }
    }
    Err(CertError::Image(format!(
        "a QR code was found but could not be read ({last}): scan it again, sharper"
    )))
}

/// Reads the QR text out of a picture (PNG, at most [`MAX_PIXELS`]).
pub fn decode_png(bytes: &[u8]) -> Result<String, CertError> {
    let mut reader =
        image::ImageReader::with_format(std::io::Cursor::new(bytes), image::ImageFormat::Png);
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_PIXELS * 4);
    reader.limits(limits);
    let img = reader
        .decode()
        .map_err(|e| CertError::Image(format!("not a readable PNG picture ({e})")))?;
    if u64::from(img.width()) * u64::from(img.height()) > MAX_PIXELS {
        return Err(CertError::Image(format!(
            "the picture has more than {MAX_PIXELS} pixels: scan at 300 dpi"
        )));
    }
    let gray = img.to_luma8();
    decode_gray(gray.width() as usize, gray.height() as usize, |x, y| {
        gray.get_pixel(x as u32, y as u32).0[0]
    })
}

/// Renders the first page of a PDF with `pdftoppm` (Debian's poppler-utils) at `dpi` and
/// returns it as PNG.
pub fn render_pdf(path: &Path, dpi: u32) -> Result<Vec<u8>, CertError> {
    let out = Command::new("pdftoppm")
        // Crisp module edges: anti-aliased edges at a fractional module size can cost rqrr
        // more errors than level M corrects.
        .args(["-png", "-singlefile", "-f", "1", "-l", "1", "-aaVector", "no"])
        .args(["-r", &dpi.to_string()])
        .arg(path)
        .output()
        .map_err(|e| {
            CertError::Image(format!(
                "could not run pdftoppm ({e}): install poppler-utils (apt-get install poppler-utils), or give a PNG of the QR code or its text"
            ))
        })?;
    if !out.status.success() {
        return Err(CertError::Image(format!(
            "pdftoppm could not render {}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(out.stdout)
}

/// Reads the QR text of a certificate PDF: renders its page and decodes the code, at 300 dpi,
/// then at other resolutions if the first does not read.
pub fn from_pdf(path: &Path) -> Result<String, CertError> {
    let mut last = None;
    for dpi in [300, 200, 450] {
        match decode_png(&render_pdf(path, dpi)?) {
            Ok(text) => return Ok(text),
            Err(e) => last = Some(e),
        }
    }
    Err(last.expect("tried at least once"))
}
