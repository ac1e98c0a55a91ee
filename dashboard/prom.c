/* The Prometheus text exposition format (version 0.0.4): HELP/TYPE lines and samples
 * with escaped label values. Written by hand on purpose: it is a line format with one
 * escaping rule, and this is the one place that knows it. */
#include <string.h>

#include "dash.h"

/* Label values escape backslash, double quote and newline; nothing else. */
int dash_prom_escape(FILE *out, const char *s) {
    for (; *s; s++) {
        int rc;
        if (*s == '\\')
            rc = fputs("\\\\", out);
        else if (*s == '"')
            rc = fputs("\\\"", out);
        else if (*s == '\n')
            rc = fputs("\\n", out);
        else
            rc = fputc(*s, out);
        if (rc == EOF)
            return -1;
    }
    return 0;
}

/* HELP text escapes backslash and newline only (the format's rule for docstrings). */
int dash_prom_header(FILE *out, const char *name, const char *type, const char *help) {
    if (fprintf(out, "# HELP %s ", name) < 0)
        return -1;
    for (const char *s = help; *s; s++) {
        int rc = *s == '\\'   ? fputs("\\\\", out)
                 : *s == '\n' ? fputs("\\n", out)
                              : fputc(*s, out);
        if (rc == EOF)
            return -1;
    }
    return fprintf(out, "\n# TYPE %s %s\n", name, type) < 0 ? -1 : 0;
}

int dash_prom_sample(FILE *out, const char *name, const char *const *labels,
                     long long value) {
    if (fputs(name, out) == EOF)
        return -1;
    if (labels && labels[0]) {
        if (fputc('{', out) == EOF)
            return -1;
        for (size_t i = 0; labels[i]; i += 2) {
            if (fprintf(out, "%s%s=\"", i ? "," : "", labels[i]) < 0 ||
                dash_prom_escape(out, labels[i + 1] ? labels[i + 1] : "") ||
                fputc('"', out) == EOF)
                return -1;
        }
        if (fputc('}', out) == EOF)
            return -1;
    }
    return fprintf(out, " %lld\n", value) < 0 ? -1 : 0;
}
