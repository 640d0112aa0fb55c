/*
 * input.c - the input of the PPTX and DOCX writers: each file read
 * whole (a deck or a document is small, and Markdown is parsed whole),
 * told to be records or Markdown, and split into records with file:line
 * for messages; and the size of an image from its header, for placing it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmark-gfm.h>
#include <cmark-gfm-core-extensions.h>

#include "tkdoc.h"

/* Read all of fd into s. */
static int
slurp(int fd, struct tkdoc_src *s)
{
	struct au_buf b = AU_BUF_INIT;
	ssize_t r;

	do {
		au_buf_grow(&b, 65536);
		r = read(fd, b.s + b.len, 65536);
		if (r > 0)
			b.len += (size_t)r;
	} while (r > 0 || (r < 0 && errno == EINTR));
	au_buf_addc(&b, '\0');
	b.len--;
	s->buf = b.s;
	s->len = b.len;
	return r < 0 ? -1 : 0;
}

size_t
tkdoc_read(struct tkdoc *d, struct tkdoc_src **srcs)
{
	static char *const stdin_only[] = { "-" };
	char *const *files = d->nfiles > 0 ? d->files : stdin_only;
	int nfiles = d->nfiles > 0 ? d->nfiles : 1, i, fd;
	size_t n = 0;
	struct tkdoc_src *s = au_xcalloc((size_t)nfiles, sizeof *s);

	for (i = 0; i < nfiles; i++) {
		const char *f = files[i], *slash = strrchr(f, '/');
		int stdin_ = strcmp(f, "-") == 0;

		if (stdin_)
			fd = 0;
		else if ((fd = open(f, O_RDONLY | O_CLOEXEC)) < 0) {
			au_err("%s:", au_esc(f));
			tkdoc_worse(d, EX_NOINPUT);
			continue;
		}
		s[n].name = stdin_ ? "<stdin>" : f;
		if (slurp(fd, &s[n]) != 0) {
			au_err("%s: read error:", au_esc(s[n].name));
			tkdoc_worse(d, EX_IOERR);
			free(s[n].buf);
			if (!stdin_)
				close(fd);
			continue;
		}
		if (!stdin_)
			close(fd);
		s[n].dir = stdin_ || slash == NULL ? au_xstrdup(".") :
		    au_xstrndup(f, slash == f ? 1 : (size_t)(slash - f));
		n++;
	}
	*srcs = s;
	return n;
}

int
tkdoc_load(const char *path, unsigned char **p, size_t *n)
{
	struct tkdoc_src s;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0) {
		return au_seterr(EX_NOINPUT, "%s:", au_esc(path));
	}
	/* An image named by a record may be a FIFO or a device: never
	 * waited on, never read without end. */
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return au_seterr(EX_DATAERR, "%s: not a regular file",
		    au_esc(path));
	}
	if (slurp(fd, &s) != 0) {
		close(fd);
		free(s.buf);
		return au_seterr(EX_IOERR, "%s: read error:", au_esc(path));
	}
	close(fd);
	*n = s.len;
	*p = (unsigned char *)s.buf;
	return 0;
}

void
tkdoc_src_free(struct tkdoc_src *srcs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(srcs[i].buf);
		free(srcs[i].dir);
	}
	free(srcs);
}

int
tkdoc_is_records(const struct tkdoc *d, const struct tkdoc_src *s)
{
	size_t i;

	if (d->from != TKDOC_AUTO)
		return d->from == TKDOC_RECORDS;
	for (i = 0; i < s->len && strchr(" \t\r\n", s->buf[i]) != NULL; i++)
		;
	return i < s->len && s->buf[i] == '{';
}

void
tkdoc_records(struct tkdoc *d, const struct tkdoc_src *s,
    void (*fn)(jv, const char *, long, void *), void *arg)
{
	const char *p = s->buf, *end = s->buf + s->len, *nl, *bad;
	size_t at;
	long line = 0;
	jv v;

	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		line++;
		if (strspn(p, " \t\r") >= (size_t)(nl - p))
			continue;
		if ((bad = au_json_check(p, (size_t)(nl - p), &at)) != NULL) {
			au_errat(s->name, line, "%s", bad);
			tkdoc_worse(d, EX_DATAERR);
			continue;
		}
		v = jv_parse_sized(p, (int)(nl - p));
		if (jv_get_kind(v) != JV_KIND_OBJECT) {
			au_errat(s->name, line, "not a JSON object (found %s)",
			    au_jv_kind(v));
			tkdoc_worse(d, EX_DATAERR);
			jv_free(v);
			continue;
		}
		fn(v, s->name, line, arg);
	}
}

static long
be16(const unsigned char *p)
{
	return (long)p[0] << 8 | p[1];
}

static long
be32(const unsigned char *p)
{
	return (long)p[0] << 24 | (long)p[1] << 16 | (long)p[2] << 8 | p[3];
}

const char *
tkdoc_image(const unsigned char *p, size_t n, long *w, long *h,
    const char **ext)
{
	size_t i;

	if (n >= 24 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0 &&
	    memcmp(p + 12, "IHDR", 4) == 0) {
		*w = be32(p + 16);
		*h = be32(p + 20);
		*ext = "png";
		return *w > 0 && *h > 0 ? "image/png" : NULL;
	}
	if (n < 4 || p[0] != 0xff || p[1] != 0xd8)
		return NULL;
	/* JPEG: walk the markers to the first start of frame. */
	for (i = 2; i + 9 < n; i += 2 + (size_t)be16(p + i + 2)) {
		unsigned m;

		if (p[i] != 0xff)
			return NULL;
		m = p[i + 1];
		if (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 &&
		    m != 0xcc) {
			*h = be16(p + i + 5);
			*w = be16(p + i + 7);
			*ext = "jpeg";
			return *w > 0 && *h > 0 ? "image/jpeg" : NULL;
		}
	}
	return NULL;
}


struct cmark_node *
tkdoc_md_parse(const char *buf, size_t len, struct cmark_parser **parser)
{
	static const char *const exts[] = { "table", "strikethrough",
	    "autolink" };
	cmark_parser *p;
	size_t i;

	cmark_gfm_core_extensions_ensure_registered();
	if ((p = cmark_parser_new(CMARK_OPT_DEFAULT)) == NULL)
		au_die(EX_SOFTWARE, "cmark-gfm: out of memory");
	for (i = 0; i < sizeof exts / sizeof exts[0]; i++)
		cmark_parser_attach_syntax_extension(p,
		    cmark_find_syntax_extension(exts[i]));
	cmark_parser_feed(p, buf, len);
	*parser = p;
	return cmark_parser_finish(p);
}

void
tkdoc_md_free(struct cmark_parser *parser, struct cmark_node *doc)
{
	cmark_node_free(doc);
	cmark_parser_free(parser);
}

void
tkdoc_md_text(struct cmark_node *node, struct au_buf *b)
{
	cmark_node *c;
	const char *lit;

	for (c = cmark_node_first_child(node); c; c = cmark_node_next(c)) {
		switch (cmark_node_get_type(c)) {
		case CMARK_NODE_TEXT:
		case CMARK_NODE_CODE:
			if ((lit = cmark_node_get_literal(c)) != NULL)
				au_buf_adds(b, lit);
			break;
		case CMARK_NODE_SOFTBREAK:
		case CMARK_NODE_LINEBREAK:
			au_buf_addc(b, ' ');
			break;
		case CMARK_NODE_HTML_INLINE:
			break;
		default:
			tkdoc_md_text(c, b);
			break;
		}
	}
}

const char *
tkdoc_md_type(struct cmark_node *node)
{
	return cmark_node_get_type_string(node);
}
