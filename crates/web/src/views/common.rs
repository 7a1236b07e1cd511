//! Pages every reader may see: the login form and a message page (an error, a refusal, a page
//! that does not exist), in the reader's language.

use askama::Template;

use crate::shell::Shell;

/// A link with its words.
#[derive(Debug, Clone)]
pub struct Link {
    pub href: String,
    pub label: String,
}

/// The identity provider offered beside the password.
#[derive(Debug, Clone)]
pub struct Provider {
    pub href: String,
    pub name: String,
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub shell: Shell,
    pub token: String,
    pub next: String,
    pub error: Option<String>,
    pub provider: Option<Provider>,
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub shell: Shell,
    pub heading: String,
    pub text: String,
    /// `ok`, `warn`, `bad` or `info`.
    pub kind: &'static str,
    pub icon: &'static str,
    pub link: Option<Link>,
    /// Moves on to this local path at once (after a login through the identity provider).
    pub refresh: Option<String>,
}
