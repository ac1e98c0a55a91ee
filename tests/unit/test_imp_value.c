/* agg-import's number parser (importer/value.c) on every example of DOMAIN.md and the
 * value cells of the seeds, and the plan quarters (importer/quarters.c). */
#include "test.h"

#include "import.h"
#include "value.h"

/* The cell s is a number: x100, percent, money. */
#define NUM(s, want, pct, mon)                                                         \
    do {                                                                               \
        imp_value_t v_;                                                                \
        imp_value_parse(s, &v_);                                                       \
        CHECK_I64(v_.kind, IMP_VAL_NUMBER);                                            \
        CHECK_I64(v_.x100, want);                                                      \
        CHECK_I64(v_.percent, pct);                                                    \
        CHECK_I64(v_.money, mon);                                                      \
    } while (0)
#define KIND(s, want)                                                                  \
    do {                                                                               \
        imp_value_t v_;                                                                \
        imp_value_parse(s, &v_);                                                       \
        CHECK_I64(v_.kind, want);                                                      \
    } while (0)

static void decimal_comma_and_point(void) {
    NUM("75,8", 7580, 0, 0);
    NUM("75.8", 7580, 0, 0);
    NUM("110,3%", 11030, 1, 0);
    NUM("99,94%", 9994, 1, 0);
    NUM("4525.0", 452500, 0, 0);  /* seed 003, 6.2.1 */
    NUM("5332,5", 533250, 0, 0);
    NUM("127.84", 12784, 0, 0);
    NUM("102.27", 10227, 0, 0);
    NUM("12,2%", 1220, 1, 0);
    NUM("98,8%", 9880, 1, 0);
    NUM("-5", -500, 0, 0);
    NUM("0%", 0, 1, 0);
}

static void thousands_separators(void) {
    NUM("1,081", 108100, 0, 0);          /* a count */
    NUM("1,141", 114100, 0, 0);
    NUM("13,301,381,100", 1330138110000, 0, 0); /* tugrik */
    NUM("20.249", 2024900, 0, 0);        /* followers, a dot as separator */
    NUM("1.234,5", 123450, 0, 0);        /* thousands dot, decimal comma */
    NUM("1,234.5", 123450, 0, 0);
    NUM("13 301 381 100", 1330138110000, 0, 0); /* spaces as separators */
    NUM("1 081", 108100, 0, 0);
    NUM("1 234,5", 123450, 0, 0);
    NUM("12 000 сая төгрөг", 1200000000000, 0, 1);
    KIND("78 72,9%", IMP_VAL_TEXT);      /* two quantities, not a grouping */
    KIND("17 68,0%", IMP_VAL_TEXT);
    KIND("1 08", IMP_VAL_TEXT);
    KIND("1,2,3", IMP_VAL_TEXT);         /* groups of one digit: not a number */
    KIND("1234,567", IMP_VAL_TEXT);      /* three decimals, not a grouping */
}

static void scale_words(void) {
    NUM("9.7 тэрбум", 970000000000, 0, 0);     /* = 9 700 000 000 */
    NUM("10.6 тэрбум", 1060000000000, 0, 0);
    NUM("273.1 сая", 27310000000, 0, 0);       /* = 273 100 000 */
    NUM("273.0 сая", 27300000000, 0, 0);
    NUM("1370,7 мянган төгрөг", 137070000, 0, 1); /* = 1 370 700 */
    NUM("20,0 мянган төгрөгийн", 2000000, 0, 1); /* seed 000, 5.1.2 */
    NUM("2,0 мянга төгрөг", 200000, 0, 1);
    NUM("4117.3 сая төгрөг", 411730000000, 0, 1); /* seed 001, 3.1 */
    KIND("1370,7 маянган төгрөг", IMP_VAL_TEXT); /* a misspelt scale word is text */
    KIND("9.765 тэрбум", IMP_VAL_TEXT);          /* 9 765 or 9.765 billion? */
    KIND("1.2345", IMP_VAL_TEXT);                /* more than 2 decimals */
}

static void percent_forms(void) {
    NUM("100 %", 10000, 1, 0);
    NUM("100%", 10000, 1, 0);
    NUM("5%,", 500, 1, 0); /* seed 003, 7.3: a trailing comma */
    NUM("60 хувь", 6000, 1, 0);
    NUM("100", 10000, 0, 0); /* percent sign missing: the unit decides */
}

static void counting_words(void) {
    NUM("12 удаа", 1200, 0, 0);
    NUM("3 хүн", 300, 0, 0);
    NUM("146 иргэн", 14600, 0, 0);
    imp_value_t v;
    imp_value_parse("3 хүн", &v);
    CHECK(v.person);
    imp_value_parse("12 удаа", &v);
    CHECK(!v.person);
    KIND("12 удаа зохион байгуулсан", IMP_VAL_TEXT); /* a sentence */
    KIND("5 хүн 3 удаа", IMP_VAL_TEXT);
}

static void not_numbers(void) {
    KIND("", IMP_VAL_EMPTY);
    KIND("-", IMP_VAL_NONE);
    KIND("–", IMP_VAL_NONE);
    KIND("Сайн", IMP_VAL_TEXT);
    KIND("\"Сайн\"", IMP_VAL_TEXT);
    KIND("Өөрчлөлтгүй", IMP_VAL_TEXT);
    KIND("“Өөрчлөлтгүй”", IMP_VAL_TEXT);
    KIND("Тухай бүр", IMP_VAL_TEXT);
    KIND("1,081 110,3%", IMP_VAL_TEXT); /* two quantities in one cell (seed 003, 1.4) */
    KIND("78 72,9%", IMP_VAL_TEXT);
    KIND("зөрчлийн 70.0 аас доошгүй", IMP_VAL_TEXT); /* a number inside a sentence */
    KIND("АО – 69 Иргэд, даат-ч - 500", IMP_VAL_TEXT);
    KIND("Иргэд, даат-ч - 300", IMP_VAL_TEXT);
    KIND("10000000000001", IMP_VAL_TEXT); /* above 10^13 */
    KIND("100 % сая", IMP_VAL_TEXT);
}

static void completion_column(void) {
    int32_t c = -1;
    const char *why, *note;
    CHECK_I64(imp_completion_parse("75,8", &c, &why, &note), 1);
    CHECK_I64(c, 7580);
    CHECK_I64(imp_completion_parse("100 %", &c, &why, &note), 1);
    CHECK_I64(c, 10000);
    CHECK_I64(imp_completion_parse("110,3%", &c, &why, &note), 1);
    CHECK_I64(c, 11030); /* kept as written above 100 */
    CHECK_I64(imp_completion_parse("100", &c, &why, &note), 1);
    CHECK_I64(imp_completion_parse("", &c, &why, &note), 0);
    CHECK_I64(imp_completion_parse("-", &c, &why, &note), 0);
    CHECK_I64(imp_completion_parse("Улира л бүр", &c, &why, &note), -1);
    CHECK(why != NULL);
    CHECK_I64(imp_completion_parse("1500", &c, &why, &note), -1);
    CHECK_I64(imp_completion_parse("9.7 тэрбум", &c, &why, &note), -1);
    CHECK_I64(imp_completion_parse("100 % II, улира л", &c, &why, &note), 1);
    CHECK_I64(c, 10000);
    CHECK(note != NULL);
    CHECK_I64(imp_completion_parse("100 % 2 улирал", &c, &why, &note), -1);
}

static void plan_quarters(void) {
    char q[32];
    CHECK(imp_quarters_parse("I-IV улирал", "", q, sizeof q));
    CHECK_STR(q, "1-4");
    CHECK(imp_quarters_parse("I-II улирал", "", q, sizeof q));
    CHECK_STR(q, "1-2");
    CHECK(imp_quarters_parse("II,IV улирал", "", q, sizeof q));
    CHECK_STR(q, "2,4");
    CHECK(imp_quarters_parse("I улирал", "", q, sizeof q));
    CHECK_STR(q, "1");
    CHECK(imp_quarters_parse("III улирал", "", q, sizeof q));
    CHECK_STR(q, "3");
    CHECK(imp_quarters_parse("IV улирал", "", q, sizeof q));
    CHECK_STR(q, "4");
    CHECK(imp_quarters_parse("II-IV улирал", "", q, sizeof q));
    CHECK_STR(q, "2-4");
    CHECK(imp_quarters_parse("I-III улирал", "", q, sizeof q));
    CHECK_STR(q, "1-3");
    CHECK(imp_quarters_parse("1-4 улиралд", "", q, sizeof q));
    CHECK_STR(q, "1-4");
    CHECK(imp_quarters_parse("I-II улира л", "", q, sizeof q)); /* seed 000's typo */
    CHECK_STR(q, "1-2");
    CHECK(imp_quarters_parse("Сар бүр", "", q, sizeof q));
    CHECK_STR(q, "1-4");
    CHECK(imp_quarters_parse("Улирал бүр", "", q, sizeof q));
    CHECK_STR(q, "1-4");
    CHECK(imp_quarters_parse("Жилд", "", q, sizeof q));
    CHECK_STR(q, "1-4");
    CHECK(imp_quarters_parse("2026.01.01", "2026.12.31", q, sizeof q));
    CHECK_STR(q, "1-4");
    CHECK(imp_quarters_parse("2024.01.02 2024-06.30", "", q, sizeof q));
    CHECK_STR(q, "1-2");
    CHECK(!imp_quarters_parse("Тухай бүр", "", q, sizeof q));
    CHECK(!imp_quarters_parse("", "", q, sizeof q));
}

TEST_MAIN(TEST(decimal_comma_and_point), TEST(thousands_separators), TEST(scale_words),
          TEST(percent_forms), TEST(counting_words), TEST(not_numbers), TEST(completion_column), TEST(plan_quarters))
