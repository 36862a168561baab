/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Tiny assertion helpers shared by the C tests of libcodecprep (tests/c/test_*.c). */
#ifndef CODECPREP_TEST_CHECK_H
#define CODECPREP_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codecprep.h"

static int check_failures;

/* The calling thread's last error message (static buffer: one thread at a time). */
static inline const char *last_error(void)
{
    static char buf[1024];
    if (codecprep_last_error(buf, sizeof buf) == 0)
        return "(no message)";
    return buf;
}

#define CHECK(cond)                                                                 \
    do {                                                                            \
        if (!(cond)) {                                                              \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            check_failures++;                                                       \
        }                                                                           \
    } while (0)

/* Asserts that EXPR returns the status WANT; prints the last error otherwise. */
#define CHECK_STATUS(expr, want)                                                    \
    do {                                                                            \
        CodecPrepStatus got_ = (expr);                                              \
        if (got_ != (want)) {                                                       \
            fprintf(stderr, "%s:%d: %s returned %d (%s), expected %d (%s); last error: %s\n", \
                    __FILE__, __LINE__, #expr, (int)got_, codecprep_status_str((int)got_), \
                    (int)(want), codecprep_status_str((int)(want)), last_error());  \
            check_failures++;                                                       \
        }                                                                           \
    } while (0)

#define CHECK_OK(expr) CHECK_STATUS(expr, CODECPREP_STATUS_OK)

/* Ends main(): non-zero exit status when any check failed. */
static inline int check_report(const char *name)
{
    if (check_failures) {
        fprintf(stderr, "%s: %d check(s) failed\n", name, check_failures);
        return 1;
    }
    printf("%s: ok\n", name);
    return 0;
}

#endif
