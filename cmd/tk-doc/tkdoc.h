/*
 * tkdoc.h - what tk-doc's writers share: the options, the input, and
 * for PPTX and DOCX an OOXML package (a zip of XML parts) being written.
 *
 * tk-doc.c reads the command line and hands one struct tkdoc to the
 * writer of the format asked for; the writer reads the input, writes the
 * whole document to d->path (a temporary file that tk-doc.c renames or
 * copies at the end) and returns 0 or the exit code of a failure that
 * stops it.  Bad records and bad Markdown files are reported as they come
 * and only raise d->status: the rest still goes into the document.
 */
#ifndef TKDOC_H
#define TKDOC_H

#include <libxml/xmlwriter.h>

struct cmark_node;
struct cmark_parser;

#include "agentutils.h"

enum { TKDOC_AUTO, TKDOC_MD, TKDOC_RECORDS };

struct tkdoc {
	char *const *files;	/* the operands; none: standard input */
	int nfiles;
	const char *path;	/* where to write the document */
	const char *name;	/* the output's name in messages */
	int from;		/* --from, or TKDOC_AUTO */
	const char *sheet_by;	/* --sheet-by FIELD, or NULL */
	char **columns;		/* --columns, or NULL */
	size_t ncolumns;
	int status;		/* 0, or 65/66/74 met in the input */
};

/* Keep the worse of d->status and rc. */
void tkdoc_worse(struct tkdoc *d, int rc);

/* One input file read whole: its name for messages, its bytes (NUL-
 * terminated) and the directory that relative image paths in it start
 * from ("." for standard input). */
struct tkdoc_src {
	const char *name;
	char *buf;
	size_t len;
	char *dir;
};

/* Read each input whole, in order, into *srcs: their number.  A file
 * that cannot be read is reported (66 or 74 in d->status) and left out. */
size_t tkdoc_read(struct tkdoc *d, struct tkdoc_src **srcs);
void tkdoc_src_free(struct tkdoc_src *srcs, size_t n);
/* Whether s holds records: --from, or else whether its first byte that
 * is not white space is '{'. */
int tkdoc_is_records(const struct tkdoc *d, const struct tkdoc_src *s);
/* The records of s one by one: fn(rec, file, line, arg) for each line
 * that is a JSON object (rec consumed); the others are reported and
 * raise d->status to 65. */
void tkdoc_records(struct tkdoc *d, const struct tkdoc_src *s,
    void (*fn)(jv, const char *, long, void *), void *arg);

/* Markdown parsed by cmark-gfm with the GFM tables, strikethrough and
 * autolinks: the document node; tkdoc_md_free frees it and its parser. */
struct cmark_node *tkdoc_md_parse(const char *buf, size_t len,
    struct cmark_parser **parser);
void tkdoc_md_free(struct cmark_parser *parser, struct cmark_node *doc);
/* The text of node's inlines appended to b: emphasis and links as their
 * text, code spans as they are, line breaks as spaces. */
void tkdoc_md_text(struct cmark_node *node, struct au_buf *b);
/* The type name of node: "paragraph", "table", "table_cell", ... */
const char *tkdoc_md_type(struct cmark_node *node);

/* The whole of regular file path into *p (malloc'd), its size in *n:
 * 0, or with au_errmsg() set 66 cannot be opened, 65 not a regular file,
 * 74 read error. */
int tkdoc_load(const char *path, unsigned char **p, size_t *n);

/* The pixel size of a PNG or JPEG image in the n bytes at p: its content
 * type ("image/png", "image/jpeg") and extension, or NULL if it is
 * neither or its header is broken. */
const char *tkdoc_image(const unsigned char *p, size_t n, long *w, long *h,
    const char **ext);

/* ---- an OOXML package (ooxml.c) ---------------------------------------- */

struct tkdoc_zip;
/* Start a zip at path: NULL with au_errmsg() set (73). */
struct tkdoc_zip *tkdoc_zip_open(const char *path);
/* Add member name with the n bytes at p: 0 or 74. */
int tkdoc_zip_add(struct tkdoc_zip *z, const char *name, const void *p,
    size_t n);
/* Finish and close the zip (freed either way): 0 or 74. */
int tkdoc_zip_close(struct tkdoc_zip *z);

/* An XML part being written: tkdoc_part_new starts it (the XML
 * declaration written), tkdoc_part_add ends it and adds it to z as name,
 * and frees it. */
struct tkdoc_part {
	xmlBufferPtr buf;
	xmlTextWriterPtr w;
};
void tkdoc_part_new(struct tkdoc_part *p);
int tkdoc_part_add(struct tkdoc_part *p, struct tkdoc_zip *z,
    const char *name);

/* Element helpers on w: start an element (with a prefix "p:sp" as one
 * name), write attributes, text with the characters XML cannot carry
 * dropped, and end it. */
void tkdoc_start(xmlTextWriterPtr w, const char *name);
void tkdoc_attr(xmlTextWriterPtr w, const char *name, const char *value);
void tkdoc_attrf(xmlTextWriterPtr w, const char *name, const char *fmt,
    ...) AU_PRINTF(3, 4);
void tkdoc_text(xmlTextWriterPtr w, const char *s, size_t n);
void tkdoc_end(xmlTextWriterPtr w);
/* <name attr="value"/> in one call (attr NULL: none). */
void tkdoc_empty(xmlTextWriterPtr w, const char *name, const char *attr,
    const char *value);

/* <name><a:off x y/><a:ext cx cy/></name>: a shape's place. */
void tkdoc_xfrm(xmlTextWriterPtr w, const char *name, long x, long y,
    long cx, long cy);
/* A picture's fill and shape, in namespace prefix ns ("p" in slides,
 * "pic" in documents): the image of relationship rid stretched over the
 * rectangle at x, y of cx by cy EMU. */
void tkdoc_blip(xmlTextWriterPtr w, const char *ns, const char *rid, long x,
    long y, long cx, long cy);

/* The relationships of one part, collected as they are made and written
 * as its .rels part at the end. */
struct tkdoc_rels {
	struct au_buf xml;
	int n;
};
/* Add a relationship of type (the last component of its URI under
 * officeDocument/2006/relationships, or a full URI) to target; its id
 * "rIdN" into id.  external: TargetMode="External". */
void tkdoc_rel(struct tkdoc_rels *r, const char *type, const char *target,
    int external, char id[16]);
int tkdoc_rels_add(struct tkdoc_rels *r, struct tkdoc_zip *z,
    const char *name);

/* The writers. */
int tkdoc_xlsx(struct tkdoc *d);
int tkdoc_pptx(struct tkdoc *d);
int tkdoc_docx(struct tkdoc *d);

#endif
