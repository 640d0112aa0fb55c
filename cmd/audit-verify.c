/*
 * audit-verify - check the audit log, or an export bundle of it: the hash
 * chain, every checkpoint's signature and the log's size against them;
 * with the key, every event's GCM tag and content digest too.  The first
 * bad event is named and the exit status is 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>
#include <sqlite3.h>

#include "agentutils.h"

enum { O_KEY = AU_LONG, O_PUBKEY, O_FROM };

#define MAXJOBS 64

static const struct au_opt opts[] = {
	{ O_KEY, "key", "FILE", "decrypt with these keys and check every "
	    "event", "FILE" },
	{ O_PUBKEY, "pubkey", "FILE", "the public key checkpoints are "
	    "signed with", "FILE" },
	{ O_FROM, "from", "SEQ", "start at event SEQ (trusting the one "
	    "before)", NULL },
	{ 'j', "jobs", "N", "check N parts of the log at once (default: one "
	    "per processor)", NULL },
	{ 0, NULL, NULL, NULL, NULL }
};

static const struct au_cmd cmd = {
	"audit-verify", "[DB | BUNDLE]",
	"Check the audit log or an export bundle for tampering.",
	opts, AU_USE_DB, "FILE"
};

#define H AU_AUDIT_HASH
#define MAXMEMBER (1L << 30)

static struct au_audit_pub *pub;
static const char *src;		/* what is checked, for messages */

/* Tampering found: name it and leave with 1. */
static AU_NORETURN void AU_PRINTF(1, 2)
bad(const char *fmt, ...)
{
	va_list ap;
	char *m;

	va_start(ap, fmt);
	if (vasprintf(&m, fmt, ap) < 0)
		m = NULL;
	va_end(ap);
	au_err("%s: %s", au_esc(src), m ? m : fmt);
	exit(1);
}

static void
summary(const char *kind, int64_t events, int64_t first, int64_t last,
    int64_t cps, int keyed, int64_t unsigned_tail, int64_t t0)
{
	jv r = jv_object();

	r = jv_object_set(r, jv_string("type"), jv_string("audit.verify"));
	r = jv_object_set(r, jv_string("ok"), jv_true());
	r = jv_object_set(r, jv_string("source"), jv_string(kind));
	r = jv_object_set(r, jv_string("path"), jv_string(src));
	r = jv_object_set(r, jv_string("events"), jv_number(events));
	r = jv_object_set(r, jv_string("first_seq"),
	    first > 0 ? jv_number(first) : jv_null());
	r = jv_object_set(r, jv_string("last_seq"),
	    last > 0 ? jv_number(last) : jv_null());
	r = jv_object_set(r, jv_string("checkpoints"), jv_number(cps));
	r = jv_object_set(r, jv_string("unsigned_tail"),
	    jv_number(unsigned_tail));
	r = jv_object_set(r, jv_string("decrypted"), jv_bool(keyed));
	r = jv_object_set(r, jv_string("seconds"),
	    jv_number((au_mono_ms() - t0) / 1000.0));
	au_out_rec(r);
	jv_free(r);
}

/* ---- the state file ---------------------------------------------------- */

/* The checkpoints, checked, in size order. */
struct cp {
	int64_t size;
	unsigned char head[H];
};

/* File-wide, so that they are still reachable when bad() exits. */
static struct au_audit_keys *keys;
static struct cp *cps;
static size_t ncps;

static struct cp *
checkpoints(sqlite3 *db, size_t *np)
{
	struct cp *v = NULL;
	size_t n = 0, cap = 0;
	sqlite3_stmt *s;
	int64_t size, ts;
	int rc;

	sqlite3_prepare_v2(db, "SELECT size, head, note FROM "
	    "audit_checkpoints ORDER BY size", -1, &s, NULL);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		v = au_grow(v, &cap, n + 1, sizeof *v);
		size = sqlite3_column_int64(s, 0);
		if (au_audit_note_check(pub, (const char *)
		    sqlite3_column_text(s, 2), &v[n].size, v[n].head,
		    &ts) != 0)
			bad("checkpoint %lld: %s", (long long)size,
			    au_errmsg());
		if (v[n].size != size ||
		    sqlite3_column_bytes(s, 1) != H ||
		    memcmp(sqlite3_column_blob(s, 1), v[n].head, H) != 0)
			bad("checkpoint %lld: its row does not match its "
			    "signed note", (long long)size);
		n++;
	}
	if (rc != SQLITE_DONE)
		au_die(au_db_error(db, rc), "%s", au_errmsg());
	sqlite3_finalize(s);
	*np = n;
	return v;
}

static void
check_key_ids(sqlite3 *db, const struct au_audit_keys *k)
{
	sqlite3_stmt *s;
	const char *id;
	int epoch;

	sqlite3_prepare_v2(db, "SELECT epoch, key_id FROM audit_keys", -1,
	    &s, NULL);
	while (sqlite3_step(s) == SQLITE_ROW) {
		epoch = sqlite3_column_int(s, 0);
		if ((id = au_audit_key_id(k, epoch)) != NULL &&
		    strcmp(id, (const char *)sqlite3_column_text(s, 1)) != 0)
			bad("key epoch %d: the key file holds key %s, the log "
			    "was written with %s (the wrong key file?)",
			    epoch, id, (const char *)sqlite3_column_text(s,
			    1));
	}
	sqlite3_finalize(s);
}

/* The log is checked in parts, a thread each, so that reading it (most
 * of the time, in SQLite) runs on every core.  A part reads its range
 * of events through a connection of its own and checks each event
 * against the hash stored before it: that every link holds is what the
 * chain holds, wherever its checking starts.  A part stops at its first
 * bad event, and the first part that has one names it, so that the
 * first bad event is named as if one thread had done it all. */
#define MAXPARTS 8
#define PARTROWS 16384	/* fewer events a part: not worth a thread */

struct part {
	pthread_t thread;
	int threaded;		/* checked by that thread */
	const char *path;
	struct au_audit_keys *keys;	/* its own (a GCM context each) */
	int64_t lo, hi;		/* its events; hi < 0: to the end */
	int64_t n, first, next;	/* checked, the first, the next due */
	char *why;		/* the first bad event, or NULL */
	int rc;			/* SQLite failed: 0 or the exit status */
	char *err;
};

/* File-wide, so that they are still reachable when bad() exits. */
static struct part *parts;

static void AU_PRINTF(2, 3)
part_bad(struct part *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&p->why, fmt, ap) < 0)
		p->why = NULL;
	va_end(ap);
	if (p->why == NULL)
		p->why = au_xstrdup("out of memory");
}

static void
part_fail(struct part *p, sqlite3 *db, int rc)
{
	p->rc = au_db_error(db, rc);
	p->err = au_xstrdup(au_errmsg());
}

/* Check the events of one row of s, the one expected next: 0, or 1 and
 * the part is bad. */
static int
check_row(struct part *p, sqlite3_stmt *s, unsigned char prev[H],
    size_t *ci)
{
	const unsigned char *nonce, *ct, *content, *hash;
	unsigned char sealed[H], h[H], c[H];
	int64_t seq = sqlite3_column_int64(s, 0), ts;
	int epoch;
	size_t len;

	if (seq != p->next) {
		part_bad(p, "seq %lld: missing", (long long)p->next);
		return 1;
	}
	ts = sqlite3_column_int64(s, 1);
	epoch = sqlite3_column_int(s, 2);
	nonce = sqlite3_column_blob(s, 3);
	ct = sqlite3_column_blob(s, 4);
	len = sqlite3_column_bytes(s, 4);
	content = sqlite3_column_blob(s, 5);
	hash = sqlite3_column_blob(s, 6);
	if (sqlite3_column_bytes(s, 3) != AU_AUDIT_NONCE ||
	    sqlite3_column_bytes(s, 5) != H ||
	    sqlite3_column_bytes(s, 6) != H || ct == NULL) {
		part_bad(p, "seq %lld: malformed row", (long long)seq);
		return 1;
	}
	au_audit_sealed(nonce, ct, len, sealed);
	au_audit_chain(prev, seq, ts, epoch, content, sealed, h);
	if (memcmp(h, hash, H) != 0) {
		part_bad(p, "seq %lld: hash mismatch", (long long)seq);
		return 1;
	}
	/* With the key, each event opens against the hash stored before
	 * it, which the chain has just shown to be the right one. */
	if (p->keys != NULL) {
		if (au_audit_open_digest(p->keys, seq, prev, epoch, nonce, ct,
		    len, c) != 0) {
			part_bad(p, "seq %lld: %s", (long long)seq,
			    au_errmsg());
			return 1;
		}
		if (memcmp(c, content, H) != 0) {
			part_bad(p, "seq %lld: content digest mismatch",
			    (long long)seq);
			return 1;
		}
	}
	for (; *ci < ncps && cps[*ci].size == seq; ++*ci)
		if (memcmp(cps[*ci].head, h, H) != 0) {
			part_bad(p, "checkpoint %lld: head mismatch (the "
			    "log was rewritten)", (long long)seq);
			return 1;
		}
	memcpy(prev, h, H);
	if (p->n++ == 0)
		p->first = seq;
	p->next++;
	return 0;
}

static void *
check_part(void *arg)
{
	struct part *p = arg;
	unsigned char prev[H] = { 0 };
	sqlite3_stmt *s;
	sqlite3 *db;
	size_t ci = 0;
	int rc;

	p->next = p->lo;
	/* One thread only uses the connection: no locking for each of the
	 * many calls a row takes. */
	if ((rc = sqlite3_open_v2(p->path, &db, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOMUTEX, NULL)) != SQLITE_OK) {
		part_fail(p, db, rc);
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 5000);
	/* Each page is read once: a cache of SQLite's default size (2 MB)
	 * would only cost the page faults of filling it (measured: 10% of
	 * the time). */
	sqlite3_exec(db, "PRAGMA cache_size = 64", NULL, NULL, NULL);
	if (p->lo > 1) {
		if ((rc = sqlite3_prepare_v2(db, "SELECT hash FROM "
		    "audit_events WHERE seq = ?1", -1, &s, NULL)) !=
		    SQLITE_OK) {
			part_fail(p, db, rc);
			sqlite3_close(db);
			return NULL;
		}
		sqlite3_bind_int64(s, 1, p->lo - 1);
		if ((rc = sqlite3_step(s)) == SQLITE_ROW &&
		    sqlite3_column_bytes(s, 0) == H)
			memcpy(prev, sqlite3_column_blob(s, 0), H);
		else if (rc == SQLITE_ROW || rc == SQLITE_DONE)
			part_bad(p, "seq %lld: missing",
			    (long long)(p->lo - 1));
		else
			part_fail(p, db, rc);
		sqlite3_finalize(s);
		if (p->why != NULL || p->rc != 0) {
			sqlite3_close(db);
			return NULL;
		}
	}
	while (ci < ncps && cps[ci].size < p->lo)
		ci++;
	if ((rc = sqlite3_prepare_v2(db, "SELECT seq, ts, epoch, nonce, "
	    "sealed, content, hash FROM audit_events WHERE seq BETWEEN ?1 "
	    "AND ?2 ORDER BY seq", -1, &s, NULL)) != SQLITE_OK) {
		part_fail(p, db, rc);
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_bind_int64(s, 1, p->lo);
	sqlite3_bind_int64(s, 2, p->hi < 0 ? INT64_MAX : p->hi);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (check_row(p, s, prev, &ci) != 0)
			break;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		part_fail(p, db, rc);
	else if (p->why == NULL && p->hi >= 0 && p->next != p->hi + 1)
		part_bad(p, "seq %lld: missing", (long long)p->next);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return NULL;
}

/* Split the events from lo on (the last one last, when the check
 * began) into jobs parts, or as many as there are processors and the
 * log is worth (jobs 0): their number. */
static int
split(const char *path, int64_t lo, int64_t last, const char *keyfile,
    int jobs)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int64_t total = last >= lo ? last - lo + 1 : 0, per;
	int n, i, rc;

	if (jobs > 0)
		n = total < jobs ? (total > 0 ? (int)total : 1) : jobs;
	else {
		n = ncpu < 1 ? 1 : ncpu > MAXPARTS ? MAXPARTS : (int)ncpu;
		if (total / PARTROWS < n)
			n = total / PARTROWS > 0 ? (int)(total / PARTROWS) :
			    1;
	}
	parts = au_xcalloc(n, sizeof *parts);
	per = total / n;
	for (i = 0; i < n; i++) {
		parts[i].path = path;
		parts[i].lo = lo + i * per;
		parts[i].hi = i == n - 1 ? -1 : lo + (i + 1) * per - 1;
		if (keyfile != NULL && (rc = au_audit_keys_load(keyfile,
		    &parts[i].keys)) != 0)
			au_die(rc, "%s", au_errmsg());
	}
	return n;
}

static int
verify_db(const char *path, const char *keyfile, int64_t from, int jobs)
{
	int64_t t0 = au_mono_ms(), lo = from > 1 ? from : 1, last = 0, n = 0,
	    first = 0, next;
	sqlite3_stmt *s;
	struct stat st;
	struct part *p;
	sqlite3 *db;
	int rc, i, nparts;

	if (stat(path, &st) != 0)
		au_die(EX_NOINPUT, "%s:", path);
	if ((rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL)) !=
	    SQLITE_OK)
		au_die(EX_NOINPUT, "%s: %s", path, sqlite3_errstr(rc));
	sqlite3_busy_timeout(db, 5000);
	/* Each in a query of its own: SQLite looks up a lone min() or max()
	 * of the key, but reads the whole table for the two together. */
	if (sqlite3_prepare_v2(db, "SELECT (SELECT min(seq) FROM "
	    "audit_events), (SELECT max(seq) FROM audit_events)", -1, &s,
	    NULL) != SQLITE_OK)
		au_die(EX_NOINPUT, "%s: no audit log in it (%s)", path,
		    sqlite3_errmsg(db));
	if ((rc = sqlite3_step(s)) != SQLITE_ROW)
		au_die(au_db_error(db, rc), "%s", au_errmsg());
	/* The parts read from seq 1 (or --from) on: a row filed before
	 * it is in no part, and is no event of the chain. */
	if (sqlite3_column_type(s, 0) != SQLITE_NULL &&
	    sqlite3_column_int64(s, 0) < 1)
		bad("seq %lld: before seq 1, where the chain starts",
		    (long long)sqlite3_column_int64(s, 0));
	last = sqlite3_column_int64(s, 1);
	sqlite3_finalize(s);
	if (keyfile != NULL) {
		if ((rc = au_audit_keys_load(keyfile, &keys)) != 0)
			au_die(rc, "%s", au_errmsg());
		check_key_ids(db, keys);
	}
	cps = checkpoints(db, &ncps);
	sqlite3_close(db);

	nparts = split(path, lo, last, keyfile, jobs);
	/* A part whose thread cannot start is checked here after all. */
	for (i = 1; i < nparts; i++)
		parts[i].threaded = pthread_create(&parts[i].thread, NULL,
		    check_part, &parts[i]) == 0;
	check_part(&parts[0]);
	for (i = 1; i < nparts; i++)
		if (parts[i].threaded)
			pthread_join(parts[i].thread, NULL);
		else
			check_part(&parts[i]);
	for (i = 0; i < nparts; i++) {
		p = &parts[i];
		if (p->rc != 0)
			au_die(p->rc, "%s", p->err);
		if (p->why != NULL)
			bad("%s", p->why);
		if (first == 0)
			first = p->first;
		n += p->n;
	}
	next = parts[nparts - 1].next;
	if (ncps > 0 && cps[ncps - 1].size >= next)
		bad("truncated: checkpoint %lld signs more events than the "
		    "log holds (%lld)", (long long)cps[ncps - 1].size,
		    (long long)(next - 1));
	summary("db", n, first, next - 1, (int64_t)ncps, keys != NULL,
	    next - 1 - (ncps > 0 ? cps[ncps - 1].size : 0), t0);
	for (i = 0; i < nparts; i++)
		au_audit_keys_free(parts[i].keys);
	free(parts);
	free(cps);
	au_audit_keys_free(keys);
	return 0;
}

/* ---- a bundle ----------------------------------------------------------- */

static const char *const members[] = { "events.ndjson", "chain.ndjson",
	"checkpoint", "checkpoint.sig", "pubkey.pem", "manifest.json",
	"SHA256SUMS", "SHA256SUMS.sig", NULL };
#define NMEMBERS 8

struct member {
	char *s;
	size_t n;
	int have;
};

static struct member m[NMEMBERS];

static struct member *
member(const char *name)
{
	int i;

	for (i = 0; members[i]; i++)
		if (strcmp(members[i], name) == 0)
			return &m[i];
	return NULL;
}

static void
take_file(const char *dir, int i)
{
	struct au_buf b = AU_BUF_INIT;
	char *p = au_xasprintf("%s/%s", dir, members[i]);
	ssize_t r;
	int fd;

	if ((fd = open(p, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno != ENOENT)
			au_die(EX_NOINPUT, "%s:", p);
		free(p);
		return;
	}
	for (;;) {
		au_buf_grow(&b, 65536);
		if ((r = read(fd, b.s + b.len, 65536)) < 0 && errno == EINTR)
			continue;
		if (r < 0)
			au_die(EX_IOERR, "%s:", p);
		if (r == 0)
			break;
		b.len += r;
		if (b.len > MAXMEMBER)
			bad("%s: too large", members[i]);
	}
	close(fd);
	au_buf_grow(&b, 1);
	b.s[b.len] = '\0';
	m[i].s = b.s;
	m[i].n = b.len;
	m[i].have = 1;
	free(p);
}

static void
read_bundle(const char *path)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	struct member *x;
	struct stat st;
	la_int64_t size;
	int i, r;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		archive_read_free(a);
		for (i = 0; members[i]; i++)
			take_file(path, i);
		return;
	}
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_zip(a);
	if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK)
		au_die(errno == ENOENT ? EX_NOINPUT : EX_DATAERR, "%s: %s",
		    path, archive_error_string(a));
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		x = member(archive_entry_pathname(e));
		size = archive_entry_size(e);
		if (x == NULL)
			bad("%s: not a member of a bundle",
			    au_quote(archive_entry_pathname(e)));
		if (x->have)
			bad("%s: twice in the bundle",
			    archive_entry_pathname(e));
		if (archive_entry_filetype(e) != AE_IFREG || size < 0 ||
		    size > MAXMEMBER)
			bad("%s: not a regular file of a sane size",
			    archive_entry_pathname(e));
		x->s = au_xmalloc(size + 1);
		if (archive_read_data(a, x->s, size) != size)
			bad("%s: %s", archive_entry_pathname(e),
			    archive_error_string(a));
		x->s[size] = '\0';
		x->n = size;
		x->have = 1;
	}
	if (r != ARCHIVE_EOF)
		bad("%s", archive_error_string(a));
	archive_read_free(a);
}

static void
sha256(const void *p, size_t n, unsigned char out[H])
{
	EVP_Digest(p, n, out, NULL, EVP_sha256(), NULL);
}

static void
check_sums(void)
{
	struct member *sums = member("SHA256SUMS"), *x;
	unsigned char want[H], got[H];
	char *text = au_xstrdup(sums->s), *line, *save, name[64];
	int listed[NMEMBERS] = { 0 }, i;

	for (line = strtok_r(text, "\n", &save); line;
	    line = strtok_r(NULL, "\n", &save)) {
		char hx[65];

		if (strlen(line) < 67 || line[64] != ' ' || line[65] != ' ' ||
		    strlen(line + 66) >= sizeof name)
			bad("SHA256SUMS: malformed line");
		memcpy(hx, line, 64);
		hx[64] = '\0';
		strcpy(name, line + 66);
		if ((x = member(name)) == NULL || au_unhex(hx, want, H) != 0)
			bad("SHA256SUMS: malformed line for %s",
			    au_quote(name));
		listed[x - m] = 1;
		if (!x->have)
			bad("%s: missing", name);
		sha256(x->s, x->n, got);
		if (memcmp(want, got, H) != 0)
			bad("%s: checksum mismatch", name);
	}
	for (i = 0; i < 6; i++)
		if (!listed[i])
			bad("SHA256SUMS: %s is not listed", members[i]);
	free(text);
}

static jv
parse_line(const char *file, long ln, const char *s, size_t n)
{
	const char *what;
	size_t at;
	jv v;

	if ((what = au_json_check(s, n, &at)) != NULL)
		bad("%s:%ld: %s", file, ln, what);
	v = jv_parse_sized(s, (int)n);
	if (jv_get_kind(v) != JV_KIND_OBJECT)
		bad("%s:%ld: not a JSON object", file, ln);
	return v;
}

static int
hexfield(jv o, const char *k, unsigned char *out)
{
	const char *s = au_jv_str(o, k);

	return s != NULL && au_unhex(s, out, H) == 0;
}

static int64_t
intfield(jv o, const char *k)
{
	jv v = jv_object_get(jv_copy(o), jv_string(k));
	int64_t r = au_jv_isint(v) ? (int64_t)jv_number_value(v) : -1;

	jv_free(v);
	return r;
}

struct link {
	int64_t ts;
	int epoch;
	unsigned char content[H];
};

static int
verify_bundle(const char *path)
{
	unsigned char sig[64], head[H], prev[H], content[H], sealed[H], h[H];
	unsigned char salt[AU_AUDIT_SALT];
	int64_t size, ts, base = -1, seq, last, n = 0, first = 0;
	int64_t t0 = au_mono_ms();
	struct link *links = NULL;
	const struct link *l;
	size_t nl = 0, cap = 0;
	struct member *x;
	const char *p, *e, *saltx;
	char tsbuf[AU_TS_LEN], *body;
	long ln;
	int i;
	jv v, man, rec, salts, redacted;

	read_bundle(path);
	for (i = 0; members[i]; i++)
		if (!m[i].have)
			bad("%s: missing", members[i]);
	if (pub == NULL) {
		x = member("pubkey.pem");
		if (au_audit_pub_parse("pubkey.pem", x->s, x->n, &pub) != 0)
			bad("%s", au_errmsg());
		au_note("checking with the bundle's own public key: pass "
		    "--pubkey to check whose it is");
	}
	x = member("SHA256SUMS.sig");
	if (x->n != 64 || au_audit_pub_verify(pub, member("SHA256SUMS")->s,
	    member("SHA256SUMS")->n, (unsigned char *)x->s) != 0)
		bad("SHA256SUMS.sig: bad signature");
	check_sums();
	x = member("checkpoint.sig");
	if (x->n != 64)
		bad("checkpoint.sig: not a 64-byte signature");
	memcpy(sig, x->s, 64);
	body = member("checkpoint")->s;
	if (strlen(body) != member("checkpoint")->n ||
	    au_audit_body_check(pub, body, sig, &size, head, &ts) != 0)
		bad("checkpoint: %s", au_errmsg());

	/* The chain, from the link before the first event to the
	 * checkpoint. */
	x = member("chain.ndjson");
	for (p = x->s, ln = 1; p < x->s + x->n; p = e + 1, ln++) {
		if ((e = memchr(p, '\n', x->s + x->n - p)) == NULL)
			e = x->s + x->n;
		v = parse_line("chain.ndjson", ln, p, e - p);
		seq = intfield(v, "seq");
		if (base < 0) {
			if (seq < 0 || !hexfield(v, "hash", prev))
				bad("chain.ndjson:1: no starting hash");
			base = last = seq;
		} else {
			if (seq != last + 1)
				bad("chain.ndjson:%ld: seq %lld out of order",
				    ln, (long long)seq);
			links = au_grow(links, &cap, nl + 1, sizeof *links);
			links[nl].ts = intfield(v, "ts_ms");
			links[nl].epoch = (int)intfield(v, "epoch");
			if (!hexfield(v, "content", links[nl].content) ||
			    !hexfield(v, "sealed", sealed) ||
			    !hexfield(v, "hash", h) || links[nl].ts < 0 ||
			    links[nl].epoch < 0)
				bad("chain.ndjson:%ld: malformed link", ln);
			au_audit_chain(prev, seq, links[nl].ts,
			    links[nl].epoch, links[nl].content, sealed, prev);
			if (memcmp(prev, h, H) != 0)
				bad("seq %lld: hash mismatch", (long long)seq);
			nl++;
			last = seq;
		}
		jv_free(v);
	}
	if (base < 0)
		bad("chain.ndjson: empty");
	if (last != size || memcmp(prev, head, H) != 0)
		bad("chain.ndjson: does not end at the checkpoint (size "
		    "%lld)", (long long)size);

	/* Each event against its link. */
	x = member("events.ndjson");
	for (p = x->s, ln = 1; p < x->s + x->n; p = e + 1, ln++) {
		if ((e = memchr(p, '\n', x->s + x->n - p)) == NULL)
			e = x->s + x->n;
		v = parse_line("events.ndjson", ln, p, e - p);
		seq = intfield(v, "seq");
		if (seq <= base || seq > last || (first > 0 && seq <= first +
		    n - 1))
			bad("events.ndjson:%ld: seq %lld not covered by the "
			    "chain, or out of order", ln, (long long)seq);
		l = &links[seq - base - 1];
		rec = jv_object_get(jv_copy(v), jv_string("record"));
		salts = jv_object_get(jv_copy(v), jv_string("salts"));
		redacted = jv_object_get(jv_copy(v), jv_string("redacted"));

		if ((saltx = au_jv_str(v, "salt")) != NULL &&
		    au_unhex(saltx, salt, sizeof salt) != 0)
			bad("seq %lld: bad salt", (long long)seq);
		if (jv_get_kind(rec) != JV_KIND_OBJECT ||
		    au_audit_digest(rec, saltx ? salt : NULL, salts, redacted,
		    content) != 0)
			bad("seq %lld: %s", (long long)seq,
			    jv_get_kind(rec) == JV_KIND_OBJECT ? au_errmsg() :
			    "no record");
		jv_free(salts);
		jv_free(redacted);
		if (memcmp(content, l->content, H) != 0)
			bad("seq %lld: content digest mismatch (the event "
			    "was edited)", (long long)seq);
		if (intfield(v, "epoch") != l->epoch ||
		    au_jv_str(v, "ts") == NULL ||
		    strcmp(au_jv_str(v, "ts"), au_ts_fmt(l->ts, tsbuf)) != 0)
			bad("seq %lld: time or epoch differs from the chain",
			    (long long)seq);
		jv_free(rec);
		jv_free(v);
		if (first == 0)
			first = seq;
		n++;
	}

	x = member("manifest.json");
	man = parse_line("manifest.json", 1, x->s, x->n);
	if (intfield(man, "events") != n)
		bad("manifest.json: says %lld events, the bundle has %lld",
		    (long long)intfield(man, "events"), (long long)n);
	jv_free(man);
	summary("bundle", n, first, n > 0 ? first + n - 1 : 0, 1, 0, 0, t0);
	free(links);
	for (i = 0; members[i]; i++)
		free(m[i].s);
	return 0;
}

/* Whether path is an SQLite database, by its first 16 bytes. */
static int
is_sqlite(const char *path)
{
	char hdr[16];
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;

	if (fd >= 0) {
		r = read(fd, hdr, 16) == 16 &&
		    memcmp(hdr, "SQLite format 3", 16) == 0;
		close(fd);
	}
	return r;
}

int
main(int argc, char **argv)
{
	const char *keyfile = NULL, *pubfile = NULL, *arg;
	char *dbpath = NULL, *pubpath = NULL, *end;
	int64_t from = 0;
	int c, rc, jobs = 0;
	long n;

	au_setprog(argv[0]);
	while ((c = au_getopt(&cmd, argc, argv, &arg)) != -1)
		switch (c) {
		case O_KEY: keyfile = arg; break;
		case O_PUBKEY: pubfile = arg; break;
		case O_FROM:
			from = strtoll(arg, &end, 10);
			if (*arg == '\0' || *end != '\0' || from < 1)
				au_usage_die(&cmd, "--from: not a sequence "
				    "number: %s", au_quote(arg));
			break;
		case 'j':
			n = strtol(arg, &end, 10);
			if (*arg == '\0' || *end != '\0' || n < 1 ||
			    n > MAXJOBS)
				au_usage_die(&cmd, "-j: expected a number from "
				    "1 to %d, not %s", MAXJOBS, au_quote(arg));
			jobs = (int)n;
			break;
		}
	if (argc - au_optind > 1)
		au_usage_die(&cmd, "too many operands");
	au_out_init();
	if (argc - au_optind == 1 && access(argv[au_optind], F_OK) != 0)
		au_die(EX_NOINPUT, "%s:", argv[au_optind]);
	if (argc - au_optind == 1 && !is_sqlite(argv[au_optind])) {
		src = argv[au_optind];
		if (from > 0 || keyfile != NULL)
			au_usage_die(&cmd, "--from and --key are for a state "
			    "file, not a bundle");
		if (pubfile != NULL &&
		    (rc = au_audit_pub_load(pubfile, &pub)) != 0)
			au_die(rc, "%s", au_errmsg());
		rc = verify_bundle(src);
	} else {
		src = argc - au_optind == 1 ? argv[au_optind] :
		    (dbpath = au_db_path(au_opts.db));
		if (src == NULL)
			au_die(EX_CONFIG, "%s", au_errmsg());
		if (pubfile == NULL && (pubfile = pubpath = au_config_path(
		    "audit-sign.pub")) == NULL)
			au_die(EX_CONFIG, "%s", au_errmsg());
		if ((rc = au_audit_pub_load(pubfile, &pub)) != 0)
			au_die(rc, "%s", au_errmsg());
		rc = verify_db(src, keyfile, from, jobs);
	}
	au_audit_pub_free(pub);
	free(dbpath);
	free(pubpath);
	au_out_close();
	return rc;
}
