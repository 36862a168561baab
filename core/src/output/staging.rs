//! All-or-nothing output: files are written into a hidden directory inside the destination
//! and renamed into place only once every one of them is complete.
//!
//! Renaming within one directory tree is atomic per file on POSIX filesystems, so a reader of
//! the destination never sees a half-written file, and a failed run leaves the previous
//! outputs (if any) untouched.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Tells apart the staging directories of concurrent jobs in one process.
static STAGING_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A hidden temporary directory `DIR/.<job>-tmp-<pid>-<n>` that is removed unless committed,
/// together with the destination directories its creation made (when they are still empty).
pub struct StagingDir {
    destination: PathBuf,
    temporary: PathBuf,
    /// Directories `create` made, deepest first.
    created: Vec<PathBuf>,
    committed: bool,
}

impl StagingDir {
    /// Creates `destination` (and parents) if needed, then a fresh staging directory in it.
    pub fn create(destination: impl AsRef<Path>, job: &str) -> io::Result<Self> {
        let destination = destination.as_ref().to_path_buf();
        let created: Vec<PathBuf> = destination
            .ancestors()
            .take_while(|dir| !dir.as_os_str().is_empty() && !dir.exists())
            .map(Path::to_path_buf)
            .collect();
        fs::create_dir_all(&destination)?;
        let n = STAGING_COUNTER.fetch_add(1, Ordering::Relaxed);
        let temporary = destination.join(format!(".{job}-tmp-{}-{n}", std::process::id()));
        // From here on, `drop` removes what this call created if a step fails.
        let staging = Self {
            destination,
            temporary,
            created,
            committed: false,
        };
        // A leftover from a crashed run with the same pid holds nothing worth keeping.
        if staging.temporary.exists() {
            fs::remove_dir_all(&staging.temporary)?;
        }
        fs::create_dir(&staging.temporary)?;
        Ok(staging)
    }

    /// Where to write the file that will become `DIR/name`.
    pub fn path(&self, name: &str) -> PathBuf {
        self.temporary.join(name)
    }

    /// The final directory.
    pub fn destination(&self) -> &Path {
        &self.destination
    }

    /// Moves every staged file into the destination, then removes the staging directory.
    pub fn commit(self) -> io::Result<()> {
        self.commit_last("")
    }

    /// Like `commit`, moving the file `last` after all others, so that a reader who waits
    /// for it (e.g. a meta file) finds everything else in place.
    pub fn commit_last(mut self, last: &str) -> io::Result<()> {
        let mut names: Vec<_> = fs::read_dir(&self.temporary)?
            .map(|entry| entry.map(|e| e.file_name()))
            .collect::<io::Result<_>>()?;
        names.sort_by_key(|name| name == last);
        for name in names {
            fs::rename(self.temporary.join(&name), self.destination.join(name))?;
        }
        fs::remove_dir(&self.temporary)?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for StagingDir {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        // Best effort: a failure here must not hide the error that caused the abort.
        let _ = fs::remove_dir_all(&self.temporary);
        for dir in &self.created {
            if fs::remove_dir(dir).is_err() {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_moves_files_and_removes_the_staging_dir() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("out/nested");
        let staging = StagingDir::create(&out, "scan").unwrap();
        fs::write(staging.path("a.json"), b"[]").unwrap();
        fs::write(staging.path("b.npy"), b"x").unwrap();
        assert!(!out.join("a.json").exists());
        staging.commit().unwrap();
        assert_eq!(fs::read(out.join("a.json")).unwrap(), b"[]");
        assert!(out.join("b.npy").exists());
        let names: Vec<_> = fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "staging directory left behind: {names:?}");
    }

    #[test]
    fn dropping_without_commit_leaves_previous_outputs() {
        let root = tempfile::tempdir().unwrap();
        fs::write(root.path().join("a.json"), b"old").unwrap();
        {
            let staging = StagingDir::create(root.path(), "scan").unwrap();
            fs::write(staging.path("a.json"), b"half").unwrap();
        }
        assert_eq!(fs::read(root.path().join("a.json")).unwrap(), b"old");
        assert_eq!(fs::read_dir(root.path()).unwrap().count(), 1);
    }

    #[test]
    fn commits_the_last_file_last_and_removes_the_directories_it_made() {
        let root = tempfile::tempdir().unwrap();
        let dest = root.path().join("a/b");
        let staging = StagingDir::create(&dest, "job").unwrap();
        fs::write(staging.path("meta.json"), b"{}").unwrap();
        fs::write(staging.path("x.txt"), b"x").unwrap();
        staging.commit_last("meta.json").unwrap();
        assert_eq!(fs::read(dest.join("x.txt")).unwrap(), b"x");
        assert_eq!(fs::read_dir(&dest).unwrap().count(), 2);

        let fresh = root.path().join("c/d");
        {
            let staging = StagingDir::create(&fresh, "job").unwrap();
            fs::write(staging.path("y.txt"), b"y").unwrap();
        }
        assert!(
            !root.path().join("c").exists(),
            "created directories are removed"
        );
    }
}
