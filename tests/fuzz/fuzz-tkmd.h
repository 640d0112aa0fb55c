/*
 * fuzz-tkmd.h - what the targets of tk-md's readers share: a document set
 * up as tk-md's convert() sets it up, converted into memory by one
 * converter, and the converters' contract (cmd/tk-md/tkmd.h) checked:
 * 0 and Markdown, or -1 and why said in one line of printable text; the
 * Markdown valid UTF-8 when asked, and no larger than the limits allow.
 * The packages (fuzz-ooxml, fuzz-odf) are zips made of the input's
 * members, so that the fuzzer reaches the XML readers rather than dying
 * in the zip layer, or the input itself as a zip.
 */
#ifndef FUZZ_TKMD_H
#define FUZZ_TKMD_H

#include <archive.h>
#include <archive_entry.h>
#include <libxml/parserInternals.h>

#include "fuzz.h"
#include "tk-md/tkmd.h"

/* Nothing is ever fetched for a document, as in tk-md. */
static xmlParserInputPtr
fuzz_noload(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
	(void)url, (void)id, (void)ctxt;
	return NULL;
}

/* How fuzz_tkmd converts: the input is a zip (opened first, as tk-md's
 * detection does), the Markdown must be valid UTF-8. */
enum { FUZZ_ZIP = 1, FUZZ_UTF8 = 2 };

/*
 * Convert the size bytes at data with conv, --max-size max and main part
 * part (OOXML; NULL for the others) onto md, as flags say, and check the
 * contract; returns what conv did (-1 too for a zip that does not open).
 * Markdown holds no more than grow bytes for each byte of input and 4
 * for each of max (a table the limit allows: "|  " per cell).
 */
static __attribute__((unused)) int
fuzz_tkmd(int (*conv)(struct tkmd *), const void *data, size_t size,
    const char *part, size_t max, unsigned flags, size_t grow,
    struct au_buf *md)
{
	static int init;
	struct tkmd d;
	char *out = NULL;
	size_t outlen = 0, i;
	int rc;

	if (!init) {
		xmlInitParser();
		xmlSetExternalEntityLoader(fuzz_noload);
		init = 1;
	}
	memset(&d, 0, sizeof d);
	d.path = "fuzz";
	d.data = data;
	d.len = size;
	d.part = part;
	d.meta = jv_object();
	d.max_size = max;
	if ((d.out = open_memstream(&out, &outlen)) == NULL)
		abort();
	rc = (flags & FUZZ_ZIP) && tkmd_zip_open(&d) != 0 ? -1 : conv(&d);
	if (fclose(d.out) != 0)
		abort();
	if (rc != 0 && rc != -1)
		abort();
	if (rc == -1 && (d.why[0] == '\0' || strlen(d.why) >= sizeof d.why))
		abort();
	for (i = 0; rc == -1 && d.why[i] != '\0'; i++)
		if ((unsigned char)d.why[i] < ' ' || d.why[i] == 0x7f)
			abort();
	if (rc == 0 && jv_get_kind(d.meta) != JV_KIND_OBJECT)
		abort();
	if (rc == 0 && (flags & FUZZ_UTF8) && au_utf8_valid(out, outlen) != outlen)
		abort();
	if (outlen > grow * size + 4 * max)
		abort();
	md->len = 0;
	au_buf_add(md, out, outlen);
	free(out);
	jv_free(d.meta);
	tkmd_zip_close(&d);
	return rc;
}

/* libarchive's writer appends to an au_buf. */
static ssize_t
fuzz_zip_write(struct archive *a, void *arg, const void *buf, size_t n)
{
	(void)a;
	au_buf_add(arg, buf, n);
	return (ssize_t)n;
}

/*
 * The members of the input into a zip on zip, deflated or stored: the
 * input is members one after the other, each its name, a newline and its
 * bytes, ended by a NUL (XML has none); a member without a name or a
 * newline is left out.
 */
static __attribute__((unused)) void
fuzz_zip(const uint8_t *data, size_t size, int deflate, struct au_buf *zip)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	const char *s, *name, *body;
	size_t n, nl;
	char *path;

	zip->len = 0;
	/* Not padded to a block: the end of the central directory ends a
	 * zip. */
	if (archive_write_set_format_zip(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    archive_write_set_options(a, deflate ? "zip:compression=deflate" :
	    "zip:compression=store") != ARCHIVE_OK ||
	    archive_write_open(a, zip, NULL, fuzz_zip_write, NULL) !=
	    ARCHIVE_OK)
		abort();
	while (size > 0) {
		fuzz_split(data, size, &s, &n, &body, &size);
		data = (const uint8_t *)body;
		name = s;
		body = memchr(s, '\n', n);
		if (body == NULL || body == name)
			continue;
		nl = (size_t)(body - name);
		body++;
		n -= nl + 1;
		path = au_xstrndup(name, nl);
		archive_entry_clear(e);
		archive_entry_set_pathname(e, path);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, (la_int64_t)n);
		free(path);
		if (archive_write_header(a, e) != ARCHIVE_OK ||
		    (n > 0 && archive_write_data(a, body, n) != (la_ssize_t)n))
			abort();
	}
	if (archive_write_close(a) != ARCHIVE_OK)
		abort();
	archive_entry_free(e);
	archive_write_free(a);
}

#endif
