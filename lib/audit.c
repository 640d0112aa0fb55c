/*
 * audit.c - the audit log: sealed, chained events and signed checkpoints.
 *
 * Every byte that goes into a hash is spelled out in agentutils-audit(5);
 * the labels ("au.leaf", "au.chain", ...) keep one kind of hash from ever
 * standing in for another.  OpenSSL's EVP does the cryptography.
 */
#define OPENSSL_SUPPRESS_DEPRECATED	/* SHA256_Init: see h_init */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <sqlite3.h>

#include "agentutils.h"

#define KEYLEN 32
#define SIGLEN 64
#define LEAFSALT 16
#define REDACTED "[REDACTED]"
/* The em dash that starts a signature line of a signed note. */
#define DASH "\xe2\x80\x94 "

struct au_audit_keys {
	struct key {
		int epoch;
		unsigned char k[KEYLEN];
		char id[17];
	} *v;
	size_t n;
	/* au_audit_open_digest's, kept from one event to the next. */
	EVP_CIPHER_CTX *gcm;
	int gcm_epoch;
	unsigned char *pt;
	size_t ptcap;
};

struct au_audit_pub {
	EVP_PKEY *pk;
	unsigned char raw[32];
};

struct au_audit {
	sqlite3 *db;
	struct au_audit_keys *keys;
	const struct key *cur;
	EVP_PKEY *sign;
	unsigned char pub[32];
	char *origin;
	EVP_CIPHER_CTX *gcm;
	unsigned char *ct;	/* the event being sealed, kept for the next */
	size_t ctcap;
	sqlite3_stmt *head, *ins, *cp;
	/* In au_audit_begin's transaction: the head, kept as events go in,
	 * since no other writer can move it. */
	int tx;
	int64_t tx_seq;
	unsigned char tx_hash[AU_AUDIT_HASH];
	int64_t cp_events, cp_ms, since, cp_at;
	int cp_tx;		/* the last checkpoint was in the caller's
				 * transaction, which may be rolled back */
};

/* ---- small helpers ------------------------------------------------------ */

char *
au_hex(const unsigned char *p, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = d[p[i] >> 4];
		out[2 * i + 1] = d[p[i] & 15];
	}
	out[2 * n] = '\0';
	return out;
}

static int
nibble(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
au_unhex(const char *s, unsigned char *p, size_t n)
{
	size_t i;
	int hi, lo;

	if (strlen(s) != 2 * n)
		return -1;
	for (i = 0; i < n; i++) {
		if ((hi = nibble(s[2 * i])) < 0 ||
		    (lo = nibble(s[2 * i + 1])) < 0)
			return -1;
		p[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

static void
be(unsigned char *p, uint64_t v, int n)
{
	while (n-- > 0) {
		p[n] = v & 0xff;
		v >>= 8;
	}
}

/* SHA-256 through the low-level interface: an event takes some twenty
 * small hashes, and EVP's per-call parameter handling cost more than the
 * hashing (measured: 40% of audit-write's time in OpenSSL 3.0).  The
 * interface is deprecated in 3.0, not gone; one context per thread. */
static _Thread_local SHA256_CTX mdc;

static void
h_init(const char *label)
{
	SHA256_Init(&mdc);
	SHA256_Update(&mdc, label, strlen(label) + 1);
}

static void
h_add(const void *p, size_t n)
{
	SHA256_Update(&mdc, p, n);
}

/* A length-prefixed string: no two lists of them hash alike. */
static void
h_str(const char *s, size_t n)
{
	unsigned char l[4];

	be(l, n, 4);
	h_add(l, 4);
	h_add(s, n);
}

static void
h_end(unsigned char out[AU_AUDIT_HASH])
{
	SHA256_Final(out, &mdc);
}

static int
ssl_err(int code, const char *what)
{
	return au_seterr(code, "%s failed (OpenSSL)", what);
}

static void
b64(const unsigned char *p, size_t n, struct au_buf *b)
{
	au_buf_grow(b, 4 * ((n + 2) / 3) + 1);
	b->len += EVP_EncodeBlock((unsigned char *)b->s + b->len, p, n);
}

/* Decode base64 s into at most cap bytes: their number, or -1. */
static long
unb64(const char *s, size_t n, unsigned char *out, size_t cap)
{
	unsigned char *tmp;
	int len;

	if (n == 0 || n % 4 != 0 || n / 4 * 3 > cap + 2)
		return -1;
	tmp = au_xmalloc(n / 4 * 3 + 1);
	len = EVP_DecodeBlock(tmp, (const unsigned char *)s, n);
	if (len >= 0)
		len -= (s[n - 1] == '=') + (s[n - 2] == '=');
	if (len < 0 || (size_t)len > cap) {
		free(tmp);
		return -1;
	}
	memcpy(out, tmp, len);
	free(tmp);
	return len;
}

/* ---- the chain ---------------------------------------------------------- */

void
au_audit_chain(const unsigned char prev[AU_AUDIT_HASH], int64_t seq,
    int64_t ts, int epoch, const unsigned char content[AU_AUDIT_HASH],
    const unsigned char sealed[AU_AUDIT_HASH],
    unsigned char out[AU_AUDIT_HASH])
{
	unsigned char n[20];

	be(n, (uint64_t)seq, 8);
	be(n + 8, (uint64_t)ts, 8);
	be(n + 16, (uint32_t)epoch, 4);
	h_init("au.chain");
	h_add(prev, AU_AUDIT_HASH);
	h_add(n, sizeof n);
	h_add(content, AU_AUDIT_HASH);
	h_add(sealed, AU_AUDIT_HASH);
	h_end(out);
}

void
au_audit_sealed(const unsigned char nonce[AU_AUDIT_NONCE],
    const unsigned char *ct, size_t n, unsigned char out[AU_AUDIT_HASH])
{
	h_init("au.sealed");
	h_add(nonce, AU_AUDIT_NONCE);
	h_add(ct, n);
	h_end(out);
}

/* ---- field commitments -------------------------------------------------- */

struct leaf {
	char *ptr;
	size_t len;
	unsigned char c[AU_AUDIT_HASH];
};

struct walk {
	const unsigned char *salt;	/* derive leaf salts from this */
	jv salts, redacted;		/* or look them up; borrowed */
	struct leaf *v;
	size_t n, cap;
	struct au_buf val;
	int bad;
};

static void
leaf_salt(const unsigned char *salt, const char *p, size_t n,
    unsigned char out[LEAFSALT])
{
	unsigned char h[AU_AUDIT_HASH];

	h_init("au.salt");
	h_add(salt, AU_AUDIT_SALT);
	h_str(p, n);
	h_end(h);
	memcpy(out, h, LEAFSALT);
}

/* The kind of each step of the path being walked, 'o' into an object and
 * 'a' into an array: a leaf's commitment covers them, since a JSON
 * Pointer alone does not tell {"a":[1]} from {"a":{"0":1}}. */
static _Thread_local struct {
	char s[256];
	size_t n, deep;		/* steps kept, steps taken */
} shape;

static void
step(char kind)
{
	if (shape.deep++ < sizeof shape.s)
		shape.s[shape.n++] = kind;
}

static void
unstep(void)
{
	if (shape.deep-- <= sizeof shape.s)
		shape.n--;
}

static void
commit(const unsigned char ls[LEAFSALT], const char *p, size_t n,
    const char *val, size_t vn, unsigned char out[AU_AUDIT_HASH])
{
	unsigned char deep[8];

	be(deep, shape.deep, 8);
	h_init("au.leaf");
	h_add(ls, LEAFSALT);
	h_str(p, n);
	h_str(shape.s, shape.n);
	h_add(deep, 8);
	h_add(val, vn);
	h_end(out);
}

static void
leaf_add(struct walk *w, const char *p, size_t n,
    const unsigned char c[AU_AUDIT_HASH])
{
	struct leaf *l;

	w->v = au_grow(w->v, &w->cap, w->n + 1, sizeof *w->v);
	l = &w->v[w->n++];
	l->ptr = au_xstrndup(p, n);
	l->len = n;
	memcpy(l->c, c, AU_AUDIT_HASH);
}

/* Append "/" and key, escaped as RFC 6901 says, to path. */
static void
ptr_push(struct au_buf *path, const char *key, size_t n)
{
	size_t i;

	au_buf_addc(path, '/');
	for (i = 0; i < n; i++) {
		if (key[i] == '~')
			au_buf_add(path, "~0", 2);
		else if (key[i] == '/')
			au_buf_add(path, "~1", 2);
		else
			au_buf_addc(path, key[i]);
	}
}

/* Whether the leaf at path was redacted: 1 when a redacted pointer is
 * path or lies beneath it (path holds a stand-in), 2 when path lies
 * beneath a redacted pointer, else 0. */
static int
is_redacted(jv redacted, const char *p, size_t n)
{
	int r = 0;

	if (jv_get_kind(redacted) != JV_KIND_OBJECT)
		return 0;
	jv_object_foreach(redacted, k, v) {
		const char *s = jv_string_value(k);
		size_t kn = jv_string_length_bytes(jv_copy(k));

		if (kn >= n && memcmp(s, p, n) == 0 &&
		    (kn == n || s[n] == '/'))
			r = 1;
		else if (kn < n && memcmp(s, p, kn) == 0 && p[kn] == '/' &&
		    r == 0)
			r = 2;
		jv_free(k);
		jv_free(v);
	}
	return r;
}

static void
walk(struct walk *w, jv v, struct au_buf *path)
{
	unsigned char ls[LEAFSALT], c[AU_AUDIT_HASH];
	size_t mark = path->len;
	jv_kind kind = jv_get_kind(v);
	int i, n, r, nonempty = 0;

	if (kind == JV_KIND_OBJECT) {
		jv_object_foreach(v, k, x) {
			nonempty = 1;
			ptr_push(path, jv_string_value(k),
			    jv_string_length_bytes(jv_copy(k)));
			step('o');
			walk(w, x, path);
			unstep();
			path->len = mark;
			jv_free(k);
		}
	} else if (kind == JV_KIND_ARRAY) {
		n = jv_array_length(jv_copy(v));
		for (i = 0; i < n; i++) {
			nonempty = 1;
			au_buf_addf(path, "/%d", i);
			step('a');
			walk(w, jv_array_get(jv_copy(v), i), path);
			unstep();
			path->len = mark;
		}
	}
	if (nonempty || path->len == 0) {
		jv_free(v);
		return;
	}
	/* Where a leaf was redacted only its stand-in may be: a value
	 * shown there or beneath it would count for nothing. */
	if ((r = is_redacted(w->redacted, path->s, path->len)) != 0) {
		if ((r == 2 || jv_get_kind(v) != JV_KIND_STRING ||
		    strcmp(jv_string_value(v), REDACTED) != 0) && !w->bad++)
			au_seterr(1, "%s is both shown and redacted",
			    au_quote(path->s));
		jv_free(v);
		return;
	}
	if (w->salt != NULL)
		leaf_salt(w->salt, path->s, path->len, ls);
	else {
		const char *hx;
		jv s = jv_object_get(jv_copy(w->salts),
		    jv_string_sized(path->s, (int)path->len));

		hx = jv_get_kind(s) == JV_KIND_STRING ? jv_string_value(s) :
		    "";
		if (au_unhex(hx, ls, LEAFSALT) != 0 && !w->bad++)
			au_seterr(1, "no salt for %s", au_quote(path->s));
		jv_free(s);
	}
	w->val.len = 0;
	au_json_dump(&w->val, v);
	commit(ls, path->s, path->len, w->val.s, w->val.len, c);
	leaf_add(w, path->s, path->len, c);
	jv_free(v);
}

static int
leafcmp(const void *a, const void *b)
{
	const struct leaf *x = a, *y = b;
	int r = memcmp(x->ptr, y->ptr, x->len < y->len ? x->len : y->len);

	if (r != 0)
		return r;
	return x->len < y->len ? -1 : x->len > y->len;
}

/* The content digest of the n leaves at v, sorted here. */
static void
content(struct leaf *v, size_t n, unsigned char out[AU_AUDIT_HASH])
{
	size_t i;

	/* An empty record has no leaves, and qsort wants an array. */
	if (n > 0)
		qsort(v, n, sizeof *v, leafcmp);
	h_init("au.content");
	for (i = 0; i < n; i++) {
		h_str(v[i].ptr, v[i].len);
		h_add(v[i].c, AU_AUDIT_HASH);
	}
	h_end(out);
}

static void
walk_free(struct walk *w)
{
	while (w->n > 0)
		free(w->v[--w->n].ptr);
	free(w->v);
	au_buf_free(&w->val);
}

int
au_audit_digest(jv rec, const unsigned char *salt, jv salts, jv redacted,
    unsigned char out[AU_AUDIT_HASH])
{
	struct walk w = { salt, salts, redacted, NULL, 0, 0, AU_BUF_INIT, 0 };
	struct au_buf path = AU_BUF_INIT;
	unsigned char c[AU_AUDIT_HASH];

	if (jv_get_kind(rec) != JV_KIND_OBJECT)
		return au_seterr(1, "the record is not an object");
	au_buf_grow(&path, 64);
	walk(&w, jv_copy(rec), &path);
	au_buf_free(&path);
	if (!w.bad && jv_get_kind(redacted) == JV_KIND_OBJECT)
		jv_object_foreach(redacted, k, v) {
			if (jv_get_kind(v) != JV_KIND_STRING ||
			    au_unhex(jv_string_value(v), c, sizeof c) != 0) {
				if (!w.bad++)
					au_seterr(1, "bad commitment for %s",
					    au_quote(jv_string_value(k)));
			} else
				leaf_add(&w, jv_string_value(k),
				    jv_string_length_bytes(jv_copy(k)), c);
			jv_free(k);
			jv_free(v);
		}
	if (w.bad) {
		walk_free(&w);
		return 1;
	}
	content(w.v, w.n, out);
	walk_free(&w);
	return 0;
}

/* ---- the content digest from JSON text --------------------------------- */

/* What au_json_dump writes can be digested as it stands, without parsing
 * it into jv values: a leaf's value is its own text, and a member name
 * turns into its pointer token by undoing the few escapes the dump uses.
 * Sealing and audit-verify --key digest that way, and a line already in
 * that form (the usual case) is sealed as it came, never parsed. */

#define TDEPTH 256	/* as au_json_check */
#define TKEYS 32	/* members of an object checked for twins */

struct tscan {
	const char *p, *e;
	const unsigned char *salt;
	int strict;		/* only text the dump writes back the same */
	int depth;
	struct au_buf path, ptrs;
	struct leaf *v;
	size_t n, cap;
};

/* The escape at p, after its backslash, if au_json_str writes it so:
 * its length with *c the byte it stands for, else 0. */
static int
tescape(const char *p, const char *e, int *c)
{
	static const char hx[] = "0123456789abcdef", short_[] = "\"\\bfnrt",
	    is[] = "\"\\\b\f\n\r\t";
	const char *x, *a, *b;

	if (p == e)
		return 0;
	if (*p != 'u') {
		if (*p == '\0' || (x = strchr(short_, *p)) == NULL)
			return 0;
		*c = is[x - short_];
		return 1;
	}
	if (e - p < 5 || p[1] != '0' || p[2] != '0' ||
	    (a = memchr(hx, p[3], 16)) == NULL ||
	    (b = memchr(hx, p[4], 16)) == NULL)
		return 0;
	*c = (int)((a - hx) << 4 | (b - hx));
	if ((*c >= 0x20 && *c != 0x7f) || memchr(is + 2, *c, 5) != NULL)
		return 0;
	return 5;
}

/* Skip the string at s->p, adding it to the path as a pointer token when
 * key is set: 0, or -1 when it is not as au_json_str writes it. */
static int
tstring(struct tscan *s, int key)
{
	const char *p = s->p + 1, *run;
	int c, n;

	if (key)
		au_buf_addc(&s->path, '/');
	for (;;) {
		for (run = p; p < s->e && *p != '"' && *p != '\\' &&
		    *p != '~' && *p != '/' && (unsigned char)*p >= 0x20 &&
		    *p != 0x7f; p++)
			;
		if (key)
			au_buf_add(&s->path, run, p - run);
		if (p == s->e || (unsigned char)*p < 0x20 || *p == 0x7f)
			return -1;
		if (*p == '"')
			break;
		if (*p == '\\') {
			if ((n = tescape(p + 1, s->e, &c)) == 0)
				return -1;
			p += 1 + n;
		} else
			c = *p++;
		if (!key)
			continue;
		if (c == '~')
			au_buf_add(&s->path, "~0", 2);
		else if (c == '/')
			au_buf_add(&s->path, "~1", 2);
		else
			au_buf_addc(&s->path, (char)c);
	}
	s->p = p + 1;
	return 0;
}

static int
isdigit_(int c)
{
	return c >= '0' && c <= '9';
}

/* Skip the number at s->p: 0, or -1.  Strict, only integers of at most
 * 15 digits, which a double holds exactly and au_json_dump writes in
 * full; else any JSON number. */
static int
tnumber(struct tscan *s)
{
	const char *p = s->p, *d;

	if (p < s->e && *p == '-')
		p++;
	for (d = p; p < s->e && isdigit_(*p); p++)
		;
	if (p == d || (*d == '0' && p - d > 1))
		return -1;
	if (s->strict) {
		if (p - d > 15 || (*d == '0' && d > s->p) || (p < s->e &&
		    (*p == '.' || *p == 'e' || *p == 'E')))
			return -1;
		s->p = p;
		return 0;
	}
	if (p < s->e && *p == '.') {
		for (d = ++p; p < s->e && isdigit_(*p); p++)
			;
		if (p == d)
			return -1;
	}
	if (p < s->e && (*p == 'e' || *p == 'E')) {
		if (++p < s->e && (*p == '+' || *p == '-'))
			p++;
		for (d = p; p < s->e && isdigit_(*p); p++)
			;
		if (p == d)
			return -1;
	}
	s->p = p;
	return 0;
}

static void
tleaf(struct tscan *s, const char *val, size_t n)
{
	unsigned char ls[LEAFSALT];
	struct leaf *l;

	leaf_salt(s->salt, s->path.s, s->path.len, ls);
	s->v = au_grow(s->v, &s->cap, s->n + 1, sizeof *s->v);
	l = &s->v[s->n++];
	l->ptr = NULL;		/* set when ptrs stops moving */
	l->len = s->ptrs.len;
	au_buf_add(&s->ptrs, s->path.s, s->path.len);
	commit(ls, s->path.s, s->path.len, val, n, l->c);
}

static int tvalue(struct tscan *s);

/* The object or array at s->p, each member or element a step. */
static int
tnest(struct tscan *s)
{
	const char *at = s->p, *k, *keys[TKEYS];
	char close = *s->p == '{' ? '}' : ']';
	size_t mark = s->path.len, klen[TKEYS], nk = 0, i;
	int64_t idx = 0;
	int rc;

	if (++s->depth > TDEPTH)
		return -1;
	if (++s->p < s->e && *s->p == close) {
		s->p++;
		s->depth--;
		if (s->path.len > 0)
			tleaf(s, at, 2);
		return 0;
	}
	for (;;) {
		if (close == '}') {
			if ((k = s->p) == s->e || *k != '"' ||
			    tstring(s, 1) != 0)
				return -1;
			/* Twins: the dump keeps only the last, in the
			 * first one's place. */
			if (s->strict) {
				if (nk == TKEYS)
					return -1;
				for (i = 0; i < nk; i++)
					if (klen[i] == (size_t)(s->p - k) &&
					    memcmp(keys[i], k, klen[i]) == 0)
						return -1;
				keys[nk] = k;
				klen[nk++] = s->p - k;
			}
			if (s->p == s->e || *s->p++ != ':')
				return -1;
			step('o');
		} else {
			au_buf_addc(&s->path, '/');
			au_buf_addint(&s->path, idx++);
			step('a');
		}
		rc = tvalue(s);
		unstep();
		s->path.len = mark;
		if (rc != 0 || s->p == s->e)
			return -1;
		if (*s->p == ',') {
			s->p++;
			continue;
		}
		if (*s->p++ != close)
			return -1;
		break;
	}
	s->depth--;
	return 0;
}

static int
tvalue(struct tscan *s)
{
	static const char *const lits[] = { "true", "false", "null" };
	const char *at = s->p;
	size_t i, n;

	if (s->p == s->e)
		return -1;
	if (*s->p == '{' || *s->p == '[')
		return tnest(s);
	if (*s->p == '"') {
		if (tstring(s, 0) != 0)
			return -1;
	} else if (*s->p == '-' || isdigit_(*s->p)) {
		if (tnumber(s) != 0)
			return -1;
	} else {
		for (i = 0; i < 3; i++) {
			n = strlen(lits[i]);
			if ((size_t)(s->e - s->p) >= n &&
			    memcmp(s->p, lits[i], n) == 0)
				break;
		}
		if (i == 3)
			return -1;
		s->p += n;
	}
	tleaf(s, at, s->p - at);
	return 0;
}

/* The content digest of the JSON object in the n bytes at json, as
 * au_audit_digest gives it for the record they hold: 0, or -1 when they
 * are not what au_json_dump writes (strict: from any record; else: from
 * some record). */
static int
digest_text(const char *json, size_t n, const unsigned char *salt,
    int strict, unsigned char out[AU_AUDIT_HASH])
{
	struct tscan s = { json, json + n, salt, strict, 0, AU_BUF_INIT,
	    AU_BUF_INIT, NULL, 0, 0 };
	size_t i;
	int rc;

	shape.n = shape.deep = 0;
	au_buf_grow(&s.path, 128);
	au_buf_grow(&s.ptrs, 256);
	rc = n > 0 && *json == '{' && tnest(&s) == 0 && s.p == s.e ? 0 : -1;
	if (rc == 0) {
		for (i = 0; i < s.n; i++)
			s.v[i].ptr = s.ptrs.s + s.v[i].len;
		for (i = 0; i < s.n; i++)
			s.v[i].len = (i + 1 < s.n ? s.v[i + 1].ptr :
			    s.ptrs.s + s.ptrs.len) - s.v[i].ptr;
		content(s.v, s.n, out);
	}
	free(s.v);
	au_buf_free(&s.path);
	au_buf_free(&s.ptrs);
	return rc;
}

struct redact {
	const unsigned char *salt;
	jv roots, salts, redacted;
	struct au_buf val;
	int hit;
};

static int
is_root(jv roots, const char *p, size_t n)
{
	int i, len = jv_array_length(jv_copy(roots)), r = 0;

	for (i = 0; i < len && !r; i++) {
		jv s = jv_array_get(jv_copy(roots), i);

		r = jv_get_kind(s) == JV_KIND_STRING &&
		    (size_t)jv_string_length_bytes(jv_copy(s)) == n &&
		    memcmp(jv_string_value(s), p, n) == 0;
		jv_free(s);
	}
	return r;
}

/* Every leaf beneath v at path, as salts (hide 0) or commitments (1). */
static void
leaves(struct redact *r, jv v, struct au_buf *path, int hide)
{
	unsigned char ls[LEAFSALT], c[AU_AUDIT_HASH];
	char hx[2 * AU_AUDIT_HASH + 1];
	size_t mark = path->len;
	jv_kind kind = jv_get_kind(v);
	int i, n, nonempty = 0;

	if (kind == JV_KIND_OBJECT) {
		jv_object_foreach(v, k, x) {
			nonempty = 1;
			ptr_push(path, jv_string_value(k),
			    jv_string_length_bytes(jv_copy(k)));
			step('o');
			leaves(r, x, path, hide);
			unstep();
			path->len = mark;
			jv_free(k);
		}
	} else if (kind == JV_KIND_ARRAY) {
		n = jv_array_length(jv_copy(v));
		for (i = 0; i < n; i++) {
			nonempty = 1;
			au_buf_addf(path, "/%d", i);
			step('a');
			leaves(r, jv_array_get(jv_copy(v), i), path, hide);
			unstep();
			path->len = mark;
		}
	}
	if (!nonempty && path->len > 0) {
		leaf_salt(r->salt, path->s, path->len, ls);
		if (hide) {
			r->val.len = 0;
			au_json_dump(&r->val, v);
			commit(ls, path->s, path->len, r->val.s, r->val.len,
			    c);
			r->redacted = jv_object_set(r->redacted,
			    jv_string_sized(path->s, (int)path->len),
			    jv_string(au_hex(c, sizeof c, hx)));
		} else
			r->salts = jv_object_set(r->salts,
			    jv_string_sized(path->s, (int)path->len),
			    jv_string(au_hex(ls, LEAFSALT, hx)));
	}
	jv_free(v);
}

/* v (consumed) with the subtrees at the roots replaced. */
static jv
cut(struct redact *r, jv v, struct au_buf *path)
{
	size_t mark = path->len;
	jv_kind kind = jv_get_kind(v);
	jv it;
	int i, n;

	if (path->len > 0 && is_root(r->roots, path->s, path->len)) {
		r->hit = 1;
		leaves(r, v, path, 1);
		return jv_string(REDACTED);
	}
	if (kind == JV_KIND_OBJECT) {
		it = jv_copy(v);
		jv_object_foreach(it, k, x) {
			ptr_push(path, jv_string_value(k),
			    jv_string_length_bytes(jv_copy(k)));
			step('o');
			v = jv_object_set(v, k, cut(r, x, path));
			unstep();
			path->len = mark;
		}
		jv_free(it);
	} else if (kind == JV_KIND_ARRAY) {
		n = jv_array_length(jv_copy(v));
		for (i = 0; i < n; i++) {
			au_buf_addf(path, "/%d", i);
			step('a');
			v = jv_array_set(v, i,
			    cut(r, jv_array_get(jv_copy(v), i), path));
			unstep();
			path->len = mark;
		}
	}
	return v;
}

jv
au_audit_redact(jv rec, const unsigned char salt[AU_AUDIT_SALT], jv roots)
{
	struct redact r = { salt, roots, jv_object(), jv_object(),
	    AU_BUF_INIT, 0 };
	struct au_buf path = AU_BUF_INIT;
	char hx[2 * AU_AUDIT_SALT + 1];
	jv out, it;

	au_buf_grow(&path, 64);
	out = cut(&r, jv_copy(rec), &path);
	if (!r.hit) {
		jv_free(r.salts);
		jv_free(r.redacted);
		au_buf_free(&path);
		au_buf_free(&r.val);
		return jv_object_set(jv_object_set(jv_object(),
		    jv_string("record"), out), jv_string("salt"),
		    jv_string(au_hex(salt, AU_AUDIT_SALT, hx)));
	}
	path.len = 0;
	leaves(&r, jv_copy(out), &path, 0);
	/* The "[REDACTED]" stand-ins are not leaves of the record. */
	it = jv_copy(r.salts);
	jv_object_foreach(it, k, x) {
		if (is_redacted(r.redacted, jv_string_value(k),
		    jv_string_length_bytes(jv_copy(k))))
			r.salts = jv_object_delete(r.salts, jv_copy(k));
		jv_free(k);
		jv_free(x);
	}
	jv_free(it);
	au_buf_free(&path);
	au_buf_free(&r.val);
	out = jv_object_set(jv_object_set(jv_object_set(jv_object(),
	    jv_string("record"), out), jv_string("salts"), r.salts),
	    jv_string("redacted"), r.redacted);
	return out;
}

/* ---- keys --------------------------------------------------------------- */

static char *
path_or(const char *given, const char *name)
{
	return given != NULL ? au_xstrdup(given) : au_config_path(name);
}

static void
key_id(const unsigned char k[KEYLEN], char out[17])
{
	unsigned char h[AU_AUDIT_HASH];

	h_init("au.keyid");
	h_add(k, KEYLEN);
	h_end(h);
	au_hex(h, 8, out);
}

/* Read all of fd (at most 1 MiB) into b. */
static int
slurp(int fd, const char *path, struct au_buf *b)
{
	ssize_t r;

	for (;;) {
		au_buf_grow(b, 4096);
		r = read(fd, b->s + b->len, 4096);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return au_seterr(EX_IOERR, "%s:", path);
		if (r == 0)
			break;
		b->len += r;
		b->s[b->len] = '\0';
		if (b->len > 1 << 20)
			return au_seterr(EX_CONFIG, "%s: too large for a key "
			    "file", path);
	}
	if (memchr(b->s, '\0', b->len) != NULL)
		return au_seterr(EX_CONFIG, "%s: not a text file", path);
	return 0;
}

static int
keys_parse(const char *path, const char *text, struct au_audit_keys *k)
{
	const char *p = text, *e;
	char line[256], hx[2 * KEYLEN + 1];
	long ln = 0, epoch;
	size_t i, n;
	int used;

	for (; *p != '\0'; p = *e ? e + 1 : e) {
		e = strchr(p, '\n');
		if (e == NULL)
			e = p + strlen(p);
		ln++;
		n = e - p;
		if (n == 0 || *p == '#')
			continue;
		if (n >= sizeof line)
			return au_seterr(EX_CONFIG, "%s:%ld: line too long",
			    path, ln);
		memcpy(line, p, n);
		line[n] = '\0';
		used = 0;
		if (sscanf(line, "%ld %64[0-9a-fA-F]%n", &epoch, hx,
		    &used) != 2 || line[used] != '\0' || epoch < 1 ||
		    epoch > 1000000)
			return au_seterr(EX_CONFIG, "%s:%ld: expected \"EPOCH "
			    "KEY\", the key in 64 hex digits", path, ln);
		k->v = au_xreallocarray(k->v, k->n + 1, sizeof *k->v);
		if (au_unhex(hx, k->v[k->n].k, KEYLEN) != 0)
			return au_seterr(EX_CONFIG, "%s:%ld: the key must be "
			    "64 hex digits", path, ln);
		for (i = 0; i < k->n; i++)
			if (k->v[i].epoch == epoch)
				return au_seterr(EX_CONFIG, "%s:%ld: epoch %ld "
				    "twice", path, ln, epoch);
		k->v[k->n].epoch = (int)epoch;
		key_id(k->v[k->n].k, k->v[k->n].id);
		k->n++;
	}
	if (k->n == 0)
		return au_seterr(EX_CONFIG, "%s: no key in it", path);
	return 0;
}

int
au_audit_keys_load(const char *path, struct au_audit_keys **out)
{
	struct au_audit_keys *k = au_xcalloc(1, sizeof *k);
	struct au_buf b = AU_BUF_INIT;
	int fd, rc;

	*out = NULL;
	if ((rc = au_secret_open(path, &fd)) != 0) {
		free(k);
		return rc;
	}
	if ((rc = slurp(fd, path, &b)) == 0)
		rc = keys_parse(path, b.s == NULL ? "" : b.s, k);
	close(fd);
	if (b.s != NULL)
		OPENSSL_cleanse(b.s, b.cap);
	au_buf_free(&b);
	if (rc != 0) {
		au_audit_keys_free(k);
		return rc;
	}
	*out = k;
	return 0;
}

void
au_audit_keys_free(struct au_audit_keys *k)
{
	if (k == NULL)
		return;
	if (k->v != NULL)
		OPENSSL_cleanse(k->v, k->n * sizeof *k->v);
	free(k->v);
	EVP_CIPHER_CTX_free(k->gcm);
	free(k->pt);
	free(k);
}

static const struct key *
key_of(const struct au_audit_keys *k, int epoch)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		if (k->v[i].epoch == epoch)
			return &k->v[i];
	return NULL;
}

const char *
au_audit_key_id(const struct au_audit_keys *k, int epoch)
{
	const struct key *x = key_of(k, epoch);

	return x != NULL ? x->id : NULL;
}

static const struct key *
key_last(const struct au_audit_keys *k)
{
	const struct key *best = &k->v[0];
	size_t i;

	for (i = 1; i < k->n; i++)
		if (k->v[i].epoch > best->epoch)
			best = &k->v[i];
	return best;
}

/*
 * The Ed25519 key in PEM text b as OpenSSL writes it (PKCS#8 or SPKI: a
 * fixed DER prefix, then the 32 key bytes), or NULL for any other form,
 * which PEM_read_bio_* then reads.  OpenSSL 3's decoders cost about as
 * much as the rest of opening the log; short-lived programs (tg-invoke,
 * aw-ctl) open it on every call.
 */
static EVP_PKEY *
pem_ed25519(const struct au_buf *b, int private)
{
	static const unsigned char pkcs8[16] = { 0x30, 0x2e, 0x02, 0x01,
	    0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
	    0x20 };
	static const unsigned char spki[12] = { 0x30, 0x2a, 0x30, 0x05,
	    0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00 };
	const char *begin = private ? "-----BEGIN PRIVATE KEY-----\n" :
	    "-----BEGIN PUBLIC KEY-----\n";
	const char *end = private ? "-----END PRIVATE KEY-----\n" :
	    "-----END PUBLIC KEY-----\n";
	const unsigned char *pre = private ? pkcs8 : spki;
	size_t npre = private ? sizeof pkcs8 : sizeof spki;
	unsigned char der[64], b64[65];
	size_t nb = strlen(begin), n = 0, i;
	EVP_PKEY *pk = NULL;

	if (b->len < nb || memcmp(b->s, begin, nb) != 0)
		return NULL;
	for (i = nb; i < b->len && b->s[i] != '-'; i++)
		if (b->s[i] != '\n') {
			if (n == sizeof b64 - 1)
				goto out;
			b64[n++] = (unsigned char)b->s[i];
		}
	b64[n] = '\0';
	if (b->len - i != strlen(end) || memcmp(b->s + i, end, b->len - i)
	    != 0 || n != ((npre + 32 + 2) / 3) * 4 ||
	    EVP_DecodeBlock(der, b64, (int)n) != (int)n / 4 * 3 ||
	    memcmp(der, pre, npre) != 0)
		goto out;
	pk = private ? EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL,
	    der + npre, 32) : EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519,
	    NULL, der + npre, 32);
out:
	OPENSSL_cleanse(der, sizeof der);
	OPENSSL_cleanse(b64, sizeof b64);
	return pk;
}

/* The Ed25519 key in the PEM text of b, named name in messages. */
static int
pem_parse(const char *name, const struct au_buf *b, int private,
    EVP_PKEY **pk)
{
	BIO *bio;

	if ((*pk = pem_ed25519(b, private)) == NULL) {
		bio = BIO_new_mem_buf(b->s == NULL ? "" : b->s, (int)b->len);
		*pk = private ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) :
		    PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
		BIO_free(bio);
	}
	if (*pk == NULL || EVP_PKEY_get_base_id(*pk) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(*pk);
		*pk = NULL;
		return au_seterr(EX_CONFIG, "%s: not an Ed25519 %s key in "
		    "PEM", name, private ? "private" : "public");
	}
	return 0;
}

static int
pem_read(const char *path, int private, EVP_PKEY **pk)
{
	struct au_buf b = AU_BUF_INIT;
	int fd, rc;

	*pk = NULL;
	if (private)
		rc = au_secret_open(path, &fd);
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		rc = au_seterr(EX_NOINPUT, "%s:", path);
	else
		rc = 0;
	if (rc != 0)
		return rc;
	rc = slurp(fd, path, &b);
	close(fd);
	if (rc == 0)
		rc = pem_parse(path, &b, private, pk);
	if (b.s != NULL)
		OPENSSL_cleanse(b.s, b.cap);
	au_buf_free(&b);
	return rc;
}

static struct au_audit_pub *
pub_of(EVP_PKEY *pk)
{
	struct au_audit_pub *p = au_xcalloc(1, sizeof *p);
	size_t n = 32;

	p->pk = pk;
	EVP_PKEY_get_raw_public_key(pk, p->raw, &n);
	return p;
}

int
au_audit_pub_load(const char *path, struct au_audit_pub **out)
{
	EVP_PKEY *pk;
	int rc;

	*out = NULL;
	if ((rc = pem_read(path, 0, &pk)) != 0)
		return rc;
	*out = pub_of(pk);
	return 0;
}

int
au_audit_pub_parse(const char *name, const char *pem, size_t n,
    struct au_audit_pub **out)
{
	struct au_buf b = { (char *)pem, n, n };
	EVP_PKEY *pk;
	int rc;

	*out = NULL;
	if ((rc = pem_parse(name, &b, 0, &pk)) != 0)
		return rc;
	*out = pub_of(pk);
	return 0;
}

void
au_audit_pub_free(struct au_audit_pub *p)
{
	if (p == NULL)
		return;
	EVP_PKEY_free(p->pk);
	free(p);
}

/* Create path with the n bytes at s, mode mode, failing if it exists. */
static int
write_new(const char *path, const void *s, size_t n, mode_t mode)
{
	int fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    mode)) < 0)
		return au_seterr(EX_CANTCREAT, "%s:", path);
	if (write(fd, s, n) != (ssize_t)n || fsync(fd) != 0) {
		au_seterr(EX_IOERR, "%s:", path);
		close(fd);
		unlink(path);
		return EX_IOERR;
	}
	if (close(fd) != 0) {
		unlink(path);
		return au_seterr(EX_IOERR, "%s:", path);
	}
	return 0;
}

/* mkdir -p of path's directory, new directories 0700. */
static int
mkparent(const char *path)
{
	char *d = au_xstrdup(path), *s;

	for (s = d + 1; (s = strchr(s, '/')) != NULL; s++) {
		*s = '\0';
		if (mkdir(d, 0700) != 0 && errno != EEXIST) {
			au_seterr(EX_CANTCREAT, "%s:", d);
			free(d);
			return EX_CANTCREAT;
		}
		*s = '/';
	}
	free(d);
	return 0;
}

static int
pem_text(EVP_PKEY *pk, int private, struct au_buf *out)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p;
	long n;
	int ok;

	ok = private ? PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL,
	    NULL) : PEM_write_bio_PUBKEY(bio, pk);
	if (ok && (n = BIO_get_mem_data(bio, &p)) > 0)
		au_buf_add(out, p, n);
	BIO_free(bio);
	return ok ? 0 : ssl_err(EX_SOFTWARE, "writing a PEM key");
}

int
au_audit_init(const struct au_audit_files *f)
{
	char *kp = path_or(f->key, "audit.key");
	char *sp = path_or(f->signing, "audit-sign.key");
	char *pp = path_or(f->pubkey, "audit-sign.pub");
	struct au_buf kt = AU_BUF_INIT, st = AU_BUF_INIT, pt = AU_BUF_INIT;
	unsigned char k[KEYLEN];
	char hx[2 * KEYLEN + 1];
	EVP_PKEY *pk = NULL;
	const char *p;
	int rc = 0;

	if (kp == NULL || sp == NULL || pp == NULL)
		rc = EX_CONFIG;
	for (p = kp; rc == 0 && p != NULL; p = p == kp ? sp : p == sp ? pp :
	    NULL)
		if (access(p, F_OK) == 0)
			rc = au_seterr(EX_CANTCREAT, "%s: exists already; "
			    "not replacing a key", p);
	if (rc == 0 && (RAND_priv_bytes(k, sizeof k) != 1 ||
	    (pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL))
		rc = ssl_err(EX_SOFTWARE, "making a key");
	if (rc == 0) {
		au_buf_addf(&kt, "# agentutils audit encryption keys: EPOCH "
		    "KEY\n1 %s\n", au_hex(k, sizeof k, hx));
		OPENSSL_cleanse(hx, sizeof hx);
		OPENSSL_cleanse(k, sizeof k);
		if ((rc = pem_text(pk, 1, &st)) == 0)
			rc = pem_text(pk, 0, &pt);
	}
	if (rc == 0 && (rc = mkparent(kp)) == 0 && (rc = mkparent(sp)) == 0 &&
	    (rc = mkparent(pp)) == 0 &&
	    (rc = write_new(kp, kt.s, kt.len, 0600)) == 0 &&
	    (rc = write_new(sp, st.s, st.len, 0600)) != 0)
		unlink(kp);
	else if (rc == 0 && (rc = write_new(pp, pt.s, pt.len, 0644)) != 0) {
		unlink(kp);
		unlink(sp);
	}
	if (kt.s != NULL)
		OPENSSL_cleanse(kt.s, kt.cap);
	if (st.s != NULL)
		OPENSSL_cleanse(st.s, st.cap);
	au_buf_free(&kt);
	au_buf_free(&st);
	au_buf_free(&pt);
	EVP_PKEY_free(pk);
	free(kp);
	free(sp);
	free(pp);
	return rc;
}

/* Make sure the log names key x for its epoch: 0, or 78 when it names
 * another key. */
static int
key_known(sqlite3 *db, const struct key *x)
{
	sqlite3_stmt *s;
	int rc;

	sqlite3_prepare_v2(db, "INSERT INTO audit_keys (epoch, key_id, "
	    "created) VALUES (?1, ?2, ?3) ON CONFLICT (epoch) DO NOTHING",
	    -1, &s, NULL);
	sqlite3_bind_int(s, 1, x->epoch);
	sqlite3_bind_text(s, 2, x->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, au_now_ms());
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return au_db_error(db, rc);
	sqlite3_prepare_v2(db, "SELECT key_id FROM audit_keys WHERE epoch = ?1",
	    -1, &s, NULL);
	sqlite3_bind_int(s, 1, x->epoch);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(s, 0),
	    x->id) != 0)
		rc = au_seterr(EX_CONFIG, "the audit log's key of epoch %d is "
		    "%s; this key file's is %s (the wrong key file?)", x->epoch,
		    (const char *)sqlite3_column_text(s, 0), x->id);
	else
		rc = rc == SQLITE_ROW ? 0 : au_db_error(db, rc);
	sqlite3_finalize(s);
	return rc;
}

int
au_audit_rotate(sqlite3 *db, const struct au_audit_files *f, int *epoch)
{
	char *kp = path_or(f->key, "audit.key"), *tmp = NULL;
	struct au_audit_keys *k = NULL;
	struct au_buf t = AU_BUF_INIT;
	struct key x;
	char hx[2 * KEYLEN + 1];
	size_t i;
	int rc;

	if (kp == NULL)
		return EX_CONFIG;
	if ((rc = au_audit_keys_load(kp, &k)) != 0)
		goto out;
	x.epoch = key_last(k)->epoch + 1;
	if (RAND_priv_bytes(x.k, KEYLEN) != 1) {
		rc = ssl_err(EX_SOFTWARE, "making a key");
		goto out;
	}
	key_id(x.k, x.id);
	au_buf_adds(&t, "# agentutils audit encryption keys: EPOCH KEY\n");
	for (i = 0; i < k->n; i++)
		au_buf_addf(&t, "%d %s\n", k->v[i].epoch,
		    au_hex(k->v[i].k, KEYLEN, hx));
	au_buf_addf(&t, "%d %s\n", x.epoch, au_hex(x.k, KEYLEN, hx));
	OPENSSL_cleanse(hx, sizeof hx);
	OPENSSL_cleanse(x.k, KEYLEN);
	if ((rc = au_db_begin(db)) != 0)
		goto out;
	if ((rc = key_known(db, key_last(k))) != 0 ||
	    (rc = key_known(db, &x)) != 0) {
		au_db_rollback(db);
		goto out;
	}
	tmp = au_xasprintf("%s.new", kp);
	unlink(tmp);
	if ((rc = write_new(tmp, t.s, t.len, 0600)) != 0) {
		au_db_rollback(db);
		goto out;
	}
	if (rename(tmp, kp) != 0) {
		rc = au_seterr(EX_CANTCREAT, "%s:", kp);
		unlink(tmp);
		au_db_rollback(db);
		goto out;
	}
	if ((rc = au_db_commit(db)) == 0)
		*epoch = x.epoch;
out:
	if (t.s != NULL)
		OPENSSL_cleanse(t.s, t.cap);
	au_buf_free(&t);
	au_audit_keys_free(k);
	free(tmp);
	free(kp);
	return rc;
}

/* ---- checkpoints -------------------------------------------------------- */

/* The key hash of a signed note: SHA-256 of name, newline, the Ed25519
 * algorithm byte and the public key, first four bytes. */
static void
note_keyhash(const char *name, size_t n, const unsigned char pub[32],
    unsigned char out[4])
{
	unsigned char h[AU_AUDIT_HASH];
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned char alg = 1;

	EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	EVP_DigestUpdate(c, name, n);
	EVP_DigestUpdate(c, "\n", 1);
	EVP_DigestUpdate(c, &alg, 1);
	EVP_DigestUpdate(c, pub, 32);
	EVP_DigestFinal_ex(c, h, NULL);
	EVP_MD_CTX_free(c);
	memcpy(out, h, 4);
}

static int
sign(EVP_PKEY *pk, const char *msg, size_t n, unsigned char sig[SIGLEN])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	size_t len = SIGLEN;
	int ok;

	ok = c != NULL && EVP_DigestSignInit(c, NULL, NULL, NULL, pk) == 1 &&
	    EVP_DigestSign(c, sig, &len, (const unsigned char *)msg, n) == 1;
	EVP_MD_CTX_free(c);
	return ok ? 0 : ssl_err(EX_SOFTWARE, "signing");
}

static int
sig_ok(EVP_PKEY *pk, const char *msg, size_t n,
    const unsigned char sig[SIGLEN])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int ok;

	ok = c != NULL && EVP_DigestVerifyInit(c, NULL, NULL, NULL, pk) == 1 &&
	    EVP_DigestVerify(c, sig, SIGLEN, (const unsigned char *)msg,
	    n) == 1;
	EVP_MD_CTX_free(c);
	return ok;
}

int
au_audit_checkpoint(struct au_audit *a)
{
	unsigned char head[AU_AUDIT_HASH], sig[SIGLEN], kh[4 + SIGLEN];
	struct au_buf note = AU_BUF_INIT;
	char ts[AU_TS_LEN];
	int64_t size, now = au_now_ms();
	size_t body;
	int rc, own = sqlite3_get_autocommit(a->db);

	if (own && (rc = au_db_begin(a->db)) != 0)
		return rc;
	sqlite3_reset(a->head);
	if ((rc = sqlite3_step(a->head)) != SQLITE_ROW) {
		rc = rc == SQLITE_DONE ? 0 : au_db_error(a->db, rc);
		goto out;
	}
	size = sqlite3_column_int64(a->head, 0);
	memcpy(head, sqlite3_column_blob(a->head, 1), AU_AUDIT_HASH);
	sqlite3_reset(a->head);
	au_buf_addf(&note, "%s\n%lld\n", a->origin, (long long)size);
	b64(head, sizeof head, &note);
	au_buf_addf(&note, "\ntime %s\n", au_ts_fmt(now, ts));
	body = note.len;
	if ((rc = sign(a->sign, note.s, body, sig)) != 0)
		goto out;
	note_keyhash(a->origin, strlen(a->origin), a->pub, kh);
	memcpy(kh + 4, sig, SIGLEN);
	au_buf_addf(&note, "\n" DASH "%s ", a->origin);
	b64(kh, sizeof kh, &note);
	au_buf_addc(&note, '\n');
	sqlite3_reset(a->cp);
	sqlite3_bind_int64(a->cp, 1, size);
	sqlite3_bind_int64(a->cp, 2, now);
	sqlite3_bind_blob(a->cp, 3, head, sizeof head, SQLITE_STATIC);
	sqlite3_bind_text(a->cp, 4, note.s, (int)note.len, SQLITE_STATIC);
	rc = sqlite3_step(a->cp);
	sqlite3_reset(a->cp);
	rc = rc == SQLITE_DONE ? 0 : au_db_error(a->db, rc);
	if (rc == 0) {
		a->since = 0;
		a->cp_at = au_mono_ms();
		a->cp_tx = !own;
	}
out:
	au_buf_free(&note);
	if (own && rc == 0)
		rc = au_db_commit(a->db);
	if (own && rc != 0)
		au_db_rollback(a->db);
	return rc;
}

int
au_audit_note_split(const char *note, char **body, unsigned char sig[64])
{
	const char *end = strstr(note, "\n\n"), *l, *sp;
	unsigned char kh[4 + SIGLEN];
	size_t n;

	*body = NULL;
	if (end == NULL)
		return au_seterr(1, "no blank line before the "
		    "signature");
	for (l = end + 2; *l != '\0'; l += n + (l[n] == '\n')) {
		n = strcspn(l, "\n");
		if (strncmp(l, DASH, strlen(DASH)) != 0)
			return au_seterr(1, "a line after the "
			    "blank line is not a signature");
		sp = memchr(l + strlen(DASH), ' ', n - strlen(DASH));
		if (sp == NULL || unb64(sp + 1, l + n - sp - 1, kh,
		    sizeof kh) != sizeof kh)
			continue;
		memcpy(sig, kh + 4, SIGLEN);
		*body = au_xstrndup(note, end - note + 1);
		return 0;
	}
	return au_seterr(1, "no Ed25519 signature");
}

int
au_audit_pub_verify(const struct au_audit_pub *pub, const void *msg,
    size_t n, const unsigned char sig[64])
{
	return sig_ok(pub->pk, msg, n, sig) ? 0 :
	    au_seterr(1, "bad signature");
}

int
au_audit_body_check(const struct au_audit_pub *pub, const char *body,
    const unsigned char sig[64], int64_t *size,
    unsigned char head[AU_AUDIT_HASH], int64_t *ts)
{
	const char *nl1, *nl2, *nl3, *nl4;
	char *x, *t;
	long long sz;

	if (!sig_ok(pub->pk, body, strlen(body), sig))
		return au_seterr(1, "bad signature");
	nl1 = strchr(body, '\n');
	nl2 = nl1 ? strchr(nl1 + 1, '\n') : NULL;
	nl3 = nl2 ? strchr(nl2 + 1, '\n') : NULL;
	*ts = 0;
	if (nl3 == NULL || nl1[1] < '0' || nl1[1] > '9' ||
	    (sz = strtoll(nl1 + 1, &x, 10)) < 0 || x != nl2 ||
	    unb64(nl2 + 1, nl3 - nl2 - 1, head, AU_AUDIT_HASH) !=
	    AU_AUDIT_HASH)
		return au_seterr(1, "malformed");
	*size = sz;
	if (strncmp(nl3 + 1, "time ", 5) == 0 &&
	    (nl4 = strchr(nl3 + 1, '\n')) != NULL) {
		t = au_xstrndup(nl3 + 6, nl4 - nl3 - 6);
		au_ts_parse(t, ts);
		free(t);
	}
	return 0;
}

int
au_audit_note_check(const struct au_audit_pub *pub, const char *note,
    int64_t *size, unsigned char head[AU_AUDIT_HASH], int64_t *ts)
{
	const char *end = strstr(note, "\n\n"), *l, *sp, *e;
	unsigned char kh[4 + SIGLEN], want[4];
	size_t n, dn = strlen(DASH);
	char *body;
	int rc;

	if (end == NULL)
		return au_seterr(1, "no blank line before the "
		    "signature");
	e = strchr(note, '\n');
	for (l = end + 2; *l != '\0'; l += n + (l[n] == '\n')) {
		n = strcspn(l, "\n");
		if (n < dn || strncmp(l, DASH, dn) != 0 ||
		    (sp = memchr(l + dn, ' ', n - dn)) == NULL)
			return au_seterr(1, "a line after the "
			    "blank line is not a signature");
		note_keyhash(l + dn, sp - l - dn, pub->raw, want);
		/* Ours: our key hash, under the note's origin as name. */
		if (unb64(sp + 1, l + n - sp - 1, kh, sizeof kh) ==
		    sizeof kh && memcmp(kh, want, 4) == 0 &&
		    (size_t)(sp - l - dn) == (size_t)(e - note) &&
		    memcmp(note, l + dn, e - note) == 0) {
			body = au_xstrndup(note, end - note + 1);
			rc = au_audit_body_check(pub, body, kh + 4, size, head,
			    ts);
			free(body);
			return rc;
		}
	}
	return au_seterr(1, "not signed by this public key");
}

/* ---- appending ---------------------------------------------------------- */

static int
meta_origin(sqlite3 *db, char **origin)
{
	char id[AU_ID_LEN], *sql;
	sqlite3_stmt *s;
	int rc;

	sql = sqlite3_mprintf("INSERT INTO audit_meta (name, value) VALUES "
	    "('log_id', %Q) ON CONFLICT (name) DO NOTHING", au_ulid(id));
	rc = au_db_exec(db, sql);
	sqlite3_free(sql);
	if (rc != 0)
		return rc;
	sqlite3_prepare_v2(db, "SELECT value FROM audit_meta WHERE name = "
	    "'log_id'", -1, &s, NULL);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*origin = au_xasprintf("agentutils.audit/%s",
		    (const char *)sqlite3_column_text(s, 0));
		rc = 0;
	} else
		rc = au_db_error(db, rc);
	sqlite3_finalize(s);
	return rc;
}

/* Refuse to append under x when the log has moved on to a later epoch:
 * a key file from before a rotation would keep the retired key in use.
 * 0, or 78. */
static int
key_current(sqlite3 *db, const struct key *x)
{
	sqlite3_stmt *s;
	int rc, last;

	if (sqlite3_prepare_v2(db, "SELECT max(epoch) FROM audit_keys", -1,
	    &s, NULL) != SQLITE_OK)
		return au_db_error(db, sqlite3_errcode(db));
	if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
		sqlite3_finalize(s);
		return au_db_error(db, rc);
	}
	last = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	if (last > x->epoch)
		return au_seterr(EX_CONFIG, "the audit log is at key epoch %d; "
		    "this key file's newest is %d (a key file from before "
		    "--rotate?)", last, x->epoch);
	return 0;
}

int
au_audit_open(sqlite3 *db, const struct au_audit_files *f,
    int64_t cp_events, int64_t cp_ms, struct au_audit **out)
{
	struct au_audit *a = au_xcalloc(1, sizeof *a);
	char *kp = path_or(f->key, "audit.key");
	char *sp = path_or(f->signing, "audit-sign.key");
	size_t n = 32;
	int rc;

	*out = NULL;
	a->db = db;
	a->cp_events = cp_events > 0 ? cp_events : 1000;
	a->cp_ms = cp_ms > 0 ? cp_ms : 10000;
	a->cp_at = au_mono_ms();
	if (kp == NULL || sp == NULL)
		rc = EX_CONFIG;
	else if ((rc = au_audit_keys_load(kp, &a->keys)) == 0)
		rc = pem_read(sp, 1, &a->sign);
	free(kp);
	free(sp);
	if (rc != 0)
		goto fail;
	a->cur = key_last(a->keys);
	EVP_PKEY_get_raw_public_key(a->sign, a->pub, &n);
	if ((rc = au_db_begin(db)) != 0)
		goto fail;
	if ((rc = key_known(db, a->cur)) != 0 ||
	    (rc = key_current(db, a->cur)) != 0 ||
	    (rc = meta_origin(db, &a->origin)) != 0) {
		au_db_rollback(db);
		goto fail;
	}
	if ((rc = au_db_commit(db)) != 0)
		goto fail;
	if ((a->gcm = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex(a->gcm, EVP_aes_256_gcm(), NULL, NULL,
	    NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(a->gcm, EVP_CTRL_GCM_SET_IVLEN,
	    AU_AUDIT_NONCE, NULL) != 1 ||
	    EVP_EncryptInit_ex(a->gcm, NULL, NULL, a->cur->k, NULL) != 1) {
		rc = ssl_err(EX_SOFTWARE, "AES-256-GCM set-up");
		goto fail;
	}
	if (sqlite3_prepare_v3(db, "SELECT seq, hash FROM audit_events ORDER "
	    "BY seq DESC LIMIT 1", -1, SQLITE_PREPARE_PERSISTENT, &a->head,
	    NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(db, "INSERT INTO audit_events (seq, ts, epoch, "
	    "nonce, sealed, content, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
	    "?7)", -1, SQLITE_PREPARE_PERSISTENT, &a->ins, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(db, "INSERT INTO audit_checkpoints (size, ts, "
	    "head, note) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (size) DO "
	    "NOTHING", -1, SQLITE_PREPARE_PERSISTENT, &a->cp,
	    NULL) != SQLITE_OK) {
		rc = au_db_error(db, sqlite3_errcode(db));
		goto fail;
	}
	*out = a;
	return 0;
fail:
	a->since = 0;
	a->cp_tx = 0;
	au_audit_close(a);
	return rc;
}

/* A record made ready to seal: everything that does not depend on where
 * it lands in the chain.  One malloc'd block, for au_in_prepare. */
struct au_audit_prep {
	unsigned char content[AU_AUDIT_HASH];
	unsigned char nonce[AU_AUDIT_NONCE];
	size_t len;			/* of pt: the salt, then the JSON */
	unsigned char pt[];
};

/* n random bytes from this thread's pool, refilled from RAND_bytes 4 KiB
 * at a time: a call per event cost as much as the rest of preparing it
 * (it asks getpid() each time, for fork safety).  Bytes handed out are
 * wiped from the pool.  A forked child must not reuse its parent's bytes
 * (a GCM nonce used twice gives the key away): the pool is emptied in
 * the child. */
static _Thread_local struct {
	unsigned char b[4096];
	size_t n;
} pool;
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

static void
pool_forget(void)
{
	OPENSSL_cleanse(pool.b, sizeof pool.b);
	pool.n = 0;
}

static void
pool_atfork(void)
{
	pthread_atfork(NULL, NULL, pool_forget);
}

static int
rnd(unsigned char *out, size_t n)
{
	pthread_once(&pool_once, pool_atfork);
	if (pool.n < n) {
		if (RAND_bytes(pool.b, sizeof pool.b) != 1)
			return -1;
		pool.n = sizeof pool.b;
	}
	pool.n -= n;
	memcpy(out, pool.b + pool.n, n);
	OPENSSL_cleanse(pool.b + pool.n, n);
	return 0;
}

/* Prepare the n bytes of JSON at json, salted and digested: 0, -1 when
 * digest_text refuses them, 70 without random bytes. */
static int
prep_new(const char *json, size_t n, int strict, struct au_audit_prep **out)
{
	unsigned char r[AU_AUDIT_SALT + AU_AUDIT_NONCE];
	struct au_audit_prep *p;

	*out = NULL;
	if (rnd(r, sizeof r) != 0)
		return ssl_err(EX_SOFTWARE, "random bytes");
	p = au_xmalloc(sizeof *p + AU_AUDIT_SALT + n);
	memcpy(p->nonce, r + AU_AUDIT_SALT, AU_AUDIT_NONCE);
	memcpy(p->pt, r, AU_AUDIT_SALT);
	memcpy(p->pt + AU_AUDIT_SALT, json, n);
	p->len = AU_AUDIT_SALT + n;
	OPENSSL_cleanse(r, sizeof r);
	if (digest_text((char *)p->pt + AU_AUDIT_SALT, n, p->pt, strict,
	    p->content) != 0) {
		au_audit_prep_free(p);
		return -1;
	}
	*out = p;
	return 0;
}

struct au_audit_prep *
au_audit_prepare(jv rec)
{
	struct au_buf b = AU_BUF_INIT;
	struct au_audit_prep *p;

	if (jv_get_kind(rec) != JV_KIND_OBJECT) {
		au_seterr(EX_DATAERR, "an audit event must be a JSON object");
		return NULL;
	}
	au_json_dump(&b, rec);
	if (prep_new(b.s, b.len, 0, &p) < 0)
		au_seterr(EX_DATAERR, "an audit event must be nested at most "
		    "%d deep", TDEPTH);
	au_buf_free(&b);
	return p;
}

struct au_audit_prep *
au_audit_prepare_text(const char *json, size_t n)
{
	struct au_audit_prep *p;

	prep_new(json, n, 1, &p);
	return p;
}

void
au_audit_prep_free(struct au_audit_prep *p)
{
	if (p == NULL)
		return;
	OPENSSL_cleanse(p->pt, p->len);
	free(p);
}

int
au_audit_append(struct au_audit *a, jv rec, int64_t *seqp,
    unsigned char hashp[AU_AUDIT_HASH])
{
	struct au_audit_prep *p = au_audit_prepare(rec);

	return p == NULL ? EX_DATAERR : au_audit_append_prep(a, p, seqp,
	    hashp);
}

/* The log's last event: its number and hash, or 0 and zeros when it
 * has none.  0, or 75/74. */
static int
head(struct au_audit *a, int64_t *seq, unsigned char hash[AU_AUDIT_HASH])
{
	int rc;

	*seq = 0;
	memset(hash, 0, AU_AUDIT_HASH);
	sqlite3_reset(a->head);
	if ((rc = sqlite3_step(a->head)) == SQLITE_ROW) {
		*seq = sqlite3_column_int64(a->head, 0);
		if (sqlite3_column_bytes(a->head, 1) == AU_AUDIT_HASH)
			memcpy(hash, sqlite3_column_blob(a->head, 1),
			    AU_AUDIT_HASH);
	} else if (rc != SQLITE_DONE)
		return au_db_error(a->db, rc);
	sqlite3_reset(a->head);
	return 0;
}

int
au_audit_begin(struct au_audit *a)
{
	int rc;

	a->tx = 0;
	if ((rc = au_db_begin(a->db)) != 0)
		return rc;
	if ((rc = head(a, &a->tx_seq, a->tx_hash)) != 0) {
		au_db_rollback(a->db);
		return rc;
	}
	a->tx = 1;
	return 0;
}

int
au_audit_commit(struct au_audit *a)
{
	a->tx = 0;
	return au_db_commit(a->db);
}

void
au_audit_rollback(struct au_audit *a)
{
	a->tx = 0;
	au_db_rollback(a->db);
}

int
au_audit_append_prep(struct au_audit *a, struct au_audit_prep *p,
    int64_t *seqp, unsigned char hashp[AU_AUDIT_HASH])
{
	unsigned char prev[AU_AUDIT_HASH], aad[40], sealed[AU_AUDIT_HASH];
	unsigned char hash[AU_AUDIT_HASH], *ct;
	int64_t seq, ts = au_now_ms();
	int rc, len, fin, own = sqlite3_get_autocommit(a->db);

	if (own && (rc = au_db_begin(a->db)) != 0) {
		au_audit_prep_free(p);
		return rc;
	}
	if (a->tx) {
		seq = a->tx_seq;
		memcpy(prev, a->tx_hash, AU_AUDIT_HASH);
	} else if ((rc = head(a, &seq, prev)) != 0)
		goto out;
	seq++;
	be(aad, (uint64_t)seq, 8);
	memcpy(aad + 8, prev, AU_AUDIT_HASH);
	ct = a->ct = au_grow(a->ct, &a->ctcap, p->len + AU_AUDIT_TAG, 1);
	if (EVP_EncryptInit_ex(a->gcm, NULL, NULL, NULL, p->nonce) != 1 ||
	    EVP_EncryptUpdate(a->gcm, NULL, &len, aad, sizeof aad) != 1 ||
	    EVP_EncryptUpdate(a->gcm, ct, &len, p->pt, (int)p->len) != 1 ||
	    EVP_EncryptFinal_ex(a->gcm, ct + len, &fin) != 1 ||
	    EVP_CIPHER_CTX_ctrl(a->gcm, EVP_CTRL_GCM_GET_TAG, AU_AUDIT_TAG,
	    ct + len + fin) != 1) {
		rc = ssl_err(EX_SOFTWARE, "AES-256-GCM");
		goto out;
	}
	len += fin + AU_AUDIT_TAG;
	au_audit_sealed(p->nonce, ct, len, sealed);
	au_audit_chain(prev, seq, ts, a->cur->epoch, p->content, sealed,
	    hash);
	sqlite3_bind_int64(a->ins, 1, seq);
	sqlite3_bind_int64(a->ins, 2, ts);
	sqlite3_bind_int(a->ins, 3, a->cur->epoch);
	sqlite3_bind_blob(a->ins, 4, p->nonce, AU_AUDIT_NONCE, SQLITE_STATIC);
	sqlite3_bind_blob(a->ins, 5, ct, len, SQLITE_STATIC);
	sqlite3_bind_blob(a->ins, 6, p->content, AU_AUDIT_HASH,
	    SQLITE_STATIC);
	sqlite3_bind_blob(a->ins, 7, hash, sizeof hash, SQLITE_STATIC);
	rc = sqlite3_step(a->ins);
	sqlite3_reset(a->ins);
	if (rc != SQLITE_DONE) {
		rc = au_db_error(a->db, rc);
		goto out;
	}
	rc = 0;
	a->tx_seq = seq;
	memcpy(a->tx_hash, hash, AU_AUDIT_HASH);
	a->since++;
	if (a->since >= a->cp_events || au_mono_ms() - a->cp_at >= a->cp_ms)
		rc = au_audit_checkpoint(a);
out:
	au_audit_prep_free(p);
	if (own && rc == 0)
		rc = au_db_commit(a->db);
	if (own && rc != 0)
		au_db_rollback(a->db);
	if (rc == 0) {
		if (seqp != NULL)
			*seqp = seq;
		if (hashp != NULL)
			memcpy(hashp, hash, AU_AUDIT_HASH);
	}
	return rc;
}

int
au_audit_sign(struct au_audit *a, const void *msg, size_t n,
    unsigned char out[64])
{
	return sign(a->sign, msg, n, out);
}

const char *
au_audit_origin(const struct au_audit *a)
{
	return a->origin;
}

struct au_audit *
au_xaudit_open(struct sqlite3 *db, const char *hint)
{
	struct au_audit_files f = { NULL, NULL, NULL };
	struct au_audit *a = NULL;
	int rc;

	if ((rc = au_audit_open(db, &f, 0, 0, &a)) == EX_NOINPUT) {
		au_warn("not audited: %s (%s)", au_errmsg(), hint);
		return NULL;
	}
	if (rc != 0)
		au_die(rc, "audit: %s", au_errmsg());
	return a;
}

int
au_audit_close(struct au_audit *a)
{
	int rc = 0;

	if (a == NULL)
		return 0;
	if (a->since > 0 || a->cp_tx)
		rc = au_audit_checkpoint(a);
	sqlite3_finalize(a->head);
	sqlite3_finalize(a->ins);
	sqlite3_finalize(a->cp);
	EVP_CIPHER_CTX_free(a->gcm);
	free(a->ct);
	EVP_PKEY_free(a->sign);
	au_audit_keys_free(a->keys);
	free(a->origin);
	free(a);
	return rc;
}

/* ---- reading ------------------------------------------------------------ */

int
au_audit_open_event(const struct au_audit_keys *k, int64_t seq,
    const unsigned char prev[AU_AUDIT_HASH], int epoch,
    const unsigned char nonce[AU_AUDIT_NONCE], const unsigned char *ct,
    size_t n, jv *rec, unsigned char salt[AU_AUDIT_SALT])
{
	const struct key *x = key_of(k, epoch);
	unsigned char aad[40], *pt;
	EVP_CIPHER_CTX *c;
	int len, fin, ok;

	*rec = jv_invalid();
	if (x == NULL)
		return au_seterr(1, "no key for epoch %d", epoch);
	if (n < AU_AUDIT_TAG + AU_AUDIT_SALT || n > INT32_MAX)
		return au_seterr(1, "ciphertext too short");
	be(aad, (uint64_t)seq, 8);
	memcpy(aad + 8, prev, AU_AUDIT_HASH);
	pt = au_xmalloc(n);
	c = EVP_CIPHER_CTX_new();
	ok = c != NULL &&
	    EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, AU_AUDIT_NONCE,
	    NULL) == 1 &&
	    EVP_DecryptInit_ex(c, NULL, NULL, x->k, nonce) == 1 &&
	    EVP_DecryptUpdate(c, NULL, &len, aad, sizeof aad) == 1 &&
	    EVP_DecryptUpdate(c, pt, &len, ct, (int)(n - AU_AUDIT_TAG)) == 1 &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, AU_AUDIT_TAG,
	    (void *)(ct + n - AU_AUDIT_TAG)) == 1 &&
	    EVP_DecryptFinal_ex(c, pt + len, &fin) == 1;
	EVP_CIPHER_CTX_free(c);
	if (!ok) {
		free(pt);
		return au_seterr(1, "GCM tag mismatch (wrong key, or the "
		    "event was altered)");
	}
	len = (int)(n - AU_AUDIT_TAG);
	memcpy(salt, pt, AU_AUDIT_SALT);
	*rec = jv_parse_sized((char *)pt + AU_AUDIT_SALT,
	    len - AU_AUDIT_SALT);
	OPENSSL_cleanse(pt, n);
	free(pt);
	if (jv_get_kind(*rec) != JV_KIND_OBJECT) {
		jv_free(*rec);
		*rec = jv_invalid();
		return au_seterr(1, "the sealed record is not a JSON object");
	}
	return 0;
}

int
au_audit_open_digest(struct au_audit_keys *k, int64_t seq,
    const unsigned char prev[AU_AUDIT_HASH], int epoch,
    const unsigned char nonce[AU_AUDIT_NONCE], const unsigned char *ct,
    size_t n, unsigned char content[AU_AUDIT_HASH])
{
	const struct key *x = key_of(k, epoch);
	unsigned char aad[40];
	int len, fin, ok;

	if (x == NULL)
		return au_seterr(1, "no key for epoch %d", epoch);
	if (n < AU_AUDIT_TAG + AU_AUDIT_SALT || n > INT32_MAX)
		return au_seterr(1, "ciphertext too short");
	if (k->gcm == NULL && ((k->gcm = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_DecryptInit_ex(k->gcm, EVP_aes_256_gcm(), NULL, NULL,
	    NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(k->gcm, EVP_CTRL_GCM_SET_IVLEN,
	    AU_AUDIT_NONCE, NULL) != 1))
		return ssl_err(1, "AES-256-GCM set-up");
	if (k->gcm_epoch != epoch) {
		if (EVP_DecryptInit_ex(k->gcm, NULL, NULL, x->k, NULL) != 1)
			return ssl_err(1, "AES-256-GCM set-up");
		k->gcm_epoch = epoch;
	}
	if (k->ptcap < n) {
		free(k->pt);
		k->pt = au_xmalloc(k->ptcap = n);
	}
	be(aad, (uint64_t)seq, 8);
	memcpy(aad + 8, prev, AU_AUDIT_HASH);
	ok = EVP_DecryptInit_ex(k->gcm, NULL, NULL, NULL, nonce) == 1 &&
	    EVP_DecryptUpdate(k->gcm, NULL, &len, aad, sizeof aad) == 1 &&
	    EVP_DecryptUpdate(k->gcm, k->pt, &len, ct,
	    (int)(n - AU_AUDIT_TAG)) == 1 &&
	    EVP_CIPHER_CTX_ctrl(k->gcm, EVP_CTRL_GCM_SET_TAG, AU_AUDIT_TAG,
	    (void *)(ct + n - AU_AUDIT_TAG)) == 1 &&
	    EVP_DecryptFinal_ex(k->gcm, k->pt + len, &fin) == 1;
	n -= AU_AUDIT_TAG;
	if (!ok)
		au_seterr(1, "GCM tag mismatch (wrong key, or the event was "
		    "altered)");
	else if (digest_text((char *)k->pt + AU_AUDIT_SALT,
	    n - AU_AUDIT_SALT, k->pt, 0, content) != 0) {
		au_seterr(1, "the sealed record is not a JSON object in the "
		    "compact form");
		ok = 0;
	}
	OPENSSL_cleanse(k->pt, n);
	return ok ? 0 : 1;
}

/* ---- for exports -------------------------------------------------------- */

int
au_audit_pub_matches(const struct au_audit *a, const struct au_audit_pub *p)
{
	return memcmp(a->pub, p->raw, sizeof a->pub) == 0;
}

struct au_sha256 {
	EVP_MD_CTX *c;
};

struct au_sha256 *
au_sha256_new(void)
{
	struct au_sha256 *h = au_xmalloc(sizeof *h);

	if ((h->c = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(h->c, EVP_sha256(), NULL) != 1)
		au_die(EX_SOFTWARE, "SHA-256 is not available");
	return h;
}

void
au_sha256_add(struct au_sha256 *h, const void *p, size_t n)
{
	EVP_DigestUpdate(h->c, p, n);
}

void
au_sha256_end(struct au_sha256 *h, unsigned char out[AU_AUDIT_HASH])
{
	EVP_DigestFinal_ex(h->c, out, NULL);
	EVP_MD_CTX_free(h->c);
	free(h);
}
