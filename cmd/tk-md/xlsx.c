/*
 * xlsx.c - XLSX: one "## sheet" section and one GFM table per sheet, in
 * the workbook's order.  Cells show what a spreadsheet shows: shared and
 * inline strings, numbers through their number formats (built-in and
 * custom: decimals, thousands, percent, scientific, literal text, and
 * dates and times in the 1900 or 1904 date system), TRUE and FALSE,
 * errors, the cached values of formulas.  A merged range keeps its value
 * in its first cell.  Empty rows and columns around the data are
 * trimmed.  Sheets and shared strings are streamed through xscan.c's
 * scanner, never built as trees nor parsed by SAX2, which keeps large
 * sheets fast.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tkmd.h"

/*
 * A sheet is kept as its rows, each a run of cells in the arena: a cell
 * is its column and a word saying what it holds, either a shared string
 * (CELL_SST and its index) or its own text (its length, CELL_FULL when
 * it is not empty, then the bytes).  Texts are stored as the table shows
 * them, '|' and line ends escaped, so that writing the table is copying;
 * no cell is allocated and no grid of the sheet's size is built.
 */
#define CELL_SST 0x80000000u
#define CELL_FULL 0x40000000u
#define CELL_LEN 0x3FFFFFFFu

struct srow {
	uint32_t row, ncells;
	size_t off;		/* of its first cell in the arena */
};

/* A shared string: its table text in the book's sstbuf. */
struct sstr {
	size_t off;
	uint32_t len;
	int full;		/* not empty before the table's escaping */
};

/* A cell of a row being written out. */
struct ccell {
	uint32_t col;
	size_t seq;		/* the order read, the later winning */
	const char *s;
	uint32_t len;
	int full;
};

struct book {
	struct tkmd *d;
	int date1904;
	struct sstr *sst;	/* shared strings */
	size_t nsst, capsst;
	struct au_buf sstbuf;
	int *xf;		/* number format id per cell style */
	size_t nxf;
	int *fmtid;		/* custom number formats: ids and codes */
	char **fmtcode;
	size_t nfmt;
	const char **code;	/* per cell style: its format code */
	/* the scan under way */
	int depth;		/* in phonetic runs (rPh) */
	/* a sheet */
	struct srow *rows;
	size_t nrows, caprows;
	struct au_buf arena;
	uint32_t row, col;	/* of the cell being read */
	uint32_t r0, c0, r1, c1;	/* bounds of the cells not empty */
	size_t lastcell;	/* where the last cell's column is */
	int unordered;		/* rows or cells out of order, or twice */
	int type, style;
	uint32_t *merge;	/* ranges: r0 c0 r1 c1 each */
	size_t nmerge, capmerge;
	int fail;
};

/* Cell types. */
enum { T_NUM, T_SST, T_INLINE, T_STR, T_BOOL, T_ERR, T_DATE };

/* The value of attribute name (of nl bytes) among a, or NULL with *n 0. */
static const char *
attr(const struct tkmd_xattr *a, int na, const char *name, size_t nl,
    size_t *n)
{
	int i;

	for (i = 0; i < na; i++)
		if (a[i].nlen == nl && memcmp(a[i].name, name, nl) == 0) {
			*n = a[i].vlen;
			return a[i].val;
		}
	*n = 0;
	return NULL;
}

/* Whether the n bytes at s are the name lit. */
#define IS(s, n, lit) ((n) == sizeof(lit) - 1 && memcmp(s, lit, n) == 0)

static long
num(const char *s, size_t n)
{
	long v = 0;
	size_t i;

	for (i = 0; i < n && (unsigned)(s[i] - '0') <= 9 && v < 100000000; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/* "BC12" as column 54 and row 11 (from 0); 0, or -1 when not a
 * reference. */
static int
ref(const char *s, size_t n, uint32_t *row, uint32_t *col)
{
	size_t i = 0;
	uint32_t c = 0, r = 0;

	for (; i < n && s[i] == '$'; i++)
		;
	for (; i < n && (unsigned)(s[i] - 'A') < 26 && c < 20000; i++)
		c = c * 26 + (uint32_t)(s[i] - 'A' + 1);
	for (; i < n && s[i] == '$'; i++)
		;
	for (; i < n && (unsigned)(s[i] - '0') <= 9 && r < 2000000; i++)
		r = r * 10 + (uint32_t)(s[i] - '0');
	if (c == 0 || r == 0 || i != n)
		return -1;
	*row = r - 1;
	*col = c - 1;
	return 0;
}

/* The bytes of b from start on as a table cell shows them: '|' escaped,
 * a line break as <br>, a carriage return dropped (as tkmd_table does). */
static void
tabesc(struct au_buf *b, size_t start)
{
	static const char tab[256] = { ['|'] = 1, ['\n'] = 1, ['\r'] = 1 };
	struct au_buf t = AU_BUF_INIT;
	const char *p, *end;
	size_t i, j;

	/* Nothing to look at, and perhaps no buffer yet. */
	if (start >= b->len)
		return;
	p = b->s + start;
	end = b->s + b->len;
	while (p < end && !tab[(unsigned char)*p])
		p++;
	if (p == end)
		return;
	i = (size_t)(p - b->s);
	au_buf_add(&t, b->s + i, b->len - i);
	b->len = i;
	for (i = 0; i < t.len; i = j + 1) {
		j = i + strcspn(t.s + i, "|\n\r");
		au_buf_add(b, t.s + i, j - i);
		if (j == t.len)
			break;
		if (t.s[j] == '|')
			au_buf_add(b, "\\|", 2);
		else if (t.s[j] == '\n')
			au_buf_add(b, "<br>", 4);
	}
	au_buf_free(&t);
}

/* Shared strings: the text of each si, less phonetic runs (rPh). */
static void
sst_start(struct tkmd_xscan *x, const char *name, size_t n,
    const struct tkmd_xattr *a, int na)
{
	struct book *b = x->arg;

	(void)a, (void)na;
	if (IS(name, n, "si")) {
		x->text.len = 0;
		au_buf_add(&x->text, "", 0);
	} else if (IS(name, n, "rPh")) {
		b->depth++;
	} else if (IS(name, n, "t") && b->depth == 0) {
		x->collect = 1;
	}
}

static void
sst_end(struct tkmd_xscan *x, const char *name, size_t n)
{
	struct book *b = x->arg;
	struct sstr *e;

	if (IS(name, n, "t")) {
		x->collect = 0;
	} else if (IS(name, n, "rPh")) {
		b->depth--;
	} else if (IS(name, n, "si")) {
		b->sst = au_grow(b->sst, &b->capsst, b->nsst + 1,
		    sizeof *b->sst);
		e = &b->sst[b->nsst++];
		e->off = b->sstbuf.len;
		e->full = x->text.len > 0;
		tkmd_esc_inline(&b->sstbuf, x->text.s, x->text.len);
		tabesc(&b->sstbuf, e->off);
		if (b->sstbuf.len - e->off > CELL_LEN || b->nsst > CELL_LEN)
			b->fail = 1;
		e->len = (uint32_t)(b->sstbuf.len - e->off);
	}
}

/* ---- number formats --------------------------------------------------- */

/* The built-in formats that differ from General; 14 and 22, the short
 * date of the locale, are written the ISO 8601 way. */
static const char *
builtin(int id)
{
	switch (id) {
	case 1: return "0";
	case 2: return "0.00";
	case 3: return "#,##0";
	case 4: return "#,##0.00";
	case 9: return "0%";
	case 10: return "0.00%";
	case 11: return "0.00E+00";
	case 14: return "yyyy-mm-dd";
	case 15: return "d-mmm-yy";
	case 16: return "d-mmm";
	case 17: return "mmm-yy";
	case 18: return "h:mm AM/PM";
	case 19: return "h:mm:ss AM/PM";
	case 20: return "h:mm";
	case 21: return "h:mm:ss";
	case 22: return "yyyy-mm-dd h:mm";
	case 37: return "#,##0 ;(#,##0)";
	case 38: return "#,##0 ;[Red](#,##0)";
	case 39: return "#,##0.00;(#,##0.00)";
	case 40: return "#,##0.00;[Red](#,##0.00)";
	case 45: return "mm:ss";
	case 46: return "[h]:mm:ss";
	case 47: return "mm:ss.0";
	case 48: return "##0.0E+0";
	default: return NULL;
	}
}

/* The format code of each cell style, looked up once rather than for
 * each cell: NULL for General. */
static void
fmtcodes(struct book *b)
{
	const char *code;
	size_t i, j;

	b->code = au_xreallocarray(NULL, b->nxf + 1, sizeof *b->code);
	for (i = 0; i < b->nxf; i++) {
		for (j = 0; j < b->nfmt && b->fmtid[j] != b->xf[i]; j++)
			;
		code = j < b->nfmt ? b->fmtcode[j] : builtin(b->xf[i]);
		b->code[i] = code != NULL && strcasecmp(code, "General") != 0 ?
		    code : NULL;
	}
}

static const char *
fmtcode(const struct book *b, int style)
{
	return style >= 0 && (size_t)style < b->nxf ? b->code[style] : NULL;
}

/* General: integers as they are, others with 15 significant digits. */
static void
general(struct au_buf *o, double v)
{
	char buf[40];

	if (v == floor(v) && fabs(v) < 1e15)
		snprintf(buf, sizeof buf, "%.0f", v);
	else
		snprintf(buf, sizeof buf, "%.15G", v);
	au_buf_adds(o, buf);
}

/* The section of code (sections split by ';' outside quotes) that applies
 * to v: into sec, its length returned; *neg set when v's sign must be
 * written (a single section, or a second one for negatives absent). */
static size_t
section(const char *code, double v, const char **sec, int *neg)
{
	const char *s[4], *p;
	size_t len[4], n = 0;
	int q = 0;

	s[0] = code;
	for (p = code;; p++) {
		if (*p == '"')
			q = !q;
		else if (*p == '\\' && p[1] != '\0')
			p++;
		else if ((*p == ';' && !q) || *p == '\0') {
			len[n] = (size_t)(p - s[n]);
			if (*p == '\0' || n == 3)
				break;
			s[++n] = p + 1;
		}
	}
	n++;
	*neg = v < 0 && n < 2;
	if (v < 0 && n >= 2) {
		*sec = s[1];
		return len[1];
	}
	if (v == 0 && n >= 3) {
		*sec = s[2];
		return len[2];
	}
	*sec = s[0];
	return len[0];
}

/* Whether the section is a date or a time. */
static int
isdate(const char *s, size_t n)
{
	size_t i;
	int q = 0;

	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '"')
			q = !q;
		else if (q)
			continue;
		else if (c == '\\' || c == '_' || c == '*')
			i++;
		else if (c == '[')
			while (i < n && s[i] != ']' && !strchr("hHmMsS", s[i]))
				i++;
		else if (strchr("yYdDhHsS", c) != NULL)
			return 1;
		else if ((c == 'm' || c == 'M') && !(i > 0 &&
		    strchr("0#?", s[i - 1]) != NULL))
			return 1;
	}
	return 0;
}

static const char *const months[] = { "January", "February", "March",
	"April", "May", "June", "July", "August", "September", "October",
	"November", "December" };
static const char *const days[] = { "Sunday", "Monday", "Tuesday",
	"Wednesday", "Thursday", "Friday", "Saturday" };

/* Days since 1970-01-01 as a civil date (Howard Hinnant's algorithm). */
static void
civil(long z, long *y, int *m, int *d)
{
	long era, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	yoe = z - era * 146097;
	yoe = (yoe - yoe / 1460 + yoe / 36524 - yoe / 146096) / 365;
	doy = z - era * 146097 - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* Count of c repeated at s (case-insensitive), up to n. */
static size_t
run(const char *s, size_t n, char c)
{
	size_t i = 0;

	while (i < n && (s[i] | 0x20) == c)
		i++;
	return i;
}

/* v in at least width digits onto o: printf costs more than the rest of
 * a date together. */
static void
digits(struct au_buf *o, long v, int width)
{
	char buf[24], *p = buf + sizeof buf;

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0 && p > buf);
	while (p > buf && buf + sizeof buf - p < width)
		*--p = '0';
	au_buf_add(o, p, (size_t)(buf + sizeof buf - p));
}

/* Whether s (n bytes left) starts with the marker AM/PM or A/P. */
static int
ampmat(const char *s, size_t n, size_t *len)
{
	if ((s[0] | 0x20) != 'a')
		return 0;
	*len = n >= 5 && strncasecmp(s, "AM/PM", 5) == 0 ? 5 :
	    n >= 3 && strncasecmp(s, "A/P", 3) == 0 ? 3 : 0;
	return *len > 0;
}

/* A serial date as the section s says, onto o. */
static void
datefmt(const struct book *b, struct au_buf *o, double v, const char *s,
    size_t n)
{
	long serial = (long)floor(v), y, secs, ms;
	int mo, d, wd, h, mi, se, ampm = 0, hour = 0;
	size_t i, k;
	double frac = v - floor(v);

	ms = lround(frac * 86400000.0);
	secs = ms / 1000;
	ms %= 1000;
	if (secs >= 86400) {
		serial++;
		secs -= 86400;
	}
	if (b->date1904)
		serial += 1462;
	if (!b->date1904 && serial == 60) {
		y = 1900, mo = 2, d = 29, wd = 3;
	} else {
		if (!b->date1904 && serial < 60)
			serial++;
		civil(serial - 25569, &y, &mo, &d);
		wd = (int)(((serial - 25569) % 7 + 11) % 7);
	}
	h = (int)(secs / 3600);
	mi = (int)(secs / 60 % 60);
	se = (int)(secs % 60);
	for (i = 0; i < n && !ampm; i++)
		ampm = ampmat(s + i, n - i, &k);
	for (i = 0; i < n; i += k) {
		char c = (char)(s[i] | 0x20);

		k = 1;
		if (s[i] == '"') {
			for (k = 1; i + k < n && s[i + k] != '"'; k++)
				au_buf_addc(o, s[i + k]);
			k++;
			continue;
		}
		if (s[i] == '\\' || s[i] == '_' || s[i] == '*') {
			if (i + 1 < n && s[i] == '\\')
				au_buf_addc(o, s[i + 1]);
			else if (i + 1 < n && s[i] == '_')
				au_buf_addc(o, ' ');
			k = 2;
			continue;
		}
		if (s[i] == '[') {
			for (k = 1; i + k < n && s[i + k] != ']'; k++)
				;
			k++;
			c = (char)(s[i + 1] | 0x20);
			if (strchr("hms", c) == NULL)
				continue;
			if (c == 'h')
				au_buf_addint(o, (int64_t)(v * 24));
			else if (c == 'm')
				au_buf_addint(o, (int64_t)(v * 1440));
			else
				au_buf_addint(o, (int64_t)(v * 86400));
			continue;
		}
		if (ampmat(s + i, n - i, &k)) {
			au_buf_adds(o, k == 5 ? (h < 12 ? "AM" : "PM") :
			    h < 12 ? "A" : "P");
			continue;
		}
		switch (c) {
		case 'y':
			k = run(s + i, n - i, 'y');
			if (k <= 2)
				digits(o, y % 100, 2);
			else
				digits(o, y, 4);
			break;
		case 'd':
			k = run(s + i, n - i, 'd');
			if (k <= 2)
				digits(o, d, (int)k);
			else if (k == 3)
				au_buf_addf(o, "%.3s", days[wd]);
			else
				au_buf_adds(o, days[wd]);
			break;
		case 'h':
			k = run(s + i, n - i, 'h');
			hour = 1;
			digits(o, ampm ? (h % 12 == 0 ? 12 : h % 12) : h,
			    k == 1 ? 1 : 2);
			break;
		case 's':
			k = run(s + i, n - i, 's');
			digits(o, se, k == 1 ? 1 : 2);
			if (i + k < n && s[i + k] == '.') {
				size_t z = run(s + i + k + 1, n - i - k - 1,
				    '0');
				char f[8];

				snprintf(f, sizeof f, "%03ld", ms);
				au_buf_addc(o, '.');
				au_buf_add(o, f, z < 3 ? z : 3);
				k += 1 + z;
			}
			break;
		case 'm': {
			/* Minutes after an hour or before seconds. */
			size_t j = i + run(s + i, n - i, 'm');
			int minute;

			k = j - i;
			while (j < n && strchr(":. ", s[j]) != NULL && s[j])
				j++;
			minute = (hour && k <= 2) || (k <= 2 && j < n &&
			    (s[j] | 0x20) == 's');
			if (minute)
				digits(o, mi, k == 1 ? 1 : 2);
			else if (k <= 2)
				digits(o, mo, (int)k);
			else if (k == 3)
				au_buf_addf(o, "%.3s", months[mo - 1]);
			else if (k == 5)
				au_buf_addc(o, months[mo - 1][0]);
			else
				au_buf_adds(o, months[mo - 1]);
			hour = 0;
			break;
		}
		default:
			au_buf_addc(o, s[i]);
		}
	}
}

/* A number as the (non-date) section s says, onto o. */
static void
numfmt(struct au_buf *o, double v, const char *s, size_t n, int neg)
{
	struct au_buf pre = AU_BUF_INIT, post = AU_BUF_INIT, *lit = &pre;
	size_t i, k, zeros = 0, dec = 0, decz = 0, expz = 0;
	int point = 0, comma = 0, pct = 0, sci = 0, digits = 0;
	char buf[400];

	au_buf_add(&pre, "", 0);
	au_buf_add(&post, "", 0);
	for (i = 0; i < n; i += k) {
		char c = s[i];

		k = 1;
		if (c == '"') {
			for (k = 1; i + k < n && s[i + k] != '"'; k++)
				au_buf_addc(lit, s[i + k]);
			k++;
		} else if (c == '\\' && i + 1 < n) {
			au_buf_addc(lit, s[i + 1]);
			k = 2;
		} else if (c == '_' && i + 1 < n) {
			au_buf_addc(lit, ' ');
			k = 2;
		} else if (c == '*' && i + 1 < n) {
			k = 2;
		} else if (c == '[') {
			while (i + k < n && s[i + k] != ']')
				k++;
			k++;
		} else if (sci && strchr("0#?", c) != NULL) {
			expz += c == '0';
		} else if (strchr("0#?", c) != NULL) {
			digits = 1;
			lit = &post;
			if (point) {
				dec++;
				decz = c == '0' ? dec : decz;
			} else {
				zeros += c == '0';
			}
		} else if (c == '.' && !point &&
		    (i + 1 < n && strchr("0#?", s[i + 1]) != NULL)) {
			point = 1;
			digits = 1;
			lit = &post;
		} else if (c == ',' && digits && !point) {
			comma = 1;
		} else if ((c == 'E' || c == 'e') && digits && i + 1 < n &&
		    (s[i + 1] == '+' || s[i + 1] == '-')) {
			sci = s[i + 1] == '+' ? 2 : 1;
			k = 2;
		} else if (c == '%') {
			pct = 1;
			au_buf_addc(lit, '%');
		} else if (c == '@' || c == 'G' || c == 'g') {
			if (i + 7 <= n &&
			    strncasecmp(s + i, "General", 7) == 0) {
				general(&pre, fabs(v));
				k = 7;
			}
		} else {
			au_buf_addc(lit, c);
		}
	}
	v = fabs(v) * (pct ? 100 : 1);
	if (neg)
		au_buf_addc(o, '-');
	au_buf_add(o, pre.s, pre.len);
	if (sci) {
		int e = v == 0 ? 0 : (int)floor(log10(v));
		double m = v == 0 ? 0 : v / pow(10, e);

		snprintf(buf, sizeof buf, "%.*f", (int)dec, m);
		if (strtod(buf, NULL) >= 10) {
			e++;
			snprintf(buf, sizeof buf, "%.*f", (int)dec, m / 10);
		}
		au_buf_adds(o, buf);
		au_buf_addf(o, "E%s%0*d", e < 0 ? "-" : sci == 2 ? "+" : "",
		    (int)(expz ? expz : 1), abs(e));
	} else if (digits) {
		char *p, *dot;
		size_t il;

		snprintf(buf, sizeof buf, "%.*f", (int)dec, v);
		dot = strchr(buf, '.');
		il = dot != NULL ? (size_t)(dot - buf) : strlen(buf);
		if (il == 1 && buf[0] == '0' && zeros == 0) {
			memmove(buf, buf + 1, strlen(buf));
			il = 0;
			dot = il < strlen(buf) ? buf : NULL;
		}
		for (; il < zeros; il++)
			au_buf_addc(o, '0');
		il = dot != NULL ? (size_t)(dot - buf) : strlen(buf);
		for (i = 0; i < il; i++) {
			au_buf_addc(o, buf[i]);
			if (comma && i + 1 < il && (il - i - 1) % 3 == 0)
				au_buf_addc(o, ',');
		}
		if (dot != NULL) {
			p = dot + strlen(dot) - 1;
			while (p > dot + decz && *p == '0')
				*p-- = '\0';
			if (p > dot || decz > 0)
				au_buf_adds(o, dot);
		}
	}
	au_buf_add(o, post.s, post.len);
	au_buf_free(&pre);
	au_buf_free(&post);
}

/* Whether a number's text is as General shows it already: digits, with
 * one point inside, 15 significant at most, no exponent. */
static int
plain(const char *s)
{
	size_t n = 0;
	int point = 0;

	if (*s == '-')
		s++;
	if (*s == '0' && s[1] != '.' && s[1] != '\0')
		return 0;
	for (; *s != '\0'; s++) {
		if (*s == '.' && !point && s[1] != '\0')
			point = 1;
		else if (*s < '0' || *s > '9' || ++n > 15)
			return 0;
	}
	return n > 0 && (!point || s[-1] != '0');
}

/* The value of text (len bytes) when it is an integer of 15 digits at
 * most, which a double holds exactly, into *v: 0, or -1 for strtod. */
static int
integer(const char *text, size_t len, double *v)
{
	const char *s = text + (len > 0 && *text == '-');
	const char *end = text + len;
	int64_t u = 0;

	if (s == end || end - s > 15)
		return -1;
	for (; s < end; s++) {
		if ((unsigned)(*s - '0') > 9)
			return -1;
		u = u * 10 + (*s - '0');
	}
	*v = *text == '-' ? -(double)u : (double)u;
	return 0;
}

/* The number text (len bytes) of a cell of style as its spreadsheet
 * shows it. */
static void
number(const struct book *b, struct au_buf *o, const char *text, size_t len,
    int style)
{
	const char *code = fmtcode(b, style), *sec;
	char *end;
	double v;
	size_t n;
	int neg, date;

	if (code == NULL && plain(text)) {
		au_buf_add(o, text, len);
		return;
	}
	if (integer(text, len, &v) != 0) {
		v = strtod(text, &end);
		if (end == text || *end != '\0' || !isfinite(v)) {
			tkmd_esc_inline(o, text, len);
			return;
		}
	}
	if (code == NULL || strcmp(code, "@") == 0) {
		general(o, v);
		return;
	}
	n = section(code, v, &sec, &neg);
	date = isdate(sec, n);
	if (date && v >= 0 && v < 2958466)
		datefmt(b, o, v, sec, n);
	else if (date)
		general(o, v);
	else
		numfmt(o, v, sec, n, neg);
}

/* ---- sheets ----------------------------------------------------------- */

static void
sheet_start(struct tkmd_xscan *x, const char *name, size_t nl,
    const struct tkmd_xattr *a, int na)
{
	struct book *b = x->arg;
	const char *v, *colon, *one[3] = { NULL, NULL, NULL };
	size_t n, len[3] = { 0, 0, 0 };
	uint32_t r0, c0, r1, c1;
	int i, k;

	switch (name[0]) {
	case 'c':
		if (nl != 1)
			return;
		/* r, s and t in one pass, backwards so that the first of a
		 * name wins as with attr(). */
		for (i = na - 1; i >= 0; i--) {
			if (a[i].nlen != 1)
				continue;
			k = a[i].name[0] == 'r' ? 0 : a[i].name[0] == 's' ? 1 :
			    a[i].name[0] == 't' ? 2 : -1;
			if (k >= 0) {
				one[k] = a[i].val;
				len[k] = a[i].vlen;
			}
		}
		if (one[0] == NULL || ref(one[0], len[0], &r0, &b->col) != 0)
			b->col++;
		b->style = one[1] != NULL ? (int)num(one[1], len[1]) : 0;
		v = one[2], n = len[2];
		b->type = v == NULL ? T_NUM : IS(v, n, "s") ? T_SST :
		    IS(v, n, "inlineStr") ? T_INLINE : IS(v, n, "str") ? T_STR :
		    IS(v, n, "b") ? T_BOOL : IS(v, n, "e") ? T_ERR :
		    IS(v, n, "d") ? T_DATE : T_NUM;
		x->text.len = 0;
		break;
	case 'v':
		if (nl == 1)
			x->collect = 1;
		break;
	case 't':
		if (nl == 1 && b->type == T_INLINE && b->depth == 0)
			x->collect = 1;
		break;
	case 'r':
		if (IS(name, nl, "row")) {
			v = attr(a, na, "r", 1, &n);
			b->row = v != NULL && num(v, n) > 0 ?
			    (uint32_t)num(v, n) - 1 : b->row + 1;
			b->col = (uint32_t)-1;
		} else if (IS(name, nl, "rPh")) {
			b->depth++;
		}
		break;
	case 'm':
		if (!IS(name, nl, "mergeCell") ||
		    (v = attr(a, na, "ref", 3, &n)) == NULL ||
		    (colon = memchr(v, ':', n)) == NULL ||
		    ref(v, (size_t)(colon - v), &r0, &c0) != 0 ||
		    ref(colon + 1, n - (size_t)(colon + 1 - v), &r1, &c1) != 0)
			return;
		b->merge = au_grow(b->merge, &b->capmerge, 4 * b->nmerge + 4,
		    sizeof *b->merge);
		b->merge[4 * b->nmerge] = r0;
		b->merge[4 * b->nmerge + 1] = c0;
		b->merge[4 * b->nmerge + 2] = r1;
		b->merge[4 * b->nmerge + 3] = c1;
		b->nmerge++;
		break;
	}
}

/* The cell being read, not empty: the sheet's bounds grown to it. */
static void
seen(struct book *b)
{
	b->r0 = b->row < b->r0 ? b->row : b->r0;
	b->c0 = b->col < b->c0 ? b->col : b->c0;
	b->r1 = b->row > b->r1 ? b->row : b->r1;
	b->c1 = b->col > b->c1 ? b->col : b->c1;
}

/* The cell being read onto its row, with its word w (its text, if its
 * own, to follow). */
static void
addcell(struct book *b, uint32_t w)
{
	struct srow *r = b->nrows > 0 ? &b->rows[b->nrows - 1] : NULL;
	uint32_t last;

	if (r == NULL || r->row != b->row) {
		if (r != NULL && r->row > b->row)
			b->unordered = 1;
		b->rows = au_grow(b->rows, &b->caprows, b->nrows + 1,
		    sizeof *b->rows);
		r = &b->rows[b->nrows++];
		r->row = b->row;
		r->ncells = 0;
		r->off = b->arena.len;
	} else {
		memcpy(&last, b->arena.s + b->lastcell, sizeof last);
		if (last >= b->col)
			b->unordered = 1;
	}
	b->lastcell = b->arena.len;
	au_buf_grow(&b->arena, sizeof b->col + sizeof w);
	memcpy(b->arena.s + b->arena.len, &b->col, sizeof b->col);
	memcpy(b->arena.s + b->arena.len + sizeof b->col, &w, sizeof w);
	b->arena.len += sizeof b->col + sizeof w;
	r->ncells++;
}

static void
sheet_end(struct tkmd_xscan *x, const char *name, size_t nl)
{
	struct book *b = x->arg;
	size_t at, len;
	uint32_t w;
	long i;

	if (IS(name, nl, "rPh")) {
		b->depth--;
		return;
	}
	if (name[0] == 'v' || name[0] == 't') {
		if (nl == 1)
			x->collect = 0;
		return;
	}
	if (name[0] != 'c' || nl != 1 || x->text.len == 0)
		return;
	if (b->type == T_SST) {
		i = num(x->text.s, x->text.len);
		if (i >= 0 && (size_t)i < b->nsst) {
			addcell(b, CELL_SST | (uint32_t)i);
			if (b->sst[i].full)
				seen(b);
		}
		return;
	}
	addcell(b, 0);
	at = b->arena.len;
	switch (b->type) {
	case T_BOOL:
		au_buf_adds(&b->arena, x->text.s[0] == '1' ? "TRUE" : "FALSE");
		break;
	case T_NUM:
		number(b, &b->arena, x->text.s, x->text.len, b->style);
		break;
	default:
		tkmd_esc_inline(&b->arena, x->text.s, x->text.len);
	}
	len = b->arena.len - at;
	tabesc(&b->arena, at);
	if (b->arena.len - at > CELL_LEN || b->arena.len > b->d->max_size)
		b->fail = 1;
	w = (uint32_t)(b->arena.len - at) | (len > 0 ? CELL_FULL : 0);
	memcpy(b->arena.s + at - sizeof w, &w, sizeof w);
	if (len > 0)
		seen(b);
}

/* Rows in the order of their numbers, those read first first. */
static int
rowcmp(const void *a, const void *b)
{
	const struct srow *x = a, *y = b;

	if (x->row != y->row)
		return x->row < y->row ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

/* Cells in the order of their columns, those read first first. */
static int
cellcmp(const void *a, const void *b)
{
	const struct ccell *x = a, *y = b;

	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Merged ranges by their first row. */
static int
mergecmp(const void *a, const void *b)
{
	const uint32_t *x = a, *y = b;

	return x[0] < y[0] ? -1 : x[0] > y[0];
}

/* A walk of the sheet's rows in order, each with its cells in order of
 * column, one a column (the last read), those a merged range hides
 * emptied. */
struct walk {
	struct book *b;
	size_t i;		/* the next of b->rows */
	size_t nm;		/* merges begun (b->merge sorted) */
	size_t *act, nact, capact;	/* merges over the row */
	struct ccell *c;
	size_t nc, capc;
};

/* The cells of the next row into w->c: its number, or -1 at the end. */
static int64_t
walknext(struct walk *w)
{
	struct book *b = w->b;
	struct srow *r;
	const char *p;
	uint32_t row, v, k;
	size_t i, j, m;

	if (w->i == b->nrows)
		return -1;
	row = b->rows[w->i].row;
	w->nc = 0;
	for (; w->i < b->nrows && b->rows[w->i].row == row; w->i++) {
		r = &b->rows[w->i];
		w->c = au_grow(w->c, &w->capc, w->nc + r->ncells,
		    sizeof *w->c);
		p = b->arena.s + r->off;
		for (k = 0; k < r->ncells; k++) {
			struct ccell *c = &w->c[w->nc];

			memcpy(&c->col, p, sizeof c->col);
			memcpy(&v, p + sizeof c->col, sizeof v);
			p += sizeof c->col + sizeof v;
			c->seq = w->nc++;
			if (v & CELL_SST) {
				struct sstr *e = &b->sst[v & ~CELL_SST];

				c->s = b->sstbuf.s + e->off;
				c->len = e->len;
				c->full = e->full;
			} else {
				c->s = p;
				c->len = v & CELL_LEN;
				c->full = (v & CELL_FULL) != 0;
				p += c->len;
			}
		}
	}
	if (b->unordered) {
		qsort(w->c, w->nc, sizeof *w->c, cellcmp);
		for (i = j = 0; i < w->nc; i++) {
			if (j > 0 && w->c[j - 1].col == w->c[i].col)
				j--;
			w->c[j++] = w->c[i];
		}
		w->nc = j;
	}
	for (; w->nm < b->nmerge && b->merge[4 * w->nm] <= row; w->nm++) {
		w->act = au_grow(w->act, &w->capact, w->nact + 1,
		    sizeof *w->act);
		w->act[w->nact++] = w->nm;
	}
	for (m = 0; m < w->nact;) {
		uint32_t *g = &b->merge[4 * w->act[m]];

		if (g[2] < row) {
			w->act[m] = w->act[--w->nact];
			continue;
		}
		m++;
		for (i = 0; i < w->nc; i++)
			if (w->c[i].col >= g[1] && w->c[i].col <= g[3] &&
			    (row != g[0] || w->c[i].col != g[1]))
				w->c[i].full = 0, w->c[i].len = 0;
	}
	return row;
}

/* The row's cells (w->c, those of row r if it is r) in columns c0 on,
 * nc of them, as a line of the table onto o. */
static void
line(struct au_buf *o, const struct walk *w, int64_t row, int64_t r,
    uint32_t c0, size_t nc)
{
	size_t i, at = 0, need = 2 + 3 * nc;
	char *p;

	for (i = 0; row == r && i < w->nc; i++)
		need += w->c[i].len + 3;
	au_buf_grow(o, need);
	p = o->s + o->len;
	*p++ = '|';
	for (i = 0; row == r && i < w->nc; i++) {
		const struct ccell *c = &w->c[i];

		if (c->col < c0 || c->col - c0 >= nc)
			continue;
		for (; at < c->col - c0; at++, p += 3)
			memcpy(p, "  |", 3);
		*p++ = ' ';
		memcpy(p, c->s, c->len);
		p += c->len;
		memcpy(p, " |", 2);
		p += 2;
		at++;
	}
	for (; at < nc; at++, p += 3)
		memcpy(p, "  |", 3);
	*p++ = '\n';
	o->len = (size_t)(p - o->s);
}

/* The sheet read into b as a table onto d->out: its rows from the first
 * with a cell not empty to the last, its columns likewise, as
 * tkmd_table writes them (cells that a merged range hides are empty). */
static int
table(struct tkmd *d, struct book *b)
{
	struct walk w;
	struct au_buf o = AU_BUF_INIT;
	size_t rows, cols, nr, nc, i;
	int64_t row;
	int64_t r;

	if (b->r0 == UINT32_MAX)
		return 0;
	rows = (size_t)(b->r1 - b->r0) + 1;
	cols = (size_t)(b->c1 - b->c0) + 1;
	if (rows * cols > d->max_size / sizeof(char *))
		return tkmd_fail(d, "a sheet of %zu by %zu cells, more than "
		    "--max-size allows", rows, cols);
	if (b->unordered)
		qsort(b->rows, b->nrows, sizeof *b->rows, rowcmp);
	if (b->nmerge > 0)
		qsort(b->merge, b->nmerge, 4 * sizeof *b->merge, mergecmp);
	memset(&w, 0, sizeof w);
	w.b = b;
	nr = rows, nc = cols;
	if (b->unordered || b->nmerge > 0) {
		/* What is left not empty, the hidden and overwritten gone. */
		nr = nc = 0;
		while ((row = walknext(&w)) >= 0)
			for (i = 0; i < w.nc; i++)
				if (w.c[i].full && row >= b->r0 &&
				    row <= b->r1 && w.c[i].col >= b->c0 &&
				    w.c[i].col <= b->c1) {
					nr = (size_t)(row - b->r0) + 1;
					if (w.c[i].col - b->c0 + 1 > nc)
						nc = w.c[i].col - b->c0 + 1;
				}
		w.i = w.nm = w.nact = 0;
	}
	if (nr == 0) {
		free(w.c);
		free(w.act);
		return 0;
	}
	row = walknext(&w);
	for (r = b->r0; r < (int64_t)b->r0 + (int64_t)nr; r++) {
		while (row >= 0 && row < r)
			row = walknext(&w);
		line(&o, &w, row, r, b->c0, nc);
		if (r == b->r0) {
			au_buf_add(&o, "| --- |", 7);
			for (i = 1; i < nc; i++)
				au_buf_add(&o, " --- |", 6);
			au_buf_addc(&o, '\n');
		}
		if (o.len >= 65536) {
			fwrite(o.s, 1, o.len, d->out);
			o.len = 0;
		}
	}
	fwrite(o.s, 1, o.len, d->out);
	au_buf_free(&o);
	free(w.c);
	free(w.act);
	return 0;
}

/* The number formats of the cell styles, from styles.xml. */
static int
styles(struct tkmd *d, struct book *b, const char *part)
{
	xmlDocPtr doc = tkmd_xml(d, part, 0);
	xmlNodePtr n, x;
	size_t cap = 0, fcap = 0, ccap = 0;

	if (doc == NULL)
		return d->why[0] != '\0' ? -1 : 0;
	for (n = xmlDocGetRootElement(doc)->children; n != NULL; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		for (x = n->children; x != NULL; x = x->next) {
			xmlChar *id, *code;

			if (x->type != XML_ELEMENT_NODE)
				continue;
			if (xmlStrEqual(n->name, BAD_CAST "numFmts") &&
			    xmlStrEqual(x->name, BAD_CAST "numFmt")) {
				id = xmlGetProp(x, BAD_CAST "numFmtId");
				code = xmlGetProp(x, BAD_CAST "formatCode");
				b->fmtid = au_grow(b->fmtid, &fcap, b->nfmt + 1,
				    sizeof *b->fmtid);
				b->fmtcode = au_grow(b->fmtcode, &ccap,
				    b->nfmt + 1, sizeof *b->fmtcode);
				b->fmtid[b->nfmt] = id != NULL ?
				    atoi((char *)id) : -1;
				b->fmtcode[b->nfmt++] = au_xstrdup(code !=
				    NULL ? (char *)code : "General");
				xmlFree(id);
				xmlFree(code);
			} else if (xmlStrEqual(n->name, BAD_CAST "cellXfs") &&
			    xmlStrEqual(x->name, BAD_CAST "xf")) {
				id = xmlGetProp(x, BAD_CAST "numFmtId");
				b->xf = au_grow(b->xf, &cap, b->nxf + 1,
				    sizeof *b->xf);
				b->xf[b->nxf++] = id != NULL ?
				    atoi((char *)id) : 0;
				xmlFree(id);
			}
		}
	}
	xmlFreeDoc(doc);
	return 0;
}

static void
book_free(struct book *b)
{
	size_t i;

	for (i = 0; i < b->nfmt; i++)
		free(b->fmtcode[i]);
	free(b->sst);
	au_buf_free(&b->sstbuf);
	free(b->rows);
	free(b->xf);
	free(b->fmtid);
	free(b->fmtcode);
	free(b->code);
	free(b->merge);
	au_buf_free(&b->arena);
}

int
tkmd_xlsx(struct tkmd *d)
{
	struct book b;
	struct tkmd_xscan x;
	xmlDocPtr wb = tkmd_xml(d, d->part, 1);
	xmlNodePtr n, s;
	jv rels;
	char *part;
	int rc = 0, nsheets = 0;

	if (wb == NULL)
		return -1;
	rels = tkmd_rels(d, d->part);
	if (!jv_is_valid(rels)) {
		xmlFreeDoc(wb);
		return -1;
	}
	memset(&b, 0, sizeof b);
	b.d = d;
	memset(&x, 0, sizeof x);
	x.arg = &b;
	for (n = xmlDocGetRootElement(wb)->children; n != NULL; n = n->next)
		if (n->type == XML_ELEMENT_NODE &&
		    xmlStrEqual(n->name, BAD_CAST "workbookPr")) {
			xmlChar *v = xmlGetProp(n, BAD_CAST "date1904");

			b.date1904 = v != NULL && (xmlStrEqual(v, BAD_CAST "1")
			    || xmlStrEqual(v, BAD_CAST "true"));
			xmlFree(v);
		}
	if ((part = tkmd_reltype(jv_copy(rels), "sharedStrings")) != NULL) {
		x.start = sst_start;
		x.end = sst_end;
		rc = tkmd_xscan(d, part, &x, 1) < 0 ? -1 : 0;
		if (rc == 0 && b.fail)
			rc = tkmd_fail(d, "%s: too large", part);
		free(part);
	}
	if (rc == 0 && (part = tkmd_reltype(jv_copy(rels), "styles")) !=
	    NULL) {
		rc = styles(d, &b, part);
		free(part);
	}
	fmtcodes(&b);
	for (n = xmlDocGetRootElement(wb)->children; rc == 0 && n != NULL;
	    n = n->next) {
		if (n->type != XML_ELEMENT_NODE ||
		    !xmlStrEqual(n->name, BAD_CAST "sheets"))
			continue;
		for (s = n->children; rc == 0 && s != NULL; s = s->next) {
			xmlChar *name, *id;

			if (s->type != XML_ELEMENT_NODE ||
			    !xmlStrEqual(s->name, BAD_CAST "sheet"))
				continue;
			name = xmlGetProp(s, BAD_CAST "name");
			id = xmlGetNsProp(s, BAD_CAST "id", BAD_CAST
			    "http://schemas.openxmlformats.org/officeDocument/2006/relationships");
			part = id != NULL ? tkmd_rel(rels, (char *)id,
			    "worksheet") : NULL;
			if (nsheets++ > 0)
				putc('\n', d->out);
			fputs("## ", d->out);
			tkmd_text(d->out, name != NULL ? (char *)name : "",
			    name != NULL ? strlen((char *)name) : 0);
			fputs("\n\n", d->out);
			b.nrows = b.nmerge = 0;
			b.arena.len = 0;
			b.r0 = b.c0 = UINT32_MAX;
			b.r1 = b.c1 = 0;
			b.unordered = 0;
			b.row = (uint32_t)-1;
			b.depth = 0;
			x.start = sheet_start;
			x.end = sheet_end;
			if (part == NULL)
				rc = tkmd_fail(d, "sheet %s: no worksheet part",
				    au_quote(name != NULL ? (char *)name : ""));
			else if (tkmd_xscan(d, part, &x, 1) != 0)
				rc = -1;
			else if (b.fail)
				rc = tkmd_fail(d, "%s: too large", part);
			else
				rc = table(d, &b);
			free(part);
			xmlFree(name);
			xmlFree(id);
		}
	}
	d->meta = jv_object_set(d->meta, jv_string("sheets"),
	    jv_number(nsheets));
	book_free(&b);
	tkmd_xscan_free(&x);
	jv_free(rels);
	xmlFreeDoc(wb);
	return rc;
}
