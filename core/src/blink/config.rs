//! The YAML configuration file of `blink-stitch` (`--config FILE`).
//!
//! Keys kept from the original tool: `input_paths` (a string or a list), `video_extensions`
//! (a list or a comma-separated string) and the legacy `audio_dir`. The other keys mirror the
//! command-line options; a command-line option wins over the file.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// A value written either as one string or as a list of strings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    /// The values; a single string is also split at commas (for `video_extensions: "mp4,wav"`).
    pub fn split_commas(&self) -> Vec<String> {
        let items: Vec<&str> = match self {
            Self::One(s) => vec![s.as_str()],
            Self::Many(v) => v.iter().map(String::as_str).collect(),
        };
        items
            .into_iter()
            .flat_map(|s| s.split(','))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    }

    /// The values as given (paths may contain commas).
    pub fn items(&self) -> Vec<String> {
        match self {
            Self::One(s) => vec![s.clone()],
            Self::Many(v) => v.clone(),
        }
    }
}

/// Everything the configuration file may set. Unknown keys are an error, so a typo does not
/// silently fall back to a default.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlinkConfig {
    pub input_paths: Option<OneOrMany>,
    pub video_extensions: Option<OneOrMany>,
    pub audio_dir: Option<PathBuf>,
    pub recursive: Option<bool>,
    pub timezone: Option<String>,
    pub camera_regex: Option<String>,
    pub time_regex: Option<String>,
    pub gap: Option<f64>,
    pub workers: Option<usize>,
    pub out: Option<PathBuf>,
    pub mosaic: Option<bool>,
    pub canvases: Option<bool>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("configuration file {path}: {source}")]
    Parse {
        path: PathBuf,
        source: serde_yaml::Error,
    },
}

impl BlinkConfig {
    /// Reads and parses a YAML file. Relative paths inside it (`input_paths`, `audio_dir`,
    /// `out`) are taken relative to the file's own folder, so a config works from any cwd.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut config = Self::parse(&text).map_err(|source| ConfigError::Parse {
            path: path.to_path_buf(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        config.input_paths = config.input_paths.map(|p| {
            OneOrMany::Many(
                p.items()
                    .iter()
                    .map(|s| base.join(s).to_string_lossy().into_owned())
                    .collect(),
            )
        });
        config.audio_dir = config.audio_dir.map(|p| base.join(p));
        config.out = config.out.map(|p| base.join(p));
        Ok(config)
    }

    /// Parses YAML text (an empty document is an empty configuration).
    pub fn parse(text: &str) -> Result<Self, serde_yaml::Error> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        serde_yaml::from_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_paths_as_string_or_list() {
        let one = BlinkConfig::parse("input_paths: /a\n").unwrap();
        assert_eq!(one.input_paths.unwrap().items(), vec!["/a"]);
        let many = BlinkConfig::parse("input_paths: [/a, /b]\n").unwrap();
        assert_eq!(many.input_paths.unwrap().items(), vec!["/a", "/b"]);
    }

    #[test]
    fn extensions_as_comma_string_or_list() {
        let c = BlinkConfig::parse("video_extensions: '.MP4, wav'\n").unwrap();
        assert_eq!(
            c.video_extensions.unwrap().split_commas(),
            vec![".MP4", "wav"]
        );
        let c = BlinkConfig::parse("video_extensions: [mp4, .ts]\n").unwrap();
        assert_eq!(
            c.video_extensions.unwrap().split_commas(),
            vec!["mp4", ".ts"]
        );
    }

    #[test]
    fn unknown_keys_are_errors() {
        let err = BlinkConfig::parse("input_path: /a\n").unwrap_err();
        assert!(err.to_string().contains("input_path"), "{err}");
    }

    #[test]
    fn relative_paths_follow_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("blink.yaml");
        std::fs::write(&file, "input_paths: clips\naudio_dir: audio\n").unwrap();
        let c = BlinkConfig::load(&file).unwrap();
        assert_eq!(
            c.input_paths.unwrap().items(),
            vec![dir.path().join("clips").to_string_lossy().into_owned()]
        );
        assert_eq!(c.audio_dir.unwrap(), dir.path().join("audio"));
    }
}
