/* The quarters of a plan row (SPEC 11 plan CSV): "I-IV улирал" -> "1-4", "II,IV
 * улирал" -> "2,4", "I улирал" -> "1", "1-4 улиралд" -> "1-4"; every month, quarter or
 * year (Сар бүр, Улирал бүр, Жилд) -> "1-4"; a date range (start and end cells,
 * 2026.01.01 .. 2026.12.31) -> the quarters of its months. "Тухай бүр" (as needed) names
 * no quarter. */
#include "import.h"
#include "text.h"

#include <stdio.h>
#include <string.h>

/* "I-IV улирал" -> "1-4", "II,IV улирал" -> "2,4", "Сар бүр" -> "1-4", dates
 * 2026.01.01 .. 2026.12.31 -> "1-4". Returns false when the text names no quarters. */
bool imp_quarters_parse(const char *start, const char *end, char *out, size_t outsz) {
    char f[512];
    imp_text_fold(start, strlen(start), f, sizeof f, false);
    bool q[5] = {false};
    int nq = 0;
    /* "улира л" (a stray space, seed 000) is the same word */
    if (strstr(f, "сар бүр") || (strstr(f, "улира") && strstr(f, "бүр")) ||
        strstr(f, "жилд") || strstr(f, "жилийн турш")) {
        q[1] = q[2] = q[3] = q[4] = true;
        nq = 4;
    } else if (strstr(f, "улира")) {
        int prev = 0;
        bool range = false;
        for (const char *p = f; *p;) {
            int v = 0;
            size_t n = 0;
            if (*p == 'i' || *p == 'v') {
                while (p[n] == 'i' || p[n] == 'v')
                    n++;
                bool alone = (p == f || !((p[-1] >= 'a' && p[-1] <= 'z'))) &&
                             !(p[n] >= 'a' && p[n] <= 'z');
                if (alone) {
                    if (n == 1 && p[0] == 'i')
                        v = 1;
                    else if (n == 2 && p[0] == 'i' && p[1] == 'i')
                        v = 2;
                    else if (n == 3 && strncmp(p, "iii", 3) == 0)
                        v = 3;
                    else if (n == 2 && p[0] == 'i' && p[1] == 'v')
                        v = 4;
                }
            } else if (*p >= '1' && *p <= '4' && !(p[1] >= '0' && p[1] <= '9') &&
                       (p == f || !(p[-1] >= '0' && p[-1] <= '9'))) {
                v = *p - '0';
                n = 1;
            }
            if (v) {
                if (range && prev && prev < v)
                    for (int k = prev; k <= v; k++)
                        q[k] = true;
                q[v] = true;
                prev = v;
                range = false;
                p += n;
                continue;
            }
            if (*p == '-')
                range = true;
            else if (*p == ',' || *p == ' ')
                ; /* a list continues */
            else if ((unsigned char)*p >= 0x80)
                break; /* the word улирал ends the quarter list */
            p++;
        }
        for (int k = 1; k <= 4; k++)
            nq += q[k];
    }
    if (!nq) {
        /* a date range: the quarters of its months */
        int m1 = 0, m2 = 0;
        const char *texts[2] = {start, end};
        for (int t = 0; t < 2; t++) {
            const char *s = texts[t];
            for (const char *p = s; p && *p; p++) {
                if (p[0] == '2' && p[1] == '0' && p[2] >= '0' && p[2] <= '9' && p[3] >= '0' &&
                    p[3] <= '9' && (p[4] == '.' || p[4] == '-') && p[5] >= '0' && p[5] <= '1' &&
                    p[6] >= '0' && p[6] <= '9') {
                    int m = (p[5] - '0') * 10 + (p[6] - '0');
                    if (m >= 1 && m <= 12) {
                        if (!m1)
                            m1 = m;
                        else
                            m2 = m;
                    }
                    p += 6;
                }
            }
        }
        if (m1 && !m2)
            m2 = m1;
        if (m1 && m2 >= m1) {
            for (int k = (m1 - 1) / 3 + 1; k <= (m2 - 1) / 3 + 1; k++)
                q[k] = true;
            nq = 1;
        }
    }
    if (!nq)
        return false;
    int lo = 0, hi = 0, count = 0;
    for (int k = 1; k <= 4; k++) {
        if (!q[k])
            continue;
        if (!lo)
            lo = k;
        hi = k;
        count++;
    }
    if (count == hi - lo + 1 && count > 1) {
        snprintf(out, outsz, "%d-%d", lo, hi);
    } else {
        size_t o = 0;
        out[0] = '\0';
        for (int k = 1; k <= 4 && o + 3 < outsz; k++)
            if (q[k])
                o += (size_t)snprintf(out + o, outsz - o, "%s%d", o ? "," : "", k);
    }
    return true;
}

