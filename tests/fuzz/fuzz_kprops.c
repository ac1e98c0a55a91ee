/* The -F properties-file parser (lib/config.c) through agg_kprops_load_text, the
 * in-memory entry point that shares its reader with agg_kprops_load_file.
 *
 * Promises checked: an error names the file and a line ("NAME:LINE: ..."); every
 * stored key is non-empty, unique, NUL-terminated in its slot and without surrounding
 * blanks; the count never passes AGG_KPROPS_MAX. */
#include <stdint.h>
#include <string.h>

#include "agg/config.h"
#include "fuzz.h"

static agg_kprops_t props; /* 80 KiB: static, cleared per input */

static int is_blank(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    memset(&props, 0, sizeof props);
    char err[256];
    err[0] = '\0';
    int rc = agg_kprops_load_text(&props, (const char *)data, size, "fuzz.properties", err,
                                  sizeof err);
    FUZZ_CHECK(rc == 0 || rc == -1);
    if (rc != 0)
        FUZZ_CHECK(strncmp(err, "fuzz.properties:", 16) == 0 &&
                   fuzz_terminated(err, sizeof err));
    FUZZ_CHECK(props.count <= AGG_KPROPS_MAX);
    /* Keys and values reach librdkafka as C strings: the promises hold for what
     * strlen sees, not only for the bytes the parser stored. */
    for (size_t i = 0; i < props.count; i++) {
        FUZZ_CHECK(fuzz_terminated(props.key[i], sizeof props.key[i]));
        FUZZ_CHECK(fuzz_terminated(props.value[i], sizeof props.value[i]));
        size_t kl = strlen(props.key[i]);
        FUZZ_CHECK(kl > 0);
        FUZZ_CHECK(!is_blank(props.key[i][0]) && !is_blank(props.key[i][kl - 1]));
        for (size_t j = 0; j < i; j++)
            FUZZ_CHECK(strcmp(props.key[i], props.key[j]) != 0);
    }
    return 0;
}
