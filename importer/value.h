/* The one parser of the number forms the districts write (DOMAIN.md, SPEC 11): decimal
 * comma or point, thousands separators, scale words, percent with or without a space.
 * Anything that is not one clear quantity is IMP_VAL_TEXT with a reason, never a
 * guessed number. */
#ifndef IMP_VALUE_H
#define IMP_VALUE_H

#include <stdbool.h>
#include <stdint.h>

typedef enum {
    IMP_VAL_EMPTY = 0, /* nothing written */
    IMP_VAL_NONE,      /* "-": written as "none" */
    IMP_VAL_NUMBER,
    IMP_VAL_TEXT,      /* prose, several quantities, or a number inside a sentence */
} imp_val_kind_t;

typedef struct imp_value {
    imp_val_kind_t kind;
    int64_t x100;    /* NUMBER: value in hundredths, scale applied */
    bool percent;    /* written with % (or the word хувь) */
    bool money;      /* written with төгрөг / ₮ */
    int scale;       /* 0, 3 (мянга), 6 (сая), 9 (тэрбум) */
    bool person;     /* followed by a word for people ("3 хүн") */
    bool thousands;  /* a thousands separator was read (the rule is reported) */
    const char *why; /* TEXT: why it is not a number (static string) */
} imp_value_t;

/* Parses a cleaned cell. Never fails: the verdict is in v->kind. */
void imp_value_parse(const char *s, imp_value_t *v);

/* The completion column: a percent 0-1000 with or without '%' ("75,8", "100 %",
 * "110,3%"), kept as written above 100. Returns 1 with *x100, 0 when empty or "-"
 * (not assessed), -1 when the cell is not a percent (*why says why). A percent followed
 * by words without digits ("100 % II, улирал") is read and *note says so. */
int imp_completion_parse(const char *s, int32_t *x100, const char **why, const char **note);

#endif
