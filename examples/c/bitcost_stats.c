/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * bitcost_stats: per-frame bit-cost statistics of a video through libcodecprep, and the heat
 * map of the frame that cost the most bits as a PGM image.
 *
 *   bitcost_stats VIDEO [HOTTEST.pgm]
 *
 * Prints one line per frame (display order):
 *   frame INDEX TYPE total_bits N data_bits N segments N max_block N mean_block X hot ROW,COL
 * where max_block is the costliest block's bits, mean_block the mean over the block grid and
 * ROW,COL the costliest block's position. The PGM shows the 4x4-pixel sub-grid of the hottest
 * frame, scaled so that its costliest cell is white.
 *
 * Build: cc -std=c11 bitcost_stats.c $(pkg-config --cflags --libs codecprep)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <codecprep.h>

typedef struct {
    int64_t frames;
    int64_t hottest_bits;
    CodecPrepMap *hottest; /* owned copy of the costliest frame's map */
    CodecPrepStatus copy_status;
} Stats;

/* Called by codecprep_reader_scan for every frame; `view` is valid only during the call. */
static int on_frame(const CodecPrepMapView *view, void *user_data)
{
    Stats *stats = user_data;
    int32_t max_block = INT32_MIN;
    uint32_t hot_row = 0, hot_col = 0;
    int64_t sum = 0;
    for (uint32_t r = 0; r < view->rows; r++) {
        const int32_t *row = view->cells + r * view->cells_stride;
        for (uint32_t c = 0; c < view->cols; c++) {
            sum += row[c];
            if (row[c] > max_block) {
                max_block = row[c];
                hot_row = r;
                hot_col = c;
            }
        }
    }
    double blocks = (double)view->rows * view->cols;
    printf("frame %lld %c total_bits %lld data_bits %u segments %u max_block %d mean_block %.3f "
           "hot %u,%u\n",
           (long long)view->frame_index, view->pict_type, (long long)view->total_bits,
           view->data_bits, view->segments, max_block, blocks > 0 ? (double)sum / blocks : 0.0,
           hot_row, hot_col);

    if (stats->hottest == NULL || view->total_bits > stats->hottest_bits) {
        /* Keep a copy: the view's arrays are gone once this callback returns. */
        CodecPrepMap *copy = NULL;
        stats->copy_status = codecprep_map_copy(view, &copy);
        if (stats->copy_status != CODECPREP_STATUS_OK)
            return 1; /* stop the scan */
        codecprep_map_free(stats->hottest);
        stats->hottest = copy;
        stats->hottest_bits = view->total_bits;
    }
    stats->frames++;
    return 0;
}

static int write_pgm(const CodecPrepMapView *map, const char *path)
{
    FILE *out = fopen(path, "wb");
    if (out == NULL) {
        perror(path);
        return 1;
    }
    float max = 0.0f;
    for (uint32_t r = 0; r < map->sub_rows; r++)
        for (uint32_t c = 0; c < map->sub_cols; c++)
            if (map->sub[r * map->sub_stride + c] > max)
                max = map->sub[r * map->sub_stride + c];
    fprintf(out, "P5\n%u %u\n255\n", map->sub_cols, map->sub_rows);
    for (uint32_t r = 0; r < map->sub_rows; r++) {
        for (uint32_t c = 0; c < map->sub_cols; c++) {
            float v = map->sub[r * map->sub_stride + c];
            int grey = max > 0.0f && v > 0.0f ? (int)(255.0f * v / max + 0.5f) : 0;
            fputc(grey, out);
        }
    }
    return fclose(out) == 0 ? 0 : 1;
}

static int fail(const char *what, CodecPrepStatus status)
{
    char message[1024];
    codecprep_last_error(message, sizeof message);
    fprintf(stderr, "bitcost_stats: %s failed (%s): %s\n", what,
            codecprep_status_str((int)status), message);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s VIDEO [HOTTEST.pgm]\n", argv[0]);
        return 2;
    }
    CodecPrepReader *reader = NULL;
    CodecPrepStatus status = codecprep_reader_open(argv[1], NULL, &reader);
    if (status != CODECPREP_STATUS_OK)
        return fail("opening the video", status);

    const CodecPrepVideoInfo *info = NULL;
    status = codecprep_reader_info(reader, &info);
    if (status != CODECPREP_STATUS_OK) {
        codecprep_reader_free(reader);
        return fail("probing", status);
    }
    printf("video %s codec %s size %ux%u fps %.3f frames %lld keyframes %lld\n", argv[1],
           info->codec_name, info->width, info->height, info->fps, (long long)info->frame_count,
           (long long)info->keyframe_count);

    Stats stats = {0, 0, NULL, CODECPREP_STATUS_OK};
    status = codecprep_reader_scan(reader, 0, on_frame, &stats);
    codecprep_reader_free(reader);
    int rc = 0;
    if (status != CODECPREP_STATUS_OK)
        rc = fail("scanning", status);
    else if (stats.copy_status != CODECPREP_STATUS_OK)
        rc = fail("copying a map", stats.copy_status);

    if (rc == 0 && stats.hottest != NULL) {
        const CodecPrepMapView *hot = NULL;
        codecprep_map_view(stats.hottest, &hot);
        printf("hottest frame %lld total_bits %lld grid %s %ux%u sub %ux%u\n",
               (long long)hot->frame_index, (long long)hot->total_bits, hot->grid_kind, hot->rows,
               hot->cols, hot->sub_rows, hot->sub_cols);
        if (argc == 3) {
            rc = write_pgm(hot, argv[2]);
            if (rc == 0)
                printf("heat map written to %s\n", argv[2]);
        }
    }
    codecprep_map_free(stats.hottest);
    return rc;
}
