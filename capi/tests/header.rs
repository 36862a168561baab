//! include/codecprep.h is generated from the crate by cbindgen (pinned in Cargo.toml) with the
//! settings of capi/cbindgen.toml and version macros from the crate version. This test
//! regenerates it and fails when the committed header differs; `CODECPREP_BLESS=1` writes it.

use std::path::{Path, PathBuf};

use codecprep_core::preinfer::PreinferConfig;

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn header_path() -> PathBuf {
    crate_dir().join("../include/codecprep.h")
}

fn version_macros() -> String {
    format!(
        "\n/* Version of this header; codecprep_version() gives the loaded library's. */\n\
         #define CODECPREP_VERSION_MAJOR {}\n\
         #define CODECPREP_VERSION_MINOR {}\n\
         #define CODECPREP_VERSION_PATCH {}\n\
         #define CODECPREP_VERSION_STRING \"{}\"",
        env!("CARGO_PKG_VERSION_MAJOR"),
        env!("CARGO_PKG_VERSION_MINOR"),
        env!("CARGO_PKG_VERSION_PATCH"),
        env!("CARGO_PKG_VERSION"),
    )
}

fn generate() -> String {
    let mut config =
        cbindgen::Config::from_file(crate_dir().join("cbindgen.toml")).expect("capi/cbindgen.toml");
    config.after_includes = Some(version_macros());
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(crate_dir().join("src/lib.rs"))
        .generate()
        .expect("cbindgen cannot generate the header");
    let mut text = Vec::new();
    bindings.write(&mut text);
    // cbindgen's QualifiedScreamingSnakeCase splits the type prefix `CodecPrep` in two.
    String::from_utf8(text)
        .expect("the header is UTF-8")
        .replace("CODEC_PREP_", "CODECPREP_")
}

#[test]
fn committed_header_is_up_to_date() {
    let fresh = generate();
    let path = header_path();
    if std::env::var_os("CODECPREP_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &fresh).expect("write include/codecprep.h");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != fresh {
        let line = committed
            .lines()
            .zip(fresh.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| committed.lines().count().min(fresh.lines().count()));
        panic!(
            "include/codecprep.h is stale (first difference at line {}); regenerate it with\n  \
             CODECPREP_BLESS=1 scripts/cargo.sh test --release -p codecprep-capi --test header",
            line + 1
        );
    }
}

#[test]
fn header_has_the_version_and_every_preinfer_setting() {
    let header = generate();
    assert!(header.contains(&format!(
        "#define CODECPREP_VERSION_STRING \"{}\"",
        env!("CARGO_PKG_VERSION")
    )));
    let start = header
        .find("typedef struct CodecPrepPreinferConfig {")
        .expect("CodecPrepPreinferConfig in the header");
    let end = start + header[start..].find("} CodecPrepPreinferConfig;").unwrap();
    let body = &header[start..end];
    let fields = serde_json::to_value(PreinferConfig::default()).unwrap();
    for key in fields.as_object().unwrap().keys() {
        let field = if key == "extra" { "extra_json" } else { key };
        assert!(
            body.contains(&format!(" {field};")) || body.contains(&format!("*{field};")),
            "CodecPrepPreinferConfig lacks the setting {key}"
        );
    }
}
