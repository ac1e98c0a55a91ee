/* --dry-run: what would be sent, one JSON object per record on stdout (the only data
 * agg-produce writes to stdout), e.g.
 *   {"topic":"reports.2024-Q2","key":"khuvsgul","file":"a.csv","line":2,...,"bytes":87}
 * Quantities are JSON numbers with exactly two decimals ("achieved":1370700.00), taken
 * from the fixed-point values, so nothing is lost to floating point on the way. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg/codec.h"
#include "produce.h"

/* Writes s as a JSON string; the text is already valid UTF-8 (checked on input). */
static void json_str(FILE *out, const char *s, size_t len) {
    fputc('"', out);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", out);
        else if (c == '\r')
            fputs("\\r", out);
        else if (c == '\t')
            fputs("\\t", out);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

static void json_x100(FILE *out, const char *name, bool has, int64_t v) {
    char buf[32];
    if (!has || agg_format_x100(v, buf, sizeof buf) < 0)
        return;
    fprintf(out, ",\"%s\":%s", name, buf);
}

int prod_dry_run_print(const prod_rows_t *rows) {
    FILE *out = stdout;
    for (size_t i = 0; i < rows->count; i++) {
        const prod_row_t *row = &rows->row[i];
        const agg_record_t *r = &row->rec;
        uint8_t *buf = NULL;
        long len = agg_encode_report(r, &buf);
        free(buf);
        if (len < 0)
            return -1;

        fputs("{\"topic\":", out);
        json_str(out, rows->topic[row->msg.topic].name,
                 strlen(rows->topic[row->msg.topic].name));
        fputs(",\"key\":", out);
        json_str(out, r->region, strlen(r->region));
        fputs(",\"file\":", out);
        json_str(out, row->msg.file, strlen(row->msg.file));
        fprintf(out, ",\"line\":%ld,\"region\":", row->msg.line);
        json_str(out, r->region, strlen(r->region));
        fprintf(out, ",\"year\":%d,\"quarter\":%d,\"goal\":", r->year, r->quarter);
        json_str(out, r->goal, strlen(r->goal));
        fputs(",\"indicator\":", out);
        json_str(out, r->indicator, strlen(r->indicator));
        if (r->title != NULL) {
            fputs(",\"title\":", out);
            json_str(out, r->title, r->title_len);
        }
        fprintf(out, ",\"unit\":\"%s\"", agg_unit_name(r->unit));
        json_x100(out, "baseline", r->has_baseline, r->baseline_x100);
        json_x100(out, "target", r->has_target, r->target_x100);
        json_x100(out, "achieved", r->has_achieved, r->achieved_x100);
        json_x100(out, "completion", r->has_completion, r->completion_x100);
        fprintf(out, ",\"revision\":%d,\"submitted_ms\":%lld", (int)r->revision,
                (long long)r->submitted_ms);
        if (r->report_id != NULL) {
            fputs(",\"report_id\":", out);
            json_str(out, r->report_id, r->report_id_len);
        }
        fprintf(out, ",\"bytes\":%ld}\n", len);
    }
    if (fflush(out) != 0 || ferror(out))
        return -1;
    return 0;
}
