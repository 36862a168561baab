//! The command-line options of `blink-stitch` merged with the YAML configuration file: an
//! option given on the command line wins over the file, the file over the defaults.

use std::path::PathBuf;

use clap::Args;
use codecprep_core::blink::config::BlinkConfig;
use codecprep_core::blink::discover::{DiscoverOptions, normalize_extensions};
use codecprep_core::blink::naming::NamingRules;

use super::error::BlinkError;

/// Default gap between clips of one event, in seconds.
pub const DEFAULT_GAP_S: f64 = 10.0;

#[derive(Debug, Clone, Args)]
pub struct CommonArgs {
    /// Root folder (or file) to search; repeatable. Overrides input_paths of --config
    #[arg(short = 'i', long = "input-path", value_name = "PATH", global = true)]
    pub input_paths: Vec<PathBuf>,
    /// YAML configuration: input_paths, video_extensions, audio_dir, and any option below
    /// by its long name with underscores (recursive, timezone, camera_regex, time_regex, gap,
    /// workers, out, mosaic, canvases)
    #[arg(long, value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,
    /// Work directory: state file, per-clip signals, reports and packages
    #[arg(long, value_name = "DIR", global = true)]
    pub out: Option<PathBuf>,
    /// Walk every folder below each root (the default)
    #[arg(long, global = true, overrides_with = "no_recursive")]
    pub recursive: bool,
    /// Only the top-level media files of each root (only its audio files when it holds
    /// standalone audio); when there are none, the files one level down
    #[arg(long, global = true, overrides_with = "recursive")]
    pub no_recursive: bool,
    /// Extensions to discover, comma-separated, leading dot optional, any case
    /// (default: mp4,mov,m4v,ts,mkv,wav,flac,mp3,m4a,aac,ogg)
    #[arg(long, value_name = "LIST", global = true)]
    pub extensions: Option<String>,
    /// IANA time zone of local-time names (blinkpy save_recent_clips, --time-regex) and of the
    /// local times in reports (default: the machine's zone)
    #[arg(long, value_name = "ZONE", global = true)]
    pub timezone: Option<String>,
    /// Regex over the path below its root whose group `camera` (or group 1) is the camera
    #[arg(long, value_name = "REGEX", global = true)]
    pub camera_regex: Option<String>,
    /// Regex over the path below its root with named groups year, month, day, hour, minute
    /// and optionally second, read in --timezone
    #[arg(long, value_name = "REGEX", global = true)]
    pub time_regex: Option<String>,
    /// Clips closer than this many seconds belong to one event [default: 10]
    #[arg(long, value_name = "SECONDS", global = true)]
    pub gap: Option<f64>,
    /// Clips processed in parallel [default and maximum: the number of cores]; FFmpeg threads
    /// per clip are chosen so that workers x threads never exceeds the cores
    #[arg(long, value_name = "N", global = true)]
    pub workers: Option<usize>,
    /// Say what each stage would do without writing anything
    #[arg(long, global = true)]
    pub dry_run: bool,
    /// Machine-readable JSON on stdout (messages stay on stderr; no progress bars)
    #[arg(long, global = true)]
    pub json: bool,
    /// package: also a mosaic MP4 of all cameras per event
    #[arg(long, global = true)]
    pub mosaic: bool,
    /// package: also canvases of each stitched event through the preinfer pipeline
    #[arg(long, global = true)]
    pub canvases: bool,
}

/// `path` made absolute against the working directory (symbolic links are kept as they are).
fn absolute(path: &std::path::Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// The merged settings every stage reads.
#[derive(Debug, Clone)]
pub struct Settings {
    pub discover: DiscoverOptions,
    pub rules: NamingRules,
    /// The raw strings behind `rules` (part of the probe cache key).
    pub rule_text: Vec<Option<String>>,
    pub gap: f64,
    pub workers: usize,
    /// The cores workers and their FFmpeg threads share.
    pub cores: usize,
    pub out: Option<PathBuf>,
    pub dry_run: bool,
    pub json: bool,
    pub mosaic: bool,
    pub canvases: bool,
}

impl Settings {
    pub fn from_args(args: &CommonArgs) -> Result<Self, BlinkError> {
        let config = match &args.config {
            Some(path) => BlinkConfig::load(path)?,
            None => BlinkConfig::default(),
        };
        let roots = if args.input_paths.is_empty() {
            config
                .input_paths
                .as_ref()
                .map(|p| p.items().into_iter().map(PathBuf::from).collect())
                .unwrap_or_default()
        } else {
            args.input_paths.clone()
        };
        // Absolute paths, so clip keys and reports do not depend on the working directory.
        let roots: Vec<PathBuf> = roots.iter().map(|r| absolute(r)).collect();
        let recursive = if args.no_recursive {
            false
        } else if args.recursive {
            true
        } else {
            config.recursive.unwrap_or(true)
        };
        let extensions = match (&args.extensions, &config.video_extensions) {
            (Some(list), _) => Some(normalize_extensions(std::slice::from_ref(list))?),
            (None, Some(list)) => Some(normalize_extensions(&list.split_commas())?),
            (None, None) => None,
        };
        let timezone = args.timezone.clone().or(config.timezone);
        let camera_regex = args.camera_regex.clone().or(config.camera_regex);
        let time_regex = args.time_regex.clone().or(config.time_regex);
        let rules = NamingRules::new(
            timezone.as_deref(),
            camera_regex.as_deref(),
            time_regex.as_deref(),
        )?;
        let gap = args.gap.or(config.gap).unwrap_or(DEFAULT_GAP_S);
        if !(gap.is_finite() && gap >= 0.0) {
            return Err(BlinkError::Usage(format!(
                "--gap must be a non-negative number of seconds, not {gap}"
            )));
        }
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let workers = args.workers.or(config.workers).unwrap_or(cores);
        if workers == 0 {
            return Err(BlinkError::Usage("--workers must be at least 1".into()));
        }
        // Workers x FFmpeg threads never exceeds the cores: more workers than cores would.
        if workers > cores && !args.json {
            eprintln!("blink-stitch: --workers {workers} lowered to the {cores} cores");
        }
        let workers = workers.min(cores);
        Ok(Self {
            discover: DiscoverOptions {
                roots,
                recursive,
                extensions,
                audio_dir: config.audio_dir.as_deref().map(absolute),
            },
            rule_text: vec![rules.timezone_name().into(), camera_regex, time_regex],
            rules,
            gap,
            workers,
            cores,
            out: args.out.clone().or(config.out).as_deref().map(absolute),
            dry_run: args.dry_run,
            json: args.json,
            mosaic: args.mosaic || config.mosaic.unwrap_or(false),
            canvases: args.canvases || config.canvases.unwrap_or(false),
        })
    }

    /// FFmpeg threads for each of `jobs` clips processed at once: the cores split between
    /// the workers busy, so that one clip alone gets them all.
    pub fn threads_per_job(&self, jobs: usize) -> usize {
        (self.cores / self.workers.min(jobs).max(1)).max(1)
    }

    /// Progress bars only for people watching a terminal.
    pub fn show_progress(&self) -> bool {
        !self.json
    }

    /// The work directory, required by every stage after `preflight`.
    pub fn out_dir(&self, stage: &str) -> Result<PathBuf, BlinkError> {
        self.out
            .clone()
            .ok_or_else(|| BlinkError::Usage(format!("{stage} needs a work directory: --out DIR")))
    }

    /// The one pool every parallel stage runs in.
    pub fn pool(&self) -> Result<rayon::ThreadPool, BlinkError> {
        rayon::ThreadPoolBuilder::new()
            .num_threads(self.workers)
            .thread_name(|i| format!("blink-worker-{i}"))
            .build()
            .map_err(|e| BlinkError::Usage(format!("cannot start {} workers: {e}", self.workers)))
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        common: CommonArgs,
    }

    #[test]
    fn a_lone_clip_gets_every_core() {
        let cli = Cli::parse_from(["blink-stitch", "-i", "/nonexistent"]);
        let mut settings = Settings::from_args(&cli.common).unwrap();
        (settings.cores, settings.workers) = (4, 2);
        assert_eq!(settings.threads_per_job(1), 4);
        assert_eq!(settings.threads_per_job(2), 2);
        assert_eq!(settings.threads_per_job(9), 2);
        assert_eq!(settings.threads_per_job(0), 4);
        (settings.cores, settings.workers) = (2, 3);
        assert_eq!(settings.threads_per_job(9), 1);
    }
}
