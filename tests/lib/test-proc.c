/*
 * test-proc.c - proc.c, starting children with and without resource
 * limits (set by the child between vfork and exec): output through a
 * pipe, input through a pipe, exit statuses and 128 + signal, 127 for a
 * missing command and 126 for one that cannot run or a missing directory
 * (with nothing left to wait for and no descriptor left open), the
 * working directory, the environment, /dev/null and given descriptors as
 * stdio (crossed ones too), signals back at their defaults, process
 * groups, timeouts that end the whole group (a grandchild included, and
 * with SIGKILL when SIGTERM is ignored) and only the child without a
 * group, resource limits, au_proc_wait on what is not our child,
 * au_capture_watch stopped by its watch, and au_exit_code.  The test
 * makes itself a child subreaper so that it can reap orphaned
 * grandchildren and know they are gone.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agentutils.h"
#include "tap.h"
#include "testutil.h"

/* A harmless limit, for the child to set before its exec. */
static const struct au_limit nocore[] = { { RLIMIT_CORE, 0, 0 } };

static const char *const way[2] = { "plain", "limits" };

/* The lowest free descriptor: a leak shows up as a change of it. */
static int
lowest_fd(void)
{
	int fd = dup(0);

	close(fd);
	return fd;
}

static void
nap(long ms)
{
	struct timespec ts = { ms / 1000, ms % 1000 * 1000000 };

	nanosleep(&ts, NULL);
}

/* What came of running something with its stdout in a pipe. */
struct result {
	int rc;			/* au_spawn */
	int code;		/* au_proc_wait, -1 if not started */
	pid_t pid;		/* after au_spawn */
	int fds;		/* all of p.fd[] -1 after a failed start */
	char out[4096];
};

static void
run(char *const *argv, char *const *envp, const char *cwd, int forked,
    struct result *r)
{
	struct au_spawn sp = { argv, envp, cwd, { AU_FD_NULL, AU_FD_PIPE,
	    AU_FD_NULL }, 0, forked ? nocore : NULL, forked ? 1 : 0, NULL };
	struct au_proc p;

	r->out[0] = '\0';
	r->code = -1;
	r->rc = au_spawn(&sp, &p);
	r->pid = p.pid;
	r->fds = p.fd[0] == -1 && p.fd[1] == -1 && p.fd[2] == -1;
	if (r->rc != 0)
		return;
	readall(p.fd[1], r->out, sizeof r->out);
	r->code = au_proc_wait(&p, -1, 0, NULL);
}

static void
test_run(int f)
{
	static char *const echo[] = { "echo", "hello", "world", NULL };
	static char *const exit3[] = { "sh", "-c", "exit 3", NULL };
	static char *const term[] = { "sh", "-c", "kill -TERM $$; exit 9",
	    NULL };
	static char *const kill9[] = { "sh", "-c", "kill -KILL $$; exit 9",
	    NULL };
	static char *const env[] = { "env", NULL };
	static char *const envp[] = { "AU_A=1", "AU_B=two", NULL };
	static char *const pwd[] = { "pwd", "-P", NULL };
	static char *const missing[] = { "au-no-such-command", NULL };
	static char *const abs_missing[] = { "/nonexistent/au/cmd", NULL };
	char *noexec[] = { at("noexec"), NULL }, *isdir[] = { tmpdir, NULL };
	char real[PATH_MAX], want[PATH_MAX + 64];
	struct result r;
	int low = lowest_fd();

	run(echo, NULL, NULL, f, &r);
	is_int(r.rc, 0, "%s: echo starts", way[f]);
	is_str(r.out, "hello world\n", "%s: its output through the pipe",
	    way[f]);
	is_int(r.code, 0, "%s: exit 0", way[f]);

	run(exit3, NULL, NULL, f, &r);
	is_int(r.code, 3, "%s: exit 3", way[f]);
	run(term, NULL, NULL, f, &r);
	is_int(r.code, 128 + SIGTERM, "%s: SIGTERM is 143", way[f]);
	run(kill9, NULL, NULL, f, &r);
	is_int(r.code, 128 + SIGKILL, "%s: SIGKILL is 137", way[f]);

	run(env, envp, NULL, f, &r);
	is_str(r.out, "AU_A=1\nAU_B=two\n", "%s: envp is the environment",
	    way[f]);

	run(pwd, NULL, tmpdir, f, &r);
	snprintf(want, sizeof want, "%s\n", realpath(tmpdir, real) ? real :
	    "?");
	is_str(r.out, want, "%s: dir is the working directory", way[f]);
	run(pwd, NULL, at("no-such-dir"), f, &r);
	is_int(r.rc, 126, "%s: a missing dir is 126", way[f]);
	ok(strstr(au_errmsg(), "no-such-dir") != NULL, "%s: errmsg names it "
	    "(%s)", way[f], au_errmsg());
	ok(r.pid == -1 && r.fds, "%s: no pid, no descriptors then", way[f]);

	run(missing, NULL, NULL, f, &r);
	is_int(r.rc, 127, "%s: a missing command is 127", way[f]);
	is_str(au_errmsg(), "au-no-such-command: command not found",
	    "%s: errmsg says not found", way[f]);
	ok(r.pid == -1 && r.fds, "%s: no pid, no descriptors then", way[f]);
	run(abs_missing, NULL, NULL, f, &r);
	is_int(r.rc, 127, "%s: a missing path is 127", way[f]);

	run(noexec, NULL, NULL, f, &r);
	is_int(r.rc, 126, "%s: a file without x is 126", way[f]);
	snprintf(want, sizeof want, "%s: cannot execute: Permission denied",
	    noexec[0]);
	is_str(au_errmsg(), want, "%s: errmsg says why", way[f]);
	ok(r.pid == -1 && r.fds, "%s: no pid, no descriptors then", way[f]);
	run(isdir, NULL, NULL, f, &r);
	is_int(r.rc, 126, "%s: a directory is 126", way[f]);

	is_int(lowest_fd(), low, "%s: no descriptor leaked", way[f]);
}

static void
test_signals(int f)
{
	static char *const pipe_[] = { "sh", "-c", "kill -PIPE $$; exit 9",
	    NULL };
	static char *const term[] = { "sh", "-c", "kill -TERM $$; exit 9",
	    NULL };
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	sigset_t block, oldmask;
	struct result r;

	sigaction(SIGPIPE, &ign, &old);
	run(pipe_, NULL, NULL, f, &r);
	is_int(r.code, 128 + SIGPIPE, "%s: SIGPIPE ignored here is default "
	    "in the child", way[f]);
	sigaction(SIGPIPE, &old, NULL);

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &oldmask);
	run(term, NULL, NULL, f, &r);
	is_int(r.code, 128 + SIGTERM, "%s: SIGTERM blocked here is not in "
	    "the child", way[f]);
	sigprocmask(SIG_SETMASK, &oldmask, NULL);
}

static void
test_stdio(int f)
{
	static char *const cat[] = { "cat", NULL };
	static char *const both[] = { "sh", "-c", "echo out; echo err >&2",
	    NULL };
	struct au_spawn sp = { cat, NULL, NULL, { AU_FD_PIPE, AU_FD_PIPE,
	    AU_FD_NULL }, 0, f ? nocore : NULL, f ? 1 : 0, NULL };
	struct au_proc p;
	char buf[256];
	int fd, err, code, saved[2];

	if (au_spawn(&sp, &p) == 0) {
		ok(p.fd[0] >= 0 && p.fd[1] >= 0 && p.fd[2] == -1,
		    "%s: pipe ends for stdin and stdout only", way[f]);
		if (write(p.fd[0], "to cat\n", 7) != 7)
			perror("write");
		close(p.fd[0]);
		p.fd[0] = -1;
		readall(p.fd[1], buf, sizeof buf);
		is_str(buf, "to cat\n", "%s: stdin pipe to stdout pipe",
		    way[f]);
		is_int(au_proc_wait(&p, -1, 0, NULL), 0, "%s: cat ends",
		    way[f]);
		ok(p.pid == -1 && p.fd[1] == -1, "%s: wait clears the proc",
		    way[f]);
	}

	sp.fd[0] = AU_FD_NULL;
	if (au_spawn(&sp, &p) == 0) {
		readall(p.fd[1], buf, sizeof buf);
		is_str(buf, "", "%s: stdin on /dev/null", way[f]);
		is_int(au_proc_wait(&p, -1, 0, NULL), 0, "%s: and cat ends",
		    way[f]);
	}

	sp.argv = both;
	sp.fd[1] = AU_FD_NULL;
	sp.fd[2] = AU_FD_PIPE;
	if (au_spawn(&sp, &p) == 0) {
		ok(p.fd[1] == -1 && p.fd[2] >= 0, "%s: a pipe for stderr only",
		    way[f]);
		readall(p.fd[2], buf, sizeof buf);
		is_str(buf, "err\n", "%s: stderr pipe, stdout on /dev/null",
		    way[f]);
		is_int(au_proc_wait(&p, -1, 0, NULL), 0, "%s: sh ends",
		    way[f]);
	}

	fd = open(at("out"), O_RDWR | O_CREAT | O_TRUNC, 0600);
	sp.fd[1] = fd;
	sp.fd[2] = fd;
	code = au_spawn(&sp, &p) == 0 ? au_proc_wait(&p, -1, 0, NULL) : -1;
	is_int(code, 0, "%s: with a descriptor for stdout and stderr",
	    way[f]);
	readall(fd, buf, sizeof buf);
	is_str(buf, "out\nerr\n", "%s: both went to it", way[f]);
	ok(fcntl(fd, F_GETFD) >= 0, "%s: and it is still ours", way[f]);
	close(fd);

	/* Our stderr as its stdout and our stdout as its stderr: neither
	 * may overwrite the other on the way. */
	fd = open(at("out"), O_RDWR | O_CREAT | O_TRUNC, 0600);
	err = open(at("err"), O_RDWR | O_CREAT | O_TRUNC, 0600);
	fflush(stdout);
	saved[0] = dup(STDOUT_FILENO);
	saved[1] = dup(STDERR_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(err, STDERR_FILENO);
	sp.fd[1] = STDERR_FILENO;
	sp.fd[2] = STDOUT_FILENO;
	code = au_spawn(&sp, &p) == 0 ? au_proc_wait(&p, -1, 0, NULL) : -1;
	dup2(saved[0], STDOUT_FILENO);
	dup2(saved[1], STDERR_FILENO);
	close(saved[0]);
	close(saved[1]);
	is_int(code, 0, "%s: with stdout and stderr crossed", way[f]);
	readall(fd, buf, sizeof buf);
	is_str(buf, "err\n", "%s: our stdout got its stderr", way[f]);
	readall(err, buf, sizeof buf);
	is_str(buf, "out\n", "%s: our stderr got its stdout", way[f]);
	close(fd);
	close(err);
}

static void
test_pgroup(int f)
{
	static char *const cat[] = { "cat", NULL };
	struct au_spawn sp = { cat, NULL, NULL, { AU_FD_PIPE, AU_FD_NULL,
	    AU_FD_NULL }, 1, f ? nocore : NULL, f ? 1 : 0, NULL };
	struct au_proc p;

	if (au_spawn(&sp, &p) == 0) {
		is_int(getpgid(p.pid), p.pid, "%s: pgroup: the child leads a "
		    "group", way[f]);
		au_proc_wait(&p, -1, 0, NULL);
	}
	sp.pgroup = 0;
	if (au_spawn(&sp, &p) == 0) {
		is_int(getpgid(p.pid), getpgrp(), "%s: no pgroup: the child is "
		    "in ours", way[f]);
		au_proc_wait(&p, -1, 0, NULL);
	}
}

/* The pid a script wrote to path, waiting up to 2s for it. */
static pid_t
pidfrom(const char *path)
{
	char buf[32];
	int i, fd;
	ssize_t n;

	for (i = 0; i < 200; i++) {
		if ((fd = open(path, O_RDONLY)) >= 0) {
			n = read(fd, buf, sizeof buf - 1);
			close(fd);
			if (n > 0 && buf[n - 1] == '\n') {
				buf[n] = '\0';
				return (pid_t)atol(buf);
			}
		}
		nap(10);
	}
	return -1;
}

/* Reap the orphan pid, waiting up to 2s: the signal that ended it, 0 if
 * it exited or someone else reaped it, -1 if it is still running. */
static int
reap(pid_t pid)
{
	int i, st;
	pid_t r;

	for (i = 0; i < 200; i++) {
		r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return WIFSIGNALED(st) ? WTERMSIG(st) : 0;
		if (r < 0 && errno == ECHILD)
			return 0;
		nap(10);
	}
	return -1;
}

/* Time out sh running script (which writes its background child's pid to
 * a file) after 100ms with the given grace: check the exit code, the
 * time taken and how the grandchild ended. */
static void
timeout(int f, int pgroup, const char *script, int64_t grace, int code,
    int gcsig, const char *what)
{
	char *file = at("gc");
	char *argv[] = { "sh", "-c", (char *)script, "sh", file, NULL };
	struct au_spawn sp = { argv, NULL, NULL, { AU_FD_NULL, AU_FD_NULL,
	    AU_FD_NULL }, pgroup, f ? nocore : NULL, f ? 1 : 0, NULL };
	struct au_proc p;
	int64_t t0, ms;
	int timed_out = -1, rc, sig;
	pid_t gc;

	unlink(file);
	if (au_spawn(&sp, &p) != 0) {
		ok(0, "%s: %s: cannot start (%s)", way[f], what, au_errmsg());
		return;
	}
	gc = pidfrom(file);
	t0 = au_mono_ms();
	rc = au_proc_wait(&p, 100, grace, &timed_out);
	ms = au_mono_ms() - t0;
	is_int(rc, code, "%s: %s: exit code", way[f], what);
	is_int(timed_out, 1, "%s: %s: timed out", way[f], what);
	/* SIGKILL only after the grace period, SIGTERM well before. */
	t0 = code == 128 + SIGKILL ? 100 + grace : 100;
	ok(ms >= t0 && ms < t0 + 500, "%s: %s: in %lld ms", way[f], what,
	    (long long)ms);
	ok(gc > 0, "%s: %s: the grandchild wrote its pid", way[f], what);
	if (gc <= 0)
		return;
	if (gcsig == 0) {
		ok(kill(gc, 0) == 0, "%s: %s: the grandchild still runs",
		    way[f], what);
		kill(gc, SIGKILL);
		reap(gc);
		return;
	}
	sig = reap(gc);
	if (sig < 0)
		kill(gc, SIGKILL);
	is_int(sig, gcsig, "%s: %s: the grandchild ended by signal %d",
	    way[f], what, gcsig);
	ok(kill(gc, 0) == -1 && errno == ESRCH, "%s: %s: kill -0 finds no "
	    "grandchild", way[f], what);
}

static void
test_timeout(int f)
{
	static char *const tru[] = { "true", NULL };
	struct au_spawn sp = { tru, NULL, NULL, { AU_FD_NULL, AU_FD_NULL,
	    AU_FD_NULL }, 1, f ? nocore : NULL, f ? 1 : 0, NULL };
	struct au_proc p;
	int64_t t0;
	int timed_out = -1;

	timeout(f, 1, "sleep 30 & echo $! > \"$1\"; exec sleep 30", 1000,
	    128 + SIGTERM, SIGTERM, "SIGTERM to the group");
	timeout(f, 1, "trap '' TERM; sleep 30 & echo $! > \"$1\"; "
	    "exec sleep 30", 100, 128 + SIGKILL, SIGKILL,
	    "SIGKILL after the grace");
	timeout(f, 0, "sleep 30 & echo $! > \"$1\"; exec sleep 30", 1000,
	    128 + SIGTERM, 0, "without a group only the child");

	if (au_spawn(&sp, &p) == 0) {
		t0 = au_mono_ms();
		is_int(au_proc_wait(&p, 5000, 1000, &timed_out), 0,
		    "%s: a quick child under a timeout", way[f]);
		is_int(timed_out, 0, "%s: did not time out", way[f]);
		ok(au_mono_ms() - t0 < 1000, "%s: and was not kept waiting",
		    way[f]);
	}
}

static void
test_limits(void)
{
	static char *const ulim[] = { "sh", "-c", "ulimit -n; ulimit -c",
	    NULL };
	static char *const tru[] = { "true", NULL };
	struct au_limit lim[] = { { RLIMIT_NOFILE, 64, 64 },
	    { RLIMIT_CORE, 0, 0 } };
	struct au_spawn sp = { ulim, NULL, NULL, { AU_FD_NULL, AU_FD_PIPE,
	    AU_FD_NULL }, 0, lim, 2, NULL };
	struct au_limit bad[] = { { RLIMIT_NOFILE, 100, 50 } };
	struct rlimit before, after;
	struct au_proc p;
	char buf[256];
	int rc;

	getrlimit(RLIMIT_NOFILE, &before);
	if (au_spawn(&sp, &p) == 0) {
		readall(p.fd[1], buf, sizeof buf);
		is_str(buf, "64\n0\n", "limits: NOFILE 64 and CORE 0 in the "
		    "child");
		is_int(au_proc_wait(&p, -1, 0, NULL), 0, "limits: sh ends");
	}
	getrlimit(RLIMIT_NOFILE, &after);
	ok(before.rlim_cur == after.rlim_cur, "limits: ours are unchanged");

	sp.argv = tru;
	sp.limits = bad;
	sp.nlimits = 1;
	rc = au_spawn(&sp, &p);
	ok(rc != 0 && p.pid == -1, "limits: soft above hard does not start "
	    "(%d: %s)", rc, au_errmsg());
}

/* A cgroup the child cannot join: it does not start, and says why (a
 * real one is joined in tests/tg-invoke.bats, as root). */
static void
test_cgroup(void)
{
	static char *const tru[] = { "true", NULL };
	struct au_spawn sp = { tru, NULL, NULL, { AU_FD_NULL, AU_FD_NULL,
	    AU_FD_NULL }, 0, NULL, 0, NULL };
	struct au_proc p;
	char *procs = au_xstrdup(at("no/such/cgroup.procs"));
	int rc;

	sp.cgroup = procs;
	rc = au_spawn(&sp, &p);
	is_int(rc, EX_SOFTWARE, "cgroup: not joined, not started");
	ok(strstr(au_errmsg(), "no/such/cgroup.procs: cannot join the "
	    "cgroup: No such file") != NULL, "cgroup: the reason: %s",
	    au_errmsg());
	free(procs);
}

static void
test_exit_code(void)
{
	static const struct {
		int exit, sig, want;
	} c[] = {
		{ 0, 0, 0 }, { 5, 0, 5 }, { 255, 0, 255 },
		{ 0, SIGKILL, 137 }, { 0, SIGTERM, 143 }, { 0, SIGINT, 130 },
	};
	struct au_proc none = { -1, { -1, -1, -1 } };
	struct au_proc other = { 1, { -1, -1, -1 } };
	size_t i;
	pid_t pid;
	int st;

	for (i = 0; i < sizeof c / sizeof c[0]; i++) {
		fflush(stdout);
		if ((pid = fork()) == 0) {
			if (c[i].sig) {
				signal(c[i].sig, SIG_DFL);
				kill(getpid(), c[i].sig);
			}
			_exit(c[i].exit);
		}
		waitpid(pid, &st, 0);
		is_int(au_exit_code(st), c[i].want, "exit_code: %s %d",
		    c[i].sig ? "signal" : "exit", c[i].sig ? c[i].sig :
		    c[i].exit);
	}
	is_int(au_proc_wait(&none, -1, 0, NULL), 127,
	    "wait: a child that never started is 127");
	is_int(au_proc_wait(&other, -1, 0, NULL), EX_SOFTWARE,
	    "wait: a process that is not our child is 70");
	ok(strncmp(au_errmsg(), "waitpid:", 8) == 0, "wait: errmsg says why "
	    "(%s)", au_errmsg());
}

static volatile sig_atomic_t caught;

static void
catch(int sig)
{
	caught = sig;
}

/* The grandchild of the script au_capture_watch runs, known to the watch
 * before it says stop. */
static pid_t watched_gc;

/* A watch reading its pipe a byte at a time: stop at an 'x' (once the
 * grandchild is known), and at the pipe's end poll it no more. */
static int
watched(void *arg)
{
	struct au_watch *w = arg;
	ssize_t n;
	char ch;

	if ((n = read(w->fd, &ch, 1)) <= 0) {
		close(w->fd);
		w->fd = -1;
		return 0;
	}
	if (ch != 'x')
		return 0;
	watched_gc = pidfrom(at("gc"));
	return 1;
}

/* au_capture_watch: a watch that says go on changes nothing, one that
 * says stop ends the group at once as a timeout would, not reported as
 * one; a watch whose fd is dropped leaves the timeout to end it. */
static void
test_watch(void)
{
	char *file = at("gc");
	char *argv[] = { "sh", "-c", "sleep 30 & echo $! > \"$1\"; "
	    "exec sleep 30", "sh", file, NULL };
	struct au_spawn sp = { argv, NULL, NULL, { AU_FD_NULL, AU_FD_NULL,
	    AU_FD_NULL }, 0, NULL, 0, NULL };
	struct au_watch w = { -1, watched, &w, 0 };
	struct au_capture c;
	int64_t t0;
	int fd[2], rc;

	unlink(file);
	watched_gc = -1;
	if (pipe(fd) != 0 || write(fd[1], "nx", 2) != 2) {
		ok(0, "watch: pipe");
		return;
	}
	w.fd = fd[0];
	t0 = au_mono_ms();
	rc = au_capture_watch(&sp, 100, 20000, 1000, &w, &c);
	is_int(rc, 128 + SIGTERM, "watch: stopped by SIGTERM");
	ok(au_mono_ms() - t0 < 5000, "watch: at once, not at the timeout");
	is_int(w.stopped, 1, "watch: stopped is set");
	is_int(c.timed_out, 0, "watch: not reported as a timeout");
	au_capture_free(&c);
	ok(watched_gc > 0, "watch: the grandchild wrote its pid");
	if (watched_gc > 0)
		is_int(reap(watched_gc), SIGTERM, "watch: the grandchild "
		    "ended by SIGTERM");
	close(fd[0]);
	close(fd[1]);

	unlink(file);
	if (pipe(fd) != 0) {
		ok(0, "watch: pipe");
		return;
	}
	close(fd[1]);
	w.fd = fd[0];
	w.stopped = 0;
	rc = au_capture_watch(&sp, 100, 300, 1000, &w, &c);
	is_int(rc, 128 + SIGTERM, "watch at its end: stopped at the timeout");
	is_int(w.fd, -1, "watch at its end: polled no more");
	is_int(w.stopped, 0, "watch at its end: stopped is not set");
	is_int(c.timed_out, 1, "watch at its end: timed out");
	au_capture_free(&c);
	reap(pidfrom(file));
}

/* au_catch_stop: INT, TERM and HUP go to the function, and system calls
 * they interrupt are not restarted. */
static void
test_catch_stop(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa;
	size_t i;

	au_catch_stop(catch);
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		caught = 0;
		raise(sigs[i]);
		is_int(caught, sigs[i], "catch_stop: signal %d caught",
		    sigs[i]);
		sigaction(sigs[i], NULL, &sa);
		ok(!(sa.sa_flags & SA_RESTART), "catch_stop: signal %d does "
		    "not restart system calls", sigs[i]);
		signal(sigs[i], SIG_DFL);
	}
}

int
main(void)
{
	int f, st;

	tmpdir_make("test-proc");
	writefile(at("noexec"), "#!/bin/sh\necho no\n", 18);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	for (f = 0; f < 2; f++) {
		test_run(f);
		test_signals(f);
		test_stdio(f);
		test_pgroup(f);
		test_timeout(f);
	}
	test_limits();
	test_cgroup();
	test_exit_code();
	test_watch();
	test_catch_stop();
	ok(waitpid(-1, &st, WNOHANG) == -1 && errno == ECHILD,
	    "no child is left behind");
	tmpdir_remove();
	return done();
}
