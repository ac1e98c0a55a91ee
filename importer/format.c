/* Input format: named by --format, or detected from the content. */
#include "readers.h"

#include <string.h>

static const char *const names[] = {"auto", "docx", "text", "markdown", "csv"};

int imp_format_parse(const char *name, imp_format_t *out) {
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(name, names[i]) == 0) {
            *out = (imp_format_t)i;
            return 0;
        }
    }
    if (strcmp(name, "tsv") == 0) {
        *out = IMP_FMT_TEXT;
        return 0;
    }
    return -1;
}

const char *imp_format_name(imp_format_t f) {
    return (size_t)f < sizeof names / sizeof names[0] ? names[f] : "?";
}

imp_format_t imp_format_detect(const char *data, size_t len) {
    if (len >= 4 && memcmp(data, "PK\x03\x04", 4) == 0)
        return IMP_FMT_DOCX;
    size_t tabs = 0, pipes = 0, pipe_sep = 0, commas = 0, semis = 0;
    size_t i = 0;
    while (i < len) {
        const char *nl = memchr(data + i, '\n', len - i);
        size_t n = nl ? (size_t)(nl - (data + i)) : len - i;
        const char *s = data + i;
        i += n + (nl != NULL);
        size_t k = 0;
        while (k < n && s[k] == ' ')
            k++;
        if (k < n && s[k] == '|') {
            pipes++;
            if (k + 1 < n && (s[k + 1] == '-' || s[k + 1] == ':' || s[k + 1] == ' ') &&
                memchr(s + k, '-', n - k) && !memchr(s + k, '\t', n - k)) {
                bool sep = true;
                for (size_t j = k; j < n && sep; j++)
                    sep = strchr("|-: \r", s[j]) != NULL;
                pipe_sep += sep;
            }
        }
        if (memchr(s, '\t', n))
            tabs++;
        else if (memchr(s, ';', n))
            semis++;
        else if (memchr(s, ',', n))
            commas++;
    }
    if (pipes >= 2 && pipe_sep >= 1)
        return IMP_FMT_MARKDOWN;
    if (tabs >= 2)
        return IMP_FMT_TEXT;
    if (commas + semis >= 2)
        return IMP_FMT_CSV;
    return IMP_FMT_TEXT;
}
