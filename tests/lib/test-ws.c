/*
 * test-ws.c - ws.c, workspace sessions in a state file in a mkdtemp
 * directory: creating sessions (fields checked, ids sortable, the record
 * as stored), updating them (a final state sets ended once, an unknown
 * id 66), listing by state, the transcript (input records, output
 * segments cut at AU_WS_KEEP on a character's start), the liveness of a
 * holder (a live process, a gone one, a socket that listens and one that
 * does not), reaping dead holders, the runtime directory (made 0700,
 * the fallback without XDG_RUNTIME_DIR, one of the wrong mode refused),
 * and a holder of a detached session (an echoing one) with its clients:
 * the session record printed, records both ways with their line
 * numbers kept, a second client refused, the end, and what an attach
 * refuses (no session, another kind, ended, not detached, a holder
 * gone); file sessions (a root, open until closed, never reaped) and the
 * migration that brought them, which keeps the sessions and transcripts
 * of a state file made before it.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <sqlite3.h>

#include "agentutils.h"
#include "schema.h"
#include "tap.h"
#include "testutil.h"

static sqlite3 *db;

static void
bail(const char *what)
{
	printf("Bail out! %s (%s)\n", what, au_errmsg());
	exit(2);
}

static jv
get(const char *id)
{
	jv rec;

	if (au_ws_get(db, id, &rec) != 0)
		bail(id);
	return rec;
}

/* Member key of session id as compact JSON (malloc'd), or "absent". */
static char *
field(const char *id, const char *key)
{
	struct au_buf b = AU_BUF_INIT;
	jv v = jv_object_get(get(id), jv_string(key));

	if (!jv_is_valid(v)) {
		jv_free(v);
		return au_xstrdup("absent");
	}
	au_json_dump(&b, v);
	jv_free(v);
	return b.s;
}

static char t1[AU_ID_LEN], t2[AU_ID_LEN], b1[AU_ID_LEN];

static void
test_create(void)
{
	char bad[AU_ID_LEN];

	is_int(au_ws_create(db, JV_OBJECT(jv_string("kind"),
	    jv_string("terminal"), jv_string("pid"), jv_number(123),
	    jv_string("holder_pid"), jv_number(getpid()), jv_string("argv"),
	    JV_ARRAY(jv_string("bash"), jv_string("-i")), jv_string("cwd"),
	    jv_string("/tmp"), jv_string("cols"), jv_number(80),
	    jv_string("rows"), jv_number(24)), t1), 0, "create: a terminal");
	is_int(strlen(t1), 26, "create: its id is a ULID (%s)", t1);
	is_int(au_ws_create(db, JV_OBJECT(jv_string("kind"),
	    jv_string("browser"), jv_string("state"), jv_string("detached")),
	    b1), 0, "create: a detached browser");
	is_int(au_ws_create(db, JV_OBJECT(jv_string("kind"),
	    jv_string("terminal"), jv_string("holder_pid"),
	    jv_number(getpid())), t2), 0, "create: another terminal");
	ok(strcmp(t1, b1) < 0 && strcmp(b1, t2) < 0,
	    "create: ids sort in the order made");
	is_str_free(field(t1, "type"), "\"session\"", "get: a session record");
	is_str_free(field(t1, "state"), "\"running\"", "get: running at first");
	is_str_free(field(t1, "argv"), "[\"bash\",\"-i\"]",
	    "get: argv as an array");
	is_str_free(field(t1, "cols"), "80", "get: cols as a number");
	is_str_free(field(t1, "cwd"), "\"/tmp\"", "get: cwd");
	is_str_free(field(t1, "ended"), "absent", "get: not ended");
	is_str_free(field(t1, "socket"), "absent", "get: no socket");
	is_str_free(field(b1, "state"), "\"detached\"", "get: state given");

	is_int(au_ws_create(db, JV_OBJECT(jv_string("kind"),
	    jv_string("shell")), bad), EX_DATAERR, "create: unknown kind, 65");
	is_str(au_errmsg(), "unknown session kind \"shell\"", "create: says so");
	is_int(au_ws_create(db, JV_OBJECT(jv_string("kind"),
	    jv_string("file"), jv_string("state"), jv_string("asleep")), bad),
	    EX_DATAERR, "create: unknown state, 65");
	is_int(au_ws_create(db, JV_OBJECT(jv_string("kind"),
	    jv_string("file"), jv_string("cols"), jv_string("80")), bad),
	    EX_DATAERR, "create: cols not a number, 65");
	is_str(au_errmsg(), "session fields: bad cols", "create: says which");
	is_int(au_ws_create(db, JV_OBJECT(jv_string("pid"), jv_number(1)),
	    bad), EX_DATAERR, "create: no kind, 65");
	{
		jv rec = jv_null();

		is_int(au_ws_get(db, "nope", &rec), EX_NOINPUT,
		    "get: no such session, 66");
		ok(!jv_is_valid(rec), "get: and no record");
		jv_free(rec);
	}
}

static void
test_update(void)
{
	char *ended;

	is_int(au_ws_update(db, t1, JV_OBJECT(jv_string("cols"),
	    jv_number(120), jv_string("rows"), jv_number(40))), 0,
	    "update: resize");
	is_str_free(field(t1, "cols"), "120", "update: cols");
	is_str_free(field(t1, "pid"), "123", "update: others kept");
	is_int(au_ws_update(db, t1, JV_OBJECT(jv_string("state"),
	    jv_string("exited"), jv_string("exit_code"), jv_number(3))), 0,
	    "update: exited");
	ended = field(t1, "ended");
	ok(strlen(ended) == 26, "update: a final state sets ended (%s)",
	    ended);
	usleep(5000);
	is_int(au_ws_update(db, t1, JV_OBJECT(jv_string("state"),
	    jv_string("killed"))), 0, "update: killed after");
	is_str_free(field(t1, "ended"), ended, "update: ended set once");
	free(ended);
	is_str_free(field(t1, "exit_code"), "3", "update: exit_code");
	is_int(au_ws_update(db, "nope", JV_OBJECT(jv_string("state"),
	    jv_string("dead"))), EX_NOINPUT, "update: no such session, 66");
	is_int(au_ws_update(db, t1, JV_OBJECT(jv_string("state"),
	    jv_string("zombie"))), EX_DATAERR, "update: bad state, 65");
	ok(au_ws_final("exited") && au_ws_final("dead") &&
	    au_ws_final("killed") && !au_ws_final("running") &&
	    !au_ws_final("detached") && !au_ws_final(NULL),
	    "final: exited, dead and killed only");
}

static void
test_list(void)
{
	jv list;

	is_int(au_ws_list(db, NULL, &list), 0, "list: all");
	is_int(jv_array_length(jv_copy(list)), 3, "list: three sessions");
	{
		jv s = jv_array_get(jv_copy(list), 0);

		is_str(au_jv_str(s, "id"), t1, "list: oldest first");
		jv_free(s);
	}
	jv_free(list);
	is_int(au_ws_list(db, "detached", &list), 0, "list: by state");
	is_int(jv_array_length(jv_copy(list)), 1, "list: one detached");
	jv_free(list);
}

static void
test_transcript(void)
{
	char *big = au_xmalloc(AU_WS_KEEP + 10);
	jv list, e;

	is_int(au_ws_log(db, t2, "input", JV_OBJECT(jv_string("type"),
	    jv_string("input"), jv_string("data"), jv_string("ls\n")), NULL,
	    0, -1, NULL), 0, "log: an input");
	is_int(au_ws_log(db, t2, "output", jv_null(), "a.txt\r\n", 7, 7,
	    "00ff"), 0, "log: an output segment");
	/* A two-byte character straddling the cut. */
	memset(big, 'x', AU_WS_KEEP + 10);
	memcpy(big + AU_WS_KEEP - 1, "\xc3\xa9", 2);
	is_int(au_ws_log(db, t2, "output", jv_null(), big, AU_WS_KEEP + 10,
	    AU_WS_KEEP + 10, NULL), 0, "log: a long segment");
	free(big);
	is_int(au_ws_transcript(db, t2, &list), 0, "transcript");
	is_int(jv_array_length(jv_copy(list)), 3, "transcript: three events");
	e = jv_array_get(jv_copy(list), 0);
	{
		struct au_buf b = AU_BUF_INIT;
		jv r = jv_object_get(jv_copy(e), jv_string("record"));

		au_json_dump(&b, r);
		is_str(b.s, "{\"type\":\"input\",\"data\":\"ls\\n\"}",
		    "transcript: the input record as given");
		au_buf_free(&b);
		jv_free(r);
	}
	is_str(au_jv_str(e, "kind"), "input", "transcript: its kind");
	jv_free(e);
	e = jv_array_get(jv_copy(list), 1);
	is_str(au_jv_str(e, "data"), "a.txt\r\n", "transcript: output text");
	is_str(au_jv_str(e, "sha256"), "00ff", "transcript: its digest");
	jv_free(e);
	e = jv_array_get(jv_copy(list), 2);
	is_int(strlen(au_jv_str(e, "data")), AU_WS_KEEP - 1,
	    "transcript: cut before the character across AU_WS_KEEP");
	{
		jv n = jv_object_get(jv_copy(e), jv_string("bytes"));

		is_int((long long)jv_number_value(n), AU_WS_KEEP + 10,
		    "transcript: the whole size kept");
		jv_free(n);
	}
	jv_free(e);
	e = jv_array_get(jv_copy(list), 2);
	{
		jv n = jv_object_get(jv_copy(e), jv_string("seq"));

		is_int((long long)jv_number_value(n), 3,
		    "transcript: numbered in order");
		jv_free(n);
	}
	jv_free(e);
	jv_free(list);
	is_int(au_ws_transcript(db, "nope", &list), 0,
	    "transcript: an unknown session has none");
	is_int(jv_array_length(list), 0, "transcript: empty");
}

static void
test_alive(void)
{
	struct sockaddr_un a;
	pid_t gone;
	int fd, n;

	ok(au_ws_alive(getpid(), NULL), "alive: this process");
	if ((gone = fork()) == 0)
		_exit(0);
	waitpid(gone, NULL, 0);
	ok(!au_ws_alive(gone, NULL), "alive: not a process that is gone");
	ok(!au_ws_alive(0, NULL), "alive: not without a pid");

	memset(&a, 0, sizeof a);
	a.sun_family = AF_UNIX;
	snprintf(a.sun_path, sizeof a.sun_path, "%s", at("s"));
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 4))
		bail("listen");
	ok(au_ws_alive(getpid(), at("s")), "alive: a socket that listens");
	close(fd);
	ok(!au_ws_alive(getpid(), at("s")),
	    "alive: not a socket nobody listens on");
	ok(!au_ws_alive(getpid(), at("none")), "alive: not a missing socket");

	is_int(au_ws_update(db, t2, JV_OBJECT(jv_string("holder_pid"),
	    jv_number(gone))), 0, "reap: t2's holder gone");
	is_int(au_ws_update(db, b1, JV_OBJECT(jv_string("holder_pid"),
	    jv_number(getpid()), jv_string("socket"), jv_string(at("s")))), 0,
	    "reap: b1's socket refused");
	is_int(au_ws_reap(db, &n), 0, "reap");
	is_int(n, 2, "reap: two found dead");
	is_str_free(field(t2, "state"), "\"dead\"", "reap: t2 dead");
	is_str_free(field(b1, "state"), "\"dead\"", "reap: b1 dead");
	is_str_free(field(t1, "state"), "\"killed\"",
	    "reap: a final state left alone");
	is_int(au_ws_reap(db, &n), 0, "reap: again");
	is_int(n, 0, "reap: nothing more");
}

/* ---- a holder and its clients ---- */

static char hid[AU_ID_LEN];

static void
nothing(void *arg)
{
	(void)arg;
}

/* A holder that echoes each record's type and line, answers "error"
 * with a session.error and ends the session at "end". */
static void
echo_holder(void)
{
	struct au_ws_holder *h = au_ws_xdetach();
	struct au_in *in = NULL, *next;
	struct au_rec rec;
	sqlite3 *hdb;
	char buf[256];

	alarm(20);
	if (au_db_open(at("state.db"), &hdb) != 0 ||
	    au_ws_create(hdb, JV_OBJECT(jv_string("kind"),
	    jv_string("browser"), jv_string("state"), jv_string("detached"),
	    jv_string("holder_pid"), jv_number(getpid())), hid) != 0)
		_exit(70);
	au_ws_xlisten(h, hdb, hid, 0);
	for (;;) {
		struct pollfd pf = { au_ws_fd(h), POLLIN, 0 };

		if (poll(&pf, 1, 10) > 0 &&
		    (next = au_ws_accept(h, nothing, NULL)) != NULL)
			in = next;
		while (in != NULL && au_in_wait(in, 0)) {
			const char *t;

			if (!au_in_next(in, &rec)) {
				au_ws_drop(h);
				in = NULL;
				break;
			}
			t = au_jv_str(rec.v, "type");
			if (strcmp(t, "end") == 0) {
				au_ws_update(hdb, hid, JV_OBJECT(
				    jv_string("state"), jv_string("exited")));
				au_ws_close(h);
				au_db_close(hdb);
				_exit(0);
			}
			if (strcmp(t, "error") == 0)
				au_ws_error(h, rec.line, EX_DATAERR, "bad");
			else
				au_ws_send(h, buf, (size_t)snprintf(buf,
				    sizeof buf, "{\"type\":\"echo\","
				    "\"of\":\"%s\",\"line\":%ld}", t,
				    rec.line));
			jv_free(rec.v);
		}
	}
}

/* What the client is to send, and how many records came back. */
static char sendfile_[2048];
static int nback;

static void
tosend(const char *s)
{
	snprintf(sendfile_, sizeof sendfile_, "%s", at("send"));
	writefile(sendfile_, s, strlen(s));
}

static void
counted(jv r, void *arg)
{
	(void)arg;
	if (au_jv_str(r, "type") != NULL)
		nback++;
}

static int
noskip(struct au_in *in, struct au_rec *rec, void *arg)
{
	(void)in;
	(void)arg;
	return strcmp(au_jv_str(rec->v, "type"), "skip") != 0;
}

/* A client: exits with au_ws_attach's code, or its input's status;
 * says on stderr how many records it was given. */
static void
client(void)
{
	char *files[] = { sendfile_ };
	int rc, st;

	au_out_init();
	nback = 0;
	rc = au_ws_attach(db, hid, "browser", files, 1, noskip, counted, NULL,
	    &st);
	fprintf(stderr, "%d back\n", nback);
	au_out_close();
	exit(rc != 0 ? rc : st);
}

static void
test_holder(void)
{
	struct child c;
	struct stat st;
	char id[AU_ID_LEN], sock[1024], want[1024];
	jv r;
	int fd, n;
	pid_t gone;

	mkdir(at("run"), 0700);
	setenv("XDG_RUNTIME_DIR", at("run"), 1);
	au_opts.db = at("state.db");
	child_run(echo_holder, &c);
	is_int(c.code, 0, "detach: the command exits 0 once the holder listens");
	r = jv_parse(c.out);
	is_str(au_jv_str(r, "type"), "session", "detach: prints the session");
	is_str(au_jv_str(r, "state"), "detached", "detach: detached");
	snprintf(id, sizeof id, "%s", au_jv_str(r, "id") ?
	    au_jv_str(r, "id") : "");
	snprintf(hid, sizeof hid, "%s", id);
	snprintf(sock, sizeof sock, "%s/agentutils/%s", at("run"), id);
	is_str(au_jv_str(r, "socket"), sock, "detach: its socket, RUNDIR/ID");
	jv_free(r);
	ok(stat(sock, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    (st.st_mode & 0777) == 0600, "listen: a socket of mode 0600");

	/* Line 2 blank, 3 bad, 4 left out by keep: the holder still sees
	 * lines 5 and 6 as such. */
	tosend("{\"type\":\"a\"}\n\nnot json\n{\"type\":\"skip\"}\n"
	    "{\"type\":\"error\"}\n{\"type\":\"b\"}\n");
	child_run(client, &c);
	is_int(c.code, EX_DATAERR, "attach: the bad line makes the input 65");
	snprintf(want, sizeof want, "{\"type\":\"echo\",\"of\":\"a\","
	    "\"line\":1}\n{\"type\":\"session.error\",\"id\":\"%s\"", id);
	ok(strncmp(c.out, want, strlen(want)) == 0,
	    "attach: records back in order, written out");
	ok(strstr(c.out, "\"line\":5,\"status\":65,\"error\":\"bad\"}\n"
	    "{\"type\":\"echo\",\"of\":\"b\",\"line\":6}\n") != NULL,
	    "attach: line numbers kept past a blank, a bad and a skipped line");
	ok(strstr(c.err, ":3: invalid JSON") != NULL,
	    "attach: the bad line reported by the client");
	ok(strstr(c.err, "3 back\n") != NULL, "attach: fn given each record");

	/* A second client while one is attached. */
	{
		struct sockaddr_un a;

		memset(&a, 0, sizeof a);
		a.sun_family = AF_UNIX;
		if (strlen(sock) >= sizeof a.sun_path)
			bail("the socket's path is too long");
		memcpy(a.sun_path, sock, strlen(sock) + 1);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
			bail("connect");
	}
	tosend("{\"type\":\"a\"}\n");
	child_run(client, &c);
	is_int(c.code, 0, "busy: the attach itself works");
	ok(strstr(c.out, "\"status\":75,\"error\":\"the session is attached "
	    "elsewhere\"}") != NULL && strstr(c.out, "echo") == NULL,
	    "busy: a session.error 75, nothing done");
	close(fd);

	/* The holder notices the first client gone in its own time: until
	 * then a new one is still refused as busy. */
	tosend("{\"type\":\"end\"}\n");
	for (n = 0; n < 100; n++) {
		child_run(client, &c);
		if (strstr(c.out, "attached elsewhere") == NULL)
			break;
		usleep(20000);
	}
	is_int(c.code, 0, "end: the attach ends with the session");
	is_str_free(field(id, "state"), "\"exited\"", "end: recorded");
	for (n = 0; n < 100 && access(sock, F_OK) == 0; n++)
		usleep(20000);
	ok(access(sock, F_OK) != 0, "end: the socket removed");

	is_int(au_ws_attach(db, id, "browser", NULL, 0, NULL, counted, NULL,
	    &n), EX_UNAVAILABLE, "attach: an ended session, 69");
	snprintf(want, sizeof want, "session %s has ended (exited)", id);
	is_str(au_errmsg(), want, "attach: says so");
	is_int(au_ws_attach(db, id, "terminal", NULL, 0, NULL, counted, NULL,
	    &n), EX_UNAVAILABLE, "attach: another kind, 69");
	snprintf(want, sizeof want, "session %s is a browser session", id);
	is_str(au_errmsg(), want, "attach: says which");
	is_int(au_ws_attach(db, "nope", "browser", NULL, 0, NULL, counted,
	    NULL, &n), EX_NOINPUT, "attach: no such session, 66");
	if (au_ws_create(db, JV_OBJECT(jv_string("kind"),
	    jv_string("browser"), jv_string("holder_pid"),
	    jv_number(getpid())), id) != 0)
		bail("create");
	is_int(au_ws_attach(db, id, "browser", NULL, 0, NULL, counted, NULL,
	    &n), EX_UNAVAILABLE, "attach: not detached, 69");
	if ((gone = fork()) == 0)
		_exit(0);
	waitpid(gone, NULL, 0);
	writefile(at("stale"), "", 0);
	if (au_ws_update(db, id, JV_OBJECT(jv_string("holder_pid"),
	    jv_number(gone), jv_string("socket"), jv_string(at("stale")))))
		bail("update");
	is_int(au_ws_attach(db, id, "browser", NULL, 0, NULL, counted, NULL,
	    &n), EX_UNAVAILABLE, "attach: a holder gone, 69");
	snprintf(want, sizeof want, "session %s: its holder is gone; marked "
	    "dead", id);
	is_str(au_errmsg(), want, "attach: says so");
	is_str_free(field(id, "state"), "\"dead\"", "attach: marks it dead");
	ok(access(at("stale"), F_OK) != 0, "attach: the stale socket removed");
	unsetenv("XDG_RUNTIME_DIR");
}

static void
test_rundir(void)
{
	char *d, want[64];
	struct stat st;

	setenv("XDG_RUNTIME_DIR", tmpdir, 1);
	is_int(au_ws_rundir(&d), 0, "rundir: made");
	is_str(d, at("agentutils"), "rundir: under XDG_RUNTIME_DIR");
	ok(stat(d, &st) == 0 && (st.st_mode & 0777) == 0700,
	    "rundir: mode 0700");
	free(d);
	is_int(au_ws_rundir(&d), 0, "rundir: there already");
	free(d);
	chmod(at("agentutils"), 0755);
	is_int(au_ws_rundir(&d), EX_CONFIG, "rundir: mode 0755 refused, 78");
	unsetenv("XDG_RUNTIME_DIR");
	is_int(au_ws_rundir(&d), 0, "rundir: without XDG_RUNTIME_DIR");
	snprintf(want, sizeof want, "/tmp/agentutils-%ld", (long)getuid());
	is_str(d, want, "rundir: /tmp/agentutils-UID");
	free(d);
}

static void
test_file(void)
{
	char f1[AU_ID_LEN], *ended;
	int n;

	is_int(au_ws_create(db, JV_OBJECT(jv_string("kind"), jv_string("file"),
	    jv_string("state"), jv_string("open"), jv_string("root"),
	    jv_string("/srv/ws"), jv_string("cwd"), jv_string("/tmp")), f1), 0,
	    "file: a file session");
	is_str_free(field(f1, "root"), "\"/srv/ws\"", "file: its root");
	is_str_free(field(f1, "holder_pid"), "absent", "file: no holder");
	is_int(au_ws_reap(db, &n), 0, "file: reap");
	is_int(n, 0, "file: an open file session is not found dead");
	is_str_free(field(f1, "state"), "\"open\"", "file: still open");
	is_int(au_ws_update(db, f1, JV_OBJECT(jv_string("root"),
	    jv_number(1))), EX_DATAERR, "file: a root not a string, 65");
	is_int(au_ws_update(db, f1, JV_OBJECT(jv_string("state"),
	    jv_string("closed"))), 0, "file: closed");
	ended = field(f1, "ended");
	ok(strlen(ended) == 26, "file: closing sets ended");
	free(ended);
	ok(au_ws_final("closed") && !au_ws_final("open"),
	    "final: closed is, open is not");
}

/* A state file at schema step 8, before file sessions, with a session
 * and its transcript: opened, it is migrated, and they are still there. */
static void
test_migrate(void)
{
	sqlite3 *raw, *m;
	jv r, list;
	int i;

	if (sqlite3_open(at("old.db"), &raw) != SQLITE_OK)
		bail("old.db");
	for (i = 0; i < 8; i++)
		if (sqlite3_exec(raw, schema_steps[i], NULL, NULL, NULL) !=
		    SQLITE_OK)
			bail("schema step");
	if (sqlite3_exec(raw, "PRAGMA user_version = 8;"
	    "INSERT INTO ws_sessions (id, kind, state, argv, cwd, created, "
	    "updated) VALUES ('01M8RVPHEM10XTM5J7SA6ZVWRT', 'terminal', "
	    "'exited', '[\"true\"]', '/tmp', 1, 2);"
	    "INSERT INTO ws_events VALUES ('01M8RVPHEM10XTM5J7SA6ZVWRT', 1, 3, "
	    "'output', NULL, 'hi', 2, NULL)", NULL, NULL, NULL) != SQLITE_OK)
		bail("old rows");
	sqlite3_close(raw);
	is_int(au_db_open(at("old.db"), &m), 0, "migrate: opened");
	is_int(au_ws_get(m, "01M8RVPHEM10XTM5J7SA6ZVWRT", &r), 0,
	    "migrate: the session is kept");
	is_str(au_jv_str(r, "cwd"), "/tmp", "migrate: with its columns");
	jv_free(r);
	is_int(au_ws_transcript(m, "01M8RVPHEM10XTM5J7SA6ZVWRT", &list), 0,
	    "migrate: its transcript");
	is_int(jv_array_length(jv_copy(list)), 1, "migrate: kept");
	jv_free(list);
	{
		char id[AU_ID_LEN];

		is_int(au_ws_create(m, JV_OBJECT(jv_string("kind"),
		    jv_string("file"), jv_string("state"), jv_string("open"),
		    jv_string("root"), jv_string("/srv")), id), 0,
		    "migrate: a file session fits");
	}
	is_int(au_db_run(m, "DELETE FROM ws_sessions WHERE kind = "
	    "'terminal'", NULL, 0), 0, "migrate: delete the old session");
	is_int(au_ws_transcript(m, "01M8RVPHEM10XTM5J7SA6ZVWRT", &list), 0,
	    "migrate: and its transcript");
	is_int(jv_array_length(list), 0, "migrate: goes with it (cascade)");
	au_db_close(m);
}

int
main(void)
{
	tmpdir_make("test-ws");
	au_setprog("test-ws");
	if (au_db_open(at("state.db"), &db) != 0)
		bail("open");
	test_create();
	test_update();
	test_list();
	test_transcript();
	test_alive();
	test_holder();
	test_rundir();
	test_file();
	test_migrate();
	au_db_close(db);
	tmpdir_remove();
	return done();
}
