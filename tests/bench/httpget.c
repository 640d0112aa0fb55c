/*
 * httpget - the client of tests/bench/serve: the same requests, made the
 * same way, of tk-serve and of python3 -m http.server.
 *
 *   httpget PORT N C FILES
 *
 * makes N GET requests of /f0.bin ... /f(FILES-1).bin, round robin, to
 * 127.0.0.1:PORT over C connections at once (a thread each), HTTP/1.1,
 * keeping a connection alive unless the server closes it (HTTP/1.0 or
 * "Connection: close"), when it connects again.  Reads each body by its
 * Content-Length.  Prints the number of 200 responses and the wall time
 * in ns.  Exit 1 on any error.
 */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int port, files;
static atomic_long next, ok;
static long n;

static void
die(const char *what)
{
	perror(what);
	exit(1);
}

static int
dial(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
	    .sin_port = htons((unsigned short)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
		die("connect");
	return fd;
}

static void *
worker(void *arg)
{
	char req[128], buf[65536], *eoh, *cl;
	long i, body, have;
	ssize_t r;
	size_t len;
	int fd = -1, keep;

	(void)arg;
	while ((i = atomic_fetch_add(&next, 1)) < n) {
		if (fd < 0)
			fd = dial();
		len = (size_t)snprintf(req, sizeof req, "GET /f%ld.bin HTTP/1.1"
		    "\r\nHost: 127.0.0.1\r\n\r\n", i % files);
		if (write(fd, req, len) != (ssize_t)len)
			die("write");
		have = 0;
		for (;;) {
			if ((r = read(fd, buf + have, sizeof buf - 1 -
			    (size_t)have)) <= 0)
				die("read");
			have += r;
			buf[have] = '\0';
			if ((eoh = strstr(buf, "\r\n\r\n")) != NULL)
				break;
		}
		*eoh = '\0';
		if ((cl = strcasestr(buf, "\r\nContent-Length:")) == NULL)
			die("no Content-Length");
		body = atol(cl + 17);
		keep = strncmp(buf, "HTTP/1.1", 8) == 0 &&
		    strcasestr(buf, "\r\nConnection: close") == NULL;
		if (strncmp(buf + 8, " 200 ", 5) == 0)
			atomic_fetch_add(&ok, 1);
		have -= eoh + 4 - buf;
		while (have < body) {
			if ((r = read(fd, buf, sizeof buf)) <= 0)
				die("read body");
			have += r;
		}
		if (!keep) {
			close(fd);
			fd = -1;
		}
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

int
main(int argc, char **argv)
{
	struct timespec a, b;
	pthread_t *t;
	int c, k;

	if (argc != 5)
		return fprintf(stderr, "usage: httpget PORT N C FILES\n"), 1;
	port = atoi(argv[1]);
	n = atol(argv[2]);
	c = atoi(argv[3]);
	files = atoi(argv[4]);
	if (port <= 0 || n <= 0 || c <= 0 || files <= 0 ||
	    (t = calloc((size_t)c, sizeof *t)) == NULL)
		return fprintf(stderr, "httpget: bad arguments\n"), 1;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (k = 0; k < c; k++)
		if (pthread_create(&t[k], NULL, worker, NULL) != 0)
			die("pthread_create");
	for (k = 0; k < c; k++)
		pthread_join(t[k], NULL);
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%ld %lld\n", (long)ok, (long long)(b.tv_sec - a.tv_sec) *
	    1000000000 + (b.tv_nsec - a.tv_nsec));
	free(t);
	return 0;
}
