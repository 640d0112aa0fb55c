/*
 * ws.c - workspace sessions in the state file: the ws_sessions table
 * (one row per terminal, browser or file session) and its transcript
 * ws_events, the runtime directory where holders of detached sessions
 * put their sockets, and the check that a session's holder is still
 * there; and what every holder and its clients do alike: leaving the
 * command for a holder, listening, serving one client at a time, and
 * attaching to a holder with records both ways.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "agentutils.h"

static const char *const kinds[] = { "terminal", "browser", "file", NULL };
static const char *const states[] = { "running", "detached", "exited",
    "dead", "killed", "open", "closed", NULL };

static int
among(const char *s, const char *const *list)
{
	int i;

	for (i = 0; s != NULL && list[i] != NULL; i++)
		if (strcmp(s, list[i]) == 0)
			return 1;
	return 0;
}

int
au_ws_final(const char *state)
{
	return state != NULL && (strcmp(state, "exited") == 0 ||
	    strcmp(state, "dead") == 0 || strcmp(state, "killed") == 0 ||
	    strcmp(state, "closed") == 0);
}

/* The columns a caller may set, and whether each holds an integer. */
static const struct {
	const char *name;
	int integer;
} cols[] = {
	{ "kind", 0 }, { "state", 0 }, { "pid", 1 }, { "holder_pid", 1 },
	{ "socket", 0 }, { "argv", 0 }, { "cwd", 0 }, { "cols", 1 },
	{ "rows", 1 }, { "cast", 0 }, { "exit_code", 1 }, { "signal", 0 },
	{ "root", 0 },
};
#define NCOLS (sizeof cols / sizeof cols[0])

/* Check the members of f (borrowed) that name columns: 0 or 65. */
static int
check(jv f)
{
	size_t i;

	if (jv_get_kind(f) != JV_KIND_OBJECT)
		return au_seterr(EX_DATAERR, "session fields: not an object");
	for (i = 0; i < NCOLS; i++) {
		jv v = jv_object_get(jv_copy(f), jv_string(cols[i].name));
		int ok = !jv_is_valid(v) || jv_get_kind(v) == JV_KIND_NULL ||
		    (cols[i].integer ? au_jv_isint(v) :
		    strcmp(cols[i].name, "argv") == 0 ?
		    jv_get_kind(v) == JV_KIND_ARRAY :
		    jv_get_kind(v) == JV_KIND_STRING);

		jv_free(v);
		if (!ok)
			return au_seterr(EX_DATAERR, "session fields: bad %s",
			    cols[i].name);
	}
	if (au_jv_str(f, "kind") && !among(au_jv_str(f, "kind"), kinds))
		return au_seterr(EX_DATAERR, "unknown session kind %s",
		    au_quote(au_jv_str(f, "kind")));
	if (au_jv_str(f, "state") && !among(au_jv_str(f, "state"), states))
		return au_seterr(EX_DATAERR, "unknown session state %s",
		    au_quote(au_jv_str(f, "state")));
	return 0;
}

/* Bind member name of f (borrowed) to parameter i of s. */
static void
bindcol(sqlite3_stmt *s, int i, jv f, size_t c)
{
	jv v = jv_object_get(jv_copy(f), jv_string(cols[c].name));

	if (!jv_is_valid(v) || jv_get_kind(v) == JV_KIND_NULL) {
		sqlite3_bind_null(s, i);
	} else if (cols[c].integer) {
		sqlite3_bind_int64(s, i, (int64_t)jv_number_value(v));
	} else if (jv_get_kind(v) == JV_KIND_ARRAY) {
		struct au_buf b = AU_BUF_INIT;

		au_json_dump(&b, v);
		sqlite3_bind_text(s, i, b.s, (int)b.len, free);
	} else {
		sqlite3_bind_text(s, i, jv_string_value(v), -1,
		    SQLITE_TRANSIENT);
	}
	jv_free(v);
}

int
au_ws_create(sqlite3 *db, jv fields, char id[AU_ID_LEN])
{
	struct au_buf q = AU_BUF_INIT;
	sqlite3_stmt *s;
	int64_t now = au_now_ms();
	size_t i;
	int rc;

	if ((rc = check(fields)) != 0 ||
	    (!au_jv_str(fields, "kind") &&
	    (rc = au_seterr(EX_DATAERR, "session fields: no kind")) != 0)) {
		jv_free(fields);
		return rc;
	}
	au_ulid(id);
	au_buf_adds(&q, "INSERT INTO ws_sessions (id, created, updated");
	for (i = 0; i < NCOLS; i++)
		au_buf_addf(&q, ", \"%s\"", cols[i].name);
	au_buf_adds(&q, ") VALUES (?1, ?2, ?2");
	for (i = 0; i < NCOLS; i++)
		au_buf_addf(&q, ", ?%zu", i + 3);
	au_buf_adds(&q, ")");
	rc = sqlite3_prepare_v2(db, q.s, -1, &s, NULL);
	au_buf_free(&q);
	if (rc != SQLITE_OK) {
		jv_free(fields);
		return au_db_error(db, rc);
	}
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now);
	if (!au_jv_str(fields, "state"))
		fields = jv_object_set(fields, jv_string("state"),
		    jv_string("running"));
	for (i = 0; i < NCOLS; i++)
		bindcol(s, (int)i + 3, fields, i);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	jv_free(fields);
	return rc == SQLITE_DONE ? 0 : au_db_error(db, rc);
}

int
au_ws_update(sqlite3 *db, const char *id, jv fields)
{
	struct au_buf q = AU_BUF_INIT;
	sqlite3_stmt *s;
	size_t i, set[NCOLS], n = 0;
	int rc;

	if ((rc = check(fields)) != 0) {
		jv_free(fields);
		return rc;
	}
	au_buf_adds(&q, "UPDATE ws_sessions SET updated = ?2");
	for (i = 0; i < NCOLS; i++) {
		jv v = jv_object_get(jv_copy(fields),
		    jv_string(cols[i].name));

		if (jv_is_valid(v)) {
			set[n++] = i;
			au_buf_addf(&q, ", \"%s\" = ?%zu", cols[i].name,
			    n + 2);
		}
		jv_free(v);
	}
	if (au_ws_final(au_jv_str(fields, "state")))
		au_buf_adds(&q, ", ended = coalesce(ended, ?2)");
	au_buf_adds(&q, " WHERE id = ?1");
	rc = sqlite3_prepare_v2(db, q.s, -1, &s, NULL);
	au_buf_free(&q);
	if (rc != SQLITE_OK) {
		jv_free(fields);
		return au_db_error(db, rc);
	}
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, au_now_ms());
	for (i = 0; i < n; i++)
		bindcol(s, (int)i + 3, fields, set[i]);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	jv_free(fields);
	if (rc != SQLITE_DONE)
		return au_db_error(db, rc);
	if (sqlite3_changes(db) == 0)
		return au_seterr(EX_NOINPUT, "no session %s", au_quote(id));
	return 0;
}

static const char sel[] = "SELECT id, kind, state, pid, holder_pid, socket, "
    "argv, cwd, cols, rows, \"cast\", created, updated, ended, "
    "exit_code, signal, root FROM ws_sessions";

/* The session record of the current row of s (selected with sel). */
static jv
row(sqlite3_stmt *s)
{
	jv r = jv_object_set(jv_object(), jv_string("type"),
	    jv_string("session"));
	char ts[AU_TS_LEN];
	int i;

	for (i = 0; i < sqlite3_column_count(s); i++) {
		const char *name = sqlite3_column_name(s, i);
		const char *v = (const char *)sqlite3_column_text(s, i);
		int t = sqlite3_column_type(s, i);

		if (t == SQLITE_NULL)
			continue;
		if (strcmp(name, "created") == 0 ||
		    strcmp(name, "updated") == 0 || strcmp(name, "ended") == 0)
			r = jv_object_set(r, jv_string(name), jv_string(
			    au_ts_fmt(sqlite3_column_int64(s, i), ts)));
		else if (strcmp(name, "argv") == 0)
			r = jv_object_set(r, jv_string(name), jv_parse(v));
		else if (t == SQLITE_INTEGER)
			r = jv_object_set(r, jv_string(name),
			    jv_number((double)sqlite3_column_int64(s, i)));
		else
			r = jv_object_set(r, jv_string(name), jv_string(v));
	}
	return r;
}

/* The records of query q (one text parameter arg, or none) in *list. */
static int
query(sqlite3 *db, const char *q, const char *arg, jv (*fn)(sqlite3_stmt *),
    jv *list)
{
	sqlite3_stmt *s;
	int rc;

	*list = jv_array();
	if ((rc = sqlite3_prepare_v2(db, q, -1, &s, NULL)) != SQLITE_OK)
		return au_db_error(db, rc);
	if (arg != NULL)
		sqlite3_bind_text(s, 1, arg, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		*list = jv_array_append(*list, fn(s));
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : au_db_error(db, rc);
}

int
au_ws_get(sqlite3 *db, const char *id, jv *rec)
{
	char q[512];
	jv list;
	int rc;

	*rec = jv_invalid();
	snprintf(q, sizeof q, "%s WHERE id = ?1", sel);
	if ((rc = query(db, q, id, row, &list)) != 0) {
		jv_free(list);
		return rc;
	}
	if (jv_array_length(jv_copy(list)) == 0) {
		jv_free(list);
		return au_seterr(EX_NOINPUT, "no session %s", au_quote(id));
	}
	*rec = jv_array_get(list, 0);
	return 0;
}

int
au_ws_list(sqlite3 *db, const char *state, jv *list)
{
	char q[512];

	snprintf(q, sizeof q, "%s%s ORDER BY id", sel,
	    state ? " WHERE state = ?1" : "");
	return query(db, q, state, row, list);
}

int
au_ws_log(sqlite3 *db, const char *id, const char *kind, jv rec,
    const char *data, size_t n, int64_t bytes, const char *sha256)
{
	struct au_buf b = AU_BUF_INIT;
	char ts[32], nb[32], *text = NULL;
	int rc;

	if (jv_is_valid(rec) && jv_get_kind(rec) != JV_KIND_NULL)
		au_json_dump(&b, rec);
	jv_free(rec);
	snprintf(ts, sizeof ts, "%lld", (long long)au_now_ms());
	snprintf(nb, sizeof nb, "%lld", (long long)bytes);
	if (data != NULL) {
		size_t all = n;

		/* Cut at a character's start, never inside one. */
		if (n > AU_WS_KEEP)
			n = AU_WS_KEEP;
		while (n > 0 && n < all &&
		    ((unsigned char)data[n] & 0xC0) == 0x80)
			n--;
		text = au_xstrndup(data, n);
	}
	rc = au_db_run(db, "INSERT INTO ws_events (session_id, seq, ts, kind, "
	    "record, data, bytes, sha256) VALUES (?1, (SELECT "
	    "coalesce(max(seq), 0) + 1 FROM ws_events WHERE session_id = ?1), "
	    "CAST(?2 AS INTEGER), ?3, ?4, ?5, CAST(?6 AS INTEGER), ?7)", NULL,
	    7, id, ts, kind, b.len ? b.s : NULL, text, bytes >= 0 ? nb : NULL,
	    sha256);
	free(text);
	au_buf_free(&b);
	return rc;
}

/* The session.event record of the current row of s. */
static jv
event(sqlite3_stmt *s)
{
	char ts[AU_TS_LEN];
	jv r = JV_OBJECT(jv_string("type"), jv_string("session.event"),
	    jv_string("id"), jv_string((const char *)sqlite3_column_text(s,
	    0)), jv_string("seq"), jv_number((double)sqlite3_column_int64(s,
	    1)), jv_string("ts"), jv_string(au_ts_fmt(sqlite3_column_int64(s,
	    2), ts)), jv_string("kind"),
	    jv_string((const char *)sqlite3_column_text(s, 3)));

	if (sqlite3_column_type(s, 4) != SQLITE_NULL)
		r = jv_object_set(r, jv_string("record"), jv_parse((const char *)
		    sqlite3_column_text(s, 4)));
	if (sqlite3_column_type(s, 5) != SQLITE_NULL)
		r = jv_object_set(r, jv_string("data"), jv_string((const char *)
		    sqlite3_column_text(s, 5)));
	if (sqlite3_column_type(s, 6) != SQLITE_NULL)
		r = jv_object_set(r, jv_string("bytes"),
		    jv_number((double)sqlite3_column_int64(s, 6)));
	if (sqlite3_column_type(s, 7) != SQLITE_NULL)
		r = jv_object_set(r, jv_string("sha256"), jv_string((const char *)
		    sqlite3_column_text(s, 7)));
	return r;
}

int
au_ws_transcript(sqlite3 *db, const char *id, jv *list)
{
	return query(db, "SELECT session_id, seq, ts, kind, record, data, "
	    "bytes, sha256 FROM ws_events WHERE session_id = ?1 ORDER BY seq",
	    id, event, list);
}

int
au_ws_alive(pid_t holder, const char *path)
{
	struct sockaddr_un a;
	int fd, ok;

	if (holder <= 0 || (kill(holder, 0) != 0 && errno == ESRCH))
		return 0;
	if (path == NULL)
		return 1;
	if (strlen(path) >= sizeof a.sun_path)
		return 0;
	memset(&a, 0, sizeof a);
	a.sun_family = AF_UNIX;
	strcpy(a.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 1;
	ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
	close(fd);
	return ok;
}

void
au_ws_clear(jv rec)
{
	const char *kind = au_jv_str(rec, "kind"), *cwd = au_jv_str(rec,
	    "cwd"), *base;

	if (kind == NULL || strcmp(kind, "browser") != 0 || cwd == NULL ||
	    *cwd != '/')
		return;
	base = strrchr(cwd, '/') + 1;
	if (strncmp(base, "ws-browser.", 11) == 0)
		(void)au_rmtree(cwd);
}

int
au_ws_reap(sqlite3 *db, int *n)
{
	jv list, r;
	int rc = 0, i, len;

	*n = 0;
	if ((rc = au_ws_list(db, NULL, &list)) != 0) {
		jv_free(list);
		return rc;
	}
	len = jv_array_length(jv_copy(list));
	for (i = 0; i < len && rc == 0; i++) {
		jv h;
		pid_t pid;

		r = jv_array_get(jv_copy(list), i);
		h = jv_object_get(jv_copy(r), jv_string("holder_pid"));
		pid = jv_get_kind(h) == JV_KIND_NUMBER ?
		    (pid_t)jv_number_value(h) : 0;
		jv_free(h);
		/* A file session has no holder to lose. */
		if (!au_ws_final(au_jv_str(r, "state")) &&
		    strcmp(au_jv_str(r, "kind"), "file") != 0 &&
		    !au_ws_alive(pid, au_jv_str(r, "socket"))) {
			rc = au_ws_update(db, au_jv_str(r, "id"), JV_OBJECT(
			    jv_string("state"), jv_string("dead")));
			(*n)++;
		}
		jv_free(r);
	}
	jv_free(list);
	return rc;
}

int
au_ws_rundir(char **dir)
{
	const char *x = getenv("XDG_RUNTIME_DIR");
	struct stat st;
	char *d;

	if (x != NULL && *x == '/')
		d = au_xasprintf("%s/agentutils", x);
	else
		d = au_xasprintf("/tmp/agentutils-%ld", (long)getuid());
	if (mkdir(d, 0700) != 0 && errno != EEXIST) {
		int rc = au_seterr(EX_CANTCREAT, "%s:", d);

		free(d);
		return rc;
	}
	if (lstat(d, &st) != 0 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != getuid() || (st.st_mode & 077) != 0) {
		int rc = au_seterr(EX_CONFIG, "%s: not a directory of ours "
		    "with mode 0700", d);

		free(d);
		return rc;
	}
	*dir = d;
	return 0;
}

/* ---- holders of detached sessions and their clients ---- */

struct au_ws_holder {
	char *dir;		/* the runtime directory, then the socket */
	int word;		/* the pipe to the command waiting for us */
	int lsock, conn;	/* listening; the client's, or -1 */
	int bad;		/* the client cannot be written to */
	struct au_in *in;	/* the client's records */
	char id[AU_ID_LEN];
};

struct au_ws_holder *
au_ws_xdetach(void)
{
	struct au_ws_holder *h;
	char word[1 + AU_ID_LEN], *dir;
	pid_t pid;
	ssize_t n;
	jv r;
	int p[2], fd, st, rc;
	struct sqlite3 *db;

	if ((rc = au_ws_rundir(&dir)) != 0)
		au_die(rc, "%s", au_errmsg());
	fflush(NULL);
	if (pipe2(p, O_CLOEXEC) != 0)
		au_die(EX_OSERR, "pipe:");
	if ((pid = fork()) < 0)
		au_die(EX_OSERR, "fork:");
	if (pid == 0) {
		close(p[0]);
		if (setsid() < 0 || (pid = fork()) < 0)
			_exit(EX_OSERR);
		if (pid > 0)
			_exit(0);
		if ((fd = open("/dev/null", O_RDWR)) < 0 ||
		    dup2(fd, STDIN_FILENO) < 0 || dup2(fd, STDOUT_FILENO) < 0)
			au_die(EX_OSERR, "/dev/null:");
		if (fd > 2)
			close(fd);
		if (p[1] != 3 && dup3(p[1], 3, O_CLOEXEC) < 0)
			au_die(EX_OSERR, "dup:");
		close_range(4, ~0U, 0);
		h = au_xcalloc(1, sizeof *h);
		h->dir = dir;
		h->word = 3;
		h->lsock = h->conn = -1;
		return h;
	}
	close(p[1]);
	waitpid(pid, &st, 0);
	while ((n = read(p[0], word, sizeof word)) < 0 && errno == EINTR)
		;
	close(p[0]);
	free(dir);
	if (n != (ssize_t)sizeof word)
		au_die(EX_SOFTWARE, "the holder did not start");
	if (word[0] != 0)
		exit((unsigned char)word[0]);
	au_out_init();
	db = au_xdb_open();
	if ((rc = au_ws_get(db, word + 1, &r)) != 0)
		au_die(rc, "%s", au_errmsg());
	au_out_rec(r);
	jv_free(r);
	au_db_close(db);
	au_out_close();
	exit(0);
}

void
au_ws_xlisten(struct au_ws_holder *h, struct sqlite3 *db, const char *id,
    int code)
{
	struct sockaddr_un a;
	char word[1 + AU_ID_LEN] = { 0 };
	char *path;
	int fd, rc;

	if (code == 0) {
		path = au_xasprintf("%s/%s", h->dir, id);
		free(h->dir);
		h->dir = path;
		memset(&a, 0, sizeof a);
		a.sun_family = AF_UNIX;
		if (strlen(path) >= sizeof a.sun_path)
			au_die(EX_CONFIG, "%s: too long for a socket", path);
		strcpy(a.sun_path, path);
		if ((h->lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC,
		    0)) < 0 || bind(h->lsock, (struct sockaddr *)&a,
		    sizeof a) != 0 || chmod(path, 0600) != 0 ||
		    listen(h->lsock, 8) != 0)
			au_die(EX_CANTCREAT, "%s:", path);
		if ((rc = au_ws_update(db, id, JV_OBJECT(jv_string("socket"),
		    jv_string(path)))) != 0)
			au_die(rc, "%s", au_errmsg());
		memcpy(h->id, id, AU_ID_LEN);
		memcpy(word + 1, id, AU_ID_LEN);
	}
	word[0] = (char)code;
	if (write(h->word, word, sizeof word) != (ssize_t)sizeof word)
		au_die(EX_OSERR, "holder:");
	close(h->word);
	h->word = -1;
	if ((fd = open("/dev/null", O_WRONLY)) < 0 ||
	    dup2(fd, STDERR_FILENO) < 0)
		au_die(EX_OSERR, "/dev/null:");
	close(fd);
}

int
au_ws_fd(const struct au_ws_holder *h)
{
	return h->lsock;
}

/* The session.error record of h's session, status code, about msg. */
static void
holder_error(struct au_ws_holder *h, int fd, long line, int code,
    const char *msg)
{
	struct au_buf b = AU_BUF_INIT;
	char ts[AU_TS_LEN];
	size_t off = 0;
	ssize_t k;

	au_buf_addf(&b, "{\"type\":\"session.error\",\"id\":\"%s\","
	    "\"ts\":\"%s\"", h->id, au_ts_fmt(au_now_ms(), ts));
	if (line > 0)
		au_buf_addf(&b, ",\"line\":%ld", line);
	au_buf_addf(&b, ",\"status\":%d,\"error\":", code);
	au_json_str(&b, msg, strlen(msg));
	au_buf_adds(&b, "}\n");
	while (off < b.len && (k = send(fd, b.s + off, b.len - off,
	    MSG_NOSIGNAL)) != 0) {
		if (k < 0 && errno != EINTR)
			break;
		off += k > 0 ? (size_t)k : 0;
	}
	au_buf_free(&b);
}

struct au_in *
au_ws_accept(struct au_ws_holder *h, void (*notify)(void *), void *arg)
{
	int fd = accept4(h->lsock, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (h->conn >= 0) {
		holder_error(h, fd, 0, EX_TEMPFAIL,
		    "the session is attached elsewhere");
		close(fd);
		return NULL;
	}
	h->conn = fd;
	h->bad = 0;
	h->in = au_in_fdopen(fd, "<session>");
	au_in_notify(h->in, notify, arg);
	return h->in;
}

void
au_ws_send(struct au_ws_holder *h, const char *s, size_t n)
{
	struct au_buf b = AU_BUF_INIT;
	size_t off = 0;
	ssize_t k;

	if (h->conn < 0 || h->bad)
		return;
	au_buf_add(&b, s, n);
	au_buf_addc(&b, '\n');
	while (off < b.len) {
		if ((k = send(h->conn, b.s + off, b.len - off,
		    MSG_NOSIGNAL)) < 0) {
			if (errno == EINTR)
				continue;
			h->bad = 1;
			break;
		}
		off += (size_t)k;
	}
	au_buf_free(&b);
}

void
au_ws_error(struct au_ws_holder *h, long line, int code, const char *msg)
{
	if (h->conn >= 0 && !h->bad)
		holder_error(h, h->conn, line, code, msg);
}

void
au_ws_drop(struct au_ws_holder *h)
{
	if (h->conn < 0)
		return;
	au_in_close(h->in);
	h->in = NULL;
	close(h->conn);
	h->conn = -1;
	h->bad = 0;
}

void
au_ws_close(struct au_ws_holder *h)
{
	au_ws_drop(h);
	if (h->lsock >= 0) {
		close(h->lsock);
		unlink(h->dir);
	}
	free(h->dir);
	free(h);
}

static void
attach_wake(void *arg)
{
	int e = errno;

	(void)!write(*(int *)arg, "", 1);
	errno = e;
}

/* Connect to the holder of session id, of kind: the socket's fd, or -1
 * with *rc an exit code and au_errmsg() set; a holder found gone makes
 * the session dead and its socket removed. */
static int
holder_connect(struct sqlite3 *db, const char *id, const char *kind, int *rc)
{
	struct sockaddr_un a;
	const char *path = NULL;
	pid_t hp;
	int fd, n;
	jv r, v;

	if ((*rc = au_ws_get(db, id, &r)) != 0)
		return -1;
	if (strcmp(au_jv_str(r, "kind"), kind) != 0)
		*rc = au_seterr(EX_UNAVAILABLE, "session %s is a %s session",
		    id, au_jv_str(r, "kind"));
	else if (au_ws_final(au_jv_str(r, "state")))
		*rc = au_seterr(EX_UNAVAILABLE, "session %s has ended (%s)", id,
		    au_jv_str(r, "state"));
	else if ((path = au_jv_str(r, "socket")) == NULL)
		*rc = au_seterr(EX_UNAVAILABLE, "session %s is not detached",
		    id);
	if (*rc != 0) {
		jv_free(r);
		return -1;
	}
	v = jv_object_get(jv_copy(r), jv_string("holder_pid"));
	hp = jv_get_kind(v) == JV_KIND_NUMBER ? (pid_t)jv_number_value(v) : 0;
	jv_free(v);
	memset(&a, 0, sizeof a);
	a.sun_family = AF_UNIX;
	snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		*rc = au_seterr(EX_OSERR, "socket:");
	} else if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
		*rc = au_seterr(EX_UNAVAILABLE, "session %s: %s:", id, path);
		close(fd);
		fd = -1;
		if (!au_ws_alive(hp, path)) {
			if ((*rc = au_ws_reap(db, &n)) == 0)
				*rc = au_seterr(EX_UNAVAILABLE, "session %s: "
				    "its holder is gone; marked dead", id);
			unlink(path);
		}
	}
	jv_free(r);
	return fd;
}

/* Send the n bytes at s to fd, all of them unless it has gone. */
static void
sendall(int fd, const char *s, size_t n)
{
	ssize_t k;

	while (n > 0) {
		if ((k = send(fd, s, n, MSG_NOSIGNAL)) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		s += k;
		n -= (size_t)k;
	}
}

int
au_ws_attach(struct sqlite3 *db, const char *id, const char *kind,
    char *const *files, int nfiles,
    int (*keep)(struct au_in *, struct au_rec *, void *),
    void (*fn)(jv, void *), void *arg, int *instatus)
{
	struct au_buf b = AU_BUF_INIT, out = AU_BUF_INIT;
	const char *file = NULL;
	struct au_in *in;
	struct au_rec rec;
	long last = 0;
	int fd, rc, eof = 0, wake[2];
	char *nl;

	*instatus = 0;
	if ((fd = holder_connect(db, id, kind, &rc)) < 0)
		return rc;
	if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0) {
		close(fd);
		return au_seterr(EX_OSERR, "pipe:");
	}
	in = au_in_open(files, nfiles);
	au_in_notify(in, attach_wake, &wake[1]);
	for (;;) {
		struct pollfd pf[2] = { { eof ? -1 : wake[0], POLLIN, 0 },
		    { fd, POLLIN, 0 } };
		char buf[65536];
		ssize_t n;

		/* Line numbers are kept: a line not sent (blank, bad, or
		 * not for the holder) goes as an empty one. */
		while (!eof && au_in_wait(in, 0)) {
			if (!au_in_next(in, &rec)) {
				eof = 1;
				shutdown(fd, SHUT_WR);
				break;
			}
			if (rec.file != file && file != NULL)
				last = rec.line - 1;
			file = rec.file;
			b.len = 0;
			for (; last < rec.line - 1; last++)
				au_buf_addc(&b, '\n');
			if (keep == NULL || keep(in, &rec, arg)) {
				au_json_dump(&b, rec.v);
				au_buf_addc(&b, '\n');
				last = rec.line;
			}
			sendall(fd, b.s, b.len);
			jv_free(rec.v);
		}
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			rc = au_seterr(EX_OSERR, "poll:");
			break;
		}
		if (pf[0].revents)
			while (read(wake[0], buf, sizeof buf) > 0)
				;
		if (!pf[1].revents)
			continue;
		if ((n = read(fd, buf, sizeof buf)) <= 0)
			break;
		au_buf_add(&out, buf, (size_t)n);
		while ((nl = memchr(out.s, '\n', out.len)) != NULL) {
			size_t len = (size_t)(nl - out.s);
			jv v;

			au_out_line(out.s, len);
			v = jv_parse_sized(out.s, (int)len);
			if (jv_get_kind(v) == JV_KIND_OBJECT)
				fn(v, arg);
			jv_free(v);
			memmove(out.s, nl + 1, out.len - len - 1);
			out.len -= len + 1;
		}
	}
	close(fd);
	*instatus = au_in_status(in);
	au_in_close(in);
	close(wake[0]);
	close(wake[1]);
	au_buf_free(&b);
	au_buf_free(&out);
	return rc;
}
