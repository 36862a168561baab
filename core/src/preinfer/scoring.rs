//! From the sampled frames' cost grids to block scores (§9-9.4): normalisation, the
//! grid-to-pixel mappings, I-frame clipping and the mean-floor rescaling, then the block
//! scores. Clipping and the mean floor look at every sampled frame; without them each frame
//! is scored on its own, so a stream can be scored frame by frame (`score_frames` on one).

use rayon::prelude::*;

use super::blocks;
use super::config::{FrameScoreNormMode, IframeScoreClipMode, PreinferConfig};
use super::geometry::Geometry;
use super::pyjson::Json;
use super::score::{self, Mapping, ScoreGrid};

/// Block scores per sampled position and the reference's debug records.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredFrames {
    pub block_scores: Vec<Vec<f32>>,
    pub iframe_score_clip_debug: Json,
    pub frame_score_norm_debug: Json,
}

/// Whether scoring a frame needs the other sampled frames (I-frame clipping, mean floor).
pub fn needs_all_frames(config: &PreinferConfig) -> bool {
    config.iframe_score_clip_mode != IframeScoreClipMode::None
        || config.frame_score_norm_mode != FrameScoreNormMode::None
}

/// Scores `grids` (raw costs, one per sampled position; `is_iframe` alike). `lap` hears the
/// name of each step when it is done (meta.json's timings).
pub fn score_frames(
    config: &PreinferConfig,
    geom: &Geometry,
    mut grids: Vec<ScoreGrid>,
    is_iframe: &[bool],
    lap: &mut dyn FnMut(&str),
) -> ScoredFrames {
    grids.par_iter_mut().for_each(|g| {
        score::normalize(g, config.bitcost_pct, config.bitcost_log_scale);
    });
    // One mapping per distinct grid shape.
    let mut mapping_list: Vec<((usize, usize, usize), Mapping)> = Vec::new();
    let mapping_of: Vec<usize> = grids
        .iter()
        .map(|g| {
            let key = (g.rows, g.cols, g.cell_px);
            match mapping_list.iter().position(|(k, _)| *k == key) {
                Some(i) => i,
                None => {
                    mapping_list.push((key, Mapping::for_compat(config.compat, g, geom)));
                    mapping_list.len() - 1
                }
            }
        })
        .collect();
    let mappings: Vec<&Mapping> = mapping_of.iter().map(|&i| &mapping_list[i].1).collect();
    lap("bitcost_to_score_maps");
    let iframe_score_clip_debug = match config.iframe_score_clip_mode {
        IframeScoreClipMode::None => Json::Null,
        IframeScoreClipMode::NonIPercentile => {
            let out = score::clip_iframes(
                &mut grids,
                &mappings,
                is_iframe,
                config.iframe_score_clip_percentile,
            );
            lap("clip_iframe_score_maps");
            out.debug
        }
    };
    let compute_blocks = |grids: &[ScoreGrid]| -> Vec<Vec<f32>> {
        grids
            .par_iter()
            .zip(mappings.par_iter())
            .map(|(g, m)| blocks::block_scores(g, m, geom))
            .collect()
    };
    let mut block_scores = compute_blocks(&grids);
    let frame_score_norm_debug = match config.frame_score_norm_mode {
        FrameScoreNormMode::None => Json::Null,
        FrameScoreNormMode::FrameMeanFloor => {
            let means: Vec<f32> = block_scores
                .iter()
                .map(|b| score::mean_block_score(b))
                .collect();
            let (_, debug) = score::frame_mean_floor(
                &mut grids,
                &means,
                config.frame_score_norm_floor_ratio,
                config.frame_score_norm_allow_boost,
            );
            block_scores = compute_blocks(&grids);
            lap("normalize_score_maps");
            debug
        }
    };
    ScoredFrames {
        block_scores,
        iframe_score_clip_debug,
        frame_score_norm_debug,
    }
}
