//! The administrator's pages: accounts with their roles and territories, and API keys.

use askama::Template;

use crate::views::registry::{Choice, Field};
use crate::{Shell, Tr};

#[derive(Debug, Clone)]
pub struct AccountRow {
    pub username: String,
    pub role: String,
    pub territories: String,
    pub household: String,
    pub locked: bool,
}

#[derive(Template)]
#[template(path = "admin/accounts.html")]
pub struct AccountsPage {
    pub shell: Shell,
    pub t: Tr,
    pub rows: Vec<AccountRow>,
    pub next: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/account.html")]
pub struct AccountForm {
    pub shell: Shell,
    pub t: Tr,
    pub heading: String,
    /// Whether the account exists (the name is then fixed).
    pub existing: bool,
    pub username: Field,
    pub roles: Vec<Choice>,
    pub territories: Field,
    pub household: Field,
    pub password: Field,
    pub errors: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct KeyRow {
    pub id: String,
    pub username: String,
    pub scopes: String,
    pub active: bool,
    pub state: String,
}

#[derive(Template)]
#[template(path = "admin/keys.html")]
pub struct KeysPage {
    pub shell: Shell,
    pub t: Tr,
    pub rows: Vec<KeyRow>,
    pub username: Field,
    pub scopes: Vec<Choice>,
    pub errors: Vec<String>,
    /// The key just made, shown this once.
    pub new_key: Option<String>,
}
