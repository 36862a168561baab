//! The few numeric conventions of the reference tool (Python 3 and numpy 1.26) that decide its
//! outputs bit for bit: banker's rounding, `linspace` truncated to integers, numpy's pairwise
//! float summation and its linear-interpolation percentile.

/// Python 3 `round(x)`: to the nearest integer, ties to even.
pub fn round_half_even(x: f64) -> f64 {
    x.round_ties_even()
}

/// `numpy.linspace(start, stop, num)` truncated toward zero (`astype(int)`): element `i` is
/// `start + i * step` with `step = (stop - start) / (num - 1)` computed first; the last
/// element is exactly `stop`.
pub fn linspace_trunc(start: f64, stop: f64, num: usize) -> Vec<i64> {
    match num {
        0 => Vec::new(),
        1 => vec![start.trunc() as i64],
        _ => {
            let step = (stop - start) / (num - 1) as f64;
            let mut out: Vec<i64> = (0..num)
                .map(|i| (i as f64 * step + start).trunc() as i64)
                .collect();
            out[num - 1] = stop.trunc() as i64;
            out
        }
    }
}

/// Block size below which numpy's pairwise summation adds sequentially in 8 lanes.
const PW_BLOCKSIZE: usize = 128;

/// `numpy.sum` of a contiguous float vector: pairwise summation with accumulators of the
/// element type, in numpy's exact order (8 interleaved partial sums per block of up to 128
/// values).
fn pairwise_sum<T>(values: &[T]) -> T
where
    T: Copy + Default + std::ops::Add<Output = T> + std::ops::AddAssign,
{
    let n = values.len();
    if n < 8 {
        let mut res = T::default();
        for &v in values {
            res += v;
        }
        res
    } else if n <= PW_BLOCKSIZE {
        let mut r = [T::default(); 8];
        r.copy_from_slice(&values[..8]);
        let mut i = 8;
        while i < n - (n % 8) {
            for (j, acc) in r.iter_mut().enumerate() {
                *acc += values[i + j];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        while i < n {
            res += values[i];
            i += 1;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        pairwise_sum(&values[..n2]) + pairwise_sum(&values[n2..])
    }
}

/// `numpy.sum` of a contiguous float32 vector (float32 accumulators).
pub fn pairwise_sum_f32(values: &[f32]) -> f32 {
    pairwise_sum(values)
}

/// `numpy.sum` / `numpy.mean` building block for float64 vectors.
pub fn pairwise_sum_f64(values: &[f64]) -> f64 {
    pairwise_sum(values)
}

/// `numpy.mean` of a float64 vector (NaN for an empty one, as numpy).
pub fn mean_f64(values: &[f64]) -> f64 {
    pairwise_sum_f64(values) / values.len() as f64
}

/// The interpolation step of numpy's linear percentile between the sorted neighbours `lo`
/// and `hi` (float32 values): the difference is taken in float32, the rest in float64, and
/// the formula switches ends at `t = 0.5`, exactly as `numpy.lib.function_base._lerp`.
pub fn lerp_f32(lo: f32, hi: f32, t: f64) -> f64 {
    let diff = f64::from(hi - lo);
    if t >= 0.5 {
        f64::from(hi) - diff * (1.0 - t)
    } else {
        f64::from(lo) + diff * t
    }
}

/// Position of the `q`-th quantile (`q` in 0..=1) in a sorted sample of `n` values: the
/// index of the lower neighbour, of the upper one and the weight `t`, as numpy's `linear`
/// method computes them (`(n - 1) * q`, clamped at the ends).
pub fn quantile_position(n: usize, q: f64) -> (usize, usize, f64) {
    debug_assert!(n > 0);
    let virtual_index = (n - 1) as f64 * q;
    let floor = virtual_index.floor();
    let t = virtual_index - floor;
    if virtual_index >= (n - 1) as f64 {
        (n - 1, n - 1, t)
    } else if virtual_index < 0.0 {
        (0, 0, t)
    } else {
        let lo = floor as usize;
        (lo, lo + 1, t)
    }
}

/// `numpy.percentile(values, pct)` (linear method) of float32 values; `values` is reordered.
/// Returns NaN for an empty sample.
pub fn percentile_f32(values: &mut [f32], pct: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let (lo, hi, t) = quantile_position(values.len(), pct / 100.0);
    let (_, &mut lo_value, upper) = values.select_nth_unstable_by(lo, f32::total_cmp);
    let hi_value = if hi == lo {
        lo_value
    } else {
        // The smallest value above position `lo`.
        upper
            .iter()
            .copied()
            .min_by(f32::total_cmp)
            .unwrap_or(lo_value)
    };
    lerp_f32(lo_value, hi_value, t)
}

/// `numpy.percentile` of a sample given as distinct float32 values with repeat counts (a
/// nearest-neighbour upsampled map repeats each grid value over many pixels).
pub fn weighted_percentile_f32(counted: &mut [(f32, u64)], pct: f64) -> f64 {
    counted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: u64 = counted.iter().map(|&(_, c)| c).sum();
    if total == 0 {
        return f64::NAN;
    }
    let (lo, hi, t) = quantile_position(total as usize, pct / 100.0);
    let value_at = |position: usize| {
        let mut seen = 0u64;
        for &(value, count) in counted.iter().filter(|&&(_, count)| count > 0) {
            seen += count;
            if position < seen as usize {
                return value;
            }
        }
        counted
            .iter()
            .rev()
            .find(|&&(_, count)| count > 0)
            .map_or(0.0, |&(v, _)| v)
    };
    lerp_f32(value_at(lo), value_at(hi), t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_half_to_even() {
        assert_eq!(round_half_even(0.5), 0.0);
        assert_eq!(round_half_even(1.5), 2.0);
        assert_eq!(round_half_even(2.5), 2.0);
        assert_eq!(round_half_even(18.75), 19.0);
        assert_eq!(round_half_even(-0.5), -0.0);
    }

    #[test]
    fn linspace_matches_numpy() {
        // np.linspace(0, 131, 1024).astype(int)[:12]
        let v = linspace_trunc(0.0, 131.0, 1024);
        assert_eq!(&v[..12], &[0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1]);
        assert_eq!(v[1023], 131);
        assert_eq!(linspace_trunc(1.0, 8.0, 4), vec![1, 3, 5, 8]);
        assert_eq!(linspace_trunc(1.0, 17.0, 4), vec![1, 6, 11, 17]);
        assert_eq!(linspace_trunc(0.0, 9.0, 1), vec![0]);
    }

    #[test]
    fn pairwise_sum_follows_numpy_order() {
        // Values from numpy 1.26: v = ones(16, float32); v[0] = 1e8; float(v.sum())
        let mut v = vec![1.0f32; 16];
        v[0] = 1e8;
        assert_eq!(pairwise_sum_f32(&v), 100000008.0);
        assert_ne!(v.iter().sum::<f32>(), 100000008.0);
        // v = (arange(n) * 7919 % 1000).astype(float32) / float32(7): sum and mean
        let make = |n: usize| -> Vec<f32> {
            (0..n)
                .map(|i| ((i * 7919) % 1000) as f32 / 7.0f32)
                .collect()
        };
        for (n, sum, mean) in [
            (5, 455.71429443359375f64, 91.14286041259766f64),
            (100, 7007.1435546875, 70.0714340209961),
            (300, 21450.0, 71.5),
            (1000, 71357.140625, 71.35713958740234),
        ] {
            let v = make(n);
            assert_eq!(f64::from(pairwise_sum_f32(&v)), sum, "sum of {n}");
            assert_eq!(
                f64::from(pairwise_sum_f32(&v) / n as f32),
                mean,
                "mean of {n}"
            );
        }
        let v64: Vec<f64> = make(300).iter().map(|&x| f64::from(x)).collect();
        assert_eq!(pairwise_sum_f64(&v64), 21450.000016838312);
    }

    #[test]
    fn percentile_matches_numpy_linear() {
        // np.percentile(np.float32([0,1,2,3,5,7,100.3,1e7+1]), 99.0) == 9300007.929999998
        let mut v = [0.0f32, 1.0, 2.0, 3.0, 5.0, 7.0, 100.3, 1e7 + 1.0];
        assert_eq!(percentile_f32(&mut v, 99.0), 9300007.929999998);
        let mut one = [4.0f32];
        assert_eq!(percentile_f32(&mut one, 99.0), 4.0);
        let mut v = [3.0f32, 1.0, 2.0];
        assert_eq!(percentile_f32(&mut v, 50.0), 2.0);
        assert_eq!(percentile_f32(&mut v, 100.0), 3.0);
        assert_eq!(percentile_f32(&mut v, 0.0), 1.0);
        assert!(percentile_f32(&mut [], 50.0).is_nan());
    }

    #[test]
    fn weighted_percentile_equals_the_expanded_sample() {
        let counted = [(0.25f32, 3u64), (1.0, 1), (0.0, 5), (0.5, 0), (0.75, 2)];
        let mut expanded: Vec<f32> = counted
            .iter()
            .flat_map(|&(v, c)| std::iter::repeat_n(v, c as usize))
            .collect();
        for pct in [0.0, 10.0, 50.0, 95.0, 99.0, 100.0] {
            let mut c = counted.to_vec();
            assert_eq!(
                weighted_percentile_f32(&mut c, pct),
                percentile_f32(&mut expanded, pct),
                "pct {pct}"
            );
        }
    }
}
