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

#endif
