//! The PNG at print resolution: a plotters backend that draws a figure laid out for the screen
//! `k` times larger on a bitmap (positions, line widths, radii and font sizes alike), and the
//! physical size written into the PNG file.

use std::path::Path;

use plotters::style::{FontDesc, TextStyle};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind,
};

/// A backend that draws everything `k` times larger on `inner`: positions, line widths, radii
/// and font sizes, while telling the figure the size it was laid out for. The figure's
/// drawing code is the same as for the SVG; only the pixels are finer.
pub(crate) struct Scaled<DB> {
    inner: DB,
    k: i32,
}

/// A line style with its width scaled.
struct ScaledStyle {
    colour: BackendColor,
    width: u32,
}

impl BackendStyle for ScaledStyle {
    fn color(&self) -> BackendColor {
        self.colour
    }
    fn stroke_width(&self) -> u32 {
        self.width
    }
}

impl<DB: DrawingBackend> Scaled<DB> {
    /// `inner` must be `k` times the figure's size.
    pub(crate) fn new(inner: DB, k: u32) -> Self {
        Scaled {
            inner,
            k: k.max(1) as i32,
        }
    }
    fn at(&self, (x, y): BackendCoord) -> BackendCoord {
        (x * self.k, y * self.k)
    }
    fn style<S: BackendStyle>(&self, s: &S) -> ScaledStyle {
        ScaledStyle {
            colour: s.color(),
            width: s.stroke_width() * self.k as u32,
        }
    }
}

impl<DB: DrawingBackend> DrawingBackend for Scaled<DB> {
    type ErrorType = DB::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        let (w, h) = self.inner.get_size();
        (w / self.k as u32, h / self.k as u32)
    }
    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
        self.inner.ensure_prepared()
    }
    fn present(&mut self) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
        self.inner.present()
    }
    fn draw_pixel(
        &mut self,
        p: BackendCoord,
        c: BackendColor,
    ) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
        let (x, y) = self.at(p);
        let k = self.k - 1;
        self.inner.draw_rect((x, y), (x + k, y + k), &c, true)
    }
    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
        let (a, b, s) = (self.at(from), self.at(to), self.style(style));
        if s.width <= 1 {
            return self.inner.draw_line(a, b, &s);
        }
        // A wide line is a path, which the rasteriser outlines with its width.
        self.inner.draw_path([a, b], &s)
    }
    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
        let (a, b) = (self.at(upper_left), self.at(bottom_right));
        let s = self.style(style);
        if fill {
            // The last logical pixel row and column cover k device pixels.
            let k = self.k - 1;
            return self.inner.draw_rect(a, (b.0 + k, b.1 + k), &s, true);
        }
        if s.width <= 1 {
            return self.inner.draw_rect(a, b, &s, false);
        }
        // A wide outline as four filled bands centred on the edges, with square corners.
        let (h0, h1) = ((s.width / 2) as i32, (s.width - s.width / 2) as i32 - 1);
        let fill = BackendColor { ..s.colour };
        for (p, q) in [
            ((a.0 - h0, a.1 - h0), (b.0 + h1, a.1 + h1)),
            ((a.0 - h0, b.1 - h0), (b.0 + h1, b.1 + h1)),
            ((a.0 - h0, a.1 - h0), (a.0 + h1, b.1 + h1)),
            ((b.0 - h0, a.1 - h0), (b.0 + h1, b.1 + h1)),
        ] {
            self.inner.draw_rect(p, q, &fill, true)?;
        }
        Ok(())
    }
    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
        let points: Vec<_> = path.into_iter().map(|p| self.at(p)).collect();
        let s = self.style(style);
        self.inner.draw_path(points, &s)
    }
    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
        let (c, s) = (self.at(center), self.style(style));
        self.inner.draw_circle(c, radius * self.k as u32, &s, fill)
    }
    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
        let points: Vec<_> = vert.into_iter().map(|p| self.at(p)).collect();
        let s = self.style(style);
        self.inner.fill_polygon(points, &s)
    }
    fn draw_text<T: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &T,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
        let font = FontDesc::new(
            style.family(),
            style.size() * f64::from(self.k),
            style.style(),
        )
        .transform(style.transform());
        let scaled = TextStyle {
            font,
            color: style.color(),
            pos: style.anchor(),
        };
        self.inner.draw_text(text, &scaled, self.at(pos))
    }
}

/// Writes into a PNG file the physical size at which it prints `width_mm` wide (a pHYs
/// chunk after the header), so that a word processor places it at a journal's page width
/// and reports its resolution (at least 300 dpi for [`PRINT_WIDTH_PX`] pixels).
pub(crate) fn set_png_width_mm(path: &Path, width_mm: f64) -> std::io::Result<()> {
    let bytes = std::fs::read(path)?;
    // Signature (8) + IHDR chunk (4 length + 4 type + 13 data + 4 CRC) = 33.
    if bytes.len() < 33 || &bytes[12..16] != b"IHDR" {
        return Err(std::io::Error::other("not a PNG with a header"));
    }
    let width = u32::from_be_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
    let per_metre = (f64::from(width) / (width_mm / 1000.0)).round() as u32;
    let mut chunk = Vec::with_capacity(21);
    chunk.extend_from_slice(&9u32.to_be_bytes());
    chunk.extend_from_slice(b"pHYs");
    chunk.extend_from_slice(&per_metre.to_be_bytes());
    chunk.extend_from_slice(&per_metre.to_be_bytes());
    chunk.push(1); // unit: metre
    let crc = crc32(&chunk[4..]);
    chunk.extend_from_slice(&crc.to_be_bytes());
    let mut out = Vec::with_capacity(bytes.len() + chunk.len());
    out.extend_from_slice(&bytes[..33]);
    out.extend_from_slice(&chunk);
    out.extend_from_slice(&bytes[33..]);
    std::fs::write(path, out)
}

/// The CRC-32 of PNG chunks (ISO 3309, reflected polynomial 0xEDB88320).
pub(crate) fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
