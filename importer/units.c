/* The unit of a row (SPEC 11, DOMAIN.md): from how its numbers are written first (%,
 * төгрөг, сая/тэрбум, a word for people), then from the criterion's words (хувь,
 * төгрөг, "тоо" of people); count otherwise. Text rows never get here. */
#include "import.h"
#include "text.h"
#include "value.h"

#include <string.h>

static bool has_word(const char *folded, const char *w) { return strstr(folded, w) != NULL; }

agg_unit_t imp_unit_infer(const imp_value_t *v, int nv, const char *label, bool *mixed) {
    bool pct = false, money = false;
    *mixed = false;
    for (int i = 0; i < nv; i++) {
        if (v[i].kind != IMP_VAL_NUMBER)
            continue;
        pct |= v[i].percent;
        money |= v[i].money || v[i].scale >= 6;
    }
    if (pct && money) {
        *mixed = true;
        return AGG_UNIT_TEXT;
    }
    if (pct)
        return AGG_UNIT_PCT;
    if (money)
        return AGG_UNIT_MNT;
    for (int i = 0; i < nv; i++)
        if (v[i].kind == IMP_VAL_NUMBER && v[i].person)
            return AGG_UNIT_PERSON;
    char f[1024];
    imp_text_fold(label, strlen(label), f, sizeof f, false);
    if (has_word(f, "хувь"))
        return AGG_UNIT_PCT;
    if (has_word(f, "төгрөг"))
        return AGG_UNIT_MNT;
    static const char *const people[] = {"хүний тоо", "хүн ", "иргэд", "иргэний тоо",
                                         "даатгуулагч", "албан хаагч", "оролцогч", "ажилтн",
                                         "хамрагдагсд", "малчд", "хүүхд"};
    if (has_word(f, "тоо"))
        for (size_t i = 0; i < sizeof people / sizeof people[0]; i++)
            if (has_word(f, people[i]))
                return AGG_UNIT_PERSON;
    return AGG_UNIT_COUNT;
}

