/*
 * csv.c - CSV and TSV as one GFM table: the delimiter sniffed (a tab, a
 * comma or a semicolon: the one that splits every record into the same
 * number of fields), fields read as RFC 4180 says (quoted with '"', a
 * doubled quote inside, delimiters and line breaks inside quotes), CRLF or
 * LF line ends, the first record the header, short records padded (to
 * no more cells than --max-size allows a sheet).
 */
#include <string.h>

#include "tkmd.h"

/* How many records the sniffer reads. */
#define SNIFF 100

struct csvp {
	const char *p, *end;
	char delim;
};

/*
 * The next field into b (unquoted, not escaped): 0 when a delimiter ends
 * it, 1 when the end of a record does, 2 at the end of the input with no
 * field read.
 */
static int
field(struct csvp *c, struct au_buf *b)
{
	const char *p = c->p;

	b->len = 0;
	au_buf_add(b, "", 0);
	if (p >= c->end)
		return 2;
	if (*p == '"') {
		for (p++; p < c->end; p++) {
			if (*p == '"') {
				if (p + 1 < c->end && p[1] == '"')
					p++;
				else
					break;
			}
			au_buf_addc(b, *p);
		}
		if (p < c->end)
			p++;
	}
	for (; p < c->end && *p != c->delim && *p != '\n'; p++)
		if (*p != '\r' || (p + 1 < c->end && p[1] != '\n'))
			au_buf_addc(b, *p);
	c->p = p + (p < c->end);
	return p < c->end && *p == c->delim ? 0 : 1;
}

/* Fields in the next record, 0 at the end; a blank line has one empty. */
static size_t
record(struct csvp *c, struct au_buf *b)
{
	size_t n = 0;
	int rc;

	while ((rc = field(c, b)) == 0)
		n++;
	return rc == 2 ? n : n + 1;
}

int
tkmd_csv_sniff(const char *s, size_t n)
{
	static const char delims[] = { '\t', ',', ';' };
	struct au_buf b = AU_BUF_INIT;
	size_t i, k, want, got;
	int found = 0;

	if (n == 0 || strchr("#>*-|", s[0]) != NULL)
		return 0;
	for (i = 0; i < sizeof delims && !found; i++) {
		struct csvp c = { s, s + n, delims[i] };

		want = record(&c, &b);
		got = want;
		for (k = 1; k < SNIFF && want >= 2; k++) {
			while ((got = record(&c, &b)) == 1 && b.len == 0)
				;	/* blank lines */
			if (got != want)
				break;
		}
		if (want >= 2 && k >= 2 && (got == want || got == 0))
			found = delims[i];
	}
	au_buf_free(&b);
	return found;
}

int
tkmd_csv(struct tkmd *d)
{
	struct csvp c = { (const char *)d->data, (const char *)d->data + d->len,
	    (char)tkmd_csv_sniff((const char *)d->data, d->len) };
	struct au_buf b = AU_BUF_INIT, arena = AU_BUF_INIT;
	size_t *off = NULL, cap = 0, nf = 0, rows = 0, cols = 0, i, j, f;
	size_t *start = NULL, scap = 0;
	char **cells;
	int rc;

	if (c.delim == 0)
		return tkmd_fail(d, "not CSV: records of unequal fields");
	for (;;) {
		f = 0;
		while ((rc = field(&c, &b)) != 2) {
			off = au_grow(off, &cap, nf + 1, sizeof *off);
			off[nf++] = arena.len;
			tkmd_esc_inline(&arena, b.s, b.len);
			au_buf_addc(&arena, '\0');
			f++;
			if (rc == 1)
				break;
		}
		if (f == 0)
			break;
		if (f == 1 && b.len == 0) {	/* a blank line */
			nf--;
			continue;
		}
		start = au_grow(start, &scap, rows + 2, sizeof *start);
		start[rows++] = nf - f;
		if (f > cols)
			cols = f;
	}
	start = au_grow(start, &scap, rows + 1, sizeof *start);
	start[rows] = nf;
	/* Short records are padded: one long record among many short ones
	 * makes a table far larger than the file, held as a sheet is. */
	rc = rows > 0 && cols > d->max_size / sizeof *cells / rows ?
	    tkmd_fail(d, "a table of %zu by %zu cells, more than --max-size "
	    "allows", rows, cols) : 0;
	if (rc == 0) {
		cells = au_xcalloc(rows * cols + 1, sizeof *cells);
		for (i = 0; i < rows; i++)
			for (j = 0; j < start[i + 1] - start[i]; j++)
				cells[i * cols + j] = arena.s +
				    off[start[i] + j];
		tkmd_table(d->out, cells, rows, cols);
		d->meta = jv_object_set(d->meta, jv_string("rows"),
		    jv_number(rows > 0 ? (double)rows - 1 : 0));
		free(cells);
	}
	free(start);
	free(off);
	au_buf_free(&arena);
	au_buf_free(&b);
	return rc;
}
