/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Bad files through the C API: every one gives an error status (the one expected) and a
 * last-error message naming the file, from codecprep_reader_open and from
 * codecprep_preinfer_run (which must leave no output directory); nothing aborts.
 *
 *   test_bad_inputs SCRATCH_DIR STATUS=FILE...
 *
 * STATUS is a status name without its prefix (NOT_FOUND, NOT_MEDIA, NO_VIDEO,
 * UNSUPPORTED_CODEC, ...).
 */
#include <sys/stat.h>

#include "check.h"

static const struct {
    const char *name;
    CodecPrepStatus status;
} STATUSES[] = {
    {"NOT_FOUND", CODECPREP_STATUS_NOT_FOUND},
    {"NOT_MEDIA", CODECPREP_STATUS_NOT_MEDIA},
    {"NO_VIDEO", CODECPREP_STATUS_NO_VIDEO},
    {"UNSUPPORTED_CODEC", CODECPREP_STATUS_UNSUPPORTED_CODEC},
    {"DECODE", CODECPREP_STATUS_DECODE},
    {"IO", CODECPREP_STATUS_IO},
};

static int status_named(const char *name, size_t len, CodecPrepStatus *out)
{
    for (size_t i = 0; i < sizeof STATUSES / sizeof STATUSES[0]; i++) {
        if (strlen(STATUSES[i].name) == len && strncmp(STATUSES[i].name, name, len) == 0) {
            *out = STATUSES[i].status;
            return 1;
        }
    }
    return 0;
}

static void check_message_names(const char *file, const char *what)
{
    const char *message = last_error();
    if (strstr(message, file) == NULL) {
        fprintf(stderr, "%s: message for %s does not name it: %s\n", what, file, message);
        check_failures++;
    }
}

static void check_open(const char *file, CodecPrepStatus want)
{
    CodecPrepReader *reader = (CodecPrepReader *)&reader; /* must be overwritten with NULL */
    CHECK_STATUS(codecprep_reader_open(file, NULL, &reader), want);
    CHECK(reader == NULL);
    check_message_names(file, "codecprep_reader_open");
    printf("open %s -> %s: %s\n", file, codecprep_status_str((int)want), last_error());
}

static void check_preinfer(const char *file, CodecPrepStatus want, const char *scratch)
{
    char out_dir[4096];
    snprintf(out_dir, sizeof out_dir, "%s/preinfer-out", scratch);
    CodecPrepPreinferConfig config;
    CHECK_OK(codecprep_preinfer_config_default(&config));
    config.video = file;
    config.out_dir = out_dir;
    CodecPrepPreinferResult *result = NULL;
    CHECK_STATUS(codecprep_preinfer_run(&config, NULL, NULL, &result), want);
    CHECK(result == NULL);
    check_message_names(file, "codecprep_preinfer_run");
    struct stat st;
    CHECK(stat(out_dir, &st) != 0); /* no output directory left behind */
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s SCRATCH_DIR STATUS=FILE...\n", argv[0]);
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        const char *eq = strchr(argv[i], '=');
        CodecPrepStatus want;
        if (eq == NULL || !status_named(argv[i], (size_t)(eq - argv[i]), &want)) {
            fprintf(stderr, "bad argument %s (expected STATUS=FILE)\n", argv[i]);
            return 2;
        }
        check_open(eq + 1, want);
        check_preinfer(eq + 1, want, argv[1]);
    }
    return check_report("test_bad_inputs");
}
