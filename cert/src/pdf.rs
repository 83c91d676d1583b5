//! The certificate as a one-page A4 PDF: the agency's heading, the title and the legal text of
//! the record's kind in Albanian and Serbian (and English with `--lang en`), the record's
//! fields, the issuing office, serial and date of issue, and the QR code drawn as vector squares.
//!
//! Fonts: DejaVu Sans and DejaVu Sans Bold (Debian's fonts-dejavu-core 2.37, Bitstream Vera
//! licence, `cert/fonts/LICENSE-DejaVu.txt`), compiled into the binary and embedded as subsets
//! by krilla; they cover Albanian (ë, ç) and Serbian Latin and Cyrillic. No network, no system
//! fonts. Names print in the script they were registered in; a Cyrillic name is followed by its
//! Latin transliteration (`shared::normalize::cyrillic_to_latin`).
//!
//! Every word printed comes from the crate's Fluent catalogues ([`crate::labels`]). The legal
//! text says which register the extract is from and names its legal basis, the Law on Civil
//! Status of Kosovo (No. 04/L-003), without article numbers (none could be sourced here): the
//! agency's lawyers should confirm the wording before certificates are given to citizens.

use std::sync::{Arc, LazyLock};

use civreg_shared::gazetteer;
use civreg_shared::model::RecordKind;
use civreg_shared::normalize::cyrillic_to_latin;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use krilla::Document;

use crate::claims::{Claims, PersonClaim};
use crate::{labels, qr, CertError};
use civreg_shared::i18n::Lang as I18n;

static REGULAR: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

static FONTS: LazyLock<Option<(Font, Font)>> = LazyLock::new(|| {
    let load = |b: &'static [u8]| {
        let data: Arc<dyn AsRef<[u8]> + Send + Sync> = Arc::new(b);
        Font::new(data.into(), 0)
    };
    Some((load(REGULAR)?, load(BOLD)?))
});

/// A4 in points.
const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const MARGIN: f32 = 50.0;
const VALUE_X: f32 = 250.0;
/// Side of the printed QR code, quiet zone included (about 5.6 cm).
const QR_SIDE: f32 = 160.0;

/// The language a certificate is printed for: its official languages in this order, and
/// English glosses with `En`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Sq,
    Sr,
    En,
}

impl Lang {
    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "sq" => Some(Lang::Sq),
            "sr" => Some(Lang::Sr),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Sq => "sq",
            Lang::Sr => "sr",
            Lang::En => "en",
        }
    }
}

/// A text of the catalogues (`crate::labels`, key without `pdf-`), printed in Albanian and
/// Serbian (Latin), and English with `Lang::En`.
#[derive(Clone, Copy)]
struct T(&'static str);

impl T {
    fn sq(self) -> String {
        labels::text(I18n::Sq, self.0)
    }
    fn sr(self) -> String {
        labels::text(I18n::SrLatn, self.0)
    }
    fn en(self) -> String {
        labels::text(I18n::En, self.0)
    }
    /// The official languages in `lang`'s order: (first, second).
    fn pair(self, lang: Lang) -> (String, String) {
        match lang {
            Lang::Sr => (self.sr(), self.sq()),
            _ => (self.sq(), self.sr()),
        }
    }
    /// "sq / sr" (or "sr / sq"); with English, "sq / sr / en".
    fn line(self, lang: Lang) -> String {
        let (a, b) = self.pair(lang);
        match lang {
            Lang::En => format!("{a} / {b} / {}", self.en()),
            _ => format!("{a} / {b}"),
        }
    }
}

const COUNTRY: T = T("country");
const AGENCY: T = T("agency");
const LEGAL_BASIS: T = T("legal-basis");

/// The title and the sentence saying which register the extract is from.
fn title(kind: RecordKind) -> (T, T) {
    match kind {
        RecordKind::Birth => (T("title-birth"), T("extract-birth")),
        RecordKind::Marriage => (T("title-marriage"), T("extract-marriage")),
        RecordKind::Death => (T("title-death"), T("extract-death")),
    }
}

const REGNO: T = T("regno");
const REGISTER: T = T("register");
const GIVEN: T = T("given");
const SURNAME: T = T("surname");
const MAIDEN: T = T("maiden");
const SURNAME_BEFORE: T = T("surname-before");
const SURNAME_AFTER: T = T("surname-after");
const FATHER_NAME: T = T("father-name");
const DOB: T = T("dob");
const SEX: T = T("sex");
const PERSON_ID: T = T("person-id");
const DATE_ISSUE: T = T("date-issue");
const SERIAL: T = T("serial");
const ISSUED_BY: T = T("issued-by");
const OFFICE: T = T("office");
const CENTRAL: T = T("central");
const VERIFY: T = T("verify");
const MARRIAGE: T = T("marriage");

fn role_title(role: &str) -> T {
    match role {
        "child" => T("role-child"),
        "mother" => T("role-mother"),
        "father" => T("role-father"),
        "spouse1" => T("role-spouse1"),
        "spouse2" => T("role-spouse2"),
        _ => T("role-deceased"),
    }
}

fn event_labels(kind: RecordKind) -> (T, T) {
    match kind {
        RecordKind::Birth => (DOB, T("birth-place")),
        RecordKind::Marriage => (T("marriage-date"), T("marriage-place")),
        RecordKind::Death => (T("death-date"), T("death-place")),
    }
}

fn sex_text(sex: char, lang: Lang) -> String {
    match sex {
        'F' => T("sex-female").line(lang),
        _ => T("sex-male").line(lang),
    }
}

/// A name as printed: in its own script, with the Latin transliteration after a Cyrillic one.
pub fn printed_name(s: &str) -> String {
    if s.chars().any(|c| ('\u{0400}'..='\u{04FF}').contains(&c)) {
        format!("{s} ({})", cyrillic_to_latin(s))
    } else {
        s.to_owned()
    }
}

/// `YYYY-MM-DD` as `DD.MM.YYYY`, the way dates are written in Kosovo.
fn date(s: &str) -> String {
    match chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        Ok(d) => d.format("%d.%m.%Y").to_string(),
        Err(_) => s.to_owned(),
    }
}

/// The office that issued, in words: `Zyra e gjendjes civile Istog/Istok (1)`.
fn office_text(office: &str, lang: Lang) -> String {
    let mut parts = office.split('/');
    let municipality = parts.next().unwrap_or_default();
    match (gazetteer::by_code(municipality), parts.next()) {
        (Some(m), Some(node)) => format!("{} {} ({node})", OFFICE.line(lang), m.display()),
        _ if office == "hub" => CENTRAL.line(lang),
        _ => office.to_owned(),
    }
}

struct Writer<'a, 'b> {
    s: &'a mut Surface<'b>,
    regular: Font,
    bold: Font,
    y: f32,
}

impl Writer<'_, '_> {
    fn text(&mut self, x: f32, y: f32, size: f32, bold: bool, text: &str) {
        let font = if bold {
            self.bold.clone()
        } else {
            self.regular.clone()
        };
        self.s.draw_text(
            Point::from_xy(x, y),
            font,
            size,
            text,
            false,
            TextDirection::Auto,
        );
    }

    /// Text wrapped to `width` points. DejaVu Sans averages about 0.55 em per character of
    /// running text, Bold about 0.62; capitals are wider, so the estimate is generous.
    fn wrapped(&mut self, x: f32, size: f32, bold: bool, width: f32, text: &str) {
        let em = if bold { 0.68 } else { 0.6 };
        let per_line = ((width / (size * em)) as usize).max(10);
        for line in wrap(text, per_line) {
            self.text(x, self.y, size, bold, &line);
            self.y += size * 1.3;
        }
    }

    /// A row: the label (small, grey) at the margin and the value beside it, wrapped.
    fn row(&mut self, label: T, lang: Lang, value: &str) {
        let top = self.y;
        self.s.set_fill(Some(grey()));
        let mut ly = top;
        for line in wrap(&label.line(lang), 44) {
            self.text(MARGIN + 10.0, ly, 7.5, false, &line);
            ly += 9.5;
        }
        self.s.set_fill(Some(black()));
        self.y = top;
        self.wrapped(VALUE_X, 10.5, true, PAGE_W - MARGIN - VALUE_X, value);
        self.y = self.y.max(ly) + 3.0;
    }

    fn section(&mut self, heading: T, lang: Lang) {
        self.y += 4.0;
        self.text(MARGIN, self.y, 10.0, true, &heading.line(lang));
        self.y += 4.0;
        self.rule(MARGIN, PAGE_W - MARGIN, 0.5);
        self.y += 11.0;
    }

    fn rule(&mut self, x0: f32, x1: f32, width: f32) {
        let mut pb = PathBuilder::new();
        pb.move_to(x0, self.y);
        pb.line_to(x1, self.y);
        if let Some(path) = pb.finish() {
            self.s.set_fill(None);
            self.s.set_stroke(Some(Stroke {
                width,
                ..Stroke::default()
            }));
            self.s.draw_path(&path);
            self.s.set_stroke(None);
            self.s.set_fill(Some(black()));
        }
    }

    fn person(&mut self, kind: RecordKind, p: &PersonClaim, lang: Lang) {
        self.section(role_title(&p.role), lang);
        self.row(GIVEN, lang, &printed_name(&p.given_name));
        if kind == RecordKind::Marriage {
            let before = p.other_surname.as_deref().unwrap_or(&p.surname);
            self.row(SURNAME_BEFORE, lang, &printed_name(before));
            self.row(SURNAME_AFTER, lang, &printed_name(&p.surname));
        } else {
            self.row(SURNAME, lang, &printed_name(&p.surname));
            if let Some(o) = &p.other_surname {
                self.row(MAIDEN, lang, &printed_name(o));
            }
        }
        if let Some(f) = &p.father_given_name {
            self.row(FATHER_NAME, lang, &printed_name(f));
        }
        if let Some(d) = &p.date_of_birth {
            self.row(DOB, lang, &date(d));
        }
        if let Some(s) = p.sex {
            self.row(SEX, lang, &sex_text(s, lang));
        }
        if let Some(id) = &p.person_id {
            self.row(PERSON_ID, lang, id);
        }
    }
}

fn black() -> Fill {
    Fill {
        paint: rgb::Color::new(0, 0, 0).into(),
        opacity: NormalizedF32::ONE,
        rule: FillRule::NonZero,
    }
}

fn grey() -> Fill {
    Fill {
        paint: rgb::Color::new(70, 70, 70).into(),
        opacity: NormalizedF32::ONE,
        rule: FillRule::NonZero,
    }
}

/// Splits `text` into lines of at most `max` characters, at spaces where it can.
fn wrap(text: &str, max: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        while word.len() > max {
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            lines.push(word.drain(..max).collect());
        }
        let word: String = word.into_iter().collect();
        if line.chars().count() + 1 + word.chars().count() > max && !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Renders the certificate of `claims`, whose signed QR text is `qr_text`.
pub fn render(claims: &Claims, qr_text: &str, lang: Lang) -> Result<Vec<u8>, CertError> {
    let kind = claims
        .record_kind()
        .ok_or_else(|| CertError::Pdf(format!("unknown record kind {:?}", claims.kind)))?;
    let (regular, bold) = FONTS
        .clone()
        .ok_or_else(|| CertError::Pdf("the embedded fonts do not load".into()))?;
    let matrix = qr::encode(qr_text)?;

    let mut doc = Document::new();
    let (title_t, legal) = title(kind);
    doc.set_metadata(
        Metadata::new()
            .title(format!("{} {}", title_t.line(lang), claims.regno))
            .language(lang.code().to_owned())
            .creator("civreg".to_owned()),
    );
    let settings =
        PageSettings::from_wh(PAGE_W, PAGE_H).ok_or_else(|| CertError::Pdf("page size".into()))?;
    let mut page = doc.start_page_with(settings);
    {
        let mut surface = page.surface();
        surface.set_fill(Some(black()));
        let mut w = Writer {
            s: &mut surface,
            regular,
            bold,
            y: MARGIN + 10.0,
        };
        w.wrapped(
            MARGIN,
            11.0,
            true,
            PAGE_W - 2.0 * MARGIN,
            &COUNTRY.line(lang),
        );
        w.wrapped(
            MARGIN,
            9.5,
            false,
            PAGE_W - 2.0 * MARGIN,
            &AGENCY.line(lang),
        );
        w.y += 8.0;
        w.rule(MARGIN, PAGE_W - MARGIN, 1.2);
        w.y += 20.0;
        let (first, second) = title_t.pair(lang);
        w.wrapped(MARGIN, 14.0, true, PAGE_W - 2.0 * MARGIN, &first);
        w.wrapped(MARGIN, 12.0, true, PAGE_W - 2.0 * MARGIN, &second);
        if lang == Lang::En {
            w.wrapped(MARGIN, 10.0, false, PAGE_W - 2.0 * MARGIN, &title_t.en());
        }
        w.y += 8.0;

        w.row(REGNO, lang, &claims.regno);
        if let Some(r) = &claims.register {
            w.row(REGISTER, lang, r);
        }
        let (date_label, place_label) = event_labels(kind);
        for (i, p) in claims.people.iter().enumerate() {
            w.person(kind, p, lang);
            if i == 0 && kind != RecordKind::Marriage {
                // The event belongs to the principal (birth, death); a child's date of birth
                // was printed with the child already.
                if kind == RecordKind::Death || p.date_of_birth.is_none() {
                    if let Some(d) = &claims.event_date {
                        w.row(date_label, lang, &date(d));
                    }
                }
                w.row(place_label, lang, &printed_name(&claims.event_place));
            }
        }
        if kind == RecordKind::Marriage {
            w.section(MARRIAGE, lang);
            if let Some(d) = &claims.event_date {
                w.row(date_label, lang, &date(d));
            }
            w.row(place_label, lang, &printed_name(&claims.event_place));
        }

        // Bottom block: legal text, issuer, serial and date on the left, the QR code right.
        let qr_top = PAGE_H - MARGIN - QR_SIDE;
        w.y = w.y.max(qr_top - 70.0);
        w.y += 6.0;
        w.rule(MARGIN, PAGE_W - MARGIN, 0.8);
        w.y += 14.0;
        let legal_w = PAGE_W - 2.0 * MARGIN;
        w.s.set_fill(Some(grey()));
        for t in [legal, LEGAL_BASIS] {
            let (l1, l2) = t.pair(lang);
            w.wrapped(MARGIN, 7.5, false, legal_w, &l1);
            w.wrapped(MARGIN, 7.5, false, legal_w, &l2);
            if lang == Lang::En {
                w.wrapped(MARGIN, 7.5, false, legal_w, &t.en());
            }
        }
        w.s.set_fill(Some(black()));
        let qr_top = qr_top.max(w.y + 4.0);
        w.y = qr_top + 14.0;
        // Clear of the QR code's quiet zone: text there can make it unreadable.
        let left_w = PAGE_W - 2.0 * MARGIN - QR_SIDE - 24.0;
        for (label, value) in [
            (ISSUED_BY, office_text(&claims.office, lang)),
            (DATE_ISSUE, date(&claims.issued_on)),
            (SERIAL, claims.serial.clone()),
        ] {
            w.s.set_fill(Some(grey()));
            w.wrapped(MARGIN, 7.5, false, left_w, &label.line(lang));
            w.s.set_fill(Some(black()));
            w.wrapped(MARGIN, 10.0, true, left_w, &value);
            w.y += 4.0;
        }
        w.s.set_fill(Some(grey()));
        w.wrapped(MARGIN, 7.0, false, left_w, &VERIFY.line(lang));
        w.s.set_fill(Some(black()));
        draw_qr(w.s, &matrix, PAGE_W - MARGIN - QR_SIDE, qr_top, QR_SIDE);
        if w.y > PAGE_H - 10.0 {
            return Err(CertError::Pdf(
                "the record's texts do not fit on one page".into(),
            ));
        }
    }
    page.finish();
    doc.finish().map_err(|e| CertError::Pdf(format!("{e:?}")))
}

/// Draws the QR code with a 4-module quiet zone in a `side`-point square at (x, y): each run
/// of dark modules in a row is one rectangle.
fn draw_qr(s: &mut Surface<'_>, m: &qr::Matrix, x: f32, y: f32, side: f32) {
    let modules = m.width + 8;
    let unit = side / modules as f32;
    let mut pb = PathBuilder::new();
    for row in 0..m.width {
        let mut col = 0;
        while col < m.width {
            if !m.is_dark(col, row) {
                col += 1;
                continue;
            }
            let start = col;
            while col < m.width && m.is_dark(col, row) {
                col += 1;
            }
            if let Some(r) = Rect::from_xywh(
                x + (start + 4) as f32 * unit,
                y + (row + 4) as f32 * unit,
                (col - start) as f32 * unit,
                unit,
            ) {
                pb.push_rect(r);
            }
        }
    }
    if let Some(path) = pb.finish() {
        s.set_stroke(None);
        s.set_fill(Some(black()));
        s.draw_path(&path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_keeps_words_and_cuts_long_ones() {
        assert_eq!(wrap("a bb ccc", 4), vec!["a bb", "ccc"]);
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap("", 4), vec![String::new()]);
    }

    #[test]
    fn cyrillic_names_get_their_transliteration() {
        assert_eq!(printed_name("Петровић"), "Петровић (Petrović)");
        assert_eq!(printed_name("Gashi"), "Gashi");
    }
}
