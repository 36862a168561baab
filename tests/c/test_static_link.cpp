// SPDX-License-Identifier: LGPL-2.1-or-later
//
// libcodecprep.a (with its patched FFmpeg made private by scripts/localize-static.sh) linked
// into one C++ program together with the system's libavcodec: both FFmpegs work side by side.
// Had the archive exported FFmpeg's symbols, the program's av*/avcodec_* calls would bind to
// codecprep's minimal build (no MPEG-4 decoder, configured with --disable-everything) and
// the system library's internal calls could too.
//
//   test_static_link VIDEO
extern "C" {
#include <libavcodec/avcodec.h>
}

#include <cstdio>
#include <cstring>
#include <memory>

#include "codecprep.h"

namespace {

int failures = 0;

void check(bool ok, const char *what)
{
    if (!ok) {
        std::fprintf(stderr, "check failed: %s\n", what);
        ++failures;
    }
}

int count_frame(const CodecPrepMapView *view, void *user_data)
{
    auto *frames = static_cast<long long *>(user_data);
    *frames += view->rows > 0 ? 1 : 0;
    return 0;
}

}  // namespace

int main(int argc, char **argv)
{
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s VIDEO\n", argv[0]);
        return 2;
    }

    // The system FFmpeg: its full configuration, its decoders, its version.
    check(avcodec_version() == LIBAVCODEC_VERSION_INT, "avcodec_version() is the system's");
    check(std::strstr(avcodec_configuration(), "--disable-everything") == nullptr,
          "avcodec_configuration() is the system's, not codecprep's minimal build");
    const AVCodec *mpeg4 = avcodec_find_decoder(AV_CODEC_ID_MPEG4);
    check(mpeg4 != nullptr, "the system FFmpeg has its MPEG-4 decoder");
    AVCodecContext *context = avcodec_alloc_context3(mpeg4);
    check(context != nullptr && avcodec_open2(context, mpeg4, nullptr) == 0,
          "the system MPEG-4 decoder opens");
    avcodec_free_context(&context);

    // codecprep's own FFmpeg, in the same process.
    std::unique_ptr<CodecPrepReader, decltype(&codecprep_reader_free)> reader(
        nullptr, codecprep_reader_free);
    CodecPrepReader *raw = nullptr;
    check(codecprep_reader_open(argv[1], nullptr, &raw) == CODECPREP_STATUS_OK, "reader opens");
    reader.reset(raw);
    long long frames = 0;
    check(reader && codecprep_reader_scan(reader.get(), 0, count_frame, &frames) ==
                        CODECPREP_STATUS_OK,
          "scan succeeds");
    check(frames > 0, "frames have maps");
    std::printf("system libavcodec %u.%u.%u and libcodecprep %s: %lld frames scanned\n",
                LIBAVCODEC_VERSION_MAJOR, LIBAVCODEC_VERSION_MINOR, LIBAVCODEC_VERSION_MICRO,
                codecprep_version(), frames);
    if (failures) {
        std::fprintf(stderr, "test_static_link: %d check(s) failed\n", failures);
        return 1;
    }
    std::printf("test_static_link: ok\n");
    return 0;
}
