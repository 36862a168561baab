//! The bit-cost meta on its own: sharing on copy, structure round trip, C layout.

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use codecprep_core::BitcostMap;
use gstcodecprep::meta::{BitcostMeta, ffi::GstCodecPrepBitcostMeta};

/// A valid 32x16 H.264 map: 1x2 macroblocks, 4x8 sub-grid.
fn small_map() -> BitcostMap {
    let header: [u32; 16] = [
        0x4D42_5043,
        1,
        64,
        1,
        0,
        16,
        32,
        16,
        2,
        1,
        8,
        4,
        0,
        300,
        1,
        0,
    ];
    let mut blob: Vec<u8> = header.iter().flat_map(|v| v.to_le_bytes()).collect();
    blob.extend([100i32, 200].iter().flat_map(|v| v.to_le_bytes()));
    blob.extend((0..32).flat_map(|i| (i as f32 * 0.5).to_le_bytes()));
    BitcostMap::parse(&blob).expect("valid blob")
}

#[test]
fn copies_share_the_maps() {
    common::init();
    let mut buffer = gst::Buffer::new();
    BitcostMeta::add(buffer.get_mut().unwrap(), Arc::new(small_map()), 7);
    let copy = buffer.copy();
    let a = buffer.meta::<BitcostMeta>().unwrap();
    let b = copy.meta::<BitcostMeta>().unwrap();
    assert!(std::ptr::eq(a.map(), b.map()), "the copy shares the map");
    assert_eq!(b.frame_index(), 7);
    assert_eq!(b.cells()[[0, 1]], 200);
    assert_eq!(b.sub()[[3, 7]], 15.5);
    assert_eq!(Arc::strong_count(&a.shared_map()), 3);
    drop(copy);
    assert_eq!(Arc::strong_count(&a.shared_map()), 2);
}

#[test]
fn api_has_video_and_size_tags() {
    common::init();
    let api = <BitcostMeta as gst::meta::MetaAPI>::meta_api();
    assert_eq!(api.name(), "CodecPrepBitcostMetaAPI");
    use gst::glib::translate::IntoGlib;
    for tag in ["video", "size"] {
        let quark = gst::glib::Quark::from_str(tag).into_glib();
        // SAFETY: a registered API type and a valid quark.
        let has = unsafe { gst::ffi::gst_meta_api_type_has_tag(api.into_glib(), quark) };
        assert_ne!(has, 0, "tag {tag}");
    }
}

#[test]
fn structure_round_trip() {
    common::init();
    let mut buffer = gst::Buffer::new();
    BitcostMeta::add(buffer.get_mut().unwrap(), Arc::new(small_map()), 3);
    let s = buffer.meta::<BitcostMeta>().unwrap().to_structure();
    assert_eq!(s.get::<&str>("grid-kind").unwrap(), "mb");
    assert_eq!(s.get::<i64>("total-bits").unwrap(), 300);
    let text = s.to_string();
    let parsed: gst::Structure = text.parse().expect("the string form parses back");
    let mut other = gst::Buffer::new();
    BitcostMeta::add_from_structure(other.get_mut().unwrap(), &parsed).unwrap();
    let meta = other.meta::<BitcostMeta>().unwrap();
    assert_eq!(meta.map(), &small_map());
    assert_eq!(meta.frame_index(), 3);
    let mut wrong = parsed.clone();
    wrong.set("rows", 5u32);
    assert!(BitcostMeta::add_from_structure(other.get_mut().unwrap(), &wrong).is_err());
}

/// The C header's struct has the Rust struct's layout, field by field.
#[test]
fn c_header_layout_matches() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("meta-layout");
    std::fs::create_dir_all(&dir).unwrap();
    let fields = [
        "meta",
        "version",
        "codec",
        "grid_kind",
        "measure",
        "block_size",
        "width",
        "height",
        "rows",
        "cols",
        "sub_rows",
        "sub_cols",
        "flags",
        "data_bits",
        "segments",
        "reserved",
        "frame_index",
        "cells",
        "sub",
        "priv_map",
    ];
    let mut program = String::from(
        "#include <stdio.h>\n#include <stddef.h>\n#include \"gstcodecprepmeta.h\"\nint main(void) {\n\
         printf(\"size %zu\\n\", sizeof(GstCodecPrepBitcostMeta));\n",
    );
    for f in fields {
        program.push_str(&format!(
            "printf(\"{f} %zu\\n\", offsetof(GstCodecPrepBitcostMeta, {f}));\n"
        ));
    }
    program.push_str("return 0;\n}\n");
    let source = dir.join("layout.c");
    std::fs::write(&source, program).unwrap();
    let flags = Command::new("pkg-config")
        .args(["--cflags", "gstreamer-1.0"])
        .output()
        .expect("pkg-config");
    let flags = String::from_utf8(flags.stdout).unwrap();
    let exe = dir.join("layout");
    let status = Command::new("cc")
        .arg("-Wall")
        .arg("-Werror")
        .arg("-I")
        .arg(root.join("include"))
        .args(flags.split_whitespace())
        .arg(&source)
        .arg("-o")
        .arg(&exe)
        .status()
        .expect("run cc");
    assert!(status.success(), "compiling the layout program failed");
    let out = Command::new(&exe).output().expect("run the layout program");
    let text = String::from_utf8(out.stdout).unwrap();
    let c: std::collections::HashMap<&str, usize> = text
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(k, v)| (k, v.parse().unwrap()))
        .collect();
    use std::mem::{offset_of, size_of};
    type M = GstCodecPrepBitcostMeta;
    let rust = [
        ("size", size_of::<M>()),
        ("meta", offset_of!(M, meta)),
        ("version", offset_of!(M, version)),
        ("codec", offset_of!(M, codec)),
        ("grid_kind", offset_of!(M, grid_kind)),
        ("measure", offset_of!(M, measure)),
        ("block_size", offset_of!(M, block_size)),
        ("width", offset_of!(M, width)),
        ("height", offset_of!(M, height)),
        ("rows", offset_of!(M, rows)),
        ("cols", offset_of!(M, cols)),
        ("sub_rows", offset_of!(M, sub_rows)),
        ("sub_cols", offset_of!(M, sub_cols)),
        ("flags", offset_of!(M, flags)),
        ("data_bits", offset_of!(M, data_bits)),
        ("segments", offset_of!(M, segments)),
        ("reserved", offset_of!(M, reserved)),
        ("frame_index", offset_of!(M, frame_index)),
        ("cells", offset_of!(M, cells)),
        ("sub", offset_of!(M, sub)),
        ("priv_map", offset_of!(M, priv_map)),
    ];
    for (name, offset) in rust {
        assert_eq!(c.get(name), Some(&offset), "{name}");
    }
}
