//! `discover` and `preflight` output: a list of files, or a table with the probe results,
//! problems and automatic adjustments; or the inventory as JSON with `--json`.

use std::fmt::Write as _;
use std::path::Path;

use codecprep_core::blink::naming::format_time;
use codecprep_core::blink::probe::ClipInfo;
use codecprep_core::ffmpeg::MediaFacts;
use jiff::tz::TimeZone;
use serde_json::json;

use super::inventory::Inventory;

/// Summary counts shared by the human and the JSON output.
fn counts(inv: &Inventory) -> serde_json::Value {
    let usable = inv.clips.iter().filter(|c| c.usable()).count();
    json!({
        "files": inv.clips.len(),
        "usable": usable,
        "with_problems": inv.clips.len() - usable,
        "skipped_entries": inv.discovery.skipped.len(),
    })
}

/// The JSON document of `discover` / `preflight`.
pub fn to_json(stage: &str, inv: &Inventory) -> serde_json::Value {
    json!({
        "stage": stage,
        "summary": counts(inv),
        "clips": inv.clips,
        "skipped": inv.discovery.skipped,
        "notes": inv.discovery.notes,
    })
}

fn relative(clip: &ClipInfo) -> String {
    clip.path
        .strip_prefix(&clip.root)
        .ok()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(&clip.path)
        .display()
        .to_string()
}

fn video_text(media: Option<&MediaFacts>) -> String {
    match media.and_then(|m| m.video.as_ref()) {
        Some(v) => {
            let fps = v
                .frame_rate
                .map(|(n, d)| format!("@{:.2}", f64::from(n) / f64::from(d)))
                .unwrap_or_default();
            format!("{} {}x{}{}", v.codec, v.width, v.height, fps)
        }
        None => "-".into(),
    }
}

fn audio_text(media: Option<&MediaFacts>) -> String {
    match media.and_then(|m| m.audio.as_ref()) {
        Some(a) => format!("{} {}Hz {}ch", a.codec, a.sample_rate, a.channels),
        None => "-".into(),
    }
}

/// `discover`: one line per usable file, then what was left out.
pub fn list(inv: &Inventory, zone: &TimeZone) -> String {
    let mut out = String::new();
    for clip in inv.clips.iter().filter(|c| c.usable()) {
        let _ = writeln!(
            out,
            "{}\t{}\t{}",
            clip.path.display(),
            clip.camera.as_deref().unwrap_or("?"),
            clip.time.map(|t| format_time(t, zone)).unwrap_or_default()
        );
    }
    out
}

/// `preflight`: the full table plus problems, adjustments and skipped entries.
pub fn table(inv: &Inventory, zone: &TimeZone) -> String {
    let headers = [
        "FILE",
        "CAMERA",
        "TIME (UTC)",
        "TIME SOURCE",
        "DUR S",
        "VIDEO",
        "AUDIO",
        "STATUS",
    ];
    let rows: Vec<[String; 8]> = inv
        .clips
        .iter()
        .map(|clip| {
            [
                relative(clip),
                clip.camera.clone().unwrap_or_else(|| "?".into()),
                clip.time
                    .map(|t| format_time(t, &TimeZone::UTC))
                    .unwrap_or_else(|| "?".into()),
                clip.time_source
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_else(|| "-".into()),
                if clip.duration() > 0.0 {
                    format!("{:.2}", clip.duration())
                } else {
                    "-".into()
                },
                video_text(clip.media.as_ref()),
                audio_text(clip.media.as_ref()),
                if clip.usable() {
                    "ok".into()
                } else {
                    "PROBLEM".into()
                },
            ]
        })
        .collect();
    let mut widths = headers.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cells: &[String]| {
        let text: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        let _ = writeln!(out, "{}", text.join("  ").trim_end());
    };
    line(&mut out, &headers.map(String::from));
    for row in &rows {
        line(&mut out, row);
    }
    let _ = writeln!(
        out,
        "\n{} files, {} usable; local times below are in {}",
        inv.clips.len(),
        inv.clips.iter().filter(|c| c.usable()).count(),
        codecprep_core::blink::naming::zone_name(zone)
    );
    section(&mut out, "Problems (left out of later stages)", inv, |c| {
        &c.problems
    });
    section(&mut out, "Automatic adjustments", inv, |c| &c.adjustments);
    if !inv.discovery.skipped.is_empty() {
        let _ = writeln!(out, "\nSkipped entries:");
        for s in &inv.discovery.skipped {
            let _ = writeln!(out, "  {}: {}", s.path.display(), s.reason);
        }
    }
    if !inv.discovery.notes.is_empty() {
        let _ = writeln!(out, "\nDiscovery rules applied:");
        for note in &inv.discovery.notes {
            let _ = writeln!(out, "  {note}");
        }
    }
    let with_time: Vec<&ClipInfo> = inv.clips.iter().filter(|c| c.time.is_some()).collect();
    if let (Some(first), Some(last)) = (
        with_time.iter().filter_map(|c| c.time).reduce(f64::min),
        with_time.iter().filter_map(|c| c.time).reduce(f64::max),
    ) {
        let _ = writeln!(
            out,
            "\nTime span: {} to {} (local)",
            format_time(first, zone),
            format_time(last, zone)
        );
    }
    out
}

fn section(
    out: &mut String,
    title: &str,
    inv: &Inventory,
    items: impl Fn(&ClipInfo) -> &Vec<String>,
) {
    let mut lines = Vec::new();
    for clip in &inv.clips {
        for item in items(clip) {
            lines.push(format!("  {}: {item}", display(&clip.path)));
        }
    }
    if !lines.is_empty() {
        let _ = writeln!(out, "\n{title}:");
        for l in lines {
            let _ = writeln!(out, "{l}");
        }
    }
}

fn display(path: &Path) -> String {
    path.display().to_string()
}
