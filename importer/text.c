/* UTF-8 helpers. Only the letters the documents use are case-folded (Latin, Russian
 * Cyrillic, and the Mongolian Ө Ү Ё): a full Unicode table would be a dependency for
 * no document we have seen. */
#include "text.h"

#include <stdio.h>
#include <string.h>

/* Appends n bytes to dst if they fit (keeping room for the NUL); returns 0 or -1. */
static int put(char *dst, size_t dstsz, size_t *o, const char *s, size_t n) {
    if (*o + n + 1 > dstsz)
        return -1;
    memcpy(dst + *o, s, n);
    *o += n;
    return 0;
}

/* Bytes of the UTF-8 sequence starting with c (1 for a stray continuation byte, so
 * invalid input still advances). */
static size_t seq_len(unsigned char c) {
    if (c < 0xC0)
        return 1;
    if (c < 0xE0)
        return 2;
    if (c < 0xF0)
        return 3;
    return 4;
}

/* A whitespace character at s (ASCII or U+00A0); its byte length, or 0. */
static size_t space_at(const char *s, size_t left) {
    unsigned char c = (unsigned char)s[0];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v')
        return 1;
    if (left >= 2 && c == 0xC2 && (unsigned char)s[1] == 0xA0)
        return 2;
    return 0;
}

static const struct {
    const char *name;
    const char *text;
} entities[] = {{"&amp;", "&"},  {"&lt;", "<"},   {"&gt;", ">"},
                {"&quot;", "\""}, {"&nbsp;", " "}, {"&#39;", "'"}};

size_t imp_text_clean(const char *src, size_t len, char *dst, size_t dstsz) {
    size_t o = 0, i = 0;
    bool pending_space = false, at_start = true;
    if (dstsz == 0)
        return 0;
    /* A leading markdown heading mark ("#### ХОЁР.") is markup, not text. */
    while (i < len && src[i] == '#')
        i++;
    if (i == 0 || (i < len && src[i] != ' '))
        i = 0;
    while (i < len) {
        size_t sp = space_at(src + i, len - i);
        if (sp) {
            pending_space = !at_start;
            i += sp;
            continue;
        }
        char c = src[i];
        /* An HTML tag: '<' then a letter or '/', up to '>' within 512 bytes. A '<' that
         * does not open a tag ("< 5") is text. */
        if (c == '<' && i + 1 < len &&
            (src[i + 1] == '/' || (src[i + 1] >= 'a' && src[i + 1] <= 'z') ||
             (src[i + 1] >= 'A' && src[i + 1] <= 'Z'))) {
            const char *gt = memchr(src + i, '>', len - i < 512 ? len - i : 512);
            if (gt != NULL) {
                /* A block tag (<p>, <br>) separates words. */
                pending_space = !at_start;
                i = (size_t)(gt - src) + 1;
                continue;
            }
        }
        if ((c == '*' || c == '_') && i + 1 < len && src[i + 1] == c) {
            i += 2;
            continue;
        }
        const char *rep = NULL;
        size_t skip = 1;
        if (c == '&') {
            for (size_t e = 0; e < sizeof entities / sizeof entities[0]; e++) {
                size_t n = strlen(entities[e].name);
                if (len - i >= n && memcmp(src + i, entities[e].name, n) == 0) {
                    rep = entities[e].text;
                    skip = n;
                    break;
                }
            }
        }
        if (rep != NULL && rep[0] == ' ') {
            pending_space = !at_start;
            i += skip;
            continue;
        }
        if (pending_space) {
            if (put(dst, dstsz, &o, " ", 1) != 0)
                break;
            pending_space = false;
        }
        if (rep != NULL) {
            if (put(dst, dstsz, &o, rep, strlen(rep)) != 0)
                break;
            i += skip;
        } else {
            size_t n = seq_len((unsigned char)c);
            if (n > len - i)
                n = len - i;
            if (put(dst, dstsz, &o, src + i, n) != 0)
                break;
            i += n;
        }
        at_start = false;
    }
    dst[o] = '\0';
    return o;
}

/* The lower-case form of the character at s (n bytes) into out; returns its length. */
static size_t fold_char(const unsigned char *s, size_t n, unsigned char *out) {
    if (n == 1) {
        out[0] = (s[0] >= 'A' && s[0] <= 'Z') ? (unsigned char)(s[0] + 32) : s[0];
        return 1;
    }
    if (n == 2) {
        unsigned cp = ((s[0] & 0x1Fu) << 6) | (s[1] & 0x3Fu);
        if (cp >= 0x410 && cp <= 0x42F)
            cp += 0x20;
        else if (cp == 0x401)
            cp = 0x451;
        else if (cp == 0x4E8 || cp == 0x4AE)
            cp += 1;
        out[0] = (unsigned char)(0xC0 | (cp >> 6));
        out[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    memcpy(out, s, n);
    return n;
}

/* Characters squeezed out before comparing: spacing, hyphens and punctuation. */
static bool squeezable(const unsigned char *s, size_t n) {
    if (n == 1)
        return strchr(" \t\r\n-.,:;/()[]\"'`*_!?|", s[0]) != NULL && s[0] != '\0';
    if (n == 2)
        return s[0] == 0xC2 && (s[1] == 0xAD || s[1] == 0xA0 || s[1] == 0xAB || s[1] == 0xBB);
    if (n == 3) /* – — “ ” „ ‘ ’ */
        return s[0] == 0xE2 && s[1] == 0x80 &&
               (s[2] == 0x93 || s[2] == 0x94 || s[2] == 0x9C || s[2] == 0x9D ||
                s[2] == 0x9E || s[2] == 0x98 || s[2] == 0x99);
    return false;
}

size_t imp_text_fold(const char *src, size_t len, char *dst, size_t dstsz, bool squeeze) {
    size_t o = 0, i = 0;
    if (dstsz == 0)
        return 0;
    while (i < len) {
        size_t n = seq_len((unsigned char)src[i]);
        if (n > len - i)
            n = len - i;
        const unsigned char *s = (const unsigned char *)src + i;
        i += n;
        if (squeeze && squeezable(s, n))
            continue;
        unsigned char buf[4];
        size_t m = fold_char(s, n, buf);
        if (put(dst, dstsz, &o, (const char *)buf, m) != 0)
            break;
    }
    dst[o] = '\0';
    return o;
}

/* Code point of the first letter after quotes and opening punctuation, or 0. */
static unsigned first_letter(const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t n = seq_len(*p);
        if (n == 1 && strchr("\"'(«[ *", *p) != NULL) {
            p++;
            continue;
        }
        if (n == 3 && p[0] == 0xE2 && p[1] == 0x80) { /* “ ” „ ‘ ’ */
            p += 3;
            continue;
        }
        if (n == 2 && p[0] == 0xC2 && (p[1] == 0xAB || p[1] == 0xBB)) {
            p += 2;
            continue;
        }
        if (n == 1)
            return *p;
        if (n == 2)
            return ((p[0] & 0x1Fu) << 6) | (p[1] & 0x3Fu);
        return 0;
    }
    return 0;
}

bool imp_text_starts_upper(const char *s) {
    unsigned cp = first_letter(s);
    return (cp >= 'A' && cp <= 'Z') || (cp >= 0x400 && cp <= 0x42F) || cp == 0x4E8 ||
           cp == 0x4AE;
}

bool imp_text_starts_lower(const char *s) {
    unsigned cp = first_letter(s);
    return (cp >= 'a' && cp <= 'z') || (cp >= 0x430 && cp <= 0x45F) || cp == 0x4E9 ||
           cp == 0x4AF;
}

size_t imp_text_utf8_prefix(const char *s, size_t len, size_t max) {
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
                             : (c & 0xF8) == 0xF0 ? 4 : 0;
        if (n == 0 || n > len - i || i + n > max)
            break;
        size_t k = 1;
        while (k < n && ((unsigned char)s[i + k] & 0xC0) == 0x80)
            k++;
        if (k < n)
            break;
        i += n;
    }
    return i;
}

bool imp_measure_number(const char *s, size_t len, char *norm, size_t normsz) {
    size_t groups = 0, digits = 0, i = 0;
    if (len > 0 && s[len - 1] == '.')
        len--;
    if (len == 0 || len + 1 > normsz)
        return false;
    for (i = 0; i < len; i++) {
        if (s[i] >= '0' && s[i] <= '9') {
            if (++digits > 3)
                return false;
        } else if (s[i] == '.' && digits > 0) {
            groups++;
            digits = 0;
        } else {
            return false;
        }
    }
    if (digits == 0 || ++groups > 5)
        return false;
    memcpy(norm, s, len);
    norm[len] = '\0';
    return true;
}

const char *imp_text_excerpt(const char *s, size_t max, char *buf, size_t bufsz) {
    size_t len = strlen(s);
    if (bufsz < 4) {
        if (bufsz)
            buf[0] = '\0';
        return buf;
    }
    if (max > bufsz - 4)
        max = bufsz - 4;
    size_t n = imp_text_utf8_prefix(s, len, max);
    memcpy(buf, s, n);
    if (n < len)
        memcpy(buf + n, "\xE2\x80\xA6", 3), n += 3;
    buf[n] = '\0';
    return buf;
}

int imp_lines_next(imp_lines_t *it, const char **s, size_t *n, char *errstr,
                   size_t errstr_size) {
    if (it->pos == 0 && it->len >= 3 && memcmp(it->data, "\xEF\xBB\xBF", 3) == 0)
        it->pos = 3;
    if (it->pos >= it->len)
        return 0;
    const char *b = it->data + it->pos;
    size_t left = it->len - it->pos;
    const char *nl = memchr(b, '\n', left);
    size_t k = nl ? (size_t)(nl - b) : left;
    it->pos += k + (nl != NULL);
    it->line++;
    if (k && b[k - 1] == '\r')
        k--;
    if (memchr(b, '\0', k) != NULL) {
        snprintf(errstr, errstr_size, "line %ld: a NUL byte (binary file?)", it->line);
        return -1;
    }
    *s = b;
    *n = k;
    return 1;
}
