/* The review report: one line per decision about a source row, so a clerk can find
 * each row in the document ("line 12", "table 2 row 5 cell 3") and see what it became
 * or why it was skipped. Text: "FILE: WHERE: [skip] message". JSON (--json): one
 * object per line {"file","where","kind","message"}, and "goal", "indicator" for rows. */
#include "import.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Notes are kept in order; the report is written once the document is read. */
int imp_note(imp_result_t *res, imp_note_kind_t kind, const char *where, const char *fmt, ...) {
    if (imp_grow(&res->note, &res->notes_cap, res->nnotes, sizeof *res->note) != 0)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    char *msg = NULL;
    int rc = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (rc < 0)
        return -1;
    imp_note_t *n = &res->note[res->nnotes++];
    n->kind = kind;
    snprintf(n->where, sizeof n->where, "%s", where ? where : "");
    n->msg = msg;
    n->goal[0] = n->indicator[0] = '\0';
    n->key = res->note_key;
    n->seq = res->nnotes - 1;
    if (kind == IMP_NOTE_SKIP)
        res->skipped++;
    return 0;
}

void imp_result_free(imp_result_t *res) {
    for (size_t i = 0; i < res->nrows; i++)
        free(res->row[i].title);
    free(res->row);
    for (size_t i = 0; i < res->nnotes; i++)
        free(res->note[i].msg);
    free(res->note);
    free(res->title);
    memset(res, 0, sizeof *res);
}

static int note_cmp(const void *a, const void *b) {
    const imp_note_t *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void imp_report_sort(imp_result_t *res) {
    if (res->nnotes > 1)
        qsort(res->note, res->nnotes, sizeof *res->note, note_cmp);
}

static const char *kind_name(imp_note_kind_t k) {
    switch (k) {
    case IMP_NOTE_ROW:
        return "row";
    case IMP_NOTE_SKIP:
        return "skip";
    case IMP_NOTE_ERROR:
        return "error";
    default:
        return "info";
    }
}

static int json_string(FILE *out, const char *s) {
    if (fputc('"', out) == EOF)
        return -1;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int rc;
        if (*p == '"' || *p == '\\')
            rc = fprintf(out, "\\%c", *p);
        else if (*p < 0x20)
            rc = fprintf(out, "\\u%04x", *p);
        else
            rc = fputc(*p, out) == EOF ? -1 : 1;
        if (rc < 0)
            return -1;
    }
    return fputc('"', out) == EOF ? -1 : 0;
}

int imp_report_write(FILE *out, const char *file, const imp_result_t *res, bool json) {
    for (size_t i = 0; i < res->nnotes; i++) {
        const imp_note_t *n = &res->note[i];
        int rc;
        if (json) {
            rc = (fputs("{\"file\":", out) < 0 || json_string(out, file) ||
                  fputs(",\"where\":", out) < 0 || json_string(out, n->where) ||
                  fprintf(out, ",\"kind\":\"%s\",\"message\":", kind_name(n->kind)) < 0 ||
                  json_string(out, n->msg) ||
                  (n->indicator[0] &&
                   (fputs(",\"goal\":", out) < 0 || json_string(out, n->goal) ||
                    fputs(",\"indicator\":", out) < 0 || json_string(out, n->indicator))) ||
                  fputs("}\n", out) < 0)
                     ? -1
                     : 0;
        } else {
            const char *tag = n->kind == IMP_NOTE_SKIP    ? "SKIP "
                              : n->kind == IMP_NOTE_ERROR ? "ERROR "
                                                          : "";
            rc = fprintf(out, "%s: %s%s%s%s\n", file, n->where, n->where[0] ? ": " : "", tag,
                         n->msg) < 0
                     ? -1
                     : 0;
        }
        if (rc != 0)
            return -1;
    }
    return fflush(out) == 0 ? 0 : -1;
}
