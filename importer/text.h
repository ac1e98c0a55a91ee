/* UTF-8 text helpers of the importer: cleaning cell text from converters' leftovers and
 * the case- and spelling-tolerant comparison the Mongolian headers and titles need. */
#ifndef IMP_TEXT_H
#define IMP_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Cleans src into dst (NUL-terminated, at most dstsz - 1 bytes, cut at a character
 * boundary): removes HTML tags (<p>, <a href=...>) and markdown emphasis/heading marks
 * (**, __, leading #), turns &amp; &lt; &gt; &quot; &nbsp; into characters, collapses
 * whitespace runs (tabs, newlines, no-break spaces) into one space and trims. Returns
 * the length written. */
size_t imp_text_clean(const char *src, size_t len, char *dst, size_t dstsz);

/* Lower-cases the Cyrillic (Mongolian: also Ө, Ү, Ё) and Latin letters of src into dst.
 * If squeeze, also drops spaces, hyphens, soft hyphens and punctuation, so header
 * variants like "Биелэл -тийн хувь" and "Биелэлтийн хувь" compare equal. Returns the
 * length written (dst is always NUL-terminated, cut at a character boundary). */
size_t imp_text_fold(const char *src, size_t len, char *dst, size_t dstsz, bool squeeze);

/* Whether the first letter of s is an upper-case (Cyrillic or Latin) letter, after
 * skipping quotes and opening punctuation. */
bool imp_text_starts_upper(const char *s);
bool imp_text_starts_lower(const char *s);

/* Length of the longest prefix of s[0..len) that is valid UTF-8 and at most max bytes,
 * cut at a character boundary. */
size_t imp_text_utf8_prefix(const char *s, size_t len, size_t max);

/* At most max bytes of s cut at a character boundary, with "…" when cut, into buf
 * (bufsz >= max + 4). Returns buf. For quoting cells in messages. */
const char *imp_text_excerpt(const char *s, size_t max, char *buf, size_t bufsz);

/* Lines of a text input, for the line-based readers: LF or CRLF ends, a UTF-8 BOM at
 * the start skipped. */
typedef struct {
    const char *data;
    size_t len, pos;
    long line; /* 1-based number of the line last returned */
} imp_lines_t;

/* The next line (without its end) in *s, *n. Returns 1, 0 at the end, or -1 when the
 * line holds a NUL byte (reason with the line number in errstr: a binary file). */
int imp_lines_next(imp_lines_t *it, const char **s, size_t *n, char *errstr,
                   size_t errstr_size);

/* Whether s is a measure number: 1 to 5 groups of 1-3 digits joined by '.', with an
 * optional trailing '.' ("3.2.1", "1.1.", "7"). *norm gets it without the trailing dot. */
bool imp_measure_number(const char *s, size_t len, char *norm, size_t normsz);

#endif
