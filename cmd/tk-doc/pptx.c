/*
 * pptx.c - tk-doc pptx: a deck from slide records or from Markdown.
 *
 * Markdown becomes slide records first (md_slides), so one writer makes
 * the deck.  The package is PresentationML as ECMA-376 Part 1 orders it:
 * the presentation, one slide master with a title layout and a title and
 * content layout and its theme, a notes master with its own theme, and
 * each slide with its notes slide when it has notes, its images in
 * ppt/media and its table as a graphicFrame holding an a:tbl.  The parts
 * without data (theme, master, layouts, notes master) are constant text;
 * every part that carries the input's text is written through
 * xmlTextWriter.  The slide is 16:9, 12192000 by 6858000 EMU.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmark-gfm.h>

#include "tkdoc.h"

#define NS_A "http://schemas.openxmlformats.org/drawingml/2006/main"
#define NS_R "http://schemas.openxmlformats.org/officeDocument/2006/" \
	"relationships"
#define NS_P "http://schemas.openxmlformats.org/presentationml/2006/main"
#define CT "application/vnd.openxmlformats-officedocument."
#define XMLDECL "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
#define NSDECL "xmlns:a=\"" NS_A "\" xmlns:r=\"" NS_R "\" xmlns:p=\"" NS_P "\""

#define SLIDE_W 12192000L
#define SLIDE_H 6858000L
/* Where the content goes, beneath the title. */
#define BODY_X 838200L
#define BODY_Y 1825625L
#define BODY_W 10515600L
#define BODY_H 4351338L
#define MAXLEVEL 8		/* a:pPr lvl goes 0 to 8 */

/* The group shape every spTree begins with. */
#define GRP "<p:nvGrpSpPr><p:cNvPr id=\"1\" name=\"\"/><p:cNvGrpSpPr/>" \
	"<p:nvPr/></p:nvGrpSpPr><p:grpSpPr><a:xfrm><a:off x=\"0\" y=\"0\"/>" \
	"<a:ext cx=\"0\" cy=\"0\"/><a:chOff x=\"0\" y=\"0\"/><a:chExt " \
	"cx=\"0\" cy=\"0\"/></a:xfrm></p:grpSpPr>"

/* A placeholder shape of a master or layout: id, name, ph attributes,
 * position, body properties, list style. */
#define PH(id, name, ph, x, y, w, h, body, lst) \
	"<p:sp><p:nvSpPr><p:cNvPr id=\"" id "\" name=\"" name "\"/>" \
	"<p:cNvSpPr><a:spLocks noGrp=\"1\"/></p:cNvSpPr><p:nvPr><p:ph " ph \
	"/></p:nvPr></p:nvSpPr><p:spPr><a:xfrm><a:off x=\"" x "\" y=\"" y \
	"\"/><a:ext cx=\"" w "\" cy=\"" h "\"/></a:xfrm><a:prstGeom " \
	"prst=\"rect\"><a:avLst/></a:prstGeom></p:spPr><p:txBody>" body \
	"<a:lstStyle>" lst "</a:lstStyle><a:p><a:endParaRPr " \
	"lang=\"en-US\"/></a:p></p:txBody></p:sp>"

#define FONT(f) "<a:latin typeface=\"+" f "-lt\"/><a:ea typeface=\"+" f \
	"-ea\"/><a:cs typeface=\"+" f "-cs\"/>"
#define LVL(n, mar, sz) "<a:lvl" #n "pPr marL=\"" mar "\" indent=\"-228600\" " \
	"algn=\"l\"><a:spcBef><a:spcPts val=\"1000\"/></a:spcBef><a:buFont " \
	"typeface=\"Arial\"/><a:buChar char=\"&#8226;\"/><a:defRPr sz=\"" sz \
	"\" kern=\"1200\"><a:solidFill><a:schemeClr val=\"tx1\"/></a:solidFill>" \
	FONT("mn") "</a:defRPr></a:lvl" #n "pPr>"

static const char master[] = XMLDECL "<p:sldMaster " NSDECL "><p:cSld>"
    "<p:bg><p:bgRef idx=\"1001\"><a:schemeClr val=\"bg1\"/></p:bgRef></p:bg>"
    "<p:spTree>" GRP
    PH("2", "Title Placeholder 1", "type=\"title\"", "838200", "365125",
	"10515600", "1325563", "<a:bodyPr vert=\"horz\" anchor=\"ctr\">"
	"<a:normAutofit/></a:bodyPr>", "")
    PH("3", "Text Placeholder 2", "type=\"body\" idx=\"1\"", "838200",
	"1825625", "10515600", "4351338", "<a:bodyPr vert=\"horz\">"
	"<a:normAutofit/></a:bodyPr>", "")
    "</p:spTree></p:cSld><p:clrMap bg1=\"lt1\" tx1=\"dk1\" bg2=\"lt2\" "
    "tx2=\"dk2\" accent1=\"accent1\" accent2=\"accent2\" accent3=\"accent3\" "
    "accent4=\"accent4\" accent5=\"accent5\" accent6=\"accent6\" "
    "hlink=\"hlink\" folHlink=\"folHlink\"/><p:sldLayoutIdLst>"
    "<p:sldLayoutId id=\"2147483649\" r:id=\"rId1\"/>"
    "<p:sldLayoutId id=\"2147483650\" r:id=\"rId2\"/></p:sldLayoutIdLst>"
    "<p:txStyles><p:titleStyle><a:lvl1pPr algn=\"l\"><a:defRPr sz=\"4400\" "
    "kern=\"1200\"><a:solidFill><a:schemeClr val=\"tx1\"/></a:solidFill>"
    FONT("mj") "</a:defRPr></a:lvl1pPr></p:titleStyle><p:bodyStyle>"
    LVL(1, "228600", "2800") LVL(2, "685800", "2400")
    LVL(3, "1143000", "2000") LVL(4, "1600200", "1800")
    LVL(5, "2057400", "1800") LVL(6, "2514600", "1800")
    LVL(7, "2971800", "1800") LVL(8, "3429000", "1800")
    LVL(9, "3886200", "1800")
    "</p:bodyStyle><p:otherStyle><a:defPPr><a:defRPr lang=\"en-US\"/>"
    "</a:defPPr></p:otherStyle></p:txStyles></p:sldMaster>";

static const char layout_title[] = XMLDECL "<p:sldLayout " NSDECL
    " type=\"title\" preserve=\"1\"><p:cSld name=\"Title Slide\"><p:spTree>"
    GRP
    PH("2", "Title 1", "type=\"ctrTitle\"", "1524000", "1122363", "9144000",
	"2387600", "<a:bodyPr anchor=\"b\"/>", "<a:lvl1pPr algn=\"ctr\">"
	"<a:defRPr sz=\"6000\"/></a:lvl1pPr>")
    PH("3", "Subtitle 2", "type=\"subTitle\" idx=\"1\"", "1524000",
	"3602038", "9144000", "1655762", "<a:bodyPr/>", "<a:lvl1pPr "
	"marL=\"0\" indent=\"0\" algn=\"ctr\"><a:buNone/><a:defRPr "
	"sz=\"2400\"/></a:lvl1pPr>")
    "</p:spTree></p:cSld><p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr>"
    "</p:sldLayout>";

static const char layout_content[] = XMLDECL "<p:sldLayout " NSDECL
    " type=\"obj\" preserve=\"1\"><p:cSld name=\"Title and Content\">"
    "<p:spTree>" GRP
    PH("2", "Title 1", "type=\"title\"", "838200", "365125", "10515600",
	"1325563", "<a:bodyPr/>", "")
    PH("3", "Content Placeholder 2", "idx=\"1\"", "838200", "1825625",
	"10515600", "4351338", "<a:bodyPr/>", "")
    "</p:spTree></p:cSld><p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr>"
    "</p:sldLayout>";

static const char notes_master[] = XMLDECL "<p:notesMaster " NSDECL
    "><p:cSld><p:bg><p:bgRef idx=\"1001\"><a:schemeClr val=\"bg1\"/>"
    "</p:bgRef></p:bg><p:spTree>" GRP
    "<p:sp><p:nvSpPr><p:cNvPr id=\"2\" name=\"Slide Image Placeholder 1\"/>"
    "<p:cNvSpPr><a:spLocks noGrp=\"1\" noRot=\"1\" noChangeAspect=\"1\"/>"
    "</p:cNvSpPr><p:nvPr><p:ph type=\"sldImg\" idx=\"2\"/></p:nvPr>"
    "</p:nvSpPr><p:spPr><a:xfrm><a:off x=\"685800\" y=\"1143000\"/>"
    "<a:ext cx=\"5486400\" cy=\"3086100\"/></a:xfrm><a:prstGeom "
    "prst=\"rect\"><a:avLst/></a:prstGeom></p:spPr></p:sp>"
    PH("3", "Notes Placeholder 2", "type=\"body\" idx=\"3\"", "685800",
	"4400550", "5486400", "3600450", "<a:bodyPr/>", "")
    "</p:spTree></p:cSld><p:clrMap bg1=\"lt1\" tx1=\"dk1\" bg2=\"lt2\" "
    "tx2=\"dk2\" accent1=\"accent1\" accent2=\"accent2\" accent3=\"accent3\" "
    "accent4=\"accent4\" accent5=\"accent5\" accent6=\"accent6\" "
    "hlink=\"hlink\" folHlink=\"folHlink\"/><p:notesStyle><a:lvl1pPr "
    "marL=\"0\" algn=\"l\"><a:defRPr sz=\"1200\" kern=\"1200\"><a:solidFill>"
    "<a:schemeClr val=\"tx1\"/></a:solidFill>" FONT("mn") "</a:defRPr>"
    "</a:lvl1pPr></p:notesStyle></p:notesMaster>";

#define CLR(name, v) "<a:" name "><a:srgbClr val=\"" v "\"/></a:" name ">"
#define FILL(c) "<a:solidFill><a:schemeClr val=\"" c "\"/></a:solidFill>"
#define LN(w) "<a:ln w=\"" w "\"><a:solidFill><a:schemeClr val=\"phClr\"/>" \
	"</a:solidFill></a:ln>"

static const char theme[] = XMLDECL "<a:theme xmlns:a=\"" NS_A "\" "
    "name=\"Office Theme\"><a:themeElements><a:clrScheme name=\"Office\">"
    "<a:dk1><a:sysClr val=\"windowText\" lastClr=\"000000\"/></a:dk1>"
    "<a:lt1><a:sysClr val=\"window\" lastClr=\"FFFFFF\"/></a:lt1>"
    CLR("dk2", "44546A") CLR("lt2", "E7E6E6") CLR("accent1", "4472C4")
    CLR("accent2", "ED7D31") CLR("accent3", "A5A5A5")
    CLR("accent4", "FFC000") CLR("accent5", "5B9BD5")
    CLR("accent6", "70AD47") CLR("hlink", "0563C1")
    CLR("folHlink", "954F72")
    "</a:clrScheme><a:fontScheme name=\"Office\"><a:majorFont><a:latin "
    "typeface=\"Calibri Light\"/><a:ea typeface=\"\"/><a:cs typeface=\"\"/>"
    "</a:majorFont><a:minorFont><a:latin typeface=\"Calibri\"/><a:ea "
    "typeface=\"\"/><a:cs typeface=\"\"/></a:minorFont></a:fontScheme>"
    "<a:fmtScheme name=\"Office\"><a:fillStyleLst>" FILL("phClr")
    FILL("phClr") FILL("phClr") "</a:fillStyleLst><a:lnStyleLst>"
    LN("6350") LN("12700") LN("19050") "</a:lnStyleLst><a:effectStyleLst>"
    "<a:effectStyle><a:effectLst/></a:effectStyle><a:effectStyle>"
    "<a:effectLst/></a:effectStyle><a:effectStyle><a:effectLst/>"
    "</a:effectStyle></a:effectStyleLst><a:bgFillStyleLst>" FILL("phClr")
    FILL("phClr") FILL("phClr") "</a:bgFillStyleLst></a:fmtScheme>"
    "</a:themeElements><a:objectDefaults/><a:extraClrSchemeLst/>"
    "</a:theme>";

static const char pres_props[] = XMLDECL "<p:presentationPr " NSDECL "/>";
static const char view_props[] = XMLDECL "<p:viewPr " NSDECL "><p:gridSpacing "
    "cx=\"76200\" cy=\"76200\"/></p:viewPr>";
static const char table_styles[] = XMLDECL "<a:tblStyleLst xmlns:a=\"" NS_A
    "\" def=\"{5C22544A-7EE6-4342-B048-85BDC9FD1C3A}\"/>";

/* ---- slide records ----------------------------------------------------- */

/* Why bullets b (borrowed) are not strings and arrays of them nested up
 * to MAXLEVEL, or NULL. */
static const char *
badbullets(jv b, int level)
{
	const char *why = NULL;

	if (level > MAXLEVEL)
		return "bullets: nested deeper than 9 levels";
	jv_array_foreach(b, i, x) {
		if (why == NULL && jv_get_kind(x) == JV_KIND_ARRAY)
			why = badbullets(x, level + 1);
		else if (why == NULL && jv_get_kind(x) != JV_KIND_STRING)
			why = "bullets: an item is neither a string nor an array";
		jv_free(x);
		(void)i;
	}
	return why;
}

/* Why slide record v (borrowed) is not one, or NULL. */
static const char *
badslide(jv v)
{
	static const char *const strs[][2] = {
		{ "title", "title: not a string" },
		{ "subtitle", "subtitle: not a string" },
		{ "notes", "notes: not a string" },
		{ "image", "image: not a string" },
	};
	const char *type = au_jv_str(v, "type"), *why = NULL;
	size_t i;
	jv x;

	if (type == NULL || strcmp(type, "slide") != 0)
		return "not a slide record";
	for (i = 0; i < sizeof strs / sizeof strs[0] && why == NULL; i++) {
		x = jv_object_get(jv_copy(v), jv_string(strs[i][0]));
		if (jv_is_valid(x) && jv_get_kind(x) != JV_KIND_STRING &&
		    jv_get_kind(x) != JV_KIND_NULL)
			why = strs[i][1];
		jv_free(x);
	}
	if (why != NULL)
		return why;
	x = jv_object_get(jv_copy(v), jv_string("bullets"));
	if (jv_get_kind(x) == JV_KIND_ARRAY)
		why = badbullets(x, 0);
	else if (jv_is_valid(x) && jv_get_kind(x) != JV_KIND_NULL)
		why = "bullets: not an array";
	jv_free(x);
	if (why != NULL)
		return why;
	x = jv_object_get(jv_copy(v), jv_string("table"));
	if (jv_get_kind(x) == JV_KIND_ARRAY) {
		jv_array_foreach(x, r, row) {
			if (why == NULL && jv_get_kind(row) != JV_KIND_ARRAY)
				why = "table: a row is not an array";
			jv_free(row);
			(void)r;
		}
	} else if (jv_is_valid(x) && jv_get_kind(x) != JV_KIND_NULL)
		why = "table: not an array of rows";
	jv_free(x);
	return why;
}

/* The deck: its slides, and where each came from for messages. */
struct deck {
	struct tkdoc *d;
	struct tkdoc_zip *z;
	jv slides;
	struct pos {
		const char *file;
		long line;
	} *pos;
	size_t npos, cap;
	int nimages;
};

/* Add slide s (consumed) from file:line. */
static void
add(struct deck *k, jv s, const char *file, long line)
{
	k->pos = au_grow(k->pos, &k->cap, k->npos + 1, sizeof *k->pos);
	k->pos[k->npos].file = file;
	k->pos[k->npos++].line = line;
	k->slides = jv_array_append(k->slides, s);
}

/* ---- Markdown into slide records --------------------------------------- */

struct mdck {
	struct deck *k;		/* where the slides go */
	const char *file;
	long line;		/* where the slide being made began */
	jv cur;			/* the slide being made, or jv_invalid() */
	int titled;		/* cur began with '#': a title slide */
	struct au_buf sub;	/* its subtitle so far */
	const char *dir;	/* images are relative to it */
};

static void
md_flush(struct mdck *m)
{
	jv s = m->cur;

	if (!jv_is_valid(s))
		return;
	if (m->sub.len > 0)
		s = jv_object_set(s, jv_string(m->titled &&
		    !jv_object_has(jv_copy(s), jv_string("bullets")) &&
		    !jv_object_has(jv_copy(s), jv_string("table")) &&
		    !jv_object_has(jv_copy(s), jv_string("image")) ?
		    "subtitle" : "text"), jv_string(m->sub.s));
	/* A title slide that got content is a content slide: its text
	 * leads the bullets. */
	if (jv_object_has(jv_copy(s), jv_string("text"))) {
		jv b = jv_object_get(jv_copy(s), jv_string("bullets"));

		b = jv_array_concat(JV_ARRAY(jv_string(m->sub.s)),
		    jv_is_valid(b) ? b : jv_array());
		s = jv_object_set(jv_object_delete(s, jv_string("text")),
		    jv_string("bullets"), b);
	}
	add(m->k, s, m->file, m->line);
	m->cur = jv_invalid();
	m->sub.len = 0;
	m->titled = 0;
}

static void
md_new(struct mdck *m, cmark_node *n, const char *title, int titled)
{
	md_flush(m);
	m->line = cmark_node_get_start_line(n);
	m->cur = JV_OBJECT(jv_string("type"), jv_string("slide"));
	if (title != NULL)
		m->cur = jv_object_set(m->cur, jv_string("title"),
		    jv_string(title));
	m->titled = titled;
}

/* Append x (consumed) to the array member key of the current slide
 * (one begun at n if there is none). */
static void
md_push(struct mdck *m, cmark_node *n, const char *key, jv x)
{
	jv a;

	if (!jv_is_valid(m->cur))
		md_new(m, n, NULL, 0);
	a = jv_object_get(jv_copy(m->cur), jv_string(key));
	if (!jv_is_valid(a))
		a = jv_array();
	m->cur = jv_object_set(m->cur, jv_string(key), jv_array_append(a, x));
}

/* A list as bullets: each item's text, its sublists one level deeper
 * (an array after it). */
static jv
md_list(cmark_node *list)
{
	struct au_buf t = AU_BUF_INIT;
	cmark_node *item, *c;
	jv out = jv_array();

	for (item = cmark_node_first_child(list); item;
	    item = cmark_node_next(item))
		for (c = cmark_node_first_child(item); c;
		    c = cmark_node_next(c)) {
			if (cmark_node_get_type(c) == CMARK_NODE_LIST) {
				out = jv_array_append(out, md_list(c));
				continue;
			}
			t.len = 0;
			au_buf_adds(&t, "");
			tkdoc_md_text(c, &t);
			out = jv_array_append(out, jv_string(t.s));
		}
	au_buf_free(&t);
	return out;
}

/* The sole image of paragraph p, or NULL. */
static cmark_node *
md_image(cmark_node *p)
{
	cmark_node *c = cmark_node_first_child(p);

	return c != NULL && cmark_node_next(c) == NULL &&
	    cmark_node_get_type(c) == CMARK_NODE_IMAGE ? c : NULL;
}

static void
md_block(struct mdck *m, cmark_node *n)
{
	struct au_buf t = AU_BUF_INIT;
	const char *type = tkdoc_md_type(n), *lit;
	cmark_node *c, *cell, *img;
	jv row, table, list;

	au_buf_adds(&t, "");
	switch (cmark_node_get_type(n)) {
	case CMARK_NODE_HEADING:
		tkdoc_md_text(n, &t);
		if (cmark_node_get_heading_level(n) <= 2)
			md_new(m, n, t.s, cmark_node_get_heading_level(n) == 1);
		else
			md_push(m, n, "bullets", jv_string(t.s));
		break;
	case CMARK_NODE_THEMATIC_BREAK:
		md_new(m, n, NULL, 0);
		break;
	case CMARK_NODE_PARAGRAPH:
		if ((img = md_image(n)) != NULL) {
			if (!jv_is_valid(m->cur))
				md_new(m, n, NULL, 0);
			lit = cmark_node_get_url(img);
			if (lit[0] == '/' || strcmp(m->dir, ".") == 0)
				au_buf_adds(&t, lit);
			else
				au_buf_addf(&t, "%s/%s", m->dir, lit);
			m->cur = jv_object_set(m->cur, jv_string("image"),
			    jv_string(t.s));
			break;
		}
		tkdoc_md_text(n, &t);
		if (m->titled) {
			if (m->sub.len > 0)
				au_buf_addc(&m->sub, '\n');
			au_buf_adds(&m->sub, t.s);
		} else
			md_push(m, n, "bullets", jv_string(t.s));
		break;
	case CMARK_NODE_LIST:
		list = md_list(n);
		jv_array_foreach(list, i, x) {
			md_push(m, n, "bullets", x);
			(void)i;
		}
		jv_free(list);
		break;
	case CMARK_NODE_CODE_BLOCK:
		lit = cmark_node_get_literal(n);
		au_buf_adds(&t, lit);
		while (t.len > 0 && t.s[t.len - 1] == '\n')
			t.s[--t.len] = '\0';
		md_push(m, n, "bullets", jv_string(t.s));
		break;
	case CMARK_NODE_BLOCK_QUOTE:
		/* Speaker notes, as tk-md writes them. */
		for (c = cmark_node_first_child(n); c; c = cmark_node_next(c)) {
			if (t.len > 0)
				au_buf_addc(&t, '\n');
			tkdoc_md_text(c, &t);
		}
		if (!jv_is_valid(m->cur))
			md_new(m, n, NULL, 0);
		lit = au_jv_str(m->cur, "notes");
		m->cur = jv_object_set(m->cur, jv_string("notes"), lit == NULL
		    ? jv_string(t.s) : jv_string_fmt("%s\n%s", lit, t.s));
		break;
	default:
		if (strcmp(type, "table") != 0)
			break;
		table = jv_array();
		for (c = cmark_node_first_child(n); c; c = cmark_node_next(c)) {
			row = jv_array();
			for (cell = cmark_node_first_child(c); cell;
			    cell = cmark_node_next(cell)) {
				t.len = 0;
				au_buf_adds(&t, "");
				tkdoc_md_text(cell, &t);
				row = jv_array_append(row, jv_string(t.s));
			}
			table = jv_array_append(table, row);
		}
		if (!jv_is_valid(m->cur))
			md_new(m, n, NULL, 0);
		m->cur = jv_object_set(m->cur, jv_string("table"), table);
		break;
	}
	au_buf_free(&t);
}

/* The slides of Markdown source s, into the deck. */
static void
md_slides(struct deck *k, const struct tkdoc_src *s)
{
	struct mdck m = { k, s->name, 0, jv_invalid(), 0, AU_BUF_INIT,
	    s->dir };
	cmark_parser *p;
	cmark_node *doc = tkdoc_md_parse(s->buf, s->len, &p), *n;

	for (n = cmark_node_first_child(doc); n; n = cmark_node_next(n))
		md_block(&m, n);
	md_flush(&m);
	au_buf_free(&m.sub);
	tkdoc_md_free(p, doc);
}

/* ---- the deck ---------------------------------------------------------- */


/* A text run: <a:r><a:rPr lang="en-US" [sz] [b]/><a:t>text</a:t></a:r>. */
static void
run(xmlTextWriterPtr w, const char *text, int sz, int bold)
{
	tkdoc_start(w, "a:r");
	tkdoc_start(w, "a:rPr");
	tkdoc_attr(w, "lang", "en-US");
	if (sz > 0)
		tkdoc_attrf(w, "sz", "%d", sz);
	if (bold)
		tkdoc_attr(w, "b", "1");
	tkdoc_end(w);
	tkdoc_start(w, "a:t");
	tkdoc_text(w, text, strlen(text));
	tkdoc_end(w);
	tkdoc_end(w);
}

/* Paragraphs of text, one per line, at level lvl. */
static void
paras(xmlTextWriterPtr w, const char *text, int lvl)
{
	const char *p = text, *nl;
	char *line;

	do {
		nl = strchr(p, '\n');
		line = au_xstrndup(p, nl ? (size_t)(nl - p) : strlen(p));
		tkdoc_start(w, "a:p");
		if (lvl > 0) {
			tkdoc_start(w, "a:pPr");
			tkdoc_attrf(w, "lvl", "%d", lvl);
			tkdoc_end(w);
		}
		if (*line != '\0')
			run(w, line, 0, 0);
		else
			tkdoc_empty(w, "a:endParaRPr", "lang", "en-US");
		tkdoc_end(w);
		free(line);
		p = nl + 1;
	} while (nl != NULL);
}

static void
bullets(xmlTextWriterPtr w, jv b, int lvl)
{
	jv_array_foreach(b, i, x) {
		if (jv_get_kind(x) == JV_KIND_ARRAY)
			bullets(w, jv_copy(x), lvl + 1);
		else
			paras(w, jv_string_value(x), lvl);
		jv_free(x);
		(void)i;
	}
	jv_free(b);
}

/* A placeholder shape: its id, the ph's type (NULL: none) and idx (0:
 * none), a position of its own (cx 0: the layout's), and what fills its
 * text body. */
static void
placeholder(xmlTextWriterPtr w, int id, const char *name, const char *type,
    int idx, long x, long y, long cx, long cy)
{
	tkdoc_start(w, "p:sp");
	tkdoc_start(w, "p:nvSpPr");
	tkdoc_start(w, "p:cNvPr");
	tkdoc_attrf(w, "id", "%d", id);
	tkdoc_attr(w, "name", name);
	tkdoc_end(w);
	tkdoc_start(w, "p:cNvSpPr");
	tkdoc_empty(w, "a:spLocks", "noGrp", "1");
	tkdoc_end(w);
	tkdoc_start(w, "p:nvPr");
	tkdoc_start(w, "p:ph");
	if (type != NULL)
		tkdoc_attr(w, "type", type);
	if (idx > 0)
		tkdoc_attrf(w, "idx", "%d", idx);
	tkdoc_end(w);
	tkdoc_end(w);
	tkdoc_end(w);
	tkdoc_start(w, "p:spPr");
	if (cx > 0)
		tkdoc_xfrm(w, "a:xfrm", x, y, cx, cy);
	tkdoc_end(w);
	tkdoc_start(w, "p:txBody");
	tkdoc_empty(w, "a:bodyPr", NULL, NULL);
	tkdoc_empty(w, "a:lstStyle", NULL, NULL);
}

static void
table(xmlTextWriterPtr w, int id, jv rows, long x, long y, long cx)
{
	long ncols = 0, nrows = jv_array_length(jv_copy(rows)), c;
	struct au_buf t = AU_BUF_INIT;
	static const char *const sides[] = { "a:lnL", "a:lnR", "a:lnT",
	    "a:lnB" };
	char colw[32];
	size_t k;

	jv_array_foreach(rows, i, r) {
		if (jv_array_length(jv_copy(r)) > ncols)
			ncols = jv_array_length(jv_copy(r));
		jv_free(r);
		(void)i;
	}
	if (ncols == 0) {
		jv_free(rows);
		return;
	}
	tkdoc_start(w, "p:graphicFrame");
	tkdoc_start(w, "p:nvGraphicFramePr");
	tkdoc_start(w, "p:cNvPr");
	tkdoc_attrf(w, "id", "%d", id);
	tkdoc_attrf(w, "name", "Table %d", id - 1);
	tkdoc_end(w);
	tkdoc_start(w, "p:cNvGraphicFramePr");
	tkdoc_empty(w, "a:graphicFrameLocks", "noGrp", "1");
	tkdoc_end(w);
	tkdoc_empty(w, "p:nvPr", NULL, NULL);
	tkdoc_end(w);
	tkdoc_xfrm(w, "p:xfrm", x, y, cx, 370840L * nrows);
	tkdoc_start(w, "a:graphic");
	tkdoc_start(w, "a:graphicData");
	tkdoc_attr(w, "uri", "http://schemas.openxmlformats.org/drawingml/"
	    "2006/table");
	tkdoc_start(w, "a:tbl");
	tkdoc_start(w, "a:tblPr");
	tkdoc_attr(w, "firstRow", "1");
	tkdoc_attr(w, "bandRow", "1");
	tkdoc_end(w);
	tkdoc_start(w, "a:tblGrid");
	snprintf(colw, sizeof colw, "%ld", cx / ncols);
	for (c = 0; c < ncols; c++)
		tkdoc_empty(w, "a:gridCol", "w", colw);
	tkdoc_end(w);
	jv_array_foreach(rows, i, r) {
		tkdoc_start(w, "a:tr");
		tkdoc_attr(w, "h", "370840");
		for (c = 0; c < ncols; c++) {
			jv v = jv_array_get(jv_copy(r), (int)c);

			t.len = 0;
			au_buf_adds(&t, "");
			if (jv_get_kind(v) == JV_KIND_STRING)
				au_buf_adds(&t, jv_string_value(v));
			else if (jv_is_valid(v) && jv_get_kind(v) !=
			    JV_KIND_NULL)
				au_json_dump(&t, v);
			jv_free(v);
			tkdoc_start(w, "a:tc");
			tkdoc_start(w, "a:txBody");
			tkdoc_empty(w, "a:bodyPr", NULL, NULL);
			tkdoc_empty(w, "a:lstStyle", NULL, NULL);
			tkdoc_start(w, "a:p");
			if (t.len > 0)
				run(w, t.s, 1400, i == 0);
			tkdoc_end(w);
			tkdoc_end(w);
			tkdoc_start(w, "a:tcPr");
			for (k = 0; k < 4; k++) {
				tkdoc_start(w, sides[k]);
				tkdoc_attr(w, "w", "12700");
				tkdoc_start(w, "a:solidFill");
				tkdoc_empty(w, "a:schemeClr", "val", "tx1");
				tkdoc_end(w);
				tkdoc_end(w);
			}
			tkdoc_end(w);
			tkdoc_end(w);
		}
		tkdoc_end(w);
		jv_free(r);
	}
	tkdoc_end(w);
	tkdoc_end(w);
	tkdoc_end(w);
	tkdoc_end(w);
	au_buf_free(&t);
	jv_free(rows);
}

/* A picture of w by h pixels, fitted into the box and centred in it. */
static void
picture(xmlTextWriterPtr w, int id, const char *rid, const char *descr,
    long pw, long ph, long x, long y, long cx, long cy)
{
	long iw = cx, ih = (long)((double)cx * ph / pw);

	if (ih > cy) {
		ih = cy;
		iw = (long)((double)cy * pw / ph);
	}
	tkdoc_start(w, "p:pic");
	tkdoc_start(w, "p:nvPicPr");
	tkdoc_start(w, "p:cNvPr");
	tkdoc_attrf(w, "id", "%d", id);
	tkdoc_attrf(w, "name", "Picture %d", id - 1);
	tkdoc_attr(w, "descr", descr);
	tkdoc_end(w);
	tkdoc_start(w, "p:cNvPicPr");
	tkdoc_empty(w, "a:picLocks", "noChangeAspect", "1");
	tkdoc_end(w);
	tkdoc_empty(w, "p:nvPr", NULL, NULL);
	tkdoc_end(w);
	tkdoc_blip(w, "p", rid, x + (cx - iw) / 2, y + (cy - ih) / 2, iw, ih);
	tkdoc_end(w);
}

/* Whether slide s (borrowed) is a title slide: a subtitle and no
 * content. */
static int
titled(jv s)
{
	jv b = jv_object_get(jv_copy(s), jv_string("bullets")),
	    t = jv_object_get(jv_copy(s), jv_string("table"));
	int yes = au_jv_str(s, "subtitle") != NULL && jv_get_kind(b) !=
	    JV_KIND_ARRAY && jv_get_kind(t) != JV_KIND_ARRAY &&
	    au_jv_str(s, "image") == NULL;

	jv_free(b);
	jv_free(t);
	return yes;
}

/* The image of slide s, read and checked: its bytes, or NULL after
 * saying why (where: "file:line" or the file). */
static unsigned char *
image(struct deck *k, jv s, const char *file, long line, size_t *n,
    long *pw, long *ph, const char **ext)
{
	const char *path = au_jv_str(s, "image");
	unsigned char *p;
	int rc;

	if (path == NULL)
		return NULL;
	if ((rc = tkdoc_load(path, &p, n)) != 0) {
		au_errat(file, line, "image: %s", au_errmsg());
		tkdoc_worse(k->d, rc);
		return NULL;
	}
	if (tkdoc_image(p, *n, pw, ph, ext) == NULL) {
		au_errat(file, line, "image: %s: not a PNG or JPEG image",
		    au_esc(path));
		tkdoc_worse(k->d, EX_DATAERR);
		free(p);
		return NULL;
	}
	return p;
}

/* Slide number i (from 1) of the deck, s (borrowed): its part, its
 * notes, its image. */
static int
slide(struct deck *k, int i, jv s)
{
	struct tkdoc_part p, np;
	struct tkdoc_rels rels = { AU_BUF_INIT, 0 }, nrels = { AU_BUF_INIT, 0 };
	const char *title = au_jv_str(s, "title"), *notes = au_jv_str(s,
	    "notes"), *ext = NULL;
	jv b = jv_object_get(jv_copy(s), jv_string("bullets")),
	    t = jv_object_get(jv_copy(s), jv_string("table"));
	int title_slide = titled(s), parts, id = 2, rc;
	long pw = 0, ph = 0, x = BODY_X, cx;
	unsigned char *img;
	size_t n = 0;
	char rid[16], name[64];

	img = image(k, s, k->pos[i - 1].file, k->pos[i - 1].line, &n, &pw,
	    &ph, &ext);
	tkdoc_rel(&rels, "slideLayout", title_slide ? "../slideLayouts/slideLayout1.xml" :
	    "../slideLayouts/slideLayout2.xml", 0, rid);
	tkdoc_part_new(&p);
	xmlTextWriterWriteRaw(p.w, BAD_CAST "<p:sld " NSDECL "><p:cSld>"
	    "<p:spTree>" GRP);
	if (title != NULL) {
		placeholder(p.w, id++, "Title 1", title_slide ? "ctrTitle" :
		    "title", 0, 0, 0, 0, 0);
		paras(p.w, title, 0);
		tkdoc_end(p.w);
		tkdoc_end(p.w);
	}
	if (title_slide) {
		placeholder(p.w, id++, "Subtitle 2", "subTitle", 1, 0, 0, 0, 0);
		paras(p.w, au_jv_str(s, "subtitle"), 0);
		tkdoc_end(p.w);
		tkdoc_end(p.w);
	}
	parts = (jv_get_kind(b) == JV_KIND_ARRAY) +
	    (jv_get_kind(t) == JV_KIND_ARRAY) + (img != NULL);
	cx = parts > 1 ? (BODY_W - (parts - 1) * 228600L) / parts : BODY_W;
	if (jv_get_kind(b) == JV_KIND_ARRAY) {
		placeholder(p.w, id++, "Content Placeholder 2", NULL, 1, x,
		    BODY_Y, parts > 1 ? cx : 0, BODY_H);
		bullets(p.w, jv_copy(b), 0);
		if (jv_array_length(jv_copy(b)) == 0)
			tkdoc_empty(p.w, "a:p", NULL, NULL);
		tkdoc_end(p.w);
		tkdoc_end(p.w);
		x += cx + 228600L;
	}
	if (jv_get_kind(t) == JV_KIND_ARRAY) {
		table(p.w, id++, jv_copy(t), x, BODY_Y, cx);
		x += cx + 228600L;
	}
	if (img != NULL) {
		snprintf(name, sizeof name, "../media/image%d.%s",
		    ++k->nimages, ext);
		tkdoc_rel(&rels, "image", name, 0, rid);
		picture(p.w, id++, rid, au_jv_str(s, "image"), pw, ph, x,
		    BODY_Y, cx, BODY_H);
		snprintf(name, sizeof name, "ppt/media/image%d.%s",
		    k->nimages, ext);
		if ((rc = tkdoc_zip_add(k->z, name, img, n)) != 0) {
			free(img);
			return rc;
		}
		free(img);
	}
	xmlTextWriterWriteRaw(p.w, BAD_CAST "</p:spTree></p:cSld><p:clrMapOvr>"
	    "<a:masterClrMapping/></p:clrMapOvr></p:sld>");
	jv_free(b);
	jv_free(t);
	if (notes != NULL) {
		snprintf(name, sizeof name, "../notesSlides/notesSlide%d.xml", i);
		tkdoc_rel(&rels, "notesSlide", name, 0, rid);
		tkdoc_rel(&nrels, "notesMaster",
		    "../notesMasters/notesMaster1.xml", 0, rid);
		snprintf(name, sizeof name, "../slides/slide%d.xml", i);
		tkdoc_rel(&nrels, "slide", name, 0, rid);
		tkdoc_part_new(&np);
		xmlTextWriterWriteRaw(np.w, BAD_CAST "<p:notes " NSDECL
		    "><p:cSld><p:spTree>" GRP "<p:sp><p:nvSpPr><p:cNvPr "
		    "id=\"2\" name=\"Slide Image Placeholder 1\"/><p:cNvSpPr>"
		    "<a:spLocks noGrp=\"1\" noRot=\"1\" noChangeAspect=\"1\"/>"
		    "</p:cNvSpPr><p:nvPr><p:ph type=\"sldImg\"/></p:nvPr>"
		    "</p:nvSpPr><p:spPr/></p:sp>");
		placeholder(np.w, 3, "Notes Placeholder 2", "body", 1, 0, 0, 0,
		    0);
		paras(np.w, notes, 0);
		tkdoc_end(np.w);
		tkdoc_end(np.w);
		xmlTextWriterWriteRaw(np.w, BAD_CAST "</p:spTree></p:cSld>"
		    "<p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr>"
		    "</p:notes>");
		snprintf(name, sizeof name, "ppt/notesSlides/notesSlide%d.xml",
		    i);
		if ((rc = tkdoc_part_add(&np, k->z, name)) != 0)
			return rc;
		snprintf(name, sizeof name,
		    "ppt/notesSlides/_rels/notesSlide%d.xml.rels", i);
		if ((rc = tkdoc_rels_add(&nrels, k->z, name)) != 0)
			return rc;
	}
	snprintf(name, sizeof name, "ppt/slides/slide%d.xml", i);
	if ((rc = tkdoc_part_add(&p, k->z, name)) != 0)
		return rc;
	snprintf(name, sizeof name, "ppt/slides/_rels/slide%d.xml.rels", i);
	return tkdoc_rels_add(&rels, k->z, name);
}

/* [Content_Types].xml: the defaults, and each part of n slides. */
static int
content_types(struct deck *k, int n)
{
	static const char *const parts[][2] = {
		{ "/ppt/presentation.xml",
		    CT "presentationml.presentation.main+xml" },
		{ "/ppt/slideMasters/slideMaster1.xml",
		    CT "presentationml.slideMaster+xml" },
		{ "/ppt/slideLayouts/slideLayout1.xml",
		    CT "presentationml.slideLayout+xml" },
		{ "/ppt/slideLayouts/slideLayout2.xml",
		    CT "presentationml.slideLayout+xml" },
		{ "/ppt/notesMasters/notesMaster1.xml",
		    CT "presentationml.notesMaster+xml" },
		{ "/ppt/theme/theme1.xml", CT "theme+xml" },
		{ "/ppt/theme/theme2.xml", CT "theme+xml" },
		{ "/ppt/presProps.xml", CT "presentationml.presProps+xml" },
		{ "/ppt/viewProps.xml", CT "presentationml.viewProps+xml" },
		{ "/ppt/tableStyles.xml", CT "presentationml.tableStyles+xml" },
	};
	static const char *const defaults[][2] = {
		{ "rels", "application/vnd.openxmlformats-package."
		    "relationships+xml" },
		{ "xml", "application/xml" },
		{ "png", "image/png" },
		{ "jpeg", "image/jpeg" },
	};
	struct tkdoc_part p;
	size_t i;
	int s;

	tkdoc_part_new(&p);
	tkdoc_start(p.w, "Types");
	tkdoc_attr(p.w, "xmlns", "http://schemas.openxmlformats.org/package/"
	    "2006/content-types");
	for (i = 0; i < sizeof defaults / sizeof defaults[0]; i++) {
		tkdoc_start(p.w, "Default");
		tkdoc_attr(p.w, "Extension", defaults[i][0]);
		tkdoc_attr(p.w, "ContentType", defaults[i][1]);
		tkdoc_end(p.w);
	}
	for (i = 0; i < sizeof parts / sizeof parts[0]; i++) {
		tkdoc_start(p.w, "Override");
		tkdoc_attr(p.w, "PartName", parts[i][0]);
		tkdoc_attr(p.w, "ContentType", parts[i][1]);
		tkdoc_end(p.w);
	}
	for (s = 1; s <= n; s++) {
		jv sl = jv_array_get(jv_copy(k->slides), s - 1);

		tkdoc_start(p.w, "Override");
		tkdoc_attrf(p.w, "PartName", "/ppt/slides/slide%d.xml", s);
		tkdoc_attr(p.w, "ContentType", CT "presentationml.slide+xml");
		tkdoc_end(p.w);
		if (au_jv_str(sl, "notes") != NULL) {
			tkdoc_start(p.w, "Override");
			tkdoc_attrf(p.w, "PartName",
			    "/ppt/notesSlides/notesSlide%d.xml", s);
			tkdoc_attr(p.w, "ContentType",
			    CT "presentationml.notesSlide+xml");
			tkdoc_end(p.w);
		}
		jv_free(sl);
	}
	tkdoc_end(p.w);
	return tkdoc_part_add(&p, k->z, "[Content_Types].xml");
}

/* ppt/presentation.xml and its relationships. */
static int
presentation(struct deck *k, int n)
{
	struct tkdoc_rels r = { AU_BUF_INIT, 0 };
	struct tkdoc_part p;
	char rid[16], target[64];
	int s, rc;

	tkdoc_rel(&r, "slideMaster", "slideMasters/slideMaster1.xml", 0, rid);
	tkdoc_rel(&r, "notesMaster", "notesMasters/notesMaster1.xml", 0, rid);
	tkdoc_rel(&r, "theme", "theme/theme1.xml", 0, rid);
	tkdoc_rel(&r, "presProps", "presProps.xml", 0, rid);
	tkdoc_rel(&r, "viewProps", "viewProps.xml", 0, rid);
	tkdoc_rel(&r, "tableStyles", "tableStyles.xml", 0, rid);
	tkdoc_part_new(&p);
	xmlTextWriterWriteRaw(p.w, BAD_CAST "<p:presentation " NSDECL
	    " saveSubsetFonts=\"1\"><p:sldMasterIdLst><p:sldMasterId "
	    "id=\"2147483648\" r:id=\"rId1\"/></p:sldMasterIdLst>"
	    "<p:notesMasterIdLst><p:notesMasterId r:id=\"rId2\"/>"
	    "</p:notesMasterIdLst>");
	if (n > 0)
		tkdoc_start(p.w, "p:sldIdLst");
	for (s = 1; s <= n; s++) {
		snprintf(target, sizeof target, "slides/slide%d.xml", s);
		tkdoc_rel(&r, "slide", target, 0, rid);
		tkdoc_start(p.w, "p:sldId");
		tkdoc_attrf(p.w, "id", "%d", 255 + s);
		tkdoc_attr(p.w, "r:id", rid);
		tkdoc_end(p.w);
	}
	if (n > 0)
		tkdoc_end(p.w);
	xmlTextWriterWriteRaw(p.w, BAD_CAST "<p:sldSz cx=\"12192000\" "
	    "cy=\"6858000\"/><p:notesSz cx=\"6858000\" cy=\"9144000\"/>"
	    "</p:presentation>");
	if ((rc = tkdoc_part_add(&p, k->z, "ppt/presentation.xml")) != 0)
		return rc;
	return tkdoc_rels_add(&r, k->z, "ppt/_rels/presentation.xml.rels");
}

/* The parts every deck has the same. */
static int
fixed(struct deck *k)
{
	static const struct {
		const char *name, *xml;
	} parts[] = {
		{ "ppt/slideMasters/slideMaster1.xml", master },
		{ "ppt/slideLayouts/slideLayout1.xml", layout_title },
		{ "ppt/slideLayouts/slideLayout2.xml", layout_content },
		{ "ppt/notesMasters/notesMaster1.xml", notes_master },
		{ "ppt/theme/theme1.xml", theme },
		{ "ppt/theme/theme2.xml", theme },
		{ "ppt/presProps.xml", pres_props },
		{ "ppt/viewProps.xml", view_props },
		{ "ppt/tableStyles.xml", table_styles },
	};
	struct tkdoc_rels r = { AU_BUF_INIT, 0 };
	char rid[16];
	size_t i;
	int rc;

	for (i = 0; i < sizeof parts / sizeof parts[0]; i++)
		if ((rc = tkdoc_zip_add(k->z, parts[i].name, parts[i].xml,
		    strlen(parts[i].xml))) != 0)
			return rc;
	tkdoc_rel(&r, "officeDocument", "ppt/presentation.xml", 0, rid);
	if ((rc = tkdoc_rels_add(&r, k->z, "_rels/.rels")) != 0)
		return rc;
	tkdoc_rel(&r, "slideLayout", "../slideLayouts/slideLayout1.xml", 0,
	    rid);
	tkdoc_rel(&r, "slideLayout", "../slideLayouts/slideLayout2.xml", 0,
	    rid);
	tkdoc_rel(&r, "theme", "../theme/theme1.xml", 0, rid);
	if ((rc = tkdoc_rels_add(&r, k->z,
	    "ppt/slideMasters/_rels/slideMaster1.xml.rels")) != 0)
		return rc;
	for (i = 1; i <= 2; i++) {
		char name[64];

		tkdoc_rel(&r, "slideMaster", "../slideMasters/slideMaster1.xml",
		    0, rid);
		snprintf(name, sizeof name,
		    "ppt/slideLayouts/_rels/slideLayout%zu.xml.rels", i);
		if ((rc = tkdoc_rels_add(&r, k->z, name)) != 0)
			return rc;
	}
	tkdoc_rel(&r, "theme", "../theme/theme2.xml", 0, rid);
	return tkdoc_rels_add(&r, k->z,
	    "ppt/notesMasters/_rels/notesMaster1.xml.rels");
}

/* A slide record read: checked, and into the deck. */
static void
onrec(jv v, const char *file, long line, void *arg)
{
	struct deck *k = arg;
	const char *why = badslide(v);

	if (why != NULL) {
		au_errat(file, line, "%s", why);
		tkdoc_worse(k->d, EX_DATAERR);
		jv_free(v);
		return;
	}
	add(k, v, file, line);
}

int
tkdoc_pptx(struct tkdoc *d)
{
	struct deck k;
	struct tkdoc_src *srcs;
	size_t nsrc = tkdoc_read(d, &srcs), i;
	int n, rc = 0;

	memset(&k, 0, sizeof k);
	k.d = d;
	k.slides = jv_array();
	for (i = 0; i < nsrc; i++)
		if (tkdoc_is_records(d, &srcs[i]))
			tkdoc_records(d, &srcs[i], onrec, &k);
		else if (au_utf8_valid(srcs[i].buf, srcs[i].len) !=
		    srcs[i].len) {
			au_err("%s: not UTF-8 text", au_esc(srcs[i].name));
			tkdoc_worse(d, EX_DATAERR);
		} else
			md_slides(&k, &srcs[i]);
	n = jv_array_length(jv_copy(k.slides));
	if ((k.z = tkdoc_zip_open(d->path)) == NULL)
		au_die(EX_CANTCREAT, "%s: cannot create: %s", au_esc(d->name),
		    au_errmsg());
	rc = content_types(&k, n);
	if (rc == 0)
		rc = fixed(&k);
	if (rc == 0)
		rc = presentation(&k, n);
	for (i = 0; rc == 0 && i < (size_t)n; i++) {
		jv s = jv_array_get(jv_copy(k.slides), (int)i);

		rc = slide(&k, (int)i + 1, s);
		jv_free(s);
	}
	if (rc == 0)
		rc = tkdoc_zip_close(k.z);
	if (rc != 0)
		au_die(rc, "%s: %s", au_esc(d->name), au_errmsg());
	au_note("%d slide%s", n, n == 1 ? "" : "s");
	jv_free(k.slides);
	free(k.pos);
	tkdoc_src_free(srcs, nsrc);
	return 0;
}
