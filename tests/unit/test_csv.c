/* RFC 4180 reader: quoting, line breaks, line numbers, error recovery, limits. */
#include <stdlib.h>
#include <string.h>

#include "agg/csv.h"
#include "test.h"

static char err[256];

/* The reader is large (64 KiB buffer); one static instance serves every case. */
static agg_csv_t csv;
static FILE *in;

static void open_text(const char *text, size_t len) {
    if (in)
        fclose(in);
    in = fmemopen((void *)text, len, "r");
    if (!in) {
        perror("fmemopen");
        exit(2);
    }
    agg_csv_init(&csv, in);
}

#define OPEN(lit) open_text(lit, sizeof(lit) - 1)

static int next(void) {
    err[0] = '\0';
    return agg_csv_next(&csv, err, sizeof err);
}

static void simple_rows(void) {
    OPEN("region,year\nub-khan-uul,2024\narkhangai,2023\n");
    CHECK(next() == 1);
    CHECK_I64(csv.line, 1);
    CHECK_I64(csv.nfields, 2);
    CHECK_STR(csv.field[0], "region");
    CHECK_STR(csv.field[1], "year");
    CHECK(next() == 1);
    CHECK_I64(csv.line, 2);
    CHECK_STR(csv.field[0], "ub-khan-uul");
    CHECK_I64(csv.field_len[0], 11);
    CHECK_STR(csv.field[1], "2024");
    CHECK(next() == 1);
    CHECK_I64(csv.line, 3);
    CHECK_STR(csv.field[0], "arkhangai");
    CHECK(next() == 0);
    CHECK(next() == 0);
}

static void crlf_and_missing_final_newline(void) {
    OPEN("a,b\r\nc,d\r\ne,f");
    CHECK(next() == 1);
    CHECK_STR(csv.field[1], "b");
    CHECK(next() == 1);
    CHECK_I64(csv.line, 2);
    CHECK_STR(csv.field[0], "c");
    CHECK_STR(csv.field[1], "d");
    CHECK(next() == 1);
    CHECK_I64(csv.line, 3);
    CHECK_STR(csv.field[1], "f");
    CHECK(next() == 0);
}

static void bare_cr_ends_a_line(void) {
    OPEN("a\rb\r\rc");
    CHECK(next() == 1);
    CHECK_STR(csv.field[0], "a");
    CHECK(next() == 1);
    CHECK_I64(csv.line, 2);
    CHECK_STR(csv.field[0], "b");
    CHECK(next() == 1);
    CHECK_I64(csv.line, 4);
    CHECK_STR(csv.field[0], "c");
    CHECK(next() == 0);
}

static void empty_fields(void) {
    OPEN("a,,b\n,\n\"\"\n");
    CHECK(next() == 1);
    CHECK_I64(csv.nfields, 3);
    CHECK_STR(csv.field[1], "");
    CHECK_I64(csv.field_len[1], 0);
    CHECK(next() == 1);
    CHECK_I64(csv.nfields, 2);
    CHECK_STR(csv.field[0], "");
    CHECK_STR(csv.field[1], "");
    /* "" is one empty field, not a blank line */
    CHECK(next() == 1);
    CHECK_I64(csv.line, 3);
    CHECK_I64(csv.nfields, 1);
    CHECK_STR(csv.field[0], "");
    CHECK(next() == 0);
}

static void quoting(void) {
    OPEN("\"a,b\",\"say \"\"hi\"\"\",plain\n\"x\"\n");
    CHECK(next() == 1);
    CHECK_I64(csv.nfields, 3);
    CHECK_STR(csv.field[0], "a,b");
    CHECK_STR(csv.field[1], "say \"hi\"");
    CHECK_I64(csv.field_len[1], 8);
    CHECK_STR(csv.field[2], "plain");
    CHECK(next() == 1);
    CHECK_STR(csv.field[0], "x");
    CHECK(next() == 0);
}

static void newlines_inside_quotes_count_lines(void) {
    OPEN("h\n\"line1\nline2\r\nline3\",z\nnext\n");
    CHECK(next() == 1);
    CHECK(next() == 1);
    CHECK_I64(csv.line, 2);
    CHECK_STR(csv.field[0], "line1\nline2\r\nline3");
    CHECK_STR(csv.field[1], "z");
    CHECK(next() == 1);
    CHECK_I64(csv.line, 5);
    CHECK_STR(csv.field[0], "next");
}

static void bom_is_skipped_once(void) {
    OPEN("\xef\xbb\xbfregion\n\xef\xbb\xbfx\n");
    CHECK(next() == 1);
    CHECK_STR(csv.field[0], "region");
    CHECK_I64(csv.line, 1);
    CHECK(next() == 1);
    CHECK_STR(csv.field[0], "\xef\xbb\xbfx"); /* only at the start of the input */
    CHECK(next() == 0);
}

static void bom_lookalikes_are_data(void) {
    OPEN("\xef\xbbx,y\n");
    CHECK(next() == 1);
    CHECK_STR(csv.field[0], "\xef\xbbx");
    CHECK_STR(csv.field[1], "y");
    OPEN("\xef\n");
    CHECK(next() == 1);
    CHECK_STR(csv.field[0], "\xef");
    CHECK(next() == 0);
    OPEN("\xef\xbb\r\nz");
    CHECK(next() == 1);
    CHECK_STR(csv.field[0], "\xef\xbb");
    CHECK(next() == 1);
    CHECK_I64(csv.line, 2);
    CHECK_STR(csv.field[0], "z");
    OPEN("\xef\xbb\xbf");
    CHECK(next() == 0);
    OPEN("");
    CHECK(next() == 0);
}

static void blank_lines_are_skipped(void) {
    OPEN("\n\na\n\r\n\nb\n\n");
    CHECK(next() == 1);
    CHECK_I64(csv.line, 3);
    CHECK_STR(csv.field[0], "a");
    CHECK(next() == 1);
    CHECK_I64(csv.line, 6);
    CHECK_STR(csv.field[0], "b");
    CHECK(next() == 0);
}

static void quote_in_unquoted_field_then_resync(void) {
    OPEN("h\nab\"c,d\nok,1\n");
    CHECK(next() == 1);
    CHECK(next() == -1);
    CHECK_I64(csv.line, 2);
    CHECK_STR(err, "quote inside an unquoted field");
    CHECK(next() == 1);
    CHECK_I64(csv.line, 3);
    CHECK_STR(csv.field[0], "ok");
    CHECK(next() == 0);
}

static void text_after_closing_quote(void) {
    OPEN("\"a\"b,c\nok\n");
    CHECK(next() == -1);
    CHECK_I64(csv.line, 1);
    CHECK_STR(err, "unexpected character after a closing quote");
    CHECK(next() == 1);
    CHECK_I64(csv.line, 2);
    CHECK_STR(csv.field[0], "ok");
}

static void unterminated_quote(void) {
    OPEN("h\n\"abc\nmore\n");
    CHECK(next() == 1);
    CHECK(next() == -1);
    CHECK_I64(csv.line, 2);
    CHECK_STR(err, "unterminated quoted field at end of input");
    CHECK(next() == 0);
}

static void too_many_fields(void) {
    char text[512];
    size_t n = 0;
    for (int i = 0; i < AGG_CSV_FIELDS_MAX; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, i ? ",%d" : "%d", i);
    n += (size_t)snprintf(text + n, sizeof text - n, "\n");
    for (int i = 0; i <= AGG_CSV_FIELDS_MAX; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, i ? ",%d" : "%d", i);
    n += (size_t)snprintf(text + n, sizeof text - n, "\nafter\n");
    CHECK(n < sizeof text);

    open_text(text, n);
    CHECK(next() == 1);
    CHECK_I64(csv.nfields, AGG_CSV_FIELDS_MAX);
    CHECK_STR(csv.field[63], "63");
    CHECK(next() == -1);
    CHECK_I64(csv.line, 2);
    CHECK_STR(err, "more than 64 fields");
    CHECK(next() == 1);
    CHECK_I64(csv.line, 3);
    CHECK_STR(csv.field[0], "after");

    /* the 65th field ends at the line break: the break is not skipped twice */
    char t2[512];
    size_t m = 0;
    for (int i = 0; i < AGG_CSV_FIELDS_MAX; i++)
        m += (size_t)snprintf(t2 + m, sizeof t2 - m, "%d,", i);
    m += (size_t)snprintf(t2 + m, sizeof t2 - m, "\nnext\n");
    open_text(t2, m);
    CHECK(next() == -1);
    CHECK(next() == 1);
    CHECK_I64(csv.line, 2);
    CHECK_STR(csv.field[0], "next");
}

static void long_rows(void) {
    /* a row that just fits: one field of ROW_MAX - 1 bytes plus its NUL */
    size_t big = AGG_CSV_ROW_MAX - 1;
    char *text = malloc(3 * AGG_CSV_ROW_MAX);
    CHECK(text != NULL);
    if (!text)
        return;
    memset(text, 'x', big);
    memcpy(text + big, "\nok\n", 4);
    open_text(text, big + 4);
    CHECK(next() == 1);
    CHECK_I64(csv.field_len[0], big);
    CHECK(next() == 1);
    CHECK_STR(csv.field[0], "ok");

    /* one byte more is an error, and reading resumes on the next line */
    memset(text, 'y', big + 1);
    memcpy(text + big + 1, "\nok\n", 4);
    open_text(text, big + 5);
    CHECK(next() == -1);
    CHECK_STR(err, "row longer than 65535 bytes");
    CHECK_I64(csv.error_field, 1); /* the producer names this column */
    CHECK(next() == 1);
    CHECK_I64(csv.error_field, 0);
    CHECK_I64(csv.line, 2);
    CHECK_STR(csv.field[0], "ok");
    CHECK(next() == 0);

    /* the same inside a quoted field that ends right at the limit on a line break */
    text[0] = '"';
    memset(text + 1, 'z', AGG_CSV_ROW_MAX - 1);
    memcpy(text + AGG_CSV_ROW_MAX, "\nz\"\nok\n", 7);
    open_text(text, AGG_CSV_ROW_MAX + 7);
    CHECK(next() == -1);
    CHECK_STR(err, "row longer than 65535 bytes");
    /* resynchronized at the next physical line: z" is malformed, then ok */
    CHECK(next() == -1);
    CHECK_I64(csv.line, 2);
    CHECK(next() == 1);
    CHECK_I64(csv.line, 3);
    CHECK_STR(csv.field[0], "ok");

    /* a long field followed by empty fields: each takes a NUL of the row's room */
    memset(text, 'w', AGG_CSV_ROW_MAX - 2);
    memcpy(text + AGG_CSV_ROW_MAX - 2, ",,,,\nok\n", 8);
    open_text(text, AGG_CSV_ROW_MAX + 6);
    CHECK(next() == -1);
    CHECK_STR(err, "row longer than 65535 bytes");
    CHECK_I64(csv.error_field, 3); /* stopped at the third of the empty fields */
    CHECK(next() == 1);
    CHECK_I64(csv.line, 2);
    CHECK_STR(csv.field[0], "ok");
    free(text);
}

static void fields_are_nul_terminated_in_buf(void) {
    OPEN("ab,\"c\"\"d\",e\n");
    CHECK(next() == 1);
    for (size_t i = 0; i < csv.nfields; i++) {
        CHECK(csv.field[i] >= csv.buf && csv.field[i] < csv.buf + sizeof csv.buf);
        CHECK(csv.field[i][csv.field_len[i]] == '\0');
    }
    CHECK_STR(csv.field[1], "c\"d");
}

TEST_MAIN(TEST(simple_rows), TEST(crlf_and_missing_final_newline),
          TEST(bare_cr_ends_a_line), TEST(empty_fields), TEST(quoting),
          TEST(newlines_inside_quotes_count_lines), TEST(bom_is_skipped_once),
          TEST(bom_lookalikes_are_data), TEST(blank_lines_are_skipped),
          TEST(quote_in_unquoted_field_then_resync), TEST(text_after_closing_quote),
          TEST(unterminated_quote), TEST(too_many_fields), TEST(long_rows),
          TEST(fields_are_nul_terminated_in_buf))
