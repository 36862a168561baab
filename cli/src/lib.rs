//! Code shared by the `codecprep` command and the drop-in `codec-video-prep` /
//! `cv-preinfer` commands.

pub mod preinfer;
