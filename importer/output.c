/* The importer's output: canonical CSV (SPEC 3) for reports, plan CSV (SPEC 11) for
 * plans. RFC 4180 quoting, LF line ends, the columns in the SPEC's order. */
#include "import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg/regions.h"

static int field(FILE *out, const char *s) {
    if (strpbrk(s, ",\"\r\n") == NULL)
        return fputs(s, out) < 0 ? -1 : 0;
    if (fputc('"', out) == EOF)
        return -1;
    for (; *s; s++) {
        if (*s == '"' && fputc('"', out) == EOF)
            return -1;
        if (fputc(*s, out) == EOF)
            return -1;
    }
    return fputc('"', out) == EOF ? -1 : 0;
}

static int amount(FILE *out, bool has, int64_t x100) {
    char buf[40];
    if (!has)
        return 0;
    if (agg_format_x100(x100, buf, sizeof buf) < 0)
        return -1;
    /* "12.00" -> "12", "75.80" -> "75.8": the value as a clerk would type it */
    char *dot = strchr(buf, '.');
    if (dot) {
        char *e = buf + strlen(buf);
        while (e > dot + 1 && e[-1] == '0')
            *--e = '\0';
        if (e == dot + 1)
            *dot = '\0';
    }
    return fputs(buf, out) < 0 ? -1 : 0;
}

int imp_validate_rows(imp_result_t *res, const imp_context_t *c, const agg_regions_t *regions,
                      const char *report_id) {
    size_t k = 0;
    for (size_t i = 0; i < res->nrows; i++) {
        imp_out_row_t *r = &res->row[i];
        agg_record_t rec;
        memset(&rec, 0, sizeof rec);
        snprintf(rec.region, sizeof rec.region, "%s", c->region);
        snprintf(rec.goal, sizeof rec.goal, "%s", r->goal);
        snprintf(rec.indicator, sizeof rec.indicator, "%s", r->indicator);
        rec.year = c->year;
        rec.quarter = c->quarter ? c->quarter : 1; /* a plan has no quarter */
        rec.unit = r->unit;
        rec.has_baseline = r->has_baseline;
        rec.has_target = r->has_target;
        rec.has_achieved = r->has_achieved;
        rec.has_completion = r->has_completion;
        rec.baseline_x100 = r->baseline_x100;
        rec.target_x100 = r->target_x100;
        rec.achieved_x100 = r->achieved_x100;
        rec.completion_x100 = r->completion_x100;
        rec.revision = 1;
        rec.title = r->title;
        rec.title_len = strlen(r->title);
        rec.report_id = report_id;
        rec.report_id_len = strlen(report_id);
        const char *field;
        char why[256];
        if (agg_record_validate(&rec, regions, &field, why, sizeof why) != 0) {
            if (imp_note(res, IMP_NOTE_SKIP, r->where, "skipped %s: column '%s': %s",
                         r->indicator, field, why) != 0)
                return -1;
            free(r->title);
            continue;
        }
        res->row[k++] = *r;
    }
    res->nrows = k;
    return 0;
}

int imp_write_csv(FILE *out, const imp_result_t *res, const imp_context_t *c,
                  const char *report_id) {
    if (fputs("region,year,quarter,goal,indicator,title,unit,baseline,target,achieved,"
              "completion,report_id\n",
              out) < 0)
        return -1;
    for (size_t i = 0; i < res->nrows; i++) {
        const imp_out_row_t *r = &res->row[i];
        if (fprintf(out, "%s,%d,%d,", c->region, c->year, c->quarter) < 0 ||
            field(out, r->goal) || fputc(',', out) == EOF || field(out, r->indicator) ||
            fputc(',', out) == EOF || field(out, r->title) ||
            fprintf(out, ",%s,", agg_unit_name(r->unit)) < 0 ||
            amount(out, r->has_baseline, r->baseline_x100) || fputc(',', out) == EOF ||
            amount(out, r->has_target, r->target_x100) || fputc(',', out) == EOF ||
            amount(out, r->has_achieved, r->achieved_x100) || fputc(',', out) == EOF ||
            amount(out, r->has_completion, r->completion_x100) || fputc(',', out) == EOF ||
            field(out, report_id) || fputc('\n', out) == EOF)
            return -1;
    }
    return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}

int imp_write_plan_csv(FILE *out, const imp_result_t *res, const imp_context_t *c) {
    if (fputs("region,year,goal,indicator,title,unit,baseline,target,quarters\n", out) < 0)
        return -1;
    for (size_t i = 0; i < res->nrows; i++) {
        const imp_out_row_t *r = &res->row[i];
        if (fprintf(out, "%s,%d,", c->region, c->year) < 0 || field(out, r->goal) ||
            fputc(',', out) == EOF || field(out, r->indicator) || fputc(',', out) == EOF ||
            field(out, r->title) || fprintf(out, ",%s,", agg_unit_name(r->unit)) < 0 ||
            amount(out, r->has_baseline, r->baseline_x100) || fputc(',', out) == EOF ||
            amount(out, r->has_target, r->target_x100) || fputc(',', out) == EOF ||
            field(out, r->quarters) || fputc('\n', out) == EOF)
            return -1;
    }
    return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}
