/* agg-import's readers (docx, Word text export, markdown, CSV) into the table model,
 * and the interpreter (convert.c) over each: the same table read from every format
 * gives the same rows. The .docx is built here with libzip from an inline
 * document.xml (gridSpan, vMerge, two paragraphs in a cell, two tables, a heading
 * between them). */
#include "test.h"

#include <stdlib.h>
#include <unistd.h>
#include <zip.h>

#include "docx_numbering.h"
#include "import.h"
#include "readers.h"

static const char *cell_text(const imp_doc_t *d, size_t block, size_t cell) {
    if (block >= d->count || cell >= d->block[block].ncells)
        return "<none>";
    return d->block[block].cell[cell].text;
}

/* Converts doc and returns the result (the caller frees it). */
static imp_result_t convert(const imp_doc_t *doc) {
    imp_result_t res;
    memset(&res, 0, sizeof res);
    imp_convert_opts_t o = {.goal_rule = IMP_GOALS_AUTO, .goal_depth = 1};
    char err[200];
    CHECK_I64(imp_convert(doc, &o, &res, err, sizeof err), 0);
    return res;
}

static const imp_out_row_t *row_of(const imp_result_t *r, const char *indicator) {
    for (size_t i = 0; i < r->nrows; i++)
        if (strcmp(r->row[i].indicator, indicator) == 0)
            return &r->row[i];
    return NULL;
}

/* Reads text t (a Word text export) into *d and converts it; the caller frees both. */
static imp_result_t text_rows(const char *t, imp_doc_t *d) {
    char err[200];
    memset(d, 0, sizeof *d);
    CHECK_I64(imp_read_text(t, strlen(t), d, err, sizeof err), 0);
    return convert(d);
}

/* The rows every format below must give: 1.1 count, 1.1#2 pct (sub-row), 2.1 mnt. */
static void expect_rows(const imp_result_t *r) {
    CHECK_I64(r->nrows, 3);
    const imp_out_row_t *a = row_of(r, "1.1"), *b = row_of(r, "1.1#2"), *c = row_of(r, "2.1");
    CHECK(a && b && c);
    if (!a || !b || !c)
        return;
    CHECK_STR(a->goal, "1");
    CHECK_STR(a->title, "Сургалтын тоо");
    CHECK_I64(a->unit, AGG_UNIT_COUNT);
    CHECK_I64(a->target_x100, 400);
    CHECK_I64(a->achieved_x100, 500);
    CHECK_I64(a->completion_x100, 12500);
    CHECK_I64(b->unit, AGG_UNIT_PCT);
    CHECK_I64(b->achieved_x100, 9880);
    CHECK_STR(c->goal, "2");
    CHECK_I64(c->unit, AGG_UNIT_MNT);
    CHECK_I64(c->target_x100, 27310000000);
    CHECK(!c->has_completion);
}

static void text_export(void) {
    const char *t = "БАЯНГОЛ ДҮҮРГИЙН 2024 ОНЫ ХАГАС ЖИЛИЙН ТАЙЛАН\n"
                    "Д/д\tАрга хэмжээ\tШалгуур үзүүлэлт\tХүрэх түвшин\tХүрсэн түвшин\tБиелэлтийн хувь\n"
                    "1\t2\t3\t4\t5\t6\n"
                    "**Нэг. Сургалт**\n"
                    "1.1.\t<p>Сургалт</p>\tСургалтын тоо\t4\t5\t125 %\n"
                    "\tзохион байгуулах\t\t\t\t\n"
                    "\t\tХамрагдсан хувь\t100%\t98,8%\t\n"
                    "-----\t---\t---\t--\t--\t--\n"
                    "Хоёр. Төсөв\n"
                    "2.1\tТөсөв зарцуулах\tБатлагдсан төсөв\t273.1 сая\t-\t\n";
    imp_doc_t d;
    memset(&d, 0, sizeof d);
    char err[200];
    CHECK_I64(imp_format_detect(t, strlen(t)), IMP_FMT_TEXT);
    CHECK_I64(imp_read_text(t, strlen(t), &d, err, sizeof err), 0);
    CHECK(d.loose);
    CHECK_I64(d.block[0].kind, IMP_PARA);
    CHECK_STR(cell_text(&d, 4, 1), "Сургалт"); /* <p> removed */
    CHECK(d.block[7].sep);
    CHECK_STR(d.block[3].text, "Нэг. Сургалт"); /* ** removed */
    imp_result_t r = convert(&d);
    expect_rows(&r);
    const imp_out_row_t *a = row_of(&r, "1.1");
    CHECK(a != NULL);
    imp_result_free(&r);
    imp_doc_free(&d);
}

static void markdown_in_pieces(void) {
    const char *t =
        "# БАЯНГОЛ ДҮҮРГИЙН 2024 ОНЫ ХАГАС ЖИЛИЙН ТАЙЛАН\n\n"
        "| Д/д | Арга хэмжээ | Шалгуур үзүүлэлт | Хүрэх түвшин | Хүрсэн түвшин | Биелэлтийн хувь |\n"
        "|---|---|---|---|---|:---:|\n"
        "| **Нэг. Сургалт** | | | | | |\n"
        "| 1.1. | Сургалт<br>зохион байгуулах | Сургалтын тоо | 4 | 5 | 125 % |\n"
        "\n"
        "| Д/д | Арга хэмжээ | Шалгуур үзүүлэлт | Хүрэх түвшин | Хүрсэн түвшин | Биелэлтийн хувь |\n"
        "|---|---|---|---|---|---|\n"
        "| | | Хамрагдсан хувь | 100% | 98,8% | |\n"
        "\n"
        "| | | | | | |\n"
        "|---|---|---|---|---|---|\n"
        "| Хоёр. Төсөв | | | | | |\n"
        "| 2.1 | Төсөв \\| зардал | Батлагдсан төсөв | 273.1 сая | - | |\n";
    imp_doc_t d;
    memset(&d, 0, sizeof d);
    char err[200];
    CHECK_I64(imp_format_detect(t, strlen(t)), IMP_FMT_MARKDOWN);
    CHECK_I64(imp_read_markdown(t, strlen(t), &d, err, sizeof err), 0);
    CHECK(d.block[2].sep);
    CHECK_STR(cell_text(&d, 4, 1), "Сургалт зохион байгуулах");
    imp_result_t r = convert(&d);
    expect_rows(&r);
    bool repeated = false;
    for (size_t i = 0; i < r.nnotes; i++)
        repeated |= strstr(r.note[i].msg, "the header again") != NULL;
    CHECK(repeated);
    imp_result_free(&r);
    imp_doc_free(&d);
}

static void csv_with_mongolian_headers(void) {
    const char *t = "\"Д/д\",\"Арга хэмжээ\",\"Шалгуур үзүүлэлт\",\"Хүрэх түвшин\",\"Хүрсэн түвшин\","
                    "\"Биелэлтийн хувь\"\n"
                    "Нэг. Сургалт,,,,,\n"
                    "1.1,\"Сургалт, зохион байгуулах\",Сургалтын тоо,4,5,125 %\n"
                    ",,Хамрагдсан хувь,100%,\"98,8%\",\n"
                    "Хоёр. Төсөв,,,,,\n"
                    "2.1,Төсөв,Батлагдсан төсөв,273.1 сая,-,\n";
    imp_doc_t d;
    memset(&d, 0, sizeof d);
    char err[200];
    CHECK_I64(imp_format_detect(t, strlen(t)), IMP_FMT_CSV);
    CHECK_I64(imp_read_csv(t, strlen(t), &d, err, sizeof err), 0);
    CHECK(!d.loose);
    CHECK_STR(cell_text(&d, 2, 1), "Сургалт, зохион байгуулах");
    imp_result_t r = convert(&d);
    expect_rows(&r);
    imp_result_free(&r);
    imp_doc_free(&d);
}

/* Writes a .docx holding document.xml xml and, when header is not NULL, a page
 * header part; returns its bytes (caller frees). */
static char *make_docx_parts(const char *xml, const char *header, size_t *len);
static char *make_docx(const char *xml, size_t *len) { return make_docx_parts(xml, NULL, len); }

static char *make_docx_parts(const char *xml, const char *header, size_t *len) {
    char path[] = "/tmp/test_imp_docx.XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return NULL;
    close(fd);
    int zerr;
    zip_t *z = zip_open(path, ZIP_TRUNCATE, &zerr);
    CHECK(z != NULL);
    zip_source_t *s = z ? zip_source_buffer(z, xml, strlen(xml), 0) : NULL;
    CHECK(s != NULL);
    CHECK(z && s && zip_file_add(z, "word/document.xml", s, ZIP_FL_ENC_UTF_8) >= 0);
    if (z && header) {
        zip_source_t *h = zip_source_buffer(z, header, strlen(header), 0);
        CHECK(h && zip_file_add(z, "word/header1.xml", h, ZIP_FL_ENC_UTF_8) >= 0);
    }
    CHECK(z && zip_close(z) == 0);
    FILE *f = fopen(path, "rb");
    char *buf = malloc(1 << 16);
    *len = f && buf ? fread(buf, 1, 1 << 16, f) : 0;
    if (f)
        fclose(f);
    unlink(path);
    return buf;
}

#define W "xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\""
#define P(t) "<w:p><w:r><w:t>" t "</w:t></w:r></w:p>"
#define TC(pr, body) "<w:tc><w:tcPr>" pr "</w:tcPr>" body "</w:tc>"

static void docx_tables(void) {
    const char *xml =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><w:document " W "><w:body>"
        P("БАЯНГОЛ ДҮҮРГИЙН 2024 ОНЫ ХАГАС ЖИЛИЙН ТАЙЛАН")
        "<w:tbl>"
        "<w:tr>" TC("", P("Д/д")) TC("", P("Арга хэмжээ")) TC("", P("Шалгуур үзүүлэлт"))
        TC("<w:gridSpan w:val=\"2\"/>", P("Гүйцэтгэлийн түвшин")) TC("", P("Биелэлтийн хувь")) "</w:tr>"
        "<w:tr>" TC("", "") TC("", "") TC("", "") TC("", P("Хүрэх түвшин")) TC("", P("Хүрсэн түвшин"))
        TC("", "") "</w:tr>"
        "<w:tr>" TC("<w:gridSpan w:val=\"6\"/>", P("Нэг. Сургалт")) "</w:tr>"
        "<w:tr>" TC("<w:vMerge w:val=\"restart\"/>", P("1.1."))
        TC("", P("Сургалт") P("зохион байгуулах")) TC("", P("Сургалтын тоо")) TC("", P("4"))
        TC("", "<w:p><w:r><w:t>5</w:t></w:r><w:r><w:delText>9</w:delText></w:r></w:p>")
        TC("", P("125 %")) "</w:tr>"
        "<w:tr>" TC("<w:vMerge/>", "") TC("", "") TC("", P("Хамрагдсан хувь")) TC("", P("100%"))
        TC("", P("98,8%")) TC("", "") "</w:tr>"
        "</w:tbl>"
        P("Хоёр. Төсөв")
        "<w:tbl><w:tr>" TC("", P("Д/д")) TC("", P("Арга хэмжээ")) TC("", P("Шалгуур үзүүлэлт"))
        TC("", P("Хүрэх түвшин")) TC("", P("Хүрсэн түвшин")) TC("", P("Биелэлтийн хувь")) "</w:tr>"
        "<w:tr>" TC("", P("2.1")) TC("", P("Төсөв")) TC("", P("Батлагдсан төсөв"))
        TC("", P("273.1 сая")) TC("", P("-")) TC("", "") "</w:tr></w:tbl>"
        "</w:body></w:document>";
    size_t len = 0;
    char *data = make_docx(xml, &len);
    CHECK(data != NULL && len > 0);
    if (!data)
        return;
    imp_doc_t d;
    memset(&d, 0, sizeof d);
    char err[300];
    CHECK_I64(imp_format_detect(data, len), IMP_FMT_DOCX);
    CHECK_I64(imp_read_docx(data, len, &d, err, sizeof err), 0);
    CHECK(!d.loose);
    CHECK_I64(d.block[1].table, 1);
    CHECK_I64(d.block[1].cell[3].span, 2);
    CHECK_I64(d.block[1].cell[4].col, 5); /* after the span */
    CHECK_STR(cell_text(&d, 4, 1), "Сургалт зохион байгуулах");
    CHECK_STR(cell_text(&d, 4, 4), "5"); /* deleted text is not read */
    CHECK(d.block[5].cell[0].vmerge_cont);
    char where[48];
    imp_where(&d.block[4], 2, where, sizeof where);
    CHECK_STR(where, "table 1 row 4 cell 3");
    imp_result_t r = convert(&d);
    expect_rows(&r);
    imp_result_free(&r);
    imp_doc_free(&d);
    free(data);
}

/* The page header's paragraphs come first, as "page header". */
static void docx_page_header(void) {
    const char *body = "<w:document " W "><w:body>" P("2024 ОНЫ ХАГАС ЖИЛИЙН ТАЙЛАН")
                       "</w:body></w:document>";
    const char *hdr = "<w:hdr " W ">" P("ХЭНТИЙ АЙМГИЙН НИЙГМИЙН ДААТГАЛЫН ГАЗАР") "</w:hdr>";
    size_t len;
    char *data = make_docx_parts(body, hdr, &len);
    imp_doc_t d;
    memset(&d, 0, sizeof d);
    char err[300], where[48];
    CHECK_I64(imp_read_docx(data, len, &d, err, sizeof err), 0);
    CHECK_I64(d.count, 2);
    if (d.count == 2) {
        CHECK_STR(d.block[0].text, "ХЭНТИЙ АЙМГИЙН НИЙГМИЙН ДААТГАЛЫН ГАЗАР");
        imp_where(&d.block[0], -1, where, sizeof where);
        CHECK_STR(where, "page header");
        imp_where(&d.block[1], -1, where, sizeof where);
        CHECK_STR(where, "paragraph 1");
    }
    imp_doc_free(&d);
    free(data);
}

static void docx_errors(void) {
    imp_doc_t d;
    memset(&d, 0, sizeof d);
    char err[300];
    CHECK_I64(imp_read_docx("PK\x03\x04garbage", 11, &d, err, sizeof err), -1);
    CHECK(strstr(err, "zip") != NULL);
    imp_doc_free(&d);
    size_t len;
    char *data = make_docx("<w:document " W "><w:body><w:p>", &len);
    memset(&d, 0, sizeof d);
    CHECK_I64(imp_read_docx(data, len, &d, err, sizeof err), -1);
    CHECK(strstr(err, "not well-formed") != NULL);
    imp_doc_free(&d);
    free(data);
    data = make_docx("<?xml version=\"1.0\"?><other/>", &len);
    memset(&d, 0, sizeof d);
    CHECK_I64(imp_read_docx(data, len, &d, err, sizeof err), -1);
    CHECK(strstr(err, "w:body") != NULL);
    imp_doc_free(&d);
    free(data);
}

static void hostile_text(void) {
    /* very long lines, many columns, control bytes: bounded, no crash */
    size_t n = 200000;
    char *t = malloc(n + 1);
    CHECK(t != NULL);
    if (!t)
        return;
    for (size_t i = 0; i < n; i++)
        t[i] = i % 7 == 0 ? '\t' : i % 1000 == 999 ? '\n' : 'x';
    t[n] = '\0';
    imp_doc_t d;
    memset(&d, 0, sizeof d);
    char err[200];
    int rc = imp_read_text(t, n, &d, err, sizeof err);
    CHECK(rc == -1 && strstr(err, "columns") != NULL);
    imp_doc_free(&d);
    memset(&d, 0, sizeof d);
    CHECK_I64(imp_read_text("a\0b\tc", 5, &d, err, sizeof err), -1);
    CHECK(strstr(err, "NUL") != NULL);
    imp_doc_free(&d);
    free(t);
}

/* An objective column instead of headings, Д/д restarting per objective, spaces as
 * thousands separators, "Биелэлт (%)" as the completion column. */
static void objective_column(void) {
    const char *t = "Зорилт\tД/д\tШалгуур үзүүлэлт\tХүрэх түвшин\tХүрсэн түвшин\tБиелэлт (%)\n"
                    "6.1. Хяналт шалгалт\t1\tШалгасан ААНБ-ын тоо\t10\t12\t120\n"
                    "\t2\tХамрагдсан иргэдийн тоо\t1 200\t1 150\t95,8\n"
                    "6.2\t1\tОрлого\t12 000 сая төгрөг\t11 500 сая төгрөг\t95,83\n";
    imp_doc_t d;
    imp_result_t r = text_rows(t, &d);
    CHECK_I64(r.nrows, 3);
    const imp_out_row_t *a = row_of(&r, "2"), *b = row_of(&r, "1#2");
    CHECK(a && b);
    if (a && b) {
        CHECK_STR(a->goal, "6.1");
        CHECK_I64(a->unit, AGG_UNIT_PERSON);
        CHECK_I64(a->target_x100, 120000);
        CHECK_I64(a->completion_x100, 9580);
        CHECK_STR(b->goal, "6.2");
        CHECK_I64(b->unit, AGG_UNIT_MNT);
        CHECK_I64(b->achieved_x100, 1150000000000);
    }
    imp_result_free(&r);
    imp_doc_free(&d);
}

/* Numbered section rows with nothing but a title are headings; "Биелэлт" split into
 * "Тоо | Хувь" gives achieved and completion. */
static void numbered_sections(void) {
    const char *t = "Д/д\tАрга хэмжээ\tШалгуур үзүүлэлт\tХүрэх түвшин\tБиелэлт\t\n"
                    "\t\t\t\tТоо\tХувь\n"
                    "1.\tБодлогын баримт бичиг\t\t\t\t\n"
                    "1.1\tСургалт\tСургалтын тоо\t4\t5\t125\n"
                    "1.2\tОрлого\tОрлого\t1.5 тэрбум\t1.2 тэрбум\t80 %\n"
                    "2.\tХоёр дахь хэсэг\t\t\t\t\n"
                    "2.1\tА\tХамрагдсан хүний тоо\t10\t10\t100\n";
    imp_doc_t d;
    imp_result_t r = text_rows(t, &d);
    CHECK_I64(r.nrows, 3);
    const imp_out_row_t *a = row_of(&r, "1.2"), *b = row_of(&r, "2.1");
    CHECK(a && b && row_of(&r, "1") == NULL);
    if (a && b) {
        CHECK_STR(a->goal, "1");
        CHECK_I64(a->achieved_x100, 120000000000);
        CHECK_I64(a->completion_x100, 8000);
        CHECK_STR(b->goal, "2");
        CHECK_I64(b->unit, AGG_UNIT_PERSON);
    }
    imp_result_free(&r);
    imp_doc_free(&d);
}

/* Word list labels: multi-level decimal, roman, letters, a restarted instance. */
static void word_numbering(void) {
    const char *xml =
        "<w:numbering " W ">"
        "<w:abstractNum w:abstractNumId=\"3\">"
        "<w:lvl w:ilvl=\"0\"><w:start w:val=\"1\"/><w:numFmt w:val=\"upperRoman\"/>"
        "<w:lvlText w:val=\"%1.\"/></w:lvl>"
        "<w:lvl w:ilvl=\"1\"><w:start w:val=\"1\"/><w:numFmt w:val=\"decimal\"/>"
        "<w:lvlText w:val=\"%1.%2.\"/></w:lvl>"
        "<w:lvl w:ilvl=\"2\"><w:numFmt w:val=\"bullet\"/><w:lvlText w:val=\"o\"/></w:lvl>"
        "</w:abstractNum>"
        "<w:abstractNum w:abstractNumId=\"4\"><w:lvl w:ilvl=\"0\"><w:start w:val=\"1\"/>"
        "<w:numFmt w:val=\"lowerLetter\"/><w:lvlText w:val=\"%1)\"/></w:lvl></w:abstractNum>"
        "<w:num w:numId=\"1\"><w:abstractNumId w:val=\"3\"/></w:num>"
        "<w:num w:numId=\"2\"><w:abstractNumId w:val=\"4\"/></w:num>"
        "<w:num w:numId=\"5\"><w:abstractNumId w:val=\"4\"/>"
        "<w:lvlOverride w:ilvl=\"0\"><w:startOverride w:val=\"1\"/></w:lvlOverride></w:num>"
        "</w:numbering>";
    imp_numbering_t *n = imp_numbering_new(xml, strlen(xml));
    CHECK(n != NULL);
    char l[64];
    imp_numbering_next(n, 1, 0, l, sizeof l);
    CHECK_STR(l, "I.");
    imp_numbering_next(n, 1, 1, l, sizeof l);
    CHECK_STR(l, "I.1."); /* %1 in the parent's format */
    imp_numbering_next(n, 1, 1, l, sizeof l);
    CHECK_STR(l, "I.2.");
    imp_numbering_next(n, 1, 2, l, sizeof l);
    CHECK_STR(l, ""); /* a bullet has no label */
    imp_numbering_next(n, 1, 0, l, sizeof l);
    CHECK_STR(l, "II.");
    imp_numbering_next(n, 1, 1, l, sizeof l);
    CHECK_STR(l, "II.1."); /* the deeper level restarts */
    imp_numbering_next(n, 2, 0, l, sizeof l);
    CHECK_STR(l, "a)");
    imp_numbering_next(n, 2, 0, l, sizeof l);
    CHECK_STR(l, "b)");
    imp_numbering_next(n, 5, 0, l, sizeof l);
    CHECK_STR(l, "a)"); /* restarted by startOverride */
    imp_numbering_next(n, 9, 0, l, sizeof l);
    CHECK_STR(l, ""); /* unknown list */
    /* numbering through paragraph styles, inherited with basedOn */
    const char *styles = "<w:styles " W ">"
                         "<w:style w:styleId=\"Heading1\"><w:pPr><w:numPr><w:ilvl w:val=\"0\"/>"
                         "<w:numId w:val=\"1\"/></w:numPr></w:pPr></w:style>"
                         "<w:style w:styleId=\"Goal\"><w:basedOn w:val=\"Heading1\"/></w:style>"
                         "<w:style w:styleId=\"Plain\"/>"
                         "<w:style w:styleId=\"A\"><w:basedOn w:val=\"B\"/></w:style>"
                         "<w:style w:styleId=\"B\"><w:basedOn w:val=\"A\"/></w:style>"
                         "</w:styles>";
    CHECK_I64(imp_numbering_add_styles(n, styles, strlen(styles)), 0);
    int num = -1, lvl = -1;
    CHECK(imp_numbering_style(n, "Goal", &num, &lvl));
    CHECK_I64(num, 1);
    CHECK_I64(lvl, 0);
    CHECK(!imp_numbering_style(n, "Plain", &num, &lvl));
    CHECK(!imp_numbering_style(n, "A", &num, &lvl)); /* a basedOn cycle ends */
    CHECK(!imp_numbering_style(n, "Missing", &num, &lvl));
    imp_numbering_free(n);
    n = imp_numbering_new("<not xml", 8);
    CHECK(n != NULL);
    imp_numbering_next(n, 1, 0, l, sizeof l);
    CHECK_STR(l, "");
    imp_numbering_free(n);
}

/* Д/д as a plain row counter: the measure number in the measure text is the indicator. */
static void row_counter(void) {
    const char *t = "Д/д\tАрга хэмжээ\tШалгуур үзүүлэлт\tХүрэх түвшин\tХүрсэн түвшин\n"
                    "1\t1.1 Сургалт\tТоо\t5\t5\n"
                    "2\t1.2 Орлого\tТоо\t3\t3\n"
                    "3\t2.1 Өөр\tТоо\t1\t1\n";
    imp_doc_t d;
    imp_result_t r = text_rows(t, &d);
    CHECK_I64(r.nrows, 3);
    CHECK(row_of(&r, "1.2") != NULL && row_of(&r, "2.1") != NULL && row_of(&r, "3") == NULL);
    if (row_of(&r, "2.1"))
        CHECK_STR(row_of(&r, "2.1")->goal, "2");
    imp_result_free(&r);
    imp_doc_free(&d);
}

/* A plan whose period is four quarter sub-columns with marks. */
static void quarter_columns(void) {
    const char *t = "Д/д\tАрга хэмжээ\tШалгуур үзүүлэлт\tСуурь түвшин\tЗорилтот түвшин\t"
                    "Хэрэгжих хугацаа\t\t\t\n"
                    "\t\t\t\t\tI\tII\tIII\tIV\n"
                    "1.1\tСургалт\tСургалтын тоо\t2\t4\t+\t\t+\t\n"
                    "1.2\tОрлого\tОрлого\t10 сая\t12 сая\t+\t+\t+\t+\n";
    imp_doc_t d;
    imp_result_t r = text_rows(t, &d);
    CHECK_I64(r.nrows, 2);
    if (r.nrows == 2) {
        CHECK_STR(r.row[0].quarters, "1,3");
        CHECK_STR(r.row[1].quarters, "1-4");
        CHECK_I64(r.row[1].target_x100, 1200000000);
    }
    imp_result_free(&r);
    imp_doc_free(&d);
}

/* A spreadsheet saved with ';' (decimal-comma locales), a title line first. */
static void csv_semicolons(void) {
    const char *t = "ТӨВ АЙМГИЙН 2024 ОНЫ III УЛИРЛЫН ТАЙЛАН\n"
                    "Д/д;Шалгуур үзүүлэлт;Хүрэх түвшин;Хүрсэн түвшин;Биелэлтийн хувь\n"
                    "1.1;Сургалтын тоо;4;5;\"125,0\"\n"
                    "1.2;Орлого;\"1,5 сая\";\"1,2 сая\";80\n";
    imp_doc_t d;
    memset(&d, 0, sizeof d);
    char err[200];
    CHECK_I64(imp_format_detect(t, strlen(t)), IMP_FMT_CSV);
    CHECK_I64(imp_read_csv(t, strlen(t), &d, err, sizeof err), 0);
    CHECK_STR(cell_text(&d, 3, 2), "1,5 сая");
    imp_result_t r = convert(&d);
    CHECK_I64(r.nrows, 2);
    const imp_out_row_t *b = row_of(&r, "1.2");
    CHECK(b != NULL);
    if (b) {
        CHECK_I64(b->unit, AGG_UNIT_MNT);
        CHECK_I64(b->target_x100, 150000000);
    }
    imp_result_free(&r);
    imp_doc_free(&d);
}

/* A unit column: its scale multiplies bare numbers, its word sets the unit. */
static void unit_column(void) {
    const char *t = "Д/д\tШалгуур үзүүлэлт\tХэмжих нэгж\tСуурь түвшин\tЗорилтот түвшин\n"
                    "1.1\tОрлого\tсая төгрөг\t273,1\t300\n"
                    "1.2\tХамралт\tхувь\t80\t85\n"
                    "1.3\tХамрагдсан\tхүн\t100\t120\n"
                    "1.4\tЗардал\tтэрбум төгрөг\t9.765\t10\n"
                    "1.5\tЗардал\tсая төгрөг\t5%\t5 тэрбум\n";
    imp_doc_t d;
    imp_result_t r = text_rows(t, &d);
    const imp_out_row_t *a = row_of(&r, "1.1"), *b = row_of(&r, "1.2"), *c = row_of(&r, "1.3"),
                        *e = row_of(&r, "1.4");
    CHECK(a && b && c && e);
    if (a && b && c && e) {
        CHECK_I64(a->unit, AGG_UNIT_MNT);
        CHECK_I64(a->baseline_x100, 27310000000);
        CHECK_I64(b->unit, AGG_UNIT_PCT);
        CHECK_I64(c->unit, AGG_UNIT_PERSON);
        CHECK_I64(e->unit, AGG_UNIT_TEXT); /* ambiguous: 9 765 or 9.765 billion */
    }
    imp_result_free(&r);
    imp_doc_free(&d);
}

/* A header cell broken over two lines of the export ("Биелэл" / "-тийн хувь"). */
static void broken_header(void) {
    const char *t = "Д/д\tШалгуур үзүүлэлт\tХүрэх түвшин\tХүрсэн түвшин\tБиелэл\n"
                    "\t\t\t\t-тийн хувь\n"
                    "1.1\tСургалтын тоо\t4\t5\t125\n";
    imp_doc_t d;
    imp_result_t r = text_rows(t, &d);
    CHECK_I64(r.nrows, 1);
    if (r.nrows == 1)
        CHECK_I64(r.row[0].completion_x100, 12500);
    imp_result_free(&r);
    imp_doc_free(&d);
}

/* An objective column written "Зорилт 6.1. ..." beside numbered rows is not a heading. */
static void objective_column_words(void) {
    const char *t = "Зорилт\tД/д\tШалгуур үзүүлэлт\tХүрэх түвшин\tХүрсэн түвшин\n"
                    "Зорилт 6.1. Хяналт\t6.1.1\tШалгалтын тоо\t4\t5\n"
                    "\t6.1.2\tАктын тоо\t2\t2\n"
                    "Зорилт 6.2. Орлого\t6.2.1\tОрлого\t1 сая\t2 сая\n";
    imp_doc_t d;
    imp_result_t r = text_rows(t, &d);
    CHECK_I64(r.nrows, 3);
    CHECK_I64(r.skipped, 0);
    if (r.nrows == 3) {
        CHECK_STR(r.row[1].goal, "6.1");
        CHECK_STR(r.row[2].goal, "6.2");
    }
    imp_result_free(&r);
    imp_doc_free(&d);
}

TEST_MAIN(TEST(text_export), TEST(word_numbering), TEST(row_counter), TEST(quarter_columns),
          TEST(objective_column_words),
          TEST(broken_header),
          TEST(unit_column),
          TEST(csv_semicolons), TEST(objective_column), TEST(numbered_sections), TEST(markdown_in_pieces), TEST(csv_with_mongolian_headers),
          TEST(docx_tables), TEST(docx_page_header), TEST(docx_errors), TEST(hostile_text))
