//! Perceptual hashes of pictures (DCT mean hash, "pHash"): near-identical pictures get hashes a
//! few bits apart, so re-encoded copies and static scenes can be told from real changes.

use image::GrayImage;
use image_hasher::{BitOrder, HashAlg, Hasher, HasherConfig};

use super::features::PerceptualHash;

/// Smallest and largest hash side accepted: 4x4 bits is the least that still tells scenes
/// apart, 32x32 already hashes texture noise.
pub const MIN_SIDE: u32 = 4;
pub const MAX_SIDE: u32 = 32;

/// A hasher for one hash size; building it plans the DCT, so keep it for many pictures.
pub struct PerceptualHasher {
    side: u32,
    hasher: Hasher,
}

impl PerceptualHasher {
    /// `side` bits per row and column; `None` outside `MIN_SIDE..=MAX_SIDE` or when odd (the
    /// hash is stored in whole bytes).
    pub fn new(side: u32) -> Option<Self> {
        if !(MIN_SIDE..=MAX_SIDE).contains(&side) || !side.is_multiple_of(2) {
            return None;
        }
        let hasher = HasherConfig::new()
            .hash_size(side, side)
            .hash_alg(HashAlg::Mean)
            .preproc_dct()
            .bit_order(BitOrder::LsbFirst)
            .to_hasher();
        Some(Self { side, hasher })
    }

    pub fn side(&self) -> u32 {
        self.side
    }

    /// The hash of a greyscale picture (any size; it is scaled down first).
    pub fn hash(&self, picture: &GrayImage) -> PerceptualHash {
        let hash = self.hasher.hash_image(picture);
        PerceptualHash {
            side: self.side,
            words: pack_words(hash.as_bytes()),
        }
    }
}

/// Least significant bit first bytes into little-endian 64-bit words, so bit `i` of the hash
/// is bit `i % 64` of word `i / 64`.
fn pack_words(bytes: &[u8]) -> Vec<u64> {
    bytes
        .chunks(8)
        .map(|chunk| {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            u64::from_le_bytes(word)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A picture with a bright square whose corner is at (x, y), plus a gentle gradient.
    fn square(x: u32, y: u32, noise: u8) -> GrayImage {
        GrayImage::from_fn(160, 120, |px, py| {
            let inside = (x..x + 40).contains(&px) && (y..y + 40).contains(&py);
            let base = if inside { 220 } else { (px / 4) as u8 };
            image::Luma([base.wrapping_add(((px * 7 + py * 13) % 3) as u8 * noise)])
        })
    }

    #[test]
    fn sizes_outside_the_range_or_odd_are_refused() {
        assert!(PerceptualHasher::new(2).is_none());
        assert!(PerceptualHasher::new(9).is_none());
        assert!(PerceptualHasher::new(34).is_none());
        assert_eq!(PerceptualHasher::new(8).unwrap().side(), 8);
    }

    #[test]
    fn hash_has_side_squared_bits() {
        let hasher = PerceptualHasher::new(16).unwrap();
        let hash = hasher.hash(&square(10, 10, 0));
        assert_eq!(hash.bits(), 256);
        assert_eq!(hash.words.len(), 4);
    }

    #[test]
    fn slight_noise_stays_close_and_a_moved_object_does_not() {
        let hasher = PerceptualHasher::new(8).unwrap();
        let base = hasher.hash(&square(10, 10, 0));
        let noisy = hasher.hash(&square(10, 10, 1));
        let moved = hasher.hash(&square(110, 70, 0));
        let near = base.distance(&noisy).unwrap();
        let far = base.distance(&moved).unwrap();
        assert!(near <= 4, "noise moved the hash by {near} bits");
        assert!(far >= 12, "a moved object changed only {far} bits");
    }

    #[test]
    fn hashes_of_different_sizes_have_no_distance() {
        let small = PerceptualHasher::new(8).unwrap().hash(&square(0, 0, 0));
        let large = PerceptualHasher::new(16).unwrap().hash(&square(0, 0, 0));
        assert_eq!(small.distance(&large), None);
    }
}
