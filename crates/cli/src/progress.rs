//! Progress bars on a terminal; plain lines (one per phase) when stderr is not a terminal, so that
//! scripts and tests can follow the phases.

use std::io::IsTerminal as _;
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};
use sanad_app::store::Progress;

pub struct Bar {
    bar: Mutex<Option<ProgressBar>>,
    tty: bool,
}

impl Bar {
    pub fn new() -> Self {
        Bar {
            bar: Mutex::new(None),
            tty: std::io::stderr().is_terminal(),
        }
    }

    pub fn finish(&self) {
        if let Ok(mut bar) = self.bar.lock()
            && let Some(b) = bar.take()
        {
            b.finish();
        }
    }
}

impl Progress for Bar {
    fn phase(&self, name: &str, total: u64) {
        self.finish();
        if !self.tty {
            if total > 0 {
                eprintln!("{name}: {total} rows");
            } else {
                eprintln!("{name}…");
            }
            return;
        }
        // A phase without a count (reading a file, building indexes) shows a spinner and its time.
        let (bar, template) = if total > 0 {
            (
                ProgressBar::new(total),
                "{msg:>20} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} ({per_sec})",
            )
        } else {
            (
                ProgressBar::new_spinner(),
                "{msg:>20} [{elapsed_precise}] {spinner}",
            )
        };
        bar.set_style(
            ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        if total == 0 {
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
        }
        bar.set_message(name.to_string());
        if let Ok(mut slot) = self.bar.lock() {
            *slot = Some(bar);
        }
    }

    fn advance(&self, done: u64) {
        if let Ok(bar) = self.bar.lock()
            && let Some(b) = bar.as_ref()
        {
            b.set_position(done);
        }
    }
}
