/*
 * odf.c - OpenDocument text, spreadsheets and presentations to Markdown.
 *
 * All three keep their content in content.xml and their named styles in
 * styles.xml.  A style says little by its name alone, so formatting is
 * found by following a style's parents: bold and italic from its text
 * properties, code from a fixed-pitch font, headings from an outline
 * level, quotes and preformatted text from the standard paragraph styles
 * they derive from, and whether a list is numbered from its list style.
 * Tables come from the same reader in all three: covered cells are the
 * places a spanned cell takes, and repeated rows and columns are counted
 * before anything is expanded, so that the empty million rows a
 * spreadsheet ends with cost nothing.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tkmd.h"

#define NS_OFFICE "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
#define NS_STYLE "urn:oasis:names:tc:opendocument:xmlns:style:1.0"
#define NS_TEXT "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
#define NS_TABLE "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
#define NS_DRAW "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
#define NS_FO "urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
#define NS_SVG "urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"
#define NS_PRES "urn:oasis:names:tc:opendocument:xmlns:presentation:1.0"
#define NS_META "urn:oasis:names:tc:opendocument:xmlns:meta:1.0"
#define NS_XLINK "http://www.w3.org/1999/xlink"
#define NS_DC "http://purl.org/dc/elements/1.1/"

/* Deeper than this an element is refused: the walk recurses. */
#define MAXDEPTH 200
/* The most cells a table may expand to, repeats counted. */
#define MAXCELLS (1 << 22)
/* Parents followed from a style at most (a loop ends there). */
#define MAXCHAIN 16

enum { BOLD, ITALIC, STRIKE, MONO };

struct odf {
	struct tkmd *d;
	xmlDocPtr content, styles;
	struct au_map *text, *para, *lists, *fixed;
	xmlNodePtr *node;	/* what the maps' values index */
	size_t nnode, cap;
	FILE *notes;		/* the footnotes, written at the end */
	char *notebuf;
	size_t notelen;
	int nnotes;
	int depth;
};

static int
el(xmlNodePtr n, const char *ns, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && n->ns &&
	    strcmp((const char *)n->ns->href, ns) == 0 &&
	    strcmp((const char *)n->name, name) == 0;
}

static xmlNodePtr
kid(xmlNodePtr n, const char *ns, const char *name)
{
	xmlNodePtr c;

	for (c = n ? n->children : NULL; c; c = c->next)
		if (el(c, ns, name))
			return c;
	return NULL;
}

static int
white(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int
deeper(struct odf *o)
{
	if (++o->depth > MAXDEPTH)
		return tkmd_fail(o->d, "elements nested deeper than %d",
		    MAXDEPTH);
	return 0;
}

/* ---- styles ----------------------------------------------------------- */

static void
add(struct odf *o, struct au_map *m, const char *name, xmlNodePtr n)
{
	if (!name)
		return;
	o->node = au_grow(o->node, &o->cap, o->nnode + 1, sizeof *o->node);
	o->node[o->nnode] = n;
	if (au_map_put(m, name, strlen(name), (long)o->nnode) < 0)
		o->nnode++;
}

/* The styles of one office:*-styles element, and the fonts of pitch
 * fixed among office:font-face-decls. */
static void
load(struct odf *o, xmlNodePtr root)
{
	xmlNodePtr c, s;

	for (c = root ? root->children : NULL; c; c = c->next) {
		if (el(c, NS_OFFICE, "font-face-decls")) {
			for (s = c->children; s; s = s->next) {
				const char *p = tkmd_attr(s, NS_STYLE,
				    "font-pitch");

				if (el(s, NS_STYLE, "font-face") && p &&
				    !strcmp(p, "fixed"))
					add(o, o->fixed, tkmd_attr(s, NS_STYLE,
					    "name"), s);
			}
			continue;
		}
		if (!el(c, NS_OFFICE, "automatic-styles") &&
		    !el(c, NS_OFFICE, "styles"))
			continue;
		for (s = c->children; s; s = s->next) {
			const char *fam = tkmd_attr(s, NS_STYLE, "family");
			const char *name = tkmd_attr(s, NS_STYLE, "name");

			if (el(s, NS_TEXT, "list-style"))
				add(o, o->lists, name, s);
			else if (el(s, NS_STYLE, "style") && fam &&
			    !strcmp(fam, "text"))
				add(o, o->text, name, s);
			else if (el(s, NS_STYLE, "style") && fam &&
			    !strcmp(fam, "paragraph"))
				add(o, o->para, name, s);
		}
	}
}

static xmlNodePtr
style(struct odf *o, struct au_map *m, const char *name)
{
	long i = name ? au_map_get(m, name, strlen(name)) : -1;

	return i < 0 ? NULL : o->node[i];
}

/* What style name (of map m) and its parents say of a property: 1, 0,
 * or -1 when none of them says. */
static int
prop(struct odf *o, struct au_map *m, const char *name, int what)
{
	xmlNodePtr s, tp;
	const char *v;
	int hop;

	for (hop = 0; hop < MAXCHAIN && (s = style(o, m, name)); hop++) {
		tp = kid(s, NS_STYLE, "text-properties");
		switch (what) {
		case BOLD:
			v = tp ? tkmd_attr(tp, NS_FO, "font-weight") : NULL;
			if (v)
				return !strcmp(v, "bold") || atoi(v) >= 600;
			break;
		case ITALIC:
			v = tp ? tkmd_attr(tp, NS_FO, "font-style") : NULL;
			if (v)
				return !strcmp(v, "italic") ||
				    !strcmp(v, "oblique");
			break;
		case STRIKE:
			v = tp ? tkmd_attr(tp, NS_STYLE,
			    "text-line-through-style") : NULL;
			if (v)
				return strcmp(v, "none") != 0;
			break;
		default:
			v = tp ? tkmd_attr(tp, NS_STYLE, "font-name") : NULL;
			if (v)
				return au_map_get(o->fixed, v, strlen(v)) >= 0;
			break;
		}
		name = tkmd_attr(s, NS_STYLE, "parent-style-name");
	}
	return -1;
}

/* Whether paragraph style name is, or derives from, one of names. */
static int
derives(struct odf *o, const char *name, const char *const *names)
{
	const char *const *p;
	xmlNodePtr s;
	int hop;

	for (hop = 0; hop < MAXCHAIN && name; hop++) {
		for (p = names; *p; p++)
			if (!strcmp(name, *p))
				return 1;
		if (!(s = style(o, o->para, name)))
			break;
		name = tkmd_attr(s, NS_STYLE, "parent-style-name");
	}
	return 0;
}

/* A paragraph style's outline level: its own or a parent's, or 0. */
static int
outline(struct odf *o, const char *name)
{
	xmlNodePtr s;
	const char *v;
	int hop;

	for (hop = 0; hop < MAXCHAIN && (s = style(o, o->para, name)); hop++) {
		if ((v = tkmd_attr(s, NS_STYLE, "default-outline-level")) &&
		    atoi(v) > 0)
			return atoi(v) > 6 ? 6 : atoi(v);
		name = tkmd_attr(s, NS_STYLE, "parent-style-name");
	}
	return 0;
}

enum { PARA, CODE, QUOTE, TITLE };

static int
kind(struct odf *o, xmlNodePtr p)
{
	static const char *const code[] = { "Preformatted_20_Text",
	    "Source_20_Code", NULL };
	static const char *const quote[] = { "Quotations", NULL };
	static const char *const title[] = { "Title", NULL };
	const char *name = tkmd_attr(p, NS_TEXT, "style-name");

	if (derives(o, name, code) || prop(o, o->para, name, MONO) == 1)
		return CODE;
	if (derives(o, name, quote))
		return QUOTE;
	if (derives(o, name, title))
		return TITLE;
	return PARA;
}

/* ---- inline content --------------------------------------------------- */

/* The plain text of n (text:s and text:tab as spaces, line breaks as
 * newlines, notes left out) onto b. */
static void
plain(struct au_buf *b, xmlNodePtr n, int depth)
{
	xmlNodePtr c;

	for (c = n->children; c && depth < MAXDEPTH; c = c->next) {
		if (c->type == XML_TEXT_NODE) {
			au_buf_adds(b, (const char *)c->content);
		} else if (el(c, NS_TEXT, "s")) {
			const char *k = tkmd_attr(c, NS_TEXT, "c");
			int i, count = k ? atoi(k) : 1;

			for (i = 0; i < (count < 1 ? 1 : count > 1000 ? 1000 :
			    count); i++)
				au_buf_addc(b, ' ');
		} else if (el(c, NS_TEXT, "tab")) {
			au_buf_addc(b, '\t');
		} else if (el(c, NS_TEXT, "line-break")) {
			au_buf_addc(b, '\n');
		} else if (c->type == XML_ELEMENT_NODE &&
		    !el(c, NS_TEXT, "note") &&
		    !el(c, NS_OFFICE, "annotation")) {
			plain(b, c, depth + 1);
		}
	}
}

static int oinl(void *arg, struct tkmd_inline *w, xmlNodePtr n);
static int oblocks(struct odf *o, struct tkmd_blk *b, xmlNodePtr first,
    const char *list, int level);

static int
okids(struct odf *o, struct tkmd_inline *w, xmlNodePtr n)
{
	xmlNodePtr c;

	for (c = n->children; c; c = c->next)
		if (oinl(o, w, c) < 0)
			return -1;
	return 0;
}

/* A footnote: its number here, its text to the notes. */
static int
note(struct odf *o, struct tkmd_inline *w, xmlNodePtr n)
{
	struct tkmd_blk in = { NULL, 0, 0 };
	char *buf = NULL, ref[32];
	size_t len = 0;
	int rc;

	snprintf(ref, sizeof ref, "[^%d]", ++o->nnotes);
	tkmd_in_raw(w, ref);
	in.out = tkmd_xmem(&buf, &len);
	rc = oblocks(o, &in, kid(n, NS_TEXT, "note-body") ?
	    kid(n, NS_TEXT, "note-body")->children : NULL, NULL, 0);
	fclose(in.out);
	if (rc == 0) {
		if (!o->notes)
			o->notes = tkmd_xmem(&o->notebuf, &o->notelen);
		else
			fputc('\n', o->notes);
		strcat(ref, ": ");
		if (len > 0)
			tkmd_indent(o->notes, buf, len, ref, "    ", "");
		else
			fprintf(o->notes, "%s\n", ref);
	}
	free(buf);
	return rc;
}

/* An image in a frame: its member, extracted with --extract-media; its
 * title or description as the alternative text. */
static void
image(struct odf *o, struct tkmd_inline *w, xmlNodePtr frame,
    xmlNodePtr img)
{
	const char *href = tkmd_attr(img, NS_XLINK, "href");
	xmlNodePtr t = kid(frame, NS_SVG, "title");
	char *member = href ? tkmd_href_path(href) : NULL, *src;
	struct au_buf alt = AU_BUF_INIT;

	if (!member)
		return;
	if (!t)
		t = kid(frame, NS_SVG, "desc");
	if (t)
		plain(&alt, t, 0);
	src = tkmd_media(o->d, member);
	tkmd_in_image(w, alt.s ? alt.s : "", src ? src : member);
	au_buf_free(&alt);
	free(src);
	free(member);
}

static int
span(struct odf *o, struct tkmd_inline *w, xmlNodePtr n)
{
	static const struct {
		int what;
		unsigned bit;
	} fmt[] = {
		{ BOLD, TKMD_STRONG }, { ITALIC, TKMD_EM },
		{ STRIKE, TKMD_DEL },
	};
	const char *name = tkmd_attr(n, NS_TEXT, "style-name");
	unsigned was = w->want;
	size_t i;
	int rc;

	if (prop(o, o->text, name, MONO) == 1) {
		struct au_buf b = AU_BUF_INIT;

		plain(&b, n, 0);
		tkmd_in_code(w, b.s ? b.s : "", b.len);
		au_buf_free(&b);
		return 0;
	}
	for (i = 0; i < sizeof fmt / sizeof fmt[0]; i++)
		switch (prop(o, o->text, name, fmt[i].what)) {
		case 1:
			w->want |= fmt[i].bit;
			break;
		case 0:
			w->want &= ~fmt[i].bit;
			break;
		}
	rc = okids(o, w, n);
	w->want = was;
	return rc;
}

static int
oinl(void *arg, struct tkmd_inline *w, xmlNodePtr n)
{
	struct odf *o = arg;
	const char *href;
	xmlNodePtr img;
	int rc = 0;

	if (n->type == XML_TEXT_NODE) {
		tkmd_in_text(w, (const char *)n->content,
		    strlen((const char *)n->content));
		return 0;
	}
	if (n->type != XML_ELEMENT_NODE || el(n, NS_OFFICE, "annotation") ||
	    el(n, NS_TEXT, "bookmark-start") || el(n, NS_TEXT, "number") ||
	    el(n, NS_SVG, "title") || el(n, NS_SVG, "desc"))
		return 0;
	if (deeper(o) < 0)
		return -1;
	if (el(n, NS_TEXT, "span")) {
		rc = span(o, w, n);
	} else if (el(n, NS_TEXT, "s") || el(n, NS_TEXT, "tab")) {
		tkmd_in_space(w);
	} else if (el(n, NS_TEXT, "line-break")) {
		tkmd_in_break(w);
	} else if (el(n, NS_TEXT, "note")) {
		rc = note(o, w, n);
	} else if ((el(n, NS_TEXT, "a") || el(n, NS_DRAW, "a")) &&
	    (href = tkmd_attr(n, NS_XLINK, "href")) && *href &&
	    w->link == SIZE_MAX) {
		tkmd_in_link(w);
		rc = okids(o, w, n);
		tkmd_in_unlink(w, href);
	} else if (el(n, NS_DRAW, "frame") &&
	    (img = kid(n, NS_DRAW, "image"))) {
		image(o, w, n, img);
	} else {
		/* Paragraphs in a cell or a text box keep their words
		 * apart; other elements (fields, references) are text. */
		int apart = el(n, NS_TEXT, "p") || el(n, NS_TEXT, "h") ||
		    el(n, NS_TEXT, "list-item") || el(n, NS_DRAW, "frame") ||
		    el(n, NS_DRAW, "text-box");

		if (apart)
			tkmd_in_space(w);
		rc = okids(o, w, n);
		if (apart)
			tkmd_in_space(w);
	}
	o->depth--;
	return rc;
}

/* ---- blocks ----------------------------------------------------------- */

static int
heading(struct odf *o, struct tkmd_blk *b, xmlNodePtr h, int level)
{
	char hashes[8];

	if (level < 1)
		level = 1;
	if (level > 6)
		level = 6;
	memset(hashes, '#', (size_t)level);
	strcpy(hashes + level, " ");
	return tkmd_para(b, h->children, NULL, hashes, oinl, o);
}

/* The first child element of n, or NULL. */
static xmlNodePtr
first(xmlNodePtr n)
{
	for (n = n->children; n && n->type != XML_ELEMENT_NODE; n = n->next)
		;
	return n;
}

/* The next sibling element after n (text between is white space). */
static xmlNodePtr
next(xmlNodePtr n)
{
	for (n = n->next; n && n->type != XML_ELEMENT_NODE; n = n->next)
		;
	return n;
}

/* A run of preformatted paragraphs from p as one fenced code block;
 * returns the last of them. */
static xmlNodePtr
code(struct odf *o, struct tkmd_blk *b, xmlNodePtr p)
{
	struct au_buf text = AU_BUF_INIT;
	xmlNodePtr last = p;

	for (; el(p, NS_TEXT, "p") && kind(o, p) == CODE; p = next(p)) {
		if (text.len > 0)
			au_buf_addc(&text, '\n');
		plain(&text, p, 0);
		last = p;
	}
	fputs(tkmd_sep(b), b->out);
	tkmd_code(b->out, NULL, text.s ? text.s : "", text.len);
	b->n++;
	au_buf_free(&text);
	return last;
}

/* A run of quotation paragraphs from p as one block quote; *last gets
 * the last of them. */
static int
quote(struct odf *o, struct tkmd_blk *b, xmlNodePtr p, xmlNodePtr *last)
{
	struct tkmd_blk in = { NULL, 0, 0 };
	char *buf = NULL;
	size_t len = 0;
	int rc = 0;

	in.out = tkmd_xmem(&buf, &len);
	for (*last = p; rc == 0 && el(p, NS_TEXT, "p") &&
	    kind(o, p) == QUOTE; p = next(p)) {
		rc = tkmd_para(&in, p->children, NULL, "", oinl, o);
		*last = p;
	}
	fclose(in.out);
	if (rc == 0)
		tkmd_quote(b, buf, len);
	free(buf);
	return rc;
}

/* The style of level (from 1) in list style s, or NULL. */
static xmlNodePtr
levelof(xmlNodePtr s, int level)
{
	xmlNodePtr c;

	for (c = s ? s->children : NULL; c; c = c->next) {
		const char *lv = tkmd_attr(c, NS_TEXT, "level");

		if (c->type == XML_ELEMENT_NODE && lv && atoi(lv) == level)
			return c;
	}
	return NULL;
}

/* Whether level (from 1) of list style name is numbered, and from what:
 * the start, or 0 for bullets.  A style without that level (pandoc
 * gives a nested list a style of its own) is read at its first. */
static long
numbered(struct odf *o, const char *name, int level)
{
	xmlNodePtr s = style(o, o->lists, name), c;
	const char *f, *st;

	if (!(c = levelof(s, level)))
		c = levelof(s, 1);
	if (!el(c, NS_TEXT, "list-level-style-number") ||
	    !(f = tkmd_attr(c, NS_STYLE, "num-format")) || !*f)
		return 0;
	st = tkmd_attr(c, NS_TEXT, "start-value");
	return st && atol(st) > 0 && atol(st) < 1000000000 ? atol(st) : 1;
}

/* Whether an item holds more than one paragraph: then the list is
 * loose; and whether it holds headings only (a numbered heading). */
static int
items(xmlNodePtr list, int *headings)
{
	xmlNodePtr li, c;
	int loose = 0, paras, heads;

	*headings = 1;
	for (li = list->children; li; li = li->next) {
		if (!el(li, NS_TEXT, "list-item") &&
		    !el(li, NS_TEXT, "list-header"))
			continue;
		paras = heads = 0;
		for (c = li->children; c; c = c->next) {
			paras += el(c, NS_TEXT, "p");
			heads += el(c, NS_TEXT, "h");
		}
		if (paras + heads > 1)
			loose = 1;
		if (paras > 0 || heads == 0)
			*headings = 0;
	}
	return loose;
}

static int
list(struct odf *o, struct tkmd_blk *b, xmlNodePtr n, const char *lstyle,
    int level)
{
	const char *own = tkmd_attr(n, NS_TEXT, "style-name");
	long num;
	int headings, tight = !items(n, &headings), count = 0;
	xmlNodePtr li;

	if (own)
		lstyle = own;
	level++;
	if (headings)
		return oblocks(o, b, n->children, lstyle, level);
	num = numbered(o, lstyle, level);
	for (li = n->children; li; li = li->next) {
		struct tkmd_blk in = { NULL, 0, tight };
		char *buf = NULL;
		size_t len = 0;
		int rc;

		if (!el(li, NS_TEXT, "list-item") &&
		    !el(li, NS_TEXT, "list-header"))
			continue;
		in.out = tkmd_xmem(&buf, &len);
		rc = oblocks(o, &in, li->children, lstyle, level);
		fclose(in.out);
		if (rc < 0) {
			free(buf);
			return -1;
		}
		/* An item that begins with a list carries on the item
		 * before it, in this list or the one before (as office
		 * suites write a list interrupted at a deeper level). */
		tkmd_item(b, count, tight, num > 0 ? num++ : 0,
		    el(first(li), NS_TEXT, "list"), buf, len);
		free(buf);
		count++;
	}
	if (count > 0)
		b->n++;
	return 0;
}

/* ---- tables ----------------------------------------------------------
 *
 * A table is read as rows of runs: each run one cell's Markdown (NULL
 * when empty) and how many columns it is repeated over, each row how
 * many times it is repeated.  Only then is the grid made, as far as the
 * filled cells reach: a repeat past the last filled row or column is
 * never expanded.  A spanned cell's covered places stay empty.
 */

struct run {
	char *md;
	size_t n;
};

struct trow {
	struct run *run;
	size_t nrun, cap;
	size_t n;
};

struct tab {
	struct trow *row;
	size_t nrow, cap;
};

static void
tab_row(struct tab *t, size_t rep)
{
	t->row = au_grow(t->row, &t->cap, t->nrow + 1, sizeof *t->row);
	memset(&t->row[t->nrow], 0, sizeof t->row[t->nrow]);
	t->row[t->nrow++].n = rep;
}

/* A cell (md consumed) in the last row, if there is one. */
static void
tab_cell(struct tab *t, char *md, size_t rep)
{
	struct trow *r = t->nrow ? &t->row[t->nrow - 1] : NULL;

	if (!r) {
		free(md);
		return;
	}
	r->run = au_grow(r->run, &r->cap, r->nrun + 1, sizeof *r->run);
	r->run[r->nrun].md = md;
	r->run[r->nrun++].n = rep;
}

static void
tab_free(struct tab *t)
{
	size_t r, k;

	for (r = 0; r < t->nrow; r++) {
		for (k = 0; k < t->row[r].nrun; k++)
			free(t->row[r].run[k].md);
		free(t->row[r].run);
	}
	free(t->row);
	memset(t, 0, sizeof *t);
}

/* The table as GFM after b's separator; t freed. */
static int
tab_emit(struct tkmd *d, struct tkmd_blk *b, struct tab *t)
{
	size_t rows = 0, cols = 0, r, k, i, at, col;
	char **cells;

	for (r = 0, at = 0; r < t->nrow && at < SIZE_MAX / 4; r++) {
		struct trow *w = &t->row[r];

		for (k = 0, col = 0; k < w->nrun && col < SIZE_MAX / 4; k++) {
			if (w->run[k].md) {
				if (col + w->run[k].n > cols)
					cols = col + w->run[k].n;
				rows = at + (w->n < SIZE_MAX / 4 ? w->n : 1);
			}
			col += w->run[k].n < SIZE_MAX / 4 ? w->run[k].n : 1;
		}
		at += w->n < SIZE_MAX / 4 ? w->n : 1;
	}
	if (rows == 0 || cols == 0) {
		tab_free(t);
		return 0;
	}
	if (cols > MAXCELLS || rows > MAXCELLS / cols) {
		tab_free(t);
		return tkmd_fail(d, "a table of more than %d cells", MAXCELLS);
	}
	cells = au_xcalloc(rows * cols, sizeof *cells);
	for (r = 0, at = 0; r < t->nrow && at < rows; r++) {
		struct trow *w = &t->row[r];

		for (k = 0, col = 0; k < w->nrun && col < cols; k++)
			for (i = 0; i < w->run[k].n && col < cols; i++)
				cells[at * cols + col++] = w->run[k].md;
		for (i = 1; i < w->n && at + i < rows; i++)
			memcpy(&cells[(at + i) * cols], &cells[at * cols],
			    cols * sizeof *cells);
		at += w->n;
	}
	fputs(tkmd_sep(b), b->out);
	tkmd_table(b->out, cells, rows, cols);
	b->n++;
	free(cells);
	tab_free(t);
	return 0;
}

static size_t
repeat(const char *v)
{
	long r = v ? atol(v) : 1;

	return r < 1 ? 1 : (size_t)r;
}

/* A cell's content as one line (malloc'd; NULL when empty): its
 * paragraphs, or, when it has none, its value as stored. */
static char *
cellmd(struct odf *o, xmlNodePtr c, int *rc)
{
	static const char *const values[] = { "value", "date-value",
	    "time-value", "boolean-value", "string-value", NULL };
	const char *const *v, *s;
	char *md = tkmd_cell(c->children, oinl, o, rc);
	struct au_buf b = AU_BUF_INIT;

	for (v = values; !md && *rc == 0 && *v; v++)
		if ((s = tkmd_attr(c, NS_OFFICE, *v)) && *s) {
			tkmd_esc_inline(&b, s, strlen(s));
			md = b.s;
		}
	return md;
}

/* The rows of a table element into t, through header rows, row groups
 * and the like. */
static int
rowsof(struct odf *o, xmlNodePtr n, struct tab *t, int depth)
{
	xmlNodePtr c, x;
	int rc = 0;

	for (c = n->children; c && depth < 8 && rc == 0; c = c->next) {
		if (el(c, NS_TABLE, "table-header-rows") ||
		    el(c, NS_TABLE, "table-rows") ||
		    el(c, NS_TABLE, "table-row-group")) {
			rc = rowsof(o, c, t, depth + 1);
			continue;
		}
		if (!el(c, NS_TABLE, "table-row"))
			continue;
		tab_row(t, repeat(tkmd_attr(c, NS_TABLE,
		    "number-rows-repeated")));
		for (x = c->children; x && rc == 0; x = x->next)
			if (el(x, NS_TABLE, "table-cell") ||
			    el(x, NS_TABLE, "covered-table-cell"))
				tab_cell(t, el(x, NS_TABLE, "table-cell") ?
				    cellmd(o, x, &rc) : NULL,
				    repeat(tkmd_attr(x, NS_TABLE,
				    "number-columns-repeated")));
	}
	return rc;
}

static int
table(struct odf *o, struct tkmd_blk *b, xmlNodePtr t)
{
	struct tab tab = { NULL, 0, 0 };

	if (rowsof(o, t, &tab, 0) < 0) {
		tab_free(&tab);
		return -1;
	}
	return tab_emit(o->d, b, &tab);
}

/* Sibling block elements from first on: headings, paragraphs (runs of
 * preformatted or quoted ones together), lists, tables, sections.  In a
 * list, lstyle and level are the list style and depth. */
static int
oblocks(struct odf *o, struct tkmd_blk *b, xmlNodePtr first,
    const char *lstyle, int level)
{
	xmlNodePtr c;
	const char *lv;
	int rc = 0, k;

	for (c = first; c && rc == 0; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if ((rc = deeper(o)) < 0)
			break;
		if (el(c, NS_TEXT, "h")) {
			lv = tkmd_attr(c, NS_TEXT, "outline-level");
			rc = heading(o, b, c, lv ? atoi(lv) : 1);
		} else if (el(c, NS_TEXT, "p")) {
			k = kind(o, c);
			if (k == CODE)
				c = code(o, b, c);
			else if (k == QUOTE)
				rc = quote(o, b, c, &c);
			else if (k == TITLE)
				rc = heading(o, b, c, 1);
			else if ((k = outline(o, tkmd_attr(c, NS_TEXT,
			    "style-name"))) > 0)
				rc = heading(o, b, c, k);
			else
				rc = tkmd_para(b, c->children, NULL, "", oinl, o);
		} else if (el(c, NS_TEXT, "list")) {
			rc = list(o, b, c, lstyle, level);
		} else if (el(c, NS_TABLE, "table")) {
			rc = table(o, b, c);
		} else if (el(c, NS_TEXT, "section") ||
		    el(c, NS_DRAW, "text-box")) {
			rc = oblocks(o, b, c->children, lstyle, level);
		} else if (el(c, NS_DRAW, "frame") || el(c, NS_DRAW, "a")) {
			rc = tkmd_para(b, c, c->next, "", oinl, o);
		}
		o->depth--;
	}
	return rc;
}

/* ---- the documents ---------------------------------------------------- */

static void
odf_free(struct odf *o)
{
	if (o->notes)
		fclose(o->notes);
	free(o->notebuf);
	free(o->node);
	au_map_free(o->text);
	au_map_free(o->para);
	au_map_free(o->lists);
	au_map_free(o->fixed);
	xmlFreeDoc(o->content);
	xmlFreeDoc(o->styles);
}

/* The footnotes after the blocks b, unless the conversion failed (rc);
 * then o freed and rc returned. */
static int
odf_close(struct odf *o, struct tkmd_blk *b, int rc)
{
	if (rc == 0 && o->notes) {
		fflush(o->notes);
		fputs(tkmd_sep(b), b->out);
		fwrite(o->notebuf, 1, o->notelen, b->out);
	}
	odf_free(o);
	return rc;
}

/* content.xml and styles.xml read, and the body of kind (text,
 * spreadsheet, presentation) found: 0, or -1 (o freed). */
static int
odf_open(struct odf *o, struct tkmd *d, const char *what, xmlNodePtr *body)
{
	xmlNodePtr root;

	memset(o, 0, sizeof *o);
	o->d = d;
	d->why[0] = '\0';
	if (!(o->content = tkmd_xml(d, "content.xml", 1)))
		return -1;
	o->styles = tkmd_xml(d, "styles.xml", 0);
	if (!o->styles && d->why[0]) {
		odf_free(o);
		return -1;
	}
	o->text = au_map_new(64);
	o->para = au_map_new(64);
	o->lists = au_map_new(16);
	o->fixed = au_map_new(16);
	root = xmlDocGetRootElement(o->content);
	load(o, root);
	if (o->styles)
		load(o, xmlDocGetRootElement(o->styles));
	*body = kid(kid(root, NS_OFFICE, "body"), NS_OFFICE, what);
	if (!*body) {
		odf_free(o);
		return tkmd_fail(d, "content.xml: no office:%s body", what);
	}
	return 0;
}

/* The title, and the page count when given, from meta.xml. */
static int
meta(struct tkmd *d)
{
	xmlDocPtr m;
	xmlNodePtr om, c;
	const char *pages;

	d->why[0] = '\0';
	m = tkmd_xml(d, "meta.xml", 0);
	if (!m)
		return d->why[0] ? -1 : 0;
	om = kid(xmlDocGetRootElement(m), NS_OFFICE, "meta");
	for (c = om ? om->children : NULL; c; c = c->next) {
		if (el(c, NS_DC, "title")) {
			struct au_buf b = AU_BUF_INIT;

			plain(&b, c, 0);
			if (b.len > 0)
				d->meta = jv_object_set(d->meta,
				    jv_string("title"), jv_string(b.s));
			au_buf_free(&b);
		} else if (el(c, NS_META, "document-statistic") &&
		    (pages = tkmd_attr(c, NS_META, "page-count"))) {
			d->meta = jv_object_set(d->meta, jv_string("pages"),
			    jv_number(atol(pages)));
		}
	}
	xmlFreeDoc(m);
	return 0;
}

int
tkmd_odt(struct tkmd *d)
{
	struct tkmd_blk b = { d->out, 0, 0 };
	struct odf o;
	xmlNodePtr body;
	int rc;

	if (meta(d) < 0 || odf_open(&o, d, "text", &body) < 0)
		return -1;
	rc = oblocks(&o, &b, body->children, NULL, 0);
	return odf_close(&o, &b, rc);
}

/*
 * A spreadsheet is streamed through SAX2, never built as a tree (a tree
 * of a 100000-row sheet takes most of a GiB): each cell's text is kept
 * as it comes, its runs and rows as above, and each sheet is written
 * when it ends.  A cell reads as displayed, its paragraphs' text; the
 * formatting of text inside a cell is not kept.
 */
struct ods {
	struct tkmd *d;
	struct tkmd_blk b;
	struct tab t;
	char *name;		/* of the sheet being read */
	int body;		/* office:spreadsheet seen */
	int intable, incell;	/* depth in a sheet, in a cell */
	int covered;
	int skip;		/* depth in an annotation */
	int paras;		/* paragraphs in the cell so far */
	size_t rep;		/* the cell's columns-repeated */
	char *value;		/* the cell's value as stored */
	struct au_buf text;	/* the cell's text: ' ' for white space, '\n'
				 * for a line break */
	long sheets;
	int rc;
};

/* Attribute name in namespace ns of a SAX2 attribute array, or NULL;
 * malloc'd. */
static char *
saxattr(int n, const xmlChar **a, const char *ns, const char *name)
{
	int i;

	for (i = 0; i < n; i++, a += 5)
		if (a[2] && !strcmp((const char *)a[2], ns) &&
		    !strcmp((const char *)a[0], name))
			return au_xstrndup((const char *)a[3],
			    (size_t)(a[4] - a[3]));
	return NULL;
}

static void
ods_start(void *arg, const xmlChar *local, const xmlChar *prefix,
    const xmlChar *uri, int nns, const xmlChar **ns, int nattr, int ndef,
    const xmlChar **attr)
{
	static const char *const values[] = { "value", "date-value",
	    "time-value", "boolean-value", "string-value", NULL };
	struct ods *s = arg;
	const char *name = (const char *)local, *u = (const char *)uri;
	const char *const *v;
	char *r;

	(void)prefix, (void)nns, (void)ns, (void)ndef;
	if (s->skip) {
		s->skip++;
		return;
	}
	if (!u)
		return;
	if (s->incell) {
		if (!strcmp(u, NS_OFFICE) && !strcmp(name, "annotation"))
			s->skip = 1;
		else if (!strcmp(u, NS_TEXT) && (!strcmp(name, "p") ||
		    !strcmp(name, "h")) && s->paras++ > 0)
			au_buf_addc(&s->text, ' ');
		else if (!strcmp(u, NS_TEXT) && (!strcmp(name, "s") ||
		    !strcmp(name, "tab")))
			au_buf_addc(&s->text, ' ');
		else if (!strcmp(u, NS_TEXT) && !strcmp(name, "line-break"))
			au_buf_addc(&s->text, '\n');
		return;
	}
	if (!strcmp(u, NS_OFFICE) && !strcmp(name, "spreadsheet")) {
		s->body = 1;
	} else if (!strcmp(u, NS_TABLE) && !strcmp(name, "table")) {
		if (s->intable++ == 0) {
			free(s->name);
			s->name = saxattr(nattr, attr, NS_TABLE, "name");
		}
	} else if (s->intable == 1 && !strcmp(u, NS_TABLE) &&
	    !strcmp(name, "table-row")) {
		r = saxattr(nattr, attr, NS_TABLE, "number-rows-repeated");
		tab_row(&s->t, repeat(r));
		free(r);
	} else if (s->intable == 1 && !strcmp(u, NS_TABLE) &&
	    (!strcmp(name, "table-cell") ||
	    !strcmp(name, "covered-table-cell"))) {
		s->incell = 1;
		s->covered = name[0] == 'c';
		s->paras = 0;
		s->text.len = 0;
		r = saxattr(nattr, attr, NS_TABLE, "number-columns-repeated");
		s->rep = repeat(r);
		free(r);
		for (v = values; !s->value && *v; v++)
			s->value = saxattr(nattr, attr, NS_OFFICE, *v);
	}
}

/* The cell's text, white space collapsed, escaped; else its value; NULL
 * when it has neither. */
static char *
ods_cell(struct ods *s)
{
	struct au_buf out = AU_BUF_INIT, md = AU_BUF_INIT;
	size_t i;
	int gap = 0;

	for (i = 0; i < s->text.len; i++) {
		char c = s->text.s[i];

		if (c == ' ') {
			gap = 1;
			continue;
		}
		if (gap && c != '\n' && out.len > 0 &&
		    out.s[out.len - 1] != '\n')
			au_buf_addc(&out, ' ');
		gap = 0;
		if (c != '\n' || out.len > 0)
			au_buf_addc(&out, c);
	}
	while (out.len > 0 && out.s[out.len - 1] == '\n')
		out.len--;
	if (out.len > 0)
		tkmd_esc_inline(&md, out.s, out.len);
	else if (s->value && *s->value)
		tkmd_esc_inline(&md, s->value, strlen(s->value));
	au_buf_free(&out);
	return md.s;
}

static void
ods_end(void *arg, const xmlChar *local, const xmlChar *prefix,
    const xmlChar *uri)
{
	struct ods *s = arg;
	const char *name = (const char *)local, *u = (const char *)uri;

	(void)prefix;
	if (s->skip) {
		s->skip--;
		return;
	}
	if (!u || strcmp(u, NS_TABLE) != 0)
		return;
	if (s->incell && (!strcmp(name, "table-cell") ||
	    !strcmp(name, "covered-table-cell"))) {
		tab_cell(&s->t, s->covered ? NULL : ods_cell(s), s->rep);
		s->incell = 0;
		free(s->value);
		s->value = NULL;
	} else if (!s->incell && !strcmp(name, "table") &&
	    --s->intable == 0) {
		struct tkmd_inline w;
		char *lead = au_xasprintf("%s## ", tkmd_sep(&s->b));

		tkmd_in_init(&w, s->b.out, lead);
		if (s->name)
			tkmd_in_text(&w, s->name, strlen(s->name));
		if (!tkmd_in_end(&w))
			fprintf(s->b.out, "%sSheet %ld", lead, s->sheets + 1);
		fputc('\n', s->b.out);
		free(lead);
		s->b.n++;
		s->sheets++;
		if (s->rc == 0)
			s->rc = tab_emit(s->d, &s->b, &s->t);
		tab_free(&s->t);
	}
}

static void
ods_text(void *arg, const xmlChar *ch, int len)
{
	struct ods *s = arg;
	int i;

	if (!s->incell || s->skip)
		return;
	for (i = 0; i < len; i++)
		au_buf_addc(&s->text, white(ch[i]) ? ' ' : (char)ch[i]);
}

int
tkmd_ods(struct tkmd *d)
{
	struct ods s;
	xmlSAXHandler h;
	int rc;

	if (meta(d) < 0)
		return -1;
	memset(&s, 0, sizeof s);
	memset(&h, 0, sizeof h);
	s.d = d;
	s.b.out = d->out;
	h.startElementNs = ods_start;
	h.endElementNs = ods_end;
	h.characters = ods_text;
	rc = tkmd_sax(d, "content.xml", &h, &s, 1);
	if (rc == 0 && s.rc == 0 && !s.body)
		rc = tkmd_fail(d, "content.xml: no office:spreadsheet body");
	d->meta = jv_object_set(d->meta, jv_string("sheets"),
	    jv_number((double)s.sheets));
	tab_free(&s.t);
	au_buf_free(&s.text);
	free(s.value);
	free(s.name);
	return rc != 0 || s.rc != 0 ? -1 : 0;
}

/* The presentation class of a frame, or "". */
static const char *
pclass(xmlNodePtr n)
{
	const char *s = tkmd_attr(n, NS_PRES, "class");

	return s ? s : "";
}

/* The shapes of a slide in order (groups looked into); the title frame
 * is left out, its text being the heading. */
static int
shapes(struct odf *o, struct tkmd_blk *b, xmlNodePtr first, xmlNodePtr title)
{
	xmlNodePtr c, in;
	int rc = 0;

	for (c = first; c && rc == 0; c = c->next) {
		if (c == title || c->type != XML_ELEMENT_NODE)
			continue;
		if ((rc = deeper(o)) < 0)
			break;
		if (el(c, NS_DRAW, "g")) {
			rc = shapes(o, b, c->children, title);
		} else if (el(c, NS_DRAW, "frame")) {
			if ((in = kid(c, NS_DRAW, "text-box")))
				rc = oblocks(o, b, in->children, NULL, 0);
			else if ((in = kid(c, NS_TABLE, "table")))
				rc = table(o, b, in);
			else
				rc = tkmd_para(b, c, c->next, "", oinl, o);
		} else if (el(c, NS_DRAW, "custom-shape") ||
		    el(c, NS_DRAW, "rect") || el(c, NS_DRAW, "ellipse")) {
			rc = oblocks(o, b, c->children, NULL, 0);
		}
		o->depth--;
	}
	return rc;
}

/* The frame of class title on a slide, or NULL. */
static xmlNodePtr
titleof(xmlNodePtr page)
{
	xmlNodePtr c;

	for (c = page->children; c; c = c->next)
		if (el(c, NS_DRAW, "frame") && !strcmp(pclass(c), "title"))
			return c;
	return NULL;
}

/* A slide: its heading, its shapes, its speaker notes as a quote. */
static int
slide(struct odf *o, struct tkmd_blk *b, xmlNodePtr page, long num)
{
	xmlNodePtr title = titleof(page), notes, c;
	struct tkmd_blk in = { NULL, 0, 0 };
	struct tkmd_inline w;
	char *lead, *buf = NULL;
	size_t len = 0;
	int rc;

	lead = au_xasprintf("%s## Slide %ld: ", tkmd_sep(b), num);
	tkmd_in_init(&w, b->out, lead);
	rc = title ? okids(o, &w, title) : 0;
	if (!tkmd_in_end(&w))
		fprintf(b->out, "%s## Slide %ld", tkmd_sep(b), num);
	fputc('\n', b->out);
	free(lead);
	b->n++;
	if (rc == 0)
		rc = shapes(o, b, page->children, title);
	notes = kid(page, NS_PRES, "notes");
	if (rc < 0 || !notes)
		return rc;
	in.out = tkmd_xmem(&buf, &len);
	for (c = notes->children; c && rc == 0; c = c->next)
		if (el(c, NS_DRAW, "frame") && !strcmp(pclass(c), "notes") &&
		    kid(c, NS_DRAW, "text-box"))
			rc = oblocks(o, &in, kid(c, NS_DRAW,
			    "text-box")->children, NULL, 0);
	fclose(in.out);
	if (rc == 0)
		tkmd_quote(b, buf, len);
	free(buf);
	return rc;
}

int
tkmd_odp(struct tkmd *d)
{
	struct tkmd_blk b = { d->out, 0, 0 };
	struct odf o;
	xmlNodePtr body, c;
	long slides = 0;
	int rc = 0;

	if (meta(d) < 0 || odf_open(&o, d, "presentation", &body) < 0)
		return -1;
	for (c = body->children; c && rc == 0; c = c->next)
		if (el(c, NS_DRAW, "page"))
			rc = slide(&o, &b, c, ++slides);
	d->meta = jv_object_set(d->meta, jv_string("slides"),
	    jv_number((double)slides));
	return odf_close(&o, &b, rc);
}
