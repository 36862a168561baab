//! Any byte string must parse into a valid map or a `MapError`, never panic; a valid map must
//! survive a round trip through its own serialisation.
#![no_main]

use codecprep_core::BitcostMap;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(map) = BitcostMap::parse(data) {
        let again = BitcostMap::parse(&map.to_bytes()).expect("a parsed map re-parses");
        assert_eq!(again.cells(), map.cells());
        assert_eq!(again.cells_array().dim(), (map.rows(), map.cols()));
        assert_eq!(again.sub_array().dim(), (map.sub_rows(), map.sub_cols()));
    }
});
