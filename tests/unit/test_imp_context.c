/* agg-import's document context (importer/context.c: SPEC 11 ambiguity rules),
 * headers (columns.c) and objective headings (heading.c). */
#include "test.h"

#include "agg/regions.h"
#include "import.h"

static imp_region_names_t names;

static void load(void) {
    static bool loaded;
    char err[200];
    if (!loaded) {
        CHECK_I64(imp_region_names_load(&names, agg_default_regions_csv, err, sizeof err), 0);
        loaded = true;
    }
}

/* The context of a one- or two-line title. */
static imp_context_t ctx(const char *l1, const char *l2) {
    load();
    imp_title_line_t lines[2] = {{.text = l1, .where = "line 1"}, {.text = l2, .where = "line 2"}};
    imp_context_t c;
    imp_context_find(&c, lines, l2 ? 2 : 1, &names);
    return c;
}

static void regions_in_titles(void) {
    CHECK_STR(ctx("БАГАХАНГАЙ ДҮҮРГИЙН НИЙГМИЙН ДААТГАЛЫН ГАЗРЫН", NULL).region, "ub-bagakhangai");
    CHECK_STR(ctx("БАЯНГОЛ ДҮҮРГИЙН НИЙГМИЙН ДААТГАЛЫН ХЭЛТЭС", NULL).region, "ub-bayangol");
    CHECK_STR(ctx("Хөвсгөл аймгийн Нийгмийн даатгалын газар", NULL).region, "khuvsgul");
    CHECK_STR(ctx("Дорноговийн нийгмийн даатгалын газар", NULL).region, "dornogovi");
    CHECK_STR(ctx("ХАН-УУЛ ДҮҮРГИЙН тайлан", NULL).region, "ub-khan-uul");
    CHECK_STR(ctx("БАЯН-ӨЛГИЙ АЙМГИЙН", NULL).region, "bayan-ulgii");
    CHECK_STR(ctx("Сэлэнгийн нийгмийн даатгалын газар", NULL).region, "selenge");
    CHECK_STR(ctx("ЗАВХАНЫ НИЙГМИЙН ДААТГАЛ", NULL).region, "zavkhan");
    CHECK_STR(ctx("Говьсүмбэрийн", NULL).region, "govisumber");
    CHECK_STR(ctx("БЗД-ийн Нийгмийн даатгалын хэлтэс", NULL).region, "ub-bayanzurkh");
    CHECK_STR(ctx("СХД НДХ-ийн 2024 оны тайлан", NULL).region, "ub-songinokhairkhan");
    CHECK_STR(ctx("НД-ын хэлтэс", NULL).region, ""); /* НД = Нийгмийн даатгал */
    /* namesakes: the next word decides */
    CHECK_STR(ctx("СҮХБААТАР ДҮҮРГИЙН НИЙГМИЙН ДААТГАЛЫН ХЭЛТЭС", NULL).region, "ub-sukhbaatar");
    CHECK_STR(ctx("Сүхбаатар аймгийн Нийгмийн даатгалын газар", NULL).region, "sukhbaatar");
    imp_context_t c = ctx("Сүхбаатарын нийгмийн даатгал", NULL);
    CHECK_STR(c.region, "");
    CHECK(strstr(c.region_err, "both an aimag and a capital district") != NULL);
    /* a person's name, a soum, a common word are not regions */
    c = ctx("МЭРГЭЖИЛТЭН Н.ХӨВСГӨЛДАЛАЙГИЙН 2024 ОНЫ ГҮЙЦТГЭЛИЙН ТАЙЛАН", NULL);
    CHECK_STR(c.region, "");
    CHECK(strstr(c.region_err, "--region") != NULL);
    CHECK_STR(ctx("байцаагч Н.Хөвсгөл", NULL).region, "");
    CHECK_STR(ctx("Баянгол сумын тайлан", NULL).region, "");
    CHECK_STR(ctx("нийгмийн даатгалын төв, орон нутгийн нэгж", NULL).region, "");
    CHECK_STR(ctx("Төв аймгийн тайлан", NULL).region, "tuv");
    /* two regions: not found */
    c = ctx("Баянгол дүүргийн болон Хан-Уул дүүргийн", NULL);
    CHECK_STR(c.region, "");
    CHECK(strstr(c.region_err, "two regions") != NULL);
}

static void years(void) {
    /* the order's year in the preamble is not the report's */
    CHECK_I64(ctx("даргын 2023 оны 98 өугаар тушаалын", "2024 ОНЫ ГҮЙЦТГЭЛИЙН ТАЙЛАН").year, 2024);
    CHECK_I64(ctx("2026 ОНЫ ГҮЙЦЭТГЭЛИЙН ТӨЛӨВЛӨГӨӨ", "2026 он").year, 2026);
    CHECK_I64(ctx("ХӨТӨЛБӨРИЙН БИЕЛЭЛТ", "2024.06.20").year, 2024); /* the document date */
    imp_context_t c = ctx("2024 ОНЫ тайлан", "2025 оны төлөвлөгөө");
    CHECK_I64(c.year, 0);
    CHECK(strstr(c.year_err, "two years") != NULL);
    CHECK_I64(ctx("даргын 2023 оны 98 дугаар тушаал", NULL).year, 0);
}

static void periods(void) {
    CHECK_I64(ctx("2024 ОНЫ ЭХНИЙ ХАГАС ЖИЛИЙН ТАЙЛАН", NULL).quarter, 2);
    CHECK_I64(ctx("2024 оны I улирлын тайлан", NULL).quarter, 1);
    CHECK_I64(ctx("2024 оны II улирлын тайлан", NULL).quarter, 2);
    CHECK_I64(ctx("2024 оны I улирал", NULL).quarter, 1);
    CHECK_I64(ctx("2024 оны III улирал", NULL).quarter, 3);
    CHECK_I64(ctx("2024 оны IV улирал", NULL).quarter, 4);
    CHECK_I64(ctx("2024 ОНЫ ЖИЛИЙН ЭЦСИЙН ТАЙЛАН", NULL).quarter, 4);
    CHECK_I64(ctx("2024 ОНЫ ЖИЛИЙН ТАЙЛАН", NULL).quarter, 4);
    CHECK_I64(ctx("2024 оны 3-р улирлын тайлан", NULL).quarter, 3);
    CHECK_I64(ctx("2024 ОНЫ 9 САРЫН ТАЙЛАН", NULL).quarter, 3);
    imp_context_t c = ctx("2024 ОНЫ ГҮЙЦТГЭЛИЙН ТАЙЛАН", NULL);
    CHECK_I64(c.quarter, 0);
    CHECK(strstr(c.quarter_err, "--quarter") != NULL);
    CHECK_I64(ctx("ХАГАС ЖИЛ", "III улирал").quarter, 0); /* two cues */
}

static void plan_or_report(void) {
    CHECK_I64(ctx("2026 ОНЫ ГҮЙЦЭТГЭЛИЙН ТӨЛӨВЛӨГӨӨ", NULL).kind, IMP_KIND_PLAN);
    CHECK_I64(ctx("2024 ОНЫ ГҮЙЦТГЭЛИЙН ТАЙЛАН", NULL).kind, IMP_KIND_REPORT);
    CHECK_I64(ctx("ТӨЛӨВЛӨГӨӨНИЙ БИЕЛЭЛТ", NULL).kind, IMP_KIND_REPORT);
    CHECK_I64(ctx("НИЙГМИЙН ДААТГАЛЫН ЕРӨНХИЙ ГАЗАР", NULL).kind, IMP_KIND_UNKNOWN);
}

static void header_cells(void) {
    CHECK_I64(imp_header_kind("Д/д"), IMP_COL_NUM);
    CHECK_I64(imp_header_kind("Биелэлтийн хувь"), IMP_COL_COMPLETION);
    CHECK_I64(imp_header_kind("Биелэтийн хувь"), IMP_COL_COMPLETION);  /* seed 000 */
    CHECK_I64(imp_header_kind("Биелэл -тийн хувь"), IMP_COL_COMPLETION);
    CHECK_I64(imp_header_kind("БИЕЛЭЛТИЙН ХУВЬ"), IMP_COL_COMPLETION);
    CHECK_I64(imp_header_kind("Биелэлт"), IMP_COL_ACHIEVED);
    CHECK_I64(imp_header_kind("Хүрсэн түвшин (биелэлт)"), IMP_COL_ACHIEVED);
    CHECK_I64(imp_header_kind("Суурь түвшин"), IMP_COL_BASELINE);
    CHECK_I64(imp_header_kind("Хүрэх түвшин"), IMP_COL_TARGET);
    CHECK_I64(imp_header_kind("Зорилтот түвшин"), IMP_COL_TARGET);
    CHECK_I64(imp_header_kind("Хүрэх түвшин, үр дүнгийн үзүүлэлт"), IMP_COL_TARGET);
    CHECK_I64(imp_header_kind("Шалгуур үзүүлэлт"), IMP_COL_CRITERION);
    CHECK_I64(imp_header_kind("Зорилтыг хэрэгжүүлэх арга хэмжээ"), IMP_COL_MEASURE);
    CHECK_I64(imp_header_kind("Үндэсний хөтөлбөрт тусгагдсан үйл ажиллагаа"), IMP_COL_MEASURE);
    CHECK_I64(imp_header_kind("Зорилт"), IMP_COL_GOAL);
    CHECK_I64(imp_header_kind("Хугацаа I-IV улирал/"), IMP_COL_PERIOD);
    CHECK_I64(imp_header_kind("Эхэлсэн, дууссан хугацаа"), IMP_COL_PERIOD);
    CHECK_I64(imp_header_kind("Дуусах хугацаа"), IMP_COL_PERIOD_END);
    CHECK_I64(imp_header_kind("Төсөв"), IMP_COL_IGNORED);
    CHECK_I64(imp_header_kind("Хариуцах нэгж"), IMP_COL_IGNORED);
    CHECK_I64(imp_header_kind("Гүйцэтгэлийн түвшин"), IMP_COL_GROUP);
    CHECK_I64(imp_header_kind("2024 оны гүйцэтгэл"), IMP_COL_ACHIEVED);
    CHECK_I64(imp_header_kind("Хэмжих нэгж"), IMP_COL_UNIT);
    CHECK_I64(imp_header_kind("Хэрэгжилтийн хувь"), IMP_COL_COMPLETION);
    CHECK_I64(imp_header_kind("Гүйцэтгэл (%)"), IMP_COL_COMPLETION);
    CHECK_I64(imp_header_kind("Хэрэгжилт"), IMP_COL_ACHIEVED);
    CHECK_I64(imp_header_kind("Тайлант хугацаанд хийгдсэн ажил"), IMP_COL_ACHIEVED);
    CHECK_I64(imp_header_kind("Хэрэгжүүлэх арга хэмжээ"), IMP_COL_MEASURE);
    CHECK_I64(imp_header_kind("Стратегийн төлөвлөгөөний зорилго"), IMP_COL_IGNORED);
    CHECK_I64(imp_header_kind("Өнгө"), IMP_COL_NONE);
}

/* Seed 000's header: a level group over three sub-columns in a second row. */
static void two_row_header(void) {
    char *h1[8] = {"Д/д", "Зорилтыг хэрэгжүүлэх арга хэмжээ", "Шалгуур үзүүлэлт",
                   "Гүйцэтгэлийн түвшин", NULL, NULL, "Эхэлсэн, дууссан хугацаа",
                   "Биелэтийн хувь"};
    char *h2[8] = {NULL, NULL, NULL, "Суурь түвшин", "Хүрэх түвшин", "Хүрсэн түвшин (биелэлт)",
                   NULL, NULL};
    imp_colmap_t m;
    char notes[512], err[512];
    CHECK_I64(imp_colmap_build(&m, h1, h2, 8, notes, sizeof notes, err, sizeof err), 0);
    CHECK_I64(m.col_of[IMP_COL_NUM], 0);
    CHECK_I64(m.col_of[IMP_COL_BASELINE], 3);
    CHECK_I64(m.col_of[IMP_COL_TARGET], 4);
    CHECK_I64(m.col_of[IMP_COL_ACHIEVED], 5);
    CHECK_I64(m.col_of[IMP_COL_COMPLETION], 7);
    CHECK(imp_is_header_row(h1, 8, 2));
    char *prose[4] = {NULL, "гүйцэтгэлийг хангах", NULL, "хугацаанд нь"};
    CHECK(!imp_is_header_row(prose, 4, 2));
    /* a level over half-year sub-columns: the later one */
    char *g1[5] = {"Д/д", "Шалгуур үзүүлэлт", "Хүрэх түвшин", NULL, "Эхлэх хугацаа"};
    char *g2[5] = {NULL, NULL, "Эхний хагас жил", "Сүүлийн хагас жил", NULL};
    CHECK_I64(imp_colmap_build(&m, g1, g2, 5, notes, sizeof notes, err, sizeof err), 0);
    CHECK_I64(m.col_of[IMP_COL_TARGET], 3);
    CHECK(strstr(notes, "not used") != NULL);
    /* unrecognised columns are an error listing the headers */
    char *bad[3] = {"Нэр", "Өнгө", "Тоо"};
    CHECK_I64(imp_colmap_build(&m, bad, NULL, 3, notes, sizeof notes, err, sizeof err), -1);
    CHECK(strstr(err, "[Өнгө]") != NULL);
    char *num[8] = {"1", "2", "3", "4", "5", "6", "7", NULL};
    CHECK(imp_is_numbering_row(num, 8));
    char *data[4] = {"1.3 Авлигын арга хэмжээ", "Шалгуур үзүүлэлт", "5", NULL};
    CHECK(!imp_is_header_row(data, 4, 2));
}

static void headings(void) {
    int level;
    char code[40];
    CHECK(imp_heading_parse("Зорилт 6.1. Нийгмийн даатгалын багц хуулиуд", &level, code, sizeof code));
    CHECK_I64(level, 2);
    CHECK_STR(code, "6.1");
    CHECK(imp_heading_parse("Зорилт 10. Төрийн захиргааны", &level, code, sizeof code));
    CHECK_I64(level, 1);
    CHECK_STR(code, "10");
    CHECK(imp_heading_parse("Стратегийн төлөвлөгөөний зорилго 2: Нийгмийн", &level, code, sizeof code));
    CHECK_I64(level, 0);
    CHECK(imp_heading_parse("Нэг. Бодлогын баримт бичигт тусгагдсан зорилт.", &level, code, sizeof code));
    CHECK_STR(code, "1");
    CHECK(imp_heading_parse("ХОЁР. МЭДЛЭГ ЧАДВАРАА ДЭЭШЛҮҮЛЭХ", &level, code, sizeof code));
    CHECK_STR(code, "2");
    CHECK(imp_heading_parse("ТАБ. 2024 ОНЫ НЭРЛЭСЭН ЖИЛИЙН", &level, code, sizeof code));
    CHECK_STR(code, "5");
    CHECK(imp_heading_parse("ЗУРГАА. ёС ЗҮЙ", &level, code, sizeof code));
    CHECK_STR(code, "6");
    CHECK(!imp_heading_parse("Зорилтыг хэрэгжүүлэх арга хэмжээ", &level, code, sizeof code));
    CHECK(!imp_heading_parse("Нэгдсэн сан", &level, code, sizeof code));
    CHECK(!imp_heading_parse("3.2.1", &level, code, sizeof code));
}

TEST_MAIN(TEST(regions_in_titles), TEST(years), TEST(periods), TEST(plan_or_report),
          TEST(header_cells), TEST(two_row_header), TEST(headings))
