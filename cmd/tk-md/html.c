/*
 * html.c - HTML and EPUB to Markdown, and the Markdown writing that the
 * ODF converters share.
 *
 * A document is walked once: block elements (headings, paragraphs,
 * lists, quotes, tables, pre) each become a Markdown block, and the
 * inline content between them a paragraph, through the inline writer
 * below.  Containers that say nothing about structure (div, section,
 * article, unknown elements) are looked through; script, style, head,
 * nav and other noise are dropped.  Lists, quotes and table cells are
 * written into memory first and then indented, quoted or tabulated.
 * An EPUB is its container.xml, then its package document (OPF), then
 * each chapter of the spine in order through the same walk, with images
 * resolved against the chapter.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tkmd.h"

/* Deeper than this an element is refused, not walked: the walk recurses. */
#define MAXDEPTH 200
/* The most cells a table may span out to, colspans and rowspans counted. */
#define MAXCELLS (1 << 20)

static const char NS_OPF[] = "http://www.idpf.org/2007/opf";
static const char NS_DC[] = "http://purl.org/dc/elements/1.1/";
static const char NS_CONTAINER[] =
    "urn:oasis:names:tc:opendocument:xmlns:container";

/* ---- the inline writer ------------------------------------------------ */

static void
put(struct tkmd_inline *w, const char *s, size_t n)
{
	fwrite(s, 1, n, w->out);
	w->n += n;
}

static void
puts_(struct tkmd_inline *w, const char *s)
{
	put(w, s, strlen(s));
}

/* Close the open markers down to the first keep of them. */
static void
closeto(struct tkmd_inline *w, int keep)
{
	while (w->nopen > keep) {
		char m = w->open[--w->nopen];

		puts_(w, m == 'S' ? "**" : m == 'D' ? "~~" : "*");
	}
}

/* Get ready for output: the lead, the markers no longer wanted closed,
 * the due break or space, then the wanted markers opened. */
static void
ready(struct tkmd_inline *w)
{
	static const struct {
		unsigned bit;
		char m;
		const char *s;
	} order[] = {
		{ TKMD_DEL, 'D', "~~" }, { TKMD_STRONG, 'S', "**" },
		{ TKMD_EM, 'E', "*" },
	};
	unsigned have = 0;
	int keep, i;

	if (w->lead) {
		fputs(w->lead, w->out);
		w->lead = NULL;
	}
	for (keep = 0; keep < w->nopen; keep++) {
		unsigned bit = w->open[keep] == 'S' ? TKMD_STRONG :
		    w->open[keep] == 'D' ? TKMD_DEL : TKMD_EM;

		if (!(w->want & bit))
			break;
		have |= bit;
	}
	closeto(w, keep);
	if (w->brk && w->n > 0) {
		closeto(w, 0);
		have = 0;
		puts_(w, w->flat ? "\n" : "\\\n");
		w->bol = !w->flat;
	} else if (w->space && w->n > 0 && w->n != w->link) {
		puts_(w, " ");
	}
	w->brk = w->space = 0;
	for (i = 0; i < 3; i++)
		if ((w->want & order[i].bit) && !(have & order[i].bit)) {
			w->open[w->nopen++] = order[i].m;
			puts_(w, order[i].s);
		}
}

void
tkmd_in_init(struct tkmd_inline *w, FILE *out, const char *lead)
{
	memset(w, 0, sizeof *w);
	w->out = out;
	w->lead = lead;
	w->link = SIZE_MAX;
	w->bol = 1;
}

static int
white(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

void
tkmd_in_text(struct tkmd_inline *w, const char *s, size_t n)
{
	struct au_buf b = AU_BUF_INIT;
	size_t i;
	int gap = 0;

	for (i = 0; i < n; i++) {
		if (white((unsigned char)s[i])) {
			gap = 1;
			continue;
		}
		if (gap && b.len > 0)
			au_buf_addc(&b, ' ');
		else if (gap)
			w->space = 1;
		gap = 0;
		au_buf_addc(&b, s[i]);
	}
	if (b.len > 0) {
		ready(w);
		if (w->bol && !w->flat) {
			tkmd_text(w->out, b.s, b.len);
		} else {
			struct au_buf e = AU_BUF_INIT;

			tkmd_esc_inline(&e, b.s, b.len);
			fwrite(e.s, 1, e.len, w->out);
			au_buf_free(&e);
		}
		w->n += b.len;
		w->bol = 0;
	}
	if (gap)
		w->space = 1;
	au_buf_free(&b);
}

void
tkmd_in_code(struct tkmd_inline *w, const char *s, size_t n)
{
	size_t i, run = 0, most = 0, k;
	char *c = au_xstrndup(s, n);
	int pad;

	for (i = 0; i < n; i++) {
		if (c[i] == '\n' || c[i] == '\r')
			c[i] = ' ';
		run = c[i] == '`' ? run + 1 : 0;
		if (run > most)
			most = run;
	}
	for (i = 0; i < n && c[i] == ' '; i++)
		;
	if (i == n) {
		if (n > 0)
			w->space = 1;
		free(c);
		return;
	}
	ready(w);
	pad = c[0] == '`' || c[n - 1] == '`' ||
	    (c[0] == ' ' && c[n - 1] == ' ');
	for (k = 0; k <= most; k++)
		puts_(w, "`");
	if (pad)
		puts_(w, " ");
	put(w, c, n);
	if (pad)
		puts_(w, " ");
	for (k = 0; k <= most; k++)
		puts_(w, "`");
	free(c);
}

void
tkmd_in_raw(struct tkmd_inline *w, const char *s)
{
	ready(w);
	puts_(w, s);
}

void
tkmd_in_break(struct tkmd_inline *w)
{
	w->brk = 1;
}

void
tkmd_in_space(struct tkmd_inline *w)
{
	w->space = 1;
}

void
tkmd_in_link(struct tkmd_inline *w)
{
	unsigned want = w->want;

	w->want = 0;
	ready(w);
	w->want = want;
	puts_(w, "[");
	w->link = w->n;
}

/* A link destination: bytes that would end or break it escaped. */
static void
dest(struct tkmd_inline *w, const char *href)
{
	const unsigned char *p;

	for (p = (const unsigned char *)href; *p; p++) {
		if (*p <= ' ' || *p == '(' || *p == ')' || *p == '<' ||
		    *p == '>' || *p == 0x7f) {
			char hex[4];

			snprintf(hex, sizeof hex, "%%%02X", *p);
			puts_(w, hex);
		} else {
			put(w, (const char *)p, 1);
		}
	}
}

void
tkmd_in_unlink(struct tkmd_inline *w, const char *href)
{
	int space = w->space;

	closeto(w, 0);
	w->space = 0;
	if (w->n == w->link) {
		tkmd_text(w->out, href, strlen(href));
		w->n += strlen(href);
	}
	puts_(w, "](");
	dest(w, href);
	puts_(w, ")");
	w->link = SIZE_MAX;
	w->space = space;
}

void
tkmd_in_image(struct tkmd_inline *w, const char *alt, const char *src)
{
	unsigned want = w->want;

	w->want = 0;
	ready(w);
	w->want = want;
	puts_(w, "![");
	if (*alt)
		tkmd_text(w->out, alt, strlen(alt));
	w->n += strlen(alt);
	puts_(w, "](");
	dest(w, src);
	puts_(w, ")");
}

int
tkmd_in_end(struct tkmd_inline *w)
{
	closeto(w, 0);
	w->space = w->brk = 0;
	return w->n > 0;
}

const char *
tkmd_sep(const struct tkmd_blk *b)
{
	return b->n > 0 && !b->tight ? "\n" : "";
}

void
tkmd_indent(FILE *out, const char *s, size_t n, const char *first,
    const char *rest, const char *blank)
{
	const char *end = s + n, *nl;
	int line;

	for (line = 0; s < end; line++, s = nl + 1) {
		nl = memchr(s, '\n', (size_t)(end - s));
		if (!nl)
			nl = end;
		fputs(nl == s ? blank : line == 0 ? first : rest, out);
		fwrite(s, 1, (size_t)(nl - s), out);
		fputc('\n', out);
	}
}

void
tkmd_item(struct tkmd_blk *b, int count, int tight, long num, int cont,
    const char *buf, size_t len)
{
	char marker[32], pad[32];
	size_t m;

	if (num > 0)
		snprintf(marker, sizeof marker, "%ld. ", num);
	else
		strcpy(marker, "- ");
	m = strlen(marker);
	memset(pad, ' ', m);
	pad[m] = '\0';
	fputs(count == 0 && !cont ? tkmd_sep(b) : tight || cont ? "" : "\n",
	    b->out);
	if (len > 0)
		tkmd_indent(b->out, buf, len, cont ? pad : marker, pad, "");
	else if (!cont)
		fprintf(b->out, "%.*s\n", (int)m - 1, marker);
}

void
tkmd_quote(struct tkmd_blk *b, const char *buf, size_t len)
{
	if (len == 0)
		return;
	fputs(tkmd_sep(b), b->out);
	tkmd_indent(b->out, buf, len, "> ", "> ", ">");
	b->n++;
}

int
tkmd_para(struct tkmd_blk *b, xmlNodePtr first, xmlNodePtr end,
    const char *prefix, tkmd_inl_fn *fn, void *arg)
{
	struct tkmd_inline w;
	char *lead = au_xasprintf("%s%s", tkmd_sep(b), prefix);
	xmlNodePtr c;
	int rc = 0;

	tkmd_in_init(&w, b->out, lead);
	for (c = first; c != end && rc == 0; c = c->next)
		rc = fn(arg, &w, c);
	if (tkmd_in_end(&w)) {
		fputc('\n', b->out);
		b->n++;
	}
	free(lead);
	return rc;
}

char *
tkmd_cell(xmlNodePtr first, tkmd_inl_fn *fn, void *arg, int *rc)
{
	struct tkmd_inline w;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = tkmd_xmem(&buf, &len);
	xmlNodePtr c;

	tkmd_in_init(&w, f, NULL);
	w.flat = 1;
	for (*rc = 0, c = first; c && *rc == 0; c = c->next)
		*rc = fn(arg, &w, c);
	tkmd_in_end(&w);
	fclose(f);
	if (len == 0 || *rc < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}


const char *
tkmd_attr(xmlNodePtr n, const char *ns, const char *name)
{
	xmlAttrPtr a;

	/* Only an element has attributes: a text node may keep its text
	 * where they would be (XML_PARSE_COMPACT). */
	if (n->type != XML_ELEMENT_NODE)
		return NULL;
	for (a = n->properties; a; a = a->next) {
		if (strcmp((const char *)a->name, name) != 0)
			continue;
		if (ns ? !a->ns || strcmp((const char *)a->ns->href, ns) != 0 :
		    a->ns != NULL)
			continue;
		if (a->children && a->children->type == XML_TEXT_NODE &&
		    !a->children->next)
			return (const char *)a->children->content;
		return NULL;
	}
	return NULL;
}

static int
hexval(int c)
{
	return isdigit(c) ? c - '0' : isxdigit(c) ? tolower(c) - 'a' + 10 : -1;
}

char *
tkmd_href_path(const char *href)
{
	const char *p;
	size_t n;
	char *out, *o;

	for (p = href; isalnum((unsigned char)*p) || *p == '+' || *p == '-' ||
	    *p == '.'; p++)
		;
	if ((*p == ':' && p > href) || href[0] == '/' || href[0] == '\0')
		return NULL;
	n = strcspn(href, "#?");
	if (n == 0)
		return NULL;
	out = o = au_xmalloc(n + 1);
	for (p = href; p < href + n; p++) {
		if (*p == '%' && p + 2 < href + n &&
		    hexval((unsigned char)p[1]) >= 0 &&
		    hexval((unsigned char)p[2]) >= 0) {
			*o++ = (char)(hexval((unsigned char)p[1]) * 16 +
			    hexval((unsigned char)p[2]));
			p += 2;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	if (strlen(out) != (size_t)(o - out)) {
		free(out);
		return NULL;
	}
	return out;
}

/* ---- HTML ------------------------------------------------------------- */

struct html {
	struct tkmd *d;
	const char *base;	/* the chapter's member (EPUB), or NULL */
	int depth;
};

static const char *const dropped[] = {
	"audio", "button", "canvas", "embed", "head", "iframe", "input",
	"link", "map", "math", "meta", "nav", "noscript", "object", "script",
	"select", "style", "svg", "template", "textarea", "title", "video",
	NULL
};

static const char *const inlines[] = {
	"a", "abbr", "b", "bdi", "bdo", "big", "br", "cite", "code", "data",
	"del", "dfn", "em", "font", "i", "img", "ins", "kbd", "label", "mark",
	"q", "s", "samp", "small", "span", "strike", "strong", "sub", "sup",
	"time", "tt", "u", "var", "wbr", NULL
};

static int
among(const xmlChar *name, const char *const *list)
{
	for (; *list; list++)
		if (strcmp((const char *)name, *list) == 0)
			return 1;
	return 0;
}

/* h1 ... h6: the level, else 0. */
static int
heading(xmlNodePtr n)
{
	const char *s = (const char *)n->name;

	return s[0] == 'h' && s[1] >= '1' && s[1] <= '6' && !s[2] ?
	    s[1] - '0' : 0;
}

static int
deeper(struct html *h)
{
	if (++h->depth > MAXDEPTH)
		return tkmd_fail(h->d, "elements nested deeper than %d",
		    MAXDEPTH);
	return 0;
}

/* Whether target, relative to the directory of member base, climbs
 * out of the book ("../../etc/passwd" from "OEBPS/content.opf"). */
static int
climbs(const char *base, const char *target)
{
	const char *s;
	long depth = 0;
	size_t n;

	for (s = base; (s = strchr(s, '/')); s++)
		depth++;
	for (s = target; *s; s += n + (s[n] == '/')) {
		n = strcspn(s, "/");
		if (n == 2 && s[0] == '.' && s[1] == '.') {
			if (--depth < 0)
				return 1;
		} else if (n > 0 && !(n == 1 && s[0] == '.')) {
			depth++;
		}
	}
	return 0;
}

/* An image's source as the Markdown names it: in an EPUB the member,
 * extracted with --extract-media; else as written.  Malloc'd. */
static char *
source(struct tkmd *d, const char *base, const char *src)
{
	char *path, *member, *out;

	if (!base || !(path = tkmd_href_path(src)))
		return au_xstrdup(src);
	if (climbs(base, path)) {
		free(path);
		return au_xstrdup(src);
	}
	member = tkmd_resolve(base, path);
	free(path);
	out = tkmd_media(d, member);
	if (!out)
		return member;
	free(member);
	return out;
}

static int inl(void *arg, struct tkmd_inline *w, xmlNodePtr n);

static int
inlkids(struct html *h, struct tkmd_inline *w, xmlNodePtr n)
{
	xmlNodePtr c;

	for (c = n->children; c; c = c->next)
		if (inl(h, w, c) < 0)
			return -1;
	return 0;
}

/* Emphasis for an element's content, then what it held before. */
static int
styled(struct html *h, struct tkmd_inline *w, xmlNodePtr n, unsigned bit)
{
	unsigned was = w->want;
	int rc;

	w->want |= bit;
	rc = inlkids(h, w, n);
	w->want = was;
	return rc;
}

static int
inl(void *arg, struct tkmd_inline *w, xmlNodePtr n)
{
	struct html *h = arg;
	const char *name, *a;
	int rc = 0;

	if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
		tkmd_in_text(w, (const char *)n->content,
		    strlen((const char *)n->content));
		return 0;
	}
	if (n->type != XML_ELEMENT_NODE || among(n->name, dropped))
		return 0;
	if (deeper(h) < 0)
		return -1;
	name = (const char *)n->name;
	if (!strcmp(name, "em") || !strcmp(name, "i") || !strcmp(name, "cite") ||
	    !strcmp(name, "dfn") || !strcmp(name, "var")) {
		rc = styled(h, w, n, TKMD_EM);
	} else if (!strcmp(name, "strong") || !strcmp(name, "b")) {
		rc = styled(h, w, n, TKMD_STRONG);
	} else if (!strcmp(name, "del") || !strcmp(name, "s") ||
	    !strcmp(name, "strike")) {
		rc = styled(h, w, n, TKMD_DEL);
	} else if (!strcmp(name, "code") || !strcmp(name, "kbd") ||
	    !strcmp(name, "samp") || !strcmp(name, "tt")) {
		xmlChar *s = xmlNodeGetContent(n);

		if (s)
			tkmd_in_code(w, (const char *)s,
			    strlen((const char *)s));
		xmlFree(s);
	} else if (!strcmp(name, "br")) {
		tkmd_in_break(w);
	} else if (!strcmp(name, "img")) {
		if ((a = tkmd_attr(n, NULL, "src")) && *a) {
			const char *alt = tkmd_attr(n, NULL, "alt");
			char *src = source(h->d, h->base, a);

			tkmd_in_image(w, alt ? alt : "", src);
			free(src);
		}
	} else if (!strcmp(name, "a")) {
		const char *role = tkmd_attr(n, NULL, "role");

		a = tkmd_attr(n, NULL, "href");
		if (role && !strcmp(role, "doc-backlink")) {
			rc = 0;
		} else if (!a || !*a || w->link != SIZE_MAX) {
			rc = inlkids(h, w, n);
		} else {
			tkmd_in_link(w);
			rc = inlkids(h, w, n);
			tkmd_in_unlink(w, a);
		}
	} else if (among(n->name, inlines)) {
		rc = inlkids(h, w, n);
	} else {
		/* A block inside inline content, or in a table cell: its
		 * words kept apart from their neighbours'. */
		tkmd_in_space(w);
		rc = inlkids(h, w, n);
		tkmd_in_space(w);
	}
	h->depth--;
	return rc;
}

static int blocks(struct html *h, struct tkmd_blk *b, xmlNodePtr first,
    xmlNodePtr end);

/* A pre element as a fenced code block, its language from a class
 * "language-x" or (pandoc's) "sourceCode x". */
static void
pre(struct tkmd_blk *b, xmlNodePtr n)
{
	xmlChar *text = xmlNodeGetContent(n);
	const char *s = text ? (const char *)text : "", *cls;
	size_t len = strlen(s);
	char lang[64] = "";
	xmlNodePtr c;

	cls = tkmd_attr(n, NULL, "class");
	for (c = n->children; !cls && c; c = c->next)
		if (tkmd_isel(c, "code"))
			cls = tkmd_attr(c, NULL, "class");
	if (cls) {
		char *copy = au_xstrdup(cls), *tok, *save;

		for (tok = strtok_r(copy, " \t\n", &save); tok;
		    tok = strtok_r(NULL, " \t\n", &save)) {
			if (!strncmp(tok, "language-", 9))
				tok += 9;
			else if (!strcmp(tok, "sourceCode"))
				continue;
			if (strlen(tok) < sizeof lang &&
			    !strpbrk(tok, "`~")) {
				strcpy(lang, tok);
				break;
			}
		}
		free(copy);
	}
	if (len > 0 && s[0] == '\n') {
		s++;
		len--;
	}
	if (len > 0) {
		fputs(tkmd_sep(b), b->out);
		tkmd_code(b->out, lang, s, len);
		b->n++;
	}
	xmlFree(text);
}

/* Whether a list item holds paragraphs: then the list is loose. */
static int
loose(xmlNodePtr list)
{
	xmlNodePtr li, c;

	for (li = list->children; li; li = li->next)
		for (c = li->children; c; c = c->next)
			if (tkmd_isel(c, "p"))
				return 1;
	return 0;
}

static int
list(struct html *h, struct tkmd_blk *b, xmlNodePtr n, int ordered)
{
	const char *start = tkmd_attr(n, NULL, "start");
	long num = start ? strtol(start, NULL, 10) : 1;
	int tight = !loose(n), items = 0;
	xmlNodePtr li;

	if (num < 1 || num > 999999999)
		num = 1;
	for (li = n->children; li; li = li->next) {
		struct tkmd_blk in = { NULL, 0, tight };
		char *buf = NULL;
		size_t len = 0;
		int rc;

		if (li->type != XML_ELEMENT_NODE)
			continue;
		in.out = tkmd_xmem(&buf, &len);
		rc = tkmd_isel(li, "li") ? blocks(h, &in, li->children, NULL) :
		    blocks(h, &in, li, li->next);
		fclose(in.out);
		if (rc < 0) {
			free(buf);
			return -1;
		}
		tkmd_item(b, items, tight, ordered ? num++ : 0, 0, buf, len);
		free(buf);
		items++;
	}
	if (items > 0)
		b->n++;
	return 0;
}

static int
quote(struct html *h, struct tkmd_blk *b, xmlNodePtr n)
{
	struct tkmd_blk in = { NULL, 0, 0 };
	char *buf = NULL;
	size_t len = 0;
	int rc;

	in.out = tkmd_xmem(&buf, &len);
	rc = blocks(h, &in, n->children, NULL);
	fclose(in.out);
	if (rc == 0)
		tkmd_quote(b, buf, len);
	free(buf);
	return rc;
}

/* The rows of a table, through thead, tbody and tfoot. */
static size_t
rows(xmlNodePtr t, xmlNodePtr *row, size_t max)
{
	xmlNodePtr c, r;
	size_t n = 0;

	for (c = t->children; c; c = c->next) {
		if (tkmd_isel(c, "tr")) {
			if (row && n < max)
				row[n] = c;
			n++;
		} else if (tkmd_isel(c, "thead") || tkmd_isel(c, "tbody") || tkmd_isel(c, "tfoot")) {
			for (r = c->children; r; r = r->next)
				if (tkmd_isel(r, "tr")) {
					if (row && n < max)
						row[n] = r;
					n++;
				}
		}
	}
	return n;
}

static long
span(xmlNodePtr cell, const char *name, long max)
{
	const char *s = tkmd_attr(cell, NULL, name);
	long v = s ? strtol(s, NULL, 10) : 1;

	return v == 0 || v > max ? max : v < 0 ? 1 : v;
}

/*
 * A table as GFM: each cell at the first free column of its row, its
 * colspan and rowspan columns and rows taken (spanned places empty).
 * The first pass only counts the columns.
 */
static int
table(struct html *h, struct tkmd_blk *b, xmlNodePtr t)
{
	size_t nrows = rows(t, NULL, 0), ncols = 0, r, i, cap = 0;
	xmlNodePtr *row, c;
	long *left = NULL;	/* rows a column is still taken for */
	char **cells = NULL;
	int pass, rc = 0;

	for (c = t->children; c; c = c->next)
		if (tkmd_isel(c, "caption") && (rc = tkmd_para(b, c->children, NULL,
		    "", inl, h)) < 0)
			return -1;
	if (nrows == 0)
		return 0;
	row = au_xcalloc(nrows, sizeof *row);
	rows(t, row, nrows);
	for (pass = 0; pass < 2 && rc == 0; pass++) {
		if (pass == 1) {
			if (ncols == 0 || nrows > MAXCELLS / ncols) {
				rc = ncols ? tkmd_fail(h->d,
				    "a table of more than %d cells", MAXCELLS) : 0;
				break;
			}
			cells = au_xcalloc(nrows * ncols, sizeof *cells);
		}
		if (left)
			memset(left, 0, cap * sizeof *left);
		for (r = 0; r < nrows && rc == 0; r++) {
			size_t col = 0;

			for (c = row[r]->children; c && rc == 0; c = c->next) {
				long cs, rs;

				if (!tkmd_isel(c, "td") && !tkmd_isel(c, "th"))
					continue;
				while (col < cap && left[col] > 0)
					col++;
				cs = span(c, "colspan", 1000);
				rs = span(c, "rowspan", (long)(nrows - r));
				if (col + (size_t)cs > MAXCELLS) {
					rc = tkmd_fail(h->d, "a table of more "
					    "than %d columns", MAXCELLS);
					break;
				}
				if (col + (size_t)cs > cap) {
					size_t was = cap;

					left = au_grow(left, &cap,
					    col + (size_t)cs, sizeof *left);
					memset(left + was, 0,
					    (cap - was) * sizeof *left);
				}
				for (i = col; i < col + (size_t)cs; i++)
					left[i] = rs;
				if (pass == 1)
					cells[r * ncols + col] = tkmd_cell(
					    c->children, inl, h, &rc);
				col += (size_t)cs;
				if (col > ncols)
					ncols = col;
			}
			for (i = 0; i < cap; i++)
				if (left[i] > 0)
					left[i]--;
		}
	}
	for (i = 0; cells && i < nrows * ncols && !cells[i]; i++)
		;
	if (rc == 0 && cells && i < nrows * ncols) {
		fputs(tkmd_sep(b), b->out);
		tkmd_table(b->out, cells, nrows, ncols);
		b->n++;
	}
	if (cells)
		for (i = 0; i < nrows * ncols; i++)
			free(cells[i]);
	free(cells);
	free(left);
	free(row);
	return rc;
}

/* A block element other than a container: 1 if n is not one. */
static int
block(struct html *h, struct tkmd_blk *b, xmlNodePtr n)
{
	const char *name = (const char *)n->name;
	char hashes[8];
	int level = heading(n);

	if (level) {
		memset(hashes, '#', (size_t)level);
		strcpy(hashes + level, " ");
		return tkmd_para(b, n->children, NULL, hashes, inl, h);
	}
	if (!strcmp(name, "p") || !strcmp(name, "figcaption") ||
	    !strcmp(name, "dt") || !strcmp(name, "caption"))
		return tkmd_para(b, n->children, NULL, "", inl, h);
	if (!strcmp(name, "pre")) {
		pre(b, n);
		return 0;
	}
	if (!strcmp(name, "ul") || !strcmp(name, "ol") ||
	    !strcmp(name, "menu"))
		return list(h, b, n, name[0] == 'o');
	if (!strcmp(name, "blockquote"))
		return quote(h, b, n);
	if (!strcmp(name, "table"))
		return table(h, b, n);
	if (!strcmp(name, "hr")) {
		fprintf(b->out, "%s---\n", tkmd_sep(b));
		b->n++;
		return 0;
	}
	return 1;
}

/* Siblings from first up to end as blocks: runs of inline content
 * between the block elements are paragraphs; other elements are looked
 * through. */
static int
blocks(struct html *h, struct tkmd_blk *b, xmlNodePtr first, xmlNodePtr end)
{
	xmlNodePtr c = first, run;
	int rc = 0;

	while (c != end && rc == 0) {
		if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE ||
		    (c->type == XML_ELEMENT_NODE && among(c->name, inlines))) {
			for (run = c; c != end && (c->type != XML_ELEMENT_NODE ||
			    among(c->name, inlines) || among(c->name, dropped));
			    c = c->next)
				;
			rc = tkmd_para(b, run, c, "", inl, h);
			continue;
		}
		if (c->type == XML_ELEMENT_NODE && !among(c->name, dropped)) {
			if ((rc = deeper(h)) < 0)
				break;
			rc = block(h, b, c);
			if (rc == 1)
				rc = blocks(h, b, c->children, NULL);
			h->depth--;
		}
		c = c->next;
	}
	return rc;
}

static xmlNodePtr
find(xmlNodePtr n, const char *name, int depth)
{
	xmlNodePtr c, f;

	if (!n || depth > 3)
		return NULL;
	if (tkmd_isel(n, name))
		return n;
	for (c = n->children; c; c = c->next)
		if ((f = find(c, name, depth + 1)))
			return f;
	return NULL;
}

/* The document's body (or root) into b. */
static int
body(struct html *h, struct tkmd_blk *b, xmlDocPtr doc)
{
	xmlNodePtr root = xmlDocGetRootElement(doc), bd = find(root, "body", 0);

	if (!root)
		return 0;
	return bd ? blocks(h, b, bd->children, NULL) :
	    blocks(h, b, root, NULL);
}

int
tkmd_html_body(struct tkmd *d, xmlDocPtr doc, const char *base)
{
	struct html h = { d, base, 0 };
	struct tkmd_blk b = { d->out, 0, 0 };

	return body(&h, &b, doc);
}

/* Text content with white space collapsed, or NULL if there is none. */
static jv
words(xmlNodePtr n)
{
	xmlChar *s = xmlNodeGetContent(n);
	struct au_buf b = AU_BUF_INIT;
	const char *p;
	jv v;

	for (p = s ? (const char *)s : ""; *p; p++) {
		if (!white((unsigned char)*p))
			au_buf_addc(&b, *p);
		else if (b.len > 0 && b.s[b.len - 1] != ' ')
			au_buf_addc(&b, ' ');
	}
	if (b.len > 0 && b.s[b.len - 1] == ' ')
		b.len--;
	v = b.len > 0 ? jv_string_sized(b.s, (int)b.len) : jv_null();
	au_buf_free(&b);
	xmlFree(s);
	return v;
}

/* The first element called name in document order, or NULL. */
static xmlNodePtr
first(xmlNodePtr n, const char *name)
{
	xmlNodePtr c, f;

	for (c = n; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (tkmd_isel(c, name))
			return c;
		if ((f = first(c->children, name)))
			return f;
	}
	return NULL;
}

int
tkmd_htmldoc(struct tkmd *d)
{
	xmlDocPtr doc = tkmd_html(d, d->data, d->len, d->path);
	xmlNodePtr root, t;
	jv title = jv_null();
	int rc;

	if (!doc)
		return -1;
	root = xmlDocGetRootElement(doc);
	if (root && (t = first(root, "title")))
		title = words(t);
	if (root && jv_get_kind(title) == JV_KIND_NULL && (t = first(root, "h1")))
		title = words(t);
	if (jv_get_kind(title) == JV_KIND_STRING)
		d->meta = jv_object_set(d->meta, jv_string("title"), title);
	else
		jv_free(title);
	rc = tkmd_html_body(d, doc, NULL);
	xmlFreeDoc(doc);
	return rc;
}

/* ---- EPUB ------------------------------------------------------------- */

/* The first child element of n called name in namespace ns. */
static xmlNodePtr
child(xmlNodePtr n, const char *ns, const char *name)
{
	xmlNodePtr c;

	for (c = n ? n->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && c->ns &&
		    !strcmp((const char *)c->ns->href, ns) &&
		    !strcmp((const char *)c->name, name))
			return c;
	return NULL;
}

/* The package's Dublin Core title, creators and language into meta. */
static void
metadata(struct tkmd *d, xmlNodePtr md)
{
	jv authors = jv_array();
	xmlNodePtr c;

	for (c = md ? md->children : NULL; c; c = c->next) {
		jv v;

		if (c->type != XML_ELEMENT_NODE || !c->ns ||
		    strcmp((const char *)c->ns->href, NS_DC) != 0)
			continue;
		if (tkmd_isel(c, "title") && !jv_object_has(jv_copy(d->meta),
		    jv_string("title"))) {
			if (jv_get_kind(v = words(c)) == JV_KIND_STRING)
				d->meta = jv_object_set(d->meta,
				    jv_string("title"), v);
			else
				jv_free(v);
		} else if (tkmd_isel(c, "creator") &&
		    jv_get_kind(v = words(c)) == JV_KIND_STRING) {
			authors = jv_array_append(authors, v);
		} else if (tkmd_isel(c, "language") && !jv_object_has(
		    jv_copy(d->meta), jv_string("language")) &&
		    jv_get_kind(v = words(c)) == JV_KIND_STRING) {
			d->meta = jv_object_set(d->meta, jv_string("language"),
			    v);
		}
	}
	if (jv_array_length(jv_copy(authors)) > 0)
		d->meta = jv_object_set(d->meta, jv_string("authors"), authors);
	else
		jv_free(authors);
}

/* The member of a spine item's chapter in *member: 1, or 0 for an item
 * that is not XHTML, or -1 (why set). */
static int
chapter_member(struct tkmd *d, const char *opf, xmlNodePtr item,
    char **member)
{
	const char *href = tkmd_attr(item, NULL, "href");
	const char *type = tkmd_attr(item, NULL, "media-type");
	char *path;

	if (type && strcmp(type, "application/xhtml+xml") != 0 &&
	    strcmp(type, "text/html") != 0)
		return 0;
	if (!href || !(path = tkmd_href_path(href)))
		return tkmd_fail(d, "spine item %s: no chapter in the book",
		    au_quote(href ? href : ""));
	if (climbs(opf, path)) {
		free(path);
		return tkmd_fail(d, "spine item %s: outside the book",
		    au_quote(href));
	}
	*member = tkmd_resolve(opf, path);
	free(path);
	return 1;
}

/* One spine item: its chapter through the HTML walk into b: 1, or 0
 * for an item that is not XHTML, or -1. */
static int
chapter(struct tkmd *d, struct tkmd_blk *b, const char *opf, xmlNodePtr item)
{
	const char *href = tkmd_attr(item, NULL, "href");
	char *member;
	struct html h = { d, NULL, 0 };
	const unsigned char *buf;
	size_t len;
	xmlDocPtr doc;
	int rc;

	if ((rc = chapter_member(d, opf, item, &member)) <= 0)
		return rc;
	if ((rc = tkmd_member(d, member, &buf, &len)) != 0) {
		if (rc > 0)
			tkmd_fail(d, "spine item %s: missing chapter %s",
			    au_quote(href), au_quote(member));
		free(member);
		return -1;
	}
	if (!(doc = tkmd_html(d, buf, len, member))) {
		free(member);
		return -1;
	}
	h.base = member;
	rc = body(&h, b, doc);
	xmlFreeDoc(doc);
	free(member);
	return rc < 0 ? -1 : 1;
}

int
tkmd_epub(struct tkmd *d)
{
	xmlDocPtr cont, pkg = NULL;
	xmlNodePtr root, rf, man, spine, c;
	struct au_map *ids = NULL;
	struct tkmd_blk b = { d->out, 0, 0 };
	char *opf = NULL;
	const char *fp;
	xmlNodePtr *items = NULL;
	size_t nitems = 0, cap = 0;
	long chapters = 0;
	int rc = -1;

	if (!(cont = tkmd_xml(d, "META-INF/container.xml", 1)))
		return -1;
	root = xmlDocGetRootElement(cont);
	rf = child(child(root, NS_CONTAINER, "rootfiles"), NS_CONTAINER,
	    "rootfile");
	fp = rf ? tkmd_attr(rf, NULL, "full-path") : NULL;
	if (!fp || !*fp) {
		tkmd_fail(d, "META-INF/container.xml: no rootfile");
		goto out;
	}
	opf = au_xstrdup(fp);
	if (opf[0] == '/' || climbs("", opf)) {
		tkmd_fail(d, "rootfile %s: outside the book", au_quote(opf));
		goto out;
	}
	if (!(pkg = tkmd_xml(d, opf, 1)))
		goto out;
	root = xmlDocGetRootElement(pkg);
	metadata(d, child(root, NS_OPF, "metadata"));
	man = child(root, NS_OPF, "manifest");
	spine = child(root, NS_OPF, "spine");
	if (!spine) {
		tkmd_fail(d, "%s: no spine", au_esc(opf));
		goto out;
	}
	ids = au_map_new(64);
	for (c = man ? man->children : NULL; c; c = c->next) {
		const char *id;

		if (!tkmd_isel(c, "item") || !(id = tkmd_attr(c, NULL, "id")))
			continue;
		items = au_grow(items, &cap, nitems + 1, sizeof *items);
		items[nitems] = c;
		if (au_map_put(ids, id, strlen(id), (long)nitems) < 0)
			nitems++;
	}
	/* The chapters are wanted, to be read in one pass over the zip
	 * whatever its order; a bad item is reported when its turn comes. */
	for (c = spine->children; c; c = c->next) {
		const char *idref = tkmd_isel(c, "itemref") ?
		    tkmd_attr(c, NULL, "idref") : NULL;
		long i = idref ? au_map_get(ids, idref, strlen(idref)) : -1;
		char *member;

		if (i >= 0 && chapter_member(d, opf, items[i], &member) > 0) {
			tkmd_want(d, member);
			free(member);
		}
	}
	d->why[0] = '\0';
	for (c = spine->children; c; c = c->next) {
		const char *idref;
		long i;
		int k;

		if (!tkmd_isel(c, "itemref"))
			continue;
		idref = tkmd_attr(c, NULL, "idref");
		i = idref ? au_map_get(ids, idref, strlen(idref)) : -1;
		if (i < 0) {
			tkmd_fail(d, "spine item %s: not in the manifest",
			    au_quote(idref ? idref : ""));
			goto out;
		}
		if ((k = chapter(d, &b, opf, items[i])) < 0)
			goto out;
		chapters += k;
	}
	d->meta = jv_object_set(d->meta, jv_string("chapters"),
	    jv_number((double)chapters));
	rc = 0;
out:
	au_map_free(ids);
	free(items);
	free(opf);
	xmlFreeDoc(pkg);
	xmlFreeDoc(cont);
	return rc;
}
