//! Progress bars with ETA for the long stages, on stderr, hidden when stderr is not a
//! terminal or when `--json` asks for machine output only.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar over `total` items named `what`; hidden when `visible` is false.
pub fn bar(what: &str, total: u64, visible: bool) -> ProgressBar {
    let target = if visible {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(total), target);
    let style =
        ProgressStyle::with_template("{prefix:>9} [{bar:30}] {pos}/{len} {wide_msg} ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
    bar.set_style(style);
    bar.set_prefix(what.to_string());
    bar
}
