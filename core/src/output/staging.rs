//! All-or-nothing output: files are written into a hidden directory inside the destination
//! and renamed into place only once every one of them is complete.
//!
//! Renaming within one directory tree is atomic per file on POSIX filesystems, so a reader of
//! the destination never sees a half-written file, and a failed run leaves the previous
//! outputs (if any) untouched.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// A hidden temporary directory `DIR/.<job>-tmp-<pid>` that is removed unless committed.
pub struct StagingDir {
    destination: PathBuf,
    temporary: PathBuf,
    committed: bool,
}

impl StagingDir {
    /// Creates `destination` (and parents) if needed, then a fresh staging directory in it.
    pub fn create(destination: impl AsRef<Path>, job: &str) -> io::Result<Self> {
        let destination = destination.as_ref().to_path_buf();
        fs::create_dir_all(&destination)?;
        let temporary = destination.join(format!(".{job}-tmp-{}", std::process::id()));
        // A leftover from a crashed run with the same pid holds nothing worth keeping.
        if temporary.exists() {
            fs::remove_dir_all(&temporary)?;
        }
        fs::create_dir(&temporary)?;
        Ok(Self {
            destination,
            temporary,
            committed: false,
        })
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
    pub fn commit(mut self) -> io::Result<()> {
        for entry in fs::read_dir(&self.temporary)? {
            let entry = entry?;
            fs::rename(entry.path(), self.destination.join(entry.file_name()))?;
        }
        fs::remove_dir(&self.temporary)?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for StagingDir {
    fn drop(&mut self) {
        if !self.committed {
            // Best effort: a failure here must not hide the error that caused the abort.
            let _ = fs::remove_dir_all(&self.temporary);
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
}
