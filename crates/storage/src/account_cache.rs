//! Accounts recently read, so that an authenticated request does not pay a query for its account.
//! A change made through this store (password reset, failed login, lock, unlock) forgets the
//! account at once; a change made by another process (`sanad admin` on the same database) is seen
//! within [`TTL`].

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sanad_app::store::Account;

/// How long another process's change to an account may go unseen.
pub(crate) const TTL: Duration = Duration::from_secs(1);
const MAX_ENTRIES: usize = 10_000;

#[derive(Default)]
pub(crate) struct AccountCache {
    entries: Mutex<HashMap<String, (Account, Instant)>>,
}

impl AccountCache {
    pub(crate) fn get(&self, username: &str) -> Option<Account> {
        let entries = self.entries.lock().ok()?;
        let (account, at) = entries.get(username)?;
        (at.elapsed() < TTL).then(|| account.clone())
    }

    pub(crate) fn put(&self, account: &Account) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_ENTRIES {
                entries.retain(|_, (_, at)| at.elapsed() < TTL);
            }
            entries.insert(account.username.clone(), (account.clone(), Instant::now()));
        }
    }

    pub(crate) fn forget(&self, username: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(username);
        }
    }
}
