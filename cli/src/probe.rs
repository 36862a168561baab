//! `codecprep probe`: the stream facts as pretty JSON on stdout.

use std::io::{self, Write};
use std::path::Path;

use crate::error::CliError;

pub fn run(video: &Path) -> Result<(), CliError> {
    let info = codecprep_core::probe(video)?;
    let mut out = io::stdout().lock();
    let written = serde_json::to_writer_pretty(&mut out, &info)
        .map_err(io::Error::from)
        .and_then(|()| writeln!(out))
        .and_then(|()| out.flush());
    match written {
        // A closed pipe (`| head`) means the reader has seen enough.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        result => result.map_err(CliError::io(Path::new("<stdout>"))),
    }
}
