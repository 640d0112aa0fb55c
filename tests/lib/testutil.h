/*
 * testutil.h - what the C unit tests of lib/ share besides tap.h: a
 * temporary directory and the paths in it, writing and reading whole
 * files, and running a function in a forked child to see how it ends and
 * what it writes.  Static functions, as in tap.h, so that each test stays
 * one program of one file; a program need not use every helper, hence
 * the "unused" attributes.  nftw is XSI: define _XOPEN_SOURCE 700 (or
 * _GNU_SOURCE) before the first #include.
 */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* How a child ended and what it wrote. */
struct child {
	int code;		/* exit status, 128 + signal, or -1 */
	char out[16384], err[16384];
};

/* The test's own directory, made by tmpdir_make. */
static char tmpdir[1024] __attribute__((unused));

/* Make tmpdir as $TMPDIR/name.XXXXXX, or exit 2 saying why. */
static void __attribute__((unused))
tmpdir_make(const char *name)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(tmpdir, sizeof tmpdir, "%s/%s.XXXXXX", tmp && *tmp ? tmp :
	    "/tmp", name);
	if (mkdtemp(tmpdir) == NULL) {
		perror(tmpdir);
		exit(2);
	}
}

static int
tmpdir_rm1(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Remove tmpdir and everything in it. */
static void __attribute__((unused))
tmpdir_remove(void)
{
	nftw(tmpdir, tmpdir_rm1, 16, FTW_DEPTH | FTW_PHYS);
}

/* tmpdir/name, in one of sixteen rotating buffers. */
static __attribute__((unused)) char *
at(const char *name)
{
	static char bufs[16][2048];
	static int next;
	char *b = bufs[next++ % 16];

	snprintf(b, sizeof bufs[0], "%s/%s", tmpdir, name);
	return b;
}

/* Make path a file of mode 0600 holding the n bytes of s. */
static void __attribute__((unused))
writefile(const char *path, const char *s, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, s, n) != (ssize_t)n)
		perror(path);
	close(fd);
}

/* Read fd into buf, cut at size - 1 bytes and NUL-terminated: a regular
 * file from its start, leaving its offset alone (a child may still write
 * through it), anything else to its end.  The length. */
static size_t __attribute__((unused))
readall(int fd, char *buf, size_t size)
{
	struct stat st;
	int file = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	size_t len = 0;
	ssize_t n;

	while (len < size - 1) {
		n = file ? pread(fd, buf + len, size - 1 - len, (off_t)len) :
		    read(fd, buf + len, size - 1 - len);
		if (n > 0)
			len += (size_t)n;
		else if (n == 0 || errno != EINTR)
			break;
	}
	buf[len] = '\0';
	return len;
}

/* An unlinked temporary file under $TMPDIR, or exit 2 saying why. */
static int __attribute__((unused))
tmpfd(void)
{
	const char *d = getenv("TMPDIR");
	char path[4096];
	int fd;

	snprintf(path, sizeof path, "%s/au-test.XXXXXX", d && *d ? d : "/tmp");
	if ((fd = mkstemp(path)) < 0) {
		perror(path);
		exit(2);
	}
	unlink(path);
	return fd;
}

/* Start fn in a child with its stdout on out and its stderr on err: the
 * pid, or -1.  The child ends with exit(0), flushing what it printed, if
 * fn returns, and by SIGALRM after ten seconds, so that a hang fails a
 * test instead of stopping the suite. */
static pid_t __attribute__((unused))
child_start(void (*fn)(void), int out, int err)
{
	pid_t pid;

	fflush(stdout);
	if ((pid = fork()) == 0) {
		alarm(10);
		dup2(out, STDOUT_FILENO);
		dup2(err, STDERR_FILENO);
		fn();
		exit(0);
	}
	return pid;
}

/* How the child pid ended: its exit status, 128 + the signal that ended
 * it, or -1 if it cannot be waited for. */
static int __attribute__((unused))
child_wait(pid_t pid)
{
	int st = 0;

	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Run fn in a child with its stdout and stderr in files: how it ended and
 * what it wrote, in c. */
static void __attribute__((unused))
child_run(void (*fn)(void), struct child *c)
{
	int out = tmpfd(), err = tmpfd();

	c->code = child_wait(child_start(fn, out, err));
	readall(out, c->out, sizeof c->out);
	readall(err, c->err, sizeof c->err);
	close(out);
	close(err);
}

#endif
