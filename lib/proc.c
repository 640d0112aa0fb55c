/*
 * proc.c - child processes: vfork and exec with pipes, a process group of
 * their own, resource limits, a timeout that ends the whole group (TERM,
 * a grace period, KILL), and the child's end told as one exit code the
 * way a shell tells it: the status, 128 + signal, 126, 127.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agentutils.h"

extern char **environ;

/* Every signal a child gets back at its default, whatever we (or our
 * parent) did with it. */
static void
defsigs(sigset_t *set)
{
	sigfillset(set);
	sigdelset(set, SIGKILL);
	sigdelset(set, SIGSTOP);
}

char *
au_which(const char *name)
{
	const char *path = getenv("PATH"), *p, *e;
	char *f;

	if (strchr(name, '/') != NULL)
		return access(name, X_OK) == 0 ? au_xstrdup(name) : NULL;
	for (p = path ? path : "/usr/bin:/bin"; ; p = e + 1) {
		e = strchr(p, ':');
		if (e == NULL)
			e = p + strlen(p);
		f = au_xasprintf("%.*s%s%s", (int)(e - p), p, e > p ? "/" : "",
		    name);
		if (access(f, X_OK) == 0)
			return f;
		free(f);
		if (*e == '\0')
			return NULL;
	}
}

int
au_exit_code(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return 128;
}

static int
execfail(const char *name, int err)
{
	errno = err;
	if (err == ENOENT)
		return au_seterr(127, "%s: command not found", name);
	return au_seterr(126, "%s: cannot execute:", name);
}

/* In the child of vfork: become what was asked for, then exec.  It runs
 * on our memory until the exec, so it only makes system calls, and tells
 * why it failed through *err. */
static AU_NORETURN void
child(const struct au_spawn *sp, const int src[3], volatile int *err)
{
	sigset_t none, def;
	size_t i;
	int sig, fd;

	if (sp->pgroup)
		setpgid(0, 0);
	defsigs(&def);
	for (sig = 1; sig < NSIG; sig++)
		if (sigismember(&def, sig) == 1)
			signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (i = 0; i < 3; i++)
		if (src[i] >= 0 && src[i] != (int)i && dup2(src[i], (int)i) < 0)
			goto fail;
	if (sp->dir != NULL && chdir(sp->dir) != 0)
		goto fail;
	for (i = 0; i < (size_t)sp->nlimits; i++) {
		struct rlimit rl = { sp->limits[i].soft, sp->limits[i].hard };

		if (setrlimit(sp->limits[i].resource, &rl) != 0)
			goto fail;
	}
	/* "0" is the writer; a failure is told apart by its sign. */
	if (sp->cgroup != NULL && ((fd = open(sp->cgroup, O_WRONLY |
	    O_CLOEXEC)) < 0 || write(fd, "0", 1) != 1)) {
		*err = -errno;
		_exit(127);
	}
	execvpe(sp->argv[0], sp->argv, sp->envp ? sp->envp : environ);
fail:
	*err = errno;
	_exit(127);
}

/*
 * vfork, not posix_spawn: glibc's posix_spawn maps a fresh stack for each
 * child and unmaps it after, and the unmap flushes the TLB of every CPU
 * we ran on; with aw-sched starting tiny tasks that was a tenth of its
 * time.  vfork borrows our stack while we wait, as posix_spawn's clone
 * does.  Every signal is blocked until the child has put every handler
 * back to the default, so none of ours runs in it.
 */
static int
spawn_vfork(const struct au_spawn *sp, const int src[3], pid_t *pid)
{
	volatile int err = 0;
	sigset_t all, old;
	pid_t child_pid;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if ((child_pid = vfork()) == 0)
		child(sp, src, &err);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	*pid = child_pid;
	if (child_pid < 0)
		return au_seterr(EX_SOFTWARE, "fork:");
	if (err != 0) {
		while (waitpid(child_pid, NULL, 0) < 0 && errno == EINTR)
			;
		if (err < 0)
			return au_seterr(EX_SOFTWARE, "%s: cannot join the cgroup: "
			    "%s", sp->cgroup, strerror(-err));
		return execfail(sp->argv[0], err);
	}
	return 0;
}

/* Whether path is a directory; errno says why not. */
static int
isdir(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return 0;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return 0;
	}
	return 1;
}

int
au_spawn(const struct au_spawn *sp, struct au_proc *p)
{
	int src[3], pipes[3][2], moved[3] = { -1, -1, -1 }, i, rc = 0;
	int nullfd = -1;

	p->pid = -1;
	for (i = 0; i < 3; i++) {
		p->fd[i] = -1;
		pipes[i][0] = pipes[i][1] = -1;
		src[i] = sp->fd[i] >= 0 ? sp->fd[i] : -1;
	}
	for (i = 0; i < 3; i++) {
		if (sp->fd[i] == AU_FD_PIPE) {
			if (pipe2(pipes[i], O_CLOEXEC) != 0) {
				rc = au_seterr(EX_SOFTWARE, "pipe:");
				goto out;
			}
			src[i] = pipes[i][i == 0 ? 0 : 1];
			p->fd[i] = pipes[i][i == 0 ? 1 : 0];
		} else if (sp->fd[i] == AU_FD_NULL) {
			if (nullfd < 0 &&
			    (nullfd = open("/dev/null",
			    O_RDWR | O_CLOEXEC)) < 0) {
				rc = au_seterr(EX_SOFTWARE, "/dev/null:");
				goto out;
			}
			src[i] = nullfd;
		}
	}
	/* The child's descriptors are set in order 0, 1, 2: one meant for
	 * a later number must not be overwritten by an earlier dup2. */
	for (i = 0; i < 3; i++) {
		if (src[i] < 0 || src[i] > 2 || src[i] == i)
			continue;
		if ((moved[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 3)) < 0) {
			rc = au_seterr(EX_SOFTWARE, "dup:");
			goto out;
		}
		src[i] = moved[i];
	}
	if (sp->dir != NULL && !isdir(sp->dir)) {
		rc = au_seterr(126, "%s: cannot change directory to %s:",
		    sp->argv[0], sp->dir);
		goto out;
	}
	rc = spawn_vfork(sp, src, &p->pid);
out:
	for (i = 0; i < 3; i++)
		if (moved[i] >= 0)
			close(moved[i]);
	for (i = 0; i < 3; i++) {
		/* The child's ends, and ours too if it never started. */
		if (pipes[i][0] >= 0)
			close(pipes[i][i == 0 ? 0 : 1]);
		if (rc != 0 && p->fd[i] >= 0) {
			close(p->fd[i]);
			p->fd[i] = -1;
		}
	}
	if (nullfd >= 0)
		close(nullfd);
	if (rc != 0)
		p->pid = -1;
	return rc;
}

/* Whether the child has ended within ms (-1: no limit), without reaping
 * it, so that its process group id stays reserved until we do. */
static int
ended(pid_t pid, int64_t ms)
{
	int64_t deadline = au_mono_ms() + ms, left, nap = 1;
	siginfo_t si;
	struct pollfd pfd;
	int fd, r;

	fd = (int)syscall(SYS_pidfd_open, pid, 0);
	for (;;) {
		memset(&si, 0, sizeof si);
		r = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT |
		    (ms < 0 ? 0 : WNOHANG));
		if ((r == 0 && si.si_pid == pid) || (r < 0 && errno == ECHILD))
			break;
		left = deadline - au_mono_ms();
		if (ms >= 0 && left <= 0) {
			if (fd >= 0)
				close(fd);
			return 0;
		}
		if (fd >= 0) {
			pfd.fd = fd;
			pfd.events = POLLIN;
			poll(&pfd, 1, ms < 0 ? -1 :
			    left > INT32_MAX ? INT32_MAX : (int)left);
		} else {
			struct timespec ts = { 0, (nap < left ? nap : left) *
			    1000000 };

			nanosleep(&ts, NULL);
			nap = nap < 50 ? nap * 2 : 50;
		}
	}
	if (fd >= 0)
		close(fd);
	return 1;
}

int
au_proc_wait(struct au_proc *p, int64_t timeout_ms, int64_t grace_ms,
    int *timed_out)
{
	pid_t target, r;
	int i, st = 0;

	for (i = 0; i < 3; i++) {
		if (p->fd[i] >= 0)
			close(p->fd[i]);
		p->fd[i] = -1;
	}
	if (timed_out != NULL)
		*timed_out = 0;
	if (p->pid <= 0)
		return 127;
	if (timeout_ms >= 0 && !ended(p->pid, timeout_ms)) {
		if (timed_out != NULL)
			*timed_out = 1;
		target = getpgid(p->pid) == p->pid ? -p->pid : p->pid;
		kill(target, SIGTERM);
		ended(p->pid, grace_ms < 0 ? 0 : grace_ms);
		/* The leader is not reaped yet, so the group id is still
		 * ours: take down whatever of the group is left. */
		kill(target, SIGKILL);
	}
	while ((r = waitpid(p->pid, &st, 0)) < 0 && errno == EINTR)
		;
	p->pid = -1;
	if (r < 0)
		return au_seterr(EX_SOFTWARE, "waitpid:");
	return au_exit_code(st);
}

/* Keep what fits of the n bytes at p in *buf (holding *len of max). */
static void
keep(char **buf, size_t *len, size_t max, const char *p, size_t n,
    int *truncated)
{
	size_t take = max - *len < n ? max - *len : n;

	if (take < n)
		*truncated = 1;
	if (take == 0)
		return;
	*buf = au_xrealloc(*buf, *len + take + 1);
	memcpy(*buf + *len, p, take);
	*len += take;
	(*buf)[*len] = '\0';
}

int
au_capture(const struct au_spawn *sp, size_t max, int64_t timeout_ms,
    int64_t grace_ms, struct au_capture *c)
{
	return au_capture_watch(sp, max, timeout_ms, grace_ms, NULL, c);
}

int
au_capture_watch(const struct au_spawn *sp, size_t max, int64_t timeout_ms,
    int64_t grace_ms, struct au_watch *w, struct au_capture *c)
{
	struct au_spawn s = *sp;
	struct au_proc p;
	struct pollfd pfd[3];
	int64_t start = au_mono_ms(), left;
	char chunk[65536];
	ssize_t n;
	int i, rc, open, timed_out, stopped = 0;

	memset(c, 0, sizeof *c);
	s.fd[1] = s.fd[2] = AU_FD_PIPE;
	s.pgroup = 1;
	if ((rc = au_spawn(&s, &p)) != 0)
		return rc;
	for (;;) {
		open = 0;
		for (i = 0; i < 2; i++) {
			pfd[i].fd = p.fd[i + 1];
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
			open += pfd[i].fd >= 0;
		}
		pfd[2].fd = w != NULL ? w->fd : -1;
		pfd[2].events = POLLIN;
		pfd[2].revents = 0;
		if (open == 0)
			break;
		left = timeout_ms < 0 ? -1 : start + timeout_ms - au_mono_ms();
		if (timeout_ms >= 0 && left <= 0)
			break;
		if (poll(pfd, 3, left < 0 ? -1 : left > INT32_MAX ?
		    INT32_MAX : (int)left) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[2].revents != 0 && w->fn(w->arg)) {
			stopped = w->stopped = 1;
			break;
		}
		for (i = 0; i < 2; i++) {
			if (pfd[i].fd < 0 || pfd[i].revents == 0)
				continue;
			n = read(pfd[i].fd, chunk, sizeof chunk);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				close(p.fd[i + 1]);
				p.fd[i + 1] = -1;
			} else if (i == 0)
				keep(&c->out, &c->nout, max, chunk,
				    (size_t)n, &c->truncated);
			else
				keep(&c->err, &c->nerr, max, chunk,
				    (size_t)n, &c->truncated);
		}
	}
	left = timeout_ms < 0 ? -1 : start + timeout_ms - au_mono_ms();
	/* Stopped at w's word: the group goes as at a timeout, now. */
	if (stopped || (timeout_ms >= 0 && left < 0))
		left = 0;
	rc = au_proc_wait(&p, left, grace_ms, &timed_out);
	c->timed_out = timed_out && !stopped;
	c->ms = au_mono_ms() - start;
	if (c->out == NULL)
		c->out = au_xstrdup("");
	if (c->err == NULL)
		c->err = au_xstrdup("");
	return rc;
}

int
au_watch_wait(struct au_watch *w, int64_t ms)
{
	int64_t until = au_mono_ms() + ms, left;
	struct pollfd pfd;

	while ((left = until - au_mono_ms()) > 0) {
		pfd.fd = w != NULL ? w->fd : -1;
		pfd.events = POLLIN;
		pfd.revents = 0;
		/* A signal cuts the wait short, for the caller to see. */
		if (poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left) < 0)
			return 0;
		if (pfd.revents != 0 && w->fn(w->arg))
			return w->stopped = 1;
	}
	return 0;
}

void
au_capture_free(struct au_capture *c)
{
	free(c->out);
	free(c->err);
	c->out = c->err = NULL;
}

void
au_catch_stop(void (*fn)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}
