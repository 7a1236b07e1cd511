//! The frame every page shares: the language and its direction, the top bar with the language
//! switch and the signed-in person, the navigation of their role, a message after an action, and
//! the links to the vendored assets.

use crate::i18n::{Lang, Tr};
use crate::{assets, url_encode};

/// One entry of the navigation.
#[derive(Debug, Clone)]
pub struct NavItem {
    pub href: String,
    pub label: String,
    /// The id of an icon in `icons.svg`.
    pub icon: &'static str,
    pub current: bool,
}

/// A message shown above the page after an action ("The change was recorded").
#[derive(Debug, Clone)]
pub struct Flash {
    /// `ok`, `warn`, `bad` or `info`.
    pub kind: &'static str,
    pub text: String,
}

/// A link of the language switch.
#[derive(Debug, Clone)]
pub struct LangLink {
    pub code: &'static str,
    pub name: &'static str,
    pub href: String,
    pub current: bool,
}

/// The signed-in person as the top bar shows them.
#[derive(Debug, Clone)]
pub struct User {
    pub name: String,
    pub role: String,
}

#[derive(Debug, Clone)]
pub struct Shell {
    pub t: Tr,
    pub title: String,
    pub user: Option<User>,
    pub nav: Vec<NavItem>,
    pub langs: Vec<LangLink>,
    /// The session's CSRF token, put in every form and in htmx's request headers.
    pub csrf: Option<String>,
    pub flash: Option<Flash>,
    pub css: String,
    pub js: String,
    pub htmx: String,
    icons: String,
}

impl Shell {
    /// A frame in `lang` for the page at `path` (path and query, used by the language switch to
    /// come back to the same page).
    pub fn new(lang: Lang, title: impl Into<String>, path: &str) -> Shell {
        let langs = Lang::ALL
            .iter()
            .map(|&l| LangLink {
                code: l.code(),
                name: l.native_name(),
                href: format!("/lang/{}?next={}", l.code(), url_encode(path)),
                current: l == lang,
            })
            .collect();
        Shell {
            t: Tr::new(lang),
            title: title.into(),
            user: None,
            nav: Vec::new(),
            langs,
            csrf: None,
            flash: None,
            css: assets::url("sanad.css"),
            js: assets::url("sanad.js"),
            htmx: assets::url("htmx.min.js"),
            icons: assets::url("icons.svg"),
        }
    }

    pub fn lang(&self) -> Lang {
        self.t.lang
    }

    /// An icon from the sprite, hidden from screen readers (a word always stands beside it).
    pub fn icon(&self, id: &str) -> String {
        // Icons that point along the line of reading are mirrored in Arabic.
        let class = if matches!(id, "arrow" | "logout" | "undo") {
            "icon flip"
        } else {
            "icon"
        };
        format!(
            "<svg class=\"{class}\" aria-hidden=\"true\" focusable=\"false\"><use href=\"{}#{}\"></use></svg>",
            self.icons,
            id.replace(['"', '<', '>', '&'], "")
        )
    }

    /// htmx sends the CSRF token as a header on the requests it makes.
    pub fn hx_headers(&self) -> String {
        match &self.csrf {
            Some(token) => serde_json::json!({ "x-csrf-token": token }).to_string(),
            None => "{}".into(),
        }
    }

    /// The CSRF token for a hidden form field (empty when the page has no session).
    pub fn csrf_token(&self) -> &str {
        self.csrf.as_deref().unwrap_or("")
    }
}
