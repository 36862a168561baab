//! Replays the committed fuzz corpus (fuzz/corpus/parse_map) through `BitcostMap::parse` on
//! stable Rust, so every input the fuzzer ever kept stays a regression test.

use std::fs;
use std::path::{Path, PathBuf};

use codecprep_core::BitcostMap;

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/parse_map")
}

#[test]
fn corpus_inputs_never_panic() {
    let mut replayed = 0;
    let mut valid = 0;
    for entry in fs::read_dir(corpus_dir()).expect("the seed corpus is committed") {
        let path = entry.unwrap().path();
        if !path.is_file() {
            continue;
        }
        let bytes = fs::read(&path).unwrap();
        if let Ok(map) = BitcostMap::parse(&bytes) {
            assert_eq!(BitcostMap::parse(&map.to_bytes()).unwrap(), map);
            valid += 1;
        }
        replayed += 1;
    }
    assert!(replayed >= 5, "only {replayed} corpus files");
    assert!(valid >= 1, "the corpus lost its valid seeds");
}

/// Seed maps: header words (magic, version, header size, codec, measure, block size, width,
/// height, cols, rows, sub_cols, sub_rows, flags) and the number of cells and sub-cells.
fn seed(words: [u32; 13], cells: usize, sub: usize) -> Vec<u8> {
    let mut out: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    out.resize(64, 0);
    out.extend((0..cells).flat_map(|i| (i as i32 * 8 - 8).to_le_bytes()));
    out.extend((0..sub).flat_map(|i| (i as f32 * 0.5).to_le_bytes()));
    out
}

/// Regenerates the seed corpus: `cargo test -p codecprep-core --test fuzz_corpus -- --ignored`.
#[test]
#[ignore = "writes fuzz/corpus/parse_map; run explicitly to regenerate the seeds"]
fn write_seed_corpus() {
    const MAGIC: u32 = 0x4D42_5043;
    let h264 = seed([MAGIC, 1, 64, 1, 0, 16, 40, 24, 3, 2, 12, 8, 0], 6, 96);
    let hevc = seed([MAGIC, 1, 64, 2, 1, 32, 50, 30, 2, 1, 13, 8, 1], 2, 104);
    let vp9 = seed([MAGIC, 1, 64, 3, 0, 64, 100, 70, 2, 2, 32, 32, 0], 4, 1024);
    let mut bad_magic = h264.clone();
    bad_magic[0] ^= 0xFF;
    let mut huge_dims = h264.clone();
    huge_dims[32..40].copy_from_slice(&[0xFF; 8]);
    let mut bad_header_size = h264.clone();
    bad_header_size[8] = 200;
    let seeds: [(&str, &[u8]); 9] = [
        ("valid-h264", &h264),
        ("valid-hevc-exact-interlaced", &hevc),
        ("valid-vp9", &vp9),
        ("truncated-header", &h264[..40]),
        ("truncated-cells", &h264[..70]),
        ("truncated-sub", &h264[..h264.len() - 3]),
        ("bad-magic", &bad_magic),
        ("huge-dims", &huge_dims),
        ("bad-header-size", &bad_header_size),
    ];
    let dir = corpus_dir();
    fs::create_dir_all(&dir).unwrap();
    for (name, bytes) in seeds {
        fs::write(dir.join(name), bytes).unwrap();
    }
}
