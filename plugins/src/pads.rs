//! Pad templates shared by the elements: each has one always-present sink and src pad.

/// The templates of an element with one always-present sink pad and one src pad.
pub(crate) fn always_sink_and_src(sink: &gst::Caps, src: &gst::Caps) -> Vec<gst::PadTemplate> {
    let template = |name, direction, caps| {
        gst::PadTemplate::new(name, direction, gst::PadPresence::Always, caps)
            .unwrap_or_else(|e| panic!("{name} pad template: {e}"))
    };
    vec![
        template("sink", gst::PadDirection::Sink, sink),
        template("src", gst::PadDirection::Src, src),
    ]
}
