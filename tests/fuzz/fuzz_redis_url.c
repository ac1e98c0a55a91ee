/* AGG_REDIS_URL (agg_redis_url_parse, lib/config.c): redis://[user:pass@]host[:port][/db].
 *
 * Promises checked: on success the host is non-empty, the port in 1..65535, the db in
 * 0..15 and every string NUL-terminated in its array; on failure a reason is written.
 * The URL carries credentials, so the reason must never quote the password back: an
 * input whose password is a marker string must not see the marker in the error. */
#include <stdint.h>
#include <string.h>

#include "agg/config.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *url = fuzz_cstr(data, size);
    agg_redis_url_t u;
    char err[512];
    err[0] = '\0';
    int rc = agg_redis_url_parse(url, &u, err, sizeof err);
    if (rc == 0) {
        FUZZ_CHECK(fuzz_terminated(u.host, sizeof u.host) && u.host[0] != '\0');
        FUZZ_CHECK(fuzz_terminated(u.user, sizeof u.user));
        FUZZ_CHECK(fuzz_terminated(u.password, sizeof u.password));
        FUZZ_CHECK(u.port >= 1 && u.port <= 65535);
        FUZZ_CHECK(u.db >= 0 && u.db <= 15);
    } else {
        FUZZ_CHECK(rc == -1 && err[0] != '\0' && fuzz_terminated(err, sizeof err));
        /* Everything between the scheme and the last '@' before the path is a
         * credential; none of it may appear in the message. */
        const char *sep = strstr(url, "://");
        if (sep) {
            const char *auth = sep + 3;
            size_t alen = strcspn(auth, "/?#");
            const char *at = NULL;
            for (const char *p = auth; p < auth + alen; p++)
                if (*p == '@')
                    at = p;
            const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
            size_t plen = colon ? (size_t)(at - colon - 1) : 0;
            /* Short passwords match by chance ("a" is in every message), and text
             * that also stands outside the credentials (the scheme is quoted) may
             * be quoted for being there. */
            if (plen >= 12) {
                char *pw = fuzz_cstr((const uint8_t *)colon + 1, plen);
                const char *first = strstr(url, pw);
                if (first == colon + 1 && strstr(first + 1, pw) == NULL)
                    FUZZ_CHECK(strstr(err, pw) == NULL);
                free(pw);
            }
        }
    }
    free(url);
    return 0;
}
