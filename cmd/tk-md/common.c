/*
 * common.c - what tk-md's converters share (see tkmd.h): zip members read
 * through libarchive with limits against zip bombs, XML and HTML parsed by
 * libxml2 with nothing fetched and no entity expanded, paths resolved
 * inside a package, media written beneath --extract-media, and Markdown
 * written: escaped text, fenced code and GFM tables.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <libxml/HTMLparser.h>
#include <libxml/xmlerror.h>

#include "tkmd.h"

/* More members than any document has, and a ratio of expanded to
 * compressed bytes that only a bomb reaches (deflate's own limit is
 * about 1030), checked on members of more than RATIO_MIN bytes. */
#define MAX_MEMBERS 20000
#define MAX_RATIO 500
#define RATIO_MIN (1 << 20)

struct member {
	char *name;
	uint64_t csize, usize;	/* as the central directory says */
	unsigned char *buf;	/* once read */
	size_t len;
	int wanted;		/* to be read: keep it when passing by */
};

struct tkmd_zip {
	struct member *m;
	size_t n;
	struct au_map *names;
	uint64_t expanded;	/* bytes expanded so far, of all members */
	struct archive *a;	/* open at the member last read, or NULL */
	size_t nwanted;		/* members wanted and not yet read */
};

int
tkmd_fail(struct tkmd *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->why, sizeof d->why, fmt, ap);
	va_end(ap);
	return -1;
}

static unsigned
le16(const unsigned char *p)
{
	return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)le16(p) | (uint32_t)le16(p + 2) << 16;
}

/*
 * The central directory gives the names and both sizes of every member
 * before anything is expanded: libarchive expands, and counts, but does
 * not say how many compressed bytes a member took.
 */
int
tkmd_zip_open(struct tkmd *d)
{
	const unsigned char *p = d->data, *eocd = NULL, *c, *end;
	struct tkmd_zip *z;
	size_t i, n, off;

	if (d->len < 22)
		return tkmd_fail(d, "truncated zip (no end of central "
		    "directory)");
	for (off = d->len - 22;; off--) {
		if (le32(p + off) == 0x06054b50 &&
		    off + 22 + le16(p + off + 20) == d->len) {
			eocd = p + off;
			break;
		}
		if (off == 0 || d->len - off > 22 + 65535)
			break;
	}
	if (eocd == NULL)
		return tkmd_fail(d, "truncated zip (no end of central "
		    "directory)");
	n = le16(eocd + 10);
	if (n > MAX_MEMBERS)
		return tkmd_fail(d, "zip of %zu members (more than %d)", n,
		    MAX_MEMBERS);
	off = le32(eocd + 16);
	if (off > (size_t)(eocd - p) || le32(eocd + 12) > (size_t)(eocd - p) -
	    off)
		return tkmd_fail(d, "corrupt zip (central directory out of "
		    "bounds)");
	z = au_xcalloc(1, sizeof *z);
	z->m = au_xcalloc(n ? n : 1, sizeof *z->m);
	z->names = au_map_new(n);
	d->zip = z;
	c = p + off;
	end = eocd;
	for (i = 0; i < n; i++) {
		size_t nl;

		if (end - c < 46 || le32(c) != 0x02014b50)
			return tkmd_fail(d, "corrupt zip (bad central "
			    "directory entry %zu)", i);
		nl = le16(c + 28);
		if ((size_t)(end - c) < 46 + nl + le16(c + 30) + le16(c + 32))
			return tkmd_fail(d, "corrupt zip (bad central "
			    "directory entry %zu)", i);
		z->m[i].name = au_xstrndup((const char *)c + 46, nl);
		z->m[i].csize = le32(c + 20);
		z->m[i].usize = le32(c + 24);
		z->n++;
		au_map_put(z->names, z->m[i].name, strlen(z->m[i].name),
		    (long)i);
		c += 46 + nl + le16(c + 30) + le16(c + 32);
	}
	return 0;
}

void
tkmd_zip_close(struct tkmd *d)
{
	struct tkmd_zip *z = d->zip;
	size_t i;

	if (z == NULL)
		return;
	for (i = 0; i < z->n; i++) {
		free(z->m[i].name);
		free(z->m[i].buf);
	}
	free(z->m);
	au_map_free(z->names);
	if (z->a != NULL)
		archive_read_free(z->a);
	free(z);
	d->zip = NULL;
}

/*
 * Expand member m, at whose header the archive is, through libarchive,
 * counting against the limits, and hand each block to fn(arg, block,
 * size) as it comes (libarchive's own buffer, not copied): 0, or -1 (why
 * set, the archive closed) when the zip is corrupt, a limit is met or fn
 * returns non-zero.
 */
static int
drain(struct tkmd *d, struct member *m,
    int (*fn)(void *, const void *, size_t), void *arg)
{
	struct tkmd_zip *z = d->zip;
	const void *blk;
	size_t n, got = 0;
	int64_t at;
	int rc;

	while ((rc = archive_read_data_block(z->a, &blk, &n, &at)) ==
	    ARCHIVE_OK || rc == ARCHIVE_WARN) {
		z->expanded += n;
		got += n;
		if (got > d->max_size) {
			rc = tkmd_fail(d, "%s: expands beyond %zu bytes "
			    "(--max-size)", m->name, d->max_size);
			break;
		}
		if (z->expanded > d->max_size) {
			rc = tkmd_fail(d, "members expand beyond %zu bytes "
			    "in all (--max-size)", d->max_size);
			break;
		}
		if (got > RATIO_MIN && got > (m->csize + 1) * MAX_RATIO) {
			rc = tkmd_fail(d, "%s: expands more than %d times "
			    "(a zip bomb)", m->name, MAX_RATIO);
			break;
		}
		if (n > 0 && fn(arg, blk, n) != 0) {
			rc = -1;
			break;
		}
	}
	if (rc != ARCHIVE_EOF && rc != -1)
		rc = tkmd_fail(d, "corrupt zip: %s: %s", m->name,
		    archive_error_string(z->a));
	if (rc == ARCHIVE_EOF)
		return 0;
	archive_read_free(z->a);
	z->a = NULL;
	return -1;
}

/* A block of a member, kept. */
static int
keep(void *arg, const void *blk, size_t n)
{
	au_buf_add(arg, blk, n);
	return 0;
}

/* The member m, read whole from where the archive is, and kept. */
static int
slurp_here(struct tkmd *d, struct member *m)
{
	struct au_buf b = AU_BUF_INIT;

	au_buf_grow(&b, (m->usize < d->max_size ? m->usize : d->max_size) + 1);
	if (drain(d, m, keep, &b) != 0) {
		au_buf_free(&b);
		return -1;
	}
	b.s[b.len] = '\0';
	m->buf = (unsigned char *)b.s;
	m->len = b.len;
	if (m->wanted) {
		m->wanted = 0;
		d->zip->nwanted--;
	}
	return 0;
}

/*
 * Bring z->a to the header of member m.  The archive stays open between
 * members and is read forward, so that the chapters of a book, read in
 * the order they were zipped, cost one pass over the headers rather than
 * one from the start for each (which made 1500 chapters quadratic); a
 * member behind the last one read opens the archive anew.  A member
 * passed on the way that is wanted (tkmd_want) is read and kept, so that
 * the chapters of a book zipped in any order cost two passes at most.
 * Returns 0, or -1 (why set, the archive closed).
 */
static int
seek(struct tkmd *d, struct member *m)
{
	struct tkmd_zip *z = d->zip;
	struct archive_entry *e;
	int rc, pass;

	for (pass = 0; pass < 2; pass++) {
		if (z->a == NULL) {
			z->a = archive_read_new();
			archive_read_support_format_zip_seekable(z->a);
			/* A CRC that does not match is only a warning, which
			 * drain() takes as it takes ARCHIVE_OK: computing it
			 * cost a tenth of reading a sheet and decided nothing.
			 * An older libarchive without the option computes it
			 * as before. */
			archive_read_set_format_option(z->a, "zip",
			    "ignorecrc32", "1");
			if (archive_read_open_memory(z->a, d->data, d->len) !=
			    ARCHIVE_OK) {
				tkmd_fail(d, "corrupt zip: %s",
				    archive_error_string(z->a));
				break;
			}
			pass = 1;
		}
		while ((rc = archive_read_next_header(z->a, &e)) ==
		    ARCHIVE_OK || rc == ARCHIVE_WARN) {
			const char *name = archive_entry_pathname(e) ?
			    archive_entry_pathname(e) : "";
			long i;

			if (strcmp(name, m->name) == 0)
				return 0;
			if (z->nwanted > 0 && (i = au_map_get(z->names, name,
			    strlen(name))) >= 0 && z->m[i].wanted &&
			    z->m[i].buf == NULL && z->m[i].usize <=
			    d->max_size && slurp_here(d, &z->m[i]) != 0)
				return -1;
		}
		if (rc != ARCHIVE_EOF) {
			tkmd_fail(d, "corrupt zip: %s: %s", m->name,
			    archive_error_string(z->a));
			break;
		}
		if (pass == 1)
			tkmd_fail(d, "corrupt zip: %s: not found", m->name);
		archive_read_free(z->a);
		z->a = NULL;
	}
	if (z->a != NULL)
		archive_read_free(z->a);
	z->a = NULL;
	return -1;
}

/* Member m through fn as drain hands it, from wherever the archive is. */
static int
expand(struct tkmd *d, struct member *m,
    int (*fn)(void *, const void *, size_t), void *arg)
{
	return seek(d, m) != 0 ? -1 : drain(d, m, fn, arg);
}

/* The member m, read whole and kept. */
static int
slurp(struct tkmd *d, struct member *m)
{
	return seek(d, m) != 0 ? -1 : slurp_here(d, m);
}

/* The member NAME, which must not be over the limits the directory
 * gives: 0, 1 when missing, -1 (why set). */
static int
member(struct tkmd *d, const char *name, struct member **m)
{
	long i;

	if (d->zip == NULL ||
	    (i = au_map_get(d->zip->names, name, strlen(name))) < 0)
		return 1;
	*m = &d->zip->m[i];
	if ((*m)->buf == NULL && (*m)->usize > d->max_size)
		return tkmd_fail(d, "%s: expands to %llu bytes, more than %zu "
		    "(--max-size)", name, (unsigned long long)(*m)->usize,
		    d->max_size);
	return 0;
}

void
tkmd_want(struct tkmd *d, const char *name)
{
	long i;

	if (d->zip != NULL && (i = au_map_get(d->zip->names, name,
	    strlen(name))) >= 0 && !d->zip->m[i].wanted &&
	    d->zip->m[i].buf == NULL) {
		d->zip->m[i].wanted = 1;
		d->zip->nwanted++;
	}
}

int
tkmd_member(struct tkmd *d, const char *name, const unsigned char **buf,
    size_t *len)
{
	struct member *m;
	int rc = member(d, name, &m);

	if (rc != 0)
		return rc;
	if (m->buf == NULL && slurp(d, m) != 0)
		return -1;
	*buf = m->buf;
	*len = m->len;
	return 0;
}

/* libxml2's last error in this thread, on one line: some messages go on
 * to a second ("not proper UTF-8 ...\nBytes: 0xA8 ..."). */
static const char *
xmlwhy(char *buf, size_t n)
{
	const xmlError *e = xmlGetLastError();
	size_t l, i;

	if (e == NULL || e->message == NULL)
		return "malformed";
	snprintf(buf, n, "line %d: %s", e->line, e->message);
	l = strlen(buf);
	for (i = 0; i < l; i++)
		if ((unsigned char)buf[i] < ' ' || buf[i] == 0x7f)
			buf[i] = ' ';
	while (l > 0 && buf[l - 1] == ' ')
		buf[--l] = '\0';
	return buf;
}

#define XMLOPTS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | \
    XML_PARSE_COMPACT)

xmlDocPtr
tkmd_xml(struct tkmd *d, const char *name, int required)
{
	const unsigned char *buf;
	size_t len;
	xmlDocPtr doc;
	char e[200];
	int rc = tkmd_member(d, name, &buf, &len);

	if (rc < 0)
		return NULL;
	if (rc > 0) {
		if (required)
			tkmd_fail(d, "missing part %s", name);
		return NULL;
	}
	if (len > INT_MAX) {
		tkmd_fail(d, "%s: too large", name);
		return NULL;
	}
	xmlResetLastError();
	doc = xmlReadMemory((const char *)buf, (int)len, name, NULL, XMLOPTS);
	if (doc == NULL) {
		tkmd_fail(d, "%s: malformed XML: %s", name,
		    xmlwhy(e, sizeof e));
		return NULL;
	}
	/* Office parts never declare a document type: one that does is
	 * after entities (external ones, or a billion laughs). */
	if (doc->intSubset != NULL || doc->extSubset != NULL) {
		xmlFreeDoc(doc);
		tkmd_fail(d, "%s: document type declaration refused", name);
		return NULL;
	}
	return doc;
}

int
tkmd_stream(struct tkmd *d, const char *name,
    int (*fn)(void *, const void *, size_t), void *arg, int required)
{
	struct member *m;
	int rc = member(d, name, &m);

	if (rc < 0)
		return -1;
	if (rc > 0) {
		if (required)
			tkmd_fail(d, "missing part %s", name);
		return 1;
	}
	if (m->buf != NULL)
		return fn(arg, m->buf, m->len) != 0 ? -1 : 0;
	return expand(d, m, fn, arg);
}

#define SAXCHUNK (16 << 10)

/* The parse under way in this thread, for the DOCTYPE refusal. */
static _Thread_local xmlParserCtxtPtr saxctxt;
static _Thread_local int saxdtd;

static void
nodtd(void *arg, const xmlChar *name, const xmlChar *ext, const xmlChar *sys)
{
	(void)arg, (void)name, (void)ext, (void)sys;
	saxdtd = 1;
	xmlStopParser(saxctxt);
}

/* A block of a member, parsed. */
static int
push(void *arg, const void *blk, size_t n)
{
	size_t off;

	(void)arg;
	/* In pieces: a huge chunk trips libxml2's lookahead limit. */
	for (off = 0; off < n && !saxdtd && saxctxt->wellFormed;
	    off += SAXCHUNK)
		xmlParseChunk(saxctxt, (const char *)blk + off,
		    (int)(n - off < SAXCHUNK ? n - off : SAXCHUNK), 0);
	return saxdtd || !saxctxt->wellFormed;
}

/*
 * The member is parsed as libarchive expands it, never kept whole: a
 * large sheet costs neither its size in memory nor a copy.
 */
int
tkmd_sax(struct tkmd *d, const char *name, xmlSAXHandler *h, void *arg,
    int required)
{
	char e[200];
	int rc, ok;

	h->initialized = XML_SAX2_MAGIC;
	h->internalSubset = nodtd;
	h->externalSubset = nodtd;
	xmlResetLastError();
	saxctxt = xmlCreatePushParserCtxt(h, arg, NULL, 0, name);
	if (saxctxt == NULL)
		au_die(EX_SOFTWARE, "out of memory");
	saxdtd = 0;
	xmlCtxtUseOptions(saxctxt, XMLOPTS);
	rc = tkmd_stream(d, name, push, NULL, required);
	if (rc == 0 || (rc < 0 && d->why[0] == '\0'))
		xmlParseChunk(saxctxt, NULL, 0, 1);
	ok = saxctxt->wellFormed;
	xmlFreeParserCtxt(saxctxt);
	saxctxt = NULL;
	if (rc > 0)
		return 1;
	if (saxdtd)
		return tkmd_fail(d, "%s: document type declaration refused",
		    name);
	if (d->why[0] != '\0' && rc != 0)
		return -1;
	if (!ok)
		return tkmd_fail(d, "%s: malformed XML: %s", name,
		    xmlwhy(e, sizeof e));
	return 0;
}

xmlDocPtr
tkmd_html(struct tkmd *d, const unsigned char *buf, size_t len,
    const char *url)
{
	htmlDocPtr doc;

	if (len > INT_MAX) {
		tkmd_fail(d, "too large for the HTML parser");
		return NULL;
	}
	doc = htmlReadMemory((const char *)buf, (int)len, url, NULL,
	    HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING);
	if (doc == NULL)
		tkmd_fail(d, "unreadable HTML");
	return doc;
}

char *
tkmd_resolve(const char *base, const char *target)
{
	struct au_buf b = AU_BUF_INIT;
	const char *s, *slash;
	size_t n;

	if (target[0] == '/') {
		target++;
	} else if ((slash = strrchr(base, '/')) != NULL) {
		au_buf_add(&b, base, (size_t)(slash - base));
	}
	au_buf_add(&b, "", 0);
	for (s = target; *s != '\0'; s += n + (s[n] == '/')) {
		n = strcspn(s, "/");
		if (n == 0 || (n == 1 && s[0] == '.'))
			continue;
		if (n == 2 && s[0] == '.' && s[1] == '.') {
			char *up = strrchr(b.s, '/');

			b.len = up != NULL ? (size_t)(up - b.s) : 0;
			b.s[b.len] = '\0';
			continue;
		}
		if (b.len > 0)
			au_buf_addc(&b, '/');
		au_buf_add(&b, s, n);
	}
	return b.s;
}

/* The n bytes at s with nothing but letters, digits, '.', '_' and '-'
 * (others become '_', a leading '.' too), onto b. */
static void
safename(struct au_buf *b, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		    (c == '.' && i > 0)))
			c = '_';
		au_buf_addc(b, c);
	}
}

/*
 * The file is named after the document and the member ("report-image1.png"
 * for report.docx's word/media/image1.png), with nothing but safe
 * characters, so that no name from the document leaves the directory;
 * it is opened without following a symbolic link planted there.
 */
char *
tkmd_media(struct tkmd *d, const char *name)
{
	const unsigned char *buf;
	const char *base = strrchr(d->path, '/'), *mbase = strrchr(name, '/');
	const char *dot;
	struct au_buf b = AU_BUF_INIT;
	char *path;
	size_t len, off = 0;
	ssize_t w;
	int dir, fd;

	if (d->media == NULL || tkmd_member(d, name, &buf, &len) != 0)
		return NULL;
	base = base != NULL ? base + 1 : d->path;
	dot = strrchr(base, '.');
	safename(&b, base, dot != NULL && dot != base ? (size_t)(dot - base) :
	    strlen(base));
	au_buf_addc(&b, '-');
	mbase = mbase != NULL ? mbase + 1 : name;
	safename(&b, mbase, strlen(mbase));
	d->nmedia++;
	if ((dir = open(d->media, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (fd = openat(dir, b.s, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0644)) < 0) {
		au_warn("%s/%s: cannot create: %s", au_esc(d->media),
		    au_esc(b.s), strerror(errno));
		d->media_failed = 1;
		if (dir >= 0)
			close(dir);
		au_buf_free(&b);
		return NULL;
	}
	close(dir);
	while (off < len && ((w = write(fd, buf + off, len - off)) > 0 ||
	    errno == EINTR))
		if (w > 0)
			off += (size_t)w;
	if (close(fd) != 0 || off < len) {
		au_warn("%s/%s: write error: %s", au_esc(d->media),
		    au_esc(b.s), strerror(errno));
		d->media_failed = 1;
		au_buf_free(&b);
		return NULL;
	}
	path = au_xasprintf("%s/%s", d->media, b.s);
	au_buf_free(&b);
	return path;
}

/* The bytes tkmd_esc_inline escapes. */
static const char special[256] = { ['\\'] = 1, ['*'] = 1, ['_'] = 1,
	['`'] = 1, ['['] = 1, [']'] = 1, ['<'] = 1, ['>'] = 1 };

void
tkmd_esc_inline(struct au_buf *b, const char *s, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i = j + 1) {
		for (j = i; j < n && !special[(unsigned char)s[j]]; j++)
			;
		au_buf_add(b, s + i, j - i);
		if (j == n)
			break;
		au_buf_addc(b, '\\');
		au_buf_addc(b, s[j]);
	}
}

void
tkmd_esc(struct au_buf *b, const char *s, size_t n)
{
	size_t i = 0, j;

	while (i < n && s[i] == ' ')
		au_buf_addc(b, s[i++]);
	if (i < n && strchr("#>+-=", s[i]) != NULL && s[i] != '\0') {
		au_buf_addc(b, '\\');
	} else {
		for (j = i; j < n && s[j] >= '0' && s[j] <= '9'; j++)
			;
		if (j > i && j < n && (s[j] == '.' || s[j] == ')') &&
		    (j + 1 == n || s[j + 1] == ' ' || s[j + 1] == '\t')) {
			au_buf_add(b, s + i, j - i);
			au_buf_addc(b, '\\');
			i = j;
		}
	}
	tkmd_esc_inline(b, s + i, n - i);
}

void
tkmd_text(FILE *out, const char *s, size_t n)
{
	struct au_buf b = AU_BUF_INIT;

	tkmd_esc(&b, s, n);
	fwrite(b.s, 1, b.len, out);
	au_buf_free(&b);
}

void
tkmd_code(FILE *out, const char *lang, const char *s, size_t n)
{
	size_t i, run = 0, most = 2;

	for (i = 0; i < n; i++) {
		run = s[i] == '`' ? run + 1 : 0;
		if (run > most)
			most = run;
	}
	for (i = 0; i <= most; i++)
		putc('`', out);
	fprintf(out, "%s\n", lang != NULL ? lang : "");
	fwrite(s, 1, n, out);
	if (n > 0 && s[n - 1] != '\n')
		putc('\n', out);
	for (i = 0; i <= most; i++)
		putc('`', out);
	putc('\n', out);
}

static int
empty(const char *s)
{
	return s == NULL || *s == '\0';
}

/* One row of cols cells: '|' escaped, a line break as <br>. */
static void
row(FILE *out, char *const *cells, size_t cols)
{
	const char *s;
	size_t j, n;

	for (j = 0; j < cols; j++) {
		fputs(j == 0 ? "| " : " | ", out);
		for (s = cells[j] != NULL ? cells[j] : ""; *s != '\0'; s++) {
			n = strcspn(s, "|\n\r");
			fwrite(s, 1, n, out);
			if ((s += n)[0] == '|')
				fputs("\\|", out);
			else if (*s == '\n')
				fputs("<br>", out);
			else if (*s == '\0')
				break;
		}
	}
	fputs(" |\n", out);
}

void
tkmd_table(FILE *out, char *const *cells, size_t rows, size_t cols)
{
	size_t i, j, nr = 0, nc = 0;

	for (i = 0; i < rows; i++)
		for (j = 0; j < cols; j++)
			if (!empty(cells[i * cols + j])) {
				nr = i + 1;
				if (j + 1 > nc)
					nc = j + 1;
			}
	if (nr == 0)
		return;
	for (i = 0; i < nr; i++) {
		row(out, cells + i * cols, nc);
		if (i == 0) {
			for (j = 0; j < nc; j++)
				fputs(j == 0 ? "| --- |" : " --- |", out);
			putc('\n', out);
		}
	}
}

int
tkmd_isel(xmlNodePtr n, const char *name)
{
	return n != NULL && n->type == XML_ELEMENT_NODE &&
	    xmlStrEqual(n->name, BAD_CAST name);
}

xmlNodePtr
tkmd_child(xmlNodePtr n, const char *name)
{
	for (n = n != NULL ? n->children : NULL; n != NULL; n = n->next)
		if (tkmd_isel(n, name))
			return n;
	return NULL;
}

/* The name of the relationships part of part ("word/document.xml" has
 * "word/_rels/document.xml.rels"). */
static char *
relsname(const char *part)
{
	const char *slash = strrchr(part, '/');

	if (slash == NULL)
		return au_xasprintf("_rels/%s.rels", part);
	return au_xasprintf("%.*s/_rels/%s.rels", (int)(slash - part), part,
	    slash + 1);
}

void
tkmd_want_part(struct tkmd *d, const char *part)
{
	char *rels = relsname(part);

	tkmd_want(d, part);
	tkmd_want(d, rels);
	free(rels);
}

jv
tkmd_rels(struct tkmd *d, const char *part)
{
	char *name = relsname(part);
	xmlDocPtr doc = tkmd_xml(d, name, 0);
	xmlNodePtr n;
	jv rels = jv_object();

	free(name);
	if (doc == NULL) {
		if (d->why[0] != '\0') {
			jv_free(rels);
			return jv_invalid();
		}
		return rels;
	}
	for (n = xmlDocGetRootElement(doc)->children; n != NULL; n = n->next) {
		xmlChar *id, *target, *type, *mode;
		const char *t;
		jv r;

		if (n->type != XML_ELEMENT_NODE ||
		    !xmlStrEqual(n->name, BAD_CAST "Relationship"))
			continue;
		id = xmlGetProp(n, BAD_CAST "Id");
		target = xmlGetProp(n, BAD_CAST "Target");
		type = xmlGetProp(n, BAD_CAST "Type");
		mode = xmlGetProp(n, BAD_CAST "TargetMode");
		if (id != NULL && target != NULL) {
			int ext = mode != NULL &&
			    xmlStrEqual(mode, BAD_CAST "External");
			char *to = ext ? au_xstrdup((char *)target) :
			    tkmd_resolve(part, (char *)target);

			t = type != NULL ? strrchr((char *)type, '/') : NULL;
			r = jv_object_set(jv_object(), jv_string("target"),
			    jv_string(to));
			r = jv_object_set(r, jv_string("type"),
			    jv_string(t != NULL ? t + 1 : ""));
			r = jv_object_set(r, jv_string("external"),
			    jv_bool(ext));
			rels = jv_object_set(rels, jv_string((char *)id), r);
			free(to);
		}
		xmlFree(id);
		xmlFree(target);
		xmlFree(type);
		xmlFree(mode);
	}
	xmlFreeDoc(doc);
	return rels;
}

char *
tkmd_rel(jv rels, const char *id, const char *type)
{
	jv r = jv_object_get(jv_copy(rels), jv_string(id));
	char *s = NULL;

	if (jv_get_kind(r) == JV_KIND_OBJECT && (type == NULL ||
	    strcmp(au_jv_str(r, "type"), type) == 0))
		s = au_xstrdup(au_jv_str(r, "target"));
	jv_free(r);
	return s;
}

char *
tkmd_reltype(jv rels, const char *type)
{
	char *s = NULL;

	jv_object_foreach(rels, k, r) {
		if (s == NULL && strcmp(au_jv_str(r, "type"), type) == 0)
			s = au_xstrdup(au_jv_str(r, "target"));
		jv_free(k);
		jv_free(r);
	}
	jv_free(rels);
	return s;
}

/*
 * A stream into memory, as open_memstream but cheaper for the Markdown of
 * a large sheet: glibc's memstream grows by allocating anew, copying and
 * zeroing the rest (a fifth of a 100,000-row sheet's time, most of it page
 * faults), where realloc moves large blocks by remapping their pages.
 */
struct mem {
	char **buf;
	size_t *len, cap;
};

static ssize_t
mem_write(void *cookie, const char *p, size_t n)
{
	struct mem *m = cookie;

	if (*m->len + n + 1 > m->cap) {
		m->cap = m->cap ? m->cap : 4096;
		while (*m->len + n + 1 > m->cap)
			m->cap *= 2;
		*m->buf = au_xreallocarray(*m->buf, m->cap, 1);
	}
	memcpy(*m->buf + *m->len, p, n);
	*m->len += n;
	(*m->buf)[*m->len] = '\0';
	return (ssize_t)n;
}

static int
mem_close(void *cookie)
{
	free(cookie);
	return 0;
}

FILE *
tkmd_xmem(char **buf, size_t *len)
{
	static const cookie_io_functions_t io = { NULL, mem_write, NULL,
	    mem_close };
	struct mem *m = au_xcalloc(1, sizeof *m);
	FILE *f;

	/* "" until the first write, as open_memstream has it. */
	*buf = au_xstrdup("");
	*len = 0;
	m->buf = buf;
	m->len = len;
	if ((f = fopencookie(m, "w", io)) == NULL)
		au_die(EX_SOFTWARE, "fopencookie:");
	setvbuf(f, NULL, _IOFBF, 1 << 16);
	return f;
}
