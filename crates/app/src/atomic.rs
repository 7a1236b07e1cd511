//! Files that appear whole or not at all: an export or a backup is written under temporary names
//! in its final directory, synced, and renamed into place only once every file is complete. A
//! failure (or a panic) before that removes the temporary files; a crash leaves only hidden
//! `.NAME.*.part` files, never a truncated file under the real name.

use std::fs::File;
use std::path::{Path, PathBuf};

/// Files being written, not yet in place.
#[derive(Debug, Default)]
pub struct PendingFiles {
    files: Vec<(PathBuf, PathBuf)>,
    done: bool,
}

impl PendingFiles {
    pub fn new() -> PendingFiles {
        PendingFiles::default()
    }

    /// The temporary path that will become `target` (in the same directory, so the rename is
    /// atomic). Nothing is created.
    pub fn reserve(&mut self, target: &Path) -> std::io::Result<PathBuf> {
        let mut suffix = [0u8; 6];
        getrandom::fill(&mut suffix).map_err(|e| std::io::Error::other(e.to_string()))?;
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temp = target.with_file_name(format!(".{name}.{}.part", hex::encode(suffix)));
        self.files.push((temp.clone(), target.to_path_buf()));
        Ok(temp)
    }

    /// Creates the temporary file of `target` (readable by its owner only: exports and backups
    /// hold personal data).
    pub fn create(&mut self, target: &Path) -> std::io::Result<File> {
        let temp = self.reserve(target)?;
        create_private(&temp)
    }

    /// Syncs every file and moves it into place; with `overwrite` false a target that exists is
    /// an error (and nothing is moved over it).
    pub fn commit(mut self, overwrite: bool) -> std::io::Result<()> {
        for (temp, _) in &self.files {
            File::open(temp)?.sync_all()?;
        }
        for (temp, target) in &self.files {
            if overwrite {
                std::fs::rename(temp, target)?;
            } else {
                std::fs::hard_link(temp, target)?;
                std::fs::remove_file(temp)?;
            }
        }
        self.done = true;
        let mut dirs: Vec<&Path> = self.files.iter().filter_map(|(_, t)| t.parent()).collect();
        dirs.dedup();
        for dir in dirs {
            // The renames themselves are durable once the directory is synced (not on every
            // platform possible; best effort).
            if let Ok(d) = File::open(if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            }) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }
}

impl Drop for PendingFiles {
    fn drop(&mut self) {
        if !self.done {
            for (temp, _) in &self.files {
                let _ = std::fs::remove_file(temp);
            }
        }
    }
}

#[cfg(unix)]
fn create_private(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn create_private(path: &Path) -> std::io::Result<File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn files_appear_together_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.csv"), dir.path().join("b.csv"));
        // A writer that fails half-way through the second file.
        let failing = || -> std::io::Result<()> {
            let mut pending = PendingFiles::new();
            pending.create(&a)?.write_all(b"complete\n")?;
            let mut f = pending.create(&b)?;
            f.write_all(b"half")?;
            Err(std::io::Error::other("disk full"))
        };
        assert!(failing().is_err());
        assert!(names(dir.path()).is_empty(), "{:?}", names(dir.path()));

        let mut pending = PendingFiles::new();
        pending.create(&a).unwrap().write_all(b"1").unwrap();
        pending.create(&b).unwrap().write_all(b"2").unwrap();
        assert!(
            !a.exists() && !b.exists(),
            "nothing in place before the commit"
        );
        pending.commit(true).unwrap();
        assert_eq!(names(dir.path()), ["a.csv", "b.csv"]);
        assert_eq!(std::fs::read(&b).unwrap(), b"2");

        // Without overwrite, an existing target is refused and left as it was.
        let mut pending = PendingFiles::new();
        pending.create(&a).unwrap().write_all(b"new").unwrap();
        assert!(pending.commit(false).is_err());
        assert_eq!(std::fs::read(&a).unwrap(), b"1");
        assert_eq!(names(dir.path()), ["a.csv", "b.csv"]);
    }
}
