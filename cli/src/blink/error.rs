//! Errors that stop `blink-stitch`; each names the file or option it is about. Problems with
//! single clips are not errors: they are recorded on the clip and reported.

use codecprep_core::blink::config::ConfigError;
use codecprep_core::blink::discover::DiscoverError;
use codecprep_core::blink::naming::NamingError;
use codecprep_core::blink::workdir::WorkdirError;

#[derive(Debug, thiserror::Error)]
pub enum BlinkError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Discover(#[from] DiscoverError),
    #[error(transparent)]
    Naming(#[from] NamingError),
    #[error(transparent)]
    Workdir(#[from] WorkdirError),
    /// Options that do not fit together.
    #[error("{0}")]
    Usage(String),
    /// A stage failed as a whole (a missing tool, an output that cannot be written, ...).
    #[error("{stage}: {message}")]
    Stage {
        stage: &'static str,
        message: String,
    },
}

impl BlinkError {
    pub fn stage(stage: &'static str, message: impl std::fmt::Display) -> Self {
        Self::Stage {
            stage,
            message: message.to_string(),
        }
    }
}
