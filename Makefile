# codecprep: the two commands of the README's quick start are `make demo` and `make test`.
# Both install what is missing (Debian packages, the patched FFmpeg) before they build.

CARGO := scripts/cargo.sh
DEMO_DIR ?= demo-out
SAMPLE := $(DEMO_DIR)/sample.mp4

.PHONY: all deps ffmpeg build demo test reference lint bench clean

all: build

deps:
	scripts/install-deps.sh

ffmpeg: deps
	ffmpeg/build.sh

build: ffmpeg
	$(CARGO) build --release --locked

# The reference tool (PyPI codec-video-prep 0.2.5) for differential tests; optional.
reference:
	@scripts/reference-env.sh >/dev/null || echo "reference tool unavailable: differential tests will skip"

demo: build
	@mkdir -p $(DEMO_DIR)
	scripts/make-sample.sh $(SAMPLE)
	target/release/codecprep scan $(SAMPLE) --out $(DEMO_DIR)/scan
	target/release/codec-video-prep --video $(SAMPLE) --out_dir $(DEMO_DIR)/preinfer --canvas_format png
	target/release/codecprep heatmap $(SAMPLE) --out $(DEMO_DIR)/heatmap.png
	@echo
	@echo "demo outputs:"
	@echo "  sample video:      $(SAMPLE)"
	@echo "  per-frame records: $(DEMO_DIR)/scan/frames.json"
	@echo "  block bit costs:   $(DEMO_DIR)/scan/cells.npy"
	@echo "  4x4-cell costs:    $(DEMO_DIR)/scan/sub.npy"
	@echo "  canvases:          $(DEMO_DIR)/preinfer/canvas_*.png (and meta.json)"
	@echo "  bit-cost heat map: $(DEMO_DIR)/heatmap.png"

test: build reference
	CODECPREP_REFERENCE_BIN=$$(scripts/reference-env.sh 2>/dev/null || true) \
	  scripts/run-tests.sh

# Benchmarks: ratios against the reference tool and FFmpeg, measured in the same run.
bench: build reference
	CODECPREP_REFERENCE_BIN=$$(scripts/reference-env.sh 2>/dev/null || true) \
	  python3 scripts/bench_scan.py target/release/codecprep
	CODECPREP_REFERENCE_BIN=$$(scripts/reference-env.sh 2>/dev/null || true) \
	  python3 scripts/bench_preinfer.py target/release/codec-video-prep
	python3 scripts/bench_gst.py
	python3 scripts/bench_blink.py target/release/blink-stitch

lint: ffmpeg
	cargo fmt --all -- --check
	$(CARGO) clippy --release --locked --workspace --all-targets -- -D warnings

# libcodecprep (libcodecprep.so.0 and its link, the FFmpeg-free libcodecprep.a, codecprep.h,
# codecprep.pc) and the GStreamer plugin (LIBDIR/gstreamer-1.0/libgstcodecprep.so with
# gstcodecprepmeta.h) into PREFIX, built and installed by meson (which runs cargo itself).
PREFIX ?= /usr/local
MESON_DIR ?= target/meson
.PHONY: install
install: ffmpeg
	@if [ -f $(MESON_DIR)/build.ninja ]; then \
	  meson configure $(MESON_DIR) -Dprefix=$(abspath $(PREFIX)) -Dtests=false; \
	else \
	  meson setup $(MESON_DIR) --prefix=$(abspath $(PREFIX)) -Dtests=false; \
	fi
	meson install -C $(MESON_DIR)

clean:
	cargo clean
	rm -rf $(DEMO_DIR)
