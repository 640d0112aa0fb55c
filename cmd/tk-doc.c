/*
 * tk-doc - write real office documents: an XLSX workbook from records, a
 * PPTX deck from slide records or Markdown, a DOCX document from
 * Markdown.  The writers live in cmd/tk-doc/ (xlsx.c over libxlsxwriter;
 * pptx.c and docx.c write OOXML through libxml2's xmlTextWriter into a
 * zip made by libarchive, ooxml.c).  This file reads the command line and
 * the input, and makes the output appear whole or not at all: the
 * document is written to a temporary file beside the output, synced and
 * renamed over it; for standard output, written to a temporary file and
 * then copied, since a zip is finished only at its end.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tk-doc/tkdoc.h"

enum { O_FROM = AU_LONG, O_SHEET_BY, O_COLUMNS };

static const struct au_opt opts[] = {
	{ 'o', "output", "FILE", "write the document to FILE (needed when "
	    "standard output is a terminal)", "FILE" },
	{ O_FROM, "from", "FORMAT", "pptx: the input is Markdown (md) or "
	    "slide records (records); default: records when it starts with "
	    "'{'", "md records" },
	{ O_SHEET_BY, "sheet-by", "FIELD", "xlsx: one sheet for each value "
	    "of FIELD", NULL },
	{ O_COLUMNS, "columns", "LIST", "xlsx: these columns (comma-"
	    "separated), in this order, in one pass", NULL },
	{ 0, NULL, NULL, NULL, NULL }
};

static const struct au_cmd cmd = {
	"tk-doc", "xlsx|pptx|docx [file ...]",
	"Write XLSX, PPTX and DOCX documents from records and Markdown.",
	opts, 0, "xlsx pptx docx"
};

void
tkdoc_worse(struct tkdoc *d, int rc)
{
	static const int rank[] = { 0, EX_NOINPUT, EX_DATAERR, EX_IOERR };

	d->status = au_worse(d->status, rc, rank, sizeof rank / sizeof rank[0]);
}

/* Copy the finished document to standard output. */
static void
copy_out(void)
{
	char buf[65536];
	const char *tmp = au_out_name();
	int fd = open(tmp, O_RDONLY | O_CLOEXEC);
	ssize_t r, w, off;

	if (fd < 0)
		au_die(EX_IOERR, "%s:", au_esc(tmp));
	while ((r = read(fd, buf, sizeof buf)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			au_die(EX_IOERR, "%s:", au_esc(tmp));
		for (off = 0; off < r; off += w)
			if ((w = write(1, buf + off, (size_t)(r - off))) < 0 &&
			    errno != EINTR)
				au_die(EX_IOERR, "<stdout>:");
			else if (w < 0)
				w = 0;
	}
	close(fd);
}

/* --columns: the names between commas, none empty. */
static char **
columns(const char *arg, size_t *n)
{
	char **v = NULL, *s = au_xstrdup(arg), *p, *comma;

	*n = 0;
	for (p = s;; p = comma + 1) {
		if ((comma = strchr(p, ',')) != NULL)
			*comma = '\0';
		if (*p == '\0')
			au_usage_die(&cmd, "--columns: an empty column name "
			    "in %s", au_quote(arg));
		v = au_xreallocarray(v, *n + 1, sizeof *v);
		v[(*n)++] = au_xstrdup(p);
		if (comma == NULL)
			break;
	}
	free(s);
	return v;
}

int
main(int argc, char **argv)
{
	static const char *const fmts[] = { "xlsx", "pptx", "docx", NULL };
	static int (*const writer[])(struct tkdoc *) = { tkdoc_xlsx,
	    tkdoc_pptx, tkdoc_docx };
	struct tkdoc d = { NULL, 0, NULL, NULL, TKDOC_AUTO, NULL, NULL, 0, 0 };
	const char *arg, *out = NULL;
	size_t i;
	int c, k, fd, rc;

	au_setprog(argv[0]);
	while ((c = au_getopt(&cmd, argc, argv, &arg)) != -1) {
		switch (c) {
		case 'o':
			out = arg;
			break;
		case O_FROM:
			if (strcmp(arg, "md") == 0)
				d.from = TKDOC_MD;
			else if (strcmp(arg, "records") == 0)
				d.from = TKDOC_RECORDS;
			else
				au_usage_die(&cmd, "--from: %s is neither md "
				    "nor records", au_quote(arg));
			break;
		case O_SHEET_BY:
			d.sheet_by = arg;
			break;
		case O_COLUMNS:
			d.columns = columns(arg, &d.ncolumns);
			break;
		}
	}
	argc -= au_optind;
	argv += au_optind;
	if (argc == 0)
		au_usage_die(&cmd, "no format");
	for (k = 0; fmts[k] && strcmp(fmts[k], argv[0]) != 0; k++)
		;
	if (fmts[k] == NULL)
		au_usage_die(&cmd, "unknown format %s", au_quote(argv[0]));
	if (k != 0 && (d.sheet_by != NULL || d.columns != NULL))
		au_usage_die(&cmd, "%s: --sheet-by and --columns are for xlsx",
		    fmts[k]);
	if (k != 1 && d.from != TKDOC_AUTO)
		au_usage_die(&cmd, "%s: --from is for pptx", fmts[k]);
	if (out == NULL && isatty(1))
		au_usage_die(&cmd, "standard output is a terminal: name a "
		    "file with -o");
	if (out != NULL && *out == '\0')
		au_usage_die(&cmd, "-o: an empty file name");
	d.files = argv + 1;
	d.nfiles = argc - 1;

	fd = au_xout_open(out != NULL ? out : "", 0666);
	close(fd);
	d.path = au_out_name();
	d.name = out != NULL ? out : "<stdout>";
	if ((rc = writer[k](&d)) != 0)
		return rc;
	if (out != NULL)
		au_xout_commit();
	else
		copy_out();
	for (i = 0; i < d.ncolumns; i++)
		free(d.columns[i]);
	free(d.columns);
	return d.status;
}
