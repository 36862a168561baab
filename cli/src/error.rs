//! The CLI's errors; each names the file it is about.

use std::io;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Already formatted as `<path>: <cause>`.
    #[error(transparent)]
    Reader(#[from] codecprep_core::Error),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A video the command cannot represent (e.g. a grid change mid-stream).
    #[error("{}: {message}", path.display())]
    Video { path: PathBuf, message: String },
}

impl CliError {
    /// For `map_err`: an I/O error about `path`.
    pub fn io(path: &Path) -> impl FnOnce(io::Error) -> Self + '_ {
        move |source| Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub fn video(path: &Path, message: String) -> Self {
        Self::Video {
            path: path.to_path_buf(),
            message,
        }
    }
}
