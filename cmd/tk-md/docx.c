/*
 * docx.c - DOCX: the body of the main part in order.  Headings come from
 * the paragraph's outline level or its style's (styles.xml, following
 * basedOn, "heading N" and "Title" by name); lists from the numbering
 * definitions (numbering.xml: bullet or numbered per level, nesting by
 * level, numbers counted per list); bold, italic and code runs (a code
 * character style, or a monospace font); links through the part's
 * relationships or to bookmarks; images as ![alt](path); footnotes and
 * endnotes as [^n]; tables as GFM tables, a cell spanning columns
 * (gridSpan) followed by empty ones and a cell continuing a vertical merge
 * (vMerge) left empty; code paragraphs as fenced blocks; quotes.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tkmd.h"

enum { B = 1, I = 2, CODE = 4, RAW = 8 };

/* A piece of a paragraph: text of one format, maybe inside a link. */
struct seg {
	int fmt;
	int link;		/* index in links, or -1 */
	size_t off, len;	/* in the paragraph's text */
};

struct para {
	struct seg *seg;
	size_t n, cap;
	struct au_buf text;
	char **links;
	size_t nlinks, caplinks;
};

struct list {
	long num;
	long count[9];
};

struct docx {
	struct tkmd *d;
	jv styles;		/* id -> {h, code, quote, num, ilvl} */
	jv numfmt;		/* numId -> [format per level] */
	jv start;		/* numId -> [start per level] */
	jv notes;		/* ["f" or "e" + id] in order of reference */
	struct list *lists;
	size_t nlists, caplists;
	int width[9];		/* marker widths of the list being written */
	int last;		/* written last: 0, 1 a block, 2 an item */
	long lastnum;		/* the list of the last item */
	struct au_buf code;	/* a code block being gathered */
	int incode;
};

/* The w:val of n as a string jv, or null. */
static jv
val(xmlNodePtr n)
{
	xmlChar *v = n != NULL ? xmlGetProp(n, BAD_CAST "val") : NULL;
	jv r = v != NULL ? jv_string((char *)v) : jv_null();

	xmlFree(v);
	return r;
}

/* Whether a toggle property (w:b, w:i) is on. */
static int
on(xmlNodePtr n)
{
	xmlChar *v;
	int r;

	if (n == NULL)
		return 0;
	v = xmlGetProp(n, BAD_CAST "val");
	r = v == NULL || !(xmlStrEqual(v, BAD_CAST "0") ||
	    xmlStrEqual(v, BAD_CAST "false") || xmlStrEqual(v, BAD_CAST "off"));
	xmlFree(v);
	return r;
}

static long
lval(xmlNodePtr n, long dflt)
{
	jv v = val(n);
	long r = jv_get_kind(v) == JV_KIND_STRING ?
	    strtol(jv_string_value(v), NULL, 10) : dflt;

	jv_free(v);
	return r;
}

/* ---- styles and numbering --------------------------------------------- */

static int
heading_level(const char *name)
{
	if (strncasecmp(name, "heading ", 8) == 0 && name[8] >= '1' &&
	    name[8] <= '9' && name[9] == '\0')
		return name[8] - '0';
	if (strcasecmp(name, "Title") == 0)
		return 1;
	return 0;
}

/* Style id of raw (borrowed) with what its bases say and it does not. */
static jv
resolve(jv raw, jv id, int depth)
{
	jv st = jv_object_get(jv_copy(raw), id), based;

	if (jv_get_kind(st) != JV_KIND_OBJECT) {
		jv_free(st);
		return jv_object();
	}
	based = jv_object_get(jv_copy(st), jv_string("based"));
	st = jv_object_delete(st, jv_string("based"));
	if (jv_get_kind(based) == JV_KIND_STRING && depth < 10)
		return jv_object_merge(resolve(raw, based, depth + 1), st);
	jv_free(based);
	return st;
}

static void
load_styles(struct docx *x, const char *part)
{
	xmlDocPtr doc = part != NULL ? tkmd_xml(x->d, part, 0) : NULL;
	xmlNodePtr s, p;
	jv raw = jv_object();

	x->styles = jv_object();
	x->d->why[0] = '\0';
	if (doc == NULL) {
		jv_free(raw);
		return;
	}
	for (s = xmlDocGetRootElement(doc)->children; s != NULL; s = s->next) {
		xmlChar *id;
		jv st = jv_object(), name, v;
		const char *nm;

		if (!tkmd_isel(s, "style") ||
		    (id = xmlGetProp(s, BAD_CAST "styleId")) == NULL) {
			jv_free(st);
			continue;
		}
		name = val(tkmd_child(s, "name"));
		nm = jv_get_kind(name) == JV_KIND_STRING ?
		    jv_string_value(name) : "";
		p = tkmd_child(s, "pPr");
		if (heading_level(nm) > 0)
			st = jv_object_set(st, jv_string("h"),
			    jv_number(heading_level(nm)));
		else if (tkmd_child(p, "outlineLvl") != NULL &&
		    lval(tkmd_child(p, "outlineLvl"), 9) < 9)
			st = jv_object_set(st, jv_string("h"),
			    jv_number(lval(tkmd_child(p, "outlineLvl"),
			    9) + 1));
		if (strcasecmp((char *)id, "SourceCode") == 0 ||
		    strcasecmp(nm, "HTML Preformatted") == 0 ||
		    strcasecmp(nm, "Source Code") == 0 ||
		    strcasecmp((char *)id, "VerbatimChar") == 0 ||
		    strcasecmp(nm, "HTML Code") == 0 ||
		    strcasecmp(nm, "Verbatim Char") == 0)
			st = jv_object_set(st, jv_string("code"), jv_true());
		if (strcasecmp(nm, "Block Text") == 0 ||
		    strcasecmp(nm, "Quote") == 0 ||
		    strcasecmp(nm, "Intense Quote") == 0)
			st = jv_object_set(st, jv_string("quote"), jv_true());
		if ((p = tkmd_child(p, "numPr")) != NULL) {
			st = jv_object_set(st, jv_string("num"),
			    jv_number(lval(tkmd_child(p, "numId"), 0)));
			st = jv_object_set(st, jv_string("ilvl"),
			    jv_number(lval(tkmd_child(p, "ilvl"), 0)));
		}
		v = val(tkmd_child(s, "basedOn"));
		if (jv_get_kind(v) == JV_KIND_STRING)
			st = jv_object_set(st, jv_string("based"), v);
		else
			jv_free(v);
		raw = jv_object_set(raw, jv_string((char *)id), st);
		jv_free(name);
		xmlFree(id);
	}
	xmlFreeDoc(doc);
	jv_object_foreach(raw, k, st) {
		jv_free(st);
		x->styles = jv_object_set(x->styles, jv_copy(k),
		    resolve(raw, k, 0));
	}
	jv_free(raw);
}

static void
load_numbering(struct docx *x, const char *part)
{
	xmlDocPtr doc = part != NULL ? tkmd_xml(x->d, part, 0) : NULL;
	xmlNodePtr n, l;
	jv abs = jv_object(), absstart = jv_object();

	x->numfmt = jv_object();
	x->start = jv_object();
	x->d->why[0] = '\0';
	if (doc == NULL) {
		jv_free(abs);
		jv_free(absstart);
		return;
	}
	for (n = xmlDocGetRootElement(doc)->children; n != NULL; n = n->next) {
		xmlChar *id;
		jv fmts = jv_array(), starts = jv_array();

		if (!tkmd_isel(n, "abstractNum") || (id = xmlGetProp(n,
		    BAD_CAST "abstractNumId")) == NULL) {
			jv_free(fmts);
			jv_free(starts);
			continue;
		}
		for (l = n->children; l != NULL; l = l->next) {
			long i;

			if (!tkmd_isel(l, "lvl"))
				continue;
			{
				xmlChar *il = xmlGetProp(l, BAD_CAST "ilvl");

				i = il != NULL ? strtol((char *)il, NULL, 10) :
				    -1;
				xmlFree(il);
			}
			if (i < 0 || i > 8)
				continue;
			fmts = jv_array_set(fmts, (int)i,
			    val(tkmd_child(l, "numFmt")));
			starts = jv_array_set(starts, (int)i,
			    jv_number(lval(tkmd_child(l, "start"), 1)));
		}
		abs = jv_object_set(abs, jv_string((char *)id), fmts);
		absstart = jv_object_set(absstart, jv_string((char *)id),
		    starts);
		xmlFree(id);
	}
	for (n = xmlDocGetRootElement(doc)->children; n != NULL; n = n->next) {
		xmlChar *id;
		jv a;

		if (!tkmd_isel(n, "num") ||
		    (id = xmlGetProp(n, BAD_CAST "numId")) == NULL)
			continue;
		a = val(tkmd_child(n, "abstractNumId"));
		if (jv_get_kind(a) == JV_KIND_STRING &&
		    jv_object_has(jv_copy(abs), jv_copy(a))) {
			x->numfmt = jv_object_set(x->numfmt,
			    jv_string((char *)id),
			    jv_object_get(jv_copy(abs), jv_copy(a)));
			x->start = jv_object_set(x->start,
			    jv_string((char *)id),
			    jv_object_get(jv_copy(absstart), jv_copy(a)));
		}
		jv_free(a);
		xmlFree(id);
	}
	jv_free(abs);
	jv_free(absstart);
	xmlFreeDoc(doc);
}

/* The style named by the w:val of n (a pStyle or rStyle), or null. */
static jv
style(struct docx *x, xmlNodePtr n)
{
	jv id = val(n);

	if (jv_get_kind(id) != JV_KIND_STRING) {
		jv_free(id);
		return jv_null();
	}
	return jv_object_get(jv_copy(x->styles), id);
}

/* ---- runs ------------------------------------------------------------- */

static void
seg_add(struct para *p, int fmt, int link, const char *s, size_t n)
{
	struct seg *g;

	if (p->n > 0 && p->seg[p->n - 1].fmt == fmt &&
	    p->seg[p->n - 1].link == link && !(fmt & RAW) &&
	    p->seg[p->n - 1].off + p->seg[p->n - 1].len == p->text.len) {
		au_buf_add(&p->text, s, n);
		p->seg[p->n - 1].len += n;
		return;
	}
	p->seg = au_grow(p->seg, &p->cap, p->n + 1, sizeof *p->seg);
	g = &p->seg[p->n++];
	g->fmt = fmt;
	g->link = link;
	g->off = p->text.len;
	g->len = n;
	au_buf_add(&p->text, s, n);
}

static int
link_add(struct para *p, const char *url)
{
	p->links = au_grow(p->links, &p->caplinks, p->nlinks + 1,
	    sizeof *p->links);
	p->links[p->nlinks] = au_xstrdup(url);
	return (int)p->nlinks++;
}

static int
monospace(xmlNodePtr rpr)
{
	xmlNodePtr f = tkmd_child(rpr, "rFonts");
	xmlChar *a = f != NULL ? xmlGetProp(f, BAD_CAST "ascii") : NULL;
	int r = a != NULL && (strstr((char *)a, "Courier") != NULL ||
	    strstr((char *)a, "Consolas") != NULL ||
	    strstr((char *)a, "Mono") != NULL);

	xmlFree(a);
	return r;
}

/* The format of a run from its properties. */
static int
runfmt(struct docx *x, xmlNodePtr r)
{
	xmlNodePtr rpr = tkmd_child(r, "rPr");
	int f = 0;
	jv st;

	if (rpr == NULL)
		return 0;
	f |= on(tkmd_child(rpr, "b")) ? B : 0;
	f |= on(tkmd_child(rpr, "i")) ? I : 0;
	st = style(x, tkmd_child(rpr, "rStyle"));
	if (jv_get_kind(st) == JV_KIND_OBJECT &&
	    jv_object_has(jv_copy(st), jv_string("code")))
		f |= CODE;
	jv_free(st);
	if (monospace(rpr))
		f |= CODE;
	return f;
}

/* The image of a drawing or picture: ![alt](path). */
static void
image(struct docx *x, struct para *p, jv rels, xmlNodePtr n, int link)
{
	xmlNodePtr c, blip = NULL, pr = NULL;
	xmlChar *id = NULL, *alt = NULL;
	struct au_buf b = AU_BUF_INIT;
	char *target, *path;

	/* Depth-first: the first blip (or VML imagedata) and docPr. */
	for (c = n; c != NULL;) {
		if (tkmd_isel(c, "blip") || tkmd_isel(c, "imagedata"))
			blip = blip != NULL ? blip : c;
		if (tkmd_isel(c, "docPr") || tkmd_isel(c, "cNvPr"))
			pr = pr != NULL ? pr : c;
		if (c->children != NULL && c->type == XML_ELEMENT_NODE) {
			c = c->children;
			continue;
		}
		while (c != n && c->next == NULL)
			c = c->parent;
		if (c == n)
			break;
		c = c->next;
	}
	if (blip == NULL)
		return;
	id = xmlGetNsProp(blip, BAD_CAST "embed", BAD_CAST
	    "http://schemas.openxmlformats.org/officeDocument/2006/relationships");
	if (id == NULL)
		id = xmlGetNsProp(blip, BAD_CAST "id", BAD_CAST
		    "http://schemas.openxmlformats.org/officeDocument/2006/relationships");
	if (id == NULL)
		id = xmlGetNsProp(blip, BAD_CAST "link", BAD_CAST
		    "http://schemas.openxmlformats.org/officeDocument/2006/relationships");
	target = id != NULL ? tkmd_rel(rels, (char *)id, NULL) : NULL;
	xmlFree(id);
	if (target == NULL)
		return;
	if (pr != NULL && (alt = xmlGetProp(pr, BAD_CAST "descr")) != NULL &&
	    *alt == '\0') {
		xmlFree(alt);
		alt = NULL;
	}
	if (alt == NULL && pr != NULL)
		alt = xmlGetProp(pr, BAD_CAST "title");
	path = tkmd_media(x->d, target);
	au_buf_adds(&b, "![");
	if (alt != NULL)
		tkmd_esc_inline(&b, (char *)alt, strlen((char *)alt));
	au_buf_adds(&b, strchr(path != NULL ? path : target, ' ') != NULL ?
	    "](<" : "](");
	au_buf_adds(&b, path != NULL ? path : target);
	au_buf_adds(&b, strchr(path != NULL ? path : target, ' ') != NULL ?
	    ">)" : ")");
	seg_add(p, RAW, link, b.s, b.len);
	au_buf_free(&b);
	xmlFree(alt);
	free(target);
	free(path);
}

/* A footnote or endnote reference, numbered in order of reference. */
static void
noteref(struct docx *x, struct para *p, xmlNodePtr n, int link, char kind)
{
	xmlChar *id = xmlGetProp(n, BAD_CAST "id");
	char key[64], ref[32];
	int i = 0, found = 0;

	if (id == NULL)
		return;
	snprintf(key, sizeof key, "%c%s", kind, (char *)id);
	xmlFree(id);
	jv_array_foreach(x->notes, k, v) {
		if (!found && strcmp(jv_string_value(v), key) == 0) {
			found = 1;
			i = k;
		}
		jv_free(v);
	}
	if (!found) {
		i = jv_array_length(jv_copy(x->notes));
		x->notes = jv_array_append(x->notes, jv_string(key));
	}
	snprintf(ref, sizeof ref, "[^%d]", i + 1);
	seg_add(p, RAW, link, ref, strlen(ref));
}

/* The runs beneath n, into p. */
static void
runs(struct docx *x, struct para *p, jv rels, xmlNodePtr n, int link)
{
	xmlNodePtr c, t;

	for (c = n->children; c != NULL; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (tkmd_isel(c, "r")) {
			int f = runfmt(x, c);

			for (t = c->children; t != NULL; t = t->next) {
				xmlChar *s;

				if (tkmd_isel(t, "t")) {
					s = xmlNodeGetContent(t);
					seg_add(p, f, link, (char *)s,
					    strlen((char *)s));
					xmlFree(s);
				} else if (tkmd_isel(t, "tab")) {
					seg_add(p, f, link, " ", 1);
				} else if (tkmd_isel(t, "br") ||
				    tkmd_isel(t, "cr")) {
					seg_add(p, f, link, "\n", 1);
				} else if (tkmd_isel(t, "noBreakHyphen")) {
					seg_add(p, f, link, "-", 1);
				} else if (tkmd_isel(t, "drawing") ||
				    tkmd_isel(t, "pict") ||
				    tkmd_isel(t, "object")) {
					image(x, p, rels, t, link);
				} else if (tkmd_isel(t, "footnoteReference")) {
					noteref(x, p, t, link, 'f');
				} else if (tkmd_isel(t, "endnoteReference")) {
					noteref(x, p, t, link, 'e');
				} else if (tkmd_isel(t, "AlternateContent")) {
					xmlNodePtr ch = tkmd_child(t, "Choice");

					if (ch != NULL)
						image(x, p, rels, ch, link);
				}
			}
		} else if (tkmd_isel(c, "hyperlink")) {
			xmlChar *id = xmlGetNsProp(c, BAD_CAST "id", BAD_CAST
			    "http://schemas.openxmlformats.org/officeDocument/2006/relationships");
			xmlChar *anchor = xmlGetProp(c, BAD_CAST "anchor");
			char *url = id != NULL ? tkmd_rel(rels, (char *)id,
			    "hyperlink") : NULL;
			int l = link;

			if (url != NULL) {
				l = link_add(p, url);
			} else if (anchor != NULL) {
				char *a = au_xasprintf("#%s", (char *)anchor);

				l = link_add(p, a);
				free(a);
			}
			runs(x, p, rels, c, l);
			free(url);
			xmlFree(id);
			xmlFree(anchor);
		} else if (tkmd_isel(c, "ins") || tkmd_isel(c, "smartTag") ||
		    tkmd_isel(c, "fldSimple") || tkmd_isel(c, "customXml") ||
		    tkmd_isel(c, "sdtContent") || tkmd_isel(c, "sdt")) {
			runs(x, p, rels, c, link);
		}
	}
}

/* The n bytes at s as code: in backticks longer than any run inside. */
static void
codespan(struct au_buf *o, const char *s, size_t n)
{
	size_t i, run = 0, most = 0;

	for (i = 0; i < n; i++) {
		run = s[i] == '`' ? run + 1 : 0;
		most = run > most ? run : most;
	}
	for (i = 0; i <= most; i++)
		au_buf_addc(o, '`');
	if (most > 0 || (n > 0 && s[0] == '`'))
		au_buf_addc(o, ' ');
	for (i = 0; i < n; i++)
		au_buf_addc(o, s[i] == '\n' ? ' ' : s[i]);
	if (most > 0 || (n > 0 && s[n - 1] == '`'))
		au_buf_addc(o, ' ');
	for (i = 0; i <= most; i++)
		au_buf_addc(o, '`');
}

/* Segments [i, j) of one link, as Markdown onto o. */
static void
formatted(const struct para *p, struct au_buf *o, size_t i, size_t j)
{
	static const char *const marks[] = { "", "**", "*", "***" };

	for (; i < j; i++) {
		const struct seg *g = &p->seg[i];
		const char *s = p->text.s + g->off;
		size_t n = g->len, lead = 0, trail = 0;

		if (g->fmt & RAW) {
			au_buf_add(o, s, n);
			continue;
		}
		while (lead < n && (s[lead] == ' ' || s[lead] == '\n'))
			lead++;
		while (trail < n - lead && (s[n - 1 - trail] == ' ' ||
		    s[n - 1 - trail] == '\n'))
			trail++;
		au_buf_add(o, s, lead);
		if (lead < n) {
			au_buf_adds(o, marks[g->fmt & (B | I)]);
			if (g->fmt & CODE)
				codespan(o, s + lead, n - lead - trail);
			else
				tkmd_esc_inline(o, s + lead, n - lead - trail);
			au_buf_adds(o, marks[g->fmt & (B | I)]);
		}
		au_buf_add(o, s + n - trail, trail);
	}
}

/* The paragraph's segments as inline Markdown onto o, trimmed. */
static void
inline_md(const struct para *p, struct au_buf *o)
{
	size_t i = 0, j, start = o->len;

	while (i < p->n) {
		int l = p->seg[i].link;

		for (j = i + 1; j < p->n && p->seg[j].link == l; j++)
			;
		if (l >= 0) {
			au_buf_addc(o, '[');
			formatted(p, o, i, j);
			au_buf_adds(o, "](");
			au_buf_adds(o, p->links[l]);
			au_buf_addc(o, ')');
		} else {
			formatted(p, o, i, j);
		}
		i = j;
	}
	au_buf_add(o, "", 0);
	/* Trim: leading blanks would make code of a paragraph. */
	for (i = start; i < o->len && (o->s[i] == ' ' || o->s[i] == '\n');
	    i++)
		;
	memmove(o->s + start, o->s + i, o->len - i + 1);
	o->len -= i - start;
	while (o->len > start && (o->s[o->len - 1] == ' ' ||
	    o->s[o->len - 1] == '\n'))
		o->s[--o->len] = '\0';
}

static void
para_free(struct para *p)
{
	size_t i;

	for (i = 0; i < p->nlinks; i++)
		free(p->links[i]);
	free(p->links);
	free(p->seg);
	au_buf_free(&p->text);
	memset(p, 0, sizeof *p);
}

/* The paragraph n as inline Markdown onto o. */
static void
para_md(struct docx *x, jv rels, xmlNodePtr n, struct au_buf *o)
{
	struct para p;

	memset(&p, 0, sizeof p);
	runs(x, &p, rels, n, -1);
	inline_md(&p, o);
	para_free(&p);
}

/* ---- blocks ----------------------------------------------------------- */

static void
flushcode(struct docx *x)
{
	if (!x->incode)
		return;
	if (x->last)
		putc('\n', x->d->out);
	tkmd_code(x->d->out, NULL, x->code.s, x->code.len);
	x->code.len = 0;
	x->incode = 0;
	x->last = 1;
}

/* A paragraph's plain text, for code: breaks kept. */
static void
plain(xmlNodePtr n, struct au_buf *o)
{
	xmlNodePtr c;

	for (c = n->children; c != NULL; c = c->next) {
		if (tkmd_isel(c, "t")) {
			xmlChar *s = xmlNodeGetContent(c);

			au_buf_adds(o, (char *)s);
			xmlFree(s);
		} else if (tkmd_isel(c, "tab")) {
			au_buf_addc(o, '\t');
		} else if (tkmd_isel(c, "br") || tkmd_isel(c, "cr")) {
			au_buf_addc(o, '\n');
		} else if (c->type == XML_ELEMENT_NODE &&
		    !tkmd_isel(c, "pPr") && !tkmd_isel(c, "rPr") &&
		    !tkmd_isel(c, "del") &&
		    !tkmd_isel(c, "instrText")) {
			plain(c, o);
		}
	}
}

/* Escape what would start a block at the beginning of md. */
static void
blockesc(struct au_buf *o, const char *md)
{
	struct au_buf e = AU_BUF_INIT;
	size_t i;

	for (i = 0; md[i] >= '0' && md[i] <= '9'; i++)
		;
	if ((md[0] != '\0' && strchr("#>+-=", md[0]) != NULL) ||
	    (i > 0 && (md[i] == '.' || md[i] == ')'))) {
		tkmd_esc(&e, md, i > 0 ? i + 1 : 1);
		au_buf_add(o, e.s, e.len);
		au_buf_adds(o, md + (i > 0 ? i + 1 : 1));
	} else {
		au_buf_adds(o, md);
	}
	au_buf_free(&e);
}

/* What numbering definition m (borrowed: numId -> [per level]) says of
 * level ilvl of list num, or null. */
static jv
level_of(jv m, long num, long ilvl)
{
	jv l = jv_object_get(jv_copy(m), jv_string_fmt("%ld", num));
	jv v = jv_get_kind(l) == JV_KIND_ARRAY ? jv_array_get(jv_copy(l),
	    (int)ilvl) : jv_null();

	jv_free(l);
	return jv_is_valid(v) ? v : jv_null();
}

static struct list *
list(struct docx *x, long num)
{
	size_t i;

	for (i = 0; i < x->nlists; i++)
		if (x->lists[i].num == num)
			return &x->lists[i];
	x->lists = au_grow(x->lists, &x->caplists, x->nlists + 1,
	    sizeof *x->lists);
	memset(&x->lists[x->nlists], 0, sizeof *x->lists);
	x->lists[x->nlists].num = num;
	return &x->lists[x->nlists++];
}

static void
paragraph(struct docx *x, jv rels, xmlNodePtr n)
{
	xmlNodePtr ppr = tkmd_child(n, "pPr"), np;
	jv st = style(x, tkmd_child(ppr, "pStyle"));
	struct au_buf md = AU_BUF_INIT, line = AU_BUF_INIT;
	long level = 0, num = 0, ilvl = 0, k;
	int code = 0, quote = 0, i;
	FILE *out = x->d->out;

	if (jv_get_kind(st) == JV_KIND_OBJECT) {
		jv v = jv_object_get(jv_copy(st), jv_string("h"));

		level = jv_get_kind(v) == JV_KIND_NUMBER ?
		    (long)jv_number_value(v) : 0;
		jv_free(v);
		code = jv_object_has(jv_copy(st), jv_string("code"));
		quote = jv_object_has(jv_copy(st), jv_string("quote"));
		v = jv_object_get(jv_copy(st), jv_string("num"));
		num = jv_get_kind(v) == JV_KIND_NUMBER ?
		    (long)jv_number_value(v) : 0;
		jv_free(v);
		v = jv_object_get(jv_copy(st), jv_string("ilvl"));
		ilvl = jv_get_kind(v) == JV_KIND_NUMBER ?
		    (long)jv_number_value(v) : 0;
		jv_free(v);
	}
	jv_free(st);
	if (tkmd_child(ppr, "outlineLvl") != NULL &&
	    lval(tkmd_child(ppr, "outlineLvl"), 9) < 9)
		level = lval(tkmd_child(ppr, "outlineLvl"), 9) + 1;
	if ((np = tkmd_child(ppr, "numPr")) != NULL) {
		num = lval(tkmd_child(np, "numId"), num);
		ilvl = lval(tkmd_child(np, "ilvl"), 0);
	}
	if (code) {
		if (x->incode)
			au_buf_addc(&x->code, '\n');
		plain(n, &x->code);
		x->incode = 1;
		return;
	}
	flushcode(x);
	para_md(x, rels, n, &md);
	if (md.len == 0 && num == 0) {
		au_buf_free(&md);
		return;
	}
	if (level > 0 && num == 0) {
		for (i = 0; i < (level > 6 ? 6 : level); i++)
			au_buf_addc(&line, '#');
		au_buf_addc(&line, ' ');
		for (k = 0; k < (long)md.len; k++)
			if (md.s[k] == '\n')
				md.s[k] = ' ';
		au_buf_adds(&line, md.s);
	} else if (num > 0) {
		jv f, s0;
		struct list *l = list(x, num);
		int bullet;
		char mark[32];

		ilvl = ilvl < 0 || ilvl > 8 ? 0 : ilvl;
		f = level_of(x->numfmt, num, ilvl);
		s0 = level_of(x->start, num, ilvl);
		bullet = jv_get_kind(f) != JV_KIND_STRING ||
		    strcmp(jv_string_value(f), "bullet") == 0 ||
		    strcmp(jv_string_value(f), "none") == 0;
		if (l->count[ilvl] == 0 && jv_get_kind(s0) == JV_KIND_NUMBER)
			l->count[ilvl] = (long)jv_number_value(s0) - 1;
		l->count[ilvl]++;
		for (k = ilvl + 1; k < 9; k++)
			l->count[k] = 0;
		jv_free(f);
		jv_free(s0);
		if (x->last != 2)
			for (k = 0; k < 9; k++)
				x->width[k] = 0;
		for (k = 0; k < ilvl; k++)
			for (i = 0; i < (x->width[k] ? x->width[k] : 2); i++)
				au_buf_addc(&line, ' ');
		if (bullet)
			snprintf(mark, sizeof mark, "- ");
		else
			snprintf(mark, sizeof mark, "%ld. ", l->count[ilvl]);
		x->width[ilvl] = (int)strlen(mark);
		au_buf_adds(&line, mark);
		for (k = 0; k < (long)md.len; k++)
			if (md.s[k] == '\n')
				md.s[k] = ' ';
		blockesc(&line, md.s);
	} else {
		struct au_buf tmp = AU_BUF_INIT;

		if (quote)
			au_buf_adds(&line, "> ");
		blockesc(&tmp, md.s);
		for (k = 0; k < (long)tmp.len; k++)
			if (tmp.s[k] == '\n')
				au_buf_adds(&line, quote ? "\\\n> " : "\\\n");
			else
				au_buf_addc(&line, tmp.s[k]);
		au_buf_free(&tmp);
	}
	/* Items of one list are tight; another list is another block. */
	if (x->last == 1 || (x->last == 2 && (num == 0 || (ilvl == 0 &&
	    num != x->lastnum))))
		putc('\n', out);
	if (num > 0 && ilvl == 0)
		x->lastnum = num;
	fwrite(line.s, 1, line.len, out);
	putc('\n', out);
	x->last = num > 0 ? 2 : 1;
	au_buf_free(&md);
	au_buf_free(&line);
}

/* A cell's paragraphs, one a line. */
static void
cell(struct docx *x, jv rels, xmlNodePtr tc, struct au_buf *o)
{
	xmlNodePtr c;

	for (c = tc->children; c != NULL; c = c->next) {
		if (tkmd_isel(c, "p")) {
			size_t before = o->len;

			if (o->len > 0)
				au_buf_addc(o, '\n');
			para_md(x, rels, c, o);
			if (before > 0 && o->len == before + 1)
				o->s[--o->len] = '\0';
		} else if (tkmd_isel(c, "tbl") || tkmd_isel(c, "sdt") ||
		    tkmd_isel(c, "sdtContent") || tkmd_isel(c, "tr") ||
		    tkmd_isel(c, "tc")) {
			cell(x, rels, c, o);
		}
	}
}

static void
table(struct docx *x, jv rels, xmlNodePtr tbl)
{
	xmlNodePtr tr, tc, pr;
	size_t rows = 0, cols = 0, r, c, i;
	char **cells = NULL;

	for (tr = tbl->children; tr != NULL; tr = tr->next) {
		size_t w = 0;

		if (!tkmd_isel(tr, "tr"))
			continue;
		w = (size_t)lval(tkmd_child(tkmd_child(tr, "trPr"),
		    "gridBefore"), 0);
		for (tc = tr->children; tc != NULL; tc = tc->next)
			if (tkmd_isel(tc, "tc"))
				w += (size_t)lval(tkmd_child(tkmd_child(tc,
				    "tcPr"), "gridSpan"), 1);
		cols = w > cols ? w : cols;
		rows++;
	}
	if (rows == 0 || cols == 0 || cols > 1000)
		return;
	cells = au_xcalloc(rows * cols, sizeof *cells);
	r = 0;
	for (tr = tbl->children; tr != NULL; tr = tr->next) {
		if (!tkmd_isel(tr, "tr"))
			continue;
		c = (size_t)lval(tkmd_child(tkmd_child(tr, "trPr"),
		    "gridBefore"), 0);
		for (tc = tr->children; tc != NULL && c < cols; tc = tc->next) {
			struct au_buf b = AU_BUF_INIT;
			xmlNodePtr vm;
			jv v;
			long span;

			if (!tkmd_isel(tc, "tc"))
				continue;
			pr = tkmd_child(tc, "tcPr");
			span = lval(tkmd_child(pr, "gridSpan"), 1);
			vm = tkmd_child(pr, "vMerge");
			v = val(vm);
			if (vm == NULL || (jv_get_kind(v) == JV_KIND_STRING &&
			    strcmp(jv_string_value(v), "restart") == 0)) {
				cell(x, rels, tc, &b);
				au_buf_add(&b, "", 0);
				cells[r * cols + c] = b.s;
			}
			jv_free(v);
			c += span > 0 ? (size_t)span : 1;
		}
		r++;
	}
	flushcode(x);
	if (x->last)
		putc('\n', x->d->out);
	tkmd_table(x->d->out, cells, rows, cols);
	x->last = 1;
	for (i = 0; i < rows * cols; i++)
		free(cells[i]);
	free(cells);
}

static void
blocks(struct docx *x, jv rels, xmlNodePtr n)
{
	xmlNodePtr c;

	for (c = n->children; c != NULL; c = c->next) {
		if (tkmd_isel(c, "p"))
			paragraph(x, rels, c);
		else if (tkmd_isel(c, "tbl"))
			table(x, rels, c);
		else if (tkmd_isel(c, "sdt") || tkmd_isel(c, "sdtContent") ||
		    tkmd_isel(c, "customXml") || tkmd_isel(c, "ins"))
			blocks(x, rels, c);
	}
}

/* The notes referred to, in order, at the end. */
static int
notes(struct docx *x, const char *fpart, const char *epart)
{
	xmlDocPtr f = fpart != NULL ? tkmd_xml(x->d, fpart, 0) : NULL;
	xmlDocPtr e = epart != NULL ? tkmd_xml(x->d, epart, 0) : NULL;
	jv frels = fpart != NULL ? tkmd_rels(x->d, fpart) : jv_object();
	jv erels = epart != NULL ? tkmd_rels(x->d, epart) : jv_object();
	int i = 0;

	x->d->why[0] = '\0';
	if (!jv_is_valid(frels)) {
		jv_free(frels);
		frels = jv_object();
	}
	if (!jv_is_valid(erels)) {
		jv_free(erels);
		erels = jv_object();
	}
	jv_array_foreach(x->notes, k, key) {
		const char *s = jv_string_value(key);
		xmlDocPtr doc = s[0] == 'f' ? f : e;
		xmlNodePtr n;
		struct au_buf md = AU_BUF_INIT;

		for (n = doc != NULL ? xmlDocGetRootElement(doc)->children :
		    NULL; n != NULL; n = n->next) {
			xmlChar *id = xmlGetProp(n, BAD_CAST "id");
			xmlNodePtr p;

			if ((tkmd_isel(n, "footnote") ||
			    tkmd_isel(n, "endnote")) &&
			    id != NULL && strcmp((char *)id, s + 1) == 0)
				for (p = n->children; p != NULL; p = p->next)
					if (tkmd_isel(p, "p")) {
						if (md.len > 0)
							au_buf_addc(&md, ' ');
						para_md(x, s[0] == 'f' ? frels :
						    erels, p, &md);
					}
			xmlFree(id);
		}
		if (i++ == 0)
			putc('\n', x->d->out);
		fprintf(x->d->out, "[^%d]: %s\n", k + 1, md.s != NULL ? md.s :
		    "");
		au_buf_free(&md);
		jv_free(key);
	}
	jv_free(frels);
	jv_free(erels);
	xmlFreeDoc(f);
	xmlFreeDoc(e);
	return 0;
}

int
tkmd_docx(struct tkmd *d)
{
	struct docx x;
	xmlDocPtr doc = tkmd_xml(d, d->part, 1);
	xmlNodePtr body;
	jv rels;
	char *styles, *numbering, *fn, *en;

	if (doc == NULL)
		return -1;
	rels = tkmd_rels(d, d->part);
	if (!jv_is_valid(rels)) {
		xmlFreeDoc(doc);
		return -1;
	}
	memset(&x, 0, sizeof x);
	x.d = d;
	x.notes = jv_array();
	styles = tkmd_reltype(jv_copy(rels), "styles");
	numbering = tkmd_reltype(jv_copy(rels), "numbering");
	fn = tkmd_reltype(jv_copy(rels), "footnotes");
	en = tkmd_reltype(jv_copy(rels), "endnotes");
	load_styles(&x, styles);
	load_numbering(&x, numbering);
	body = tkmd_child(xmlDocGetRootElement(doc), "body");
	if (body != NULL)
		blocks(&x, rels, body);
	flushcode(&x);
	notes(&x, fn, en);
	free(styles);
	free(numbering);
	free(fn);
	free(en);
	free(x.lists);
	au_buf_free(&x.code);
	jv_free(x.styles);
	jv_free(x.numfmt);
	jv_free(x.start);
	jv_free(x.notes);
	jv_free(rels);
	xmlFreeDoc(doc);
	return 0;
}
