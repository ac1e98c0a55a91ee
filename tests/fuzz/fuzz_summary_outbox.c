/* agg_summary_from_outbox (lib/summary.c): the outbox entry (JSON whose numbers are
 * strings) the close and amendment scripts write, turned into a protobuf Summary.
 *
 * Promises checked: on success id and quarter are non-empty, NUL-terminated and within
 * their bounds, and the bytes are a Summary that agg_summary_to_json reads back with
 * the same id and revision; on failure nothing is returned and a reason is written. */
#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "agg/summary.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *out = (uint8_t *)"";
    char id[AGG_SUMMARY_ID_MAX + 1], quarter[16], err[256];
    err[0] = '\0';
    long n = agg_summary_from_outbox((const char *)data, size, &out, id, quarter, err,
                                     sizeof err);
    if (n < 0) {
        FUZZ_CHECK(n == -1 && out == NULL);
        FUZZ_CHECK(err[0] != '\0' && fuzz_terminated(err, sizeof err));
        return 0;
    }
    FUZZ_CHECK(out != NULL);
    FUZZ_CHECK(fuzz_terminated(id, sizeof id) && id[0] != '\0');
    FUZZ_CHECK(fuzz_terminated(quarter, sizeof quarter) && quarter[0] != '\0');

    char id2[AGG_SUMMARY_ID_MAX + 1], scope[AGG_SUMMARY_ID_MAX + 1];
    uint32_t revision = 0;
    char *text = agg_summary_to_json(out, (size_t)n, id2, scope, &revision, err, sizeof err);
    FUZZ_CHECK(text != NULL);
    FUZZ_CHECK(strcmp(id, id2) == 0 && revision >= 1);

    /* The JSON line is what agg-summaries --json prints: it must parse, and name the
     * same summary. */
    json_error_t jerr;
    json_t *o = json_loads(text, 0, &jerr);
    FUZZ_CHECK(json_is_object(o));
    FUZZ_CHECK(json_is_string(json_object_get(o, "id")) &&
               strcmp(json_string_value(json_object_get(o, "id")), id) == 0);
    FUZZ_CHECK(json_is_string(json_object_get(o, "quarter")) &&
               strcmp(json_string_value(json_object_get(o, "quarter")), quarter) == 0);
    FUZZ_CHECK(json_integer_value(json_object_get(o, "revision")) == (json_int_t)revision);
    json_decref(o);
    free(text);
    free(out);
    return 0;
}
