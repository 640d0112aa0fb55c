/*
 * fuzz-csv.c - tk-md's CSV and TSV reader (cmd/tk-md/csv.c) on a file
 * that tk-md's detection would hand it (no NUL, UTF-8 but for a few
 * bytes, a byte order mark dropped).  The first byte sets --max-size
 * (64 bytes and up, so that the limit on cells is met), the rest is the
 * file.  A table written is a GFM table: a header, its delimiter row and
 * rows of as many cells, no more of them than the limit allows (a
 * pointer's worth of --max-size each, as for a sheet); valid UTF-8 when
 * the file is.
 */
#include "fuzz-tkmd.h"

/* The cells of a line of a table: '|' not escaped by a '\', less one;
 * 0 when the line is not a row. */
static size_t
cells(const char *s, size_t n)
{
	size_t i, k = 0;

	if (n < 4 || s[0] != '|' || s[n - 1] != '|')
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '|')
			k++;
		else if (s[i] == '\r')
			return 0;
	}
	return k - 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct au_buf md = AU_BUF_INIT;
	const char *s, *nl, *end;
	size_t max, head, cols = 0, lines = 0, n;
	int rc;

	if (size < 1)
		return 0;
	max = 64 + (size_t)data[0] * 64;
	s = (const char *)data + 1;
	n = size - 1;
	head = n < 65536 ? n : 65536;
	if (memchr(s, '\0', head) != NULL || au_utf8_valid(s, head) + 4 < head)
		return 0;
	if (n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
		s += 3;
		n -= 3;
	}
	rc = fuzz_tkmd(tkmd_csv, s, n, NULL, max, au_utf8_valid(s, n) == n ?
	    FUZZ_UTF8 : 0, 8, &md);
	for (s = md.s, end = md.s + md.len; rc == 0 && s < end; s = nl + 1) {
		if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
			abort();
		if ((n = cells(s, (size_t)(nl - s))) == 0 ||
		    (cols != 0 && n != cols))
			abort();
		cols = n;
		if (++lines == 2 && strncmp(s, "| --- |", 7) != 0)
			abort();
	}
	if (lines == 1 || (lines > 0 && cols * (lines - 1) > max /
	    sizeof(char *)))
		abort();
	au_buf_free(&md);
	return 0;
}
