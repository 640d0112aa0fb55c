/*
 * tk-file - file access confined to a workspace root, for an agent that
 * may be confused or hostile: read, write, append, list, stat, mkdir, rm,
 * mv, patch and search, from the command line or as a stream of file.op
 * records each answered by a file.result.  Paths resolve beneath the
 * root through lib/beneath.c (no "..", no absolute path, no symlink
 * followed); everything after that works on directory descriptors with
 * the *at calls.  Writes replace files atomically (a temporary file in
 * the same directory, fsync, rename, fsync of the directory) under a lock
 * on the root, so that --if-match holds from the check to the rename,
 * and every change goes to the audit log.  With --session the root is a
 * file session's (ws-session open), and each operation goes to its
 * transcript: the op record, then the records it wrote as a segment.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#include "agentutils.h"

enum {
	O_ROOT = AU_LONG, O_LINES, O_BINARY, O_MAXSIZE, O_IFMATCH, O_DEPTH,
	O_REGEX, O_LIMIT, O_NOAUDIT, O_SESSION
};

static const struct au_opt opts[] = {
	{ O_ROOT, "root", "DIR", "the workspace: every path is beneath DIR",
	    "DIR" },
	{ O_LINES, "lines", "RANGE", "read: only the lines RANGE (10-20, 10-, "
	    "-20, 7)", NULL },
	{ O_BINARY, "binary", NULL, "read: a binary file too, in base64",
	    NULL },
	{ O_MAXSIZE, "max-size", "SIZE", "largest file read or written "
	    "(default 10M)", NULL },
	{ O_IFMATCH, "if-match", "SHA256", "change only a file whose content "
	    "has this SHA-256", NULL },
	{ 'p', "parents", NULL, "mkdir: make missing parents; an existing "
	    "directory is fine", NULL },
	{ 'r', "recursive", NULL, "list: descend; rm: a directory and all in "
	    "it", NULL },
	{ O_DEPTH, "depth", "N", "list, search: N levels deep at most",
	    NULL },
	{ O_REGEX, "regex", NULL, "search: PATTERN is a POSIX extended "
	    "regular expression", NULL },
	{ O_LIMIT, "limit", "N", "search: N matches at most (default 1000)",
	    NULL },
	{ O_NOAUDIT, "no-audit", NULL, "keep the changes out of the audit "
	    "log", NULL },
	{ O_SESSION, "session", "ID", "the workspace is file session ID's "
	    "root; the operations go to its transcript", NULL },
	{ 0, NULL, NULL, NULL, NULL }
};

static const struct au_cmd cmd = {
	"tk-file", "--root DIR read|write|append|stat|mkdir|rm|patch PATH\n"
	"--root DIR list [PATH]\n"
	"--root DIR mv FROM TO\n"
	"--root DIR search PATTERN [PATH]\n"
	"--root DIR [file ...]\n"
	"--session ID OP [ARG ...]\n"
	"--session ID [file ...]",
	"Read, write, list, patch and search files beneath a workspace root.",
	opts, AU_USE_DB | AU_USE_RECORDS,
	"read write append list stat mkdir rm mv patch search"
};

static const char *const ops[] = {
	"read", "write", "append", "list", "stat", "mkdir", "rm", "mv",
	"patch", "search", NULL
};
/* The ops that change something: locked, audited. */
static const char *const changes[] = {
	"write", "append", "mkdir", "rm", "mv", "patch", NULL
};

#define SNIFF 8192	/* bytes looked at for a NUL */

static int root = -1;
static char *rootpath;		/* its real path, for the audit log */
static uint64_t maxsize = 10 << 20;
static int noaudit, audit_open;
static sqlite3 *db;
static struct au_audit *audit;
static int worst;
static const char *sid;		/* --session, or NULL */
/* The output of the operation under way, for the session's transcript:
 * its first AU_WS_KEEP bytes (and one more, to cut at a character's
 * start), its size and its SHA-256. */
static struct {
	struct au_buf keep;
	int64_t bytes;
	struct au_sha256 *sha;
} seg;

/* Keep the worst exit status, in this order. */
static void
outcome(int rc)
{
	static const int rank[] = { 0, 1, EX_TEMPFAIL, EX_NOINPUT,
	    EX_DATAERR, EX_CANTCREAT, EX_NOPERM, EX_IOERR, EX_SOFTWARE };

	worst = au_worse(worst, rc, rank, sizeof rank / sizeof rank[0]);
}

static int
among(const char *s, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(s, *list) == 0)
			return 1;
	return 0;
}

/* ---- values in records -------------------------------------------------- */

static void
b64(struct au_buf *b, const void *p, size_t n)
{
	au_buf_grow(b, 4 * ((n + 2) / 3) + 1);
	b->len += EVP_EncodeBlock((unsigned char *)b->s + b->len, p, (int)n);
	b->s[b->len] = '\0';
}

/* Decode base64 s into *out (malloc'd, NUL-terminated) and *n: 0 or -1. */
static int
unb64(const char *s, char **out, size_t *n)
{
	size_t len = strlen(s);
	int got;

	*out = NULL;
	if (len % 4 != 0)
		return -1;
	*out = au_xmalloc(len / 4 * 3 + 1);
	if ((got = EVP_DecodeBlock((unsigned char *)*out,
	    (const unsigned char *)s, (int)len)) < 0) {
		free(*out);
		*out = NULL;
		return -1;
	}
	if (len > 0)
		got -= (s[len - 1] == '=') + (s[len - 2] == '=');
	(*out)[got] = '\0';
	*n = (size_t)got;
	return 0;
}

/* r with key set to the name s: as a string, and when s is not UTF-8
 * also as key_base64, its exact bytes (the string shows U+FFFD for each
 * bad byte). */
static jv
setname(jv r, const char *key, const char *s)
{
	size_t n = strlen(s);

	r = jv_object_set(r, jv_string(key), jv_string_sized(s, (int)n));
	if (au_utf8_valid(s, n) != n) {
		struct au_buf b = AU_BUF_INIT;
		char k[32];

		b64(&b, s, n);
		snprintf(k, sizeof k, "%s_base64", key);
		r = jv_object_set(r, jv_string(k), jv_string(b.s));
		au_buf_free(&b);
	}
	return r;
}

/* The name at key of rec (borrowed), or at key_base64: 0 with *out
 * (malloc'd; NULL when absent), or 65. */
static int
getname(jv rec, const char *key, char **out)
{
	const char *s;
	char k[32], *d;
	size_t n;

	*out = NULL;
	snprintf(k, sizeof k, "%s_base64", key);
	if ((s = au_jv_str(rec, k)) != NULL) {
		if (unb64(s, &d, &n) != 0 || memchr(d, '\0', n) != NULL) {
			free(d);
			return au_seterr(EX_DATAERR, "\"%s\": not base64 of a "
			    "name", k);
		}
		*out = d;
		return 0;
	}
	jv v = jv_object_get(jv_copy(rec), jv_string(key));
	if (jv_get_kind(v) == JV_KIND_STRING) {
		if (memchr(jv_string_value(v), '\0',
		    (size_t)jv_string_length_bytes(jv_copy(v))) != NULL) {
			jv_free(v);
			return au_seterr(EX_DATAERR, "\"%s\": a NUL byte", key);
		}
		*out = au_xstrdup(jv_string_value(v));
	} else if (jv_is_valid(v) && jv_get_kind(v) != JV_KIND_NULL) {
		jv_free(v);
		return au_seterr(EX_DATAERR, "\"%s\": not a string", key);
	}
	jv_free(v);
	return 0;
}

/* The boolean at key of rec (borrowed): 0 with *b, or 65. */
static int
getbool(jv rec, const char *key, int *b)
{
	jv v = jv_object_get(jv_copy(rec), jv_string(key));
	jv_kind k = jv_get_kind(v);

	jv_free(v);
	*b = k == JV_KIND_TRUE;
	if (k == JV_KIND_TRUE || k == JV_KIND_FALSE || k == JV_KIND_NULL ||
	    k == JV_KIND_INVALID)
		return 0;
	return au_seterr(EX_DATAERR, "\"%s\": not true or false", key);
}

/* The positive integer at key of rec (borrowed), or def: 0 or 65. */
static int
getint(jv rec, const char *key, int64_t def, int64_t *n)
{
	jv v = jv_object_get(jv_copy(rec), jv_string(key));
	int rc = 0;

	*n = def;
	if (au_jv_isint(v) && jv_number_value(v) >= 1)
		*n = (int64_t)jv_number_value(v);
	else if (jv_is_valid(v) && jv_get_kind(v) != JV_KIND_NULL)
		rc = au_seterr(EX_DATAERR, "\"%s\": not a positive integer",
		    key);
	jv_free(v);
	return rc;
}

/* The content of a write or append: "content" or "content_base64". */
static int
getcontent(jv rec, char **data, size_t *n)
{
	const char *s;
	jv v;

	*data = NULL;
	if ((s = au_jv_str(rec, "content_base64")) != NULL) {
		if (unb64(s, data, n) != 0)
			return au_seterr(EX_DATAERR, "\"content_base64\": not "
			    "base64");
		return 0;
	}
	v = jv_object_get(jv_copy(rec), jv_string("content"));
	if (jv_get_kind(v) != JV_KIND_STRING) {
		jv_free(v);
		return au_seterr(EX_DATAERR, "needs \"content\" or "
		    "\"content_base64\"");
	}
	*n = (size_t)jv_string_length_bytes(jv_copy(v));
	*data = au_xstrndup(jv_string_value(v), *n);
	jv_free(v);
	return 0;
}

static const char *
hexsha(const void *p, size_t n, char out[2 * AU_AUDIT_HASH + 1])
{
	unsigned char h[AU_AUDIT_HASH];
	struct au_sha256 *s = au_sha256_new();

	au_sha256_add(s, p, n);
	au_sha256_end(s, h);
	return au_hex(h, sizeof h, out);
}

static const char *
kind(mode_t m)
{
	return S_ISREG(m) ? "file" : S_ISDIR(m) ? "dir" : S_ISLNK(m) ?
	    "symlink" : S_ISFIFO(m) ? "fifo" : S_ISSOCK(m) ? "socket" :
	    S_ISCHR(m) ? "char" : S_ISBLK(m) ? "block" : "other";
}

/* r with what st says: kind, size, mtime, mode. */
static jv
statinfo(jv r, const struct stat *st)
{
	char ts[AU_TS_LEN], mode[8];

	au_ts_fmt((int64_t)st->st_mtim.tv_sec * 1000 +
	    st->st_mtim.tv_nsec / 1000000, ts);
	snprintf(mode, sizeof mode, "%04o", (unsigned)(st->st_mode & 07777));
	r = jv_object_set(r, jv_string("kind"), jv_string(kind(st->st_mode)));
	r = jv_object_set(r, jv_string("size"), jv_number((double)
	    st->st_size));
	r = jv_object_set(r, jv_string("mtime"), jv_string(ts));
	return jv_object_set(r, jv_string("mode"), jv_string(mode));
}

static struct au_buf outline;	/* the record being written */

/* Write the record r (borrowed), and in a session keep it for the
 * transcript too. */
static void
emit(jv r)
{
	struct au_buf *l = &outline;
	size_t n;

	l->len = 0;
	au_json_dump(l, r);
	au_buf_addc(l, '\n');
	if (sid != NULL) {
		au_sha256_add(seg.sha, l->s, l->len);
		seg.bytes += (int64_t)l->len;
		if (seg.keep.len <= AU_WS_KEEP) {
			n = AU_WS_KEEP + 1 - seg.keep.len;
			au_buf_add(&seg.keep, l->s, l->len < n ? l->len : n);
		}
	}
	au_out_text(l->s, l->len);
	au_out_eol();
}

/* ---- files -------------------------------------------------------------- */

/* A regular file read whole. */
struct file {
	char *data;
	size_t len;
	struct stat st;
	char sha[2 * AU_AUDIT_HASH + 1];
};

/* Whether a type of file is one we refuse to open at all. */
static int
refuse(const char *path, mode_t m)
{
	if (S_ISLNK(m))
		return au_seterr(EX_NOPERM, "%s: a symlink, not followed",
		    au_quote(path));
	if (S_ISDIR(m))
		return au_seterr(EX_DATAERR, "%s: a directory",
		    au_quote(path));
	return au_seterr(EX_NOPERM, "%s: a %s, not a regular file: refused",
	    au_quote(path), kind(m));
}

/* Read the regular file name in dir (path for messages) into f, at most
 * maxsize bytes.  It is looked at before it is opened, and opened
 * without blocking, so that a FIFO or a device is never waited on. */
static int
load(int dir, const char *name, const char *path, struct file *f)
{
	struct au_buf b = AU_BUF_INIT;
	struct stat st;
	ssize_t got;
	int fd;

	memset(f, 0, sizeof *f);
	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return au_beneath_err(errno, path);
	if (!S_ISREG(st.st_mode))
		return refuse(path, st.st_mode);
	if ((uint64_t)st.st_size > maxsize)
		return au_seterr(EX_DATAERR, "%s: %lld bytes, more than "
		    "--max-size", au_quote(path), (long long)st.st_size);
	if ((fd = openat(dir, name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW |
	    O_NOCTTY | O_CLOEXEC)) < 0)
		return au_beneath_err(errno, path);
	if (fstat(fd, &f->st) != 0) {
		close(fd);
		return au_seterr(EX_IOERR, "%s:", au_quote(path));
	}
	if (!S_ISREG(f->st.st_mode)) {
		close(fd);
		return refuse(path, f->st.st_mode);
	}
	au_buf_grow(&b, (size_t)f->st.st_size + 1);
	for (;;) {
		au_buf_grow(&b, 65536);
		if ((got = read(fd, b.s + b.len, 65536)) < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		b.len += (size_t)got;
		if (b.len > maxsize)
			break;
	}
	close(fd);
	if (got < 0) {
		au_buf_free(&b);
		return au_seterr(EX_IOERR, "%s:", au_quote(path));
	}
	if (b.len > maxsize) {
		au_buf_free(&b);
		return au_seterr(EX_DATAERR, "%s: more than --max-size",
		    au_quote(path));
	}
	b.s[b.len] = '\0';
	f->data = b.s;
	f->len = b.len;
	hexsha(f->data, f->len, f->sha);
	return 0;
}

static int
binary(const char *s, size_t n)
{
	return memchr(s, '\0', n < SNIFF ? n : SNIFF) != NULL ||
	    au_utf8_valid(s, n) != n;
}

/* Replace name in dir by the n bytes at data, atomically: a temporary
 * file beside it (O_EXCL), written, synced, renamed over it, and the
 * directory synced.  The mode is the old file's (old may be NULL), else
 * 0644 less the umask. */
static int
replace(int dir, const char *name, const char *path, const char *data,
    size_t n, const struct stat *old)
{
	char tmp[64], id[AU_ID_LEN];
	size_t off = 0;
	ssize_t w;
	int fd, e;

	do {
		snprintf(tmp, sizeof tmp, ".tk-file-%s.tmp", au_ulid(id));
		fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0644);
	} while (fd < 0 && errno == EEXIST);
	if (fd < 0)
		return au_beneath_err(errno, path);
	if (old != NULL && fchmod(fd, old->st_mode & 07777) != 0)
		goto fail;
	while (off < n) {
		if ((w = write(fd, data + off, n - off)) < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (renameat(dir, tmp, dir, name) != 0)
		goto fail;
	if (fsync(dir) != 0)
		return au_seterr(EX_IOERR, "%s: syncing its directory:",
		    au_quote(path));
	return 0;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	unlinkat(dir, tmp, 0);
	errno = e;
	return au_seterr(EX_IOERR, "%s:", au_quote(path));
}

/* ---- the tree: list and search ----------------------------------------- */

static int
bystr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in the directory fd, sorted: *names (free each and it). */
static int
names(int fd, const char *path, char ***names, size_t *n)
{
	struct dirent *d;
	size_t cap = 0;
	DIR *dp;
	int dfd;

	*names = NULL;
	*n = 0;
	if ((dfd = dup(fd)) < 0 || (dp = fdopendir(dfd)) == NULL) {
		if (dfd >= 0)
			close(dfd);
		return au_beneath_err(errno, path);
	}
	rewinddir(dp);
	while ((d = readdir(dp)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		*names = au_grow(*names, &cap, *n + 1, sizeof **names);
		(*names)[(*n)++] = au_xstrdup(d->d_name);
	}
	closedir(dp);
	if (*n > 0)
		qsort(*names, *n, sizeof **names, bystr);
	return 0;
}

/* What a walk does at each entry: 0 go on, 1 stop. */
typedef int visit_fn(int dir, const char *name, const char *rel,
    const struct stat *st, void *arg);

/* Visit every entry beneath the directory fd (rel its path), depth
 * levels deep (-1: all), in name order, never through a symlink.  A
 * subdirectory that cannot be opened is warned about and skipped. */
static int
tree(int fd, const char *rel, int64_t depth, visit_fn *fn, void *arg)
{
	struct stat st;
	char **nv, *sub;
	size_t i, n;
	int stop = 0, sfd;

	if (names(fd, rel, &nv, &n) != 0) {
		au_warn("%s", au_errmsg());
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (stop || fstatat(fd, nv[i], &st, AT_SYMLINK_NOFOLLOW) != 0) {
			free(nv[i]);
			continue;
		}
		sub = strcmp(rel, ".") == 0 ? au_xstrdup(nv[i]) :
		    au_xasprintf("%s/%s", rel, nv[i]);
		stop = fn(fd, nv[i], sub, &st, arg);
		if (!stop && S_ISDIR(st.st_mode) && depth != 1) {
			if ((sfd = au_beneath_opendir(fd, nv[i])) < 0) {
				au_beneath_err(errno, sub);
				au_warn("%s", au_errmsg());
			} else {
				stop = tree(sfd, sub, depth - 1, fn, arg);
				close(sfd);
			}
		}
		free(sub);
		free(nv[i]);
	}
	free(nv);
	return stop;
}

/* Open path as a directory for a walk (*fd), or when it names something
 * else, its directory (*dir) and *name, with st either way. */
static int
start(const char *path, int *fd, int *dir, char **name, struct stat *st)
{
	char *clean;
	int rc;

	*fd = *dir = -1;
	*name = NULL;
	if ((rc = au_beneath_check(path, &clean)) != 0)
		return rc;
	if (strcmp(clean, ".") == 0) {
		free(clean);
		if ((rc = au_beneath_open(root, ".", O_RDONLY | O_DIRECTORY, 0,
		    fd)) == 0 && fstat(*fd, st) != 0)
			rc = au_beneath_err(errno, path);
		return rc;
	}
	free(clean);
	if ((rc = au_beneath_parent(root, path, dir, name)) != 0)
		return rc;
	if (fstatat(*dir, *name, st, AT_SYMLINK_NOFOLLOW) != 0)
		return au_beneath_err(errno, path);
	if (S_ISDIR(st->st_mode) && (*fd = au_beneath_opendir(*dir,
	    *name)) < 0)
		return au_beneath_err(errno, path);
	return 0;
}

/* ---- the operations ----------------------------------------------------- */

/* One operation: its record, its result so far, and what it found. */
struct op {
	jv rec;			/* the file.op record (borrowed) */
	jv res;			/* the file.result being made */
	jv id;			/* the record's id, or invalid */
	const char *op;
	char *path, *to;
	int64_t count;		/* entries, matches */
	int truncated;
	/* search */
	const char *pattern;
	regex_t re;
	int regex;
	int64_t limit, files;
};

/* A record about the op that comes before its result: its id first. */
static jv
about(struct op *o, const char *type)
{
	jv r = JV_OBJECT(jv_string("type"), jv_string(type));

	if (jv_is_valid(o->id))
		r = jv_object_set(r, jv_string("id"), jv_copy(o->id));
	return r;
}

/* The number of the n digits at s, at least 1: 0 or -1. */
static int
num(const char *s, size_t n, int64_t *v)
{
	size_t i;

	if (n == 0 || n > 15)
		return -1;
	for (*v = 0, i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return *v >= 1 ? 0 : -1;
}

/* The first and last line (from 1; 0 for "to the end") of RANGE. */
static int
range(const char *s, int64_t *a, int64_t *b)
{
	const char *dash = strchr(s, '-');

	*a = 1;
	*b = 0;
	if (dash == NULL) {
		if (num(s, strlen(s), a) != 0)
			goto bad;
		*b = *a;
		return 0;
	}
	if ((dash == s && dash[1] == '\0') ||
	    (dash > s && num(s, (size_t)(dash - s), a) != 0) ||
	    (dash[1] != '\0' && (num(dash + 1, strlen(dash + 1), b) != 0 ||
	    *b < *a)))
		goto bad;
	return 0;
bad:
	return au_seterr(EX_DATAERR, "\"lines\": not a range (10-20, 10-, "
	    "-20, 7)");
}

static int
op_read(struct op *o)
{
	const char *lines = au_jv_str(o->rec, "lines");
	int64_t a = 1, b = 0, nl = 0;
	struct file f;
	char *name;
	size_t i, from = 0, to;
	int dir, rc, bin;

	if (lines != NULL && (rc = range(lines, &a, &b)) != 0)
		return rc;
	if ((rc = getbool(o->rec, "binary", &bin)) != 0)
		return rc;
	if ((rc = au_beneath_parent(root, o->path, &dir, &name)) != 0)
		return rc;
	rc = load(dir, name, o->path, &f);
	close(dir);
	free(name);
	if (rc != 0)
		return rc;
	o->res = statinfo(o->res, &f.st);
	o->res = jv_object_set(o->res, jv_string("sha256"), jv_string(f.sha));
	if (binary(f.data, f.len)) {
		if (!bin || lines != NULL) {
			free(f.data);
			return au_seterr(EX_DATAERR, "%s: a binary file%s",
			    au_quote(o->path), bin ? ", not lines" :
			    " (--binary reads it in base64)");
		}
		struct au_buf e = AU_BUF_INIT;

		b64(&e, f.data, f.len);
		o->res = jv_object_set(o->res, jv_string("content_base64"),
		    jv_string_sized(e.s, (int)e.len));
		au_buf_free(&e);
		free(f.data);
		return 0;
	}
	to = f.len;
	for (i = 0; i < f.len; i++) {
		if (f.data[i] != '\n')
			continue;
		nl++;
		if (nl == a - 1)
			from = i + 1;
		if (nl == b)
			to = i + 1;
	}
	if (f.len > 0 && f.data[f.len - 1] != '\n')
		nl++;
	if (a > nl)
		from = to = f.len;
	o->res = jv_object_set(o->res, jv_string("total_lines"),
	    jv_number((double)nl));
	if (lines != NULL)
		o->res = jv_object_set(o->res, jv_string("lines"),
		    jv_string(lines));
	o->res = jv_object_set(o->res, jv_string("content"),
	    jv_string_sized(f.data + from, (int)(to - from)));
	free(f.data);
	return 0;
}

/* The --if-match check of the file f (NULL: there is none). */
static int
matches(struct op *o, const struct file *f)
{
	const char *want = au_jv_str(o->rec, "if_match");

	if (want == NULL)
		return 0;
	if (f == NULL)
		return au_seterr(1, "%s: no such file, so no match for "
		    "--if-match", au_quote(o->path));
	if (strcasecmp(want, f->sha) != 0)
		return au_seterr(1, "%s: content is %.12s..., not %.12s...: "
		    "changed meanwhile?", au_quote(o->path), f->sha, want);
	return 0;
}

/* The old file at name, if any, into *f (*had says whether). */
static int
old(int dir, const char *name, const char *path, struct file *f, int *had)
{
	struct stat st;

	*had = 0;
	memset(f, 0, sizeof *f);
	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? 0 : au_beneath_err(errno, path);
	*had = 1;
	return load(dir, name, path, f);
}

/* Write, append and patch: the new content from the old, replaced. */
static int
rewrite(struct op *o, int (*make)(struct op *, const struct file *,
    struct au_buf *))
{
	struct au_buf b = AU_BUF_INIT;
	struct file f;
	struct stat st;
	char *name, sha[2 * AU_AUDIT_HASH + 1];
	int dir, had, rc;

	if ((rc = au_beneath_parent(root, o->path, &dir, &name)) != 0)
		return rc;
	if ((rc = old(dir, name, o->path, &f, &had)) != 0 ||
	    (rc = matches(o, had ? &f : NULL)) != 0 ||
	    (rc = make(o, had ? &f : NULL, &b)) != 0)
		goto out;
	if (b.len > maxsize) {
		rc = au_seterr(EX_DATAERR, "%s: %zu bytes, more than "
		    "--max-size", au_quote(o->path), b.len);
		goto out;
	}
	if ((rc = replace(dir, name, o->path, b.s ? b.s : "", b.len,
	    had ? &f.st : NULL)) != 0)
		goto out;
	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		o->res = statinfo(o->res, &st);
	o->res = jv_object_set(o->res, jv_string("sha256"),
	    jv_string(hexsha(b.s ? b.s : "", b.len, sha)));
	if (had) {
		o->res = jv_object_set(o->res, jv_string("prev_size"),
		    jv_number((double)f.len));
		o->res = jv_object_set(o->res, jv_string("prev_sha256"),
		    jv_string(f.sha));
	}
out:
	free(f.data);
	au_buf_free(&b);
	close(dir);
	free(name);
	return rc;
}

static int
make_write(struct op *o, const struct file *f, struct au_buf *b)
{
	char *data;
	size_t n;
	int rc;

	if ((rc = getcontent(o->rec, &data, &n)) != 0)
		return rc;
	if (f != NULL && strcmp(o->op, "append") == 0)
		au_buf_add(b, f->data, f->len);
	au_buf_add(b, data, n);
	free(data);
	return 0;
}

/* ---- patch: a unified diff, or exact edits ------------------------------ */

/* A line with its newline (if it has one). */
struct line {
	const char *s;
	size_t n;
};

struct hunk {
	long a, b, c, d;	/* @@ -a,b +c,d @@ */
	struct line *old, *new;
	size_t nold, nnew, capold, capnew;
	long at;		/* the diff's line of its header */
};

static void
addline(struct line **v, size_t *n, size_t *cap, const char *s, size_t len)
{
	*v = au_grow(*v, cap, *n + 1, sizeof **v);
	(*v)[*n].s = s;
	(*v)[(*n)++].n = len;
}

/* Split s into lines, each with its newline. */
static struct line *
split(const char *s, size_t n, size_t *nl)
{
	struct line *v = NULL;
	size_t cap = 0, i = 0, j;

	*nl = 0;
	while (i < n) {
		const char *e = memchr(s + i, '\n', n - i);

		j = e ? (size_t)(e - s) + 1 : n;
		addline(&v, nl, &cap, s + i, j - i);
		i = j;
	}
	return v;
}

static int
header(const char *s, size_t n, struct hunk *h)
{
	char buf[128];

	if (n >= sizeof buf)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	h->b = h->d = 1;
	if (sscanf(buf, "@@ -%ld,%ld +%ld,%ld @@", &h->a, &h->b, &h->c,
	    &h->d) == 4 || (h->d = 1, sscanf(buf, "@@ -%ld,%ld +%ld @@",
	    &h->a, &h->b, &h->c) == 3) || (h->b = 1, sscanf(buf,
	    "@@ -%ld +%ld,%ld @@", &h->a, &h->c, &h->d) == 3) ||
	    (h->d = 1, sscanf(buf, "@@ -%ld +%ld @@", &h->a, &h->c) == 2))
		return h->a < 0 || h->b < 0 || h->c < 0 || h->d < 0 ? -1 : 0;
	return -1;
}

static void
hunks_free(struct hunk *h, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(h[i].old);
		free(h[i].new);
	}
	free(h);
}

/* Parse the diff text: *hv, *nh.  One file's hunks only. */
static int
parse_diff(const char *text, size_t len, struct hunk **hv, size_t *nh)
{
	struct line *dl;
	struct hunk *h = NULL, *cur = NULL;
	size_t ndl, i, cap = 0;
	long oldleft = 0, newleft = 0, files = 0;
	int last = 0;	/* the last line went to: 1 old, 2 new, 3 both */

	dl = split(text, len, &ndl);
	*hv = NULL;
	*nh = 0;
	for (i = 0; i < ndl; i++) {
		const char *s = dl[i].s;
		size_t n = dl[i].n;

		if (n > 0 && s[0] == '\\' && cur != NULL && last != 0) {
			/* "\ No newline at end of file": the line before
			 * ends without one. */
			struct line *o = last & 1 ? &cur->old[cur->nold - 1] :
			    NULL, *w = last & 2 ? &cur->new[cur->nnew - 1] :
			    NULL;

			if (o != NULL && o->n > 0 && o->s[o->n - 1] == '\n')
				o->n--;
			if (w != NULL && w->n > 0 && w->s[w->n - 1] == '\n')
				w->n--;
			last = 0;
			continue;
		}
		if (cur != NULL && (oldleft > 0 || newleft > 0)) {
			char c = n > 0 ? s[0] : ' ';
			const char *t = n > 0 ? s + 1 : s;
			size_t tn = n > 0 ? n - 1 : 0;

			if (n == 1 && s[0] == '\n')
				t = s, tn = 1;
			if (c == ' ' || (n == 1 && s[0] == '\n')) {
				addline(&cur->old, &cur->nold, &cur->capold,
				    t, tn);
				addline(&cur->new, &cur->nnew, &cur->capnew,
				    t, tn);
				oldleft--, newleft--, last = 3;
			} else if (c == '-') {
				addline(&cur->old, &cur->nold, &cur->capold,
				    t, tn);
				oldleft--, last = 1;
			} else if (c == '+') {
				addline(&cur->new, &cur->nnew, &cur->capnew,
				    t, tn);
				newleft--, last = 2;
			} else
				goto bad;
			if (oldleft < 0 || newleft < 0)
				goto bad;
			continue;
		}
		last = 0;
		if (n >= 4 && memcmp(s, "--- ", 4) == 0) {
			if (++files > 1) {
				free(dl);
				hunks_free(h, *nh);
				return au_seterr(EX_DATAERR, "diff line %zu: a "
				    "second file; one file at a time", i + 1);
			}
			continue;
		}
		if (n >= 2 && memcmp(s, "@@", 2) == 0) {
			h = au_grow(h, &cap, *nh + 1, sizeof *h);
			cur = &h[(*nh)++];
			memset(cur, 0, sizeof *cur);
			cur->at = (long)i + 1;
			if (header(s, n, cur) != 0)
				goto bad;
			oldleft = cur->b;
			newleft = cur->d;
			continue;
		}
		if (cur != NULL && n > 0 && s[0] != '\n' &&
		    memcmp(s, "diff ", n < 5 ? n : 5) != 0 &&
		    memcmp(s, "index ", n < 6 ? n : 6) != 0)
			goto bad;
	}
	free(dl);
	if (cur != NULL && (oldleft > 0 || newleft > 0))
		return hunks_free(h, *nh), au_seterr(EX_DATAERR, "diff: hunk "
		    "%zu is cut short", *nh);
	if (*nh == 0)
		return au_seterr(EX_DATAERR, "diff: no hunk");
	*hv = h;
	return 0;
bad:
	free(dl);
	hunks_free(h, *nh);
	return au_seterr(EX_DATAERR, "diff line %zu: not part of a unified "
	    "diff", i + 1);
}

/* How far from its stated line a hunk may have moved. */
#define SHIFT 100

static int
fits(const struct line *fl, size_t nfl, size_t at, const struct hunk *h)
{
	size_t k;

	if (at + h->nold > nfl)
		return 0;
	for (k = 0; k < h->nold; k++)
		if (fl[at + k].n != h->old[k].n ||
		    memcmp(fl[at + k].s, h->old[k].s, h->old[k].n) != 0)
			return 0;
	return 1;
}

/* Why hunk number i (h) does not apply at its stated place: the
 * message says where, and the result which line differs and how (the
 * message goes to the audit log, which never holds file contents). */
static int
misfit(struct op *o, const struct line *fl, size_t nfl, size_t at,
    const struct hunk *h, size_t i)
{
	size_t k;

	for (k = 0; k < h->nold && at + k < nfl; k++)
		if (fl[at + k].n != h->old[k].n ||
		    memcmp(fl[at + k].s, h->old[k].s, h->old[k].n) != 0) {
			o->res = jv_object_set(o->res, jv_string("mismatch"),
			    JV_OBJECT(jv_string("hunk"), jv_number((double)i +
			    1), jv_string("line"), jv_number((double)(at + k +
			    1)), jv_string("found"), jv_string_sized(
			    fl[at + k].s, (int)fl[at + k].n),
			    jv_string("expected"), jv_string_sized(
			    h->old[k].s, (int)h->old[k].n)));
			return au_seterr(1, "hunk %zu (diff line %ld) does not "
			    "apply: line %zu differs (nor does it within %d "
			    "lines)", i + 1, h->at, at + k + 1, SHIFT);
		}
	return au_seterr(1, "hunk %zu (diff line %ld) does not apply: the file "
	    "ends at line %zu", i + 1, h->at, nfl);
}

static int
apply_diff(struct op *o, const struct file *f, const char *diff,
    struct au_buf *b)
{
	struct hunk *h;
	struct line *fl;
	size_t nh, nfl, i, k, pos = 0, at;
	long d, stated;
	int rc = 0, found;

	if ((rc = parse_diff(diff, strlen(diff), &h, &nh)) != 0)
		return rc;
	fl = split(f->data, f->len, &nfl);
	for (i = 0; i < nh && rc == 0; i++) {
		stated = h[i].b == 0 ? h[i].a : h[i].a - 1;
		if (stated < (long)pos)
			stated = (long)pos;
		found = 0;
		at = 0;
		for (d = 0; d <= SHIFT && !found; d++) {
			if (stated - d >= (long)pos && fits(fl, nfl,
			    (size_t)(stated - d), &h[i]))
				found = 1, at = (size_t)(stated - d);
			else if (d > 0 && fits(fl, nfl, (size_t)(stated + d),
			    &h[i]))
				found = 1, at = (size_t)(stated + d);
		}
		if (!found) {
			rc = misfit(o, fl, nfl, (size_t)stated, &h[i], i);
			break;
		}
		for (k = pos; k < at; k++)
			au_buf_add(b, fl[k].s, fl[k].n);
		for (k = 0; k < h[i].nnew; k++)
			au_buf_add(b, h[i].new[k].s, h[i].new[k].n);
		pos = at + h[i].nold;
	}
	for (k = pos; rc == 0 && k < nfl; k++)
		au_buf_add(b, fl[k].s, fl[k].n);
	if (rc == 0)
		o->res = jv_object_set(o->res, jv_string("hunks"),
		    jv_number((double)nh));
	free(fl);
	hunks_free(h, nh);
	return rc;
}

static int
apply_edits(struct op *o, const struct file *f, jv edits, struct au_buf *b)
{
	struct au_buf cur = AU_BUF_INIT, next = AU_BUF_INIT;
	int rc = 0, i = 0, count;

	au_buf_add(&cur, f->data, f->len);
	jv_array_foreach(edits, j, e) {
		const char *s = au_jv_str(e, "search");
		const char *r = au_jv_str(e, "replace");
		const char *p, *hit = NULL;
		size_t sn;

		i = j + 1;
		if (s == NULL || r == NULL || *s == '\0') {
			jv_free(e);
			rc = au_seterr(EX_DATAERR, "edit %d: needs a non-empty "
			    "\"search\" and a \"replace\" string", i);
			break;
		}
		sn = strlen(s);
		count = 0;
		for (p = cur.s; (p = memmem(p, cur.len - (size_t)(p - cur.s),
		    s, sn)) != NULL; p++)
			if (count++ == 0)
				hit = p;
		if (count != 1) {
			rc = au_seterr(1, "edit %d: the search text is found "
			    "%d times, not once", i, count);
			jv_free(e);
			break;
		}
		next.len = 0;
		au_buf_add(&next, cur.s, (size_t)(hit - cur.s));
		au_buf_adds(&next, r);
		au_buf_add(&next, hit + sn, cur.len - (size_t)(hit - cur.s) -
		    sn);
		au_buf_free(&cur);
		cur = next;
		next = (struct au_buf)AU_BUF_INIT;
		jv_free(e);
	}
	if (rc == 0) {
		au_buf_add(b, cur.s, cur.len);
		o->res = jv_object_set(o->res, jv_string("edits"),
		    jv_number(i));
	}
	au_buf_free(&cur);
	return rc;
}

static int
make_patch(struct op *o, const struct file *f, struct au_buf *b)
{
	const char *diff = au_jv_str(o->rec, "diff");
	jv edits = jv_object_get(jv_copy(o->rec), jv_string("edits"));
	int rc;

	if (f == NULL)
		rc = au_seterr(EX_NOINPUT, "%s: no such file",
		    au_quote(o->path));
	else if (binary(f->data, f->len))
		rc = au_seterr(EX_DATAERR, "%s: a binary file",
		    au_quote(o->path));
	else if (diff != NULL && jv_get_kind(edits) == JV_KIND_INVALID)
		rc = apply_diff(o, f, diff, b);
	else if (diff == NULL && jv_get_kind(edits) == JV_KIND_ARRAY &&
	    jv_array_length(jv_copy(edits)) > 0) {
		rc = apply_edits(o, f, edits, b);
	} else
		rc = au_seterr(EX_DATAERR, "needs \"diff\" (a string) or "
		    "\"edits\" (a non-empty array), one of them");
	jv_free(edits);
	return rc;
}

/* ---- the other operations ------------------------------------------------ */

static int
op_stat(struct op *o)
{
	struct stat st;
	struct file f;
	char *name, target[PATH_MAX + 1];
	ssize_t n;
	int dir = -1, fd, rc;

	if ((rc = start(o->path, &fd, &dir, &name, &st)) != 0)
		goto out;
	o->res = statinfo(o->res, &st);
	if (S_ISLNK(st.st_mode) && (n = readlinkat(dir, name, target,
	    sizeof target - 1)) >= 0) {
		target[n] = '\0';
		o->res = setname(o->res, "target", target);
	}
	if (S_ISREG(st.st_mode) && load(dir, name, o->path, &f) == 0) {
		o->res = jv_object_set(o->res, jv_string("sha256"),
		    jv_string(f.sha));
		free(f.data);
	}
out:
	if (fd >= 0)
		close(fd);
	if (dir >= 0)
		close(dir);
	free(name);
	return rc;
}

static int
list_one(int dir, const char *name, const char *rel, const struct stat *st,
    void *arg)
{
	struct op *o = arg;
	char target[PATH_MAX + 1];
	ssize_t n;
	jv r = setname(about(o, "file.entry"), "path", rel);

	r = statinfo(r, st);
	if (S_ISLNK(st->st_mode) && (n = readlinkat(dir, name, target,
	    sizeof target - 1)) >= 0) {
		target[n] = '\0';
		r = setname(r, "target", target);
	}
	emit(r);
	jv_free(r);
	o->count++;
	return 0;
}

/* fn on every entry beneath o's path, depth levels deep, when it is a
 * directory; else on what it names. */
static int
visit(struct op *o, int64_t depth, visit_fn *fn)
{
	struct stat st;
	char *name;
	int dir, fd, rc;

	if ((rc = start(o->path, &fd, &dir, &name, &st)) == 0) {
		if (fd >= 0)
			tree(fd, o->path, depth, fn, o);
		else
			fn(dir, name, o->path, &st, o);
	}
	if (fd >= 0)
		close(fd);
	if (dir >= 0)
		close(dir);
	free(name);
	return rc;
}

static int
op_list(struct op *o)
{
	int64_t depth;
	int rc, rec;

	if ((rc = getbool(o->rec, "recursive", &rec)) != 0 ||
	    (rc = getint(o->rec, "depth", rec ? -1 : 1, &depth)) != 0 ||
	    (rc = visit(o, depth, list_one)) != 0)
		return rc;
	o->res = jv_object_set(o->res, jv_string("entries"),
	    jv_number((double)o->count));
	return 0;
}

static int
search_one(int dir, const char *name, const char *rel, const struct stat *st,
    void *arg)
{
	struct op *o = arg;
	struct file f;
	struct line *lv;
	size_t nl, i, plen = strlen(o->pattern);
	char *line;
	int hit;

	if (!S_ISREG(st->st_mode) || (uint64_t)st->st_size > maxsize)
		return 0;
	if (load(dir, name, rel, &f) != 0)
		return 0;
	if (binary(f.data, f.len)) {
		free(f.data);
		return 0;
	}
	o->files++;
	lv = split(f.data, f.len, &nl);
	for (i = 0; i < nl && !o->truncated; i++) {
		size_t n = lv[i].n;

		if (n > 0 && lv[i].s[n - 1] == '\n')
			n--;
		line = au_xstrndup(lv[i].s, n);
		hit = o->regex ? regexec(&o->re, line, 0, NULL, 0) == 0 :
		    plen <= n && memmem(line, n, o->pattern, plen) != NULL;
		if (hit && o->count >= o->limit)
			o->truncated = 1;
		else if (hit) {
			jv r = setname(about(o, "file.match"), "path", rel);

			r = jv_object_set(r, jv_string("line"),
			    jv_number((double)(i + 1)));
			r = jv_object_set(r, jv_string("text"),
			    jv_string_sized(line, (int)n));
			emit(r);
			jv_free(r);
			o->count++;
		}
		free(line);
	}
	free(lv);
	free(f.data);
	return o->truncated;
}

static int
op_search(struct op *o)
{
	char msg[256];
	int64_t depth;
	int rc, e;

	if ((o->pattern = au_jv_str(o->rec, "pattern")) == NULL ||
	    *o->pattern == '\0')
		return au_seterr(EX_DATAERR, "needs a non-empty \"pattern\"");
	if ((rc = getbool(o->rec, "regex", &o->regex)) != 0 ||
	    (rc = getint(o->rec, "depth", -1, &depth)) != 0 ||
	    (rc = getint(o->rec, "limit", 1000, &o->limit)) != 0)
		return rc;
	if (o->regex && (e = regcomp(&o->re, o->pattern, REG_EXTENDED |
	    REG_NOSUB)) != 0) {
		regerror(e, &o->re, msg, sizeof msg);
		return au_seterr(EX_DATAERR, "\"pattern\": %s", msg);
	}
	if ((rc = visit(o, depth, search_one)) == 0) {
		o->res = jv_object_set(o->res, jv_string("matches"),
		    jv_number((double)o->count));
		o->res = jv_object_set(o->res, jv_string("files"),
		    jv_number((double)o->files));
		if (o->truncated)
			o->res = jv_object_set(o->res, jv_string("truncated"),
			    jv_true());
		if (o->count == 0)
			rc = au_seterr(1, "no match");
	}
	if (o->regex)
		regfree(&o->re);
	return rc;
}

static int
op_mkdir(struct op *o)
{
	int parents, rc;

	if ((rc = getbool(o->rec, "parents", &parents)) != 0)
		return rc;
	return au_beneath_mkdir(root, o->path, parents, 0777);
}

/* Remove name in dir and everything beneath it, never through a
 * symlink: a directory is opened with O_NOFOLLOW before it is emptied. */
static int
rmtree(int dir, const char *name, const char *path)
{
	char **nv, *sub;
	size_t i, n;
	int fd, rc = 0;

	if (unlinkat(dir, name, 0) == 0)
		return 0;
	if (errno != EISDIR)
		return au_beneath_err(errno, path);
	if ((fd = au_beneath_opendir(dir, name)) < 0)
		return au_beneath_err(errno, path);
	if ((rc = names(fd, path, &nv, &n)) != 0) {
		close(fd);
		return rc;
	}
	for (i = 0; i < n; i++) {
		sub = au_xasprintf("%s/%s", path, nv[i]);
		if (rc == 0)
			rc = rmtree(fd, nv[i], sub);
		free(sub);
		free(nv[i]);
	}
	free(nv);
	close(fd);
	if (rc == 0 && unlinkat(dir, name, AT_REMOVEDIR) != 0)
		rc = au_beneath_err(errno, path);
	return rc;
}

static int
op_rm(struct op *o)
{
	struct stat st;
	struct file f;
	char *name;
	int dir, rc, rec;

	memset(&f, 0, sizeof f);
	if ((rc = getbool(o->rec, "recursive", &rec)) != 0)
		return rc;
	if ((rc = au_beneath_parent(root, o->path, &dir, &name)) != 0)
		return rc;
	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		rc = au_beneath_err(errno, o->path);
	else if (S_ISDIR(st.st_mode) && !rec)
		rc = au_seterr(EX_DATAERR, "%s: a directory (--recursive "
		    "removes it)", au_quote(o->path));
	else if (au_jv_str(o->rec, "if_match") != NULL &&
	    ((rc = load(dir, name, o->path, &f)) != 0 ||
	    (rc = matches(o, &f)) != 0))
		;
	else if ((rc = S_ISDIR(st.st_mode) ? rmtree(dir, name, o->path) :
	    unlinkat(dir, name, 0) != 0 ? au_beneath_err(errno, o->path) :
	    0) == 0) {
		if (fsync(dir) != 0)
			rc = au_seterr(EX_IOERR, "%s: syncing its directory:",
			    au_quote(o->path));
		o->res = jv_object_set(o->res, jv_string("kind"),
		    jv_string(kind(st.st_mode)));
		if (S_ISREG(st.st_mode))
			o->res = jv_object_set(o->res, jv_string("prev_size"),
			    jv_number((double)st.st_size));
		if (f.data != NULL)
			o->res = jv_object_set(o->res,
			    jv_string("prev_sha256"), jv_string(f.sha));
	}
	free(f.data);
	close(dir);
	free(name);
	return rc;
}

static int
op_mv(struct op *o)
{
	struct stat st;
	struct file f;
	char *from, *to;
	int fdir, tdir = -1, rc;

	memset(&f, 0, sizeof f);
	if (o->to == NULL)
		return au_seterr(EX_DATAERR, "needs \"to\"");
	if ((rc = au_beneath_parent(root, o->path, &fdir, &from)) != 0)
		return rc;
	if ((rc = au_beneath_parent(root, o->to, &tdir, &to)) != 0)
		goto out;
	if (fstatat(fdir, from, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		rc = au_beneath_err(errno, o->path);
		goto out;
	}
	if (au_jv_str(o->rec, "if_match") != NULL &&
	    ((rc = load(fdir, from, o->path, &f)) != 0 ||
	    (rc = matches(o, &f)) != 0))
		goto out;
	if (renameat2(fdir, from, tdir, to, RENAME_NOREPLACE) != 0) {
		rc = errno == EEXIST ? au_seterr(EX_CANTCREAT, "%s: exists",
		    au_quote(o->to)) : au_beneath_err(errno, o->to);
		goto out;
	}
	if (fsync(tdir) != 0 || fsync(fdir) != 0)
		rc = au_seterr(EX_IOERR, "%s: syncing its directory:",
		    au_quote(o->to));
	o->res = statinfo(o->res, &st);
	if (f.data != NULL)
		o->res = jv_object_set(o->res, jv_string("sha256"),
		    jv_string(f.sha));
out:
	free(f.data);
	close(fdir);
	if (tdir >= 0)
		close(tdir);
	free(from);
	free(to);
	return rc;
}

/* ---- a file session ----------------------------------------------------- */

/* The record of session sid, a file session still open; else die: 66
 * no such session, 69 another kind or one that has ended. */
static jv
xsession(void)
{
	const char *kd, *st;
	jv r;
	int rc;

	if ((rc = au_ws_get(db, sid, &r)) != 0)
		au_die(rc, "%s", au_errmsg());
	kd = au_jv_str(r, "kind");
	st = au_jv_str(r, "state");
	if (strcmp(kd, "file") != 0)
		au_die(EX_UNAVAILABLE, "session %s is a %s session, not a file "
		    "session", sid, kd);
	if (au_ws_final(st))
		au_die(EX_UNAVAILABLE, "session %s has ended (%s)", sid, st);
	return r;
}

/* The op record rec (borrowed) into the session's transcript as given,
 * but for the content of a write or append, which is kept as output is:
 * its size, its SHA-256 and, when it is text, its first AU_WS_KEEP bytes.
 * The output of the operation is gathered from here on. */
static void
log_input(jv rec)
{
	char sha[2 * AU_AUDIT_HASH + 1], *data = NULL;
	const char *enc = au_jv_str(rec, "content_base64");
	size_t n = 0;
	jv r = jv_copy(rec);
	int rc;

	if ((enc != NULL || au_jv_str(rec, "content") != NULL) &&
	    getcontent(rec, &data, &n) == 0)
		hexsha(data, n, sha);
	r = jv_object_delete(r, jv_string("content"));
	r = jv_object_delete(r, jv_string("content_base64"));
	rc = au_ws_log(db, sid, "input", r, enc == NULL ? data : NULL, n,
	    data ? (int64_t)n : -1, data ? sha : NULL);
	free(data);
	if (rc != 0)
		au_die(rc, "%s", au_errmsg());
	seg.keep.len = 0;
	seg.bytes = 0;
	seg.sha = au_sha256_new();
}

/* The output of an operation into the transcript: its result res
 * (borrowed) as the record, less the content a read gave, and the
 * records it wrote as a segment. */
static void
log_output(jv res)
{
	unsigned char h[AU_AUDIT_HASH];
	char sha[2 * AU_AUDIT_HASH + 1];
	jv r = jv_copy(res);
	int rc;

	au_sha256_end(seg.sha, h);
	seg.sha = NULL;
	r = jv_object_delete(r, jv_string("content"));
	r = jv_object_delete(r, jv_string("content_base64"));
	if ((rc = au_ws_log(db, sid, "output", r, seg.keep.s, seg.keep.len,
	    seg.bytes, au_hex(h, sizeof h, sha))) != 0)
		au_die(rc, "%s", au_errmsg());
}

/* ---- one operation, start to end ---------------------------------------- */

/* The fields of a change's result that go to the audit log: names,
 * sizes and hashes, never contents. */
static const char *const audited[] = {
	"type", "id", "op", "path", "path_base64", "to", "to_base64", "ok",
	"error", "exit_code", "kind", "size", "mode", "sha256", "prev_size",
	"prev_sha256", "hunks", "edits", NULL
};

/* Append the result res (borrowed) of a change to the audit log. */
static void
audit_change(jv res)
{
	jv r;
	int rc, i;

	if (audit == NULL)
		return;
	r = jv_object();
	for (i = 0; audited[i] != NULL; i++) {
		jv v = jv_object_get(jv_copy(res), jv_string(audited[i]));

		if (jv_is_valid(v))
			r = jv_object_set(r, jv_string(audited[i]), v);
		else
			jv_free(v);
	}
	r = jv_object_set(r, jv_string("root"), jv_string(rootpath));
	if (sid != NULL)
		r = jv_object_set(r, jv_string("session"), jv_string(sid));
	if ((rc = au_audit_append(audit, r, NULL, NULL)) != 0)
		au_die(rc, "audit: %s", au_errmsg());
	jv_free(r);
}

/* *path (malloc'd) checked and replaced by its clean form. */
static int
clean(char **path)
{
	char *c;
	int rc;

	if ((rc = au_beneath_check(*path, &c)) != 0)
		return rc;
	free(*path);
	*path = c;
	return 0;
}

/* Run the op record rec (borrowed; file and line for messages, file
 * NULL on the command line): its result written, its status kept. */
static void
run(jv rec, const char *file, long line)
{
	struct op o;
	int rc, change;

	memset(&o, 0, sizeof o);
	o.rec = rec;
	o.id = jv_object_get(jv_copy(rec), jv_string("id"));
	if (jv_get_kind(o.id) == JV_KIND_NULL) {
		jv_free(o.id);
		o.id = jv_invalid();
	}
	o.op = au_jv_str(rec, "op");
	o.res = about(&o, "file.result");
	if (o.op != NULL)
		o.res = jv_object_set(o.res, jv_string("op"),
		    jv_string(o.op));
	change = o.op != NULL && among(o.op, changes);
	if (sid != NULL) {
		jv_free(xsession());
		log_input(rec);
	}
	if (change && !noaudit && !audit_open) {
		if (db == NULL)
			db = au_xdb_open();
		audit = au_xaudit_open(db, "audit-write --init makes the keys; "
		    "--no-audit says not to audit");
		audit_open = 1;
	}
	if ((rc = getname(rec, "path", &o.path)) == 0 && o.path == NULL &&
	    o.op != NULL && (strcmp(o.op, "list") == 0 ||
	    strcmp(o.op, "search") == 0))
		o.path = au_xstrdup(".");
	if (o.path != NULL)
		o.res = setname(o.res, "path", o.path);
	if (rc == 0 && (rc = getname(rec, "to", &o.to)) == 0 && o.to != NULL)
		o.res = setname(o.res, "to", o.to);
	o.res = jv_object_set(o.res, jv_string("ok"), jv_true());
	if (rc == 0 && o.path != NULL)
		rc = clean(&o.path);
	if (rc == 0 && o.to != NULL)
		rc = clean(&o.to);
	if (rc != 0)
		;
	else if (o.op == NULL || !among(o.op, ops))
		rc = au_seterr(EX_DATAERR, "\"op\": %s, not one of read, "
		    "write, append, list, stat, mkdir, rm, mv, patch, search",
		    o.op ? au_quote(o.op) : "missing");
	else if (o.path == NULL)
		rc = au_seterr(EX_DATAERR, "needs \"path\"");
	else {
		if (change && flock(root, LOCK_EX) != 0)
			au_die(EX_IOERR, "locking the root:");
		rc = strcmp(o.op, "read") == 0 ? op_read(&o) :
		    strcmp(o.op, "write") == 0 ? rewrite(&o, make_write) :
		    strcmp(o.op, "append") == 0 ? rewrite(&o, make_write) :
		    strcmp(o.op, "patch") == 0 ? rewrite(&o, make_patch) :
		    strcmp(o.op, "list") == 0 ? op_list(&o) :
		    strcmp(o.op, "stat") == 0 ? op_stat(&o) :
		    strcmp(o.op, "mkdir") == 0 ? op_mkdir(&o) :
		    strcmp(o.op, "rm") == 0 ? op_rm(&o) :
		    strcmp(o.op, "mv") == 0 ? op_mv(&o) : op_search(&o);
	}
	if (rc != 0) {
		o.res = jv_object_set(o.res, jv_string("ok"), jv_false());
		o.res = jv_object_set(o.res, jv_string("error"),
		    jv_string(au_errmsg()));
		o.res = jv_object_set(o.res, jv_string("exit_code"),
		    jv_number(rc));
		if (rc != 1 || strcmp(o.op, "search") != 0) {
			if (file != NULL)
				au_errat(file, line, "%s: %s", o.op ? o.op :
				    "op", au_errmsg());
			else
				au_err("%s: %s", o.op, au_errmsg());
		}
	}
	if (change) {
		audit_change(o.res);
		flock(root, LOCK_UN);
	}
	emit(o.res);
	if (sid != NULL)
		log_output(o.res);
	jv_free(o.res);
	jv_free(o.id);
	free(o.path);
	free(o.to);
	outcome(rc);
}

/* ---- the command line --------------------------------------------------- */

/* Standard input whole, at most maxsize + 1 bytes. */
static void
slurp(struct au_buf *b)
{
	ssize_t got;

	for (;;) {
		au_buf_grow(b, 65536);
		if ((got = read(STDIN_FILENO, b->s + b->len, 65536)) < 0 &&
		    errno == EINTR)
			continue;
		if (got < 0)
			au_die(EX_IOERR, "standard input:");
		if (got == 0 || (b->len += (size_t)got) > maxsize)
			break;
	}
	if (b->len > maxsize)
		au_die(EX_DATAERR, "standard input: more than --max-size");
	au_buf_grow(b, 1);
	b->s[b->len] = '\0';
}

/* The op record of the command line's words w (n of them) and what the
 * options set in opt. */
static jv
oprec(int n, char **w, jv opt)
{
	const char *op = w[0];
	int need = strcmp(op, "mv") == 0 ? 3 : strcmp(op, "list") == 0 ? 1 :
	    2;
	int most = strcmp(op, "list") == 0 ? 2 : strcmp(op, "search") == 0 ?
	    3 : need;
	struct au_buf b = AU_BUF_INIT;
	jv r = JV_OBJECT(jv_string("type"), jv_string("file.op"),
	    jv_string("op"), jv_string(op));

	if (n < need || n > most)
		au_usage_die(&cmd, "%s: %s", op, n < need ? "missing operand" :
		    "too many operands");
	if (strcmp(op, "search") == 0) {
		r = jv_object_set(r, jv_string("pattern"), jv_string(w[1]));
		if (n > 2)
			r = setname(r, "path", w[2]);
	} else if (n > 1)
		r = setname(r, "path", w[1]);
	if (n > 2 && strcmp(op, "mv") == 0)
		r = setname(r, "to", w[2]);
	if (strcmp(op, "write") == 0 || strcmp(op, "append") == 0) {
		slurp(&b);
		if (au_utf8_valid(b.s, b.len) == b.len)
			r = jv_object_set(r, jv_string("content"),
			    jv_string_sized(b.s, (int)b.len));
		else {
			struct au_buf e = AU_BUF_INIT;

			b64(&e, b.s, b.len);
			r = jv_object_set(r, jv_string("content_base64"),
			    jv_string(e.s));
			au_buf_free(&e);
		}
	} else if (strcmp(op, "patch") == 0) {
		slurp(&b);
		if (b.s[strspn(b.s, " \t\r\n")] == '[') {
			jv e = jv_parse_sized(b.s, (int)b.len);

			if (jv_get_kind(e) != JV_KIND_ARRAY)
				au_die(EX_DATAERR, "standard input: not a JSON "
				    "array of edits");
			r = jv_object_set(r, jv_string("edits"), e);
		} else
			r = jv_object_set(r, jv_string("diff"),
			    jv_string_sized(b.s, (int)b.len));
	}
	au_buf_free(&b);
	jv_object_foreach(opt, k, v)
		r = jv_object_set(r, k, v);
	jv_free(opt);
	return r;
}

/* Which ops each option goes with. */
static const struct {
	const char *key;
	const char *ops;
} fit[] = {
	{ "lines", " read " },
	{ "binary", " read " },
	{ "if_match", " write append patch rm mv " },
	{ "parents", " mkdir " },
	{ "recursive", " list rm " },
	{ "depth", " list search " },
	{ "regex", " search " },
	{ "limit", " search " },
};

int
main(int argc, char **argv)
{
	const char *arg, *dir = NULL, *where = NULL;
	struct au_where *w = NULL;
	struct au_rec rec;
	struct au_in *in;
	jv opt = jv_object(), session = jv_null();
	int64_t n;
	size_t i;
	int c;

	au_setprog(argv[0]);
	while ((c = au_getopt(&cmd, argc, argv, &arg)) != -1) {
		switch (c) {
		case O_ROOT:
			dir = arg;
			break;
		case O_LINES:
			opt = jv_object_set(opt, jv_string("lines"),
			    jv_string(arg));
			break;
		case O_BINARY:
			opt = jv_object_set(opt, jv_string("binary"),
			    jv_true());
			break;
		case O_MAXSIZE:
			if (au_size_parse(arg, &maxsize) != 0)
				au_usage_die(&cmd, "--max-size: invalid size "
				    "%s", au_quote(arg));
			break;
		case O_IFMATCH:
			if (strlen(arg) != 64 || strspn(arg,
			    "0123456789abcdefABCDEF") != 64)
				au_usage_die(&cmd, "--if-match: not a SHA-256 "
				    "in hex: %s", au_quote(arg));
			opt = jv_object_set(opt, jv_string("if_match"),
			    jv_string(arg));
			break;
		case 'p':
			opt = jv_object_set(opt, jv_string("parents"),
			    jv_true());
			break;
		case 'r':
			opt = jv_object_set(opt, jv_string("recursive"),
			    jv_true());
			break;
		case O_DEPTH:
		case O_LIMIT:
			n = atoll(arg);
			if (n < 1 || strspn(arg, "0123456789") != strlen(arg))
				au_usage_die(&cmd, "--%s: not a positive "
				    "integer: %s", c == O_DEPTH ? "depth" :
				    "limit", au_quote(arg));
			opt = jv_object_set(opt, jv_string(c == O_DEPTH ?
			    "depth" : "limit"), jv_number((double)n));
			break;
		case O_REGEX:
			opt = jv_object_set(opt, jv_string("regex"),
			    jv_true());
			break;
		case O_NOAUDIT:
			noaudit = 1;
			break;
		case O_SESSION:
			sid = arg;
			break;
		}
	}
	argc -= au_optind;
	argv += au_optind;
	where = au_opts.where;
	if (dir != NULL && sid != NULL)
		au_usage_die(&cmd, "--root and --session do not go together");
	if (dir == NULL && sid == NULL)
		au_usage_die(&cmd, "--root DIR or --session ID is required");
	if (argc > 0 && among(argv[0], ops)) {
		for (i = 0; i < sizeof fit / sizeof fit[0]; i++) {
			char word[16];

			snprintf(word, sizeof word, " %s ", argv[0]);
			jv v = jv_object_get(jv_copy(opt),
			    jv_string(fit[i].key));

			if (jv_is_valid(v) && strstr(fit[i].ops, word) == NULL)
				au_usage_die(&cmd, "%s does not go with %s",
				    fit[i].key, argv[0]);
			jv_free(v);
		}
		if (where != NULL)
			au_usage_die(&cmd, "--where goes with records read");
	} else if (jv_object_length(jv_copy(opt)) > 0)
		au_usage_die(&cmd, "the options of an operation go with its "
		    "word; records carry their own");
	if (sid != NULL) {
		db = au_xdb_open();
		session = xsession();
		dir = au_jv_str(session, "root");
	}
	if ((root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (rootpath = realpath(dir, NULL)) == NULL)
		au_die(EX_NOINPUT, "%s %s:", sid ? "the session's root" :
		    "--root", au_quote(dir));
	au_out_init();
	if (argc > 0 && among(argv[0], ops)) {
		jv r = oprec(argc, argv, opt);

		run(r, NULL, 0);
		jv_free(r);
	} else {
		jv_free(opt);
		if (where != NULL)
			w = au_xwhere_new(where);
		in = au_in_open(argv, argc);
		while (au_in_next(in, &rec)) {
			const char *type = au_jv_str(rec.v, "type");
			int keep = 1;

			if (type == NULL || strcmp(type, "file.op") != 0)
				au_in_reject(in, &rec, "not a file.op record");
			else if (w != NULL && (keep = au_where_test(w,
			    rec.v)) < 0)
				au_in_reject(in, &rec, "--where: %s",
				    au_errmsg());
			else if (keep)
				run(rec.v, rec.file, rec.line);
			jv_free(rec.v);
		}
		outcome(au_in_status(in));
		au_in_close(in);
		au_where_free(w);
	}
	if (audit != NULL && au_audit_close(audit) != 0)
		au_die(EX_IOERR, "audit: %s", au_errmsg());
	if (db != NULL)
		au_db_close(db);
	close(root);
	free(rootpath);
	jv_free(session);
	au_buf_free(&outline);
	au_buf_free(&seg.keep);
	au_out_close();
	return worst;
}
