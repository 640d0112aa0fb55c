/*
 * xlsx.c - tk-doc xlsx: records into a workbook through libxlsxwriter in
 * its constant_memory mode, where each row goes to the sheet's file as it
 * is written and must come after the rows before it.
 *
 * The header row comes first, so the columns must be known before any
 * record is written.  With --columns they are, and the records are
 * written as they are read: one pass.  Otherwise the first pass reads
 * every record, learns each sheet's columns (the union of the keys in
 * first-seen order) and spills the record, as compact JSON, to an
 * unlinked temporary file; the second pass reads the spill back and
 * writes the rows.  Memory holds the columns and the sheets, never the
 * records, and standard input needs no second reading.  Column widths
 * follow the longest cell seen (capped); they and the autofilter's range
 * are given to libxlsxwriter at the end, as it writes them when the
 * workbook is closed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <xlsxwriter.h>

#include "tkdoc.h"

#define MAXROWS 1048576		/* a sheet's rows, the header among them */
#define MAXCOLS 16384
#define MAXSTR 32767		/* bytes in a cell */
#define MAXWIDTH 60.0		/* characters */
#define NONE "(none)"		/* the sheet of records without --sheet-by */

struct sheet {
	lxw_worksheet *ws;
	char *value;		/* its --sheet-by value, as text */
	struct au_map *cols;	/* key -> column */
	char **keys;
	double *width;
	size_t ncols, cap;
	uint32_t rows;		/* written or counted, the header among them */
};

struct book {
	struct tkdoc *d;
	lxw_workbook *wb;
	lxw_format *bold, *date, *datetime;
	struct au_map *byval;	/* --sheet-by value -> sheet */
	struct sheet *sheets;
	size_t nsheets;
	char **names;		/* the sheets' names, for uniqueness */
	FILE *spill;		/* NULL: one pass */
	struct au_buf line;
};

/* Characters in UTF-8 s of n bytes. */
static size_t
chars(const char *s, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		c += ((unsigned char)s[i] & 0xc0) != 0x80;
	return c;
}

/* A sheet name Excel takes, made from the n bytes at s: none of
 * []:*?/\ or control characters, no apostrophe at either end, 31
 * UTF-16 units at most (a character beyond the BMP counts two), not
 * empty, and unique among the others regardless of ASCII case. */
static char *
sheetname(struct book *b, const char *s, size_t n)
{
	struct au_buf o = AU_BUF_INIT;
	size_t i, units = 0, k, base;
	char *name;
	int dup, nth = 1;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		size_t len = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;

		if (units + (len == 4 ? 2 : 1) > 31 || i + len > n)
			break;
		units += len == 4 ? 2 : 1;
		if (c < 0x20 || strchr("[]:*?/\\", c) != NULL || (c == '\'' &&
		    (o.len == 0 || i + 1 == n || units == 31)))
			au_buf_addc(&o, '_');
		else
			au_buf_add(&o, s + i, len);
		i += len - 1;
	}
	if (o.len == 0)
		au_buf_adds(&o, "Sheet");
	base = o.len;
	for (;;) {
		for (dup = 0, k = 0; k < b->nsheets && !dup; k++)
			dup = strcasecmp(b->names[k], o.s) == 0;
		if (!dup)
			break;
		/* "name (2)": the base cut to leave room, on a character. */
		o.len = base;
		while (chars(o.s, o.len) > (size_t)(27 - (nth >= 9) - (nth >= 99)))
			do
				o.len--;
			while (o.len > 0 && ((unsigned char)o.s[o.len] & 0xc0)
			    == 0x80);
		au_buf_addf(&o, " (%d)", ++nth);
	}
	name = au_xstrdup(o.s);
	au_buf_free(&o);
	return name;
}

static void
header(struct book *b, struct sheet *sh)
{
	size_t c;

	for (c = 0; c < sh->ncols; c++)
		worksheet_write_string(sh->ws, 0, (lxw_col_t)c, sh->keys[c],
		    b->bold);
	worksheet_freeze_panes(sh->ws, 1, 0);
}

/* Column key of sheet sh, added if new: its index. */
static size_t
column(struct sheet *sh, const char *key, size_t len)
{
	long c = au_map_get(sh->cols, key, len);

	if (c >= 0)
		return (size_t)c;
	sh->keys = au_grow(sh->keys, &sh->cap, sh->ncols + 1,
	    sizeof *sh->keys);
	sh->width = au_xreallocarray(sh->width, sh->cap, sizeof *sh->width);
	/* The map keeps the key's copy, not the record's. */
	sh->keys[sh->ncols] = au_xstrndup(key, len);
	au_map_put(sh->cols, sh->keys[sh->ncols], len, (long)sh->ncols);
	/* The header's width, and room for the filter's button. */
	sh->width[sh->ncols] = (double)chars(key, len) + 3;
	return sh->ncols++;
}

/* The sheet of record v (borrowed): found, or made. */
static struct sheet *
sheet_of(struct book *b, jv v)
{
	struct au_buf key = AU_BUF_INIT;
	struct sheet *sh;
	jv f;
	long k;
	size_t c;

	if (b->d->sheet_by == NULL)
		au_buf_adds(&key, "Sheet1");
	else {
		f = jv_object_get(jv_copy(v), jv_string(b->d->sheet_by));
		if (jv_get_kind(f) == JV_KIND_STRING)
			au_buf_adds(&key, jv_string_value(f));
		else if (jv_get_kind(f) == JV_KIND_NULL ||
		    jv_get_kind(f) == JV_KIND_INVALID)
			au_buf_adds(&key, NONE);
		else
			au_json_dump(&key, f);
		jv_free(f);
	}
	k = au_map_get(b->byval, key.s, key.len);
	if (k >= 0) {
		au_buf_free(&key);
		return &b->sheets[k];
	}
	b->sheets = au_xreallocarray(b->sheets, b->nsheets + 1,
	    sizeof *b->sheets);
	b->names = au_xreallocarray(b->names, b->nsheets + 1,
	    sizeof *b->names);
	b->names[b->nsheets] = sheetname(b, key.s, key.len);
	sh = &b->sheets[b->nsheets];
	memset(sh, 0, sizeof *sh);
	/* The map keeps the sheet's copy of the value. */
	sh->value = key.s;
	au_map_put(b->byval, key.s, key.len, (long)b->nsheets);
	sh->ws = workbook_add_worksheet(b->wb, b->names[b->nsheets]);
	if (sh->ws == NULL)
		au_die(EX_SOFTWARE, "xlsx: cannot add sheet %s",
		    au_quote(b->names[b->nsheets]));
	b->nsheets++;
	sh->cols = au_map_new(16);
	sh->rows = 1;
	for (c = 0; c < b->d->ncolumns; c++)
		column(sh, b->d->columns[c], strlen(b->d->columns[c]));
	if (b->spill == NULL)
		header(b, sh);
	return sh;
}

/* Whether s is an RFC 3339 date ("2026-12-01"): its serial day number
 * into *serial. */
static int
isdate(const char *s, size_t n, double *serial)
{
	static const char form[] = "dddd-dd-dd";
	char buf[32];
	int64_t ms;
	size_t i;

	if (n != 10)
		return 0;
	for (i = 0; i < n; i++)
		if (form[i] == 'd' ? s[i] < '0' || s[i] > '9' : s[i] != form[i])
			return 0;
	snprintf(buf, sizeof buf, "%.10sT00:00:00Z", s);
	if (au_ts_parse(buf, &ms) != 0)
		return 0;
	*serial = (double)ms / 86400000.0 + 25569.0;
	return *serial >= 1.0;
}

/* Whether s is an RFC 3339 date-time with its offset: the serial number
 * of its UTC time into *serial. */
static int
isdatetime(const char *s, size_t n, double *serial)
{
	int64_t ms;

	if (n < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' &&
	    s[10] != 't') || s[13] != ':' || au_ts_parse(s, &ms) != 0)
		return 0;
	*serial = (double)ms / 86400000.0 + 25569.0;
	/* Excel's days begin with 1900-01-01 (serial 1). */
	return *serial >= 1.0;
}

/* Write value v (consumed) at row r, column c of sh. */
static void
cell(struct book *b, struct sheet *sh, uint32_t r, size_t c, jv v)
{
	lxw_col_t col = (lxw_col_t)c;
	struct au_buf t = AU_BUF_INIT;
	double serial, w;
	const char *s;
	size_t n;

	switch (jv_get_kind(v)) {
	case JV_KIND_NULL:
		w = 0;
		break;
	case JV_KIND_TRUE:
	case JV_KIND_FALSE:
		worksheet_write_boolean(sh->ws, r, col,
		    jv_get_kind(v) == JV_KIND_TRUE, NULL);
		w = 5;
		break;
	case JV_KIND_NUMBER:
		worksheet_write_number(sh->ws, r, col, jv_number_value(v),
		    NULL);
		au_buf_addf(&t, "%.15g", jv_number_value(v));
		w = (double)t.len;
		break;
	case JV_KIND_STRING:
		s = jv_string_value(v);
		n = (size_t)jv_string_length_bytes(jv_copy(v));
		if (isdatetime(s, n, &serial)) {
			worksheet_write_number(sh->ws, r, col, serial,
			    b->datetime);
			w = 19;
		} else if (isdate(s, n, &serial)) {
			worksheet_write_number(sh->ws, r, col, serial, b->date);
			w = 10;
		} else {
			/* Excel holds 32767 bytes a cell: the rest is cut, on
			 * a character. */
			if (n > MAXSTR) {
				for (n = MAXSTR; ((unsigned char)s[n] & 0xc0) ==
				    0x80; n--)
					;
				au_buf_add(&t, s, n);
				s = t.s;
			}
			worksheet_write_string(sh->ws, r, col, s, NULL);
			w = (double)chars(s, n);
		}
		break;
	default:
		/* Arrays and objects as their JSON text. */
		au_json_dump(&t, v);
		if (t.len > MAXSTR) {
			for (t.len = MAXSTR; ((unsigned char)t.s[t.len] & 0xc0)
			    == 0x80; t.len--)
				;
			t.s[t.len] = '\0';
		}
		worksheet_write_string(sh->ws, r, col, t.s, NULL);
		w = (double)chars(t.s, t.len);
		break;
	}
	if (w + 2 > sh->width[c])
		sh->width[c] = w + 2;
	au_buf_free(&t);
	jv_free(v);
}

/* Write record v (consumed) as the next row of its sheet. */
static void
row(struct book *b, jv v)
{
	struct sheet *sh = sheet_of(b, v);
	long c;

	jv_object_foreach(v, k, x) {
		c = au_map_get(sh->cols, jv_string_value(k),
		    (size_t)jv_string_length_bytes(jv_copy(k)));
		if (c >= 0)
			cell(b, sh, sh->rows, (size_t)c, x);
		else
			jv_free(x);
		jv_free(k);
	}
	sh->rows++;
	jv_free(v);
}

/* Pass one: learn the columns of v's sheet and spill v (consumed).
 * 0, or the reason v does not fit. */
static const char *
learn(struct book *b, jv v)
{
	struct sheet *sh = sheet_of(b, v);
	size_t fresh = 0;

	if (sh->rows >= MAXROWS) {
		jv_free(v);
		return "more rows than a sheet holds (1048576)";
	}
	jv_object_foreach(v, k, x) {
		fresh += au_map_get(sh->cols, jv_string_value(k),
		    (size_t)jv_string_length_bytes(jv_copy(k))) < 0;
		jv_free(k);
		jv_free(x);
	}
	if (sh->ncols + fresh > MAXCOLS) {
		jv_free(v);
		return "more columns than a sheet holds (16384)";
	}
	jv_object_foreach(v, k, x) {
		column(sh, jv_string_value(k),
		    (size_t)jv_string_length_bytes(jv_copy(k)));
		jv_free(k);
		jv_free(x);
	}
	sh->rows++;
	b->line.len = 0;
	au_json_dump(&b->line, v);
	au_buf_addc(&b->line, '\n');
	jv_free(v);
	if (fwrite(b->line.s, 1, b->line.len, b->spill) != b->line.len)
		au_die(EX_IOERR, "spill file:");
	return NULL;
}

/* An unlinked temporary file in $TMPDIR for the spill. */
static FILE *
spill_open(void)
{
	const char *tmp = getenv("TMPDIR");
	char *name = au_xasprintf("%s/tk-doc-spill.XXXXXX", tmp && *tmp ? tmp
	    : "/tmp");
	int fd = mkstemp(name);
	FILE *f;

	if (fd < 0)
		au_die(EX_CANTCREAT, "%s: cannot create:", au_esc(name));
	unlink(name);
	free(name);
	if ((f = fdopen(fd, "w+")) == NULL)
		au_die(EX_SOFTWARE, "fdopen:");
	return f;
}

int
tkdoc_xlsx(struct tkdoc *d)
{
	lxw_workbook_options o = { LXW_TRUE, NULL, LXW_TRUE };
	struct book b;
	struct au_in *in;
	struct au_rec rec;
	struct sheet *sh;
	const char *why;
	lxw_error e;
	size_t i, c;

	memset(&b, 0, sizeof b);
	b.d = d;
	if ((b.wb = workbook_new_opt(d->path, &o)) == NULL)
		au_die(EX_CANTCREAT, "%s: cannot create", au_esc(d->name));
	b.bold = workbook_add_format(b.wb);
	format_set_bold(b.bold);
	b.date = workbook_add_format(b.wb);
	format_set_num_format(b.date, "yyyy-mm-dd");
	b.datetime = workbook_add_format(b.wb);
	format_set_num_format(b.datetime, "yyyy-mm-dd hh:mm:ss");
	b.byval = au_map_new(16);
	if (d->columns == NULL)
		b.spill = spill_open();

	in = au_in_open(d->files, d->nfiles);
	while (au_in_next(in, &rec)) {
		if (b.spill == NULL) {
			sh = sheet_of(&b, rec.v);
			if (sh->rows >= MAXROWS) {
				au_in_reject(in, &rec, "more rows than a sheet "
				    "holds (1048576)");
				jv_free(rec.v);
			} else
				row(&b, rec.v);
		} else if ((why = learn(&b, rec.v)) != NULL)
			au_in_reject(in, &rec, "%s", why);
	}
	tkdoc_worse(d, au_in_status(in));
	au_in_close(in);

	if (b.spill != NULL) {
		if (fflush(b.spill) != 0 || fseek(b.spill, 0, SEEK_SET) != 0)
			au_die(EX_IOERR, "spill file:");
		for (i = 0; i < b.nsheets; i++) {
			header(&b, &b.sheets[i]);
			b.sheets[i].rows = 1;
		}
		in = au_in_fdopen(fileno(b.spill), "spill file");
		while (au_in_next(in, &rec))
			row(&b, rec.v);
		if (au_in_status(in) != 0)
			au_die(EX_IOERR, "spill file: cannot be read back");
		au_in_close(in);
		fclose(b.spill);
		b.spill = NULL;
	}
	if (b.nsheets == 0) {
		jv none = jv_object();

		sheet_of(&b, none);
		jv_free(none);
	}
	for (i = 0; i < b.nsheets; i++) {
		sh = &b.sheets[i];
		au_note("sheet %s: %lu row%s, %zu column%s",
		    au_quote(b.names[i]), (unsigned long)sh->rows - 1,
		    sh->rows == 2 ? "" : "s", sh->ncols, sh->ncols == 1 ? "" :
		    "s");
		for (c = 0; c < sh->ncols; c++)
			worksheet_set_column(sh->ws, (lxw_col_t)c,
			    (lxw_col_t)c, sh->width[c] > MAXWIDTH ? MAXWIDTH :
			    sh->width[c], NULL);
		if (sh->ncols > 0)
			worksheet_autofilter(sh->ws, 0, 0, sh->rows - 1,
			    (lxw_col_t)(sh->ncols - 1));
	}
	if ((e = workbook_close(b.wb)) != LXW_NO_ERROR)
		au_die(e == LXW_ERROR_CREATING_XLSX_FILE ? EX_CANTCREAT :
		    EX_IOERR, "%s: %s", au_esc(d->name), lxw_strerror(e));
	for (i = 0; i < b.nsheets; i++) {
		sh = &b.sheets[i];
		for (c = 0; c < sh->ncols; c++)
			free(sh->keys[c]);
		free(sh->keys);
		free(sh->width);
		au_map_free(sh->cols);
		free(b.names[i]);
		free(sh->value);
	}
	free(b.sheets);
	free(b.names);
	au_map_free(b.byval);
	au_buf_free(&b.line);
	return 0;
}
