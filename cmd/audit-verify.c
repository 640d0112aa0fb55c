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

static const struct au_opt opts[] = {
	{ O_KEY, "key", "FILE", "decrypt with these keys and check every "
	    "event", "FILE" },
	{ O_PUBKEY, "pubkey", "FILE", "the public key checkpoints are "
	    "signed with", "FILE" },
	{ O_FROM, "from", "SEQ", "start at event SEQ (trusting the one "
	    "before)", NULL },
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

/* The rows are read in batches.  While this thread reads one, a helper
 * digests the nonces and ciphertexts of the one before (and, with the
 * key, opens them): most of the hashing.  This thread then extends the
 * chain through the batch and checks its rows in order, so that the
 * first bad event is named as if one thread did it all. */
#define NROWS 1024

struct vrow {
	int64_t seq, ts;
	int epoch, malformed;
	int open;		/* with the key: 0, 1 not opened (msg), 2 a
				 * content digest that differs */
	char *msg;
	size_t off, len;	/* of its nonce and ciphertext, in blob */
	unsigned char content[H], hash[H], sealed[H];
};

struct vbatch {
	struct vrow r[NROWS];
	size_t n;
	struct au_buf blob;
	unsigned char prev[H];	/* the hash stored before r[0] */
};

/* File-wide, so that they are still reachable when bad() exits. */
static struct vbatch vb[2];
static struct {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct vbatch *job;
	int on, quit;
} helper;

/* Digest (and open) what b holds.  With the key, each event opens
 * against the hash stored before it: where that is not the one the
 * chain gives, the chain fails first. */
static void
digest_batch(struct vbatch *b)
{
	const unsigned char *prev = b->prev, *p;
	unsigned char c[H];
	struct vrow *r;
	size_t i;

	for (i = 0; i < b->n; i++, prev = r->hash) {
		r = &b->r[i];
		if (r->malformed)
			continue;
		p = (const unsigned char *)b->blob.s + r->off;
		au_audit_sealed(p, p + AU_AUDIT_NONCE, r->len, r->sealed);
		if (keys == NULL)
			continue;
		if (au_audit_open_digest(keys, r->seq, prev, r->epoch, p,
		    p + AU_AUDIT_NONCE, r->len, c) != 0) {
			r->open = 1;
			r->msg = au_xstrdup(au_errmsg());
		} else if (memcmp(c, r->content, H) != 0)
			r->open = 2;
	}
}

static void *
helper_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&helper.mu);
	for (;;) {
		while (helper.job == NULL && !helper.quit)
			pthread_cond_wait(&helper.cv, &helper.mu);
		if (helper.quit)
			break;
		pthread_mutex_unlock(&helper.mu);
		digest_batch(helper.job);
		pthread_mutex_lock(&helper.mu);
		helper.job = NULL;
		pthread_cond_broadcast(&helper.cv);
	}
	pthread_mutex_unlock(&helper.mu);
	return NULL;
}

static void
helper_start(void)
{
	pthread_mutex_init(&helper.mu, NULL);
	pthread_cond_init(&helper.cv, NULL);
	helper.on = pthread_create(&helper.thread, NULL, helper_main,
	    NULL) == 0;
}

/* Have b digested: by the helper, or here if there is none. */
static void
submit(struct vbatch *b)
{
	if (!helper.on) {
		digest_batch(b);
		return;
	}
	pthread_mutex_lock(&helper.mu);
	helper.job = b;
	pthread_cond_broadcast(&helper.cv);
	pthread_mutex_unlock(&helper.mu);
}

static void
await(void)
{
	pthread_mutex_lock(&helper.mu);
	while (helper.job != NULL)
		pthread_cond_wait(&helper.cv, &helper.mu);
	pthread_mutex_unlock(&helper.mu);
}

static void
helper_stop(void)
{
	if (!helper.on)
		return;
	pthread_mutex_lock(&helper.mu);
	helper.quit = 1;
	pthread_cond_broadcast(&helper.cv);
	pthread_mutex_unlock(&helper.mu);
	pthread_join(helper.thread, NULL);
}

/* Read up to NROWS rows into b, the first after the one whose stored
 * hash is prev: the last sqlite3_step result (SQLITE_ROW when b is
 * full and more may follow). */
static int
fill(sqlite3_stmt *s, struct vbatch *b, const unsigned char prev[H])
{
	struct vrow *r;
	int rc = SQLITE_ROW;

	memcpy(b->prev, prev, H);
	b->n = 0;
	b->blob.len = 0;
	while (b->n < NROWS && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		r = &b->r[b->n++];
		r->seq = sqlite3_column_int64(s, 0);
		r->ts = sqlite3_column_int64(s, 1);
		r->epoch = sqlite3_column_int(s, 2);
		r->open = 0;
		r->malformed = sqlite3_column_bytes(s, 3) != AU_AUDIT_NONCE ||
		    sqlite3_column_bytes(s, 5) != H ||
		    sqlite3_column_bytes(s, 6) != H;
		if (r->malformed) {
			memset(r->hash, 0, H);
			continue;
		}
		memcpy(r->content, sqlite3_column_blob(s, 5), H);
		memcpy(r->hash, sqlite3_column_blob(s, 6), H);
		r->off = b->blob.len;
		r->len = sqlite3_column_bytes(s, 4);
		au_buf_add(&b->blob, sqlite3_column_blob(s, 3),
		    AU_AUDIT_NONCE);
		au_buf_add(&b->blob, sqlite3_column_blob(s, 4), r->len);
	}
	return rc;
}

/* Where the check of the chain stands. */
struct chain {
	unsigned char prev[H];
	int64_t expect, n, first;
	size_t ci, ncp;
};

static void
check_batch(struct chain *c, const struct vbatch *b)
{
	const struct vrow *r;
	unsigned char h[H];
	size_t i;

	for (i = 0; i < b->n; i++) {
		r = &b->r[i];
		if (r->seq != c->expect)
			bad("seq %lld: missing", (long long)c->expect);
		if (r->malformed)
			bad("seq %lld: malformed row", (long long)r->seq);
		au_audit_chain(c->prev, r->seq, r->ts, r->epoch, r->content,
		    r->sealed, h);
		if (memcmp(h, r->hash, H) != 0)
			bad("seq %lld: hash mismatch", (long long)r->seq);
		if (r->open == 1)
			bad("seq %lld: %s", (long long)r->seq, r->msg);
		if (r->open == 2)
			bad("seq %lld: content digest mismatch",
			    (long long)r->seq);
		for (; c->ci < c->ncp && cps[c->ci].size == r->seq; c->ci++)
			if (memcmp(cps[c->ci].head, h, H) != 0)
				bad("checkpoint %lld: head mismatch (the log "
				    "was rewritten)", (long long)r->seq);
		memcpy(c->prev, h, H);
		if (c->first == 0)
			c->first = r->seq;
		c->n++;
		c->expect++;
	}
}

static int
verify_db(const char *path, const char *keyfile, int64_t from)
{
	struct chain c = { { 0 }, 1, 0, 0, 0, 0 };
	int64_t t0 = au_mono_ms();
	sqlite3_stmt *s;
	sqlite3 *db;
	struct stat st;
	int rc, cur;

	if (stat(path, &st) != 0)
		au_die(EX_NOINPUT, "%s:", path);
	/* One thread only uses the connection: no locking for each of the
	 * many calls a row takes. */
	if ((rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOMUTEX, NULL)) != SQLITE_OK)
		au_die(EX_NOINPUT, "%s: %s", path, sqlite3_errstr(rc));
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_prepare_v2(db, "SELECT seq, ts, epoch, nonce, sealed, "
	    "content, hash FROM audit_events WHERE seq >= ?1 ORDER BY seq",
	    -1, &s, NULL) != SQLITE_OK)
		au_die(EX_NOINPUT, "%s: no audit log in it (%s)", path,
		    sqlite3_errmsg(db));
	if (keyfile != NULL) {
		if ((rc = au_audit_keys_load(keyfile, &keys)) != 0)
			au_die(rc, "%s", au_errmsg());
		check_key_ids(db, keys);
	}
	cps = checkpoints(db, &c.ncp);
	c.expect = from > 1 ? from : 1;
	if (c.expect > 1) {
		sqlite3_stmt *p;

		sqlite3_prepare_v2(db, "SELECT hash FROM audit_events WHERE "
		    "seq = ?1", -1, &p, NULL);
		sqlite3_bind_int64(p, 1, c.expect - 1);
		if (sqlite3_step(p) != SQLITE_ROW ||
		    sqlite3_column_bytes(p, 0) != H)
			bad("seq %lld: missing", (long long)(c.expect - 1));
		memcpy(c.prev, sqlite3_column_blob(p, 0), H);
		sqlite3_finalize(p);
	}
	while (c.ci < c.ncp && cps[c.ci].size < c.expect)
		c.ci++;
	sqlite3_bind_int64(s, 1, c.expect);
	helper_start();
	rc = fill(s, &vb[0], c.prev);
	for (cur = 0; vb[cur].n > 0; cur = !cur) {
		submit(&vb[cur]);
		if (rc == SQLITE_ROW)
			rc = fill(s, &vb[!cur], vb[cur].r[vb[cur].n - 1].hash);
		else
			vb[!cur].n = 0;
		await();
		check_batch(&c, &vb[cur]);
	}
	helper_stop();
	if (rc != SQLITE_DONE)
		au_die(au_db_error(db, rc), "%s", au_errmsg());
	sqlite3_finalize(s);
	if (c.ci < c.ncp)
		bad("truncated: checkpoint %lld signs more events than the "
		    "log holds (%lld)", (long long)cps[c.ncp - 1].size,
		    (long long)(c.expect - 1));
	summary("db", c.n, c.first, c.expect - 1, (int64_t)c.ncp,
	    keys != NULL, c.expect - 1 - (c.ncp > 0 ?
	    cps[c.ncp - 1].size : 0), t0);
	free(cps);
	au_audit_keys_free(keys);
	au_buf_free(&vb[0].blob);
	au_buf_free(&vb[1].blob);
	sqlite3_close(db);
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
	jv v, man, rec;

	read_bundle(path);
	for (i = 0; members[i]; i++)
		if (!m[i].have)
			bad("%s: missing", members[i]);
	if (pub == NULL) {
		char tmpl[] = "/tmp/audit-verify.XXXXXX";
		int fd = mkstemp(tmpl);

		x = member("pubkey.pem");
		if (fd < 0 || write(fd, x->s, x->n) != (ssize_t)x->n)
			au_die(EX_CANTCREAT, "%s:", tmpl);
		close(fd);
		i = au_audit_pub_load(tmpl, &pub);
		unlink(tmpl);
		if (i != 0)
			bad("pubkey.pem: %s", au_errmsg());
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

		if ((saltx = au_jv_str(v, "salt")) != NULL &&
		    au_unhex(saltx, salt, sizeof salt) != 0)
			bad("seq %lld: bad salt", (long long)seq);
		if (jv_get_kind(rec) != JV_KIND_OBJECT ||
		    au_audit_digest(rec, saltx ? salt : NULL,
		    jv_object_get(jv_copy(v), jv_string("salts")),
		    jv_object_get(jv_copy(v), jv_string("redacted")),
		    content) != 0)
			bad("seq %lld: %s", (long long)seq,
			    jv_get_kind(rec) == JV_KIND_OBJECT ? au_errmsg() :
			    "no record");
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
	int c, rc;

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
		rc = verify_db(src, keyfile, from);
	}
	au_audit_pub_free(pub);
	free(dbpath);
	free(pubpath);
	au_out_close();
	return rc;
}
