/*
 * test-ws.c - ws.c, workspace sessions in a state file in a mkdtemp
 * directory: creating sessions (fields checked, ids sortable, the record
 * as stored), updating them (a final state sets ended once, an unknown
 * id 66), listing by state, the transcript (input records, output
 * segments cut at AU_WS_KEEP on a character's start), the liveness of a
 * holder (a live process, a gone one, a socket that listens and one that
 * does not), reaping dead holders, and the runtime directory (made 0700,
 * the fallback without XDG_RUNTIME_DIR, one of the wrong mode refused).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <sqlite3.h>

#include "agentutils.h"
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
	test_rundir();
	au_db_close(db);
	tmpdir_remove();
	return done();
}
