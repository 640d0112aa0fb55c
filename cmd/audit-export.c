/*
 * audit-export - an export bundle of the audit log: the events selected,
 * opened and redacted, the stretch of the chain that ties them to a
 * signed checkpoint, the public key, a manifest, and checksums signed with
 * the log's key, as tar.gz or zip (libarchive); or the events alone as
 * NDJSON.  agentutils-audit(5) gives every byte that a verifier checks.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <sqlite3.h>

#include "agentutils.h"

enum {
	O_SINCE = AU_LONG, O_UNTIL, O_TYPE, O_RUN, O_WHERE, O_REDACT,
	O_PROFILE, O_FORMAT, O_KEY, O_SIGNING, O_PUBKEY
};

static const struct au_opt opts[] = {
	{ O_SINCE, "since", "T", "events appended at T (RFC 3339) or later",
	    NULL },
	{ O_UNTIL, "until", "T", "events appended before T", NULL },
	{ O_TYPE, "type", "T", "events whose record's type is T", NULL },
	{ O_RUN, "run", "ID", "events whose record's run or run_id is ID",
	    NULL },
	{ O_WHERE, "where", "JQ", "events whose record JQ is true for",
	    NULL },
	{ O_REDACT, "redact", "PATH", "redact the jq path PATH too "
	    "(repeatable)", NULL },
	{ O_PROFILE, "profile", "FILE", "the redaction profile, instead of "
	    "the default", "FILE" },
	{ O_FORMAT, "format", "FORMAT", "tar.gz, zip or ndjson (by default "
	    "from OUT's name)", "tar.gz zip ndjson" },
	{ O_KEY, "key", "FILE", "the encryption key file", "FILE" },
	{ O_SIGNING, "signing-key", "FILE", "the Ed25519 signing key",
	    "FILE" },
	{ O_PUBKEY, "pubkey", "FILE", "its public key", "FILE" },
	{ 'o', "output", "OUT", "write to OUT (- for standard output, "
	    "ndjson only)", "FILE" },
	{ 0, NULL, NULL, NULL, NULL }
};

static const struct au_cmd cmd = {
	"audit-export", "-o OUT",
	"Export audit events, redacted, as a signed bundle.",
	opts, AU_USE_DB, NULL
};

enum { TGZ, ZIP, NDJSON };

/* What to redact in every event: field names (globs, and the same in
 * lower case for matching) and jq paths (compiled as path(PATH)). */
static jv names, lnames, paths;
static struct au_where **pathw;
static size_t npathw;

/* Which events: by append time [since, until), and by record. */
static int64_t since = INT64_MIN, until = INT64_MAX;
static const char *type, *run;
static struct au_where *where;

static sqlite3 *db;
static struct au_audit *log_;
static const struct au_audit_keys *keys;
static int progress;		/* a line on a terminal */
static int status;		/* 65 once --where failed on an event */

/* The output: written under a temporary name, renamed at the end. */
static const char *out;
static int outfd = -1;

/* What the walk found. */
struct sel {
	FILE *f;		/* events.ndjson, or NULL: standard output */
	int64_t count, first, last, read;
	unsigned char before[AU_AUDIT_HASH];	/* of event first - 1 */
	struct au_buf line;
};

/* One row of audit_events, checked against the chain so far. */
struct row {
	int64_t seq, ts;
	int epoch;
	const unsigned char *nonce, *ct;
	size_t n;
	unsigned char content[AU_AUDIT_HASH], sealed[AU_AUDIT_HASH];
	unsigned char hash[AU_AUDIT_HASH];
};

/* The covering checkpoint. */
struct cp {
	int64_t size, ts;
	unsigned char head[AU_AUDIT_HASH];
	char *body;
	unsigned char sig[64];
};

static FILE *
stage(void)
{
	char *name;
	int fd = au_xtemp_near(out, ".stage", &name);
	FILE *f;

	unlink(name);
	free(name);
	if ((f = fdopen(fd, "w+")) == NULL)
		au_die(EX_SOFTWARE, "fdopen:");
	return f;
}

/* Sync and close the output (f, or else outfd), and give it its name. */
static void
out_commit(FILE *f)
{
	if (f != NULL && (fflush(f) != 0 || ferror(f) || fclose(f) != 0))
		au_die(EX_IOERR, "%s:", au_esc(out));
	if (f == NULL && close(outfd) != 0)
		au_die(EX_IOERR, "%s:", au_esc(out));
	au_xout_commit();
}

/* ---- redaction ---------------------------------------------------------- */

/* Read all of path: NUL-terminated and malloc'd, its length in *n. */
static char *
slurp(const char *path, size_t *n, int missing)
{
	struct au_buf b = AU_BUF_INIT;
	FILE *f = fopen(path, "r");
	size_t r;

	if (f == NULL)
		au_die(errno == ENOENT ? missing : EX_NOINPUT, "%s:",
		    au_esc(path));
	do {
		au_buf_grow(&b, 4096);
		r = fread(b.s + b.len, 1, 4096, f);
		b.len += r;
		b.s[b.len] = '\0';
	} while (r > 0);
	if (ferror(f)) {
		au_buf_free(&b);
		au_die(EX_IOERR, "%s:", au_esc(path));
	}
	fclose(f);
	*n = b.len;
	return b.s;
}

static void
add_path(const char *expr, int code, const char *where_)
{
	char *prog = au_xasprintf("path(%s)", expr);
	struct au_where *w = au_where_new(prog);

	free(prog);
	if (w == NULL)
		au_die(code, "%s: %s: %s", where_, au_quote(expr),
		    au_errmsg());
	pathw = au_xreallocarray(pathw, npathw + 1, sizeof *pathw);
	pathw[npathw++] = w;
	paths = jv_array_append(paths, jv_string(expr));
}

/* An array of strings at key of the profile p (borrowed), or die. */
static jv
profile_list(jv p, const char *key, const char *file)
{
	jv l = jv_object_get(jv_copy(p), jv_string(key));
	int ok = 1;

	if (!jv_is_valid(l))
		return jv_array();
	if (jv_get_kind(l) != JV_KIND_ARRAY)
		ok = 0;
	else
		jv_array_foreach(l, i, x) {
			ok &= jv_get_kind(x) == JV_KIND_STRING;
			jv_free(x);
		}
	if (!ok) {
		jv_free(l);
		au_die(EX_CONFIG, "%s: \"%s\" must be an array of strings",
		    au_esc(file), key);
	}
	return l;
}

static void
profile_load(const char *file)
{
	size_t n, at, off;
	char *text = slurp(file, &n, EX_NOINPUT);
	const char *bad = au_json_check(text, n, &at);
	long line = 1;
	jv p, l;

	if (bad != NULL) {
		for (off = 0; off < at; off++)
			line += text[off] == '\n';
		free(text);
		au_die(EX_CONFIG, "%s:%ld: %s", au_esc(file), line, bad);
	}
	p = jv_parse_sized(text, (int)n);
	free(text);
	if (jv_get_kind(p) != JV_KIND_OBJECT)
		au_die(EX_CONFIG, "%s: not a JSON object", au_esc(file));
	jv_object_foreach(p, k, v) {
		if (strcmp(jv_string_value(k), "names") != 0 &&
		    strcmp(jv_string_value(k), "paths") != 0)
			au_die(EX_CONFIG, "%s: unknown member %s (names or "
			    "paths)", au_esc(file),
			    au_quote(jv_string_value(k)));
		jv_free(k);
		jv_free(v);
	}
	jv_free(names);
	names = profile_list(p, "names", file);
	l = profile_list(p, "paths", file);
	jv_array_foreach(l, i, x) {
		add_path(jv_string_value(x), EX_CONFIG, au_esc(file));
		jv_free(x);
	}
	jv_free(l);
	jv_free(p);
}

/* Free the compiled expressions and the profile; also at exit, since jq's
 * stack, from which a die in the middle of an event leaves a run, looks
 * like a leak otherwise. */
static void
release(void)
{
	size_t i;

	for (i = 0; i < npathw; i++)
		au_where_free(pathw[i]);
	free(pathw);
	pathw = NULL;
	npathw = 0;
	au_where_free(where);
	where = NULL;
	jv_free(names);
	jv_free(lnames);
	jv_free(paths);
	names = lnames = paths = jv_null();
}

/* Append "/" and the n bytes of key as a JSON Pointer token to b. */
static void
token(struct au_buf *b, const char *key, size_t n)
{
	au_buf_addc(b, '/');
	for (; n > 0; key++, n--)
		if (*key == '~' || *key == '/')
			au_buf_adds(b, *key == '~' ? "~0" : "~1");
		else
			au_buf_addc(b, *key);
}

static int
name_hit(const char *name, size_t n)
{
	char *low = au_xstrndup(name, n), *p;
	int hit = 0;

	for (p = low; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	jv_array_foreach(lnames, i, g) {
		hit |= fnmatch(jv_string_value(g), low, 0) == 0;
		jv_free(g);
	}
	free(low);
	return hit;
}

/* The pointers of the members of v (consumed) and beneath it whose names
 * match, onto roots. */
static void
by_name(jv v, struct au_buf *p, jv *roots)
{
	size_t mark = p->len;

	if (jv_get_kind(v) == JV_KIND_OBJECT) {
		jv_object_foreach(v, k, x) {
			int n = jv_string_length_bytes(jv_copy(k));

			token(p, jv_string_value(k), n);
			if (name_hit(jv_string_value(k), n)) {
				*roots = jv_array_append(*roots,
				    jv_string_sized(p->s, (int)p->len));
				jv_free(x);
			} else
				by_name(x, p, roots);
			p->len = mark;
			jv_free(k);
		}
	} else if (jv_get_kind(v) == JV_KIND_ARRAY) {
		jv_array_foreach(v, i, x) {
			au_buf_addf(p, "/%d", i);
			by_name(x, p, roots);
			p->len = mark;
		}
	}
	jv_free(v);
}

/* The JSON Pointer of the jq path (consumed) in rec (borrowed) into b: 0,
 * -1 when it leads nowhere (a negative index past the start), -2 when it
 * holds a slice. */
static int
pointer(jv rec, jv path, struct au_buf *b)
{
	jv cur = jv_copy(rec);
	int rc = 0;

	b->len = 0;
	au_buf_grow(b, 1);
	b->s[0] = '\0';
	jv_array_foreach(path, i, k) {
		jv_kind kk = jv_get_kind(k), ck = jv_get_kind(cur);
		double d;
		int idx;

		if (rc == 0 && kk == JV_KIND_STRING) {
			token(b, jv_string_value(k),
			    jv_string_length_bytes(jv_copy(k)));
			cur = ck == JV_KIND_OBJECT ? jv_object_get(cur,
			    jv_copy(k)) : (jv_free(cur), jv_null());
		} else if (rc == 0 && kk == JV_KIND_NUMBER) {
			d = jv_number_value(k);
			idx = d > -1e9 && d < 1e9 ? (int)d : INT_MIN;
			if (idx < 0 && idx != INT_MIN && ck == JV_KIND_ARRAY)
				idx += jv_array_length(jv_copy(cur));
			if (idx < 0)
				rc = -1;
			au_buf_addf(b, "/%d", idx);
			cur = ck == JV_KIND_ARRAY ? jv_array_get(cur, idx) :
			    (jv_free(cur), jv_null());
		} else if (rc == 0)
			rc = -2;
		if (!jv_is_valid(cur)) {
			jv_free(cur);
			cur = jv_null();
		}
		jv_free(k);
	}
	jv_free(cur);
	jv_free(path);
	return rc;
}

/* The pointers to redact in rec (borrowed); invalid when the path
 * pathw[*slice] holds a slice. */
static jv
roots_of(jv rec, size_t *slice)
{
	struct au_buf b = AU_BUF_INIT;
	jv roots = jv_array(), found;
	size_t i;
	int rc;

	au_buf_grow(&b, 64);
	by_name(jv_copy(rec), &b, &roots);
	for (i = 0; i < npathw && jv_is_valid(roots); i++) {
		/* A path that fails on an event (a field of another
		 * shape) redacts what it found before it failed. */
		au_where_all(pathw[i], rec, &found);
		jv_array_foreach(found, j, p) {
			if (!jv_is_valid(roots))
				jv_free(p);
			else if ((rc = pointer(rec, p, &b)) == 0)
				roots = jv_array_append(roots,
				    jv_string_sized(b.s, (int)b.len));
			else if (rc == -2) {
				jv_free(roots);
				roots = jv_invalid();
				*slice = i;
			}
		}
		jv_free(found);
	}
	au_buf_free(&b);
	return roots;
}

/* ---- the walk ----------------------------------------------------------- */

static sqlite3_stmt *
prepare(const char *sql)
{
	sqlite3_stmt *s;
	int rc;

	if ((rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL)) != SQLITE_OK)
		au_die(au_db_error(db, rc), "%s", au_errmsg());
	return s;
}

#define EVENTS "SELECT seq, ts, epoch, nonce, sealed, content, hash FROM " \
	"audit_events "

/* The next row of s into r, checked: its sequence number follows r's,
 * and its hash chains from prev.  1, or 0 at the end. */
static int
row_next(sqlite3_stmt *s, struct row *r, unsigned char prev[AU_AUDIT_HASH])
{
	unsigned char want[AU_AUDIT_HASH];
	int64_t expect = r->seq + 1;
	int rc;

	if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
		if (rc != SQLITE_DONE)
			au_die(au_db_error(db, rc), "%s", au_errmsg());
		return 0;
	}
	r->seq = sqlite3_column_int64(s, 0);
	r->ts = sqlite3_column_int64(s, 1);
	r->epoch = sqlite3_column_int(s, 2);
	r->nonce = sqlite3_column_blob(s, 3);
	r->ct = sqlite3_column_blob(s, 4);
	r->n = sqlite3_column_bytes(s, 4);
	if (r->seq != expect)
		au_die(1, "seq %lld: found where seq %lld should be",
		    (long long)r->seq, (long long)expect);
	if (sqlite3_column_bytes(s, 3) != AU_AUDIT_NONCE ||
	    sqlite3_column_bytes(s, 5) != AU_AUDIT_HASH ||
	    sqlite3_column_bytes(s, 6) != AU_AUDIT_HASH || r->ct == NULL)
		au_die(1, "seq %lld: a malformed row", (long long)r->seq);
	memcpy(r->content, sqlite3_column_blob(s, 5), AU_AUDIT_HASH);
	memcpy(r->hash, sqlite3_column_blob(s, 6), AU_AUDIT_HASH);
	au_audit_sealed(r->nonce, r->ct, r->n, r->sealed);
	au_audit_chain(prev, r->seq, r->ts, r->epoch, r->content, r->sealed,
	    want);
	if (memcmp(want, r->hash, AU_AUDIT_HASH) != 0)
		au_die(1, "seq %lld: the hash does not chain (the log was "
		    "altered)", (long long)r->seq);
	return 1;
}

static int
wanted(jv rec, int64_t seq)
{
	const char *v;
	int r;

	if (type != NULL && ((v = au_jv_str(rec, "type")) == NULL ||
	    strcmp(v, type) != 0))
		return 0;
	/* aw-sched's events name their run in run_id. */
	if (run != NULL && ((v = au_jv_str(rec, "run")) == NULL ||
	    strcmp(v, run) != 0) && ((v = au_jv_str(rec, "run_id")) == NULL ||
	    strcmp(v, run) != 0))
		return 0;
	if (where == NULL)
		return 1;
	if ((r = au_where_test(where, rec)) < 0) {
		au_err("seq %lld: --where: %s", (long long)seq, au_errmsg());
		status = EX_DATAERR;
	}
	return r > 0;
}

/* Open the event of r, and if it is selected write its line. */
static void
take(struct sel *x, const struct row *r, const unsigned char *prev)
{
	unsigned char salt[AU_AUDIT_SALT], c[AU_AUDIT_HASH];
	char ts[AU_TS_LEN];
	jv rec, red, roots, line;
	size_t slice = 0;
	int rc;

	if (au_audit_open_event(keys, r->seq, prev, r->epoch, r->nonce,
	    r->ct, r->n, &rec, salt) != 0)
		au_die(1, "seq %lld: %s", (long long)r->seq, au_errmsg());
	if (!wanted(rec, r->seq)) {
		jv_free(rec);
		return;
	}
	if (!jv_is_valid(roots = roots_of(rec, &slice))) {
		jv e = jv_array_get(jv_copy(paths), (int)slice);
		const char *q = au_quote(jv_string_value(e));

		jv_free(e);
		jv_free(rec);
		au_die(EX_USAGE, "--redact: %s: only paths to fields and "
		    "elements, not slices", q);
	}
	red = au_audit_redact(rec, salt, roots);
	jv_free(roots);
	jv_free(rec);
	rec = jv_object_get(jv_copy(red), jv_string("record"));
	if (jv_object_has(jv_copy(red), jv_string("salt")))
		rc = au_audit_digest(rec, salt, jv_null(), jv_null(), c);
	else {
		jv s = jv_object_get(jv_copy(red), jv_string("salts"));
		jv d = jv_object_get(jv_copy(red), jv_string("redacted"));

		rc = au_audit_digest(rec, NULL, s, d, c);
		jv_free(s);
		jv_free(d);
	}
	jv_free(rec);
	if (rc != 0 || memcmp(c, r->content, AU_AUDIT_HASH) != 0) {
		jv_free(red);
		au_die(1, "seq %lld: the record does not match its content "
		    "digest", (long long)r->seq);
	}
	line = jv_object_set(jv_object(), jv_string("type"),
	    jv_string("audit.event"));
	line = jv_object_set(line, jv_string("seq"), jv_number(r->seq));
	line = jv_object_set(line, jv_string("ts"),
	    jv_string(au_ts_fmt(r->ts, ts)));
	line = jv_object_set(line, jv_string("epoch"), jv_number(r->epoch));
	line = jv_object_merge(line, red);
	x->line.len = 0;
	au_json_dump(&x->line, line);
	jv_free(line);
	if (x->f == NULL)
		au_out_line(x->line.s, x->line.len);
	else {
		au_buf_addc(&x->line, '\n');
		if (fwrite(x->line.s, 1, x->line.len, x->f) != x->line.len)
			au_die(EX_IOERR, "%s:", au_esc(out));
	}
	if (x->count++ == 0) {
		x->first = r->seq;
		memcpy(x->before, prev, AU_AUDIT_HASH);
	}
	x->last = r->seq;
}

static void
show_progress(const struct sel *x, int end)
{
	if (progress && (end || x->read % 1000 == 0))
		fprintf(stderr, "\r%s: %lld events read, %lld selected%s",
		    au_prog, (long long)x->read, (long long)x->count,
		    end ? "\n" : "");
}

/* Every event in order, the chain checked, the selected ones written. */
static void
walk(struct sel *x)
{
	sqlite3_stmt *s = prepare(EVENTS "ORDER BY seq");
	unsigned char prev[AU_AUDIT_HASH];
	struct row r;

	memset(prev, 0, sizeof prev);
	r.seq = 0;
	while (row_next(s, &r, prev)) {
		if (r.ts >= since && r.ts < until)
			take(x, &r, prev);
		memcpy(prev, r.hash, AU_AUDIT_HASH);
		x->read++;
		show_progress(x, 0);
	}
	sqlite3_finalize(s);
	show_progress(x, 1);
}

/* ---- the bundle --------------------------------------------------------- */

/* The smallest checkpoint of size at least min into c: 1, or 0. */
static int
cp_find(int64_t min, struct cp *c)
{
	sqlite3_stmt *s = prepare("SELECT size, ts, head, note FROM "
	    "audit_checkpoints WHERE size >= ?1 ORDER BY size LIMIT 1");
	int rc, found = 0;

	sqlite3_bind_int64(s, 1, min);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		c->size = sqlite3_column_int64(s, 0);
		c->body = au_xstrdup((const char *)sqlite3_column_text(s, 3));
		found = 1;
	} else if (rc != SQLITE_DONE)
		au_die(au_db_error(db, rc), "%s", au_errmsg());
	sqlite3_finalize(s);
	return found;
}

/* The checkpoint that covers the selection, checked against the public
 * key and the log. */
static void
cp_get(const struct sel *x, const struct au_audit_pub *pub, struct cp *c)
{
	const char *m;
	int64_t size;
	char *note;
	int rc;

	if (!cp_find(x->last, c)) {
		if ((rc = au_audit_checkpoint(log_)) != 0)
			au_die(rc, "checkpoint: %s", au_errmsg());
		if (!cp_find(x->last, c))
			au_die(EX_NOINPUT, "the audit log is empty");
	}
	note = c->body;
	size = c->size;
	if (au_audit_note_check(pub, note, &c->size, c->head, &c->ts) != 0 ||
	    au_audit_note_split(note, &c->body, c->sig) != 0) {
		m = au_errmsg();
		if (strncmp(m, "checkpoint: ", 12) == 0)
			m += 12;
		free(note);
		au_die(1, "checkpoint %lld: %s", (long long)size, m);
	}
	if (c->size != size)
		au_die(1, "checkpoint %lld: its note says %lld",
		    (long long)size, (long long)c->size);
	free(note);
}

static void
put_line(FILE *f, struct au_buf *b, jv v)
{
	b->len = 0;
	au_json_dump(b, v);
	au_buf_addc(b, '\n');
	if (fwrite(b->s, 1, b->len, f) != b->len)
		au_die(EX_IOERR, "%s:", au_esc(out));
	jv_free(v);
}

static jv
hexv(const unsigned char *p)
{
	char hx[2 * AU_AUDIT_HASH + 1];

	return jv_string(au_hex(p, AU_AUDIT_HASH, hx));
}

static jv
seq_hash(int64_t seq, const unsigned char *h)
{
	return jv_object_set(jv_object_set(jv_object(), jv_string("seq"),
	    jv_number(seq)), jv_string("hash"), hexv(h));
}

/* chain.ndjson: from the hash before the first selected event to the
 * checkpoint's head, every event's part of the chain. */
static void
chain(FILE *f, const struct sel *x, const struct cp *c)
{
	sqlite3_stmt *s;
	unsigned char prev[AU_AUDIT_HASH];
	struct au_buf b = AU_BUF_INIT;
	struct row r;
	jv v;

	if (x->count == 0) {
		s = prepare(EVENTS "WHERE seq = ?1");
		sqlite3_bind_int64(s, 1, c->size);
		if (sqlite3_step(s) != SQLITE_ROW ||
		    sqlite3_column_bytes(s, 6) != AU_AUDIT_HASH ||
		    memcmp(sqlite3_column_blob(s, 6), c->head,
		    AU_AUDIT_HASH) != 0)
			au_die(1, "checkpoint %lld: its head is not the log's",
			    (long long)c->size);
		sqlite3_finalize(s);
		put_line(f, &b, seq_hash(c->size, c->head));
		au_buf_free(&b);
		return;
	}
	put_line(f, &b, seq_hash(x->first - 1, x->before));
	memcpy(prev, x->before, sizeof prev);
	s = prepare(EVENTS "WHERE seq BETWEEN ?1 AND ?2 ORDER BY seq");
	sqlite3_bind_int64(s, 1, x->first);
	sqlite3_bind_int64(s, 2, c->size);
	r.seq = x->first - 1;
	while (row_next(s, &r, prev)) {
		v = jv_object_set(jv_object(), jv_string("seq"),
		    jv_number(r.seq));
		v = jv_object_set(v, jv_string("ts_ms"), jv_number(r.ts));
		v = jv_object_set(v, jv_string("epoch"), jv_number(r.epoch));
		v = jv_object_set(v, jv_string("content"), hexv(r.content));
		v = jv_object_set(v, jv_string("sealed"), hexv(r.sealed));
		v = jv_object_set(v, jv_string("hash"), hexv(r.hash));
		put_line(f, &b, v);
		memcpy(prev, r.hash, sizeof prev);
	}
	sqlite3_finalize(s);
	au_buf_free(&b);
	if (r.seq != c->size || memcmp(prev, c->head, sizeof prev) != 0)
		au_die(1, "checkpoint %lld: its head is not the log's",
		    (long long)c->size);
}

static jv
manifest(const struct sel *x, const struct cp *c, jv filters,
    const char *const *files)
{
	char ts[AU_TS_LEN];
	jv m, cp, f = jv_array();

	for (; *files != NULL; files++)
		f = jv_array_append(f, jv_string(*files));
	m = jv_object_set(jv_object(), jv_string("type"),
	    jv_string("audit.manifest"));
	m = jv_object_set(m, jv_string("version"), jv_number(1));
	m = jv_object_set(m, jv_string("program"), jv_string(cmd.name));
	m = jv_object_set(m, jv_string("program_version"),
	    jv_string(AU_VERSION));
	m = jv_object_set(m, jv_string("created"),
	    jv_string(au_ts_fmt(au_now_ms(), ts)));
	m = jv_object_set(m, jv_string("log"),
	    jv_string(au_audit_origin(log_)));
	m = jv_object_set(m, jv_string("events"), jv_number(x->count));
	if (x->count > 0) {
		m = jv_object_set(m, jv_string("first_seq"),
		    jv_number(x->first));
		m = jv_object_set(m, jv_string("last_seq"),
		    jv_number(x->last));
	}
	cp = jv_object_set(jv_object(), jv_string("size"), jv_number(c->size));
	cp = jv_object_set(cp, jv_string("head"), hexv(c->head));
	cp = jv_object_set(cp, jv_string("ts"), jv_string(au_ts_fmt(c->ts,
	    ts)));
	m = jv_object_set(m, jv_string("checkpoint"), cp);
	m = jv_object_set(m, jv_string("filters"), filters);
	m = jv_object_set(m, jv_string("redactions"), jv_object_set(
	    jv_object_set(jv_object(), jv_string("names"), jv_copy(names)),
	    jv_string("paths"), jv_copy(paths)));
	return jv_object_set(m, jv_string("files"), f);
}

static AU_NORETURN void
archive_die(struct archive *a)
{
	au_die(EX_IOERR, "%s: %s", au_esc(out), archive_error_string(a));
}

/* Add a member to the archive: the n bytes at p, or all of f; its line
 * of SHA256SUMS to sums. */
static void
member(struct archive *a, const char *name, const void *p, size_t n,
    FILE *f, struct au_buf *sums)
{
	struct archive_entry *e = archive_entry_new();
	struct au_sha256 *h = au_sha256_new();
	unsigned char d[AU_AUDIT_HASH];
	char buf[65536], hx[2 * AU_AUDIT_HASH + 1];
	size_t r;

	if (f != NULL) {
		if (fflush(f) != 0 || ferror(f) || fseeko(f, 0, SEEK_END) != 0)
			au_die(EX_IOERR, "%s:", au_esc(out));
		n = (size_t)ftello(f);
		rewind(f);
	}
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0600);
	archive_entry_set_size(e, (la_int64_t)n);
	archive_entry_set_mtime(e, au_now_ms() / 1000, 0);
	if (archive_write_header(a, e) != ARCHIVE_OK)
		archive_die(a);
	archive_entry_free(e);
	do {
		if (f != NULL) {
			r = fread(buf, 1, sizeof buf, f);
			p = buf;
			if (ferror(f))
				au_die(EX_IOERR, "%s:", au_esc(out));
		} else
			r = n;
		au_sha256_add(h, p, r);
		if (r > 0 && archive_write_data(a, p, r) != (la_ssize_t)r)
			archive_die(a);
	} while (f != NULL && r > 0);
	au_sha256_end(h, d);
	if (sums != NULL)
		au_buf_addf(sums, "%s  %s\n", au_hex(d, sizeof d, hx), name);
}

static void
bundle(int format, struct sel *x, const struct au_audit_pub *pub,
    const char *pubtext, size_t publen, jv filters)
{
	static const char *files[] = { "events.ndjson", "chain.ndjson",
	    "checkpoint", "checkpoint.sig", "pubkey.pem", NULL };
	struct au_buf m = AU_BUF_INIT, sums = AU_BUF_INIT;
	unsigned char sig[64];
	struct archive *a;
	FILE *ch = stage();
	struct cp c;
	jv mf;
	int rc;

	cp_get(x, pub, &c);
	chain(ch, x, &c);
	mf = manifest(x, &c, filters, files);
	au_json_dump(&m, mf);
	jv_free(mf);
	au_buf_addc(&m, '\n');
	if ((a = archive_write_new()) == NULL)
		au_die(EX_SOFTWARE, "out of memory");
	if (format == ZIP)
		rc = archive_write_set_format_zip(a);
	else if ((rc = archive_write_set_format_pax_restricted(a)) ==
	    ARCHIVE_OK)
		rc = archive_write_add_filter_gzip(a);
	if (rc != ARCHIVE_OK || archive_write_open_fd(a, outfd) != ARCHIVE_OK)
		au_die(EX_SOFTWARE, "libarchive: %s", archive_error_string(a));
	member(a, files[0], NULL, 0, x->f, &sums);
	member(a, files[1], NULL, 0, ch, &sums);
	member(a, files[2], c.body, strlen(c.body), NULL, &sums);
	member(a, files[3], c.sig, sizeof c.sig, NULL, &sums);
	member(a, files[4], pubtext, publen, NULL, &sums);
	member(a, "manifest.json", m.s, m.len, NULL, &sums);
	member(a, "SHA256SUMS", sums.s, sums.len, NULL, NULL);
	if ((rc = au_audit_sign(log_, sums.s, sums.len, sig)) != 0)
		au_die(rc, "%s", au_errmsg());
	member(a, "SHA256SUMS.sig", sig, sizeof sig, NULL, NULL);
	if (archive_write_close(a) != ARCHIVE_OK)
		archive_die(a);
	archive_write_free(a);
	fclose(ch);
	free(c.body);
	au_buf_free(&m);
	au_buf_free(&sums);
}

/* ---- main --------------------------------------------------------------- */

static int64_t
opt_ts(const char *opt, const char *arg, jv *filters)
{
	int64_t ms;

	if (au_ts_parse(arg, &ms) != 0)
		au_usage_die(&cmd, "--%s: not an RFC 3339 time: %s", opt,
		    au_quote(arg));
	*filters = jv_object_set(*filters, jv_string(opt), jv_string(arg));
	return ms;
}

static int
format_of(const char *arg, const char *o)
{
	size_t n = o ? strlen(o) : 0;

	if (arg != NULL)
		return strcmp(arg, "zip") == 0 ? ZIP : strcmp(arg, "ndjson") ==
		    0 ? NDJSON : strcmp(arg, "tar.gz") == 0 ? TGZ : -1;
	if (o == NULL || strcmp(o, "-") == 0 ||
	    (n > 7 && strcmp(o + n - 7, ".ndjson") == 0))
		return NDJSON;
	return n > 4 && strcmp(o + n - 4, ".zip") == 0 ? ZIP : TGZ;
}

int
main(int argc, char **argv)
{
	struct au_audit_files files = { NULL, NULL, NULL };
	struct au_audit_keys *k = NULL;
	struct au_audit_pub *pub = NULL;
	const char *arg, *fmt = NULL, *profile = NULL;
	jv filters = jv_object(), redacts = jv_array();
	struct sel x;
	char *path, *pubtext = NULL;
	size_t publen = 0;
	int c, rc, format, i;

	au_setprog(argv[0]);
	names = lnames = paths = jv_null();
	atexit(release);
	while ((c = au_getopt(&cmd, argc, argv, &arg)) != -1)
		switch (c) {
		case O_SINCE: since = opt_ts("since", arg, &filters); break;
		case O_UNTIL: until = opt_ts("until", arg, &filters); break;
		case O_TYPE: type = arg; break;
		case O_RUN: run = arg; break;
		case O_WHERE:
			where = au_xwhere_new(arg);
			filters = jv_object_set(filters, jv_string("where"),
			    jv_string(arg));
			break;
		case O_REDACT:
			redacts = jv_array_append(redacts, jv_string(arg));
			break;
		case O_PROFILE: profile = arg; break;
		case O_FORMAT: fmt = arg; break;
		case O_KEY: files.key = arg; break;
		case O_SIGNING: files.signing = arg; break;
		case O_PUBKEY: files.pubkey = arg; break;
		case 'o': out = arg; break;
		}
	if (au_optind < argc)
		au_usage_die(&cmd, "no operands, only -o OUT");
	if (out == NULL)
		au_usage_die(&cmd, "no output: -o OUT");
	if ((format = format_of(fmt, out)) < 0)
		au_usage_die(&cmd, "--format: unknown format %s (tar.gz, zip "
		    "or ndjson)", au_quote(fmt));
	if (format != NDJSON && strcmp(out, "-") == 0)
		au_usage_die(&cmd, "-o -: only for --format ndjson");
	if (type != NULL)
		filters = jv_object_set(filters, jv_string("type"),
		    jv_string(type));
	if (run != NULL)
		filters = jv_object_set(filters, jv_string("run"),
		    jv_string(run));

	names = jv_array();
	for (i = 0; au_secret_names[i] != NULL; i++)
		names = jv_array_append(names, jv_string(au_secret_names[i]));
	paths = jv_array();
	if (profile != NULL)
		profile_load(profile);
	jv_array_foreach(redacts, j, r) {
		add_path(jv_string_value(r), EX_USAGE, "--redact");
		jv_free(r);
	}
	jv_free(redacts);
	lnames = jv_array();
	jv_array_foreach(names, j, g) {
		char *low = au_xstrdup(jv_string_value(g)), *p;

		for (p = low; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
		lnames = jv_array_append(lnames, jv_string(low));
		free(low);
		jv_free(g);
	}

	memset(&x, 0, sizeof x);
	progress = !au_quiet && isatty(STDERR_FILENO);
	if (strcmp(out, "-") == 0)
		au_out_init();
	else if (format == NDJSON) {
		outfd = au_xout_open(out, 0600);
		if ((x.f = fdopen(outfd, "w")) == NULL)
			au_die(EX_SOFTWARE, "fdopen:");
	} else {
		outfd = au_xout_open(out, 0600);
		x.f = stage();
	}
	db = au_xdb_open();
	if ((rc = au_audit_open(db, &files, 0, 0, &log_)) != 0)
		au_die(rc, "%s", au_errmsg());
	path = files.key ? au_xstrdup(files.key) : au_config_path("audit.key");
	rc = path == NULL ? EX_CONFIG : au_audit_keys_load(path, &k);
	free(path);
	if (rc != 0)
		au_die(rc, "%s", au_errmsg());
	keys = k;
	if (format != NDJSON) {
		path = files.pubkey ? au_xstrdup(files.pubkey) :
		    au_config_path("audit-sign.pub");
		rc = path == NULL ? EX_CONFIG : au_audit_pub_load(path, &pub);
		if (rc == 0 && !au_audit_pub_matches(log_, pub))
			rc = au_seterr(EX_CONFIG, "%s: not the public key of "
			    "the signing key", au_esc(path));
		if (rc == 0)
			pubtext = slurp(path, &publen, EX_NOINPUT);
		free(path);
		if (rc != 0)
			au_die(rc, "%s", au_errmsg());
	}

	walk(&x);
	if (format != NDJSON)
		bundle(format, &x, pub, pubtext, publen, filters);
	else
		jv_free(filters);
	if (format == NDJSON && x.f != NULL)
		out_commit(x.f);
	else if (format != NDJSON) {
		fclose(x.f);
		out_commit(NULL);
	}
	au_note("%lld events exported", (long long)x.count);
	if ((rc = au_audit_close(log_)) != 0)
		au_die(rc, "checkpoint: %s", au_errmsg());
	au_db_close(db);
	au_audit_keys_free(k);
	au_audit_pub_free(pub);
	free(pubtext);
	au_buf_free(&x.line);
	release();
	if (strcmp(out, "-") == 0)
		au_out_close();
	return status;
}
