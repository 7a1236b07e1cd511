//! Injected crashes, for the tests that prove a step loses and doubles nothing when the process
//! dies in the middle of it. `SANAD_CRASH_AT=<point>:<n>` kills the process with SIGKILL (no
//! destructor, no flush, as `kill -9` does) the n-th time it passes the named point. Unset, a
//! point costs one atomic load.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

struct Armed {
    point: String,
    at: u64,
    hits: AtomicU64,
}

fn armed() -> Option<&'static Armed> {
    static ARMED: OnceLock<Option<Armed>> = OnceLock::new();
    ARMED
        .get_or_init(|| {
            let spec = std::env::var("SANAD_CRASH_AT").ok()?;
            let (point, at) = spec.rsplit_once(':')?;
            Some(Armed {
                point: point.to_string(),
                at: at.parse().ok()?,
                hits: AtomicU64::new(0),
            })
        })
        .as_ref()
}

/// Passes a named point of a step; dies here when this is the armed point and hit.
pub fn point(name: &str) {
    let Some(a) = armed() else {
        return;
    };
    if a.point != name {
        return;
    }
    if a.hits.fetch_add(1, Ordering::SeqCst) + 1 == a.at {
        let pid = std::process::id().to_string();
        // SIGKILL from outside: the same death as an operator's `kill -9`.
        let _ = std::process::Command::new("kill")
            .args(["-9", &pid])
            .status();
        // `kill` missing: abort, which also skips every destructor and flush.
        std::process::abort();
    }
}
