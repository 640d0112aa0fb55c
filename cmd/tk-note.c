/*
 * tk-note - notes kept in the state file: a title, a body, tags and two
 * times each, written as note records, found by full-text search (SQLite
 * FTS5, ranked by bm25 with the title above the tags and the body, with
 * snippets), and carried to and from a directory of Markdown files with
 * front matter.  The tables and the triggers that keep their indexes in
 * step are a migration step of lib/schema.c.  Every change is audited.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "agentutils.h"

enum { O_TITLE = AU_LONG, O_BODY, O_FILE, O_TAG, O_SINCE, O_LIMIT,
	O_LITERAL, O_WHERE, O_NOAUDIT };

static const struct au_opt opts[] = {
	{ O_TITLE, "title", "TEXT", "add, edit: the title", NULL },
	{ O_BODY, "body", "TEXT", "add, edit: the body", NULL },
	{ O_FILE, "file", "FILE", "add, edit: the body from FILE (- for "
	    "standard input)", "FILE" },
	{ O_TAG, "tag", "TAG", "add: a tag of the note; list, search, "
	    "export: only notes tagged TAG", NULL },
	{ O_SINCE, "since", "TIME", "list, search, export: only notes "
	    "updated since TIME (RFC 3339, or a duration ago)", NULL },
	{ O_LIMIT, "limit", "N", "list, search: N notes at most (0: all; "
	    "search's default 20)", NULL },
	{ O_LITERAL, "literal", NULL, "search: the words as they are, not "
	    "query syntax", NULL },
	{ O_WHERE, "where", "JQ", "list, search, export: only notes for "
	    "which JQ is true", NULL },
	{ O_NOAUDIT, "no-audit", NULL, "keep the changes out of the audit "
	    "log", NULL },
	{ 0, NULL, NULL, NULL, NULL }
};

static const struct au_cmd cmd = {
	"tk-note", "add --title TEXT\n"
	"show ID ...\n"
	"edit ID\n"
	"list\n"
	"search QUERY ...\n"
	"rm ID ...\n"
	"tag ID +TAG|-TAG ...\n"
	"export DIR\n"
	"import DIR",
	"Keep notes in the state file, and search them.",
	opts, AU_USE_DB | AU_USE_TABLE,
	"add show edit list search rm tag export import"
};

/* The snippet's markers and length in tokens; the rank (bm25, weights
 * title 10, tags 5, body 1) is configured in the index. */
#define SNIPPET "snippet(tk_notes_fts, 2, '[', ']', '...', 16)"
#define COLS "n.id, n.title, n.tags, n.body, n.created, n.updated"
#define MAXTAG 64

static sqlite3 *db;
static struct au_audit *audit;
static struct au_where *where;
static int table, status;
static sqlite3_stmt *stored;	/* store()'s statement, prepared once */

/* Keep the worse status: 65 over 73 over 66 over 1. */
static void
worse(int rc)
{
	static const int rank[] = { 0, 1, EX_NOINPUT, EX_CANTCREAT,
	    EX_DATAERR };

	status = au_worse(status, rc, rank, sizeof rank / sizeof rank[0]);
}

/* ---- the state file ---- */

static sqlite3_stmt *
prep(const char *sql)
{
	sqlite3_stmt *s;
	int rc;

	if ((rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL)) != SQLITE_OK)
		au_die(au_db_error(db, rc), "%s", au_errmsg());
	return s;
}

/* sqlite3_step, dying on an error. */
static int
step(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		au_die(au_db_error(db, rc), "%s", au_errmsg());
	return rc;
}

static const char *
col(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t ? (const char *)t : "";
}

/* The note record of the row of s (COLS first). */
static jv
record(sqlite3_stmt *s)
{
	jv tags = jv_parse(col(s, 2));

	if (jv_get_kind(tags) != JV_KIND_ARRAY) {
		jv_free(tags);
		tags = jv_array();
	}
	return JV_OBJECT(jv_string("type"), jv_string("note"),
	    jv_string("id"), jv_string(col(s, 0)),
	    jv_string("title"), jv_string(col(s, 1)),
	    jv_string("tags"), tags,
	    jv_string("created"), jv_string(col(s, 4)),
	    jv_string("updated"), jv_string(col(s, 5)),
	    jv_string("body"), jv_string_sized(col(s, 3),
	    sqlite3_column_bytes(s, 3)));
}

/* The note id as a record, or jv_invalid() when there is none. */
static jv
load(const char *id)
{
	sqlite3_stmt *s = prep("SELECT " COLS " FROM tk_notes n "
	    "WHERE id = ?1");
	jv r = jv_invalid();

	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	if (step(s) == SQLITE_ROW)
		r = record(s);
	sqlite3_finalize(s);
	return r;
}

/* Append a note.event for note id to the audit log, in the transaction
 * open. */
static void
event(const char *id, const char *op)
{
	char ts[AU_TS_LEN];
	jv e;
	int rc;

	if (audit == NULL)
		return;
	e = JV_OBJECT(jv_string("type"), jv_string("note.event"),
	    jv_string("ts"), jv_string(au_ts_fmt(au_now_ms(), ts)),
	    jv_string("id"), jv_string(id), jv_string("op"), jv_string(op),
	    jv_string("by"), jv_string(au_user()));
	rc = au_audit_append(audit, e, NULL, NULL);
	jv_free(e);
	if (rc != 0) {
		au_db_rollback(db);
		au_die(rc, "audit: %s", au_errmsg());
	}
}

/* Write the note record rec (borrowed) as it stands, by its id, and
 * audit it as op: 1 if that changed the note, 0 if it was so already. */
static int
store(jv rec, const char *op)
{
	sqlite3_stmt *s = stored != NULL ? stored : (stored = prep(
	    "INSERT INTO tk_notes(id, title, tags, body, "
	    "created, updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
	    "ON CONFLICT(id) DO UPDATE SET title = excluded.title, "
	    "tags = excluded.tags, body = excluded.body, "
	    "created = excluded.created, updated = excluded.updated "
	    "WHERE title IS NOT excluded.title OR tags IS NOT excluded.tags "
	    "OR body IS NOT excluded.body OR created IS NOT excluded.created "
	    "OR updated IS NOT excluded.updated"));
	jv body = jv_object_get(jv_copy(rec), jv_string("body"));
	jv t = jv_object_get(jv_copy(rec), jv_string("tags"));
	struct au_buf tags = AU_BUF_INIT;
	const char *k[] = { "id", "title", NULL, NULL, "created", "updated" };
	int i, changed;

	au_json_dump(&tags, t);
	jv_free(t);
	for (i = 0; i < 6; i++)
		if (k[i] != NULL)
			sqlite3_bind_text(s, i + 1, au_jv_str(rec, k[i]), -1,
			    SQLITE_STATIC);
	sqlite3_bind_text(s, 3, tags.s, (int)tags.len, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, jv_string_value(body),
	    jv_string_length_bytes(jv_copy(body)), SQLITE_STATIC);
	step(s);
	sqlite3_reset(s);
	au_buf_free(&tags);
	jv_free(body);
	if ((changed = sqlite3_changes(db) > 0))
		event(au_jv_str(rec, "id"), op);
	return changed;
}

/* ---- checking what people give ---- */

/* Whether the n bytes at s are text: UTF-8 without NUL bytes.  NULL, or
 * what is wrong with *at set to the offending byte's offset. */
static const char *
badtext(const char *s, size_t n, size_t *at)
{
	const char *nul = memchr(s, '\0', n);

	*at = au_utf8_valid(s, n);
	if (nul != NULL && (size_t)(nul - s) < *at) {
		*at = (size_t)(nul - s);
		return "a NUL byte";
	}
	return *at < n ? "not valid UTF-8" : NULL;
}

/* Why t is not a tag, or NULL: 1 to MAXTAG bytes of letters, digits (any
 * script) and "_-.:/", beginning with neither '-' nor '.' (so that "tag
 * ID -t" reads as a removal). */
static const char *
badtag(const char *t)
{
	size_t i, n = strlen(t);

	if (n == 0)
		return "empty";
	if (n > MAXTAG)
		return "longer than 64 bytes";
	if (au_utf8_valid(t, n) != n)
		return "not valid UTF-8";
	if (t[0] == '-' || t[0] == '.')
		return "begins with '-' or '.'";
	for (i = 0; i < n; i++)
		if (!((unsigned char)t[i] >= 0x80 ||
		    isalnum((unsigned char)t[i]) || strchr("_-.:/", t[i])))
			return "letters, digits and \"_-.:/\" only";
	return NULL;
}

/* tags (an array of strings, consumed) sorted, each once. */
static jv
tagset(jv tags)
{
	jv out = jv_array(), prev = jv_null();

	tags = jv_sort(tags, jv_copy(tags));
	jv_array_foreach(tags, i, t) {
		if (jv_equal(jv_copy(prev), jv_copy(t))) {
			jv_free(t);
			continue;
		}
		jv_free(prev);
		prev = jv_copy(t);
		out = jv_array_append(out, t);
	}
	jv_free(prev);
	jv_free(tags);
	return out;
}

/* All of fd into b: 0, or 74 with au_errmsg() set. */
static int
readall(int fd, const char *name, struct au_buf *b)
{
	ssize_t r;

	au_buf_adds(b, "");
	for (;;) {
		au_buf_grow(b, 65536);
		r = read(fd, b->s + b->len, 65536);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return au_seterr(EX_IOERR, "%s:", name);
		if (r == 0)
			return 0;
		b->len += (size_t)r;
		b->s[b->len] = '\0';
	}
}

/* The body given: --body, else --file (- standard input), else standard
 * input.  Dies on trouble. */
static jv
xbody(const char *body, const char *file)
{
	struct au_buf b = AU_BUF_INIT;
	const char *name = file == NULL || strcmp(file, "-") == 0 ?
	    "<stdin>" : file, *bad;
	size_t at;
	int fd = STDIN_FILENO;
	jv v;

	if (body != NULL) {
		au_buf_adds(&b, body);
		name = "--body";
	} else {
		if (file != NULL && strcmp(file, "-") != 0 &&
		    (fd = open(file, O_RDONLY | O_CLOEXEC)) < 0)
			au_die(errno == ENOENT ? EX_NOINPUT : EX_IOERR, "%s:",
			    au_esc(file));
		if (readall(fd, au_esc(name), &b) != 0)
			au_die(EX_IOERR, "%s", au_errmsg());
		if (fd != STDIN_FILENO)
			close(fd);
	}
	if ((bad = badtext(b.s, b.len, &at)) != NULL)
		au_die(EX_DATAERR, "%s: the body has %s at byte %zu",
		    au_esc(name), bad, at);
	v = jv_string_sized(b.s, (int)b.len);
	au_buf_free(&b);
	return v;
}

/* Die with 64 unless title is a title. */
static void
xtitle(const char *title)
{
	size_t at;
	const char *bad;

	if (*title == '\0')
		au_usage_die(&cmd, "--title: empty");
	if ((bad = badtext(title, strlen(title), &at)) != NULL)
		au_usage_die(&cmd, "--title: %s at byte %zu", bad, at);
}

/* ---- writing notes out ---- */

/* s into b with control characters shown as '?' (line ends as ' '), for
 * a line of a table. */
static void
cleaned(struct au_buf *b, const char *s)
{
	for (; *s; s++)
		au_buf_addc(b, *s == '\n' || *s == '\t' ? ' ' :
		    (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
}

/* The note rec (borrowed) as a Markdown file with front matter. */
static void
markdown(struct au_buf *b, jv rec)
{
	const char *title = au_jv_str(rec, "title");
	jv body = jv_object_get(jv_copy(rec), jv_string("body"));
	jv tags = jv_object_get(jv_copy(rec), jv_string("tags"));
	int first = 1;

	au_buf_addf(b, "---\nid: %s\ntitle: ", au_jv_str(rec, "id"));
	au_json_str(b, title, strlen(title));
	au_buf_adds(b, "\ntags: [");
	jv_array_foreach(tags, i, t) {
		au_buf_adds(b, first ? "" : ", ");
		au_json_str(b, jv_string_value(t),
		    (size_t)jv_string_length_bytes(jv_copy(t)));
		jv_free(t);
		first = 0;
	}
	au_buf_addf(b, "]\ncreated: %s\nupdated: %s\n---\n\n",
	    au_jv_str(rec, "created"), au_jv_str(rec, "updated"));
	au_buf_add(b, jv_string_value(body),
	    (size_t)jv_string_length_bytes(jv_copy(body)));
	jv_free(tags);
	jv_free(body);
}

/* Write the note rec (consumed): a record, or for people a line (a
 * search hit with its snippet), or with full the Markdown file. */
static void
put(jv rec, int full)
{
	struct au_buf b = AU_BUF_INIT;
	const char *snip = au_jv_str(rec, "snippet");
	jv tags;

	if (!table) {
		au_out_rec(rec);
	} else if (full) {
		markdown(&b, rec);
		if (b.len > 0 && b.s[b.len - 1] != '\n')
			au_buf_addc(&b, '\n');
		au_out_text(b.s, b.len);
		au_out_eol();
	} else {
		au_buf_addf(&b, "%s  %.16s  ", au_jv_str(rec, "id"),
		    au_jv_str(rec, "updated"));
		cleaned(&b, au_jv_str(rec, "title"));
		tags = jv_object_get(jv_copy(rec), jv_string("tags"));
		jv_array_foreach(tags, i, t) {
			au_buf_adds(&b, i == 0 ? "  #" : " #");
			au_buf_adds(&b, jv_string_value(t));
			jv_free(t);
		}
		jv_free(tags);
		if (snip != NULL) {
			au_buf_adds(&b, "\n    ");
			cleaned(&b, snip);
		}
		au_out_line(b.s, b.len);
	}
	au_buf_free(&b);
	jv_free(rec);
}

/* ---- reading notes in ---- */

/* The line (from 1) of offset at in s. */
static long
lineof(const char *s, size_t at)
{
	long n = 1;
	size_t i;

	for (i = 0; i < at; i++)
		n += s[i] == '\n';
	return n;
}

/* A scalar of the front matter: "JSON", 'YAML' or plain, the n bytes at
 * v, trimmed already.  The string, or jv_invalid(). */
static jv
scalar(const char *v, size_t n)
{
	struct au_buf b = AU_BUF_INIT;
	size_t i;
	jv s;

	if (n > 0 && v[0] == '"') {
		s = jv_parse_sized(v, (int)n);
		if (jv_get_kind(s) == JV_KIND_STRING)
			return s;
		jv_free(s);
		return jv_invalid();
	}
	if (n > 0 && v[0] == '\'') {
		if (n < 2 || v[n - 1] != '\'')
			return jv_invalid();
		for (i = 1; i < n - 1; i++) {
			if (v[i] == '\'' && (i + 1 >= n - 1 || v[++i] != '\'')) {
				au_buf_free(&b);
				return jv_invalid();
			}
			au_buf_addc(&b, v[i]);
		}
		s = jv_string_sized(b.s ? b.s : "", (int)b.len);
		au_buf_free(&b);
		return s;
	}
	return jv_string_sized(v, (int)n);
}

/* The n bytes at v trimmed of blanks. */
static void
trim(const char **v, size_t *n)
{
	while (*n > 0 && (**v == ' ' || **v == '\t')) {
		(*v)++;
		(*n)--;
	}
	while (*n > 0 && ((*v)[*n - 1] == ' ' || (*v)[*n - 1] == '\t'))
		(*n)--;
}

/* Tags of the front matter: a JSON array, or a flow list of scalars. */
static jv
taglist(const char *v, size_t n)
{
	jv tags = jv_parse_sized(v, (int)n);
	const char *e;
	size_t m;

	if (jv_get_kind(tags) == JV_KIND_ARRAY)
		return tags;
	jv_free(tags);
	if (n < 2 || v[0] != '[' || v[n - 1] != ']')
		return jv_invalid();
	tags = jv_array();
	v++;
	n -= 2;
	while (n > 0) {
		e = memchr(v, ',', n);
		m = e ? (size_t)(e - v) : n;
		trim(&v, &m);
		tags = jv_array_append(tags, scalar(v, m));
		m = e ? (size_t)(e - v) + 1 : n;
		v += m;
		n -= m;
	}
	return tags;
}

/* Whether id is a ULID as au_ulid makes them. */
static int
isulid(const char *id)
{
	size_t i;

	if (strlen(id) != AU_ID_LEN - 1 || id[0] < '0' || id[0] > '7')
		return 0;
	for (i = 0; id[i]; i++)
		if (!isdigit((unsigned char)id[i]) && !(isupper(
		    (unsigned char)id[i]) && !strchr("ILOU", id[i])))
			return 0;
	return 1;
}

#define BAD(line, ...) do { au_errat(file, (line), __VA_ARGS__); \
	goto bad; } while (0)

/* The note in the n bytes of Markdown at s, read from file: a note
 * record (its id "" when the file has none, its times "" when it has
 * none), or jv_invalid() after "file:line: what". */
static jv
parse(const char *file, const char *s, size_t n)
{
	static const char *const keys[] = { "id", "title", "tags", "created",
	    "updated", NULL };
	const char *p, *end = s + n, *e = s, *v, *bad;
	jv rec = JV_OBJECT(jv_string("type"), jv_string("note"),
	    jv_string("id"), jv_string(""), jv_string("created"),
	    jv_string(""), jv_string("updated"), jv_string(""));
	jv val = jv_invalid(), tags = jv_array();
	char ts[AU_TS_LEN];
	size_t at, vn, kn;
	long line, tagline = 1;
	int seen = 0, list = 0, k;
	int64_t ms;

	if ((bad = badtext(s, n, &at)) != NULL)
		BAD(lineof(s, at), "%s", bad);
	if (n >= 5 && strncmp(s, "---\r\n", 5) == 0)
		p = s + 5;
	else if (n >= 4 && strncmp(s, "---\n", 4) == 0)
		p = s + 4;
	else
		BAD(1, "no front matter (a first line \"---\")");
	for (line = 2;; p = e + 1, line++) {
		if (p >= end)
			BAD(1, "front matter without its closing \"---\"");
		e = memchr(p, '\n', (size_t)(end - p));
		e = e ? e : end;
		vn = (size_t)(e - p);
		if (vn > 0 && p[vn - 1] == '\r')
			vn--;
		if (vn == 3 && strncmp(p, "---", 3) == 0)
			break;
		v = p;
		trim(&v, &vn);
		if (vn == 0 || v[0] == '#')
			continue;
		if (list && v != p && v[0] == '-' && (vn == 1 || v[1] == ' ')) {
			v++;
			vn--;
			trim(&v, &vn);
			tags = jv_array_append(tags, scalar(v, vn));
			continue;
		}
		list = 0;
		kn = strcspn(v, ":\n");
		if (v != p || kn >= vn)
			BAD(line, "not \"key: value\"");
		for (k = 0; keys[k] && (strlen(keys[k]) != kn ||
		    strncmp(keys[k], v, kn) != 0); k++)
			;
		if (keys[k] == NULL)
			BAD(line, "unknown key \"%.*s\"", (int)(kn > 64 ? 64 : kn),
			    v);
		if (seen & 1 << k)
			BAD(line, "%s given twice", au_quote(keys[k]));
		seen |= 1 << k;
		v += kn + 1;
		vn -= kn + 1;
		trim(&v, &vn);
		if (strcmp(keys[k], "tags") == 0) {
			tagline = line;
			list = vn == 0;
			jv_free(tags);
			tags = vn == 0 ? jv_array() : taglist(v, vn);
			if (!jv_is_valid(tags))
				BAD(line, "tags: not a list");
			continue;
		}
		if (!jv_is_valid(val = scalar(v, vn)))
			BAD(line, "%s: a bad quoted string", keys[k]);
		if (k == 0 && !isulid(jv_string_value(val)))
			BAD(line, "id: %s is not an id",
			    au_quote(jv_string_value(val)));
		if (k == 1 && jv_string_length_bytes(jv_copy(val)) == 0)
			BAD(line, "title: empty");
		if (k >= 3) {
			if (au_ts_parse(jv_string_value(val), &ms) != 0)
				BAD(line, "%s: not an RFC 3339 time", keys[k]);
			jv_free(val);
			val = jv_string(au_ts_fmt(ms, ts));
		}
		rec = jv_object_set(rec, jv_string(keys[k]), val);
		val = jv_invalid();
	}
	if (!(seen & 2))
		BAD(1, "no title");
	jv_array_foreach(tags, i, t) {
		bad = jv_get_kind(t) != JV_KIND_STRING ? "not a string" :
		    badtag(jv_string_value(t));
		jv_free(t);
		if (bad != NULL)
			BAD(tagline, "tags: item %d is not a tag (%s)", i + 1,
			    bad);
	}
	p = e < end ? e + 1 : end;
	if (p < end && *p == '\n')
		p++;
	else if (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
		p += 2;
	rec = jv_object_set(rec, jv_string("tags"), tagset(tags));
	return jv_object_set(rec, jv_string("body"),
	    jv_string_sized(p, (int)(end - p)));
bad:
	jv_free(val);
	jv_free(tags);
	jv_free(rec);
	return jv_invalid();
}

/* ---- selecting notes: list, search, export ---- */

struct sel {
	const char *query;	/* search: the FTS5 query, or NULL */
	char **tags;		/* --tag, each required */
	int ntags;
	const char *since;	/* --since as a time, or NULL */
	long limit;		/* at most so many, or -1 */
	int byid;		/* export: oldest first, not newest */
};

/* Run fn on each note that sel selects, as a record (consumed), with
 * "score" and "snippet" when searching: how many.  A bad query is 65. */
static long
selected(const struct sel *sel, void (*fn)(jv, void *), void *arg)
{
	struct au_buf sql = AU_BUF_INIT;
	sqlite3_stmt *s;
	long n = 0;
	int i, p = 1, rc = SQLITE_DONE, ok;
	jv rec;

	if (sel->query != NULL)
		au_buf_adds(&sql, "SELECT " COLS ", rank, " SNIPPET
		    " FROM tk_notes_fts JOIN tk_notes n ON n.n = "
		    "tk_notes_fts.rowid WHERE tk_notes_fts MATCH ?1");
	else
		au_buf_adds(&sql, "SELECT " COLS " FROM tk_notes n WHERE 1");
	p += sel->query != NULL;
	for (i = 0; i < sel->ntags; i++)
		au_buf_addf(&sql, " AND n.n IN (SELECT note FROM tk_note_tags "
		    "WHERE tag = ?%d)", p++);
	if (sel->since != NULL)
		au_buf_addf(&sql, " AND n.updated >= ?%d", p++);
	au_buf_addf(&sql, " ORDER BY %s LIMIT ?%d", sel->query ? "rank" :
	    sel->byid ? "n.id" : "n.updated DESC, n.id DESC", p);
	s = prep(sql.s);
	au_buf_free(&sql);
	p = 1;
	if (sel->query != NULL)
		sqlite3_bind_text(s, p++, sel->query, -1, SQLITE_STATIC);
	for (i = 0; i < sel->ntags; i++)
		sqlite3_bind_text(s, p++, sel->tags[i], -1, SQLITE_STATIC);
	if (sel->since != NULL)
		sqlite3_bind_text(s, p++, sel->since, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, p, where != NULL ? -1 : sel->limit);
	while ((sel->limit < 0 || n < sel->limit) &&
	    (rc = sqlite3_step(s)) == SQLITE_ROW) {
		rec = record(s);
		if (sel->query != NULL) {
			rec = jv_object_set(rec, jv_string("score"),
			    jv_number(-sqlite3_column_double(s, 6)));
			rec = jv_object_set(rec, jv_string("snippet"),
			    jv_string(col(s, 7)));
		}
		if (where != NULL && (ok = au_where_test(where, rec)) <= 0) {
			if (ok < 0) {
				au_err("%s: --where: %s", au_jv_str(rec, "id"),
				    au_errmsg());
				worse(EX_DATAERR);
			}
			jv_free(rec);
			continue;
		}
		n++;
		fn(rec, arg);
	}
	if (rc == SQLITE_ERROR && sel->query != NULL) {
		const char *m = sqlite3_errmsg(db);

		if (strncmp(m, "fts5: ", 6) == 0)
			m += 6;
		au_die(EX_DATAERR, "search: bad query %s: %s",
		    au_quote(sel->query), m);
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		au_die(au_db_error(db, rc), "%s", au_errmsg());
	sqlite3_finalize(s);
	return n;
}

static void
put_line(jv rec, void *arg)
{
	(void)arg;
	put(rec, 0);
}

/* The operands of search as one query, or with lit their words each as
 * a string, so that none of them is syntax. */
static char *
literal(char **argv, int argc, int lit)
{
	struct au_buf b = AU_BUF_INIT;
	const char *w;
	size_t n, j;
	int i;

	au_buf_adds(&b, "");
	for (i = 0; i < argc && !lit; i++)
		au_buf_addf(&b, "%s%s", i ? " " : "", argv[i]);
	for (i = 0; i < argc && lit; i++)
		for (w = argv[i]; *(w += strspn(w, " \t\n")); w += n) {
			n = strcspn(w, " \t\n");
			au_buf_adds(&b, b.len ? " \"" : "\"");
			for (j = 0; j < n; j++) {
				if (w[j] == '"')
					au_buf_addc(&b, '"');
				au_buf_addc(&b, w[j]);
			}
			au_buf_addc(&b, '"');
		}
	return b.s;
}

/* export: where each note goes, and the names taken. */
struct exp {
	const char *dir;
	int fd;
	struct au_map *names;
	char **keep;
	size_t nkeep, cap;
};

/* A file name for title: its letters and digits (ASCII lowered, other
 * scripts as they are), the rest as single '-', at most 64 bytes, or
 * "note"; then ".md". */
static void
slug(struct au_buf *b, const char *title)
{
	const unsigned char *t = (const unsigned char *)title;
	size_t n, i;

	for (; *t; t += n) {
		n = *t < 0x80 ? 1 : *t >= 0xf0 ? 4 : *t >= 0xe0 ? 3 : 2;
		for (i = 1; i < n && (t[i] & 0xc0) == 0x80; i++)
			;
		if (i < n || (n > 1 && (*t & 0xc0) == 0x80))
			n = 1;	/* not UTF-8 (written by hand): a '-' */
		if (b->len + n > 64)
			break;
		if (n > 1)
			au_buf_add(b, t, n);
		else if (isalnum(*t))
			au_buf_addc(b, (char)tolower(*t));
		else if (b->len > 0 && b->s[b->len - 1] != '-')
			au_buf_addc(b, '-');
	}
	while (b->len > 0 && b->s[b->len - 1] == '-')
		b->s[--b->len] = '\0';
	if (b->len == 0)
		au_buf_adds(b, "note");
}

static void
put_file(jv rec, void *arg)
{
	struct exp *x = arg;
	struct au_buf name = AU_BUF_INIT, text = AU_BUF_INIT;
	size_t off = 0;
	ssize_t w;
	int fd;

	slug(&name, au_jv_str(rec, "title"));
	if (au_map_get(x->names, name.s, name.len) >= 0)
		au_buf_addf(&name, "-%s", au_jv_str(rec, "id"));
	au_buf_adds(&name, ".md");
	x->keep = au_grow(x->keep, &x->cap, x->nkeep + 1, sizeof *x->keep);
	x->keep[x->nkeep] = au_xstrndup(name.s, name.len - 3);
	au_map_put(x->names, x->keep[x->nkeep], name.len - 3, 0);
	x->nkeep++;
	markdown(&text, rec);
	fd = openat(x->fd, name.s, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0666);
	while (fd >= 0 && off < text.len) {
		if ((w = write(fd, text.s + off, text.len - off)) < 0 &&
		    errno != EINTR)
			break;
		off += w > 0 ? (size_t)w : 0;
	}
	if (fd < 0 || off < text.len || close(fd) != 0) {
		au_err("%s/%s: cannot write:", au_esc(x->dir), au_esc(name.s));
		worse(fd < 0 ? EX_CANTCREAT : EX_IOERR);
		if (fd >= 0 && off < text.len)
			close(fd);
	} else {
		au_note("%s: %s/%s", au_jv_str(rec, "id"), au_esc(x->dir),
		    au_esc(name.s));
	}
	au_buf_free(&text);
	au_buf_free(&name);
	jv_free(rec);
}

static void
cmd_export(const char *dir, struct sel *sel)
{
	struct exp x = { dir, -1, au_map_new(64), NULL, 0, 0 };
	size_t i;

	if (mkdir(dir, 0777) != 0 && errno != EEXIST)
		au_die(EX_CANTCREAT, "%s:", au_esc(dir));
	if ((x.fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		au_die(EX_CANTCREAT, "%s:", au_esc(dir));
	sel->byid = 1;
	selected(sel, put_file, &x);
	close(x.fd);
	for (i = 0; i < x.nkeep; i++)
		free(x.keep[i]);
	free(x.keep);
	au_map_free(x.names);
}

/* ---- writing notes: add, edit, tag, rm, import ---- */

/* rec (consumed) with updated now, stored as op and written out. */
static void
save(jv rec, const char *op)
{
	char ts[AU_TS_LEN];

	rec = jv_object_set(rec, jv_string("updated"),
	    jv_string(au_ts_fmt(au_now_ms(), ts)));
	au_xdb_begin(db);
	store(rec, op);
	au_xdb_commit(db);
	put(rec, 0);
}

static void
cmd_add(const char *title, jv tags, jv body)
{
	char id[AU_ID_LEN], ts[AU_TS_LEN];

	au_ulid(id);
	au_ts_fmt(au_now_ms(), ts);
	save(JV_OBJECT(jv_string("type"), jv_string("note"),
	    jv_string("id"), jv_string(id), jv_string("title"),
	    jv_string(title), jv_string("tags"), tagset(tags),
	    jv_string("created"), jv_string(ts), jv_string("updated"),
	    jv_string(ts), jv_string("body"), body), "add");
}

/* The note id, or die with 66. */
static jv
xload(const char *id)
{
	jv rec = load(id);

	if (!jv_is_valid(rec))
		au_die(EX_NOINPUT, "no note %s", au_quote(id));
	return rec;
}

/* Whether a and b (borrowed) differ at key. */
static int
differ(jv a, jv b, const char *key)
{
	return !jv_equal(jv_object_get(jv_copy(a), jv_string(key)),
	    jv_object_get(jv_copy(b), jv_string(key)));
}

/* rec (consumed) with the title, tags and body of new (consumed) saved
 * as edited, or written out as it was when they are the same. */
static void
update(jv rec, jv new, const char *op)
{
	static const char *const keys[] = { "title", "tags", "body" };
	int i, changed = 0;

	for (i = 0; i < 3; i++)
		if (differ(rec, new, keys[i])) {
			changed = 1;
			rec = jv_object_set(rec, jv_string(keys[i]),
			    jv_object_get(jv_copy(new), jv_string(keys[i])));
		}
	jv_free(new);
	if (changed)
		save(rec, op);
	else
		put(rec, 0);
}

/* Edit the note rec (consumed) as its Markdown file in $VISUAL or
 * $EDITOR (vi), on our terminal. */
static void
cmd_editor(jv rec)
{
	const char *ed = getenv("VISUAL"), *tmp = getenv("TMPDIR");
	char *dir, *path, *argv[6];
	struct au_buf b = AU_BUF_INIT;
	struct au_spawn sp = { NULL, NULL, NULL,
	    { AU_FD_INHERIT, AU_FD_INHERIT, AU_FD_INHERIT }, 0, NULL, 0, NULL };
	struct au_proc p;
	int fd, rc;
	jv new;

	if (ed == NULL || *ed == '\0')
		ed = getenv("EDITOR");
	dir = au_xasprintf("%s/tk-note.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		au_die(EX_CANTCREAT, "%s:", au_esc(dir));
	path = au_xasprintf("%s/%s.md", dir, au_jv_str(rec, "id"));
	markdown(&b, rec);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) < 0 || write(fd, b.s, b.len) != (ssize_t)b.len ||
	    close(fd) != 0)
		au_die(EX_CANTCREAT, "%s:", au_esc(path));
	argv[0] = "/bin/sh";
	argv[1] = "-c";
	argv[2] = au_xasprintf("%s \"$1\"", ed && *ed ? ed : "vi");
	argv[3] = "sh";
	argv[4] = path;
	argv[5] = NULL;
	sp.argv = argv;
	if ((rc = au_spawn(&sp, &p)) == 0)
		rc = au_proc_wait(&p, -1, 0, NULL);
	free(argv[2]);
	if (rc != 0)
		au_die(1, "the editor ended with status %d; note %s unchanged "
		    "(the text is in %s)", rc, au_jv_str(rec, "id"),
		    au_esc(path));
	b.len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 ||
	    readall(fd, path, &b) != 0)
		au_die(EX_IOERR, "%s:", au_esc(path));
	close(fd);
	new = parse(path, b.s, b.len);
	if (!jv_is_valid(new))
		au_die(EX_DATAERR, "note %s unchanged (the text is in %s)",
		    au_jv_str(rec, "id"), au_esc(path));
	if (*au_jv_str(new, "id") != '\0' && differ(rec, new, "id"))
		au_die(EX_DATAERR, "%s: the id may not change; note %s "
		    "unchanged", au_esc(path), au_jv_str(rec, "id"));
	unlink(path);
	rmdir(dir);
	free(path);
	free(dir);
	au_buf_free(&b);
	update(rec, new, "edit");
}

static void
cmd_tag(const char *id, char **ops, int n, char *const *removals)
{
	jv rec = xload(id), tags, t;
	const char *w, *bad;
	int i, rm;
	char *const *r;

	tags = jv_object_get(jv_copy(rec), jv_string("tags"));
	for (i = 0; i < n; i++) {
		for (r = removals, rm = 0; r && *r && !rm; r++)
			rm = *r == ops[i];
		w = ops[i] + (!rm && (ops[i][0] == '+' || ops[i][0] == '-'));
		rm = rm || ops[i][0] == '-';
		if ((bad = badtag(w)) != NULL)
			au_usage_die(&cmd, "tag: %s is not a tag (%s)",
			    au_quote(w), bad);
		t = jv_array();
		jv_array_foreach(tags, j, x) {
			if (strcmp(jv_string_value(x), w) != 0)
				t = jv_array_append(t, x);
			else
				jv_free(x);
		}
		jv_free(tags);
		tags = rm ? t : jv_array_append(t, jv_string(w));
	}
	update(rec, jv_object_set(jv_copy(rec), jv_string("tags"),
	    tagset(tags)), "tag");
}

static void
cmd_rm(char **ids, int n)
{
	sqlite3_stmt *s = prep("DELETE FROM tk_notes WHERE id = ?1");
	int i;

	au_xdb_begin(db);
	for (i = 0; i < n; i++) {
		sqlite3_bind_text(s, 1, ids[i], -1, SQLITE_STATIC);
		step(s);
		sqlite3_reset(s);
		if (sqlite3_changes(db) == 0) {
			au_err("no note %s", au_quote(ids[i]));
			worse(EX_NOINPUT);
		} else {
			event(ids[i], "rm");
			au_note("%s: removed", ids[i]);
		}
	}
	sqlite3_finalize(s);
	au_xdb_commit(db);
}

/* The files import reads: *.md, not hidden. */
static int
mdfile(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 3 &&
	    strcmp(d->d_name + n - 3, ".md") == 0;
}

/* Import the file path: 0, or 65 after its "file:line: what". */
static int
import1(const char *path)
{
	struct au_buf b = AU_BUF_INIT;
	char id[AU_ID_LEN], ts[AU_TS_LEN];
	struct stat st;
	const char *c, *u;
	jv rec, old;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0 ||
	    fstat(fd, &st) != 0) {
		au_err("%s:", au_esc(path));
		if (fd >= 0)
			close(fd);
		return EX_IOERR;
	}
	if (!S_ISREG(st.st_mode)) {
		au_warn("%s: not a regular file, skipped", au_esc(path));
		close(fd);
		return 0;
	}
	if (readall(fd, au_esc(path), &b) != 0) {
		au_err("%s", au_errmsg());
		close(fd);
		au_buf_free(&b);
		return EX_IOERR;
	}
	close(fd);
	rec = parse(path, b.s, b.len);
	au_buf_free(&b);
	if (!jv_is_valid(rec))
		return EX_DATAERR;
	if (*au_jv_str(rec, "id") == '\0')
		rec = jv_object_set(rec, jv_string("id"),
		    jv_string(au_ulid(id)));
	c = au_jv_str(rec, "created");
	u = au_jv_str(rec, "updated");
	if (*c == '\0')
		rec = jv_object_set(rec, jv_string("created"),
		    jv_string(*u ? u : au_ts_fmt(au_now_ms(), ts)));
	if (*au_jv_str(rec, "updated") == '\0')
		rec = jv_object_set(rec, jv_string("updated"),
		    jv_string(au_jv_str(rec, "created")));
	/* The fields in the order of every note record. */
	old = rec;
	rec = JV_OBJECT(jv_string("type"), jv_string("note"),
	    jv_string("id"), jv_object_get(jv_copy(old), jv_string("id")),
	    jv_string("title"), jv_object_get(jv_copy(old), jv_string("title")),
	    jv_string("tags"), jv_object_get(jv_copy(old), jv_string("tags")),
	    jv_string("created"), jv_object_get(jv_copy(old),
	    jv_string("created")), jv_string("updated"),
	    jv_object_get(jv_copy(old), jv_string("updated")),
	    jv_string("body"), jv_object_get(jv_copy(old), jv_string("body")));
	jv_free(old);
	store(rec, "import");
	put(rec, 0);
	return 0;
}

static void
cmd_import(const char *dir)
{
	struct dirent **names;
	char *path;
	int i, n;

	if ((n = scandir(dir, &names, mdfile, alphasort)) < 0)
		au_die(errno == ENOENT || errno == ENOTDIR ? EX_NOINPUT :
		    EX_IOERR, "%s:", au_esc(dir));
	au_xdb_begin(db);
	for (i = 0; i < n; i++) {
		path = au_xasprintf("%s/%s", dir, names[i]->d_name);
		worse(import1(path));
		free(path);
		free(names[i]);
	}
	free(names);
	au_xdb_commit(db);
}

/* ---- the command line ---- */

/* Whether the long option word a ("--name", without "=") takes an
 * argument. */
static int
takesarg(const char *a)
{
	static const char *const shared[] = { "db", "format", "completion",
	    NULL };
	const struct au_opt *o;
	size_t n = strlen(a);
	int i;

	if (strchr(a, '=') != NULL)
		return 0;
	for (o = opts; o->name; o++)
		if (strlen(o->name) == n - 2 && strcmp(o->name, a + 2) == 0)
			return o->arg != NULL;
	for (i = 0; shared[i]; i++)
		if (strcmp(shared[i], a + 2) == 0)
			return 1;
	return 0;
}

/* "tag ID +a -b": like chmod(1) with "-w", a word that begins with one
 * '-' after the command word tag names a tag to remove, not options.
 * getopt is shown it without its '-'; the words so changed are returned
 * (NULL-ended), for cmd_tag to know them by address.  An option name
 * abbreviated before the command word hides it from this. */
static char **
removals(int argc, char **argv)
{
	char **r = NULL;
	size_t n = 0, cap = 0;
	int i;

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++)
		if (strcmp(argv[i], "--") == 0)
			return NULL;
		else if (argv[i][1] == '-' && takesarg(argv[i]))
			i++;
	if (i >= argc || strcmp(argv[i], "tag") != 0)
		return NULL;
	for (i++; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (argv[i][0] == '-' && argv[i][1] != '-' &&
		    argv[i][1] != '\0') {
			r = au_grow(r, &cap, n + 2, sizeof *r);
			r[n++] = ++argv[i];
			r[n] = NULL;
		}
	return r;
}

/* --since: an RFC 3339 time, or a duration ago. */
static const char *
since(const char *arg, char ts[AU_TS_LEN])
{
	int64_t ms;

	if (au_ts_parse(arg, &ms) == 0)
		return au_ts_fmt(ms, ts);
	if (au_dur_parse(arg, &ms) == 0)
		return au_ts_fmt(au_now_ms() - ms, ts);
	au_usage_die(&cmd, "--since: %s is neither a time nor a duration",
	    au_quote(arg));
}

int
main(int argc, char **argv)
{
	static const char *const cmds[] = { "add", "show", "edit", "list",
	    "search", "rm", "tag", "export", "import", NULL };
	/* For each command: its operands at least and at most (-1: any),
	 * and which options go with it: bit c for O_TITLE + c, the order
	 * of opts[]. */
	static const struct { int min, max; unsigned ok; } use[] = {
		{ 0, 0, 1 << 0 | 1 << 1 | 1 << 2 | 1 << 3 | 1 << 8 },
		{ 1, -1, 0 },
		{ 1, 1, 1 << 0 | 1 << 1 | 1 << 2 | 1 << 8 },
		{ 0, 0, 1 << 3 | 1 << 4 | 1 << 5 | 1 << 7 },
		{ 1, -1, 1 << 3 | 1 << 4 | 1 << 5 | 1 << 6 | 1 << 7 },
		{ 1, -1, 1 << 8 },
		{ 2, -1, 1 << 8 },
		{ 1, 1, 1 << 3 | 1 << 4 | 1 << 7 },
		{ 1, 1, 1 << 8 },
	};
	const char *arg, *title = NULL, *body = NULL, *file = NULL, *what;
	char **rms = removals(argc, argv), *query = NULL, *end, ts[AU_TS_LEN];
	struct sel sel = { NULL, NULL, 0, NULL, -1, 0 };
	unsigned given = 0;
	int c, k, lit = 0, noaudit = 0, writes;
	jv tags = jv_array();

	au_setprog(argv[0]);
	while ((c = au_getopt(&cmd, argc, argv, &arg)) != -1) {
		given |= 1u << (c - O_TITLE);
		switch (c) {
		case O_TITLE:
			title = arg;
			break;
		case O_BODY:
			body = arg;
			break;
		case O_FILE:
			file = arg;
			break;
		case O_TAG:
			if (badtag(arg) != NULL)
				au_usage_die(&cmd, "--tag: %s is not a tag (%s)",
				    au_quote(arg), badtag(arg));
			tags = jv_array_append(tags, jv_string(arg));
			sel.tags = au_xreallocarray(sel.tags, sel.ntags + 1,
			    sizeof *sel.tags);
			sel.tags[sel.ntags++] = (char *)arg;
			break;
		case O_SINCE:
			sel.since = since(arg, ts);
			break;
		case O_LIMIT:
			errno = 0;
			sel.limit = strtol(arg, &end, 10);
			if (errno || end == arg || *end || sel.limit < 0)
				au_usage_die(&cmd, "--limit: %s is not a "
				    "number", au_quote(arg));
			break;
		case O_LITERAL:
			lit = 1;
			break;
		case O_WHERE:
			where = au_xwhere_new(arg);
			break;
		case O_NOAUDIT:
			noaudit = 1;
			break;
		}
	}
	argc -= au_optind;
	argv += au_optind;
	table = au_table();
	if (argc == 0)
		au_usage_die(&cmd, "no command");
	what = argv[0];
	for (k = 0; cmds[k] && strcmp(cmds[k], what) != 0; k++)
		;
	if (cmds[k] == NULL)
		au_usage_die(&cmd, "unknown command %s", au_quote(what));
	if (argc - 1 < use[k].min || (use[k].max >= 0 &&
	    argc - 1 > use[k].max))
		au_usage_die(&cmd, "%s: %s", what, use[k].max == 0 ?
		    "takes no operands" : use[k].min == 2 ? "needs an id and "
		    "the tags to add or remove" : use[k].max == 1 ?
		    "needs one operand" : "needs operands");
	for (c = 0; c < 9; c++)
		if ((given & 1u << c) && !(use[k].ok & 1u << c))
			au_usage_die(&cmd, "--%s does not go with %s",
			    opts[c].name, what);
	if (body != NULL && file != NULL)
		au_usage_die(&cmd, "--body and --file: one or the other");
	if (title != NULL)
		xtitle(title);
	if (k == 0 && title == NULL)
		au_usage_die(&cmd, "add: needs --title");
	if (k == 2 && !title && !body && !file && !isatty(STDIN_FILENO))
		au_usage_die(&cmd, "edit: --title, --body or --file, or a "
		    "terminal for the editor");
	if (k == 4) {
		query = literal(argv + 1, argc - 1, lit);
		if (query[strspn(query, " \t\n")] == '\0')
			au_usage_die(&cmd, "search: no query");
		sel.query = query;
		if (!(given & 1u << (O_LIMIT - O_TITLE)))
			sel.limit = 20;
	}
	if (sel.limit == 0)
		sel.limit = -1;
	au_out_init();
	db = au_xdb_open();
	writes = k == 0 || k == 2 || k == 5 || k == 6 || k == 8;
	/* Reading, each page is wanted once (a search's: the index, the
	 * size of every match for bm25, the notes kept): a small cache
	 * recycles its buffers where a large one takes new memory for each
	 * page, and a page fault costs more than the read (300 of them, 6ms,
	 * for a search of 100,000 notes in a VM). */
	if (!writes && (c = au_db_exec(db, "PRAGMA cache_size = 32")) != 0)
		au_die(c, "%s", au_errmsg());
	if (writes && !noaudit)
		audit = au_xaudit_open(db, "audit-write --init makes the keys; "
		    "--no-audit says not to audit");
	switch (k) {
	case 0:
		cmd_add(title, jv_copy(tags), xbody(body, file));
		break;
	case 1:
		for (c = 1; c < argc; c++) {
			jv rec = load(argv[c]);

			if (jv_is_valid(rec)) {
				put(rec, 1);
			} else {
				au_err("no note %s", au_quote(argv[c]));
				worse(EX_NOINPUT);
			}
		}
		break;
	case 2:
		if (title || body || file) {
			jv rec = xload(argv[1]), new = jv_copy(rec);

			if (title)
				new = jv_object_set(new, jv_string("title"),
				    jv_string(title));
			if (body || file)
				new = jv_object_set(new, jv_string("body"),
				    xbody(body, file));
			update(rec, new, "edit");
		} else {
			cmd_editor(xload(argv[1]));
		}
		break;
	case 3:
		selected(&sel, put_line, NULL);
		break;
	case 4:
		if (selected(&sel, put_line, NULL) == 0)
			worse(1);
		break;
	case 5:
		cmd_rm(argv + 1, argc - 1);
		break;
	case 6:
		cmd_tag(argv[1], argv + 2, argc - 2, rms);
		break;
	case 7:
		cmd_export(argv[1], &sel);
		break;
	case 8:
		cmd_import(argv[1]);
		break;
	}
	if (audit != NULL && au_audit_close(audit) != 0)
		au_die(EX_IOERR, "audit: %s", au_errmsg());
	jv_free(tags);
	free(query);
	free(sel.tags);
	free(rms);
	au_where_free(where);
	sqlite3_finalize(stored);
	au_db_close(db);
	au_out_close();
	return status;
}
