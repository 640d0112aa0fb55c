/*
 * test-audit.c - audit.c against real key files and state files in a
 * mkdtemp directory: hex, making the keys (modes, refusing to replace
 * one), loading key files (unsafe mode, bad lines with file:line,
 * duplicate epochs, no key), appending (gap-free sequence numbers, every
 * hash recomputed from its row, every event opened and its content
 * digest recomputed, tampering caught), the caller's transaction, signed
 * checkpoints (checked with the public key and with OpenSSL directly,
 * edited notes refused), lines sealed as their text stands (or left to
 * the parser), key rotation, redaction, and four threads appending at
 * once.
 */
#define _XOPEN_SOURCE 700
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sqlite3.h>

#include "agentutils.h"
#include "tap.h"
#include "testutil.h"

#define NTHREADS 4
#define PERTHREAD 2000

static void
bail(const char *what)
{
	printf("Bail out! %s (%s)\n", what, au_errmsg());
	exit(2);
}

static jv
J(const char *s)
{
	jv v = jv_parse(s);

	if (!jv_is_valid(v))
		bail(s);
	return v;
}

/* v (borrowed) as compact JSON, malloc'd. */
static char *
dump(jv v)
{
	struct au_buf b = AU_BUF_INIT;

	au_buf_grow(&b, 1);
	au_json_dump(&b, v);
	return b.s;
}

/* The member of v (borrowed) at the jq path given in JSON, as compact
 * JSON (malloc'd). */
static char *
member(jv v, const char *path)
{
	jv x = jv_getpath(jv_copy(v), J(path));
	char *s = dump(x);

	jv_free(x);
	return s;
}

/* The sorted keys of object o (borrowed), as JSON (malloc'd). */
static char *
keys_of(jv o)
{
	jv k = jv_get_kind(o) == JV_KIND_OBJECT ? jv_keys(jv_copy(o)) :
	    jv_null();
	char *s = dump(k);

	jv_free(k);
	return s;
}

/* The permission bits of path, or -1. */
static int
mode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

/* The contents of path (malloc'd), or NULL. */
static char *
slurp(const char *path)
{
	static char buf[65536];
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return NULL;
	readall(fd, buf, sizeof buf);
	close(fd);
	return au_xstrdup(buf);
}

static void
writemode(const char *path, const char *s, int mode)
{
	unlink(path);
	writefile(path, s, strlen(s));
	chmod(path, mode);
}

/* Key files in directory dir of tmpdir. */
static struct au_audit_files
files(const char *dir)
{
	struct au_audit_files f;
	char p[256];

	snprintf(p, sizeof p, "%s/audit.key", dir);
	f.key = au_xstrdup(at(p));
	snprintf(p, sizeof p, "%s/audit-sign.key", dir);
	f.signing = au_xstrdup(at(p));
	snprintf(p, sizeof p, "%s/audit-sign.pub", dir);
	f.pubkey = au_xstrdup(at(p));
	return f;
}

static void
files_free(struct au_audit_files *f)
{
	free((char *)f->key);
	free((char *)f->signing);
	free((char *)f->pubkey);
}

static int64_t
count(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;
	int64_t n = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		bail(sql);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

/* One row of audit_events. */
struct row {
	int64_t seq, ts;
	int epoch;
	unsigned char nonce[AU_AUDIT_NONCE];
	unsigned char content[AU_AUDIT_HASH], hash[AU_AUDIT_HASH];
	unsigned char *ct;
	size_t n;
};

static int
blob(sqlite3_stmt *s, int col, unsigned char *out, size_t n)
{
	if ((size_t)sqlite3_column_bytes(s, col) != n)
		return -1;
	memcpy(out, sqlite3_column_blob(s, col), n);
	return 0;
}

/* Every row of the log in seq order; the count, or -1 for a malformed
 * row. */
static int
rows_load(sqlite3 *db, struct row **out)
{
	struct row *v = NULL, *r;
	size_t n = 0, cap = 0;
	sqlite3_stmt *s;
	int bad = 0;

	if (sqlite3_prepare_v2(db, "SELECT seq, ts, epoch, nonce, sealed, "
	    "content, hash FROM audit_events ORDER BY seq", -1, &s,
	    NULL) != SQLITE_OK)
		bail("select rows");
	while (sqlite3_step(s) == SQLITE_ROW) {
		v = au_grow(v, &cap, n + 1, sizeof *v);
		r = &v[n++];
		r->seq = sqlite3_column_int64(s, 0);
		r->ts = sqlite3_column_int64(s, 1);
		r->epoch = sqlite3_column_int(s, 2);
		r->n = (size_t)sqlite3_column_bytes(s, 4);
		r->ct = au_xmalloc(r->n + 1);
		memcpy(r->ct, sqlite3_column_blob(s, 4), r->n);
		if (blob(s, 3, r->nonce, sizeof r->nonce) != 0 ||
		    blob(s, 5, r->content, sizeof r->content) != 0 ||
		    blob(s, 6, r->hash, sizeof r->hash) != 0)
			bad = 1;
	}
	sqlite3_finalize(s);
	*out = v;
	return bad ? -1 : (int)n;
}

static void
rows_free(struct row *v, int n)
{
	while (n-- > 0)
		free(v[n].ct);
	free(v);
}

/* Check the whole log: seq 1..N, each hash recomputed from its row and
 * the hash before (32 zero bytes before the first), and with keys each
 * event opened and its content digest recomputed; the records in *recs
 * (an array) unless recs is NULL.  The number of rows, or -1 with why. */
static int
verify(sqlite3 *db, const struct au_audit_keys *k, jv *recs, char *why,
    size_t whylen)
{
	unsigned char prev[AU_AUDIT_HASH], sealed[AU_AUDIT_HASH];
	unsigned char h[AU_AUDIT_HASH], salt[AU_AUDIT_SALT];
	struct row *v;
	int i, n = rows_load(db, &v), bad = n < 0;
	jv rec;

	snprintf(why, whylen, "%s", bad ? "a malformed row" : "");
	memset(prev, 0, sizeof prev);
	for (i = 0; !bad && i < n; i++) {
		if (v[i].seq != i + 1) {
			snprintf(why, whylen, "row %d has seq %lld", i + 1,
			    (long long)v[i].seq);
			bad = 1;
			break;
		}
		au_audit_sealed(v[i].nonce, v[i].ct, v[i].n, sealed);
		au_audit_chain(prev, v[i].seq, v[i].ts, v[i].epoch,
		    v[i].content, sealed, h);
		if (memcmp(h, v[i].hash, sizeof h) != 0) {
			snprintf(why, whylen, "seq %d: hash mismatch", i + 1);
			bad = 1;
			break;
		}
		if (k != NULL) {
			if (au_audit_open_event(k, v[i].seq, prev, v[i].epoch,
			    v[i].nonce, v[i].ct, v[i].n, &rec, salt) != 0) {
				snprintf(why, whylen, "seq %d: %s", i + 1,
				    au_errmsg());
				bad = 1;
				break;
			}
			if (au_audit_digest(rec, salt, jv_null(), jv_null(),
			    h) != 0 || memcmp(h, v[i].content,
			    sizeof h) != 0) {
				snprintf(why, whylen, "seq %d: content digest "
				    "mismatch", i + 1);
				bad = 1;
			}
			if (recs != NULL)
				*recs = jv_array_append(*recs, rec);
			else
				jv_free(rec);
		}
		memcpy(prev, v[i].hash, sizeof prev);
	}
	rows_free(v, n < 0 ? 0 : n);
	return bad ? -1 : n;
}

/* The hash of row seq, or zeros. */
static void
row_hash(sqlite3 *db, int64_t seq, unsigned char h[AU_AUDIT_HASH])
{
	sqlite3_stmt *s;

	memset(h, 0, AU_AUDIT_HASH);
	sqlite3_prepare_v2(db, "SELECT hash FROM audit_events WHERE seq = ?1",
	    -1, &s, NULL);
	sqlite3_bind_int64(s, 1, seq);
	if (sqlite3_step(s) == SQLITE_ROW)
		blob(s, 0, h, AU_AUDIT_HASH);
	sqlite3_finalize(s);
}

/* The checkpoint sizes of the log, "5 10 12". */
static char *
cp_sizes(sqlite3 *db)
{
	struct au_buf b = AU_BUF_INIT;
	sqlite3_stmt *s;

	au_buf_grow(&b, 1);
	sqlite3_prepare_v2(db, "SELECT size FROM audit_checkpoints ORDER BY "
	    "size", -1, &s, NULL);
	while (sqlite3_step(s) == SQLITE_ROW)
		au_buf_addf(&b, "%s%lld", b.len ? " " : "",
		    (long long)sqlite3_column_int64(s, 0));
	sqlite3_finalize(s);
	return b.s;
}

/* The note of the checkpoint of size (malloc'd), or NULL. */
static char *
cp_note(sqlite3 *db, int64_t size, unsigned char head[AU_AUDIT_HASH])
{
	sqlite3_stmt *s;
	char *note = NULL;

	sqlite3_prepare_v2(db, "SELECT note, head FROM audit_checkpoints "
	    "WHERE size = ?1", -1, &s, NULL);
	sqlite3_bind_int64(s, 1, size);
	if (sqlite3_step(s) == SQLITE_ROW) {
		note = au_xstrdup((const char *)sqlite3_column_text(s, 0));
		if (head != NULL)
			blob(s, 1, head, AU_AUDIT_HASH);
	}
	sqlite3_finalize(s);
	return note;
}

/* ---- hex ---------------------------------------------------------------- */

static void
test_hex(void)
{
	unsigned char b[256], c[256], four[4] = { 0x00, 0x01, 0xab, 0xff };
	char hx[2 * sizeof b + 1];
	int i;

	is_str(au_hex(four, 4, hx), "0001abff", "hex: lowercase, two digits "
	    "a byte");
	is_int(au_unhex("0001ABff", c, 4), 0, "unhex: either case");
	ok(memcmp(c, four, 4) == 0, "unhex: the bytes back");
	for (i = 0; i < 256; i++)
		b[i] = (unsigned char)(255 - i);
	au_hex(b, sizeof b, hx);
	is_int(strlen(hx), 512, "hex: 256 bytes, 512 digits");
	memset(c, 0, sizeof c);
	is_int(au_unhex(hx, c, sizeof c), 0, "unhex: every byte value");
	ok(memcmp(b, c, sizeof b) == 0, "hex: every byte value round trips");
	is_int(au_unhex("", c, 0), 0, "unhex: nothing");
	is_int(au_unhex("abc", c, 1), -1, "unhex: odd length, 1 byte wanted");
	is_int(au_unhex("abc", c, 2), -1, "unhex: odd length, 2 wanted");
	is_int(au_unhex("0011", c, 1), -1, "unhex: too long");
	is_int(au_unhex("00", c, 2), -1, "unhex: too short");
	is_int(au_unhex("0g", c, 1), -1, "unhex: a bad low digit");
	is_int(au_unhex("g0", c, 1), -1, "unhex: a bad high digit");
	is_int(au_unhex(" 0", c, 1), -1, "unhex: a space");
	is_int(au_unhex("0x", c, 1), -1, "unhex: 0x");
	is_int(au_unhex("-1", c, 1), -1, "unhex: a sign");
}

/* ---- making and loading keys -------------------------------------------- */

/* SHA-256 of the label, its NUL and the key, the first 8 bytes in hex:
 * the key id as agentutils-audit(5) has it. */
static void
want_key_id(const char *hexkey, char out[17])
{
	unsigned char k[32], h[32];
	unsigned int n = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	au_unhex(hexkey, k, sizeof k);
	EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	EVP_DigestUpdate(c, "au.keyid", 9);
	EVP_DigestUpdate(c, k, sizeof k);
	EVP_DigestFinal_ex(c, h, &n);
	EVP_MD_CTX_free(c);
	au_hex(h, 8, out);
}

static void
test_init(void)
{
	struct au_audit_files f = files("init/sub"), d = { NULL, NULL, NULL };
	struct au_audit_files g;
	struct au_audit_keys *k = NULL;
	struct au_audit_pub *p = NULL;
	const char *which[3] = { "key", "signing key", "public key" };
	char *before, *line, id[17];
	int i;

	is_int(au_audit_init(&f), 0, "init: makes the keys");
	is_int(mode_of(f.key), 0600, "init: the key file is 0600");
	is_int(mode_of(f.signing), 0600, "init: the signing key is 0600");
	is_int(mode_of(f.pubkey), 0644, "init: the public key is 0644");
	is_int(mode_of(at("init")), 0700, "init: a new directory is 0700");
	is_int(au_audit_keys_load(f.key, &k), 0, "init: the key file loads");
	ok(k != NULL && au_audit_key_id(k, 1) != NULL &&
	    au_audit_key_id(k, 2) == NULL, "init: a key of epoch 1, only");
	before = slurp(f.key);
	line = before ? strstr(before, "\n1 ") : NULL;
	ok(line != NULL && strlen(line) == 3 + 64 + 1 && line[67] == '\n',
	    "init: a line \"1 KEY\", 64 hex digits");
	if (line != NULL && k != NULL) {
		line[67] = '\0';
		want_key_id(line + 3, id);
		is_str(au_audit_key_id(k, 1), id,
		    "init: key id, the first 8 bytes of its SHA-256");
	}
	free(before);
	au_audit_keys_free(k);
	is_int(au_audit_pub_load(f.pubkey, &p), 0,
	    "init: the public key loads");
	au_audit_pub_free(p);
	is_int(au_audit_pub_load(f.key, &p), EX_CONFIG,
	    "pub_load: not a PEM key, 78");
	is_int(au_audit_pub_load(at("init/nope"), &p), EX_NOINPUT,
	    "pub_load: no file, 66");
	if (au_audit_pub_load(f.pubkey, &p) == 0) {
		struct au_audit_pub *q = NULL;
		char *pem = slurp(f.pubkey);

		is_int(pem ? au_audit_pub_parse("k.pem", pem, strlen(pem),
		    &q) : -1, 0, "pub_parse: the public key's PEM");
		ok(q != NULL && au_audit_pub_verify(q, "x", 1,
		    (const unsigned char *)"0123456789012345678901234567890"
		    "123456789012345678901234567890123") != 0,
		    "pub_parse: a key, which refuses a forged signature");
		au_audit_pub_free(q);
		is_int(au_audit_pub_parse("k.pem", "junk", 4, &q), EX_CONFIG,
		    "pub_parse: not a key, 78");
		is_str(au_errmsg(), "k.pem: not an Ed25519 public key in PEM",
		    "pub_parse: named by its name");
		free(pem);
		au_audit_pub_free(p);
	}

	before = slurp(f.key);
	is_int(au_audit_init(&f), EX_CANTCREAT, "init: again, 73");
	ok(strstr(au_errmsg(), "exists already") != NULL,
	    "init: says it exists already (%s)", au_errmsg());
	is_str_free(slurp(f.key), before, "init: the key is left alone");
	free(before);
	files_free(&f);

	/* Each of the three in place alone: refused, nothing else made. */
	for (i = 0; i < 3; i++) {
		const char *dirs[3] = { "only0", "only1", "only2" };
		const char *path, *p1, *p2;

		g = files(dirs[i]);
		path = i == 0 ? g.key : i == 1 ? g.signing : g.pubkey;
		p1 = i == 0 ? g.signing : g.key;
		p2 = i == 2 ? g.signing : g.pubkey;
		mkdir(at(dirs[i]), 0700);
		writemode(path, "sentinel\n", 0600);
		is_int(au_audit_init(&g), EX_CANTCREAT,
		    "init: the %s exists, 73", which[i]);
		is_str_free(slurp(path), "sentinel\n",
		    "init: the %s is left alone", which[i]);
		ok(access(p1, F_OK) != 0 && access(p2, F_OK) != 0,
		    "init: the %s exists, the others are not made",
		    which[i]);
		files_free(&g);
	}

	/* The default paths, under $XDG_CONFIG_HOME/agentutils/. */
	setenv("XDG_CONFIG_HOME", at("xdg"), 1);
	is_int(au_audit_init(&d), 0, "init: the default paths");
	is_int(mode_of(at("xdg/agentutils/audit.key")), 0600,
	    "init: $XDG_CONFIG_HOME/agentutils/audit.key");
	is_int(mode_of(at("xdg/agentutils/audit-sign.key")), 0600,
	    "init: $XDG_CONFIG_HOME/agentutils/audit-sign.key");
	is_int(mode_of(at("xdg/agentutils/audit-sign.pub")), 0644,
	    "init: $XDG_CONFIG_HOME/agentutils/audit-sign.pub");
}

static void
test_keys_load(void)
{
	const char *key1 = "00112233445566778899aabbccddeeff"
	    "00112233445566778899aabbccddeeff";
	const char *key2 = "ffeeddccbbaa99887766554433221100"
	    "ffeeddccbbaa99887766554433221100";
	struct au_audit_keys *k;
	char text[512], want[1200], id[17];
	const char *path;
	static const struct {
		const char *text, *what;
		int line;
	} bad[] = {
		{ "# keys\n1 %s\nbogus\n", "a line that is not EPOCH KEY",
		    3 },
		{ "1 %.63s\n", "a key of 63 digits", 1 },
		{ "1 %s0\n", "a key of 65 digits", 1 },
		{ "1 %.62sxy\n", "a key with bad digits", 1 },
		{ "0 %s\n", "epoch 0", 1 },
		{ "-1 %s\n", "a negative epoch", 1 },
		{ "x %s\n", "an epoch that is not a number", 1 },
		{ "1 %s trailing\n", "something after the key", 1 },
		{ "1\n", "no key", 1 },
	};
	size_t i;

	path = at("keys/k");
	mkdir(at("keys"), 0700);
	is_int(au_audit_keys_load(path, &k), EX_NOINPUT, "keys: missing, 66");
	ok(k == NULL, "keys: and nothing loaded");

	snprintf(text, sizeof text, "1 %s\n", key1);
	writemode(path, text, 0644);
	is_int(au_audit_keys_load(path, &k), EX_CONFIG, "keys: mode 0644, 78");
	ok(strstr(au_errmsg(), "0644") != NULL, "keys: says the mode (%s)",
	    au_errmsg());
	writemode(path, text, 0640);
	is_int(au_audit_keys_load(path, &k), EX_CONFIG, "keys: mode 0640, 78");
	writemode(path, text, 0400);
	is_int(au_audit_keys_load(path, &k), 0, "keys: mode 0400 will do");
	au_audit_keys_free(k);

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(text, sizeof text, bad[i].text, key1);
		writemode(path, text, 0600);
		k = NULL;
		is_int(au_audit_keys_load(path, &k), EX_CONFIG, "keys: %s, "
		    "78", bad[i].what);
		snprintf(want, sizeof want, "%s:%d: ", path, bad[i].line);
		ok(strncmp(au_errmsg(), want, strlen(want)) == 0 && k == NULL,
		    "keys: %s, at file:line (%s)", bad[i].what, au_errmsg());
	}

	snprintf(text, sizeof text, "1 %s\n\n# again\n1 %s\n", key1, key2);
	writemode(path, text, 0600);
	is_int(au_audit_keys_load(path, &k), EX_CONFIG,
	    "keys: epoch 1 twice, 78");
	snprintf(want, sizeof want, "%s:4: epoch 1 twice", path);
	is_str(au_errmsg(), want, "keys: says which line");

	writemode(path, "", 0600);
	is_int(au_audit_keys_load(path, &k), EX_CONFIG, "keys: empty, 78");
	snprintf(want, sizeof want, "%s: no key in it", path);
	is_str(au_errmsg(), want, "keys: says there is no key");
	writemode(path, "# only a comment\n\n", 0600);
	is_int(au_audit_keys_load(path, &k), EX_CONFIG,
	    "keys: only a comment, 78");

	/* Epochs in any order, comments, blank lines, no final newline. */
	snprintf(text, sizeof text, "# keys\n\n7 %s\n2 %s", key2, key1);
	writemode(path, text, 0600);
	k = NULL;
	is_int(au_audit_keys_load(path, &k), 0, "keys: two epochs load");
	want_key_id(key1, id);
	is_str(k ? au_audit_key_id(k, 2) : NULL, id, "keys: epoch 2's id");
	want_key_id(key2, id);
	is_str(k ? au_audit_key_id(k, 7) : NULL, id, "keys: epoch 7's id");
	ok(k && au_audit_key_id(k, 1) == NULL && au_audit_key_id(k, 3) ==
	    NULL, "keys: no other epoch");
	au_audit_keys_free(k);
}

/* ---- appending and reading back ----------------------------------------- */

static const char *const events[] = {
	"{\"type\":\"tool.call\",\"tool\":\"rm\",\"args\":[\"-rf\",\"/x\"]}",
	"{}",
	"{\"a\":{\"b\":{\"c\":[1,2,{\"d\":null}]}},\"e\":[],\"f\":{}}",
	"{\"n\":1.5,\"big\":1e300,\"neg\":-0.25,\"int\":9007199254740993}",
	"{\"s\":\"caf\\u00e9 \\u2603 \\n\\t\\\"q\\\" \\\\\",\"t\":true}",
	"{\"k/ey\":{\"t~x\":\"v\"},\"\":\"empty key\"}",
	"{\"x\":1}",
	"{\"x\":2}",
	"{\"x\":3}",
	"{\"x\":4}",
	"{\"x\":5}",
	"{\"last\":[[],[{}]]}",
};
#define NEVENTS (int)(sizeof events / sizeof events[0])

static struct au_audit_files lf;	/* the log's keys */
static sqlite3 *ldb;			/* and its state file */

/* Open row v with keys k, with the fields given: 0 with the record, or 1. */
static int
open_row(const struct au_audit_keys *k, const struct row *v,
    const unsigned char *prev, const unsigned char *nonce,
    const unsigned char *ct, int64_t seq, jv *rec,
    unsigned char salt[AU_AUDIT_SALT])
{
	return au_audit_open_event(k, seq, prev, v->epoch, nonce, ct, v->n,
	    rec, salt);
}

static void
test_append(void)
{
	unsigned char h[AU_AUDIT_HASH], zero[AU_AUDIT_HASH], salt[32];
	unsigned char hashes[NEVENTS][AU_AUDIT_HASH], bad[AU_AUDIT_HASH];
	unsigned char nonce[AU_AUDIT_NONCE], *ct;
	struct au_audit_keys *k = NULL;
	struct au_audit *a;
	struct row *v;
	char why[256];
	int64_t seq;
	jv recs, rec;
	int i, n, seqok = 1, hashok = 1;

	lf = files("log");
	if (au_audit_init(&lf) != 0 || au_db_open(at("log/state.db"),
	    &ldb) != 0 || au_audit_keys_load(lf.key, &k) != 0)
		bail("log set-up");
	is_int(au_audit_open(ldb, &lf, 5, 3600000, &a), 0, "open");
	ok(a != NULL && strncmp(au_audit_origin(a), "agentutils.audit/",
	    17) == 0 && strlen(au_audit_origin(a)) == 17 + 26,
	    "open: origin agentutils.audit/ULID (%s)",
	    a ? au_audit_origin(a) : "");
	if (a == NULL)
		bail("open");
	for (i = 0; i < NEVENTS; i++) {
		rec = J(events[i]);
		seq = 0;
		if (au_audit_append(a, rec, &seq, hashes[i]) != 0)
			bail(events[i]);
		jv_free(rec);
		seqok &= seq == i + 1;
		row_hash(ldb, seq, h);
		hashok &= memcmp(h, hashes[i], sizeof h) == 0;
	}
	ok(seqok, "append: seq 1..%d in turn", NEVENTS);
	ok(hashok, "append: the hash given back is the row's");
	is_int(sqlite3_get_autocommit(ldb), 1,
	    "append: leaves no transaction open");
	seq = -1;
	rec = jv_array();
	is_int(au_audit_append(a, rec, &seq, NULL), EX_DATAERR,
	    "append: an array, 65");
	jv_free(rec);
	rec = jv_string("x");
	is_int(au_audit_append(a, rec, &seq, NULL), EX_DATAERR,
	    "append: a string, 65");
	jv_free(rec);
	is_int(seq, -1, "append: and no seq");
	is_int(count(ldb, "SELECT count(*) FROM audit_events"), NEVENTS,
	    "append: and no row");
	is_str_free(cp_sizes(ldb), "5 10", "checkpoint: every 5 events");
	is_int(au_audit_close(a), 0, "close");
	is_str_free(cp_sizes(ldb), "5 10 12", "close: a checkpoint of the "
	    "tail");
	snprintf(why, sizeof why, "SELECT count(*) FROM audit_keys WHERE "
	    "epoch = 1 AND key_id = '%s'", au_audit_key_id(k, 1));
	is_int(count(ldb, why), 1, "open: names the key of epoch 1 in "
	    "audit_keys");
	is_int(count(ldb, "SELECT count(*) FROM audit_keys"), 1,
	    "open: and no other");

	recs = jv_array();
	n = verify(ldb, k, &recs, why, sizeof why);
	is_int(n, NEVENTS, "verify: %d rows, the chain recomputes, every "
	    "event opens, every content digest matches %s", NEVENTS, why);
	for (i = 0; i < NEVENTS && i < jv_array_length(jv_copy(recs)); i++) {
		jv got = jv_array_get(jv_copy(recs), i), want = J(events[i]);
		char *s = dump(got);

		ok(jv_equal(got, want), "open_event: event %d back as "
		    "appended (%s)", i + 1, s);
		free(s);
	}
	jv_free(recs);

	/* The first prev is 32 zero bytes: any other does not open it. */
	memset(zero, 0, sizeof zero);
	if ((n = rows_load(ldb, &v)) != NEVENTS)
		bail("rows");
	au_audit_sealed(v[0].nonce, v[0].ct, v[0].n, h);
	au_audit_chain(zero, 1, v[0].ts, 1, v[0].content, h, h);
	ok(memcmp(h, v[0].hash, sizeof h) == 0,
	    "chain: the first event chains from 32 zero bytes");
	memset(bad, 0, sizeof bad);
	bad[31] = 1;
	is_int(open_row(k, &v[0], zero, v[0].nonce, v[0].ct, 1, &rec,
	    salt), 0, "open_event: the first event, prev zero");
	jv_free(rec);
	is_int(open_row(k, &v[0], bad, v[0].nonce, v[0].ct, 1, &rec,
	    salt), 1, "open_event: the first event, another prev, 1");

	/* Tampering with event 3 (prev is event 2's hash). */
	is_int(open_row(k, &v[2], v[1].hash, v[2].nonce, v[2].ct, 3, &rec,
	    salt), 0, "open_event: event 3");
	ok(jv_get_kind(rec) == JV_KIND_OBJECT, "open_event: an object");
	jv_free(rec);
	ct = au_xmalloc(v[2].n);
	for (i = 0; i < (int)v[2].n; i += (int)v[2].n / 5 + 1) {
		memcpy(ct, v[2].ct, v[2].n);
		ct[i] ^= 0x10;
		rec = jv_null();
		is_int(open_row(k, &v[2], v[1].hash, v[2].nonce, ct, 3,
		    &rec, salt), 1, "open_event: a bit flipped in sealed "
		    "byte %d, 1", i);
		ok(!jv_is_valid(rec), "open_event: and no record");
		jv_free(rec);
	}
	memcpy(ct, v[2].ct, v[2].n);
	ct[v[2].n - 1] ^= 0x80;
	is_int(open_row(k, &v[2], v[1].hash, v[2].nonce, ct, 3, &rec,
	    salt), 1, "open_event: a bit flipped in the tag, 1");
	ok(strstr(au_errmsg(), "tag") != NULL, "open_event: says the tag "
	    "(%s)", au_errmsg());
	au_audit_sealed(v[2].nonce, ct, v[2].n, h);
	au_audit_chain(v[1].hash, 3, v[2].ts, 1, v[2].content, h, h);
	ok(memcmp(h, v[2].hash, sizeof h) != 0,
	    "chain: a flipped bit in sealed changes the hash");
	free(ct);
	memcpy(nonce, v[2].nonce, sizeof nonce);
	nonce[5] ^= 1;
	is_int(open_row(k, &v[2], v[1].hash, nonce, v[2].ct, 3, &rec,
	    salt), 1, "open_event: a bit flipped in the nonce, 1");
	memcpy(bad, v[1].hash, sizeof bad);
	bad[0] ^= 4;
	is_int(open_row(k, &v[2], bad, v[2].nonce, v[2].ct, 3, &rec,
	    salt), 1, "open_event: a wrong prev (associated data), 1");
	is_int(open_row(k, &v[2], v[0].hash, v[2].nonce, v[2].ct, 3, &rec,
	    salt), 1, "open_event: the prev of another event, 1");
	is_int(open_row(k, &v[2], v[1].hash, v[2].nonce, v[2].ct, 4, &rec,
	    salt), 1, "open_event: a wrong seq (associated data), 1");
	is_int(au_audit_open_event(k, 3, v[1].hash, 2, v[2].nonce, v[2].ct,
	    v[2].n, &rec, salt), 1, "open_event: an epoch without a key, 1");
	is_str(au_errmsg(), "no key for epoch 2", "open_event: says so");
	is_int(au_audit_open_event(k, 3, v[1].hash, 1, v[2].nonce, v[2].ct,
	    20, &rec, salt), 1, "open_event: too short, 1");

	/* Each field the chain covers changes the hash. */
	au_audit_sealed(v[2].nonce, v[2].ct, v[2].n, h);
	au_audit_chain(v[1].hash, 3, v[2].ts + 1, 1, v[2].content, h, bad);
	ok(memcmp(bad, v[2].hash, sizeof bad) != 0, "chain: covers ts");
	au_audit_chain(v[1].hash, 3, v[2].ts, 2, v[2].content, h, bad);
	ok(memcmp(bad, v[2].hash, sizeof bad) != 0, "chain: covers epoch");
	au_audit_chain(v[1].hash, 2, v[2].ts, 1, v[2].content, h, bad);
	ok(memcmp(bad, v[2].hash, sizeof bad) != 0, "chain: covers seq");
	au_audit_chain(v[1].hash, 3, v[2].ts, 1, v[1].content, h, bad);
	ok(memcmp(bad, v[2].hash, sizeof bad) != 0, "chain: covers content");
	rows_free(v, n);

	/* A tampered row in the state file: the chain check catches it. */
	au_db_exec(ldb, "SAVEPOINT t; UPDATE audit_events SET ts = ts + 1 "
	    "WHERE seq = 7");
	is_int(verify(ldb, NULL, NULL, why, sizeof why), -1,
	    "verify: an edited ts is caught");
	is_str(why, "seq 7: hash mismatch", "verify: at seq 7");
	au_db_exec(ldb, "ROLLBACK TO t; RELEASE t");
	is_int(verify(ldb, NULL, NULL, why, sizeof why), NEVENTS,
	    "verify: clean again %s", why);
	au_audit_keys_free(k);
}

/* ---- checkpoints -------------------------------------------------------- */

/* note with the character at p changed to another of the same kind. */
static char *
edit(const char *note, const char *p)
{
	char *s = au_xstrdup(note), *c = s + (p - note);

	if (*c >= '0' && *c <= '8')
		(*c)++;
	else if (*c == '9')
		*c = '0';
	else
		*c = *c == 'A' ? 'B' : 'A';
	return s;
}

/* Verify body against sig with the public key in path, with OpenSSL
 * alone: 1 good, 0 not. */
static int
evp_verify(const char *path, const char *body, const unsigned char *sig)
{
	FILE *fp = fopen(path, "r");
	EVP_PKEY *pk = fp ? PEM_read_PUBKEY(fp, NULL, NULL, NULL) : NULL;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int good;

	if (fp != NULL)
		fclose(fp);
	good = pk != NULL && EVP_DigestVerifyInit(c, NULL, NULL, NULL,
	    pk) == 1 && EVP_DigestVerify(c, sig, 64,
	    (const unsigned char *)body, strlen(body)) == 1;
	EVP_MD_CTX_free(c);
	EVP_PKEY_free(pk);
	return good;
}

static void
test_checkpoints(void)
{
	struct au_audit_files of = files("other");
	struct au_audit_pub *pub = NULL, *opub = NULL;
	unsigned char head[AU_AUDIT_HASH], h[AU_AUDIT_HASH], stored[32];
	unsigned char sig[64];
	const int64_t sizes[] = { 5, 10, 12 };
	struct au_audit *a;
	char *note, *bad, *body, *sp, *nl;
	int64_t size, ts;
	size_t i;

	if (au_audit_pub_load(lf.pubkey, &pub) != 0 || au_audit_init(&of) !=
	    0 || au_audit_pub_load(of.pubkey, &opub) != 0)
		bail("checkpoint set-up");
	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		note = cp_note(ldb, sizes[i], stored);
		row_hash(ldb, sizes[i], h);
		size = -1;
		ts = 0;
		memset(head, 0, sizeof head);
		is_int(note ? au_audit_note_check(pub, note, &size, head,
		    &ts) : -1, 0, "note_check: checkpoint %lld is good",
		    (long long)sizes[i]);
		is_int(size, sizes[i], "note_check: its size");
		ok(memcmp(head, h, sizeof h) == 0,
		    "note_check: its head is the hash of event %lld",
		    (long long)sizes[i]);
		ok(memcmp(stored, h, sizeof h) == 0,
		    "checkpoint: the head column too");
		ok(ts > au_now_ms() - 600000 && ts <= au_now_ms(),
		    "note_check: its time, now");
		free(note);
	}

	note = cp_note(ldb, 12, NULL);
	if (note == NULL)
		bail("no checkpoint 12");
	nl = strchr(note, '\n');
	ok(nl != NULL && strncmp(nl, "\n12\n", 4) == 0,
	    "note: origin, then the size on a line");
	bad = edit(note, nl + 2);
	is_int(au_audit_note_check(pub, bad, &size, head, &ts), 1,
	    "note_check: a size digit changed, 1");
	is_str(au_errmsg(), "bad signature", "note_check: says "
	    "so");
	free(bad);
	bad = edit(note, nl + 4);
	is_int(au_audit_note_check(pub, bad, &size, head, &ts), 1,
	    "note_check: the head changed, 1");
	free(bad);
	sp = strrchr(note, ' ');
	bad = edit(note, sp + 40);
	is_int(au_audit_note_check(pub, bad, &size, head, &ts), 1,
	    "note_check: a signature byte changed, 1");
	is_str(au_errmsg(), "bad signature", "note_check: says "
	    "so");
	free(bad);
	bad = edit(note, sp + 2);
	is_int(au_audit_note_check(pub, bad, &size, head, &ts), 1,
	    "note_check: the key hash changed, 1");
	free(bad);
	bad = au_xstrdup(note);
	bad[2] = bad[2] == 'x' ? 'y' : 'x';
	is_int(au_audit_note_check(pub, bad, &size, head, &ts), 1,
	    "note_check: the origin changed, 1");
	free(bad);
	is_int(au_audit_note_check(opub, note, &size, head, &ts), 1,
	    "note_check: another key pair's public key, 1");
	is_str(au_errmsg(), "not signed by this public key",
	    "note_check: says so");
	is_int(au_audit_note_check(pub, "no blank line\n", &size, head, &ts),
	    1, "note_check: not a note, 1");

	body = NULL;
	is_int(au_audit_note_split(note, &body, sig), 0, "note_split");
	ok(body != NULL && strncmp(note, body, strlen(body)) == 0 &&
	    strncmp(note + strlen(body), "\n\xe2\x80\x94 ", 5) == 0,
	    "note_split: the body is the note up to the blank line");
	ok(body && evp_verify(lf.pubkey, body, sig),
	    "note_split: the signature verifies with OpenSSL alone");
	ok(body && !evp_verify(of.pubkey, body, sig),
	    "note_split: not with another key");
	if (body != NULL) {
		body[strlen(body) - 2] ^= 1;
		ok(!evp_verify(lf.pubkey, body, sig),
		    "note_split: nor for another body");
	}
	free(body);
	is_int(au_audit_note_split("x\n\nnot a signature\n", &body, sig), 1,
	    "note_split: no signature line, 1");
	free(note);

	/* A handle that appends nothing writes no checkpoint. */
	is_int(au_audit_open(ldb, &lf, 5, 3600000, &a), 0, "reopen");
	is_int(au_audit_checkpoint(a), 0, "checkpoint: of a size that has "
	    "one");
	is_int(au_audit_close(a), 0, "close: nothing appended");
	is_str_free(cp_sizes(ldb), "5 10 12", "close: no new checkpoint");

	/* au_audit_sign signs with the log's key. */
	is_int(au_audit_open(ldb, &lf, 5, 3600000, &a), 0, "reopen");
	is_int(au_audit_sign(a, "manifest\n", 9, sig), 0, "sign");
	ok(evp_verify(lf.pubkey, "manifest\n", sig),
	    "sign: verifies with the public key");
	au_audit_close(a);

	/* The wrong key files for this log. */
	a = (void *)1;
	is_int(au_audit_open(ldb, &of, 0, 0, &a), EX_CONFIG,
	    "open: another key file for the log's epoch, 78");
	ok(a == NULL, "open: and no handle");
	ok(strstr(au_errmsg(), "wrong key file") != NULL, "open: says so "
	    "(%s)", au_errmsg());
	chmod(lf.key, 0644);
	is_int(au_audit_open(ldb, &lf, 0, 0, &a), EX_CONFIG,
	    "open: a key file of mode 0644, 78");
	chmod(lf.key, 0600);
	chmod(lf.signing, 0640);
	is_int(au_audit_open(ldb, &lf, 0, 0, &a), EX_CONFIG,
	    "open: a signing key of mode 0640, 78");
	chmod(lf.signing, 0600);
	{
		struct au_audit_files mf = lf;

		mf.key = at("log/nope.key");
		is_int(au_audit_open(ldb, &mf, 0, 0, &a), EX_NOINPUT,
		    "open: no key file, 66");
		mf = lf;
		mf.signing = lf.key;
		is_int(au_audit_open(ldb, &mf, 0, 0, &a), EX_CONFIG,
		    "open: a signing key that is not PEM, 78");
	}
	is_int(count(ldb, "SELECT count(*) FROM audit_keys"), 1,
	    "open: a refused key file is not named in the log");
	au_audit_pub_free(pub);
	au_audit_pub_free(opub);
	files_free(&of);
}

/* ---- the caller's transaction ------------------------------------------- */

static void
test_transaction(void)
{
	struct au_audit *a, *b;
	sqlite3 *db2;
	int64_t seq, n0 = count(ldb, "SELECT max(seq) FROM audit_events");
	char why[256];
	jv rec = J("{\"tx\":1}");

	if (au_db_open(at("log/state.db"), &db2) != 0 ||
	    au_audit_open(ldb, &lf, 1000, 3600000, &a) != 0)
		bail("tx set-up");
	is_int(au_db_begin(ldb), 0, "tx: begin");
	is_int(au_audit_append(a, rec, &seq, NULL), 0, "tx: append");
	is_int(seq, n0 + 1, "tx: the next seq");
	is_int(au_audit_append(a, rec, &seq, NULL), 0, "tx: append");
	is_int(seq, n0 + 2, "tx: the next seq");
	is_int(sqlite3_get_autocommit(ldb), 0, "tx: still open");
	is_int(count(db2, "SELECT count(*) FROM audit_events"), n0,
	    "tx: another connection does not see them yet");
	au_db_rollback(ldb);
	is_int(count(ldb, "SELECT count(*) FROM audit_events"), n0,
	    "tx: rolled back, the events are gone");

	is_int(au_audit_append(a, rec, &seq, NULL), 0, "own: append");
	is_int(seq, n0 + 1, "own: the seq after the rollback, no gap");
	is_int(sqlite3_get_autocommit(ldb), 1, "own: no transaction left");
	is_int(count(db2, "SELECT count(*) FROM audit_events"), n0 + 1,
	    "own: committed, another connection sees it");

	is_int(au_db_begin(ldb), 0, "tx: begin");
	is_int(au_audit_append(a, rec, &seq, NULL), 0, "tx: append");
	is_int(au_db_commit(ldb), 0, "tx: commit");
	is_int(count(db2, "SELECT count(*) FROM audit_events"), n0 + 2,
	    "tx: committed, another connection sees it");
	is_int(au_audit_close(a), 0, "tx: close");
	is_int(count(ldb, "SELECT max(size) FROM audit_checkpoints"), n0 + 2,
	    "tx: the tail checkpointed");
	is_int(verify(ldb, NULL, NULL, why, sizeof why), n0 + 2,
	    "tx: the chain recomputes %s", why);

	/* A checkpoint inside a transaction that is rolled back: the
	 * events before it still get theirs when the handle closes. */
	if (au_audit_open(ldb, &lf, 3, 3600000, &a) != 0)
		bail("tx open");
	is_int(au_audit_append(a, rec, &seq, NULL), 0, "cp: append");
	is_int(au_audit_append(a, rec, &seq, NULL), 0, "cp: append");
	is_int(au_db_begin(ldb), 0, "cp: begin");
	is_int(au_audit_append(a, rec, &seq, NULL), 0,
	    "cp: append, a checkpoint in the transaction");
	is_int(count(ldb, "SELECT max(size) FROM audit_checkpoints"), n0 + 5,
	    "cp: there");
	au_db_rollback(ldb);
	is_int(count(ldb, "SELECT max(size) FROM audit_checkpoints"), n0 + 2,
	    "cp: rolled back with it");
	is_int(au_audit_close(a), 0, "cp: close");
	is_int(count(ldb, "SELECT max(size) FROM audit_checkpoints"), n0 + 4,
	    "cp: close checkpoints the tail all the same");

	/* au_audit_begin reads the head once: it must still follow a
	 * rollback and another writer's events between its transactions. */
	if (au_audit_open(ldb, &lf, 1000, 3600000, &a) != 0 ||
	    au_audit_open(db2, &lf, 1000, 3600000, &b) != 0)
		bail("begin open");
	n0 = count(ldb, "SELECT max(seq) FROM audit_events");
	is_int(au_audit_begin(a), 0, "begin: begin");
	is_int(au_audit_append(a, rec, &seq, NULL), 0, "begin: append");
	is_int(au_audit_append(a, rec, &seq, NULL), 0, "begin: append");
	is_int(seq, n0 + 2, "begin: the seqs follow the head");
	au_audit_rollback(a);
	is_int(au_audit_append(b, rec, &seq, NULL), 0, "begin: another "
	    "writer appends");
	is_int(seq, n0 + 1, "begin: it takes the seq rolled back");
	is_int(au_audit_begin(a), 0, "begin: begin again");
	is_int(au_audit_append(a, rec, &seq, NULL), 0, "begin: append");
	is_int(seq, n0 + 2, "begin: after the other writer's event");
	is_int(au_audit_commit(a), 0, "begin: commit");
	is_int(au_audit_append(b, rec, &seq, NULL), 0, "begin: another "
	    "writer appends");
	is_int(au_audit_begin(a), 0, "begin: begin again");
	is_int(au_audit_append(a, rec, &seq, NULL), 0, "begin: append");
	is_int(seq, n0 + 4, "begin: after it again");
	is_int(au_audit_commit(a), 0, "begin: commit");
	is_int(au_audit_close(b), 0, "begin: close");
	is_int(au_audit_close(a), 0, "begin: close");
	is_int(verify(ldb, NULL, NULL, why, sizeof why), n0 + 4,
	    "begin: the chain recomputes %s", why);
	jv_free(rec);
	au_db_close(db2);
}

/* ---- records sealed as their text stands --------------------------------- */

/* Lines au_audit_prepare_text takes as they are (1), or leaves to the
 * parser (0) since au_json_dump would write their record otherwise. */
static const struct {
	const char *line;
	int as_is;
} texts[] = {
	{ "{\"type\":\"tool.call\",\"id\":\"c1\",\"args\":{\"pattern\":"
	    "\"x\",\"path\":\"/a/b\"}}", 1 },
	{ "{}", 1 },
	{ "{\"k/ey\":{\"t~x\":\"v~/\"},\"\":\"empty key\",\"~1\":[]}", 1 },
	{ "{\"s\":\"\\u0000\\u001f\\u007f\\b\\f\\n\\r\\t\\\"\\\\ caf\xc3\xa9 "
	    "\xe2\x98\x83\"}", 1 },
	{ "{\"a\\\"b\":1,\"c\\\\d\":{\"\\n\":2},\"\\u0001\":[{},[[]]]}", 1 },
	{ "{\"n\":0,\"m\":-12,\"big\":123456789012345,\"l\":[true,false,"
	    "null,\"\"]}", 1 },
	{ "{\"o\":{\"x\":1,\"y\":{\"x\":2}},\"x\":3}", 1 },
	{ "{\"a\": 1}", 0 },
	{ " {\"a\":1}", 0 },
	{ "{\"a\":\"\\/\"}", 0 },
	{ "{\"a\":\"\\u0041\"}", 0 },
	{ "{\"a\":\"\\u00e9\"}", 0 },
	{ "{\"a\":\"\\u001F\"}", 0 },
	{ "{\"a\":\"\\u000a\"}", 0 },
	{ "{\"a\":1.5}", 0 },
	{ "{\"a\":1e3}", 0 },
	{ "{\"a\":-0}", 0 },
	{ "{\"a\":1234567890123456}", 0 },
	{ "{\"a\":1,\"a\":2}", 0 },
	{ "{\"o\":{\"x\":1,\"x\":2}}", 0 },
};
#define NTEXTS (int)(sizeof texts / sizeof texts[0])

/* An object of n members "k0":0 ... in that order, malloc'd. */
static char *
wide(int n)
{
	struct au_buf b = AU_BUF_INIT;
	int i;

	au_buf_addc(&b, '{');
	for (i = 0; i < n; i++)
		au_buf_addf(&b, "%s\"k%d\":%d", i ? "," : "", i, i);
	au_buf_addc(&b, '}');
	return b.s;
}

static void
test_text(void)
{
	struct au_audit_files f = files("text");
	struct au_audit_keys *k = NULL;
	struct au_audit_prep *p;
	const char *line;
	char *lines[NTEXTS + 2], *s, why[256];
	unsigned char prev[AU_AUDIT_HASH], c[AU_AUDIT_HASH];
	struct au_audit *a;
	struct row *v;
	sqlite3 *db;
	jv recs, got, want;
	int i, n = NTEXTS + 2, nr, as_is, good;

	if (au_audit_init(&f) != 0 || au_db_open(at("text/state.db"),
	    &db) != 0 || au_audit_keys_load(f.key, &k) != 0 ||
	    au_audit_open(db, &f, 1000, 3600000, &a) != 0)
		bail("text set-up");
	for (i = 0; i < NTEXTS; i++)
		lines[i] = au_xstrdup(texts[i].line);
	lines[NTEXTS] = wide(32);	/* past jq's first table size */
	lines[NTEXTS + 1] = wide(33);	/* too many to look for twins */
	for (i = 0; i < n; i++) {
		line = lines[i];
		as_is = i < NTEXTS ? texts[i].as_is : i == NTEXTS;
		p = au_audit_prepare_text(line, strlen(line));
		ok((p != NULL) == as_is, "text: %s %s", line, as_is ?
		    "sealed as it stands" : "left to the parser");
		if (p != NULL) {
			s = dump(want = J(line));
			is_str_free(s, line, "text: and it is what the dump "
			    "of its record would be");
			jv_free(want);
			if (au_audit_append_prep(a, p, NULL, NULL) != 0)
				bail(line);
		} else {
			want = J(line);
			if (au_audit_append(a, want, NULL, NULL) != 0)
				bail(line);
			jv_free(want);
		}
	}
	is_int(au_audit_close(a), 0, "text: close");
	recs = jv_array();
	is_int(verify(db, k, &recs, why, sizeof why), n, "text: every "
	    "content digest is the one of the parsed record %s", why);
	for (i = 0; i < n && i < jv_array_length(jv_copy(recs)); i++) {
		got = jv_array_get(jv_copy(recs), i);
		want = J(lines[i]);
		ok(jv_equal(got, want), "text: event %d opens as %s", i + 1,
		    lines[i]);
		free(lines[i]);
	}
	jv_free(recs);

	memset(prev, 0, sizeof prev);
	good = (nr = rows_load(db, &v)) == n;
	for (i = 0; good && i < nr; i++) {
		good = au_audit_open_digest(k, v[i].seq, prev, v[i].epoch,
		    v[i].nonce, v[i].ct, v[i].n, c) == 0 &&
		    memcmp(c, v[i].content, sizeof c) == 0;
		memcpy(prev, v[i].hash, sizeof prev);
	}
	ok(good, "open_digest: each event's content digest, from its text");
	if (nr > 1) {
		v[1].ct[0] ^= 1;
		is_int(au_audit_open_digest(k, 2, v[0].hash, v[1].epoch,
		    v[1].nonce, v[1].ct, v[1].n, c), 1,
		    "open_digest: a flipped bit, 1");
		is_int(au_audit_open_digest(k, 2, v[0].hash, v[1].epoch + 1,
		    v[1].nonce, v[1].ct, v[1].n, c), 1,
		    "open_digest: no key for the epoch, 1");
	}
	rows_free(v, nr < 0 ? 0 : nr);
	au_audit_keys_free(k);
	au_db_close(db);
	files_free(&f);
}

/* ---- rotation ----------------------------------------------------------- */

static void
test_rotate(void)
{
	struct au_audit_files rf = files("rot"), of = files("other");
	struct au_audit_keys *k = NULL, *old = NULL;
	struct au_audit *a;
	sqlite3 *db;
	char *before, *after, *line1, *s, why[256], id1[17];
	int epoch = 0, i;
	jv rec = J("{\"r\":1}");

	if (au_audit_init(&rf) != 0 || au_db_open(at("rot/state.db"),
	    &db) != 0 || au_audit_open(db, &rf, 0, 0, &a) != 0)
		bail("rotate set-up");
	for (i = 0; i < 3; i++)
		if (au_audit_append(a, rec, NULL, NULL) != 0)
			bail("rotate append");
	au_audit_close(a);
	before = slurp(rf.key);
	writemode(at("rot/old.key"), before, 0600);
	line1 = strstr(before, "\n1 ") + 1;
	*strchr(line1, '\n') = '\0';
	au_audit_keys_load(rf.key, &old);
	snprintf(id1, sizeof id1, "%s", au_audit_key_id(old, 1));

	is_int(au_audit_rotate(db, &rf, &epoch), 0, "rotate");
	is_int(epoch, 2, "rotate: epoch 2");
	is_int(mode_of(rf.key), 0600, "rotate: the key file is still 0600");
	ok(access(at("rot/audit.key.new"), F_OK) != 0,
	    "rotate: no temporary file left");
	after = slurp(rf.key);
	ok(after && strstr(after, line1) != NULL, "rotate: the epoch 1 line "
	    "is kept as it was");
	ok(after && (s = strstr(after, "\n2 ")) != NULL && strlen(s) == 68 &&
	    strcmp(s + 3 + 64, "\n") == 0, "rotate: a line \"2 KEY\" last");
	free(after);
	is_int(au_audit_keys_load(rf.key, &k), 0, "rotate: the file loads");
	is_str(k ? au_audit_key_id(k, 1) : NULL, id1,
	    "rotate: epoch 1's key unchanged");
	ok(k && au_audit_key_id(k, 2) && strcmp(au_audit_key_id(k, 2),
	    id1) != 0, "rotate: epoch 2, another key");
	{
		char sql[128];

		snprintf(sql, sizeof sql, "SELECT count(*) FROM audit_keys "
		    "WHERE epoch = 2 AND key_id = '%s'",
		    k ? au_audit_key_id(k, 2) : "");
		is_int(count(db, sql), 1, "rotate: the log names epoch 2's "
		    "key");
	}

	is_int(au_audit_open(db, &rf, 0, 0, &a), 0, "rotate: open");
	for (i = 0; i < 2; i++)
		is_int(au_audit_append(a, rec, NULL, NULL), 0,
		    "rotate: append after it");
	au_audit_close(a);
	is_int(count(db, "SELECT count(*) FROM audit_events WHERE epoch = "
	    "(CASE WHEN seq <= 3 THEN 1 ELSE 2 END)"), 5,
	    "rotate: events before carry epoch 1, after it epoch 2");
	is_int(verify(db, k, NULL, why, sizeof why), 5,
	    "rotate: all open with the rotated key file %s", why);
	is_int(verify(db, old, NULL, why, sizeof why), -1,
	    "rotate: the old key file opens only epoch 1");
	is_str(why, "seq 4: no key for epoch 2", "rotate: says so");

	/* A key file from before the rotation is not for this log now. */
	{
		struct au_audit_files sf = rf;

		sf.key = at("rot/old.key");
		a = NULL;
		is_int(au_audit_open(db, &sf, 0, 0, &a), EX_CONFIG,
		    "open: a key file that lacks the log's epoch, 78");
		is_str(au_errmsg(), "the audit log is at key epoch 2; this "
		    "key file's newest is 1 (a key file from before "
		    "--rotate?)",
		    "open: says so");
		au_audit_close(a);
		is_int(count(db, "SELECT max(epoch) FROM audit_events"), 2,
		    "open: and no event of an older epoch");
	}

	/* Rotating with another log's key file. */
	free(before);
	before = slurp(of.key);
	is_int(au_audit_rotate(db, &of, &epoch), EX_CONFIG,
	    "rotate: a key file whose epoch 1 is not the log's, 78");
	is_str_free(slurp(of.key), before, "rotate: that file left alone");
	is_int(count(db, "SELECT count(*) FROM audit_keys"), 2,
	    "rotate: the log unchanged");
	free(before);

	is_int(au_audit_rotate(db, &rf, &epoch), 0, "rotate: again");
	is_int(epoch, 3, "rotate: epoch 3");
	au_audit_keys_free(k);
	is_int(au_audit_keys_load(rf.key, &k), 0, "rotate: the file loads");
	is_str(k ? au_audit_key_id(k, 1) : NULL, id1,
	    "rotate: epoch 1 still there");
	ok(k && au_audit_key_id(k, 2) && au_audit_key_id(k, 3),
	    "rotate: epochs 2 and 3 too");
	au_audit_keys_free(k);
	au_audit_keys_free(old);
	jv_free(rec);
	au_db_close(db);
	files_free(&rf);
	files_free(&of);
}

/* ---- content digests and redaction -------------------------------------- */

static const char *const full = "{\"a\":{\"x\":1,\"y\":[true,null,\"s\"]},"
    "\"k/ey\":{\"t~x\":\"v\",\"z\":{}},\"arr\":[{\"p\":1},{\"q\":[]}],"
    "\"s\":\"str\",\"e\":[],\"n\":1.5}";
static unsigned char rsalt[AU_AUDIT_SALT];
static unsigned char d0[AU_AUDIT_HASH];

/* The full record with one thing changed, and what. */
static const char *const near[][2] = {
	{ "{\"a\":{\"x\":1,\"y\":[true,null,\"s\"]},\"k/ey\":{\"t~x\":\"v\","
	    "\"z\":[]},\"arr\":[{\"p\":1},{\"q\":[]}],\"s\":\"str\",\"e\":[],"
	    "\"n\":1.5}", "[] for {}" },
	{ "{\"a\":{\"x\":\"1\",\"y\":[true,null,\"s\"]},\"k/ey\":{\"t~x\":"
	    "\"v\",\"z\":{}},\"arr\":[{\"p\":1},{\"q\":[]}],\"s\":\"str\","
	    "\"e\":[],\"n\":1.5}", "\"1\" for 1" },
	{ "{\"a\":{\"x\":1,\"y\":[true,null,\"s\"]},\"k\":{\"ey\":{\"t~x\":"
	    "\"v\",\"z\":{}}},\"arr\":[{\"p\":1},{\"q\":[]}],\"s\":\"str\","
	    "\"e\":[],\"n\":1.5}", "k/ey as k, then ey" },
	{ "{\"a\":{\"x\":1,\"y\":[true,null,\"s\"]},\"k/ey\":{\"t~x\":\"v\","
	    "\"z\":{}},\"arr\":[{\"p\":1},{\"q\":[]}],\"s\":\"str\",\"e\":[],"
	    "\"n\":1.5,\"o\":null}", "a member more" },
	{ "{\"a\":{\"x\":1,\"y\":[true,null,\"s\"]},\"k/ey\":{\"t~x\":\"v\","
	    "\"z\":{}},\"arr\":[{\"p\":1},{\"q\":[]}],\"s\":\"str\",\"e\":[],"
	    "\"n\":1.50001}", "another number" },
	{ "{\"a\":{\"x\":1,\"y\":[null,true,\"s\"]},\"k/ey\":{\"t~x\":\"v\","
	    "\"z\":{}},\"arr\":[{\"p\":1},{\"q\":[]}],\"s\":\"str\",\"e\":[],"
	    "\"n\":1.5}", "two array members swapped" },
};

/* au_audit_redact of rec (borrowed) with the roots given in JSON. */
static jv
redact(jv rec, const char *roots)
{
	jv r = J(roots), out = au_audit_redact(rec, rsalt, r);

	jv_free(r);
	return out;
}

/* The digest of a redacted record r (consumed) as au_audit_redact made
 * it, with what it carries: 0 the same as the original, 1 another, -1 it
 * fails. */
static int
check(jv r)
{
	unsigned char d[AU_AUDIT_HASH], salt[AU_AUDIT_SALT];
	jv rec = jv_object_get(jv_copy(r), jv_string("record"));
	jv salts = jv_object_get(jv_copy(r), jv_string("salts"));
	jv red = jv_object_get(jv_copy(r), jv_string("redacted"));
	const char *one = au_jv_str(r, "salt");
	int rc;

	if (one != NULL && au_unhex(one, salt, sizeof salt) != 0)
		rc = -1;
	else
		rc = au_audit_digest(rec, one ? salt : NULL, salts, red, d);
	jv_free(rec);
	jv_free(salts);
	jv_free(red);
	jv_free(r);
	if (rc != 0)
		return -1;
	return memcmp(d, d0, sizeof d) != 0;
}

/* r (consumed) with field key's member at path set to v. */
static jv
with(jv r, const char *key, const char *path, jv v)
{
	jv x = jv_object_get(jv_copy(r), jv_string(key));

	x = jv_setpath(x, J(path), v);
	return jv_object_set(r, jv_string(key), x);
}

/* r (consumed) without field key's member m. */
static jv
without(jv r, const char *key, const char *m)
{
	jv x = jv_object_get(jv_copy(r), jv_string(key));

	x = jv_object_delete(x, jv_string(m));
	return jv_object_set(r, jv_string(key), x);
}

static void
test_digest(void)
{
	unsigned char d[AU_AUDIT_HASH], other[AU_AUDIT_SALT];
	jv rec = J(full), r, x;
	int i;

	for (i = 0; i < AU_AUDIT_SALT; i++)
		rsalt[i] = (unsigned char)(i * 7 + 1);
	memcpy(other, rsalt, sizeof other);
	other[0] ^= 1;
	is_int(au_audit_digest(rec, rsalt, jv_null(), jv_null(), d0), 0,
	    "digest");
	x = jv_array();
	is_int(au_audit_digest(x, rsalt, jv_null(), jv_null(), d), 1,
	    "digest: not an object, 1");
	jv_free(x);
	au_audit_digest(rec, other, jv_null(), jv_null(), d);
	ok(memcmp(d, d0, sizeof d) != 0, "digest: another salt, another "
	    "digest");
	x = J("{\"n\":1.5,\"e\":[],\"s\":\"str\",\"arr\":[{\"p\":1},"
	    "{\"q\":[]}],\"k/ey\":{\"z\":{},\"t~x\":\"v\"},\"a\":{\"y\":"
	    "[true,null,\"s\"],\"x\":1}}");
	au_audit_digest(x, rsalt, jv_null(), jv_null(), d);
	ok(memcmp(d, d0, sizeof d) == 0, "digest: the order of keys does "
	    "not matter");
	jv_free(x);
	for (i = 0; i < (int)(sizeof near / sizeof near[0]); i++) {
		x = J(near[i][0]);
		au_audit_digest(x, rsalt, jv_null(), jv_null(), d);
		ok(memcmp(d, d0, sizeof d) != 0, "digest: %s, another digest",
		    near[i][1]);
		jv_free(x);
	}

	/* A pointer does not tell an array from an object: the
	 * commitments must. */
	{
		unsigned char da[AU_AUDIT_HASH], dobj[AU_AUDIT_HASH];
		jv ra = J("{\"a\":[1]}"), ro = J("{\"a\":{\"0\":1}}");

		au_audit_digest(ra, rsalt, jv_null(), jv_null(), da);
		au_audit_digest(ro, rsalt, jv_null(), jv_null(), dobj);
		ok(memcmp(da, dobj, sizeof da) != 0, "digest: [1] and "
		    "{\"0\":1} at the same pointer differ");
		jv_free(ra);
		jv_free(ro);
	}

	/* Nothing to redact: the record as it is and its one salt. */
	r = redact(rec, "[]");
	is_str_free(keys_of(r), "[\"record\",\"salt\"]",
	    "redact: no roots, \"record\" and \"salt\"");
	x = jv_object_get(jv_copy(r), jv_string("record"));
	ok(jv_equal(x, jv_copy(rec)), "redact: no roots, the record as is");
	is_int(check(jv_copy(r)), 0, "redact: no roots, the digest checks");
	jv_free(r);
	r = redact(rec, "[\"/nope\",\"/a/nope\"]");
	is_str_free(keys_of(r), "[\"record\",\"salt\"]",
	    "redact: roots that are not there, \"salt\"");
	jv_free(r);

	r = redact(rec, "[\"/a/x\",\"/k~1ey/t~0x\","
	    "\"/arr/1\",\"/e\",\"/k~1ey/z\",\"/a/y/2\"]");
	is_str_free(keys_of(r), "[\"record\",\"redacted\",\"salts\"]",
	    "redact: \"record\", \"salts\" and \"redacted\"");
	x = jv_object_get(jv_copy(r), jv_string("record"));
	is_str_free(member(x, "[\"a\",\"x\"]"),
	    "\"[REDACTED]\"", "redact: /a/x, a leaf in an object");
	is_str_free(member(x, "[\"a\",\"y\"]"),
	    "[true,null,\"[REDACTED]\"]", "redact: /a/y/2, in an array");
	is_str_free(member(x, "[\"k/ey\"]"),
	    "{\"t~x\":\"[REDACTED]\",\"z\":\"[REDACTED]\"}",
	    "redact: keys with / and ~, an empty object");
	is_str_free(member(x, "[\"arr\"]"),
	    "[{\"p\":1},\"[REDACTED]\"]", "redact: a subtree");
	is_str_free(member(x, "[\"e\"]"),
	    "\"[REDACTED]\"", "redact: an empty array");
	jv_free(x);
	x = jv_object_get(jv_copy(r), jv_string("redacted"));
	is_str_free(keys_of(x), "[\"/a/x\",\"/a/y/2\",\"/arr/1/q\",\"/e\","
	    "\"/k~1ey/t~0x\",\"/k~1ey/z\"]",
	    "redact: a commitment for each leaf removed");
	jv_free(x);
	x = jv_object_get(jv_copy(r), jv_string("salts"));
	is_str_free(keys_of(x), "[\"/a/y/0\",\"/a/y/1\",\"/arr/0/p\",\"/n\","
	    "\"/s\"]", "redact: a salt for each leaf left");
	jv_free(x);
	is_int(check(jv_copy(r)), 0, "redact: the digest of what is left is "
	    "the original's");

	is_int(check(with(jv_copy(r), "record", "[\"s\"]", jv_string("stR"))),
	    1, "redact: a shown string edited, another digest");
	is_int(check(with(jv_copy(r), "record", "[\"a\",\"y\",0]",
	    jv_false())), 1, "redact: a shown value in an array edited");
	is_int(check(with(jv_copy(r), "record", "[\"n\"]", jv_number(1.25))),
	    1, "redact: a shown number edited");
	is_int(check(with(jv_copy(r), "record", "[\"arr\",0,\"p\"]",
	    jv_string("1"))), 1, "redact: a number shown as a string");
	x = jv_object_get(jv_copy(r), jv_string("record"));
	x = jv_object_set(jv_object_delete(x, jv_string("s")),
	    jv_string("S"), jv_string("str"));
	is_int(check(jv_object_set(jv_copy(r), jv_string("record"), x)), -1,
	    "redact: a key renamed fails");
	is_int(check(without(jv_copy(r), "salts", "/s")), -1,
	    "redact: a salt removed fails");
	is_str(au_errmsg(), "no salt for \"/s\"", "redact: says which");
	ok(check(without(jv_copy(r), "redacted", "/e")) != 0,
	    "redact: a commitment removed fails or changes the digest");
	ok(check(without(jv_copy(r), "redacted", "/arr/1/q")) != 0,
	    "redact: a commitment in a subtree removed");
	is_int(check(with(jv_copy(r), "redacted", "[\"/e\"]",
	    jv_string("00"))), -1, "redact: a malformed commitment fails");
	is_int(check(with(jv_copy(r), "salts", "[\"/s\"]", jv_string(
	    "00000000000000000000000000000000"))), 1,
	    "redact: another salt for a leaf, another digest");
	is_int(check(with(jv_copy(r), "record", "[\"a\",\"x\"]",
	    jv_number(1))), -1,
	    "redact: a redacted leaf shown again fails");
	is_str(au_errmsg(), "\"/a/x\" is both shown and redacted",
	    "redact: says which");
	x = with(jv_copy(r), "salts", "[\"/a/x/deep\"]", jv_string(
	    "00000000000000000000000000000000"));
	is_int(check(with(x, "record", "[\"a\",\"x\"]", J("{\"deep\":1}"))),
	    -1, "redact: a value beneath a redacted leaf, with a salt, fails");
	is_int(check(with(jv_copy(r), "record", "[\"a\",\"y\",2]",
	    jv_string("s"))), -1,
	    "redact: a redacted array member shown again fails");
	is_int(check(with(jv_copy(r), "record", "[\"k/ey\",\"z\"]",
	    jv_object())), -1,
	    "redact: a redacted empty object shown again fails");
	is_int(check(with(jv_copy(r), "record", "[\"a\",\"x\"]",
	    jv_number(2))), -1,
	    "redact: a redacted leaf shown with another value fails");
	is_int(check(with(jv_copy(r), "record", "[\"arr\",1]",
	    J("{\"q\":[]}"))), -1,
	    "redact: a redacted subtree shown again fails");
	is_int(check(with(jv_copy(r), "record", "[\"arr\",1]",
	    jv_string("x"))), -1,
	    "redact: a redacted subtree shown as another value fails");
	jv_free(r);

	/* Everything redacted, and a root beneath another. */
	r = redact(rec, "[\"/a\",\"/a/x\",\"/k~1ey\","
	    "\"/arr\",\"/s\",\"/e\",\"/n\"]");
	x = jv_object_get(jv_copy(r), jv_string("salts"));
	is_str_free(keys_of(x), "[]", "redact: all of it, no salts");
	jv_free(x);
	is_int(check(jv_copy(r)), 0, "redact: all of it, the digest checks");
	jv_free(r);
	jv_free(rec);
}

/* ---- four threads at once ----------------------------------------------- */

struct worker {
	pthread_t thread;
	const struct au_audit_files *f;
	int t, rc, done;
	char err[256];
};

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct au_audit *a;
	sqlite3 *db;
	char rec[64];
	jv v;

	if ((w->rc = au_db_open(at("many/state.db"), &db)) != 0) {
		snprintf(w->err, sizeof w->err, "%s", au_errmsg());
		return NULL;
	}
	if ((w->rc = au_audit_open(db, w->f, 0, 0, &a)) == 0) {
		for (w->done = 0; w->done < PERTHREAD; w->done++) {
			snprintf(rec, sizeof rec, "{\"t\":%d,\"i\":%d}", w->t,
			    w->done);
			v = jv_parse(rec);
			w->rc = au_audit_append(a, v, NULL, NULL);
			jv_free(v);
			if (w->rc != 0)
				break;
		}
		if (w->rc == 0)
			w->rc = au_audit_close(a);
		else
			au_audit_close(a);
	}
	if (w->rc != 0)
		snprintf(w->err, sizeof w->err, "%s", au_errmsg());
	au_db_close(db);
	return NULL;
}

static void
test_threads(void)
{
	struct au_audit_files mf = files("many");
	struct worker w[NTHREADS];
	struct au_audit_keys *k = NULL;
	struct au_audit_pub *pub = NULL;
	unsigned char head[AU_AUDIT_HASH], h[AU_AUDIT_HASH];
	char why[256], *seen, *note;
	int i, n, dup = 0, missing = 0, notes = 0;
	int64_t size, ts;
	sqlite3 *db;
	sqlite3_stmt *s;
	jv recs = jv_array();

	if (au_audit_init(&mf) != 0 || au_audit_keys_load(mf.key, &k) != 0 ||
	    au_audit_pub_load(mf.pubkey, &pub) != 0)
		bail("threads set-up");
	for (i = 0; i < NTHREADS; i++) {
		memset(&w[i], 0, sizeof w[i]);
		w[i].f = &mf;
		w[i].t = i;
		if (pthread_create(&w[i].thread, NULL, worker_main, &w[i]) != 0)
			bail("pthread_create");
	}
	for (i = 0; i < NTHREADS; i++) {
		pthread_join(w[i].thread, NULL);
		is_int(w[i].rc, 0, "threads: thread %d appended %d events %s",
		    i, w[i].done, w[i].err);
	}
	if (au_db_open(at("many/state.db"), &db) != 0)
		bail("threads open");
	is_int(count(db, "SELECT count(*) FROM audit_events"),
	    NTHREADS * PERTHREAD, "threads: %d events", NTHREADS * PERTHREAD);
	is_int(count(db, "SELECT max(seq) FROM audit_events"),
	    NTHREADS * PERTHREAD, "threads: the last is seq %d",
	    NTHREADS * PERTHREAD);
	n = verify(db, k, &recs, why, sizeof why);
	is_int(n, NTHREADS * PERTHREAD, "threads: seq 1..%d without a gap, "
	    "the chain recomputes, every event opens %s",
	    NTHREADS * PERTHREAD, why);
	seen = au_xcalloc(NTHREADS * PERTHREAD, 1);
	for (i = 0; i < jv_array_length(jv_copy(recs)); i++) {
		jv r = jv_array_get(jv_copy(recs), i);
		jv t = jv_object_get(jv_copy(r), jv_string("t"));
		jv x = jv_object_get(r, jv_string("i"));
		int ti = (int)jv_number_value(t), xi = (int)jv_number_value(x);

		if (ti >= 0 && ti < NTHREADS && xi >= 0 && xi < PERTHREAD)
			dup += seen[ti * PERTHREAD + xi]++ != 0;
		jv_free(t);
		jv_free(x);
	}
	for (i = 0; i < NTHREADS * PERTHREAD; i++)
		missing += !seen[i];
	free(seen);
	jv_free(recs);
	ok(dup == 0 && missing == 0, "threads: every event once (%d twice, "
	    "%d missing)", dup, missing);

	/* Every checkpoint any of them signed checks out. */
	sqlite3_prepare_v2(db, "SELECT size, note FROM audit_checkpoints",
	    -1, &s, NULL);
	n = 0;
	while (sqlite3_step(s) == SQLITE_ROW) {
		notes++;
		note = (char *)sqlite3_column_text(s, 1);
		row_hash(db, sqlite3_column_int64(s, 0), h);
		if (au_audit_note_check(pub, note, &size, head, &ts) == 0 &&
		    size == sqlite3_column_int64(s, 0) &&
		    memcmp(head, h, sizeof h) == 0)
			n++;
	}
	sqlite3_finalize(s);
	ok(notes >= NTHREADS * PERTHREAD / 1000 && n == notes,
	    "threads: %d of %d checkpoints check", n, notes);
	is_int(count(db, "SELECT max(size) FROM audit_checkpoints"),
	    NTHREADS * PERTHREAD, "threads: the last covers the tail");
	au_db_close(db);
	au_audit_keys_free(k);
	au_audit_pub_free(pub);
	files_free(&mf);
}

int
main(void)
{
	umask(022);
	tmpdir_make("test-audit");
	au_setprog("test-audit");
	test_hex();
	test_init();
	test_keys_load();
	test_append();
	test_checkpoints();
	test_transaction();
	test_text();
	test_rotate();
	test_digest();
	test_threads();
	au_db_close(ldb);
	files_free(&lf);
	tmpdir_remove();
	return done();
}
