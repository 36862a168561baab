//! Camera names and recording times from file and folder names.
//!
//! Conventions recognised (docs/blink-stitch.md has examples):
//! - Sync Module USB drive, UTC: `YY-MM/YY-MM-DD/HH-MM-SS_<Camera><Serial>_<NNN>.mp4` (or
//!   `.ts`), the camera name fused to the device serial;
//! - blinkpy `download_videos`: `slugify(camera-created_at)`, an ISO time with its UTC offset,
//!   e.g. `driveway-2024-01-06t18-30-00-00-00.mp4`;
//! - blinkpy `save_recent_clips`: `<YYYYmmdd>_<HHMMSS>_<Camera>.mp4` in local time;
//! - the parent folder as the camera (`2024-01/2024-01-01/cam1/clip.mp4`);
//! - user regexes for the camera and the time, which win over everything above.
//!
//! Times are seconds since the Unix epoch (UTC). `probe` completes what names lack with the
//! container's `creation_time` and the file's mtime.

use std::path::Path;
use std::sync::LazyLock;

use jiff::civil::DateTime;
use jiff::tz::{Offset, TimeZone};
use regex::{Captures, Regex};
use serde::{Deserialize, Serialize};

/// Where a clip's time came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeSource {
    /// Sync Module USB file and folder names (UTC).
    SyncModuleName,
    /// blinkpy `download_videos` name (ISO time with UTC offset).
    BlinkpyIsoName,
    /// blinkpy `save_recent_clips` name (local time in the `--timezone` zone).
    BlinkpyLocalName,
    /// The user's `--time-regex` (local time in the `--timezone` zone).
    UserRegex,
    /// The container's `creation_time` tag.
    CreationTime,
    /// The file's modification time.
    FileMtime,
}

impl TimeSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SyncModuleName => "sync_module_name",
            Self::BlinkpyIsoName => "blinkpy_iso_name",
            Self::BlinkpyLocalName => "blinkpy_local_name",
            Self::UserRegex => "user_regex",
            Self::CreationTime => "creation_time",
            Self::FileMtime => "file_mtime",
        }
    }
}

/// Where a clip's camera name came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CameraSource {
    SyncModuleName,
    BlinkpyIsoName,
    BlinkpyLocalName,
    UserRegex,
    Folder,
}

impl CameraSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SyncModuleName => "sync_module_name",
            Self::BlinkpyIsoName => "blinkpy_iso_name",
            Self::BlinkpyLocalName => "blinkpy_local_name",
            Self::UserRegex => "user_regex",
            Self::Folder => "folder",
        }
    }
}

/// What the names say about one file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Naming {
    pub camera: Option<String>,
    pub camera_source: Option<CameraSource>,
    /// Sync Module device serial split off the camera name.
    pub serial: Option<String>,
    pub time: Option<f64>,
    pub time_source: Option<TimeSource>,
    /// Anything surprising on the way (a time a name could not give, an assumed sign, ...).
    pub notes: Vec<String>,
}

/// How names are read: the zone of local-time names and the user's regexes.
#[derive(Debug, Clone)]
pub struct NamingRules {
    pub timezone: TimeZone,
    /// Applied to the path relative to its root ('/' separators); the camera is the group
    /// named `camera`, else group 1.
    pub camera_regex: Option<Regex>,
    /// Applied to the path relative to its root; named groups `year` (2 or 4 digits), `month`,
    /// `day`, `hour`, `minute` and optionally `second`, read in `timezone`.
    pub time_regex: Option<Regex>,
}

impl Default for NamingRules {
    fn default() -> Self {
        Self {
            timezone: TimeZone::UTC,
            camera_regex: None,
            time_regex: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum NamingError {
    #[error("unknown time zone {name:?} (use an IANA name such as Europe/Berlin): {source}")]
    TimeZone { name: String, source: jiff::Error },
    #[error("invalid {what} {pattern:?}: {source}")]
    Regex {
        what: &'static str,
        pattern: String,
        source: regex::Error,
    },
    #[error("--time-regex {0:?} needs the named groups year, month, day, hour and minute")]
    TimeRegexGroups(String),
}

impl NamingRules {
    /// Rules from the user's strings; `timezone` `None` means the machine's zone.
    pub fn new(
        timezone: Option<&str>,
        camera_regex: Option<&str>,
        time_regex: Option<&str>,
    ) -> Result<Self, NamingError> {
        let timezone = match timezone {
            Some(name) => TimeZone::get(name).map_err(|source| NamingError::TimeZone {
                name: name.to_string(),
                source,
            })?,
            None => TimeZone::system(),
        };
        let compile = |what, pattern: &str| {
            Regex::new(pattern).map_err(|source| NamingError::Regex {
                what,
                pattern: pattern.to_string(),
                source,
            })
        };
        let camera_regex = camera_regex
            .map(|p| compile("--camera-regex", p))
            .transpose()?;
        let time_regex = time_regex.map(|p| compile("--time-regex", p)).transpose()?;
        if let Some(re) = &time_regex {
            let names: Vec<&str> = re.capture_names().flatten().collect();
            if !["year", "month", "day", "hour", "minute"]
                .iter()
                .all(|g| names.contains(g))
            {
                return Err(NamingError::TimeRegexGroups(re.as_str().to_string()));
            }
        }
        Ok(Self {
            timezone,
            camera_regex,
            time_regex,
        })
    }

    /// The zone's IANA name, or its fixed offset when it has none.
    pub fn timezone_name(&self) -> String {
        zone_name(&self.timezone)
    }
}

/// A zone's IANA name, or "UTC+hh:mm" style text for zones without one.
pub fn zone_name(tz: &TimeZone) -> String {
    match tz.iana_name() {
        Some(name) => name.to_string(),
        None => format!("{:?}", tz.to_offset(jiff::Timestamp::now())),
    }
}

static SYNC_FILE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(\d{2})-(\d{2})-(\d{2})_(.+)_(\d{1,4})$").unwrap());
static SYNC_DAY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(\d{2})-(\d{2})-(\d{2})$").unwrap());
static BLINKPY_ISO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^(.+?)-(\d{4})-(\d{2})-(\d{2})t(\d{2})-(\d{2})-(\d{2})(?:-(\d{2})-(\d{2})|z)?$",
    )
    .unwrap()
});
static BLINKPY_LOCAL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(\d{4})(\d{2})(\d{2})_(\d{2})(\d{2})(\d{2})_(.+)$").unwrap());
/// Folder names that are dates (`2024-01`, `2024-01-05`, `24-01-05`), never cameras.
static DATE_FOLDER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\d{2,4}-\d{2}(-\d{2})?$").unwrap());

/// Reads camera and time from `path`'s name and the folders between it and `root`.
pub fn from_name(path: &Path, root: &Path, rules: &NamingRules) -> Naming {
    let mut naming = Naming::default();
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let parent_name = path
        .parent()
        .filter(|p| *p != root)
        .and_then(Path::file_name)
        .map(|s| s.to_string_lossy().into_owned());

    if let Some(c) = SYNC_FILE.captures(&stem) {
        let (camera, serial) = split_serial(&c[4]);
        naming.camera = Some(camera);
        naming.serial = serial;
        naming.camera_source = Some(CameraSource::SyncModuleName);
        match parent_name.as_deref().and_then(|p| SYNC_DAY.captures(p)) {
            Some(day) => {
                let time = civil(&[&day[1], &day[2], &day[3], &c[1], &c[2], &c[3]]);
                set_time(
                    &mut naming,
                    time,
                    &TimeZone::UTC,
                    TimeSource::SyncModuleName,
                );
            }
            None => naming.notes.push(
                "Sync Module name without its YY-MM-DD day folder: the date is unknown".into(),
            ),
        }
    } else if let Some(c) = BLINKPY_ISO.captures(&stem) {
        naming.camera = Some(c[1].to_string());
        naming.camera_source = Some(CameraSource::BlinkpyIsoName);
        let offset_hours = c
            .get(8)
            .map_or(0, |m| m.as_str().parse::<i32>().unwrap_or(0));
        let offset_minutes = c
            .get(9)
            .map_or(0, |m| m.as_str().parse::<i32>().unwrap_or(0));
        let offset_seconds = offset_hours * 3600 + offset_minutes * 60;
        if offset_seconds != 0 {
            // slugify turns both '+' and '-' into '-': the sign is gone. The service writes
            // UTC (+00:00), so a non-zero offset is unusual; assume east of UTC and say so.
            naming.notes.push(format!(
                "blinkpy name carries UTC offset {offset_hours:02}:{offset_minutes:02} whose sign \
                 the slug lost: assumed +"
            ));
        }
        let zone = Offset::from_seconds(offset_seconds)
            .map(TimeZone::fixed)
            .unwrap_or(TimeZone::UTC);
        let time = civil(&[&c[2], &c[3], &c[4], &c[5], &c[6], &c[7]]);
        set_time(&mut naming, time, &zone, TimeSource::BlinkpyIsoName);
    } else if let Some(c) = BLINKPY_LOCAL.captures(&stem) {
        naming.camera = Some(c[7].to_string());
        naming.camera_source = Some(CameraSource::BlinkpyLocalName);
        let time = civil(&[&c[1], &c[2], &c[3], &c[4], &c[5], &c[6]]);
        set_time(
            &mut naming,
            time,
            &rules.timezone,
            TimeSource::BlinkpyLocalName,
        );
    }

    if naming.camera.is_none()
        && let Some(parent) = parent_name.filter(|p| !DATE_FOLDER.is_match(p))
    {
        naming.camera = Some(parent);
        naming.camera_source = Some(CameraSource::Folder);
    }

    let relative = path
        .strip_prefix(root)
        .unwrap_or(path)
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/");
    if let Some(re) = &rules.camera_regex
        && let Some(c) = re.captures(&relative)
        && let Some(m) = c.name("camera").or_else(|| c.get(1))
    {
        naming.camera = Some(m.as_str().to_string());
        naming.camera_source = Some(CameraSource::UserRegex);
        naming.serial = None;
    }
    if let Some(re) = &rules.time_regex
        && let Some(c) = re.captures(&relative)
    {
        match regex_time(&c) {
            Some(time) => set_time(
                &mut naming,
                Some(time),
                &rules.timezone,
                TimeSource::UserRegex,
            ),
            None => naming
                .notes
                .push("--time-regex matched but its groups are not a valid time".into()),
        }
    }
    naming
}

/// Splits a Sync Module `<Camera><Serial>` name: the serial is the longest tail of upper-case
/// letters and digits that starts with `G` and contains a digit (Blink serials look like
/// `G8T1ABC123`); a camera name must remain in front of it.
pub fn split_serial(fused: &str) -> (String, Option<String>) {
    for (i, ch) in fused.char_indices() {
        if i == 0 || ch != 'G' {
            continue;
        }
        let tail = &fused[i..];
        if tail
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            && tail.chars().any(|c| c.is_ascii_digit())
        {
            return (fused[..i].to_string(), Some(tail.to_string()));
        }
    }
    (fused.to_string(), None)
}

/// A civil date-time from year (2 or 4 digits), month, day, hour, minute, second strings.
fn civil(parts: &[&str; 6]) -> Option<DateTime> {
    let mut n = [0i32; 6];
    for (slot, s) in n.iter_mut().zip(parts) {
        *slot = s.parse().ok()?;
    }
    let year = if parts[0].len() == 2 {
        2000 + n[0]
    } else {
        n[0]
    };
    DateTime::new(
        i16::try_from(year).ok()?,
        i8::try_from(n[1]).ok()?,
        i8::try_from(n[2]).ok()?,
        i8::try_from(n[3]).ok()?,
        i8::try_from(n[4]).ok()?,
        i8::try_from(n[5]).ok()?,
        0,
    )
    .ok()
}

fn regex_time(c: &Captures) -> Option<DateTime> {
    let get = |name| c.name(name).map(|m| m.as_str());
    civil(&[
        get("year")?,
        get("month")?,
        get("day")?,
        get("hour")?,
        get("minute")?,
        get("second").unwrap_or("0"),
    ])
}

fn set_time(naming: &mut Naming, time: Option<DateTime>, zone: &TimeZone, source: TimeSource) {
    match time.and_then(|t| zone.to_ambiguous_timestamp(t).compatible().ok()) {
        Some(ts) => {
            naming.time = Some(ts.as_millisecond() as f64 / 1000.0);
            naming.time_source = Some(source);
        }
        None => naming.notes.push(format!(
            "{} name holds no valid date and time",
            source.as_str()
        )),
    }
}

/// Seconds since the epoch of an ISO 8601 `creation_time` tag; `None` for the zero time
/// (1970 or 1904) that muxers write when they know nothing.
pub fn parse_creation_time(tag: &str) -> Option<f64> {
    let ts: jiff::Timestamp = tag.trim().parse().ok()?;
    let seconds = ts.as_millisecond() as f64 / 1000.0;
    (seconds > 86_400.0).then_some(seconds)
}

/// `time` as RFC 3339 text in `zone` (millisecond precision).
pub fn format_time(time: f64, zone: &TimeZone) -> String {
    match jiff::Timestamp::from_millisecond((time * 1000.0).round() as i64) {
        Ok(ts) => ts
            .to_zoned(zone.clone())
            .strftime("%Y-%m-%dT%H:%M:%S%.3f%:z")
            .to_string(),
        Err(_) => format!("{time}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn at(y: i16, mo: i8, d: i8, h: i8, mi: i8, s: i8, zone: &str) -> f64 {
        let tz = TimeZone::get(zone).unwrap();
        let ts = tz
            .to_ambiguous_timestamp(DateTime::new(y, mo, d, h, mi, s, 0).unwrap())
            .compatible()
            .unwrap();
        ts.as_second() as f64
    }

    fn parse(rel: &str, rules: &NamingRules) -> Naming {
        let root = PathBuf::from("/r");
        from_name(&root.join(rel), &root, rules)
    }

    #[test]
    fn sync_module_layout_is_utc_with_serial_split() {
        let n = parse(
            "24-01/24-01-05/10-00-00_DrivewayG8T1ABC123_001.mp4",
            &NamingRules::default(),
        );
        assert_eq!(n.camera.as_deref(), Some("Driveway"));
        assert_eq!(n.serial.as_deref(), Some("G8T1ABC123"));
        assert_eq!(n.time, Some(at(2024, 1, 5, 10, 0, 0, "UTC")));
        assert_eq!(n.time_source, Some(TimeSource::SyncModuleName));
    }

    #[test]
    fn serial_split_keeps_g_words_of_the_name() {
        assert_eq!(
            split_serial("BackGardenG8T1ABC123"),
            ("BackGarden".into(), Some("G8T1ABC123".into()))
        );
        assert_eq!(split_serial("Garage"), ("Garage".into(), None));
        assert_eq!(split_serial("GG12"), ("G".into(), Some("G12".into())));
    }

    #[test]
    fn blinkpy_iso_name_uses_its_offset() {
        let n = parse(
            "driveway-2024-01-06t18-30-00-00-00.mp4",
            &NamingRules::default(),
        );
        assert_eq!(n.camera.as_deref(), Some("driveway"));
        assert_eq!(n.time, Some(at(2024, 1, 6, 18, 30, 0, "UTC")));
        assert_eq!(n.time_source, Some(TimeSource::BlinkpyIsoName));
        assert!(n.notes.is_empty());
    }

    #[test]
    fn blinkpy_local_name_uses_the_zone() {
        let rules = NamingRules::new(Some("America/New_York"), None, None).unwrap();
        let n = parse("20240106_183000_Front Door.mp4", &rules);
        assert_eq!(n.camera.as_deref(), Some("Front Door"));
        // 18:30 EST = 23:30 UTC
        assert_eq!(n.time, Some(at(2024, 1, 6, 23, 30, 0, "UTC")));
        assert_eq!(n.time_source, Some(TimeSource::BlinkpyLocalName));
    }

    #[test]
    fn folder_camera_skips_date_folders_and_the_root() {
        let n = parse("2024-01/2024-01-01/cam1/a.mp4", &NamingRules::default());
        assert_eq!(n.camera.as_deref(), Some("cam1"));
        assert_eq!(n.camera_source, Some(CameraSource::Folder));
        assert_eq!(n.time, None);
        let n = parse("2024-01-01/a.mp4", &NamingRules::default());
        assert_eq!(n.camera, None);
        let n = parse("a.mp4", &NamingRules::default());
        assert_eq!(n.camera, None);
    }

    #[test]
    fn user_regexes_win() {
        let rules = NamingRules::new(
            Some("Europe/Berlin"),
            Some(r"cam-(?P<camera>[a-z]+)"),
            Some(r"(?P<year>\d{4})(?P<month>\d\d)(?P<day>\d\d)-(?P<hour>\d\d)(?P<minute>\d\d)"),
        )
        .unwrap();
        let n = parse("x/cam-porch_20240701-1200.mp4", &rules);
        assert_eq!(n.camera.as_deref(), Some("porch"));
        assert_eq!(n.camera_source, Some(CameraSource::UserRegex));
        // 12:00 CEST = 10:00 UTC
        assert_eq!(n.time, Some(at(2024, 7, 1, 10, 0, 0, "UTC")));
        assert!(NamingRules::new(None, None, Some(r"(\d+)")).is_err());
        assert!(NamingRules::new(Some("Mars/Base"), None, None).is_err());
    }

    #[test]
    fn creation_time_parses_and_ignores_zero() {
        assert_eq!(
            parse_creation_time("2024-01-05T10:00:00.000000Z"),
            Some(at(2024, 1, 5, 10, 0, 0, "UTC"))
        );
        assert_eq!(parse_creation_time("1970-01-01T00:00:00.000000Z"), None);
        assert_eq!(parse_creation_time("yesterday"), None);
    }
}
