//! The preinfer job through C: a config struct, a run with progress and cancellation, and
//! the result's accessors.

mod config;
mod result;
mod run;

pub use config::{CodecPrepPreinferConfig, codecprep_preinfer_config_default};
pub use result::{
    CodecPrepPreinferResult, codecprep_preinfer_result_canvas_count,
    codecprep_preinfer_result_canvas_path, codecprep_preinfer_result_frame_ids,
    codecprep_preinfer_result_free, codecprep_preinfer_result_meta_json,
    codecprep_preinfer_result_meta_path, codecprep_preinfer_result_out_dir,
    codecprep_preinfer_result_positions, codecprep_preinfer_result_timings_json,
};
pub use run::{CodecPrepProgressCallback, codecprep_preinfer_run};
