//! The frame of the server-rendered pages (login, errors, home): escaping, the document shell with
//! its language and direction, and the French and Arabic wording of the login pages. No inline
//! script anywhere: the content security policy forbids it.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

/// Escapes text for HTML element content and double-quoted attributes.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The language of a page.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Fr,
    Ar,
}

impl Lang {
    /// `ar` gives Arabic; anything else French.
    pub fn parse(code: Option<&str>) -> Lang {
        match code {
            Some("ar") => Lang::Ar,
            _ => Lang::Fr,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::Ar => "ar",
        }
    }

    pub fn dir(self) -> &'static str {
        match self {
            Lang::Fr => "ltr",
            Lang::Ar => "rtl",
        }
    }

    pub fn t(self) -> &'static Texts {
        match self {
            Lang::Fr => &FR,
            Lang::Ar => &AR,
        }
    }
}

/// The words of the login pages in one language.
pub struct Texts {
    pub title: &'static str,
    pub username: &'static str,
    pub password: &'static str,
    pub submit: &'static str,
    pub with_provider: &'static str,
    pub or: &'static str,
    pub failed: &'static str,
    pub other_language: &'static str,
    pub other_code: &'static str,
    pub back_to_login: &'static str,
    pub expired_form: &'static str,
    pub too_many: &'static str,
    pub bad_request: &'static str,
    pub logged_in: &'static str,
    pub continue_to: &'static str,
    pub logout: &'static str,
    pub oidc_failed: &'static str,
    pub oidc_unreachable: &'static str,
    pub oidc_no_account: &'static str,
    pub not_found: &'static str,
    pub error: &'static str,
}

static FR: Texts = Texts {
    title: "Connexion",
    username: "Identifiant",
    password: "Mot de passe",
    submit: "Se connecter",
    with_provider: "Se connecter avec",
    or: "ou",
    failed: "Identifiant ou mot de passe incorrect, ou compte bloqué temporairement.",
    other_language: "العربية",
    other_code: "ar",
    back_to_login: "Retour à la page de connexion",
    expired_form: "Ce formulaire a expiré ou ne vient pas de cette page. Rechargez la page de connexion et réessayez.",
    too_many: "Trop de tentatives depuis cette adresse. Attendez une minute avant de réessayer.",
    bad_request: "La demande est mal formée.",
    logged_in: "Vous êtes connecté.",
    continue_to: "Continuer",
    logout: "Se déconnecter",
    oidc_failed: "La connexion par le fournisseur d'identité a échoué. Recommencez depuis la page de connexion.",
    oidc_unreachable: "Le fournisseur d'identité est injoignable pour le moment. Utilisez votre mot de passe ou réessayez plus tard.",
    oidc_no_account: "Aucun compte Sanad actif ne correspond à cette identité. Demandez à un administrateur de créer ou débloquer votre compte.",
    not_found: "Cette page n'existe pas.",
    error: "Une erreur est survenue de notre côté ; elle a été consignée.",
};

static AR: Texts = Texts {
    title: "تسجيل الدخول",
    username: "اسم المستخدم",
    password: "كلمة المرور",
    submit: "دخول",
    with_provider: "الدخول عبر",
    or: "أو",
    failed: "اسم المستخدم أو كلمة المرور غير صحيحة، أو الحساب موقوف مؤقتا.",
    other_language: "Français",
    other_code: "fr",
    back_to_login: "العودة إلى صفحة الدخول",
    expired_form: "انتهت صلاحية هذه الاستمارة أو أنها لا تأتي من هذه الصفحة. أعد تحميل صفحة الدخول وحاول مجددا.",
    too_many: "محاولات كثيرة من هذا العنوان. انتظر دقيقة قبل المحاولة مجددا.",
    bad_request: "الطلب غير سليم.",
    logged_in: "تم تسجيل دخولك.",
    continue_to: "متابعة",
    logout: "تسجيل الخروج",
    oidc_failed: "فشل الدخول عبر مزود الهوية. أعد المحاولة من صفحة الدخول.",
    oidc_unreachable: "مزود الهوية غير متاح حاليا. استعمل كلمة المرور أو حاول لاحقا.",
    oidc_no_account: "لا يوجد حساب نشط في سند يطابق هذه الهوية. اطلب من المسؤول إنشاء حسابك أو رفع الإيقاف عنه.",
    not_found: "هذه الصفحة غير موجودة.",
    error: "حدث خطأ من جهتنا وتم تسجيله.",
};

const STYLE: &str = "body { font-family: system-ui, 'Noto Sans Arabic', sans-serif; margin: 2rem auto; max-width: 28rem; padding: 0 1rem; color: #1d2a33; }
label { display: block; margin-block: .8rem .2rem; } input[type=text], input[type=password] { width: 100%; padding: .5rem; box-sizing: border-box; }
button, .button { margin-block-start: 1rem; padding: .55rem 1.2rem; font: inherit; cursor: pointer; }
.error { color: #8a1f11; background: #fbeae5; padding: .6rem .8rem; border-radius: .3rem; }
.provider { display: inline-block; border: 1px solid #1d2a33; border-radius: .3rem; text-decoration: none; color: inherit; }
nav { margin-block-end: 1.5rem; text-align: end; }";

/// A whole document in one language.
pub fn document(lang: Lang, title: &str, body: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="{code}" dir="{dir}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} — Sanad</title>
<style>
{STYLE}
</style></head>
<body>
<h1>Sanad <span lang="ar" dir="rtl">سند</span></h1>
{body}
</body></html>"#,
        code = lang.code(),
        dir = lang.dir(),
        title = escape(title),
    )
}

/// A page with a message and a link back to the login page, answered with `status`.
pub fn message(status: StatusCode, lang: Lang, text: &str) -> Response {
    let t = lang.t();
    let body = format!(
        "<p class=\"error\" role=\"alert\">{}</p>\n<p><a href=\"/login?lang={}\">{}</a></p>",
        escape(text),
        lang.code(),
        escape(t.back_to_login),
    );
    html(status, document(lang, t.title, &body))
}

/// An HTML response that no cache keeps (pages carry CSRF tokens and the caller's name).
pub fn html(status: StatusCode, document: String) -> Response {
    let mut response = (status, Html(document)).into_response();
    no_store(response.headers_mut());
    response
}

pub fn no_store(headers: &mut HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// A 303 See Other to a local path.
pub fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    no_store(response.headers_mut());
    response
}

/// Whether the client asked for a web page (a browser) rather than a document of the API.
pub fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// Where to go after logging in: a local path only. Anything that a browser could read as another
/// site (`https://…`, `//host`, `/\host`) or that carries control characters gives `/`.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && path.len() <= 512
                && !path.chars().any(|c| c.is_control() || c.is_whitespace()) =>
        {
            path.to_string()
        }
        _ => "/".to_string(),
    }
}

/// `application/x-www-form-urlencoded` encoding of one value (a query parameter, a client secret).
pub fn form_encode(value: &str) -> String {
    serde_urlencoded::to_string([("v", value)])
        .map(|s| s.trim_start_matches("v=").to_string())
        .unwrap_or_default()
}

/// The value of a cookie of the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_a_local_path_only() {
        assert_eq!(safe_next(Some("/api/v1/docs/")), "/api/v1/docs/");
        assert_eq!(safe_next(Some("/?a=1")), "/?a=1");
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "evil",
            "/\t/evil.example",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
