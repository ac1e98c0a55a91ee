/* Objective headings. A heading applies until the next heading of the same or a higher
 * level (convert.c keeps the stack); the level-0 strategic goal is the parent of
 * objectives and is not itself an objective code. */
#include "import.h"
#include "text.h"

#include <stdio.h>
#include <string.h>

/* Mongolian ordinal section words ("Нэг.", "ХОЁР.", "ТАБ.") and their numbers. */
static const struct {
    const char *word;
    int n;
} ordinals[] = {{"нэг", 1},   {"хоёр", 2}, {"гурав", 3}, {"дөрөв", 4}, {"тав", 5},
                /* "ТАБ." is how seed 000 spells Тав (five) */
                {"таб", 5},   {"зургаа", 6}, {"долоо", 7}, {"найм", 8}, {"ес", 9},
                {"арав", 10}};

/* The number after prefix: digits and dots, without a trailing dot. */
static bool number_after(const char *f, size_t at, char *code, size_t codesz, int *groups) {
    while (f[at] == ' ')
        at++;
    size_t b = at;
    while ((f[at] >= '0' && f[at] <= '9') || (f[at] == '.' && f[at + 1] >= '0' && f[at + 1] <= '9'))
        at++;
    if (at == b)
        return false;
    char norm[AGG_GOAL_MAX + 1];
    if (!imp_measure_number(f + b, at - b, norm, sizeof norm))
        return false;
    snprintf(code, codesz, "%s", norm);
    *groups = 1;
    for (const char *p = norm; *p; p++)
        *groups += *p == '.';
    return true;
}

bool imp_heading_parse(const char *text, int *level, char *code, size_t codesz) {
    char f[256];
    const char *t = text;
    /* leading quotes and bullets are not part of the heading word */
    while (*t == '"' || *t == ' ' || *t == '*')
        t++;
    imp_text_fold(t, strlen(t) < 200 ? strlen(t) : 200, f, sizeof f, false);
    int groups;
    static const char strategic[] = "стратегийн төлөвлөгөөний зорилго";
    if (strncmp(f, strategic, strlen(strategic)) == 0 &&
        number_after(f, strlen(strategic), code, codesz, &groups)) {
        *level = 0;
        return true;
    }
    if (strncmp(f, "зорилт ", strlen("зорилт ")) == 0 &&
        number_after(f, strlen("зорилт "), code, codesz, &groups) && groups <= 2) {
        *level = groups;
        return true;
    }
    for (size_t i = 0; i < sizeof ordinals / sizeof ordinals[0]; i++) {
        size_t n = strlen(ordinals[i].word);
        if (strncmp(f, ordinals[i].word, n) == 0 && f[n] == '.') {
            snprintf(code, codesz, "%d", ordinals[i].n);
            *level = 1;
            return true;
        }
    }
    return false;
}
