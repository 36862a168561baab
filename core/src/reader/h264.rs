//! Just enough H.264 syntax to decide which access units a read may let the decoder skip:
//! NAL unit headers, and whether a sequence parameter set declares the stream's reordering
//! depth (`bitstream_restriction_flag` in its VUI).

/// NAL unit types.
const NON_IDR_SLICE: u8 = 1;
const SEI: u8 = 6;
const SPS: u8 = 7;
const ACCESS_UNIT_DELIMITER: u8 = 9;
const FILLER: u8 = 12;

/// The NAL length field size of an `avcC` record (ISO 14496-15); `None` when the extradata
/// is not one (Annex B streams carry start codes instead).
pub(super) fn nal_length_size(extradata: &[u8]) -> Option<usize> {
    (extradata.len() >= 7 && extradata[0] == 1).then(|| usize::from(extradata[4] & 3) + 1)
}

/// The sequence parameter sets of an `avcC` record.
pub(super) fn avcc_sps(extradata: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    if nal_length_size(extradata).is_none() {
        return out;
    }
    let count = usize::from(extradata[5] & 0x1f);
    let mut pos = 6;
    for _ in 0..count {
        let Some(len) = extradata.get(pos..pos + 2) else {
            break;
        };
        let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
        let Some(nal) = extradata.get(pos + 2..pos + 2 + len) else {
            break;
        };
        out.push(nal);
        pos += 2 + len;
    }
    out
}

/// The NAL units of an access unit; `None` when the length fields do not tile it.
fn nal_units(data: &[u8], nal_length_size: Option<usize>) -> Option<Vec<&[u8]>> {
    let mut units = Vec::new();
    match nal_length_size {
        Some(size) => {
            let mut pos = 0;
            while pos < data.len() {
                let field = data.get(pos..pos + size)?;
                let len = field
                    .iter()
                    .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
                pos += size;
                if len == 0 {
                    return None;
                }
                units.push(data.get(pos..pos + len)?);
                pos += len;
            }
        }
        None => {
            // Emulation prevention keeps 00 00 01 out of NAL payloads. A unit keeps the zero
            // bytes before the next start code: only headers and SPS fields are read here.
            let starts: Vec<usize> = (0..data.len().saturating_sub(2))
                .filter(|&i| data[i..i + 3] == [0, 0, 1])
                .map(|i| i + 3)
                .collect();
            for (k, &start) in starts.iter().enumerate() {
                let end = starts.get(k + 1).map_or(data.len(), |&next| next - 3);
                if end > start {
                    units.push(&data[start..end]);
                }
            }
        }
    }
    Some(units)
}

/// What matters about one access unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct AccessUnit {
    /// Only non-reference slices (plus SEI, delimiters and filler): no other picture is
    /// predicted from it, and it carries no parameter set. (FFmpeg reads the SEI of skipped
    /// pictures too, and forgets it at the next packet, as after a decoded picture.)
    pub disposable: bool,
    /// `Some(all declare it)` when the access unit carries sequence parameter sets.
    pub sps_declare_reorder_depth: Option<bool>,
}

/// Inspects an access unit (one packet); malformed ones are neither disposable nor declare
/// anything.
pub(super) fn inspect(data: &[u8], nal_length_size: Option<usize>) -> AccessUnit {
    let mut au = AccessUnit {
        disposable: false,
        sps_declare_reorder_depth: None,
    };
    let Some(units) = nal_units(data, nal_length_size) else {
        return au;
    };
    let (mut slices, mut other) = (0, 0);
    for nal in units {
        let kind = nal[0] & 0x1f;
        let nal_ref_idc = (nal[0] >> 5) & 3;
        match kind {
            NON_IDR_SLICE if nal_ref_idc == 0 => slices += 1,
            SEI | ACCESS_UNIT_DELIMITER | FILLER => {}
            SPS => {
                other += 1;
                let declares = sps_declares_reorder_depth(nal) == Some(true);
                au.sps_declare_reorder_depth =
                    Some(au.sps_declare_reorder_depth.unwrap_or(true) && declares);
            }
            _ => other += 1,
        }
    }
    au.disposable = slices > 0 && other == 0;
    au
}

/// Reads the RBSP of a NAL unit (emulation prevention bytes removed), MSB first.
struct Bits {
    bytes: Vec<u8>,
    pos: usize,
}

impl Bits {
    fn new(nal_payload: &[u8]) -> Self {
        let mut bytes = Vec::with_capacity(nal_payload.len());
        let mut zeros = 0;
        for &b in nal_payload {
            if zeros >= 2 && b == 3 {
                zeros = 0;
                continue;
            }
            zeros = if b == 0 { zeros + 1 } else { 0 };
            bytes.push(b);
        }
        Self { bytes, pos: 0 }
    }

    fn bit(&mut self) -> Option<u32> {
        let byte = *self.bytes.get(self.pos / 8)?;
        let bit = (byte >> (7 - self.pos % 8)) & 1;
        self.pos += 1;
        Some(u32::from(bit))
    }

    fn bits(&mut self, n: u32) -> Option<u32> {
        (0..n).try_fold(0u32, |acc, _| Some((acc << 1) | self.bit()?))
    }

    fn flag(&mut self) -> Option<bool> {
        self.bit().map(|b| b == 1)
    }

    /// Unsigned Exp-Golomb.
    fn ue(&mut self) -> Option<u32> {
        let mut zeros = 0;
        while self.bit()? == 0 {
            zeros += 1;
            if zeros > 31 {
                return None;
            }
        }
        Some(((1u64 << zeros) - 1 + u64::from(self.bits(zeros)?)) as u32)
    }

    /// Signed Exp-Golomb.
    fn se(&mut self) -> Option<i32> {
        let k = i64::from(self.ue()?);
        Some(if k % 2 == 1 { (k + 1) / 2 } else { -(k / 2) } as i32)
    }
}

/// Profiles whose SPS carries chroma format, bit depths and scaling matrices.
const HIGH_PROFILES: [u32; 13] = [100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135];

fn skip_scaling_list(r: &mut Bits, size: usize) -> Option<()> {
    let (mut last, mut next) = (8i32, 8i32);
    for _ in 0..size {
        if next != 0 {
            next = (last + r.se()? + 256).rem_euclid(256);
        }
        if next != 0 {
            last = next;
        }
    }
    Some(())
}

fn skip_hrd(r: &mut Bits) -> Option<()> {
    let count = r.ue()? + 1;
    if count > 32 {
        return None;
    }
    r.bits(8)?; // bit_rate_scale, cpb_size_scale
    for _ in 0..count {
        r.ue()?;
        r.ue()?;
        r.flag()?;
    }
    r.bits(20)?; // four 5-bit lengths and delays
    Some(())
}

/// Whether a sequence parameter set NAL unit has VUI `bitstream_restriction_flag` set, which
/// gives the decoder the stream's reordering depth (`max_num_reorder_frames`) instead of
/// letting it guess; `None` when the unit cannot be parsed.
pub(super) fn sps_declares_reorder_depth(nal: &[u8]) -> Option<bool> {
    if nal.first()? & 0x1f != SPS {
        return None;
    }
    let mut r = Bits::new(&nal[1..]);
    let profile = r.bits(8)?;
    r.bits(16)?; // constraint flags, level
    r.ue()?; // seq_parameter_set_id
    if HIGH_PROFILES.contains(&profile) {
        let chroma_format = r.ue()?;
        if chroma_format == 3 {
            r.flag()?; // separate_colour_plane_flag
        }
        r.ue()?; // bit_depth_luma_minus8
        r.ue()?; // bit_depth_chroma_minus8
        r.flag()?; // qpprime_y_zero_transform_bypass_flag
        if r.flag()? {
            let lists = if chroma_format == 3 { 12 } else { 8 };
            for i in 0..lists {
                if r.flag()? {
                    skip_scaling_list(&mut r, if i < 6 { 16 } else { 64 })?;
                }
            }
        }
    }
    r.ue()?; // log2_max_frame_num_minus4
    match r.ue()? {
        0 => {
            r.ue()?; // log2_max_pic_order_cnt_lsb_minus4
        }
        1 => {
            r.flag()?;
            r.se()?;
            r.se()?;
            let cycle = r.ue()?;
            if cycle > 255 {
                return None;
            }
            for _ in 0..cycle {
                r.se()?;
            }
        }
        _ => {}
    }
    r.ue()?; // max_num_ref_frames
    r.flag()?; // gaps_in_frame_num_value_allowed_flag
    r.ue()?; // pic_width_in_mbs_minus1
    r.ue()?; // pic_height_in_map_units_minus1
    if !r.flag()? {
        r.flag()?; // mb_adaptive_frame_field_flag
    }
    r.flag()?; // direct_8x8_inference_flag
    if r.flag()? {
        for _ in 0..4 {
            r.ue()?; // frame cropping offsets
        }
    }
    if !r.flag()? {
        return Some(false); // no VUI
    }
    if r.flag()? && r.bits(8)? == 255 {
        r.bits(32)?; // sar_width, sar_height
    }
    if r.flag()? {
        r.flag()?; // overscan_appropriate_flag
    }
    if r.flag()? {
        r.bits(4)?; // video_format, video_full_range_flag
        if r.flag()? {
            r.bits(24)?; // colour primaries, transfer, matrix
        }
    }
    if r.flag()? {
        r.ue()?;
        r.ue()?; // chroma sample locations
    }
    if r.flag()? {
        r.bits(32)?;
        r.bits(32)?;
        r.flag()?; // timing info
    }
    let nal_hrd = r.flag()?;
    if nal_hrd {
        skip_hrd(&mut r)?;
    }
    let vcl_hrd = r.flag()?;
    if vcl_hrd {
        skip_hrd(&mut r)?;
    }
    if nal_hrd || vcl_hrd {
        r.flag()?; // low_delay_hrd_flag
    }
    r.flag()?; // pic_struct_present_flag
    r.flag()
}

/// Test helpers: parameter sets built bit by bit.
#[cfg(test)]
pub(super) mod tests_support {
    /// Writes bits MSB first, for building parameter sets.
    #[derive(Default)]
    struct Writer {
        bits: Vec<bool>,
    }

    impl Writer {
        fn put(&mut self, value: u32, n: u32) -> &mut Self {
            for i in (0..n).rev() {
                self.bits.push((value >> i) & 1 == 1);
            }
            self
        }
        fn ue(&mut self, v: u32) -> &mut Self {
            let x = v + 1;
            let len = 32 - x.leading_zeros();
            self.put(0, len - 1).put(x, len)
        }
        fn se(&mut self, v: i32) -> &mut Self {
            self.ue(if v > 0 {
                2 * v as u32 - 1
            } else {
                (-2 * v) as u32
            })
        }
        /// RBSP with stop bit, emulation prevention inserted, after the NAL header byte.
        fn nal(&mut self, header: u8) -> Vec<u8> {
            self.put(1, 1);
            while !self.bits.len().is_multiple_of(8) {
                self.bits.push(false);
            }
            let rbsp: Vec<u8> = self
                .bits
                .chunks(8)
                .map(|c| c.iter().fold(0u8, |a, &b| (a << 1) | u8::from(b)))
                .collect();
            let mut out = vec![header];
            let mut zeros = 0;
            for b in rbsp {
                if zeros >= 2 && b <= 3 {
                    out.push(3);
                    zeros = 0;
                }
                zeros = if b == 0 { zeros + 1 } else { 0 };
                out.push(b);
            }
            out
        }
    }

    /// A High-profile SPS (with a scaling list) whose VUI has timing, an HRD and, if
    /// `restriction`, the bitstream restriction.
    pub(in crate::reader) fn sps(vui: bool, restriction: bool) -> Vec<u8> {
        let mut w = Writer::default();
        w.put(100, 8).put(0, 8).put(31, 8).ue(0);
        w.ue(1).ue(0).ue(0).put(0, 1); // 4:2:0, 8 bit
        w.put(1, 1); // scaling matrices present
        w.put(1, 1);
        for _ in 0..16 {
            w.se(0); // first list: delta 0 throughout (next stays 8)
        }
        for _ in 1..8 {
            w.put(0, 1);
        }
        w.ue(0).ue(0).ue(4); // frame num, poc type 0, poc lsb
        w.ue(3).put(0, 1).ue(19).ue(14).put(1, 1).put(1, 1); // refs, size, frame_mbs_only
        w.put(1, 1).ue(0).ue(0).ue(0).ue(4); // cropping
        w.put(u32::from(vui), 1);
        if vui {
            w.put(1, 1).put(255, 8).put(1, 16).put(1, 16); // SAR 1:1 (extended)
            w.put(0, 1).put(0, 1).put(0, 1); // overscan, video signal, chroma loc
            w.put(1, 1).put(1, 32).put(50, 32).put(0, 1); // timing
            w.put(1, 1)
                .ue(0)
                .put(0, 8)
                .ue(1000)
                .ue(2000)
                .put(0, 1)
                .put(0, 20); // NAL HRD
            w.put(0, 1).put(0, 1).put(0, 1); // VCL HRD, low delay, pic_struct
            w.put(u32::from(restriction), 1);
            if restriction {
                w.put(1, 1).ue(0).ue(0).ue(16).ue(16).ue(2).ue(4);
            }
        }
        w.nal(0x67)
    }
}

#[cfg(test)]
mod tests {
    use super::tests_support::sps;
    use super::*;

    #[test]
    fn finds_the_bitstream_restriction() {
        assert_eq!(sps_declares_reorder_depth(&sps(true, true)), Some(true));
        assert_eq!(sps_declares_reorder_depth(&sps(true, false)), Some(false));
        assert_eq!(sps_declares_reorder_depth(&sps(false, false)), Some(false));
        // Truncated, or not an SPS.
        let full = sps(true, true);
        assert_eq!(sps_declares_reorder_depth(&full[..6]), None);
        assert_eq!(sps_declares_reorder_depth(&[0x68, 0xee]), None);
    }

    #[test]
    fn reads_avcc_records() {
        let sps = sps(true, true);
        let mut avcc = vec![1, 100, 0, 31, 0xff, 0xe1];
        avcc.extend((sps.len() as u16).to_be_bytes());
        avcc.extend(&sps);
        avcc.extend([1, 0, 2, 0x68, 0xee]);
        assert_eq!(nal_length_size(&avcc), Some(4));
        assert_eq!(avcc_sps(&avcc), vec![sps.as_slice()]);
        assert_eq!(nal_length_size(&[0, 0, 0, 1, 0x67]), None);
        assert!(avcc_sps(&[0, 0, 0, 1]).is_empty());
    }

    /// Length-prefixed NAL units (4-byte lengths).
    fn avcc(units: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for u in units {
            out.extend((u.len() as u32).to_be_bytes());
            out.extend_from_slice(u);
        }
        out
    }

    #[test]
    fn only_non_reference_slices_are_disposable() {
        let au = |units: &[&[u8]]| inspect(&avcc(units), Some(4));
        assert!(au(&[&[0x09, 0xf0], &[0x01, 0x9e, 0x22]]).disposable);
        assert!(!au(&[&[0x41, 0x9a, 0x22]]).disposable, "reference slice");
        assert!(!au(&[&[0x01, 0x9e], &[0x21, 0x9e]]).disposable, "mixed");
        assert!(!au(&[&[0x65, 0x88]]).disposable, "IDR");
        assert!(
            au(&[&[0x06, 0x05, 0x01], &[0x01, 0x9e]]).disposable,
            "with SEI"
        );
        assert!(
            !au(&[&[0x68, 0xee], &[0x01, 0x9e]]).disposable,
            "with a PPS"
        );
        assert!(!au(&[&[0x09, 0xf0]]).disposable, "no slice");
        let mut bad = avcc(&[&[0x01, 0x9e]]);
        bad[3] = 9;
        assert!(!inspect(&bad, Some(4)).disposable, "lengths do not tile");
        // Parameter sets in the stream.
        let s = sps(true, false);
        let with_sps = au(&[&s, &[0x65, 0x88]]);
        assert_eq!(with_sps.sps_declare_reorder_depth, Some(false));
        assert!(!with_sps.disposable);
        assert_eq!(
            au(&[&sps(true, true), &[0x65, 0x88]]).sps_declare_reorder_depth,
            Some(true)
        );
        assert_eq!(au(&[&[0x01, 0x9e]]).sps_declare_reorder_depth, None);
    }

    #[test]
    fn annex_b_start_codes() {
        let data = [
            0, 0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x01, 0x88, 0, 0, 1, 0x01, 0x9a, 0,
        ];
        assert!(inspect(&data, None).disposable);
        let data = [0, 0, 1, 0x01, 0x88, 0, 0, 0, 1, 0x41, 0x9a];
        assert!(!inspect(&data, None).disposable);
    }
}
