/*
 * tk-serve - a preview web server for a directory: files with their MIME
 * type (from a table of extensions: the author's name for a file is what a
 * browser expects, and it costs no read), ETag and Last-Modified with 304s,
 * single byte ranges, HTML directory listings, Markdown rendered by
 * cmark-gfm without raw HTML, and a live reload by server-sent events that
 * inotify drives.  Every path resolves beneath the root with the kernel's
 * help (openat2 RESOLVE_BENEATH, or an O_NOFOLLOW walk where openat2 is
 * missing); dotfiles are hidden and refused unless asked for.
 * libmicrohttpd serves, a thread a connection, so that an event stream
 * may wait for a change without holding up anyone else.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/openat2.h>

#include <cmark-gfm.h>
#include <cmark-gfm-core-extensions.h>
#include <microhttpd.h>

#include "agentutils.h"

enum { O_PORT = AU_LONG, O_BIND, O_DOTFILES, O_LOG };

static const struct au_opt opts[] = {
	{ O_PORT, "port", "N", "listen on port N (0: a free one; default "
	    "8000)", NULL },
	{ O_BIND, "bind", "ADDR", "listen on address ADDR (default "
	    "127.0.0.1)", NULL },
	{ O_DOTFILES, "dotfiles", NULL, "list and serve names that begin "
	    "with a dot", NULL },
	{ O_LOG, "log", NULL, "write a serve.request record for each "
	    "request", NULL },
	{ 0, NULL, NULL, NULL, NULL }
};

static const struct au_cmd cmd = {
	"tk-serve", "[DIR]",
	"Preview a directory over HTTP.",
	opts, 0, "DIR"
};

/* The paths of our own, beneath a name no file is served under. */
#define EVENTS "/.tk-serve/events"
#define RELOAD "/.tk-serve/reload.js"
#define SCRIPT "<script src=\"" RELOAD "\"></script>\n"
#define RELOADJS "new EventSource(\"" EVENTS "\").onmessage = " \
	"function () { location.reload(); };\n"
#define CSP "default-src 'self'; img-src * data:; " \
	"style-src 'self' 'unsafe-inline'; script-src 'self'"
#define STYLE "<style>body{font:16px/1.5 sans-serif;max-width:48em;" \
	"margin:2em auto;padding:0 1em}pre,code{background:#f4f4f4}" \
	"table{border-collapse:collapse}td,th{border:1px solid #ccc;" \
	"padding:.2em .5em}</style>\n"

static int rootfd, dotfiles, logging, beneath = 1;
static long nrequests;
static pthread_mutex_t outlock = PTHREAD_MUTEX_INITIALIZER;

/* The live reload: a generation bumped on each change, and a stop. */
static pthread_mutex_t genlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gencond = PTHREAD_COND_INITIALIZER;
static unsigned long generation;
static int stopping;

static int sigpipe[2];
static volatile sig_atomic_t stopsig;

static void
onstop(int sig)
{
	int e = errno;

	stopsig = sig;
	(void)!write(sigpipe[1], "", 1);
	errno = e;
}

static void
out(jv rec)
{
	pthread_mutex_lock(&outlock);
	au_out_rec(rec);
	pthread_mutex_unlock(&outlock);
	jv_free(rec);
}

/* ---- names and paths ---- */

static const struct { const char *ext, *type; } mimes[] = {
	{ "avif", "image/avif" }, { "bmp", "image/bmp" },
	{ "c", "text/plain; charset=utf-8" },
	{ "css", "text/css; charset=utf-8" },
	{ "csv", "text/csv; charset=utf-8" },
	{ "gif", "image/gif" }, { "gz", "application/gzip" },
	{ "h", "text/plain; charset=utf-8" },
	{ "htm", "text/html; charset=utf-8" },
	{ "html", "text/html; charset=utf-8" },
	{ "ico", "image/vnd.microsoft.icon" }, { "jpeg", "image/jpeg" },
	{ "jpg", "image/jpeg" },
	{ "js", "text/javascript; charset=utf-8" },
	{ "json", "application/json" }, { "mjs", "text/javascript; "
	    "charset=utf-8" }, { "mp3", "audio/mpeg" }, { "mp4", "video/mp4" },
	{ "ndjson", "application/x-ndjson" }, { "ogg", "audio/ogg" },
	{ "otf", "font/otf" }, { "pdf", "application/pdf" },
	{ "png", "image/png" }, { "svg", "image/svg+xml" },
	{ "tar", "application/x-tar" }, { "tsv", "text/tab-separated-values; "
	    "charset=utf-8" }, { "ttf", "font/ttf" },
	{ "txt", "text/plain; charset=utf-8" }, { "wasm", "application/wasm" },
	{ "wav", "audio/wav" }, { "webm", "video/webm" },
	{ "webp", "image/webp" }, { "woff", "font/woff" },
	{ "woff2", "font/woff2" }, { "xml", "application/xml" },
	{ "zip", "application/zip" },
};

static const char *
mimetype(const char *name)
{
	const char *dot = strrchr(name, '.');
	size_t i;

	if (dot != NULL && dot != name)
		for (i = 0; i < sizeof mimes / sizeof mimes[0]; i++)
			if (strcasecmp(dot + 1, mimes[i].ext) == 0)
				return mimes[i].type;
	return "application/octet-stream";
}

static int
ismarkdown(const char *name)
{
	const char *dot = strrchr(name, '.');

	return dot != NULL && dot != name && (strcasecmp(dot, ".md") == 0 ||
	    strcasecmp(dot, ".markdown") == 0);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The path of the URL u, percent-decoded, without its leading slashes:
 * NULL (400) for a malformed escape or a NUL.  Caller frees. */
static char *
decode(const char *u)
{
	char *p = au_xmalloc(strlen(u) + 1), *q = p;
	int hi, lo;

	while (*u == '/')
		u++;
	for (; *u != '\0' && *u != '?'; u++) {
		if (*u != '%') {
			*q++ = *u;
			continue;
		}
		if ((hi = hexval(u[1])) < 0 || (lo = hexval(u[2])) < 0 ||
		    (hi | lo) == 0) {
			free(p);
			return NULL;
		}
		*q++ = (char)(hi << 4 | lo);
		u += 2;
	}
	*q = '\0';
	return p;
}

/* Whether the relative path p may be asked for: 0, or the HTTP status
 * that refuses it (403 for "..", 404 for a hidden name). */
static int
refused(const char *p)
{
	const char *c = p, *e;
	size_t n;

	while (*c != '\0') {
		e = strchrnul(c, '/');
		n = (size_t)(e - c);
		if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' &&
		    c[1] == '.'))
			return MHD_HTTP_FORBIDDEN;
		if (n > 0 && c[0] == '.' && !dotfiles)
			return MHD_HTTP_NOT_FOUND;
		c = *e ? e + 1 : e;
	}
	return 0;
}

/* Open the relative path p beneath the root: with openat2 and
 * RESOLVE_BENEATH (a symlink may point anywhere within), or where the
 * kernel lacks it component by component with O_NOFOLLOW (no symlinks
 * at all).  -1 with errno set; EXDEV or ELOOP for an escape. */
static int
openbeneath(const char *p)
{
	struct open_how how = { .flags = O_RDONLY | O_CLOEXEC,
	    .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS };
	char *s, *c, *e;
	int fd, next;

	if (*p == '\0')
		return openat(rootfd, ".", O_RDONLY | O_CLOEXEC | O_DIRECTORY);
	if (beneath) {
		fd = (int)syscall(SYS_openat2, rootfd, p, &how, sizeof how);
		if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
			return fd;
		beneath = 0;
	}
	s = au_xstrdup(p);
	fd = openat(rootfd, ".", O_RDONLY | O_CLOEXEC | O_DIRECTORY);
	for (c = s; fd >= 0 && *c != '\0'; c = e) {
		e = strchrnul(c, '/');
		if (*e != '\0')
			*e++ = '\0';
		if (*c == '\0')
			continue;
		next = openat(fd, c, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
		    O_NONBLOCK);
		close(fd);
		fd = next;
	}
	free(s);
	return fd;
}

static void
addhtml(struct au_buf *b, const char *s)
{
	for (; *s != '\0'; s++)
		switch (*s) {
		case '&': au_buf_adds(b, "&amp;"); break;
		case '<': au_buf_adds(b, "&lt;"); break;
		case '>': au_buf_adds(b, "&gt;"); break;
		case '"': au_buf_adds(b, "&quot;"); break;
		case '\'': au_buf_adds(b, "&#39;"); break;
		default: au_buf_addc(b, *s);
		}
}

static void
addurl(struct au_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *u = (const unsigned char *)s;

	for (; *u != '\0'; u++)
		if ((*u >= 'a' && *u <= 'z') || (*u >= 'A' && *u <= 'Z') ||
		    (*u >= '0' && *u <= '9') || strchr("-._~/", *u) != NULL) {
			au_buf_addc(b, (char)*u);
		} else {
			au_buf_addc(b, '%');
			au_buf_addc(b, hex[*u >> 4]);
			au_buf_addc(b, hex[*u & 15]);
		}
}

static void
page(struct au_buf *b, const char *title)
{
	au_buf_adds(b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width\">\n<title>");
	addhtml(b, title);
	au_buf_adds(b, "</title>\n" STYLE SCRIPT "</head><body>\n");
}

/* ---- responses ---- */

struct req {
	struct MHD_Connection *c;
	const char *method, *url;
	int status;
	int64_t bytes;
};

static enum MHD_Result
reply(struct req *r, int status, struct MHD_Response *res)
{
	enum MHD_Result ok;
	char ts[AU_TS_LEN];

	MHD_add_response_header(res, "X-Content-Type-Options", "nosniff");
	ok = MHD_queue_response(r->c, (unsigned)status, res);
	MHD_destroy_response(res);
	pthread_mutex_lock(&outlock);
	nrequests++;
	pthread_mutex_unlock(&outlock);
	if (logging)
		out(jv_object_set(JV_OBJECT(jv_string("type"),
		    jv_string("serve.request"),
		    jv_string("ts"), jv_string(au_ts_fmt(au_now_ms(), ts)),
		    jv_string("method"), jv_string(r->method),
		    jv_string("path"), jv_string(r->url),
		    jv_string("status"), jv_number(status)),
		    jv_string("bytes"), r->bytes >= 0 ?
		    jv_number((double)r->bytes) : jv_null()));
	return ok;
}

static enum MHD_Result
sendbuf(struct req *r, int status, const char *type, struct au_buf *b)
{
	struct MHD_Response *res = MHD_create_response_from_buffer(b->len,
	    b->len ? b->s : (void *)"", b->len ? MHD_RESPMEM_MUST_FREE :
	    MHD_RESPMEM_PERSISTENT);

	r->bytes = (int64_t)b->len;
	if (b->len == 0)
		au_buf_free(b);
	*b = (struct au_buf)AU_BUF_INIT;
	MHD_add_response_header(res, "Content-Type", type);
	if (strncmp(type, "text/html", 9) == 0)
		MHD_add_response_header(res, "Content-Security-Policy", CSP);
	return reply(r, status, res);
}

static enum MHD_Result
error(struct req *r, int status, const char *what)
{
	struct au_buf b = AU_BUF_INIT;

	au_buf_addf(&b, "%d %s\n", status, what);
	return sendbuf(r, status, "text/plain; charset=utf-8", &b);
}

/* The validators of the file st: its ETag (sfx tells a rendering from
 * the file) and Last-Modified; whether the request's conditions say it
 * has them already (If-None-Match, else If-Modified-Since). */
static int
fresh(struct req *r, const struct stat *st, const char *sfx,
    char etag[96], char lm[40])
{
	const char *inm, *ims;
	struct tm tm;
	char *end;
	size_t n;

	snprintf(etag, 96, "\"%jx-%jx-%jx%s\"", (uintmax_t)st->st_ino,
	    (uintmax_t)st->st_size, (uintmax_t)st->st_mtim.tv_sec *
	    1000000000u + (uintmax_t)st->st_mtim.tv_nsec, sfx);
	strftime(lm, 40, "%a, %d %b %Y %H:%M:%S GMT",
	    gmtime_r(&st->st_mtim.tv_sec, &tm));
	n = strlen(etag);
	inm = MHD_lookup_connection_value(r->c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_IF_NONE_MATCH);
	if (inm != NULL) {
		for (; *inm != '\0'; inm++) {
			if (strncmp(inm, "W/", 2) == 0)
				inm += 2;
			if (*inm == '*' || strncmp(inm, etag, n) == 0)
				return 1;
			if ((inm = strchr(inm, ',')) == NULL)
				break;
			while (inm[1] == ' ')
				inm++;
		}
		return 0;
	}
	ims = MHD_lookup_connection_value(r->c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_IF_MODIFIED_SINCE);
	memset(&tm, 0, sizeof tm);
	if (ims != NULL && (end = strptime(ims, "%a, %d %b %Y %H:%M:%S GMT",
	    &tm)) != NULL && *end == '\0')
		return st->st_mtim.tv_sec <= timegm(&tm);
	return 0;
}

static void
validators(struct MHD_Response *res, const char *etag, const char *lm)
{
	MHD_add_response_header(res, "ETag", etag);
	MHD_add_response_header(res, "Last-Modified", lm);
	MHD_add_response_header(res, "Cache-Control", "no-cache");
}

static enum MHD_Result
notmodified(struct req *r, const char *etag, const char *lm)
{
	struct MHD_Response *res = MHD_create_response_from_buffer(0,
	    (void *)"", MHD_RESPMEM_PERSISTENT);

	r->bytes = 0;
	validators(res, etag, lm);
	return reply(r, MHD_HTTP_NOT_MODIFIED, res);
}

/* Parse the Range header h of a file of size n: 1 with [*from, *to] for
 * one satisfiable range, 0 to send it all (no range, several, or a
 * syntax we do not know), -1 for 416. */
static int
range(const char *h, uint64_t n, uint64_t *from, uint64_t *to)
{
	unsigned long long a, b;
	char *end;

	if (h == NULL || strncmp(h, "bytes=", 6) != 0 || strchr(h, ',') !=
	    NULL)
		return 0;
	h += 6;
	errno = 0;
	if (*h == '-') {
		b = strtoull(h + 1, &end, 10);
		if (errno || end == h + 1 || *end != '\0')
			return 0;
		if (b == 0 || n == 0)
			return -1;
		*from = b >= n ? 0 : n - b;
		*to = n - 1;
		return 1;
	}
	if (*h < '0' || *h > '9')
		return 0;
	a = strtoull(h, &end, 10);
	if (errno || *end != '-')
		return 0;
	h = end + 1;
	b = n ? n - 1 : 0;
	if (*h != '\0') {
		b = strtoull(h, &end, 10);
		if (errno || *end != '\0' || b < a)
			return 0;
		if (b >= n)
			b = n - 1;
	}
	if (a >= n)
		return -1;
	*from = a;
	*to = b;
	return 1;
}

static enum MHD_Result
file(struct req *r, int fd, const struct stat *st, const char *name)
{
	struct MHD_Response *res;
	char etag[96], lm[40], cr[80];
	const char *ir;
	uint64_t from = 0, to = 0, n = (uint64_t)st->st_size;
	int rg;

	if (fresh(r, st, "", etag, lm)) {
		close(fd);
		return notmodified(r, etag, lm);
	}
	rg = range(MHD_lookup_connection_value(r->c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_RANGE), n, &from, &to);
	ir = MHD_lookup_connection_value(r->c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_IF_RANGE);
	if (ir != NULL && strcmp(ir, etag) != 0 && strcmp(ir, lm) != 0)
		rg = 0;
	if (rg < 0) {
		close(fd);
		res = MHD_create_response_from_buffer(0, (void *)"",
		    MHD_RESPMEM_PERSISTENT);
		snprintf(cr, sizeof cr, "bytes */%ju", (uintmax_t)n);
		MHD_add_response_header(res, "Content-Range", cr);
		r->bytes = 0;
		return reply(r, MHD_HTTP_RANGE_NOT_SATISFIABLE, res);
	}
	if (rg == 0) {
		from = 0;
		to = n ? n - 1 : 0;
	}
	r->bytes = (int64_t)(n ? to - from + 1 : 0);
	res = MHD_create_response_from_fd_at_offset64((uint64_t)r->bytes, fd,
	    from);
	MHD_add_response_header(res, "Content-Type", mimetype(name));
	MHD_add_response_header(res, "Accept-Ranges", "bytes");
	validators(res, etag, lm);
	if (rg == 0)
		return reply(r, MHD_HTTP_OK, res);
	snprintf(cr, sizeof cr, "bytes %ju-%ju/%ju", (uintmax_t)from,
	    (uintmax_t)to, (uintmax_t)n);
	MHD_add_response_header(res, "Content-Range", cr);
	return reply(r, MHD_HTTP_PARTIAL_CONTENT, res);
}

static enum MHD_Result
markdown(struct req *r, int fd, const struct stat *st, const char *name)
{
	static const char *const exts[] = { "table", "strikethrough",
	    "autolink" };
	struct au_buf b = AU_BUF_INIT;
	struct MHD_Response *res;
	cmark_parser *p;
	cmark_node *doc;
	char etag[96], lm[40], buf[65536], *html;
	const char *base = strrchr(name, '/');
	ssize_t n;
	size_t i;

	if (fresh(r, st, "-md", etag, lm)) {
		close(fd);
		return notmodified(r, etag, lm);
	}
	p = cmark_parser_new(CMARK_OPT_DEFAULT);
	for (i = 0; i < sizeof exts / sizeof exts[0]; i++)
		cmark_parser_attach_syntax_extension(p,
		    cmark_find_syntax_extension(exts[i]));
	while ((n = read(fd, buf, sizeof buf)) > 0)
		cmark_parser_feed(p, buf, (size_t)n);
	close(fd);
	if (n < 0) {
		cmark_parser_free(p);
		return error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "read error");
	}
	doc = cmark_parser_finish(p);
	html = cmark_render_html(doc, CMARK_OPT_DEFAULT,
	    cmark_parser_get_syntax_extensions(p));
	page(&b, base ? base + 1 : name);
	au_buf_adds(&b, html);
	au_buf_adds(&b, "</body></html>\n");
	free(html);
	cmark_node_free(doc);
	cmark_parser_free(p);
	r->bytes = (int64_t)b.len;
	res = MHD_create_response_from_buffer(b.len, b.s,
	    MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(res, "Content-Type", "text/html; "
	    "charset=utf-8");
	MHD_add_response_header(res, "Content-Security-Policy", CSP);
	validators(res, etag, lm);
	return reply(r, MHD_HTTP_OK, res);
}

static int
visible(const struct dirent *d)
{
	return strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0 &&
	    (dotfiles || d->d_name[0] != '.');
}

static enum MHD_Result
listing(struct req *r, int fd, const char *path)
{
	struct au_buf b = AU_BUF_INIT;
	struct dirent **ents;
	struct stat st;
	char *title = au_xasprintf("/%s", path), when[32];
	struct tm tm;
	int i, n, dir;

	n = scandirat(fd, ".", &ents, visible, alphasort);
	if (n < 0) {
		close(fd);
		free(title);
		return error(r, MHD_HTTP_FORBIDDEN, "cannot list");
	}
	page(&b, title);
	au_buf_adds(&b, "<h1>");
	addhtml(&b, title);
	au_buf_adds(&b, "</h1>\n<table>\n");
	if (*path != '\0')
		au_buf_adds(&b, "<tr><td><a href=\"../\">../</a></td><td></td>"
		    "<td></td></tr>\n");
	for (i = 0; i < n; i++) {
		if (fstatat(fd, ents[i]->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			free(ents[i]);
			continue;
		}
		dir = S_ISDIR(st.st_mode);
		strftime(when, sizeof when, "%Y-%m-%d %H:%M",
		    gmtime_r(&st.st_mtim.tv_sec, &tm));
		au_buf_adds(&b, "<tr><td><a href=\"");
		addurl(&b, ents[i]->d_name);
		au_buf_adds(&b, dir ? "/\">" : "\">");
		addhtml(&b, ents[i]->d_name);
		au_buf_adds(&b, dir ? "/" : "");
		au_buf_adds(&b, "</a></td><td>");
		if (!dir)
			au_buf_addint(&b, st.st_size);
		au_buf_addf(&b, "</td><td>%s</td></tr>\n", when);
		free(ents[i]);
	}
	free(ents);
	close(fd);
	free(title);
	au_buf_adds(&b, "</table>\n</body></html>\n");
	return sendbuf(r, MHD_HTTP_OK, "text/html; charset=utf-8", &b);
}

/* ---- the live reload ---- */

static ssize_t
events(void *cls, uint64_t pos, char *buf, size_t max)
{
	unsigned long *seen = cls;
	struct timespec until;
	int n, rc = 0;

	if (max < 64)
		return 0;
	/* A greeting first, so that a client knows it is listening. */
	if (pos == 0)
		return snprintf(buf, max, "retry: 1000\n: tk-serve\n\n");
	pthread_mutex_lock(&genlock);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 15;
	while (*seen == generation && !stopping && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&gencond, &genlock, &until);
	if (stopping) {
		pthread_mutex_unlock(&genlock);
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
	if (*seen == generation)
		n = snprintf(buf, max, ": ping\n\n");
	else
		n = snprintf(buf, max, "data: %lu\n\n", generation);
	*seen = generation;
	pthread_mutex_unlock(&genlock);
	return n;
}

static enum MHD_Result
eventstream(struct req *r)
{
	unsigned long *seen = au_xmalloc(sizeof *seen);
	struct MHD_Response *res;

	pthread_mutex_lock(&genlock);
	*seen = generation;
	pthread_mutex_unlock(&genlock);
	res = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096,
	    events, seen, free);
	MHD_add_response_header(res, "Content-Type", "text/event-stream");
	MHD_add_response_header(res, "Cache-Control", "no-cache");
	r->bytes = -1;
	return reply(r, MHD_HTTP_OK, res);
}

/* ---- requests ---- */

static enum MHD_Result
serve(struct req *r)
{
	struct MHD_Response *res;
	struct au_buf b = AU_BUF_INIT;
	struct stat st;
	char *path;
	size_t n;
	int fd, idx, status;
	enum MHD_Result ok;

	if (strcmp(r->url, RELOAD) == 0) {
		au_buf_adds(&b, RELOADJS);
		return sendbuf(r, MHD_HTTP_OK, "text/javascript; "
		    "charset=utf-8", &b);
	}
	if (strcmp(r->url, EVENTS) == 0)
		return eventstream(r);
	if (r->url[0] != '/' || (path = decode(r->url)) == NULL)
		return error(r, MHD_HTTP_BAD_REQUEST, "bad request");
	if ((status = refused(path)) != 0) {
		free(path);
		return error(r, status, status == MHD_HTTP_FORBIDDEN ?
		    "forbidden" : "not found");
	}
	if ((fd = openbeneath(path)) < 0) {
		status = errno == EXDEV || errno == ELOOP || errno == EACCES ?
		    MHD_HTTP_FORBIDDEN : MHD_HTTP_NOT_FOUND;
		free(path);
		return error(r, status, status == MHD_HTTP_FORBIDDEN ?
		    "forbidden" : "not found");
	}
	n = strlen(path);
	if (fstat(fd, &st) != 0 || (!S_ISREG(st.st_mode) &&
	    !S_ISDIR(st.st_mode))) {
		close(fd);
		free(path);
		return error(r, MHD_HTTP_FORBIDDEN, "forbidden");
	}
	if (S_ISDIR(st.st_mode) && n > 0 && path[n - 1] != '/') {
		close(fd);
		free(path);
		au_buf_adds(&b, "moved\n");
		res = MHD_create_response_from_buffer(b.len, b.s,
		    MHD_RESPMEM_MUST_FREE);
		path = au_xasprintf("%s/", r->url);
		MHD_add_response_header(res, "Location", path);
		MHD_add_response_header(res, "Content-Type", "text/plain; "
		    "charset=utf-8");
		free(path);
		r->bytes = 6;
		return reply(r, MHD_HTTP_MOVED_PERMANENTLY, res);
	}
	if (S_ISDIR(st.st_mode)) {
		idx = openat(fd, "index.html", O_RDONLY | O_CLOEXEC |
		    O_NOFOLLOW | O_NONBLOCK);
		if (idx >= 0 && fstat(idx, &st) == 0 && S_ISREG(st.st_mode)) {
			close(fd);
			free(path);
			return file(r, idx, &st, "index.html");
		}
		if (idx >= 0)
			close(idx);
		ok = listing(r, fd, path);
	} else if (ismarkdown(path)) {
		ok = markdown(r, fd, &st, path);
	} else {
		ok = file(r, fd, &st, path);
	}
	free(path);
	return ok;
}

static enum MHD_Result
handler(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *data,
    size_t *size, void **state)
{
	struct req r = { c, method, url, 0, 0 };
	struct MHD_Response *res;

	(void)cls;
	(void)version;
	(void)data;
	/* The first call has the headers alone: a response queued then
	 * would close the connection. */
	if (*state == NULL) {
		*state = c;
		return MHD_YES;
	}
	*size = 0;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		res = MHD_create_response_from_buffer(0, (void *)"",
		    MHD_RESPMEM_PERSISTENT);
		MHD_add_response_header(res, "Allow", "GET, HEAD");
		return reply(&r, MHD_HTTP_METHOD_NOT_ALLOWED, res);
	}
	return serve(&r);
}

/* MHD decodes nothing: decode() does, refusing what it must. */
static size_t
keep(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

/* ---- changes (inotify) ---- */

#define WATCHED (IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM | \
	IN_MOVED_TO | IN_ATTRIB | IN_ONLYDIR)

static int ino = -1;
static char **wdpath;
static size_t wdcap;

static void
watch(const char *path)
{
	int wd = inotify_add_watch(ino, path, WATCHED);
	size_t had = wdcap;

	if (wd < 0) {
		if (errno == ENOSPC)
			au_warn("%s: too many watches; changes beneath it "
			    "reload nothing", au_quote(path));
		return;
	}
	wdpath = au_grow(wdpath, &wdcap, (size_t)wd + 1, sizeof *wdpath);
	memset(wdpath + had, 0, (wdcap - had) * sizeof *wdpath);
	free(wdpath[wd]);
	wdpath[wd] = au_xstrdup(path);
}

static int
walked(const char *path, const struct stat *st, int kind, struct FTW *f)
{
	(void)st;
	if (f->level > 0 && !dotfiles && path[f->base] == '.')
		return FTW_SKIP_SUBTREE;
	if (kind == FTW_D)
		watch(path);
	return FTW_CONTINUE;
}

/* Read the pending events; 1 if one of them matters. */
static int
changes(void)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct
	    inotify_event))));
	const struct inotify_event *e;
	ssize_t n;
	char *p;
	int any = 0;

	while ((n = read(ino, buf, sizeof buf)) > 0)
		for (p = buf; p < buf + n; p += sizeof *e + e->len) {
			e = (const struct inotify_event *)(void *)p;
			if (e->len == 0 || (!dotfiles && e->name[0] == '.'))
				continue;
			any = 1;
			if ((e->mask & IN_ISDIR) && (e->mask & (IN_CREATE |
			    IN_MOVED_TO)) && e->wd >= 0 &&
			    (size_t)e->wd < wdcap && wdpath[e->wd] != NULL) {
				char *sub = au_xasprintf("%s/%s",
				    wdpath[e->wd], e->name);

				nftw(sub, walked, 16, FTW_PHYS |
				    FTW_ACTIONRETVAL);
				free(sub);
			}
		}
	return any;
}

static void
bump(void)
{
	pthread_mutex_lock(&genlock);
	generation++;
	pthread_cond_broadcast(&gencond);
	pthread_mutex_unlock(&genlock);
}

/* ---- the listening socket ---- */

static int
listener(const char *bind_, const char *port, char **url, int *pno)
{
	struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICHOST |
	    AI_NUMERICSERV, .ai_socktype = SOCK_STREAM }, *ai;
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	char host[NI_MAXHOST], serv[NI_MAXSERV];
	int fd, on = 1, rc;

	if ((rc = getaddrinfo(bind_, port, &hints, &ai)) != 0)
		au_die(EX_USAGE, "--bind: %s is not an address",
		    au_quote(bind_));
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		au_die(EX_OSERR, "socket:");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
	    listen(fd, 1024) != 0)
		au_die(EX_UNAVAILABLE, "%s port %s:", bind_, port);
	freeaddrinfo(ai);
	getsockname(fd, (struct sockaddr *)&ss, &len);
	getnameinfo((struct sockaddr *)&ss, len, host, sizeof host, serv,
	    sizeof serv, NI_NUMERICHOST | NI_NUMERICSERV);
	*pno = atoi(serv);
	*url = ss.ss_family == AF_INET6 ?
	    au_xasprintf("http://[%s]:%s/", host, serv) :
	    au_xasprintf("http://%s:%s/", host, serv);
	return fd;
}

int
main(int argc, char **argv)
{
	const char *arg, *bind_ = "127.0.0.1", *port = "8000", *dir = ".";
	char *url, *root, *end, ts[AU_TS_LEN], sig[16];
	struct MHD_Daemon *d;
	struct pollfd pf[2];
	long v;
	int c, fd, pno;

	au_setprog(argv[0]);
	while ((c = au_getopt(&cmd, argc, argv, &arg)) != -1) {
		switch (c) {
		case O_PORT:
			errno = 0;
			v = strtol(arg, &end, 10);
			if (errno || end == arg || *end || v < 0 || v > 65535)
				au_usage_die(&cmd, "--port: %s is not a port",
				    au_quote(arg));
			port = arg;
			break;
		case O_BIND:
			bind_ = arg;
			break;
		case O_DOTFILES:
			dotfiles = 1;
			break;
		case O_LOG:
			logging = 1;
			break;
		}
	}
	argc -= au_optind;
	argv += au_optind;
	if (argc > 1)
		au_usage_die(&cmd, "too many operands");
	if (argc == 1)
		dir = argv[0];
	if ((root = realpath(dir, NULL)) == NULL ||
	    (rootfd = open(root, O_RDONLY | O_CLOEXEC | O_DIRECTORY)) < 0)
		au_die(EX_NOINPUT, "%s:", au_quote(dir));
	au_out_init();
	fd = listener(bind_, port, &url, &pno);

	if ((ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0)
		au_die(EX_OSERR, "inotify:");
	nftw(root, walked, 16, FTW_PHYS | FTW_ACTIONRETVAL);
	cmark_gfm_core_extensions_ensure_registered();
	if (pipe2(sigpipe, O_CLOEXEC | O_NONBLOCK) != 0)
		au_die(EX_OSERR, "pipe:");
	signal(SIGPIPE, SIG_IGN);
	au_catch_stop(onstop);

	d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION |
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, 0, NULL, NULL,
	    handler, NULL, MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_UNESCAPE_CALLBACK, keep, NULL,
	    MHD_OPTION_CONNECTION_TIMEOUT, 60u, MHD_OPTION_END);
	if (d == NULL)
		au_die(EX_UNAVAILABLE, "cannot start the server");
	out(JV_OBJECT(jv_string("type"), jv_string("serve.listen"),
	    jv_string("ts"), jv_string(au_ts_fmt(au_now_ms(), ts)),
	    jv_string("url"), jv_string(url), jv_string("root"),
	    jv_string(root), jv_string("bind"), jv_string(bind_),
	    jv_string("port"), jv_number(pno)));
	/* At once, whatever standard output is: scripts wait for it. */
	fflush(stdout);

	pf[0] = (struct pollfd){ .fd = sigpipe[0], .events = POLLIN };
	pf[1] = (struct pollfd){ .fd = ino, .events = POLLIN };
	while (!stopsig) {
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			au_die(EX_OSERR, "poll:");
		}
		if (pf[1].revents & POLLIN) {
			/* One reload for a burst: an editor's save is
			 * several events. */
			int any = changes();

			while (poll(&pf[1], 1, 50) > 0)
				any |= changes();
			if (any)
				bump();
		}
	}
	pthread_mutex_lock(&genlock);
	stopping = 1;
	pthread_cond_broadcast(&gencond);
	pthread_mutex_unlock(&genlock);
	MHD_stop_daemon(d);
	snprintf(sig, sizeof sig, "SIG%s", sigabbrev_np(stopsig));
	out(JV_OBJECT(jv_string("type"), jv_string("serve.stop"),
	    jv_string("ts"), jv_string(au_ts_fmt(au_now_ms(), ts)),
	    jv_string("signal"), jv_string(sig),
	    jv_string("requests"), jv_number(nrequests)));
	free(url);
	free(root);
	au_out_close();
	return 0;
}
