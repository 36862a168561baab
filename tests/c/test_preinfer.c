/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The preinfer job through C: runs it with the settings given (the flags of
 * codec-video-prep, a subset), checks the result's accessors against the files, that
 * progress arrives on the calling thread in stage order, and that a callback returning
 * non-zero cancels the run without leaving outputs. capi/tests/c_api.rs compares the
 * directory with codec-video-prep's for the same settings.
 *
 *   test_preinfer --video V --out_dir D [--canvas_format png ...] [--cancel_at STAGE]
 */
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "check.h"

enum kind { TEXT, INT, REAL };

static const struct {
    const char *flag;
    enum kind kind;
    size_t offset;
} FLAGS[] = {
#define FIELD(name, kind) {"--" #name, kind, offsetof(CodecPrepPreinferConfig, name)}
    FIELD(video, TEXT),
    FIELD(out_dir, TEXT),
    FIELD(frame_sampling_mode, TEXT),
    FIELD(grouping_mode, TEXT),
    FIELD(canvas_format, TEXT),
    FIELD(bitcost_grid, TEXT),
    FIELD(readiness_sum_threshold_mode, TEXT),
    FIELD(compat, TEXT),
    FIELD(num_sampled_frames, INT),
    FIELD(group_size, INT),
    FIELD(images_per_group, INT),
    FIELD(patch, INT),
    FIELD(block_size, INT),
    FIELD(max_pixels, INT),
    FIELD(thread_count, INT),
    FIELD(sample_fps, REAL),
    FIELD(bitcost_pct, REAL),
#undef FIELD
};

static int apply_flag(CodecPrepPreinferConfig *config, const char *flag, const char *value)
{
    for (size_t i = 0; i < sizeof FLAGS / sizeof FLAGS[0]; i++) {
        if (strcmp(FLAGS[i].flag, flag) != 0)
            continue;
        char *field = (char *)config + FLAGS[i].offset;
        switch (FLAGS[i].kind) {
        case TEXT:
            memcpy(field, &value, sizeof value);
            break;
        case INT: {
            int64_t v = strtoll(value, NULL, 10);
            memcpy(field, &v, sizeof v);
            break;
        }
        case REAL: {
            double v = strtod(value, NULL);
            memcpy(field, &v, sizeof v);
            break;
        }
        }
        return 1;
    }
    return 0;
}

static const char *const STAGES[] = {"probe", "sample", "decode", "score",
                                     "group", "canvas", "write"};

typedef struct {
    pthread_t caller;
    const char *cancel_at;
    int last_stage; /* index in STAGES of the latest report */
    int reports;
    int wrong_thread;
    int out_of_order;
} Progress;

static int on_progress(const char *stage, size_t done, size_t total, void *user_data)
{
    Progress *p = user_data;
    p->reports++;
    if (!pthread_equal(pthread_self(), p->caller))
        p->wrong_thread++;
    int index = -1;
    for (int i = 0; i < (int)(sizeof STAGES / sizeof STAGES[0]); i++)
        if (strcmp(STAGES[i], stage) == 0)
            index = i;
    if (index < p->last_stage || done > total)
        p->out_of_order++;
    p->last_stage = index;
    return p->cancel_at != NULL && strcmp(stage, p->cancel_at) == 0;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static void check_result(const CodecPrepPreinferResult *result, const CodecPrepPreinferConfig *config)
{
    const char *text = NULL;
    CHECK_OK(codecprep_preinfer_result_out_dir(result, &text));
    CHECK(text != NULL && strcmp(text, config->out_dir) == 0);
    CHECK_OK(codecprep_preinfer_result_meta_path(result, &text));
    CHECK(text != NULL && exists(text));
    CHECK_OK(codecprep_preinfer_result_meta_json(result, &text));
    CHECK(text != NULL && text[0] == '{' && strstr(text, "\"canvas_files\"") != NULL);
    CHECK_OK(codecprep_preinfer_result_timings_json(result, &text));
    CHECK(text != NULL && text[0] == '{' && strstr(text, "\"total\"") != NULL);

    size_t canvases = 0;
    CHECK_OK(codecprep_preinfer_result_canvas_count(result, &canvases));
    CHECK(canvases > 0);
    for (size_t i = 0; i < canvases; i++) {
        CHECK_OK(codecprep_preinfer_result_canvas_path(result, i, &text));
        CHECK(text != NULL && exists(text));
    }

    size_t count = 0;
    CHECK_STATUS(codecprep_preinfer_result_frame_ids(result, NULL, 0, &count),
                 CODECPREP_STATUS_BUFFER_TOO_SMALL);
    int64_t *ids = calloc(count, sizeof *ids);
    CHECK_OK(codecprep_preinfer_result_frame_ids(result, ids, count, &count));
    for (size_t i = 1; i < count; i++)
        CHECK(ids[i] >= ids[i - 1]);
    size_t values = 0;
    CHECK_STATUS(codecprep_preinfer_result_positions(result, NULL, 0, &values),
                 CODECPREP_STATUS_BUFFER_TOO_SMALL);
    int32_t *positions = calloc(values, sizeof *positions);
    CHECK_OK(codecprep_preinfer_result_positions(result, positions, values, &values));
    CHECK(values > 0 && values % 3 == 0);
    /* Every position names a sampled frame (or -1 for padding). */
    for (size_t i = 0; i < values; i += 3) {
        int found = positions[i] == -1;
        for (size_t j = 0; j < count && !found; j++)
            found = ids[j] == positions[i];
        CHECK(found);
    }
    printf("preinfer: %zu canvases, %zu sampled frames, %zu patch positions\n", canvases, count,
           values / 3);
    free(ids);
    free(positions);
}

int main(int argc, char **argv)
{
    CodecPrepPreinferConfig config;
    CHECK_OK(codecprep_preinfer_config_default(&config));
    const char *cancel_at = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--cancel_at") == 0)
            cancel_at = argv[i + 1];
        else if (!apply_flag(&config, argv[i], argv[i + 1])) {
            fprintf(stderr, "unknown flag %s\n", argv[i]);
            return 2;
        }
    }
    if (argc % 2 != 1 || config.video == NULL || config.out_dir == NULL) {
        fprintf(stderr, "usage: %s --video V --out_dir D [--FLAG VALUE...] [--cancel_at STAGE]\n",
                argv[0]);
        return 2;
    }

    Progress progress = {.caller = pthread_self(), .last_stage = 0};
    CodecPrepPreinferResult *result = NULL;
    CHECK_OK(codecprep_preinfer_run(&config, on_progress, &progress, &result));
    CHECK(progress.reports >= 2 * 7 && progress.wrong_thread == 0 && progress.out_of_order == 0);
    CHECK(progress.last_stage == 6);
    if (result != NULL)
        check_result(result, &config);
    codecprep_preinfer_result_free(result);

    if (cancel_at != NULL) {
        char cancelled_dir[4096];
        snprintf(cancelled_dir, sizeof cancelled_dir, "%s-cancelled", config.out_dir);
        CodecPrepPreinferConfig again = config;
        again.out_dir = cancelled_dir;
        Progress cancel = {.caller = pthread_self(), .cancel_at = cancel_at, .last_stage = 0};
        result = (CodecPrepPreinferResult *)&result;
        CHECK_STATUS(codecprep_preinfer_run(&again, on_progress, &cancel, &result),
                     CODECPREP_STATUS_CANCELLED);
        CHECK(result == NULL);
        CHECK(!exists(cancelled_dir));
        CHECK(cancel.wrong_thread == 0);
        /* The run stopped right after the stage that cancelled it. */
        CHECK(strcmp(STAGES[cancel.last_stage], cancel_at) == 0);
        printf("cancelled at %s: %s\n", cancel_at, last_error());
    }
    return check_report("test_preinfer");
}
