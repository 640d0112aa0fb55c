/*
 * tkmd.h - what tk-md's converters share: one document in, Markdown out.
 *
 * tk-md.c reads options and files, detects the format by content and
 * calls one converter per document; the converters live beside this
 * header (the C files of cmd/tk-md/), one file per family of formats.  They write
 * Markdown to d->out, add what they learn to d->meta, and return 0, or
 * -1 after tkmd_fail() said why (the file then exits 65 and the other
 * files still convert).  Nothing here is shared with other programs.
 */
#ifndef TKMD_H
#define TKMD_H

#include <stdio.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "agentutils.h"

struct tkmd_zip;

struct tkmd {
	const char *path;		/* the file's name in messages and records */
	const unsigned char *data;	/* the whole file, read or mapped */
	size_t len;
	struct tkmd_zip *zip;		/* the members, when the file is a zip */
	const char *part;		/* OOXML: the main part's name, from
					 * [Content_Types].xml */
	FILE *out;			/* the Markdown */
	jv meta;			/* title, pages, sheets, slides, ... */
	const char *media;		/* --extract-media DIR, or NULL */
	size_t max_size;		/* --max-size: a member, and all expanded */
	unsigned nmedia;		/* media written so far, for names */
	int media_failed;		/* one of them could not be written */
	char why[256];			/* why the conversion failed */
};

/* Set d->why from the format and return -1. */
int tkmd_fail(struct tkmd *d, const char *fmt, ...) AU_PRINTF(2, 3);

/*
 * Open d->data as a zip (d->zip): its central directory read, every
 * member's name and sizes known, nothing expanded yet.  Returns 0, or -1
 * (why set) for a truncated or corrupt zip or one with too many members.
 * tkmd_zip_close frees it and every member read.
 */
int tkmd_zip_open(struct tkmd *d);
void tkmd_zip_close(struct tkmd *d);

/*
 * The zip member NAME, whole and NUL-terminated (*len excludes the NUL).
 * Returns 0; 1 when there is no such member (why untouched); -1 when the
 * member is over the limits or corrupt (why set).  The buffer is owned
 * by the zip and lives as long as the document.
 */
int tkmd_member(struct tkmd *d, const char *name, const unsigned char **buf,
    size_t *len);

/*
 * Say that the zip member NAME will be read (nothing when there is no
 * such member): when the archive is read past it on the way to another,
 * it is read then and kept, so that members wanted in an order other
 * than the zip's are not each a pass from the start.
 */
void tkmd_want(struct tkmd *d, const char *name);
/* tkmd_want of an OPC part and of its relationships part. */
void tkmd_want_part(struct tkmd *d, const char *part);

/*
 * A zip member parsed as XML with no network, no external entities and
 * no entity expansion, or NULL: when missing (why says so if REQUIRED)
 * or malformed (why set).  The caller frees it with xmlFreeDoc.
 */
xmlDocPtr tkmd_xml(struct tkmd *d, const char *name, int required);

/*
 * Stream zip member NAME through the SAX2 callbacks of h (its other
 * members zeroed) with ARG as their user data, as safely as tkmd_xml: a
 * DOCTYPE stops the parse.  For parts too large for a tree (sheets).
 * Returns 0, 1 when missing (why says so if REQUIRED), -1 (why set).
 */
int tkmd_sax(struct tkmd *d, const char *name, xmlSAXHandler *h, void *arg,
    int required);

/*
 * Stream zip member NAME to fn(arg, block, size) as it is expanded (or
 * at once when it was read already); fn returns non-zero, why set, to
 * stop.  Returns 0, 1 when missing (why says so if REQUIRED), -1.
 */
int tkmd_stream(struct tkmd *d, const char *name,
    int (*fn)(void *, const void *, size_t), void *arg, int required);

/*
 * A scanner of large, regular XML parts (xscan.c), far cheaper than
 * SAX2 and as safe: start and end get each element's local name, start
 * its attributes (local names, values with references resolved; the
 * first TKMD_XATTRS), valid until it returns.  While collect is set,
 * text (references resolved, CDATA as is) is appended to text.  Zero
 * the struct, set the callbacks and arg; tkmd_xscan_free frees it.
 */
#define TKMD_XATTRS 16
struct tkmd_xattr {
	const char *name, *val;
	size_t nlen, vlen;
};
struct tkmd_xscan {
	void (*start)(struct tkmd_xscan *x, const char *name, size_t n,
	    const struct tkmd_xattr *a, int na);
	void (*end)(struct tkmd_xscan *x, const char *name, size_t n);
	void *arg;
	int collect;
	struct au_buf text;
	/* the scan's own */
	struct tkmd *d;
	const char *part, *base;
	uint64_t off;		/* bytes consumed before base */
	int depth, root;
	struct au_buf cut, names, vals;
	size_t *open, capopen;
	struct tkmd_xattr attr[TKMD_XATTRS];
};
/* Scan member NAME: 0, 1 when missing (why says so if REQUIRED), or -1
 * (why set) when malformed, with a DOCTYPE, or over the limits. */
int tkmd_xscan(struct tkmd *d, const char *name, struct tkmd_xscan *x,
    int required);
void tkmd_xscan_free(struct tkmd_xscan *x);

/* Bytes parsed as HTML the same safe way (libxml2's HTML parser). */
xmlDocPtr tkmd_html(struct tkmd *d, const unsigned char *buf, size_t len,
    const char *url);

/* Resolve TARGET against the directory of zip member BASE ("a/b.xml" and
 * "../media/x.png" give "media/x.png").  The caller frees the result. */
char *tkmd_resolve(const char *base, const char *target);

/* Whether n is an element of local name NAME (any namespace). */
int tkmd_isel(xmlNodePtr n, const char *name);
/* The first child element of n (NULL allowed) of local name NAME. */
xmlNodePtr tkmd_child(xmlNodePtr n, const char *name);

/*
 * The relationships of zip member PART (from its _rels/NAME.rels), as an
 * object of id -> {"target", "type", "external"}: target resolved to a
 * member name, or the URL of an external one; type the last segment of
 * the type's URI ("image", "hyperlink").  An empty object when there are
 * none; jv_invalid() when they are malformed (why set).
 */
jv tkmd_rels(struct tkmd *d, const char *part);
/* The target of relationship ID of rels (borrowed), if of TYPE (NULL:
 * any); or NULL.  The caller frees it. */
char *tkmd_rel(jv rels, const char *id, const char *type);
/* The target of the first relationship of TYPE in rels (consumed). */
char *tkmd_reltype(jv rels, const char *type);

/*
 * Write zip member NAME to the --extract-media directory and return the
 * path to use in the Markdown link (the caller frees it); NULL when
 * media are not extracted (the link then names the member itself).
 */
char *tkmd_media(struct tkmd *d, const char *name);

/* Markdown-escape the n bytes at s onto b, as tkmd_text does. */
void tkmd_esc(struct au_buf *b, const char *s, size_t n);
/* The same for text inside a line: no block is escaped at its start. */
void tkmd_esc_inline(struct au_buf *b, const char *s, size_t n);

/* A fenced code block of the n bytes at s, its fence longer than any run
 * of backticks inside, with the info string LANG (or NULL). */
void tkmd_code(FILE *out, const char *lang, const char *s, size_t n);

/* Markdown-escape text onto out (inline context: * _ ` [ ] < > \ and a
 * leading # + - or digit-dot that would start a block). */
void tkmd_text(FILE *out, const char *s, size_t n);

/*
 * A GFM table of rows x cols cells (row-major, NULL for an empty cell):
 * the first row is the header, | and newlines in cells are escaped, and
 * empty trailing rows and columns are trimmed.
 */
void tkmd_table(FILE *out, char *const *cells, size_t rows, size_t cols);

/* The converters, one per format.  Each returns 0 or -1 (why set). */
int tkmd_docx(struct tkmd *d);
int tkmd_xlsx(struct tkmd *d);
int tkmd_pptx(struct tkmd *d);
int tkmd_odt(struct tkmd *d);
int tkmd_ods(struct tkmd *d);
int tkmd_odp(struct tkmd *d);
int tkmd_epub(struct tkmd *d);
int tkmd_htmldoc(struct tkmd *d);
int tkmd_csv(struct tkmd *d);	/* the delimiter sniffed: CSV or TSV */
/* The delimiter of the n bytes at s if they read as CSV or TSV (',', ';'
 * or a tab: every record of the same number of fields, two at least, on
 * two records at least), else 0. */
int tkmd_csv_sniff(const char *s, size_t n);
int tkmd_json(struct tkmd *d);	/* JSON and NDJSON */

/* HTML already parsed, as Markdown onto d->out (EPUB chapters use it). */
int tkmd_html_body(struct tkmd *d, xmlDocPtr doc, const char *base);

/*
 * What html.c and odf.c share (written in html.c): inline Markdown as it
 * comes, blocks indented or quoted, attributes and hrefs.
 *
 * The inline writer opens emphasis only right before text, so that runs
 * with the same formatting merge and empty ones vanish; white space is
 * collapsed and kept outside the markers; a break is written only when
 * text follows it.  lead (a block separator, "## ") is written before
 * the first output, so an empty paragraph writes nothing at all.
 */
enum { TKMD_EM = 1, TKMD_STRONG = 2, TKMD_DEL = 4 };

struct tkmd_inline {
	FILE *out;
	const char *lead;	/* before the first output, then NULL */
	unsigned want;		/* TKMD_EM ... that the next text has */
	char open[4];		/* the markers open, innermost last */
	int nopen;
	int space, brk;		/* a space, a hard break is due */
	int flat;		/* a table cell: breaks as newlines */
	int bol;		/* at the start of a line: escape as such */
	size_t n;		/* bytes written */
	size_t link;		/* n when the open link began, or SIZE_MAX */
};

void tkmd_in_init(struct tkmd_inline *w, FILE *out, const char *lead);
/* Text, its white space collapsed. */
void tkmd_in_text(struct tkmd_inline *w, const char *s, size_t n);
/* A code span of s, its line ends as spaces. */
void tkmd_in_code(struct tkmd_inline *w, const char *s, size_t n);
/* Markdown written as is (a footnote reference). */
void tkmd_in_raw(struct tkmd_inline *w, const char *s);
void tkmd_in_break(struct tkmd_inline *w);
void tkmd_in_space(struct tkmd_inline *w);
/* A link: its text is what comes until tkmd_in_unlink; the href alone
 * when there is none. */
void tkmd_in_link(struct tkmd_inline *w);
void tkmd_in_unlink(struct tkmd_inline *w, const char *href);
void tkmd_in_image(struct tkmd_inline *w, const char *alt, const char *src);
/* Close what is open: 1 if anything was written, else 0. */
int tkmd_in_end(struct tkmd_inline *w);

/* Blocks written so far onto out, for the blank line between two; a
 * tight list item has none.  tkmd_sep is what goes before the next. */
struct tkmd_blk {
	FILE *out;
	int n;
	int tight;
};
const char *tkmd_sep(const struct tkmd_blk *b);

/* The n bytes at s as lines, the first after first, the others after
 * rest, empty ones after blank ("- " "  " "", or "> " "> " ">"). */
void tkmd_indent(FILE *out, const char *s, size_t n, const char *first,
    const char *rest, const char *blank);
/* A walker of inline nodes: node n onto w; 0, or -1 (why set). */
typedef int tkmd_inl_fn(void *arg, struct tkmd_inline *w, xmlNodePtr n);
/* The inline nodes from first up to end (NULL: all) through fn as one
 * paragraph after prefix ("## " for a heading); nothing when empty. */
int tkmd_para(struct tkmd_blk *b, xmlNodePtr first, xmlNodePtr end,
    const char *prefix, tkmd_inl_fn *fn, void *arg);
/* The same as one line for a table cell (malloc'd), or NULL when empty
 * or when *rc is -1. */
char *tkmd_cell(xmlNodePtr first, tkmd_inl_fn *fn, void *arg, int *rc);
/* A list item after count others of its list: its marker ("N. " when
 * num > 0, else "- ") and its blocks (buf, len) indented beneath; with
 * cont no marker, the blocks carrying on the item before. */
void tkmd_item(struct tkmd_blk *b, int count, int tight, long num, int cont,
    const char *buf, size_t len);
/* The blocks buf, len as a block quote, when there are any. */
void tkmd_quote(struct tkmd_blk *b, const char *buf, size_t len);
/* A stream into memory as open_memstream makes one (*buf, NUL-ended,
 * and *len as of the last flush; *buf freed by the caller), or die (70). */
FILE *tkmd_xmem(char **buf, size_t *len);
/* The value of attribute name of n in namespace ns (NULL: none), as
 * stored in the document (borrowed), or NULL. */
const char *tkmd_attr(xmlNodePtr n, const char *ns, const char *name);
/* A URI reference's path, percent-decoded, without its fragment and
 * query; NULL when it has a scheme or is absolute (not a member). */
char *tkmd_href_path(const char *href);

#endif
