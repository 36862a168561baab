/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every function of libcodecprep called with NULL and bad arguments: the documented status,
 * out-pointers set to NULL, a last-error message naming the function, never a crash.
 *
 *   test_null_args VIDEO SCRATCH_DIR      (VIDEO: a good H.264 clip)
 */
#include <stdint.h>

#include "check.h"

/* The last error names the function that failed. */
static void check_names(const char *function)
{
    const char *message = last_error();
    if (strncmp(message, function, strlen(function)) != 0) {
        fprintf(stderr, "last error does not start with %s: %s\n", function, message);
        check_failures++;
    }
}

static int count_frames(const CodecPrepMapView *view, void *user_data)
{
    (void)view;
    (*(int *)user_data)++;
    return 0;
}

static void version_and_messages(void)
{
    CHECK(codecprep_last_error(NULL, 0) == 0); /* nothing failed on this thread yet */
    CHECK(strcmp(codecprep_version(), CODECPREP_VERSION_STRING) == 0);
    CHECK(strcmp(codecprep_status_str(CODECPREP_STATUS_OK), "success") == 0);
    CHECK(strcmp(codecprep_status_str(-1), "unknown status") == 0);
    CHECK(strcmp(codecprep_status_str(100000), "unknown status") == 0);
    for (int s = 0; s <= CODECPREP_STATUS_INTERNAL; s++)
        CHECK(strcmp(codecprep_status_str(s), "unknown status") != 0);

    CHECK_STATUS(codecprep_reader_options_default(NULL), CODECPREP_STATUS_NULL_ARGUMENT);
    check_names("codecprep_reader_options_default");
    size_t needed = codecprep_last_error(NULL, 0);
    CHECK(needed == strlen("codecprep_reader_options_default: options is NULL") + 1);
    char small[8];
    memset(small, 'x', sizeof small);
    CHECK(codecprep_last_error(small, sizeof small) == needed);
    CHECK(strcmp(small, "codecpr") == 0);
    CHECK(codecprep_last_error(NULL, 5) == needed); /* NULL buffer: size only */
}

static void reader_arguments(const char *video)
{
    CodecPrepReader *reader = (CodecPrepReader *)&reader;
    CHECK_STATUS(codecprep_reader_open(NULL, NULL, &reader), CODECPREP_STATUS_NULL_ARGUMENT);
    CHECK(reader == NULL);
    check_names("codecprep_reader_open");
    CHECK_STATUS(codecprep_reader_open(video, NULL, NULL), CODECPREP_STATUS_NULL_ARGUMENT);

    CodecPrepReaderOptions options;
    CHECK_OK(codecprep_reader_options_default(&options));
    CHECK(options.struct_size == sizeof options && options.threads == 1 && options.deblock == 0);
    CodecPrepReaderOptions bad = options;
    bad.struct_size = 0;
    CHECK_STATUS(codecprep_reader_open(video, &bad, &reader), CODECPREP_STATUS_INVALID_ARGUMENT);
    CHECK(reader == NULL);
    bad = options;
    bad.measure = 9;
    CHECK_STATUS(codecprep_reader_open(video, &bad, &reader), CODECPREP_STATUS_INVALID_ARGUMENT);
    bad = options;
    bad.thread_type = 7;
    CHECK_STATUS(codecprep_reader_open(video, &bad, &reader), CODECPREP_STATUS_INVALID_ARGUMENT);
    /* A larger struct from a newer header: accepted when the unknown tail is zero. */
    struct {
        CodecPrepReaderOptions options;
        uint64_t newer_field;
    } newer = {options, 0};
    newer.options.struct_size = sizeof newer;
    CHECK_OK(codecprep_reader_open(video, &newer.options, &reader));
    codecprep_reader_free(reader);
    newer.newer_field = 1;
    CHECK_STATUS(codecprep_reader_open(video, &newer.options, &reader),
                 CODECPREP_STATUS_INVALID_ARGUMENT);
    CHECK(reader == NULL);

    CHECK_OK(codecprep_reader_open(video, &options, &reader));
    const CodecPrepVideoInfo *info = (const CodecPrepVideoInfo *)&info;
    CHECK_STATUS(codecprep_reader_info(NULL, &info), CODECPREP_STATUS_NULL_ARGUMENT);
    CHECK(info == NULL);
    CHECK_STATUS(codecprep_reader_info(reader, NULL), CODECPREP_STATUS_NULL_ARGUMENT);
    CHECK_OK(codecprep_reader_info(reader, &info));
    CHECK(info != NULL && info->codec == CODECPREP_CODEC_H264 && info->frame_count > 0);
    CHECK(info != NULL && strcmp(info->codec_name, "h264") == 0);

    size_t count = 99;
    int64_t keyframes[64];
    CHECK_STATUS(codecprep_reader_keyframes(NULL, keyframes, 64, &count),
                 CODECPREP_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(codecprep_reader_keyframes(reader, keyframes, 64, NULL),
                 CODECPREP_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(codecprep_reader_keyframes(reader, NULL, 0, &count),
                 CODECPREP_STATUS_BUFFER_TOO_SMALL);
    CHECK(count > 0 && info != NULL && (int64_t)count == info->keyframe_count);
    check_names("codecprep_reader_keyframes");
    CHECK_STATUS(codecprep_reader_keyframes(reader, NULL, 64, &count),
                 CODECPREP_STATUS_NULL_ARGUMENT);
    CHECK_OK(codecprep_reader_keyframes(reader, keyframes, 64, &count));
    CHECK(keyframes[0] == 0);
    /* A misaligned out-pointer is refused, not written. */
    _Alignas(8) unsigned char raw[16];
    CHECK_STATUS(codecprep_reader_keyframes(reader, keyframes, 64, (size_t *)(void *)(raw + 1)),
                 CODECPREP_STATUS_INVALID_ARGUMENT);

    int frames = 0;
    CHECK_STATUS(codecprep_reader_scan(NULL, 0, count_frames, &frames),
                 CODECPREP_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(codecprep_reader_scan(reader, 0, NULL, &frames), CODECPREP_STATUS_NULL_ARGUMENT);
    check_names("codecprep_reader_scan");
    CHECK(frames == 0);
    CHECK_OK(codecprep_reader_scan(reader, 0, count_frames, &frames));
    CHECK(info != NULL && frames == info->frame_count);
    CHECK_STATUS(codecprep_reader_scan_unordered(NULL, 2, count_frames, &frames),
                 CODECPREP_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(codecprep_reader_scan_unordered(reader, 2, NULL, &frames),
                 CODECPREP_STATUS_NULL_ARGUMENT);
    check_names("codecprep_reader_scan_unordered");

    codecprep_reader_free(reader);
    codecprep_reader_free(NULL);
}

static void frames_arguments(const char *video)
{
    CodecPrepReader *reader = NULL;
    CHECK_OK(codecprep_reader_open(video, NULL, &reader));
    int64_t ids[] = {3, 1};
    CodecPrepFrames *frames = (CodecPrepFrames *)&frames;
    CHECK_STATUS(codecprep_reader_read_frames(NULL, ids, 2, 0, 0, 0, &frames),
                 CODECPREP_STATUS_NULL_ARGUMENT);
    CHECK(frames == NULL);
    CHECK_STATUS(codecprep_reader_read_frames(reader, ids, 2, 0, 0, 0, NULL),
                 CODECPREP_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(codecprep_reader_read_frames(reader, NULL, 2, 0, 0, 0, &frames),
                 CODECPREP_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(codecprep_reader_read_frames(reader, ids, 2, 3, 0, 0, &frames),
                 CODECPREP_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(codecprep_reader_read_frames(reader, ids, 2, 0x100, 0, 0, &frames),
                 CODECPREP_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(codecprep_reader_read_frames(reader, ids, 2, CODECPREP_WANT_PIXELS_BGR,
                                              100000, 10, &frames),
                 CODECPREP_STATUS_INVALID_ARGUMENT);
    int64_t negative[] = {0, -1};
    CHECK_STATUS(codecprep_reader_read_frames(reader, negative, 2, 0, 0, 0, &frames),
                 CODECPREP_STATUS_OUT_OF_RANGE);
    int64_t past[] = {100000};
    CHECK_STATUS(codecprep_reader_read_frames(reader, past, 1, 0, 0, 0, &frames),
                 CODECPREP_STATUS_OUT_OF_RANGE);
    CHECK(strstr(last_error(), video) != NULL && strstr(last_error(), "100000") != NULL);
    CHECK(frames == NULL);

    /* No ids: an empty result. */
    size_t count = 99;
    CHECK_OK(codecprep_reader_read_frames(reader, NULL, 0, 0, 0, 0, &frames));
    CHECK_OK(codecprep_frames_count(frames, &count));
    CHECK(count == 0);
    codecprep_frames_free(frames);

    /* Maps only: pixels are refused, indices checked. */
    CHECK_OK(codecprep_reader_read_frames(reader, ids, 2, 0, 0, 0, &frames));
    CHECK_STATUS(codecprep_frames_count(NULL, &count), CODECPREP_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(codecprep_frames_count(frames, NULL), CODECPREP_STATUS_NULL_ARGUMENT);
    CHECK_OK(codecprep_frames_count(frames, &count));
    CHECK(count == 2);
    const CodecPrepMapView *view = (const CodecPrepMapView *)&view;
    CHECK_STATUS(codecprep_frames_map(NULL, 0, &view), CODECPREP_STATUS_NULL_ARGUMENT);
    CHECK(view == NULL);
    CHECK_STATUS(codecprep_frames_map(frames, 0, NULL), CODECPREP_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(codecprep_frames_map(frames, 2, &view), CODECPREP_STATUS_OUT_OF_RANGE);
    CHECK_OK(codecprep_frames_map(frames, 0, &view));
    CHECK(view != NULL && view->frame_index == 3 && view->cells != NULL);
    const CodecPrepPixels *pixels = (const CodecPrepPixels *)&pixels;
    CHECK_STATUS(codecprep_frames_pixels(frames, 0, &pixels), CODECPREP_STATUS_INVALID_ARGUMENT);
    CHECK(pixels == NULL);
    CHECK_STATUS(codecprep_frames_pixels(NULL, 0, &pixels), CODECPREP_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(codecprep_frames_pixels(frames, 0, NULL), CODECPREP_STATUS_NULL_ARGUMENT);

    /* Map copies. */
    CodecPrepMap *map = (CodecPrepMap *)&map;
    CHECK_STATUS(codecprep_map_copy(NULL, &map), CODECPREP_STATUS_NULL_ARGUMENT);
    CHECK(map == NULL);
    CHECK_STATUS(codecprep_map_copy(view, NULL), CODECPREP_STATUS_NULL_ARGUMENT);
    CodecPrepMapView odd = *view;
    odd.codec = 42;
    CHECK_STATUS(codecprep_map_copy(&odd, &map), CODECPREP_STATUS_INVALID_ARGUMENT);
    odd = *view;
    odd.cells = NULL;
    CHECK_STATUS(codecprep_map_copy(&odd, &map), CODECPREP_STATUS_NULL_ARGUMENT);
    odd = *view;
    odd.cells_stride = 1;
    CHECK_STATUS(codecprep_map_copy(&odd, &map), CODECPREP_STATUS_INVALID_ARGUMENT);
    CHECK_OK(codecprep_map_copy(view, &map));
    const CodecPrepMapView *copy = NULL;
    CHECK_STATUS(codecprep_map_view(NULL, &copy), CODECPREP_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(codecprep_map_view(map, NULL), CODECPREP_STATUS_NULL_ARGUMENT);
    CHECK_OK(codecprep_map_view(map, &copy));
    codecprep_frames_free(frames); /* the copy outlives the frames */
    CHECK(copy != NULL && copy->frame_index == 3 && copy->cells != NULL);
    codecprep_map_free(map);
    codecprep_map_free(NULL);
    codecprep_frames_free(NULL);

    /* Pixels into the caller's buffer. */
    size_t frame_bytes = 0;
    CHECK_STATUS(codecprep_reader_frame_bytes(NULL, 0, 0, &frame_bytes),
                 CODECPREP_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(codecprep_reader_frame_bytes(reader, 0, 0, NULL), CODECPREP_STATUS_NULL_ARGUMENT);
    CHECK_OK(codecprep_reader_frame_bytes(reader, 32, 16, &frame_bytes));
    CHECK(frame_bytes == 32 * 16 * 3);
    uint8_t buffer[2 * 32 * 16 * 3];
    CHECK_STATUS(codecprep_reader_read_frames_into(reader, ids, 2, 0, 32, 16, buffer,
                                                   sizeof buffer, NULL),
                 CODECPREP_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(codecprep_reader_read_frames_into(reader, ids, 2, CODECPREP_WANT_PIXELS_RGB, 32,
                                                   16, buffer, sizeof buffer - 1, NULL),
                 CODECPREP_STATUS_BUFFER_TOO_SMALL);
    CHECK(strstr(last_error(), "3072") != NULL); /* states the size needed */
    CHECK_STATUS(codecprep_reader_read_frames_into(reader, ids, 2, CODECPREP_WANT_PIXELS_RGB, 32,
                                                   16, NULL, sizeof buffer, NULL),
                 CODECPREP_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(codecprep_reader_read_frames_into(NULL, ids, 2, CODECPREP_WANT_PIXELS_RGB, 32,
                                                   16, buffer, sizeof buffer, &frames),
                 CODECPREP_STATUS_NULL_ARGUMENT);
    CHECK(frames == NULL);
    CHECK_OK(codecprep_reader_read_frames_into(reader, ids, 2, CODECPREP_WANT_PIXELS_RGB, 32, 16,
                                               buffer, sizeof buffer, &frames));
    CHECK_OK(codecprep_frames_count(frames, &count));
    CHECK(count == 2);
    CHECK_STATUS(codecprep_frames_pixels(frames, 1, &pixels), CODECPREP_STATUS_INVALID_ARGUMENT);
    codecprep_frames_free(frames);
    codecprep_reader_free(reader);
}

static void preinfer_arguments(const char *video, const char *scratch)
{
    char out_dir[4096];
    snprintf(out_dir, sizeof out_dir, "%s/null-args-out", scratch);
    CodecPrepPreinferConfig config;
    CHECK_STATUS(codecprep_preinfer_config_default(NULL), CODECPREP_STATUS_NULL_ARGUMENT);
    CHECK_OK(codecprep_preinfer_config_default(&config));
    CHECK(config.struct_size == sizeof config && config.video == NULL);
    CHECK(strcmp(config.canvas_format, "jpg") == 0 && config.num_sampled_frames == 1024);

    CodecPrepPreinferResult *result = (CodecPrepPreinferResult *)&result;
    CHECK_STATUS(codecprep_preinfer_run(NULL, NULL, NULL, &result), CODECPREP_STATUS_NULL_ARGUMENT);
    CHECK(result == NULL);
    CHECK_STATUS(codecprep_preinfer_run(&config, NULL, NULL, NULL), CODECPREP_STATUS_NULL_ARGUMENT);
    /* No video set: the config is refused, naming the setting. */
    CHECK_STATUS(codecprep_preinfer_run(&config, NULL, NULL, &result),
                 CODECPREP_STATUS_INVALID_ARGUMENT);
    CHECK(strstr(last_error(), "video") != NULL);
    config.video = video;
    config.out_dir = out_dir;
    CodecPrepPreinferConfig bad = config;
    bad.struct_size = 3;
    CHECK_STATUS(codecprep_preinfer_run(&bad, NULL, NULL, &result),
                 CODECPREP_STATUS_INVALID_ARGUMENT);
    bad = config;
    bad.grouping_mode = "bogus";
    CHECK_STATUS(codecprep_preinfer_run(&bad, NULL, NULL, &result),
                 CODECPREP_STATUS_INVALID_ARGUMENT);
    CHECK(strstr(last_error(), "grouping_mode") != NULL);
    bad = config;
    bad.extra_json = "[1, 2";
    CHECK_STATUS(codecprep_preinfer_run(&bad, NULL, NULL, &result),
                 CODECPREP_STATUS_INVALID_ARGUMENT);
    bad = config;
    bad.images_per_group = 0;
    CHECK_STATUS(codecprep_preinfer_run(&bad, NULL, NULL, &result),
                 CODECPREP_STATUS_INVALID_ARGUMENT);
    CHECK(strstr(last_error(), "images_per_group") != NULL);
    CHECK(result == NULL);

    /* Result accessors. */
    const char *text = (const char *)&text;
    size_t count = 7;
    int64_t ids[4];
    int32_t positions[4];
    CHECK_STATUS(codecprep_preinfer_result_out_dir(NULL, &text), CODECPREP_STATUS_NULL_ARGUMENT);
    CHECK(text == NULL);
    CHECK_STATUS(codecprep_preinfer_result_meta_path(NULL, &text), CODECPREP_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(codecprep_preinfer_result_meta_json(NULL, &text), CODECPREP_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(codecprep_preinfer_result_timings_json(NULL, &text),
                 CODECPREP_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(codecprep_preinfer_result_canvas_count(NULL, &count),
                 CODECPREP_STATUS_NULL_ARGUMENT);
    CHECK(count == 0);
    CHECK_STATUS(codecprep_preinfer_result_canvas_path(NULL, 0, &text),
                 CODECPREP_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(codecprep_preinfer_result_frame_ids(NULL, ids, 4, &count),
                 CODECPREP_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(codecprep_preinfer_result_positions(NULL, positions, 4, &count),
                 CODECPREP_STATUS_NULL_ARGUMENT);
    codecprep_preinfer_result_free(NULL);

    /* A small real run, then every accessor's bad arguments. */
    config.grouping_mode = "fixed";
    config.group_size = 8;
    config.num_sampled_frames = 16;
    config.images_per_group = 1;
    config.canvas_format = "png";
    CHECK_OK(codecprep_preinfer_run(&config, NULL, NULL, &result));
    if (result == NULL)
        return;
    CHECK_STATUS(codecprep_preinfer_result_out_dir(result, NULL), CODECPREP_STATUS_NULL_ARGUMENT);
    CHECK_OK(codecprep_preinfer_result_out_dir(result, &text));
    CHECK(strcmp(text, out_dir) == 0);
    CHECK_OK(codecprep_preinfer_result_canvas_count(result, &count));
    CHECK(count == 2);
    CHECK_STATUS(codecprep_preinfer_result_canvas_path(result, 2, &text),
                 CODECPREP_STATUS_OUT_OF_RANGE);
    CHECK(text == NULL);
    CHECK_STATUS(codecprep_preinfer_result_canvas_path(result, 0, NULL),
                 CODECPREP_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(codecprep_preinfer_result_frame_ids(result, ids, 4, &count),
                 CODECPREP_STATUS_BUFFER_TOO_SMALL);
    CHECK(count == 16);
    CHECK_STATUS(codecprep_preinfer_result_frame_ids(result, ids, 4, NULL),
                 CODECPREP_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(codecprep_preinfer_result_positions(result, NULL, 0, &count),
                 CODECPREP_STATUS_BUFFER_TOO_SMALL);
    CHECK(count > 0 && count % 3 == 0);
    codecprep_preinfer_result_free(result);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s VIDEO SCRATCH_DIR\n", argv[0]);
        return 2;
    }
    version_and_messages();
    reader_arguments(argv[1]);
    frames_arguments(argv[1]);
    preinfer_arguments(argv[1], argv[2]);
    return check_report("test_null_args");
}
