/* agg_summary_to_json (lib/summary.c): a Summary message read from the summaries
 * topic -- any bytes, as anyone who can write to the topic may send -- turned into one
 * JSON line for agg-summaries --json.
 *
 * Promises checked: on success the text is one line of valid JSON (a JSON object), and
 * the id, scope and revision copied out are NUL-terminated and bounded; on failure a
 * reason is written. */
#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "agg/summary.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char id[AGG_SUMMARY_ID_MAX + 1], scope[AGG_SUMMARY_ID_MAX + 1], err[256];
    uint32_t revision = 0;
    err[0] = '\0';
    char *text = agg_summary_to_json(data, size, id, scope, &revision, err, sizeof err);
    if (text == NULL) {
        FUZZ_CHECK(err[0] != '\0' && fuzz_terminated(err, sizeof err));
        return 0;
    }
    FUZZ_CHECK(fuzz_terminated(id, sizeof id) && fuzz_terminated(scope, sizeof scope));
    FUZZ_CHECK(strchr(text, '\n') == NULL);
    json_error_t jerr;
    json_t *o = json_loads(text, 0, &jerr);
    FUZZ_CHECK(json_is_object(o));
    FUZZ_CHECK(json_integer_value(json_object_get(o, "revision")) == (json_int_t)revision);
    /* Readers group by id and scope: both are always there, and the copies handed
     * out are their beginnings (cut at AGG_SUMMARY_ID_MAX bytes). */
    const char *jid = json_string_value(json_object_get(o, "id"));
    const char *jscope = json_string_value(json_object_get(o, "scope"));
    FUZZ_CHECK(jid != NULL && strncmp(jid, id, strlen(id)) == 0);
    FUZZ_CHECK(jscope != NULL && strncmp(jscope, scope, strlen(scope)) == 0);
    FUZZ_CHECK(json_is_string(json_object_get(o, "quarter")));
    json_decref(o);
    free(text);
    return 0;
}
