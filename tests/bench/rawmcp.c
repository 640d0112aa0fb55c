/*
 * rawmcp - the peer of the MCP client in tests/bench/mcp: the fewest
 * steps a client can take over stdio, as fast as a server goes.
 *
 *   rawmcp N COMMAND [ARG...]
 *
 * starts COMMAND with pipes on its stdin and stdout, sends initialize and
 * notifications/initialized, then N requests tools/call of the tool echo
 * one after another, each written with one write() and its answer taken
 * as the next line (checked only for "result" and its id), no JSON
 * parsed.  Prints the calls per second of the N calls and the
 * microseconds of CPU this process spent per call.  Exit 1 on any error.
 */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static int in, out;
static char buf[1 << 20];
static size_t len;

static void
die(const char *what)
{
	fprintf(stderr, "rawmcp: %s\n", what);
	exit(1);
}

static void
send_line(const char *s, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(in, s, n)) <= 0)
			die("write failed");
		s += w;
		n -= (size_t)w;
	}
}

/* The next line from the server, NUL-terminated in place of its
 * newline; valid until the next call. */
static char *
next_line(void)
{
	static size_t taken;
	char *nl;
	ssize_t r;

	memmove(buf, buf + taken, len - taken);
	len -= taken;
	taken = 0;
	while ((nl = memchr(buf, '\n', len)) == NULL) {
		if (len == sizeof buf - 1)
			die("line too long");
		if ((r = read(out, buf + len, sizeof buf - 1 - len)) <= 0)
			die("the server closed its output");
		len += (size_t)r;
	}
	*nl = '\0';
	taken = (size_t)(nl - buf) + 1;
	return buf;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Seconds of CPU this process has used, user and system. */
static double
cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

int
main(int argc, char **argv)
{
	static const char init[] = "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":"
	    "\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\","
	    "\"capabilities\":{},\"clientInfo\":{\"name\":\"rawmcp\","
	    "\"version\":\"1\"}}}\n{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"notifications/initialized\"}\n";
	char req[256], want[32], *line;
	int p0[2], p1[2], st, n;
	long i, calls;
	double t, c;
	pid_t pid;

	if (argc < 3 || (calls = atol(argv[1])) < 1) {
		fprintf(stderr, "usage: rawmcp N COMMAND [ARG...]\n");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	if (pipe(p0) != 0 || pipe(p1) != 0)
		die("pipe failed");
	if ((pid = fork()) == 0) {
		dup2(p0[0], 0);
		dup2(p1[1], 1);
		close(p0[0]);
		close(p0[1]);
		close(p1[0]);
		close(p1[1]);
		execvp(argv[2], argv + 2);
		_exit(127);
	}
	if (pid < 0)
		die("fork failed");
	close(p0[0]);
	close(p1[1]);
	in = p0[1];
	out = p1[0];
	send_line(init, sizeof init - 1);
	if (strstr(next_line(), "\"result\"") == NULL)
		die("initialize failed");
	t = now();
	c = cpu();
	for (i = 1; i <= calls; i++) {
		n = snprintf(req, sizeof req, "{\"jsonrpc\":\"2.0\",\"id\":%ld,"
		    "\"method\":\"tools/call\",\"params\":{\"name\":\"echo\","
		    "\"arguments\":{\"text\":\"hi\"}}}\n", i);
		send_line(req, (size_t)n);
		snprintf(want, sizeof want, "\"id\":%ld,", i);
		line = next_line();
		if (strstr(line, want) == NULL ||
		    strstr(line, "\"result\"") == NULL)
			die("a call failed");
	}
	t = now() - t;
	c = cpu() - c;
	printf("%.0f %.2f\n", calls / t, c * 1e6 / calls);
	close(in);
	if (waitpid(pid, &st, 0) != pid)
		die("waitpid failed");
	return 0;
}
