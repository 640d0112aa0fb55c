/*
 * docx.c - tk-doc docx: a WordprocessingML document from Markdown
 * (cmark-gfm, with GFM tables, strikethrough and autolinks).
 *
 * Headings take the styles Heading1 to Heading6 and paragraphs Normal,
 * all defined in styles.xml; emphasis, strong, strikethrough and code
 * spans are run properties (code the character style VerbatimChar);
 * links are w:hyperlink elements with an external relationship each;
 * lists are numbered paragraphs, each list an instance (w:num) of the
 * bullet or the decimal definition of numbering.xml, its level its
 * depth, an ordered list starting at its first number; tables are w:tbl
 * with single borders and a repeated bold header row; code blocks are
 * one paragraph of style SourceCode with a break a line; block quotes
 * paragraphs of style Quote; a local PNG or JPEG image is embedded
 * (word/media) at 96 pixels an inch, no wider than the text, and any
 * other image is its alt text.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include <cmark-gfm.h>
#include <cmark-gfm-core-extensions.h>

#include "tkdoc.h"

#define NS_W "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
#define NS_R "http://schemas.openxmlformats.org/officeDocument/2006/" \
	"relationships"
#define NS_WP "http://schemas.openxmlformats.org/drawingml/2006/" \
	"wordprocessingDrawing"
#define NS_A "http://schemas.openxmlformats.org/drawingml/2006/main"
#define NS_PIC "http://schemas.openxmlformats.org/drawingml/2006/picture"
#define CT "application/vnd.openxmlformats-officedocument."
#define XMLDECL "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
#define EMU_PX 9525L		/* EMU a pixel at 96 an inch */
#define TEXT_W 5943600L		/* 6.5 inches, the text's width */

#define HEADING(n, lvl, sz) "<w:style w:type=\"paragraph\" " \
	"w:styleId=\"Heading" \
	#n "\"><w:name w:val=\"heading " #n "\"/><w:basedOn w:val=\"Normal\"/>" \
	"<w:next w:val=\"Normal\"/><w:qFormat/><w:pPr><w:keepNext/>" \
	"<w:keepLines/><w:spacing w:before=\"240\" w:after=\"80\"/>" \
	"<w:outlineLvl w:val=\"" #lvl "\"/></w:pPr><w:rPr><w:b/><w:sz w:val=\"" \
	sz "\"/></w:rPr></w:style>"
#define LVL(n, fmt, text, ind) "<w:lvl w:ilvl=\"" #n "\"><w:start " \
	"w:val=\"1\"/><w:numFmt w:val=\"" fmt "\"/><w:lvlText w:val=\"" \
	text "\"/><w:lvlJc w:val=\"left\"/><w:pPr><w:ind w:left=\"" ind \
	"\" w:hanging=\"360\"/></w:pPr></w:lvl>"
#define BULLETS(n, ind) LVL(n, "bullet", "&#8226;", ind)
/* lvlText names a level by its number from 1. */
#define DECIMAL(n, m, ind) LVL(n, "decimal", "%" #m ".", ind)

/* outlineLvl counts from 0: Heading1 is level 0. */
static const char styles[] = XMLDECL "<w:styles xmlns:w=\"" NS_W "\">"
    "<w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:ascii=\"Calibri\" "
    "w:hAnsi=\"Calibri\" w:eastAsia=\"Calibri\" w:cs=\"Calibri\"/>"
    "<w:sz w:val=\"22\"/><w:lang w:val=\"en-US\"/></w:rPr></w:rPrDefault>"
    "<w:pPrDefault><w:pPr><w:spacing w:after=\"160\" w:line=\"259\" "
    "w:lineRule=\"auto\"/></w:pPr></w:pPrDefault></w:docDefaults>"
    "<w:style w:type=\"paragraph\" w:default=\"1\" w:styleId=\"Normal\">"
    "<w:name w:val=\"Normal\"/><w:qFormat/></w:style>"
    "<w:style w:type=\"character\" w:default=\"1\" "
    "w:styleId=\"DefaultParagraphFont\"><w:name w:val=\"Default Paragraph "
    "Font\"/><w:uiPriority w:val=\"1\"/><w:semiHidden/></w:style>"
    HEADING(1, 0, "32") HEADING(2, 1, "28") HEADING(3, 2, "26")
    HEADING(4, 3, "24") HEADING(5, 4, "22") HEADING(6, 5, "22")
    "<w:style w:type=\"paragraph\" w:styleId=\"ListParagraph\"><w:name "
    "w:val=\"List Paragraph\"/><w:basedOn w:val=\"Normal\"/><w:qFormat/>"
    "<w:pPr><w:spacing w:after=\"60\"/><w:ind w:left=\"720\"/>"
    "<w:contextualSpacing/></w:pPr></w:style>"
    "<w:style w:type=\"paragraph\" w:styleId=\"SourceCode\"><w:name "
    "w:val=\"Source Code\"/><w:basedOn w:val=\"Normal\"/><w:pPr><w:shd "
    "w:val=\"clear\" w:color=\"auto\" w:fill=\"F2F2F2\"/><w:spacing "
    "w:after=\"160\" w:line=\"240\" w:lineRule=\"auto\"/></w:pPr><w:rPr>"
    "<w:rFonts w:ascii=\"Courier New\" w:hAnsi=\"Courier New\" "
    "w:cs=\"Courier New\"/><w:sz w:val=\"20\"/></w:rPr></w:style>"
    "<w:style w:type=\"paragraph\" w:styleId=\"Quote\"><w:name "
    "w:val=\"Quote\"/><w:basedOn w:val=\"Normal\"/><w:qFormat/><w:pPr>"
    "<w:ind w:left=\"720\" w:right=\"720\"/></w:pPr><w:rPr><w:i/>"
    "<w:color w:val=\"404040\"/></w:rPr></w:style>"
    "<w:style w:type=\"character\" w:styleId=\"VerbatimChar\"><w:name "
    "w:val=\"Verbatim Char\"/><w:rPr><w:rFonts w:ascii=\"Courier New\" "
    "w:hAnsi=\"Courier New\" w:cs=\"Courier New\"/><w:sz w:val=\"20\"/>"
    "</w:rPr></w:style>"
    "<w:style w:type=\"character\" w:styleId=\"Hyperlink\"><w:name "
    "w:val=\"Hyperlink\"/><w:rPr><w:color w:val=\"0563C1\"/><w:u "
    "w:val=\"single\"/></w:rPr></w:style></w:styles>";

static const char abstract_nums[] =
    "<w:abstractNum w:abstractNumId=\"0\"><w:multiLevelType "
    "w:val=\"hybridMultilevel\"/>" BULLETS(0, "720") BULLETS(1, "1440")
    BULLETS(2, "2160") BULLETS(3, "2880") BULLETS(4, "3600")
    BULLETS(5, "4320") BULLETS(6, "5040") BULLETS(7, "5760")
    BULLETS(8, "6480") "</w:abstractNum>"
    "<w:abstractNum w:abstractNumId=\"1\"><w:multiLevelType "
    "w:val=\"hybridMultilevel\"/>" DECIMAL(0, 1, "720")
    DECIMAL(1, 2, "1440") DECIMAL(2, 3, "2160") DECIMAL(3, 4, "2880")
    DECIMAL(4, 5, "3600") DECIMAL(5, 6, "4320") DECIMAL(6, 7, "5040")
    DECIMAL(7, 8, "5760") DECIMAL(8, 9, "6480") "</w:abstractNum>";

/* The run properties in force. */
enum { BOLD = 1, ITALIC = 2, CODE = 4, STRIKE = 8, LINK = 16, HEAD = 32 };

struct doc {
	struct tkdoc *d;
	struct tkdoc_zip *z;
	xmlTextWriterPtr w;
	struct tkdoc_rels rels;
	const struct tkdoc_src *src;
	struct au_buf nums;	/* the w:num elements of numbering.xml */
	int nnum, nimages, quote;
};

static void blocks(struct doc *k, cmark_node *parent, int depth);

static void
text_run(struct doc *k, const char *s, size_t n, unsigned fmt)
{
	xmlTextWriterPtr w = k->w;

	tkdoc_start(w, "w:r");
	if (fmt != 0) {
		tkdoc_start(w, "w:rPr");
		if (fmt & (CODE | LINK))
			tkdoc_empty(w, "w:rStyle", "w:val", fmt & CODE ?
			    "VerbatimChar" : "Hyperlink");
		if (fmt & (BOLD | HEAD))
			tkdoc_empty(w, "w:b", NULL, NULL);
		if (fmt & ITALIC)
			tkdoc_empty(w, "w:i", NULL, NULL);
		if (fmt & STRIKE)
			tkdoc_empty(w, "w:strike", NULL, NULL);
		tkdoc_end(w);
	}
	tkdoc_start(w, "w:t");
	tkdoc_attr(w, "xml:space", "preserve");
	tkdoc_text(w, s, n);
	tkdoc_end(w);
	tkdoc_end(w);
}

/* An image as a drawing, or NULL with its alt text to write instead. */
static int
drawing(struct doc *k, cmark_node *img)
{
	const char *url = cmark_node_get_url(img), *ext;
	struct au_buf path = AU_BUF_INIT, alt = AU_BUF_INIT;
	unsigned char *p;
	size_t n = 0;
	long pw, ph, cx, cy;
	char rid[16], name[64];
	xmlTextWriterPtr w = k->w;
	int rc;

	if (url == NULL || strstr(url, "://") != NULL || *url == '\0')
		return -1;
	if (*url == '/' || strcmp(k->src->dir, ".") == 0)
		au_buf_adds(&path, url);
	else
		au_buf_addf(&path, "%s/%s", k->src->dir, url);
	if ((rc = tkdoc_load(path.s, &p, &n)) != 0) {
		au_err("%s: image: %s", au_esc(k->src->name), au_errmsg());
		tkdoc_worse(k->d, rc);
		au_buf_free(&path);
		return -1;
	}
	if (tkdoc_image(p, n, &pw, &ph, &ext) == NULL) {
		au_err("%s: image: %s: not a PNG or JPEG image",
		    au_esc(k->src->name), au_esc(path.s));
		tkdoc_worse(k->d, EX_DATAERR);
		free(p);
		au_buf_free(&path);
		return -1;
	}
	au_buf_free(&path);
	snprintf(name, sizeof name, "word/media/image%d.%s", ++k->nimages,
	    ext);
	if (tkdoc_zip_add(k->z, name, p, n) != 0)
		au_die(EX_IOERR, "%s: %s", au_esc(k->d->name), au_errmsg());
	free(p);
	tkdoc_rel(&k->rels, "image", name + 5, 0, rid);
	cx = pw * EMU_PX;
	cy = ph * EMU_PX;
	if (cx > TEXT_W) {
		cy = (long)((double)cy * TEXT_W / cx);
		cx = TEXT_W;
	}
	au_buf_adds(&alt, "");
	tkdoc_md_text(img, &alt);
	tkdoc_start(w, "w:r");
	tkdoc_start(w, "w:drawing");
	tkdoc_start(w, "wp:inline");
	tkdoc_start(w, "wp:extent");
	tkdoc_attrf(w, "cx", "%ld", cx);
	tkdoc_attrf(w, "cy", "%ld", cy);
	tkdoc_end(w);
	tkdoc_start(w, "wp:docPr");
	tkdoc_attrf(w, "id", "%d", k->nimages);
	tkdoc_attrf(w, "name", "Picture %d", k->nimages);
	tkdoc_attr(w, "descr", alt.s);
	tkdoc_end(w);
	tkdoc_start(w, "a:graphic");
	tkdoc_attr(w, "xmlns:a", NS_A);
	tkdoc_start(w, "a:graphicData");
	tkdoc_attr(w, "uri", NS_PIC);
	tkdoc_start(w, "pic:pic");
	tkdoc_attr(w, "xmlns:pic", NS_PIC);
	tkdoc_start(w, "pic:nvPicPr");
	tkdoc_start(w, "pic:cNvPr");
	tkdoc_attr(w, "id", "0");
	tkdoc_attr(w, "name", name + 11);
	tkdoc_end(w);
	tkdoc_empty(w, "pic:cNvPicPr", NULL, NULL);
	tkdoc_end(w);
	tkdoc_blip(w, "pic", rid, 0, 0, cx, cy);
	tkdoc_end(w);
	tkdoc_end(w);
	tkdoc_end(w);
	tkdoc_end(w);
	tkdoc_end(w);
	tkdoc_end(w);
	au_buf_free(&alt);
	return 0;
}

/* The inlines of node as runs, with the properties fmt. */
static void
inlines(struct doc *k, cmark_node *node, unsigned fmt)
{
	const char *lit, *type;
	struct au_buf t = AU_BUF_INIT;
	cmark_node *c;
	char rid[16];

	for (c = cmark_node_first_child(node); c; c = cmark_node_next(c)) {
		switch (cmark_node_get_type(c)) {
		case CMARK_NODE_TEXT:
			lit = cmark_node_get_literal(c);
			text_run(k, lit, strlen(lit), fmt);
			break;
		case CMARK_NODE_CODE:
			lit = cmark_node_get_literal(c);
			text_run(k, lit, strlen(lit), fmt | CODE);
			break;
		case CMARK_NODE_SOFTBREAK:
			text_run(k, " ", 1, fmt);
			break;
		case CMARK_NODE_LINEBREAK:
			tkdoc_start(k->w, "w:r");
			tkdoc_empty(k->w, "w:br", NULL, NULL);
			tkdoc_end(k->w);
			break;
		case CMARK_NODE_EMPH:
			inlines(k, c, fmt | ITALIC);
			break;
		case CMARK_NODE_STRONG:
			inlines(k, c, fmt | BOLD);
			break;
		case CMARK_NODE_LINK:
			tkdoc_rel(&k->rels, "hyperlink", cmark_node_get_url(c),
			    1, rid);
			tkdoc_start(k->w, "w:hyperlink");
			tkdoc_attr(k->w, "r:id", rid);
			inlines(k, c, fmt | LINK);
			tkdoc_end(k->w);
			break;
		case CMARK_NODE_IMAGE:
			if (drawing(k, c) != 0) {
				t.len = 0;
				au_buf_adds(&t, "");
				tkdoc_md_text(c, &t);
				text_run(k, t.s, t.len, fmt);
			}
			break;
		case CMARK_NODE_HTML_INLINE:
			break;
		default:
			type = tkdoc_md_type(c);
			inlines(k, c, strcmp(type, "strikethrough") == 0 ?
			    fmt | STRIKE : fmt);
			break;
		}
	}
	au_buf_free(&t);
}

/* A paragraph of style (NULL: Normal), in list num at level ilvl (num
 * 0: none), its inlines from node. */
static void
para(struct doc *k, cmark_node *node, const char *style, int num, int ilvl,
    unsigned fmt)
{
	xmlTextWriterPtr w = k->w;

	tkdoc_start(w, "w:p");
	if (k->quote && style == NULL)
		style = "Quote";
	if (style != NULL || num > 0) {
		tkdoc_start(w, "w:pPr");
		if (style != NULL)
			tkdoc_empty(w, "w:pStyle", "w:val", style);
		if (num > 0) {
			tkdoc_start(w, "w:numPr");
			tkdoc_start(w, "w:ilvl");
			tkdoc_attrf(w, "w:val", "%d", ilvl);
			tkdoc_end(w);
			tkdoc_start(w, "w:numId");
			tkdoc_attrf(w, "w:val", "%d", num);
			tkdoc_end(w);
			tkdoc_end(w);
		}
		tkdoc_end(w);
	}
	if (node != NULL)
		inlines(k, node, fmt);
	tkdoc_end(w);
}

/* A list: a numbering instance of its own, each item's first paragraph
 * numbered at level depth, its other blocks indented beneath. */
static void
list(struct doc *k, cmark_node *n, int depth)
{
	int ordered = cmark_node_get_list_type(n) == CMARK_ORDERED_LIST;
	int num = ++k->nnum, lvl = depth > 8 ? 8 : depth;
	cmark_node *item, *c;

	au_buf_addf(&k->nums, "<w:num w:numId=\"%d\"><w:abstractNumId "
	    "w:val=\"%d\"/>", num, ordered);
	if (ordered)
		au_buf_addf(&k->nums, "<w:lvlOverride w:ilvl=\"%d\">"
		    "<w:startOverride w:val=\"%d\"/></w:lvlOverride>", lvl,
		    cmark_node_get_list_start(n));
	au_buf_adds(&k->nums, "</w:num>");
	for (item = cmark_node_first_child(n); item;
	    item = cmark_node_next(item)) {
		int first = 1;

		for (c = cmark_node_first_child(item); c;
		    c = cmark_node_next(c)) {
			if (cmark_node_get_type(c) == CMARK_NODE_LIST)
				list(k, c, depth + 1);
			else if (cmark_node_get_type(c) == CMARK_NODE_PARAGRAPH)
				para(k, c, "ListParagraph", first ? num : 0,
				    lvl, 0);
			else
				blocks(k, c, depth + 1);
			first = 0;
		}
		/* An empty item still shows its number. */
		if (first)
			para(k, NULL, "ListParagraph", num, lvl, 0);
	}
}

static void
border(xmlTextWriterPtr w, const char *side)
{
	tkdoc_start(w, side);
	tkdoc_attr(w, "w:val", "single");
	tkdoc_attr(w, "w:sz", "4");
	tkdoc_attr(w, "w:space", "0");
	tkdoc_attr(w, "w:color", "auto");
	tkdoc_end(w);
}

static void
table(struct doc *k, cmark_node *n)
{
	static const char *const sides[] = { "w:top", "w:left", "w:bottom",
	    "w:right", "w:insideH", "w:insideV" };
	xmlTextWriterPtr w = k->w;
	int ncols = cmark_gfm_extensions_get_table_columns(n), c;
	cmark_node *row, *cell;
	size_t i;

	if (ncols < 1)
		return;
	tkdoc_start(w, "w:tbl");
	tkdoc_start(w, "w:tblPr");
	tkdoc_start(w, "w:tblW");
	tkdoc_attr(w, "w:w", "5000");
	tkdoc_attr(w, "w:type", "pct");
	tkdoc_end(w);
	tkdoc_start(w, "w:tblBorders");
	for (i = 0; i < sizeof sides / sizeof sides[0]; i++)
		border(w, sides[i]);
	tkdoc_end(w);
	tkdoc_end(w);
	tkdoc_start(w, "w:tblGrid");
	for (c = 0; c < ncols; c++) {
		tkdoc_start(w, "w:gridCol");
		tkdoc_attrf(w, "w:w", "%d", 9360 / ncols);
		tkdoc_end(w);
	}
	tkdoc_end(w);
	for (row = cmark_node_first_child(n); row; row = cmark_node_next(row)) {
		int head = cmark_gfm_extensions_get_table_row_is_header(row);

		tkdoc_start(w, "w:tr");
		if (head) {
			tkdoc_start(w, "w:trPr");
			tkdoc_empty(w, "w:tblHeader", NULL, NULL);
			tkdoc_end(w);
		}
		for (c = 0, cell = cmark_node_first_child(row); c < ncols;
		    c++) {
			tkdoc_start(w, "w:tc");
			tkdoc_start(w, "w:tcPr");
			tkdoc_start(w, "w:tcW");
			tkdoc_attrf(w, "w:w", "%d", 9360 / ncols);
			tkdoc_attr(w, "w:type", "dxa");
			tkdoc_end(w);
			tkdoc_end(w);
			para(k, cell, NULL, 0, 0, head ? HEAD : 0);
			tkdoc_end(w);
			if (cell != NULL)
				cell = cmark_node_next(cell);
		}
		tkdoc_end(w);
	}
	tkdoc_end(w);
}

static void
code(struct doc *k, cmark_node *n)
{
	const char *lit = cmark_node_get_literal(n), *p, *nl;
	xmlTextWriterPtr w = k->w;
	size_t len = strlen(lit);

	while (len > 0 && lit[len - 1] == '\n')
		len--;
	tkdoc_start(w, "w:p");
	tkdoc_start(w, "w:pPr");
	tkdoc_empty(w, "w:pStyle", "w:val", "SourceCode");
	tkdoc_end(w);
	for (p = lit; p < lit + len; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(lit + len - p))) == NULL)
			nl = lit + len;
		if (p != lit) {
			tkdoc_start(w, "w:r");
			tkdoc_empty(w, "w:br", NULL, NULL);
			tkdoc_end(w);
		}
		if (nl > p)
			text_run(k, p, (size_t)(nl - p), 0);
	}
	tkdoc_end(w);
}

/* The blocks beneath parent; depth is the list depth. */
static void
blocks(struct doc *k, cmark_node *parent, int depth)
{
	static const char *const heads[] = { "Heading1", "Heading2",
	    "Heading3", "Heading4", "Heading5", "Heading6" };
	cmark_node *n;

	for (n = cmark_node_first_child(parent); n; n = cmark_node_next(n)) {
		switch (cmark_node_get_type(n)) {
		case CMARK_NODE_HEADING:
			para(k, n, heads[cmark_node_get_heading_level(n) - 1], 0,
			    0, 0);
			break;
		case CMARK_NODE_PARAGRAPH:
			para(k, n, NULL, 0, 0, 0);
			break;
		case CMARK_NODE_LIST:
			list(k, n, depth);
			break;
		case CMARK_NODE_CODE_BLOCK:
			code(k, n);
			break;
		case CMARK_NODE_BLOCK_QUOTE:
			k->quote++;
			blocks(k, n, depth);
			k->quote--;
			break;
		case CMARK_NODE_THEMATIC_BREAK:
			tkdoc_start(k->w, "w:p");
			tkdoc_start(k->w, "w:pPr");
			tkdoc_start(k->w, "w:pBdr");
			border(k->w, "w:bottom");
			tkdoc_end(k->w);
			tkdoc_end(k->w);
			tkdoc_end(k->w);
			break;
		default:
			if (strcmp(tkdoc_md_type(n), "table") == 0)
				table(k, n);
			break;
		}
	}
}

int
tkdoc_docx(struct tkdoc *d)
{
	struct tkdoc_src *srcs;
	size_t nsrc = tkdoc_read(d, &srcs), i;
	struct tkdoc_part p, np;
	struct tkdoc_rels top = { AU_BUF_INIT, 0 };
	struct doc k;
	cmark_parser *parser;
	cmark_node *md;
	char rid[16];
	int rc;

	memset(&k, 0, sizeof k);
	k.d = d;
	if ((k.z = tkdoc_zip_open(d->path)) == NULL)
		au_die(EX_CANTCREAT, "%s: cannot create: %s", au_esc(d->name),
		    au_errmsg());
	tkdoc_part_new(&np);
	tkdoc_start(np.w, "Types");
	tkdoc_attr(np.w, "xmlns", "http://schemas.openxmlformats.org/package/"
	    "2006/content-types");
	xmlTextWriterWriteRaw(np.w, BAD_CAST "<Default Extension=\"rels\" "
	    "ContentType=\"application/vnd.openxmlformats-package."
	    "relationships+xml\"/><Default Extension=\"xml\" "
	    "ContentType=\"application/xml\"/><Default Extension=\"png\" "
	    "ContentType=\"image/png\"/><Default Extension=\"jpeg\" "
	    "ContentType=\"image/jpeg\"/><Override PartName=\"/word/"
	    "document.xml\" ContentType=\"" CT "wordprocessingml.document."
	    "main+xml\"/><Override PartName=\"/word/styles.xml\" "
	    "ContentType=\"" CT "wordprocessingml.styles+xml\"/><Override "
	    "PartName=\"/word/numbering.xml\" ContentType=\"" CT
	    "wordprocessingml.numbering+xml\"/>");
	tkdoc_end(np.w);
	/* The content types first, where tools that sniff a zip look. */
	tkdoc_rel(&top, "officeDocument", "word/document.xml", 0, rid);
	if (tkdoc_part_add(&np, k.z, "[Content_Types].xml") != 0 ||
	    tkdoc_rels_add(&top, k.z, "_rels/.rels") != 0)
		au_die(EX_IOERR, "%s: %s", au_esc(d->name), au_errmsg());
	tkdoc_rel(&k.rels, "styles", "styles.xml", 0, rid);
	tkdoc_rel(&k.rels, "numbering", "numbering.xml", 0, rid);
	tkdoc_part_new(&p);
	k.w = p.w;
	tkdoc_start(p.w, "w:document");
	tkdoc_attr(p.w, "xmlns:w", NS_W);
	tkdoc_attr(p.w, "xmlns:r", NS_R);
	tkdoc_attr(p.w, "xmlns:wp", NS_WP);
	tkdoc_start(p.w, "w:body");
	for (i = 0; i < nsrc; i++) {
		if (au_utf8_valid(srcs[i].buf, srcs[i].len) != srcs[i].len) {
			au_err("%s: not UTF-8 text", au_esc(srcs[i].name));
			tkdoc_worse(d, EX_DATAERR);
			continue;
		}
		k.src = &srcs[i];
		md = tkdoc_md_parse(srcs[i].buf, srcs[i].len, &parser);
		blocks(&k, md, 0);
		tkdoc_md_free(parser, md);
	}
	xmlTextWriterWriteRaw(p.w, BAD_CAST "<w:sectPr><w:pgSz w:w=\"12240\" "
	    "w:h=\"15840\"/><w:pgMar w:top=\"1440\" w:right=\"1440\" "
	    "w:bottom=\"1440\" w:left=\"1440\" w:header=\"720\" "
	    "w:footer=\"720\" w:gutter=\"0\"/></w:sectPr>");
	tkdoc_end(p.w);
	tkdoc_end(p.w);

	rc = tkdoc_part_add(&p, k.z, "word/document.xml");
	if (rc == 0)
		rc = tkdoc_rels_add(&k.rels, k.z,
		    "word/_rels/document.xml.rels");
	if (rc == 0)
		rc = tkdoc_zip_add(k.z, "word/styles.xml", styles,
		    strlen(styles));
	if (rc == 0) {
		struct au_buf b = AU_BUF_INIT;

		au_buf_adds(&b, XMLDECL "<w:numbering xmlns:w=\"" NS_W "\">");
		au_buf_adds(&b, abstract_nums);
		if (k.nums.len > 0)
			au_buf_add(&b, k.nums.s, k.nums.len);
		au_buf_adds(&b, "</w:numbering>");
		rc = tkdoc_zip_add(k.z, "word/numbering.xml", b.s, b.len);
		au_buf_free(&b);
	}
	if (rc == 0)
		rc = tkdoc_zip_close(k.z);
	if (rc != 0)
		au_die(rc, "%s: %s", au_esc(d->name), au_errmsg());
	au_note("%d list%s, %d image%s", k.nnum, k.nnum == 1 ? "" : "s",
	    k.nimages, k.nimages == 1 ? "" : "s");
	au_buf_free(&k.nums);
	tkdoc_src_free(srcs, nsrc);
	return 0;
}
