//! Sanad's web window without HTTP: the page templates (askama, compiled into the binary), the
//! wording in Arabic, French and English (Fluent), numbers and dates per language, the vendored
//! assets, and the maps and charts drawn on the server. The `http` crate's page handlers fill the
//! views from the same use-cases as the API and send what these templates render.

pub mod assets;
pub mod chart;
pub mod format;
pub mod i18n;
pub mod map;
pub mod shell;
pub mod views;

pub use i18n::{Lang, Tr};
pub use shell::{Flash, NavItem, Shell};

/// Percent-encodes a value for a URL's query (`next=` of the language links and of the login).
pub fn url_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
