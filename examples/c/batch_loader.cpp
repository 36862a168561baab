// SPDX-License-Identifier: LGPL-2.1-or-later
//
// batch_loader: how a C++ training data loader fills a batch with libcodecprep. Picks the
// frames of a video that cost the most bits (the most informative ones), then decodes just
// those into one std::vector<uint8_t> laid out as (batch, height, width, 3) RGB, ready to
// hand to a tensor library without another copy.
//
//   batch_loader VIDEO WIDTH HEIGHT BATCH [OUT.raw]
//
// Prints the chosen frame ids and each frame's mean pixel value; OUT.raw receives the batch.
//
// Build: c++ -std=c++17 batch_loader.cpp $(pkg-config --cflags --libs codecprep)
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <codecprep.h>

namespace {

// Throws with the library's message when a call fails.
void ok(CodecPrepStatus status, const char *what)
{
    if (status == CODECPREP_STATUS_OK)
        return;
    std::string message(codecprep_last_error(nullptr, 0), '\0');
    codecprep_last_error(message.data(), message.size());
    message.resize(message.empty() ? 0 : message.size() - 1);
    throw std::runtime_error(std::string(what) + " (" +
                             codecprep_status_str(static_cast<int>(status)) + "): " + message);
}

// Handles freed by their _free function, like any other RAII resource.
using Reader = std::unique_ptr<CodecPrepReader, decltype(&codecprep_reader_free)>;

Reader open_reader(const char *path)
{
    CodecPrepReader *raw = nullptr;
    ok(codecprep_reader_open(path, nullptr, &raw), "open");
    return Reader(raw, codecprep_reader_free);
}

// (total bits, frame id) of every frame, from a scan (entropy decoding only: fast).
std::vector<std::pair<int64_t, int64_t>> frame_costs(CodecPrepReader *reader)
{
    std::vector<std::pair<int64_t, int64_t>> costs;
    auto collect = [](const CodecPrepMapView *view, void *user_data) -> int {
        auto *out = static_cast<std::vector<std::pair<int64_t, int64_t>> *>(user_data);
        out->emplace_back(view->total_bits, view->frame_index);
        return 0;
    };
    ok(codecprep_reader_scan(reader, 0, collect, &costs), "scan");
    return costs;
}

}  // namespace

int main(int argc, char **argv)
{
    if (argc < 5 || argc > 6) {
        std::fprintf(stderr, "usage: %s VIDEO WIDTH HEIGHT BATCH [OUT.raw]\n", argv[0]);
        return 2;
    }
    try {
        const auto width = static_cast<uint32_t>(std::strtoul(argv[2], nullptr, 10));
        const auto height = static_cast<uint32_t>(std::strtoul(argv[3], nullptr, 10));
        const auto batch = static_cast<size_t>(std::strtoul(argv[4], nullptr, 10));
        Reader reader = open_reader(argv[1]);

        // The BATCH costliest frames, in display order (one decoding pass reads them all).
        auto costs = frame_costs(reader.get());
        std::stable_sort(costs.begin(), costs.end(),
                         [](const auto &a, const auto &b) { return a.first > b.first; });
        costs.resize(std::min(batch, costs.size()));
        std::vector<int64_t> ids;
        for (const auto &cost : costs)
            ids.push_back(cost.second);
        std::sort(ids.begin(), ids.end());

        // One buffer for the whole batch, owned by the loader; the library writes into it.
        size_t frame_bytes = 0;
        ok(codecprep_reader_frame_bytes(reader.get(), width, height, &frame_bytes), "frame size");
        std::vector<uint8_t> pixels(frame_bytes * ids.size());
        ok(codecprep_reader_read_frames_into(reader.get(), ids.data(), ids.size(),
                                             CODECPREP_WANT_PIXELS_RGB, width, height,
                                             pixels.data(), pixels.size(), nullptr),
           "read frames");

        for (size_t i = 0; i < ids.size(); i++) {
            uint64_t sum = 0;
            for (size_t b = 0; b < frame_bytes; b++)
                sum += pixels[i * frame_bytes + b];
            std::printf("frame %lld mean %.4f\n", static_cast<long long>(ids[i]),
                        frame_bytes ? static_cast<double>(sum) / frame_bytes : 0.0);
        }
        if (argc == 6) {
            std::ofstream out(argv[5], std::ios::binary);
            out.write(reinterpret_cast<const char *>(pixels.data()),
                      static_cast<std::streamsize>(pixels.size()));
            if (!out)
                throw std::runtime_error(std::string("cannot write ") + argv[5]);
        }
        std::printf("batch of %zu frames, %ux%u RGB, %zu bytes\n", ids.size(), width, height,
                    pixels.size());
    } catch (const std::exception &e) {
        std::fprintf(stderr, "batch_loader: %s\n", e.what());
        return 1;
    }
    return 0;
}
