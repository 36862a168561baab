//! Code shared by the `codecprep` command and the drop-in `codec-video-prep` /
//! `cv-preinfer` commands, and `blink-stitch`.

pub mod blink;
pub mod preinfer;
