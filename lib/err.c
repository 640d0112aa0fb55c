/*
 * err.c - the program name and the one family of diagnostics:
 * "prog: what" on standard error, with strerror appended when the format
 * ends in ':', and the last error of a plain library call kept per thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agentutils.h"

const char *au_prog = "agentutils";
int au_quiet;
int au_verbose;

static _Thread_local char errbuf[1024];

/* libjq's allocator failed. */
static void
nomem(void *data)
{
	(void)data;
	au_die(EX_SOFTWARE, "out of memory");
}

void
au_setprog(const char *argv0)
{
	const char *p;
	int fd;

	/* A closed standard descriptor would be reused by the next open()
	 * and records would land in the wrong file.  Hold it with /dev/null
	 * open the wrong way round, so that using it fails loudly (reading
	 * standard input, writing standard output) instead of quietly
	 * reading nothing or writing nowhere.  open() takes the lowest free
	 * number, which is fd itself. */
	for (fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF &&
		    open("/dev/null", fd == 0 ? O_WRONLY : O_RDONLY) != fd)
			au_die(EX_SOFTWARE, "/dev/null:");
	/* Children are ours to wait for, whatever our parent left set. */
	signal(SIGCHLD, SIG_DFL);
	jv_nomem_handler(nomem, NULL);
	if (argv0 == NULL || *argv0 == '\0')
		return;
	p = strrchr(argv0, '/');
	au_prog = p ? p + 1 : argv0;
}

/* Format into buf; a trailing ':' becomes ": strerror(errno)". */
static void
fmtmsg(char *buf, size_t size, int errnum, const char *fmt, va_list ap)
{
	size_t n, flen = strlen(fmt);

	vsnprintf(buf, size, fmt, ap);
	if (flen > 0 && fmt[flen - 1] == ':') {
		n = strlen(buf);
		snprintf(buf + n, size - n, " %s", strerror(errnum));
	}
}

static void
vmsg(const char *fmt, va_list ap)
{
	char buf[4096];
	int e = errno;

	fmtmsg(buf, sizeof buf, e, fmt, ap);
	fflush(stdout);
	fprintf(stderr, "%s: %s\n", au_prog, buf);
	errno = e;
}

void
au_die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	exit(code);
}

void
au_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void
au_warn(const char *fmt, ...)
{
	va_list ap;

	if (au_quiet)
		return;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void
au_note(const char *fmt, ...)
{
	va_list ap;

	if (!au_verbose || au_quiet)
		return;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

int
au_seterr(int code, const char *fmt, ...)
{
	char buf[sizeof errbuf];
	va_list ap;
	int e = errno;

	/* Through a buffer of its own, so that a message can wrap the last
	 * one: au_seterr(rc, "audit: %s", au_errmsg()). */
	va_start(ap, fmt);
	fmtmsg(buf, sizeof buf, e, fmt, ap);
	va_end(ap);
	memcpy(errbuf, buf, sizeof errbuf);
	errno = e;
	return code;
}

const char *
au_errmsg(void)
{
	return errbuf;
}

/* s with control characters and '\\', and with quote set '"', escaped,
 * into one of eight rotating per-thread buffers. */
static const char *
escape(const char *s, int quote)
{
	static _Thread_local char bufs[8][256];
	static _Thread_local unsigned next;
	char *b = bufs[next++ % 8], *p = b, *end = b + sizeof bufs[0] - 5;
	unsigned char c;

	if (quote)
		*p++ = '"';
	for (; (c = (unsigned char)*s) != '\0'; s++) {
		if (p + 5 > end) {
			memcpy(p, "...", 3);
			p += 3;
			break;
		}
		if ((quote && c == '"') || c == '\\') {
			*p++ = '\\';
			*p++ = (char)c;
		} else if (c == '\n') {
			*p++ = '\\';
			*p++ = 'n';
		} else if (c == '\t') {
			*p++ = '\\';
			*p++ = 't';
		} else if (c < 0x20 || c == 0x7f) {
			p += sprintf(p, "\\x%02x", c);
		} else {
			*p++ = (char)c;
		}
	}
	if (quote)
		*p++ = '"';
	*p = '\0';
	return b;
}

const char *
au_quote(const char *s)
{
	return escape(s, 1);
}

const char *
au_esc(const char *s)
{
	return escape(s, 0);
}

void
au_errat(const char *file, long line, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	au_err("%s:%ld: %s", au_esc(file), line, msg);
}

int
au_worse(int worst, int rc, const int *rank, size_t n)
{
	size_t i, r = 0, w = 0;
	int found = 0;

	for (i = 0; i < n; i++) {
		if (rank[i] == rc) {
			r = i;
			found = 1;
		}
		if (rank[i] == worst)
			w = i;
	}
	return found && r > w ? rc : worst;
}
