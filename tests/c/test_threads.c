/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Handles from many threads at once: 8 threads each open their own reader on the same file,
 * scan it and read a few frames with pixels; every thread gets the results of a serial scan
 * on the main thread. Each thread's last error is its own. An unordered scan, whose callback
 * runs on the segment workers, gives every frame once with the serial scan's map.
 *
 *   test_threads VIDEO
 */
#include <pthread.h>
#include <stdint.h>

#include "check.h"

#define THREADS 8

/* What a scan saw: frame count and an FNV-1a hash over every map's facts and costs. */
typedef struct {
    int64_t frames;
    uint64_t hash;
    int64_t total_bits;
} Digest;

static void fnv(uint64_t *h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        *h ^= p[i];
        *h *= 0x100000001b3ULL;
    }
}

static int digest_frame(const CodecPrepMapView *view, void *user_data)
{
    Digest *d = user_data;
    d->frames++;
    d->total_bits += view->total_bits;
    fnv(&d->hash, &view->frame_index, sizeof view->frame_index);
    fnv(&d->hash, &view->pict_type, 1);
    for (uint32_t r = 0; r < view->rows; r++)
        fnv(&d->hash, view->cells + r * view->cells_stride, view->cols * sizeof(int32_t));
    for (uint32_t r = 0; r < view->sub_rows; r++)
        fnv(&d->hash, view->sub + r * view->sub_stride, view->sub_cols * sizeof(float));
    return 0;
}

/* Per-frame hashes of a scan, by frame index; `delivered` counts callback calls. */
typedef struct {
    pthread_mutex_t lock;
    int64_t capacity;
    int64_t delivered;
    int64_t out_of_range;
    uint64_t *hashes;
} Slots;

static uint64_t frame_hash(const CodecPrepMapView *view)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    fnv(&h, &view->pict_type, 1);
    for (uint32_t r = 0; r < view->rows; r++)
        fnv(&h, view->cells + r * view->cells_stride, view->cols * sizeof(int32_t));
    for (uint32_t r = 0; r < view->sub_rows; r++)
        fnv(&h, view->sub + r * view->sub_stride, view->sub_cols * sizeof(float));
    return h;
}

/* Safe to call from several threads at once: each frame has its own slot, and the counters
 * are behind the lock. */
static int slot_frame(const CodecPrepMapView *view, void *user_data)
{
    Slots *slots = user_data;
    uint64_t h = frame_hash(view);
    pthread_mutex_lock(&slots->lock);
    slots->delivered++;
    if (view->frame_index < 0 || view->frame_index >= slots->capacity)
        slots->out_of_range++;
    else
        slots->hashes[view->frame_index] = h;
    pthread_mutex_unlock(&slots->lock);
    return 0;
}

/* The serial scan's per-frame hashes against an unordered scan's with `segments` workers. */
static void check_unordered_scan(const char *video, int segments)
{
    CodecPrepReader *reader = NULL;
    CHECK_OK(codecprep_reader_open(video, NULL, &reader));
    const CodecPrepVideoInfo *info = NULL;
    CHECK_OK(codecprep_reader_info(reader, &info));
    int64_t frames = info->frame_count;
    CHECK(frames > 0);
    Slots serial = {PTHREAD_MUTEX_INITIALIZER, frames, 0, 0, calloc(frames, sizeof(uint64_t))};
    Slots unordered = {PTHREAD_MUTEX_INITIALIZER, frames, 0, 0, calloc(frames, sizeof(uint64_t))};
    CHECK(serial.hashes != NULL && unordered.hashes != NULL);
    CHECK_OK(codecprep_reader_scan(reader, 0, slot_frame, &serial));
    CHECK_OK(codecprep_reader_scan_unordered(reader, segments, slot_frame, &unordered));
    codecprep_reader_free(reader);
    CHECK(serial.delivered == frames && serial.out_of_range == 0);
    CHECK(unordered.delivered == frames && unordered.out_of_range == 0);
    for (int64_t i = 0; i < frames; i++)
        CHECK(unordered.hashes[i] == serial.hashes[i]);
    free(serial.hashes);
    free(unordered.hashes);
}

typedef struct {
    const char *video;
    int index;
    Digest digest;
    uint64_t pixel_hash;
    int failures;
} Job;

static const int64_t IDS[] = {5, 0, 17};

static uint64_t hash_pixels(CodecPrepReader *reader, int *failures)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    CodecPrepFrames *frames = NULL;
    if (codecprep_reader_read_frames(reader, IDS, 3, CODECPREP_WANT_PIXELS_BGR, 64, 48, &frames)
        != CODECPREP_STATUS_OK) {
        (*failures)++;
        return 0;
    }
    for (size_t i = 0; i < 3; i++) {
        const CodecPrepPixels *pixels = NULL;
        if (codecprep_frames_pixels(frames, i, &pixels) != CODECPREP_STATUS_OK) {
            (*failures)++;
            continue;
        }
        for (uint32_t y = 0; y < pixels->height; y++)
            fnv(&h, pixels->data + y * pixels->stride, (size_t)pixels->width * 3);
    }
    codecprep_frames_free(frames);
    return h;
}

static void *worker(void *arg)
{
    Job *job = arg;
    /* A failure of this thread's own: its message must not leak to other threads. */
    char missing[64];
    snprintf(missing, sizeof missing, "/nonexistent/thread-%d.mp4", job->index);
    CodecPrepReader *reader = NULL;
    if (codecprep_reader_open(missing, NULL, &reader) != CODECPREP_STATUS_NOT_FOUND)
        job->failures++;

    job->digest.hash = 0xcbf29ce484222325ULL;
    if (codecprep_reader_open(job->video, NULL, &reader) != CODECPREP_STATUS_OK) {
        job->failures++;
        return NULL;
    }
    if (codecprep_reader_scan(reader, 0, digest_frame, &job->digest) != CODECPREP_STATUS_OK)
        job->failures++;
    job->pixel_hash = hash_pixels(reader, &job->failures);
    codecprep_reader_free(reader);

    char message[256];
    codecprep_last_error(message, sizeof message);
    if (strstr(message, missing) == NULL)
        job->failures++;
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s VIDEO\n", argv[0]);
        return 2;
    }
    const char *video = argv[1];

    /* Serial reference on the main thread, and a segment-parallel scan: the same maps. */
    Digest serial = {0, 0xcbf29ce484222325ULL, 0};
    Digest segmented = serial;
    CodecPrepReader *reader = NULL;
    CHECK_OK(codecprep_reader_open(video, NULL, &reader));
    CHECK_OK(codecprep_reader_scan(reader, 0, digest_frame, &serial));
    CHECK_OK(codecprep_reader_scan(reader, 2, digest_frame, &segmented));
    int failures = 0;
    uint64_t pixel_hash = hash_pixels(reader, &failures);
    CHECK(failures == 0);
    codecprep_reader_free(reader);
    CHECK(serial.frames > 0);
    CHECK(segmented.frames == serial.frames && segmented.hash == serial.hash);
    check_unordered_scan(video, 1);
    check_unordered_scan(video, 3);

    Job jobs[THREADS];
    pthread_t threads[THREADS];
    for (int i = 0; i < THREADS; i++) {
        jobs[i] = (Job){.video = video, .index = i};
        CHECK(pthread_create(&threads[i], NULL, worker, &jobs[i]) == 0);
    }
    for (int i = 0; i < THREADS; i++) {
        CHECK(pthread_join(threads[i], NULL) == 0);
        CHECK(jobs[i].failures == 0);
        CHECK(jobs[i].digest.frames == serial.frames);
        CHECK(jobs[i].digest.hash == serial.hash);
        CHECK(jobs[i].digest.total_bits == serial.total_bits);
        CHECK(jobs[i].pixel_hash == pixel_hash);
    }
    /* The threads' failures did not touch the main thread's message. */
    CHECK(codecprep_last_error(NULL, 0) == 0);
    printf("%d threads: %lld frames each, hash %016llx\n", THREADS, (long long)serial.frames,
           (unsigned long long)serial.hash);
    return check_report("test_threads");
}
