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

/* The writers. */
int tkdoc_xlsx(struct tkdoc *d);

#endif
