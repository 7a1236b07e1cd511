//! Rendering a signed certificate to PDF with typst as a library.
//!
//! typst shapes Arabic (joined letters, right to left, mixed with French on one page), which is
//! why it is used rather than a PDF library that only places glyphs. The templates are `.typ`
//! files in `templates/`; the data reaches them as a virtual file, `/data.json`, read with
//! `json(..)`, so a name is always a string value in the template and never markup: `#` or `]`
//! in a name prints as itself. The QR code is a second virtual file (`/qr.svg`) and the signed
//! payload a third (`/sanad-certificate.json`), which the template attaches to the PDF.
//!
//! Nothing here reads the clock, the file system or the network: the fonts are compiled in, the
//! world answers `today()` with `None`, and the PDF's dates and identifier come from the
//! certificate. The same signed certificate and base URL always give the same bytes, which is
//! what lets [`crate::verify_pdf`] compare a PDF with a fresh rendering of its signed content.

use std::sync::LazyLock;

use qrcode::{EcLevel, QrCode};
use serde::Serialize;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};
use typst::diag::{FileError, FileResult, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime, Duration, Smart};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt as _, World};
use typst_layout::PagedDocument;
use typst_pdf::{PdfOptions, Timestamp};

use crate::content::{Certificate, Details, DisabilityDegree, Kind};
use crate::sign::Signed;

/// The attached file's name inside the PDF.
pub const PAYLOAD_FILE: &str = "sanad-certificate.json";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("the base URL must start with https:// or http:// and hold no spaces or quotes")]
    BaseUrl,
    #[error("the verify URL does not fit in a QR code: {0}")]
    Qr(String),
    #[error("typst: {0}")]
    Typst(String),
}

static FONT_FILES: [&[u8]; 4] = [
    include_bytes!("../fonts/NotoSans-Regular.ttf"),
    include_bytes!("../fonts/NotoSans-Bold.ttf"),
    include_bytes!("../fonts/NotoNaskhArabic-Regular.ttf"),
    include_bytes!("../fonts/NotoNaskhArabic-Bold.ttf"),
];

const ATTESTATION: &str = include_str!("../templates/attestation.typ");
const CARD: &str = include_str!("../templates/card.typ");
const COMMON: &str = include_str!("../templates/common.typ");

/// What every rendering shares: the standard library, the fonts and the file ids. File ids are
/// interned for the life of the process, so they are fixed names, never one per certificate.
struct Assets {
    library: LazyHash<Library>,
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
    attestation: FileId,
    card: FileId,
    common: FileId,
    data: FileId,
    qr: FileId,
    payload: FileId,
}

fn file_id(path: &str) -> Option<FileId> {
    let vpath = VirtualPath::new(path).ok()?;
    Some(RootedPath::new(VirtualRoot::Project, vpath).intern())
}

static ASSETS: LazyLock<Option<Assets>> = LazyLock::new(|| {
    let fonts: Vec<Font> = FONT_FILES
        .iter()
        .flat_map(|bytes| Font::iter(Bytes::new(*bytes)))
        .collect();
    Some(Assets {
        library: LazyHash::new(Library::builder().build()),
        book: LazyHash::new(FontBook::from_fonts(&fonts)),
        fonts,
        attestation: file_id("/attestation.typ")?,
        card: file_id("/card.typ")?,
        common: file_id("/common.typ")?,
        data: file_id("/data.json")?,
        qr: file_id("/qr.svg")?,
        payload: file_id(&format!("/{PAYLOAD_FILE}"))?,
    })
});

fn assets() -> Result<&'static Assets, RenderError> {
    ASSETS
        .as_ref()
        .ok_or_else(|| RenderError::Typst("the template file names are not valid paths".into()))
}

/// One rendering's world: the fixed assets plus this certificate's three virtual files.
struct CertificateWorld {
    assets: &'static Assets,
    main: FileId,
    data: Bytes,
    qr: Bytes,
    payload: Bytes,
}

impl World for CertificateWorld {
    fn library(&self) -> &LazyHash<Library> {
        &self.assets.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &self.assets.book
    }

    fn main(&self) -> FileId {
        self.main
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        let a = self.assets;
        let text = if id == a.attestation {
            ATTESTATION
        } else if id == a.card {
            CARD
        } else if id == a.common {
            COMMON
        } else {
            return Err(not_found(id));
        };
        Ok(Source::new(id, text.to_owned()))
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        let a = self.assets;
        if id == a.data {
            Ok(self.data.clone())
        } else if id == a.qr {
            Ok(self.qr.clone())
        } else if id == a.payload {
            Ok(self.payload.clone())
        } else {
            self.source(id)
                .map(|s| Bytes::from_string(s.text().to_owned()))
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        self.assets.fonts.get(index).cloned()
    }

    /// No clock: a template that asks for today's date fails to compile instead of making the
    /// output depend on when it was rendered.
    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        None
    }
}

fn not_found(id: FileId) -> FileError {
    FileError::NotFound(id.vpath().get_with_slash().into())
}

/// Renders the signed certificate as a PDF (A4 for attestations, A6 landscape for cards), with
/// the QR code pointing at `{base_url}/verify/{id}?c={code}` and the signed payload attached.
pub fn render_pdf(signed: &Signed, base_url: &str) -> Result<Vec<u8>, RenderError> {
    let assets = assets()?;
    let base_url = clean_base_url(base_url)?;
    let c = &signed.certificate;
    let verify_url = crate::verify_url(base_url, signed);
    let data = serde_json::to_vec(&TemplateData::new(signed, base_url, &verify_url))
        .map_err(|e| RenderError::Typst(e.to_string()))?;
    let world = CertificateWorld {
        assets,
        main: if c.kind().is_card() {
            assets.card
        } else {
            assets.attestation
        },
        data: Bytes::new(data),
        qr: Bytes::from_string(qr_svg(&verify_url)?),
        payload: Bytes::from_string(signed.to_payload_json()),
    };
    let document: PagedDocument = typst::compile(&world)
        .output
        .map_err(|errors| RenderError::Typst(describe(&errors)))?;
    let options = PdfOptions {
        ident: Smart::Custom(c.id.to_string()),
        // Not typst's version: the bytes should not say which release made them.
        creator: Smart::Custom(Some("Sanad".into())),
        timestamp: Some(Timestamp::new_utc(datetime(c.issued_at))),
        ..PdfOptions::default()
    };
    let pdf = typst_pdf::pdf(&document, &options).map_err(|e| RenderError::Typst(describe(&e)));
    // typst memoises across compilations; forget what has not been used for a while so that a
    // long-running server does not keep every certificate it ever rendered.
    typst::comemo::evict(30);
    pdf
}

fn describe(errors: &[SourceDiagnostic]) -> String {
    errors
        .iter()
        .map(|e| e.message.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

fn datetime(at: OffsetDateTime) -> Datetime {
    let utc = at.to_offset(UtcOffset::UTC);
    Datetime::Datetime(PrimitiveDateTime::new(utc.date(), utc.time()))
}

/// The base URL without its trailing slash; refused when it could break the URL in the QR code.
fn clean_base_url(base_url: &str) -> Result<&str, RenderError> {
    let trimmed = base_url.trim_end_matches('/');
    let scheme_ok = trimmed.starts_with("https://") || trimmed.starts_with("http://");
    let chars_ok = trimmed
        .chars()
        .all(|c| c.is_ascii_graphic() && !matches!(c, '"' | '<' | '>' | '\\' | '?' | '#'));
    if scheme_ok && chars_ok && trimmed.len() <= 100 {
        Ok(trimmed)
    } else {
        Err(RenderError::BaseUrl)
    }
}

/// The QR code as SVG, error correction M (readable with a little dirt or a fold).
fn qr_svg(url: &str) -> Result<String, RenderError> {
    let code = QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M)
        .map_err(|e| RenderError::Qr(e.to_string()))?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .quiet_zone(true)
        .min_dimensions(160, 160)
        .build())
}

/// Everything the templates print, already worded in both languages. Labels live here rather
/// than in the templates so that the templates only lay out.
#[derive(Serialize)]
struct TemplateData<'a> {
    id: &'a str,
    title_ar: &'static str,
    title_fr: &'static str,
    statement_ar: Option<&'static str>,
    statement_fr: Option<&'static str>,
    holder_ar: Option<&'a str>,
    holder_fr: Option<&'a str>,
    issuer_ar: &'a str,
    issuer_fr: &'a str,
    rows: Vec<Row>,
    code: String,
    verify_url: &'a str,
    verify_at: String,
    document_title: String,
}

#[derive(Serialize)]
struct Row {
    label_ar: &'static str,
    label_fr: &'static str,
    /// A value written the same in both languages (a number, a date, an id), set left to right.
    value: Option<String>,
    value_ar: Option<String>,
    value_fr: Option<String>,
}

fn row(label_fr: &'static str, label_ar: &'static str, value: impl Into<String>) -> Row {
    Row {
        label_ar,
        label_fr,
        value: Some(value.into()),
        value_ar: None,
        value_fr: None,
    }
}

fn row2(label_fr: &'static str, label_ar: &'static str, fr: String, ar: String) -> Row {
    Row {
        label_ar,
        label_fr,
        value: None,
        value_ar: Some(ar),
        value_fr: Some(fr),
    }
}

/// Dates as Moroccan documents print them: day/month/year, Western digits in both languages.
fn display_date(d: time::Date) -> String {
    format!("{:02}/{:02}/{}", d.day(), u8::from(d.month()), d.year())
}

fn titles(kind: Kind) -> (&'static str, &'static str) {
    match kind {
        Kind::DisabilityCard => (
            "Carte de personne en situation de handicap",
            "بطاقة شخص في وضعية إعاقة",
        ),
        Kind::RegistrationAttestation => (
            "Attestation d'inscription au Registre social unifié",
            "شهادة التسجيل في السجل الاجتماعي الموحد",
        ),
        Kind::EligibilityAttestation => ("Attestation d'éligibilité", "شهادة الاستحقاق"),
        Kind::AmoTadamonCard => ("Carte AMO Tadamon", "بطاقة أمو تضامن"),
    }
}

fn statements(kind: Kind) -> (Option<&'static str>, Option<&'static str>) {
    match kind {
        Kind::RegistrationAttestation => (
            Some("Le ménage désigné ci-dessous est inscrit au Registre social unifié."),
            Some("الأسرة المذكورة أدناه مسجلة في السجل الاجتماعي الموحد."),
        ),
        Kind::EligibilityAttestation => (
            Some("Le ménage désigné ci-dessous est éligible au programme indiqué."),
            Some("الأسرة المذكورة أدناه مستحقة للبرنامج المشار إليه."),
        ),
        Kind::DisabilityCard | Kind::AmoTadamonCard => (None, None),
    }
}

fn degree(d: DisabilityDegree) -> (&'static str, &'static str) {
    match d {
        DisabilityDegree::Mild => ("Léger", "خفيفة"),
        DisabilityDegree::Moderate => ("Modéré", "متوسطة"),
        DisabilityDegree::Severe => ("Sévère", "شديدة"),
        DisabilityDegree::Profound => ("Profond", "عميقة"),
    }
}

impl<'a> TemplateData<'a> {
    fn new(signed: &'a Signed, base_url: &str, verify_url: &'a str) -> TemplateData<'a> {
        let c: &Certificate = &signed.certificate;
        let kind = c.kind();
        let (title_fr, title_ar) = titles(kind);
        let (statement_fr, statement_ar) = statements(kind);
        let mut rows = vec![row("N° du document", "رقم الوثيقة", c.id.as_str())];
        if let Some(m) = &c.national_id_masked {
            rows.push(row(
                "N° CNIE (masqué)",
                "رقم البطاقة الوطنية (مخفي)",
                m.as_str(),
            ));
        }
        rows.push(row(
            "Réf. du ménage",
            "مرجع الأسرة",
            c.household_ref.as_str(),
        ));
        match &c.details {
            Details::DisabilityCard { degree: d } => {
                let (fr, ar) = degree(*d);
                rows.push(row2(
                    "Degré du handicap",
                    "درجة الإعاقة",
                    fr.into(),
                    ar.into(),
                ));
            }
            Details::RegistrationAttestation {
                registered_on,
                members,
            } => {
                rows.push(row(
                    "Inscrit le",
                    "تاريخ التسجيل",
                    display_date(*registered_on),
                ));
                rows.push(row(
                    "Membres du ménage",
                    "عدد أفراد الأسرة",
                    members.to_string(),
                ));
            }
            Details::EligibilityAttestation {
                programme,
                index,
                decided_on,
            } => {
                rows.push(row2(
                    "Programme",
                    "البرنامج",
                    programme.fr.to_string(),
                    programme.ar.to_string(),
                ));
                if let Some(i) = index {
                    rows.push(row(
                        "Indice socio-économique",
                        "المؤشر الاجتماعي والاقتصادي",
                        i.as_str(),
                    ));
                }
                rows.push(row(
                    "Décision du",
                    "تاريخ القرار",
                    display_date(*decided_on),
                ));
            }
            Details::AmoTadamonCard {
                beneficiary_number,
                members_covered,
            } => {
                rows.push(row(
                    "N° d'immatriculation",
                    "رقم التسجيل",
                    beneficiary_number.as_str(),
                ));
                rows.push(row(
                    "Personnes couvertes",
                    "الأشخاص المستفيدون",
                    members_covered.to_string(),
                ));
            }
        }
        rows.push(row(
            "Délivré le",
            "تاريخ الإصدار",
            display_date(c.issued_at.to_offset(UtcOffset::UTC).date()),
        ));
        if let Some(v) = c.valid_until {
            rows.push(row("Valable jusqu'au", "صالحة إلى غاية", display_date(v)));
        }
        TemplateData {
            id: c.id.as_str(),
            title_ar,
            title_fr,
            statement_ar,
            statement_fr,
            holder_ar: c.holder_name_ar.as_ref().map(|t| t.as_str()),
            holder_fr: c.holder_name_fr.as_ref().map(|t| t.as_str()),
            issuer_ar: c.issuer.ar.as_str(),
            issuer_fr: c.issuer.fr.as_str(),
            rows,
            code: signed.verification_code().grouped(),
            verify_url,
            verify_at: format!("{base_url}/verify"),
            document_title: format!("{title_fr} {}", c.id),
        }
    }
}
