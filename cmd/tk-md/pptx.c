/*
 * pptx.c - PPTX: "## Slide N: title" per slide in the presentation's order
 * (sldIdLst through its relationships), then the slide's frames in
 * reading order: top to bottom, left to right.  A frame's position is
 * its own offset, mapped out of the groups around it to the slide; a
 * placeholder without one is where its slide layout's placeholder is
 * (the same idx, else the same type), or failing that where the slide
 * master's placeholder of its type is.  When a frame other than the
 * title has no position even so, the slide keeps the order of its shape
 * tree.  Text frames give paragraphs and lists (bulleted by default in
 * body placeholders, unless a:buNone; numbered with a:buAutoNum; nested
 * by level), tables give GFM tables (merged cells left empty), pictures
 * give ![alt](path), and the speaker notes end the slide as a quote.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tkmd.h"

#define RELNS "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

enum { B = 1, I = 2 };

struct frame {
	xmlNodePtr n;
	double x, y;		/* on the slide, when pos */
	int pos;
};

/* A placeholder of a layout or master. */
struct ph {
	xmlNodePtr n;
	const char *type;	/* kind(), borrowed from the document */
	long idx;
	size_t at;		/* its place in the shape tree */
};

/* A slide layout or master, parsed once for all the slides on it, its
 * placeholders sorted by idx and by type: a slide may have thousands of
 * them, and so may its layout, and each must be found in log time. */
struct part {
	char *name;
	xmlDocPtr doc;		/* NULL when missing or malformed */
	char *master;		/* its slideMaster relationship, or NULL */
	struct ph *byidx, *bytype;
	size_t nidx, ntype;
};

struct parts {
	struct part *p;
	size_t n, cap;
};

/* Where a group's children go on the slide: X = tx + sx * x. */
struct place {
	double sx, sy, tx, ty;
};

struct slide {
	struct tkmd *d;
	struct parts *parts;
	jv rels;
	struct frame *f;
	size_t nf, cap;
	int last;		/* 0 nothing, 1 a block, 2 a list item */
};

static int
attrnum(xmlNodePtr n, const char *name, long *v)
{
	xmlChar *s = n != NULL ? xmlGetProp(n, BAD_CAST name) : NULL;

	if (s == NULL)
		return 0;
	*v = strtol((char *)s, NULL, 10);
	xmlFree(s);
	return 1;
}

/* The p:ph of a shape, or NULL when it is no placeholder. */
static xmlNodePtr
phof(xmlNodePtr sp)
{
	xmlNodePtr nv = tkmd_child(sp, "nvSpPr");

	if (nv == NULL)
		nv = tkmd_child(sp, "nvGraphicFramePr");
	if (nv == NULL)
		nv = tkmd_child(sp, "nvPicPr");
	return tkmd_child(tkmd_child(nv, "nvPr"), "ph");
}

/* The placeholder type of a shape ("title", "body", ...; "obj" for a
 * placeholder without one), or NULL when it is none. */
static xmlChar *
phtype(xmlNodePtr sp)
{
	xmlNodePtr ph = phof(sp);
	xmlChar *t;

	if (ph == NULL)
		return NULL;
	t = xmlGetProp(ph, BAD_CAST "type");
	return t != NULL ? t : xmlStrdup(BAD_CAST "obj");
}

static int
istitle(const xmlChar *t)
{
	return t != NULL && (xmlStrEqual(t, BAD_CAST "title") ||
	    xmlStrEqual(t, BAD_CAST "ctrTitle"));
}

/* Flush the text gathered in one format (and link) onto o. */
static void
flush(struct au_buf *o, struct au_buf *t, int fmt, const char *link)
{
	static const char *const marks[] = { "", "**", "*", "***" };
	size_t lead = 0, trail = 0, n = t->len;

	if (n == 0)
		return;
	while (lead < n && t->s[lead] == ' ')
		lead++;
	while (trail < n - lead && t->s[n - 1 - trail] == ' ')
		trail++;
	au_buf_add(o, t->s, lead);
	if (lead < n) {
		if (link != NULL)
			au_buf_addc(o, '[');
		au_buf_adds(o, marks[fmt]);
		tkmd_esc_inline(o, t->s + lead, n - lead - trail);
		au_buf_adds(o, marks[fmt]);
		if (link != NULL)
			au_buf_addf(o, "](%s)", link);
	}
	au_buf_add(o, t->s + n - trail, trail);
	t->len = 0;
}

/* The runs of paragraph p as inline Markdown onto o (a line break as a
 * newline). */
static void
runs(struct slide *s, xmlNodePtr p, struct au_buf *o)
{
	struct au_buf t = AU_BUF_INIT;
	char *link = NULL, *l;
	int fmt = 0, f;
	xmlNodePtr r;

	for (r = p->children; r != NULL; r = r->next) {
		xmlNodePtr pr = tkmd_child(r, "rPr"), tx;
		xmlChar *v, *id;

		if (tkmd_isel(r, "br")) {
			flush(o, &t, fmt, link);
			au_buf_addc(o, '\n');
			continue;
		}
		if (!tkmd_isel(r, "r") && !tkmd_isel(r, "fld"))
			continue;
		f = 0;
		if ((v = pr != NULL ? xmlGetProp(pr, BAD_CAST "b") : NULL))
			f |= xmlStrEqual(v, BAD_CAST "1") ? B : 0;
		xmlFree(v);
		if ((v = pr != NULL ? xmlGetProp(pr, BAD_CAST "i") : NULL))
			f |= xmlStrEqual(v, BAD_CAST "1") ? I : 0;
		xmlFree(v);
		id = xmlGetNsProp(tkmd_child(pr, "hlinkClick"), BAD_CAST "id",
		    BAD_CAST RELNS);
		l = id != NULL ? tkmd_rel(s->rels, (char *)id, "hyperlink") :
		    NULL;
		xmlFree(id);
		if (f != fmt || (l == NULL) != (link == NULL) ||
		    (l != NULL && strcmp(l, link) != 0)) {
			flush(o, &t, fmt, link);
			free(link);
			link = l;
			fmt = f;
		} else {
			free(l);
		}
		if ((tx = tkmd_child(r, "t")) != NULL) {
			xmlChar *c = xmlNodeGetContent(tx);

			au_buf_adds(&t, (char *)c);
			xmlFree(c);
		}
	}
	flush(o, &t, fmt, link);
	free(link);
	au_buf_free(&t);
}

static void
block(struct slide *s, int item)
{
	if (s->last == 1 || (s->last == 2 && !item))
		putc('\n', s->d->out);
	s->last = item ? 2 : 1;
}

/* A text body: paragraphs, and list items where bullets are. */
static void
text(struct slide *s, xmlNodePtr body, int bullets)
{
	xmlNodePtr p;
	long count[9] = { 0 };

	for (p = body != NULL ? body->children : NULL; p != NULL;
	    p = p->next) {
		xmlNodePtr pr = tkmd_child(p, "pPr");
		struct au_buf md = AU_BUF_INIT;
		long lvl = 0, k;
		int item = bullets, num = 0;
		size_t i;

		if (!tkmd_isel(p, "p"))
			continue;
		attrnum(pr, "lvl", &lvl);
		lvl = lvl < 0 || lvl > 8 ? 0 : lvl;
		if (tkmd_child(pr, "buNone") != NULL)
			item = 0;
		if (tkmd_child(pr, "buChar") != NULL)
			item = 1;
		if (tkmd_child(pr, "buAutoNum") != NULL)
			item = num = 1;
		runs(s, p, &md);
		au_buf_add(&md, "", 0);
		while (md.len > 0 && (md.s[md.len - 1] == '\n' ||
		    md.s[md.len - 1] == ' '))
			md.s[--md.len] = '\0';
		if (md.len == 0) {
			au_buf_free(&md);
			continue;
		}
		block(s, item);
		if (item) {
			for (k = 0; k < 2 * lvl; k++)
				putc(' ', s->d->out);
			count[lvl]++;
			for (k = lvl + 1; k < 9; k++)
				count[k] = 0;
			if (num)
				fprintf(s->d->out, "%ld. ", count[lvl]);
			else
				fputs("- ", s->d->out);
		}
		for (i = 0; i < md.len; i++)
			if (md.s[i] == '\n')
				fputs(item ? " " : "\\\n", s->d->out);
			else
				putc(md.s[i], s->d->out);
		putc('\n', s->d->out);
		au_buf_free(&md);
	}
}

static void
table(struct slide *s, xmlNodePtr tbl)
{
	xmlNodePtr tr, tc, p;
	size_t rows = 0, cols = 0, r, c, i;
	char **cells;

	for (tr = tbl->children; tr != NULL; tr = tr->next) {
		size_t w = 0;

		if (!tkmd_isel(tr, "tr"))
			continue;
		for (tc = tr->children; tc != NULL; tc = tc->next)
			w += tkmd_isel(tc, "tc");
		cols = w > cols ? w : cols;
		rows++;
	}
	if (rows == 0 || cols == 0)
		return;
	cells = au_xcalloc(rows * cols, sizeof *cells);
	r = 0;
	for (tr = tbl->children; tr != NULL; tr = tr->next) {
		if (!tkmd_isel(tr, "tr"))
			continue;
		c = 0;
		for (tc = tr->children; tc != NULL; tc = tc->next) {
			struct au_buf b = AU_BUF_INIT;
			long merged = 0, v = 0;

			if (!tkmd_isel(tc, "tc"))
				continue;
			if (attrnum(tc, "hMerge", &v) && v)
				merged = 1;
			if (attrnum(tc, "vMerge", &v) && v)
				merged = 1;
			for (p = tkmd_child(tc, "txBody") != NULL ?
			    tkmd_child(tc, "txBody")->children : NULL;
			    p != NULL && !merged; p = p->next)
				if (tkmd_isel(p, "p")) {
					if (b.len > 0)
						au_buf_addc(&b, '\n');
					runs(s, p, &b);
				}
			au_buf_add(&b, "", 0);
			cells[r * cols + c++] = b.s;
		}
		r++;
	}
	block(s, 0);
	tkmd_table(s->d->out, cells, rows, cols);
	for (i = 0; i < rows * cols; i++)
		free(cells[i]);
	free(cells);
}

static void
picture(struct slide *s, xmlNodePtr pic)
{
	xmlNodePtr blip = tkmd_child(tkmd_child(pic, "blipFill"), "blip");
	xmlNodePtr pr = tkmd_child(tkmd_child(pic, "nvPicPr"), "cNvPr");
	xmlChar *id = xmlGetNsProp(blip, BAD_CAST "embed", BAD_CAST RELNS);
	xmlChar *alt = pr != NULL ? xmlGetProp(pr, BAD_CAST "descr") : NULL;
	char *target = id != NULL ? tkmd_rel(s->rels, (char *)id, NULL) : NULL;
	char *path;
	struct au_buf b = AU_BUF_INIT;

	if (target != NULL) {
		path = tkmd_media(s->d, target);
		au_buf_adds(&b, "![");
		if (alt != NULL)
			tkmd_esc_inline(&b, (char *)alt, strlen((char *)alt));
		au_buf_addf(&b, "](%s)", path != NULL ? path : target);
		block(s, 0);
		fprintf(s->d->out, "%s\n", b.s);
		free(path);
	}
	au_buf_free(&b);
	free(target);
	xmlFree(id);
	xmlFree(alt);
}

/* The xfrm of a frame or group: a:xfrm in its properties, p:xfrm in a
 * graphic frame. */
static xmlNodePtr
xfrm(xmlNodePtr n)
{
	if (tkmd_isel(n, "graphicFrame"))
		return tkmd_child(n, "xfrm");
	return tkmd_child(tkmd_child(n, tkmd_isel(n, "grpSp") ? "grpSpPr" :
	    "spPr"), "xfrm");
}

/* The offset of a frame's own xfrm, when it has one. */
static int
offset(xmlNodePtr n, long *x, long *y)
{
	xmlNodePtr off = tkmd_child(xfrm(n), "off");

	return attrnum(off, "x", x) && attrnum(off, "y", y);
}

/*
 * One axis of the place of a group's children: the group's child space
 * (chOff, chExt) is its box (off, ext) in the space around it, which is
 * at s, t on the slide.  A child extent of 0 scales nothing: the
 * children only move with the group.
 */
static void
axis(xmlNodePtr xf, const char *c, const char *ec, double s, double t,
    double *ns, double *nt)
{
	long off = 0, ext = 0, choff = 0, chext = 0;
	double k;

	attrnum(tkmd_child(xf, "off"), c, &off);
	attrnum(tkmd_child(xf, "ext"), ec, &ext);
	attrnum(tkmd_child(xf, "chOff"), c, &choff);
	attrnum(tkmd_child(xf, "chExt"), ec, &chext);
	k = chext != 0 ? (double)ext / chext : 1;
	*ns = s * k;
	*nt = t + s * (off - choff * k);
}

/* Coordinate v of a space at s, t on the slide.  Groups nested deep
 * enough overflow to infinities, and those to NaN, which would not
 * sort: it stands for 0. */
static double
onslide(double s, double t, long v)
{
	double r = t + s * v;

	return isnan(r) ? 0 : r;
}

/* The frames beneath a shape tree or group, with their positions on the
 * slide when they have their own; the tree or group is placed at at. */
static void
frames(struct slide *s, xmlNodePtr tree, const struct place *at)
{
	xmlNodePtr n;
	long x, y;

	for (n = tree->children; n != NULL; n = n->next) {
		struct frame *f;

		if (tkmd_isel(n, "grpSp")) {
			xmlNodePtr xf = xfrm(n);
			struct place in;

			axis(xf, "x", "cx", at->sx, at->tx, &in.sx, &in.tx);
			axis(xf, "y", "cy", at->sy, at->ty, &in.sy, &in.ty);
			frames(s, n, &in);
			continue;
		}
		if (!tkmd_isel(n, "sp") && !tkmd_isel(n, "graphicFrame") &&
		    !tkmd_isel(n, "pic"))
			continue;
		s->f = au_grow(s->f, &s->cap, s->nf + 1, sizeof *s->f);
		f = &s->f[s->nf++];
		f->n = n;
		f->x = f->y = 0;
		if ((f->pos = offset(n, &x, &y))) {
			f->x = onslide(at->sx, at->tx, x);
			f->y = onslide(at->sy, at->ty, y);
		}
	}
}

/* The type a placeholder is matched by: "body" when it names none. */
static const char *
kind(xmlNodePtr ph)
{
	const char *t = tkmd_attr(ph, NULL, "type");

	return t != NULL ? t : "body";
}

static int
cmpidx(const void *a, const void *b)
{
	const struct ph *p = a, *q = b;

	if (p->idx != q->idx)
		return p->idx < q->idx ? -1 : 1;
	return p->at < q->at ? -1 : p->at > q->at;
}

static int
cmptype(const void *a, const void *b)
{
	const struct ph *p = a, *q = b;
	int c = strcmp(p->type, q->type);

	if (c != 0)
		return c;
	return p->at < q->at ? -1 : p->at > q->at;
}

/* Sort the placeholders of part p by idx (those that have one) and by
 * type, each then in the order of the shape tree, where the first of
 * an idx or type is the one a slide's placeholder inherits from. */
static void
phindex(struct part *p)
{
	xmlNodePtr tree = tkmd_child(tkmd_child(xmlDocGetRootElement(p->doc),
	    "cSld"), "spTree");
	xmlNodePtr n, ph;
	size_t at = 0, capidx = 0, captype = 0;
	long idx;

	for (n = tree != NULL ? tree->children : NULL; n != NULL;
	    n = n->next) {
		if ((ph = phof(n)) == NULL)
			continue;
		p->bytype = au_grow(p->bytype, &captype, p->ntype + 1,
		    sizeof *p->bytype);
		p->bytype[p->ntype++] = (struct ph){ n, kind(ph), 0, at };
		if (attrnum(ph, "idx", &idx)) {
			p->byidx = au_grow(p->byidx, &capidx, p->nidx + 1,
			    sizeof *p->byidx);
			p->byidx[p->nidx++] = (struct ph){ n, NULL, idx, at };
		}
		at++;
	}
	if (p->nidx > 1)
		qsort(p->byidx, p->nidx, sizeof *p->byidx, cmpidx);
	if (p->ntype > 1)
		qsort(p->bytype, p->ntype, sizeof *p->bytype, cmptype);
}

/* Layout or master NAME, parsed at its first use.  One that is missing
 * or malformed places nothing, and the slide still converts. */
static struct part *
cached(struct slide *s, const char *name)
{
	struct parts *c = s->parts;
	struct part *p;
	jv rels;
	size_t i;

	for (i = 0; i < c->n; i++)
		if (strcmp(c->p[i].name, name) == 0)
			return &c->p[i];
	c->p = au_grow(c->p, &c->cap, c->n + 1, sizeof *c->p);
	p = &c->p[c->n++];
	memset(p, 0, sizeof *p);
	p->name = au_xstrdup(name);
	p->doc = tkmd_xml(s->d, name, 0);
	if (p->doc != NULL) {
		phindex(p);
		rels = tkmd_rels(s->d, name);
		if (jv_is_valid(rels))
			p->master = tkmd_reltype(rels, "slideMaster");
		else
			jv_free(rels);
	}
	s->d->why[0] = '\0';
	return p;
}

/* The type of the master's placeholder that one of type t inherits
 * from: as in PowerPoint, a centred title from the title, and every
 * kind of content (subtitle, object, table, picture...) from the body. */
static const char *
mastertype(const char *t)
{
	static const char *const own[] = { "title", "dt", "ftr", "sldNum" };
	size_t i;

	if (strcmp(t, "ctrTitle") == 0)
		return "title";
	for (i = 0; i < sizeof own / sizeof own[0]; i++)
		if (strcmp(t, own[i]) == 0)
			return own[i];
	return "body";
}

/* The placeholder of part p that a slide's one inherits from: the first
 * of the same idx when idx is not NULL, else the first of type t; or
 * NULL. */
static xmlNodePtr
match(const struct part *p, const long *idx, const char *t)
{
	size_t lo = 0, hi = idx != NULL ? p->nidx : 0, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (p->byidx[mid].idx < *idx)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (idx != NULL && lo < p->nidx && p->byidx[lo].idx == *idx)
		return p->byidx[lo].n;
	lo = 0;
	hi = p->ntype;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (strcmp(p->bytype[mid].type, t) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < p->ntype && strcmp(p->bytype[lo].type, t) == 0)
		return p->bytype[lo].n;
	return NULL;
}

/* Place frame f, which has no position of its own, where the placeholder
 * it inherits from is: in the slide's layout (NULL when none), else in
 * the layout's master.  1 if placed, else 0. */
static int
inherit(struct slide *s, const char *layout, struct frame *f)
{
	xmlNodePtr ph = phof(f->n), at;
	struct part *p;
	const char *type;
	long idx, x, y;
	int hasidx;

	if (ph == NULL || layout == NULL)
		return 0;
	type = kind(ph);
	hasidx = attrnum(ph, "idx", &idx);
	p = cached(s, layout);
	at = match(p, hasidx ? &idx : NULL, type);
	if (at == NULL || !offset(at, &x, &y)) {
		/* cached() may move p: nothing of it is read after. */
		if (p->master == NULL)
			return 0;
		at = match(cached(s, p->master), NULL, mastertype(type));
		if (at == NULL || !offset(at, &x, &y))
			return 0;
	}
	f->x = x;
	f->y = y;
	return 1;
}

static int
bypos(const void *a, const void *b)
{
	const struct frame *p = a, *q = b;

	if (p->y != q->y)
		return p->y < q->y ? -1 : 1;
	if (p->x != q->x)
		return p->x < q->x ? -1 : 1;
	return p->n < q->n ? -1 : p->n > q->n;
}

/* The title of a slide: its title placeholder's text, one line. */
static char *
title(struct slide *s)
{
	struct au_buf b = AU_BUF_INIT;
	xmlNodePtr p;
	size_t i;

	for (i = 0; i < s->nf; i++) {
		xmlChar *t = phtype(s->f[i].n);

		if (istitle(t))
			for (p = tkmd_child(s->f[i].n, "txBody") != NULL ?
			    tkmd_child(s->f[i].n, "txBody")->children : NULL;
			    p != NULL; p = p->next)
				if (tkmd_isel(p, "p")) {
					if (b.len > 0)
						au_buf_addc(&b, ' ');
					runs(s, p, &b);
				}
		xmlFree(t);
	}
	au_buf_add(&b, "", 0);
	for (i = 0; i < b.len; i++)
		if (b.s[i] == '\n')
			b.s[i] = ' ';
	while (b.len > 0 && b.s[b.len - 1] == ' ')
		b.s[--b.len] = '\0';
	return b.s;
}

/* The speaker notes of the slide as a quote. */
static void
notes(struct slide *s, const char *part)
{
	xmlDocPtr doc = tkmd_xml(s->d, part, 0);
	xmlNodePtr tree, n, p;
	jv rels = s->rels;
	int any = 0;

	if (doc == NULL)
		return;
	s->rels = tkmd_rels(s->d, part);
	if (!jv_is_valid(s->rels))
		s->rels = jv_object();
	tree = tkmd_child(tkmd_child(xmlDocGetRootElement(doc), "cSld"),
	    "spTree");
	for (n = tree != NULL ? tree->children : NULL; n != NULL;
	    n = n->next) {
		xmlChar *t = phtype(n);

		if (t != NULL && xmlStrEqual(t, BAD_CAST "body"))
			for (p = tkmd_child(n, "txBody") != NULL ?
			    tkmd_child(n, "txBody")->children : NULL; p != NULL;
			    p = p->next) {
				struct au_buf md = AU_BUF_INIT;
				size_t i;

				if (!tkmd_isel(p, "p"))
					continue;
				runs(s, p, &md);
				if (md.len == 0) {
					au_buf_free(&md);
					continue;
				}
				if (any++)
					fputs(">\n", s->d->out);
				else
					block(s, 0);
				fputs("> ", s->d->out);
				for (i = 0; i < md.len; i++)
					fputs(md.s[i] == '\n' ? "\\\n> " :
					    (char[]){ md.s[i], '\0' },
					    s->d->out);
				putc('\n', s->d->out);
				au_buf_free(&md);
			}
		xmlFree(t);
	}
	jv_free(s->rels);
	s->rels = rels;
	xmlFreeDoc(doc);
	s->d->why[0] = '\0';
}

static int
slide(struct tkmd *d, struct parts *parts, const char *part, int no)
{
	struct slide s;
	xmlDocPtr doc = tkmd_xml(d, part, 1);
	xmlNodePtr tree;
	char *t, *np, *layout;
	size_t i;
	int allpos = 1;

	if (doc == NULL)
		return -1;
	memset(&s, 0, sizeof s);
	s.d = d;
	s.parts = parts;
	s.rels = tkmd_rels(d, part);
	if (!jv_is_valid(s.rels)) {
		xmlFreeDoc(doc);
		return -1;
	}
	tree = tkmd_child(tkmd_child(xmlDocGetRootElement(doc), "cSld"),
	    "spTree");
	if (tree != NULL)
		frames(&s, tree, &(struct place){ 1, 1, 0, 0 });
	t = title(&s);
	if (no > 1)
		putc('\n', d->out);
	if (*t != '\0')
		fprintf(d->out, "## Slide %d: %s\n", no, t);
	else
		fprintf(d->out, "## Slide %d\n", no);
	free(t);
	s.last = 1;
	layout = tkmd_reltype(jv_copy(s.rels), "slideLayout");
	for (i = 0; i < s.nf && allpos; i++) {
		xmlChar *ph = phtype(s.f[i].n);

		if (!s.f[i].pos && !istitle(ph))
			s.f[i].pos = inherit(&s, layout, &s.f[i]);
		allpos = s.f[i].pos || istitle(ph);
		xmlFree(ph);
	}
	free(layout);
	if (allpos && s.nf > 1)
		qsort(s.f, s.nf, sizeof *s.f, bypos);
	for (i = 0; i < s.nf; i++) {
		xmlNodePtr n = s.f[i].n, tbl;
		xmlChar *ph = phtype(n);

		if (istitle(ph)) {
			;
		} else if (tkmd_isel(n, "sp")) {
			text(&s, tkmd_child(n, "txBody"), ph != NULL &&
			    (xmlStrEqual(ph, BAD_CAST "body") ||
			    xmlStrEqual(ph, BAD_CAST "obj")));
		} else if (tkmd_isel(n, "pic")) {
			picture(&s, n);
		} else if ((tbl = tkmd_child(tkmd_child(tkmd_child(n,
		    "graphic"), "graphicData"), "tbl")) != NULL) {
			table(&s, tbl);
		}
		xmlFree(ph);
	}
	if ((np = tkmd_reltype(jv_copy(s.rels), "notesSlide")) != NULL)
		notes(&s, np);
	free(np);
	free(s.f);
	jv_free(s.rels);
	xmlFreeDoc(doc);
	return 0;
}

int
tkmd_pptx(struct tkmd *d)
{
	xmlDocPtr doc = tkmd_xml(d, d->part, 1);
	xmlNodePtr lst, n;
	struct parts parts = { NULL, 0, 0 };
	jv rels;
	int no = 0, rc = 0;
	size_t i;

	if (doc == NULL)
		return -1;
	rels = tkmd_rels(d, d->part);
	if (!jv_is_valid(rels)) {
		xmlFreeDoc(doc);
		return -1;
	}
	lst = tkmd_child(xmlDocGetRootElement(doc), "sldIdLst");
	/* The slides and their relationships are wanted, so that a zip
	 * of the slides first and their relationships after is read in
	 * two passes, not one for each slide. */
	for (n = lst != NULL ? lst->children : NULL; n != NULL; n = n->next) {
		xmlChar *id = tkmd_isel(n, "sldId") ? xmlGetNsProp(n,
		    BAD_CAST "id", BAD_CAST RELNS) : NULL;
		char *part = id != NULL ? tkmd_rel(rels, (char *)id,
		    "slide") : NULL;

		if (part != NULL)
			tkmd_want_part(d, part);
		xmlFree(id);
		free(part);
	}
	for (n = lst != NULL ? lst->children : NULL; n != NULL && rc == 0;
	    n = n->next) {
		xmlChar *id;
		char *part;

		if (!tkmd_isel(n, "sldId"))
			continue;
		id = xmlGetNsProp(n, BAD_CAST "id", BAD_CAST RELNS);
		part = id != NULL ? tkmd_rel(rels, (char *)id, "slide") : NULL;
		xmlFree(id);
		if (part == NULL)
			rc = tkmd_fail(d, "slide %d: no slide part", no + 1);
		else
			rc = slide(d, &parts, part, ++no);
		free(part);
	}
	d->meta = jv_object_set(d->meta, jv_string("slides"), jv_number(no));
	for (i = 0; i < parts.n; i++) {
		free(parts.p[i].name);
		xmlFreeDoc(parts.p[i].doc);
		free(parts.p[i].master);
		free(parts.p[i].byidx);
		free(parts.p[i].bytype);
	}
	free(parts.p);
	jv_free(rels);
	xmlFreeDoc(doc);
	return rc;
}
