/*
 * ws-browser - drive a headless Chromium with browser.command records:
 * open a page, navigate, wait, evaluate JavaScript, read text and HTML,
 * click, type, take screenshots and PDFs, close.  One invocation starts
 * one fresh browser with a temporary profile and ends it.  We speak the
 * DevTools protocol over --remote-debugging-pipe (JSON messages ended by
 * a NUL byte, ours on its fd 3, its on fd 4), so no TCP port is opened
 * that another local user could reach.  Each page is a target attached
 * with a flat session.  Every wait has a deadline and every message is
 * read through one loop that also answers the interception of requests
 * (the network limits), so a page that never loads, a hung renderer or a
 * browser that died answers with a failed browser.result, never a hang.
 * Every browser is a session of the state file, kind browser, with each
 * command and its result in the session's transcript.  With --detach
 * the browser is left to a holder (lib/ws.c) that later ws-browser
 * --session commands attach to, its pages kept between them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "agentutils.h"

extern char **environ;

enum {
	O_NET = AU_LONG, O_ALLOW, O_TIMEOUT, O_WIDTH, O_HEIGHT, O_APPROVAL,
	O_NOAUDIT, O_DETACH, O_SESSION
};

static const struct au_opt opts[] = {
	{ O_NET, "net", "WHERE", "what pages may reach: loopback (the "
	    "default) or any", "loopback any" },
	{ O_ALLOW, "allow", "HOSTS", "and these hosts too (comma-separated)",
	    NULL },
	{ O_TIMEOUT, "timeout", "DUR", "a command's time unless it says "
	    "(default 30s)", NULL },
	{ O_WIDTH, "width", "N", "the viewport's width in CSS pixels "
	    "(default 1280)", NULL },
	{ O_HEIGHT, "height", "N", "the viewport's height (default 720)",
	    NULL },
	{ O_APPROVAL, "approval-timeout", "DUR", "wait DUR at most for an "
	    "approval (default 5m)", NULL },
	{ O_NOAUDIT, "no-audit", NULL, "keep the commands out of the audit "
	    "log", NULL },
	{ O_DETACH, "detach", NULL, "leave the browser to a holder and print "
	    "its session record", NULL },
	{ O_SESSION, "session", "ID", "send the commands to the detached "
	    "session ID", NULL },
	{ 0, NULL, NULL, NULL, NULL }
};

static const struct au_cmd cmd = {
	"ws-browser", "[file ...]\n--session ID [file ...]",
	"Drive a headless Chromium with command records.",
	opts, AU_USE_DB | AU_USE_RECORDS, "FILE"
};

#define LAUNCH_MS 60000		/* the longest a browser may take to start */
#define CLOSE_MS 5000		/* and to end after Browser.close */

static int64_t timeout_ms = 30000, approval_ms = 5 * 60000;
static int width = 1280, height = 720, netany, noaudit;
static char **allowed;
static size_t nallowed, capallowed;
static volatile sig_atomic_t stop;
static struct sqlite3 *db;
static struct au_audit *audit;
static int worst;
static struct au_ws_holder *holder;	/* --detach: we are the holder */
static char sid[AU_ID_LEN];		/* and this is the session */
static int quitting;			/* a quit command came */

static int wake[2];		/* a record is ready, or a signal came */

static void
onstop(int sig)
{
	int e = errno;

	stop = sig;
	(void)!write(wake[1], "", 1);
	errno = e;
}

static void
outcome(int rc)
{
	static const int rank[] = { 0, 1, EX_TEMPFAIL, EX_NOPERM, EX_DATAERR,
	    EX_NOINPUT, EX_CANTCREAT, EX_IOERR, EX_UNAVAILABLE, EX_SOFTWARE };

	worst = au_worse(worst, rc, rank, sizeof rank / sizeof rank[0]);
}

/* ---- the network limits ---- */

static int
isloopback(const char *h, size_t n)
{
	size_t i;

	if ((n == 9 && strncasecmp(h, "localhost", 9) == 0) ||
	    (n > 10 && strncasecmp(h + n - 10, ".localhost", 10) == 0) ||
	    (n == 5 && memcmp(h, "[::1]", 5) == 0))
		return 1;
	if (n < 4 || memcmp(h, "127.", 4) != 0)
		return 0;
	for (i = 4; i < n; i++)
		if (h[i] != '.' && (h[i] < '0' || h[i] > '9'))
			return 0;
	return 1;
}

/* Whether a page may fetch url: any with --net any; else data:, blob:
 * and about: URLs, and http(s) and ws(s) to loopback or an allowed host,
 * judged by the name in the URL (never resolved). */
static int
allowed_url(const char *url)
{
	const char *p, *h, *e;
	size_t n, i, sl;

	if (netany)
		return 1;
	if (strncasecmp(url, "data:", 5) == 0 ||
	    strncasecmp(url, "blob:", 5) == 0 ||
	    strncasecmp(url, "about:", 6) == 0)
		return 1;
	if ((p = strstr(url, "://")) == NULL)
		return 0;
	sl = (size_t)(p - url);
	if (!((sl == 4 && strncasecmp(url, "http", 4) == 0) ||
	    (sl == 5 && strncasecmp(url, "https", 5) == 0) ||
	    (sl == 2 && strncasecmp(url, "ws", 2) == 0) ||
	    (sl == 3 && strncasecmp(url, "wss", 3) == 0)))
		return 0;
	h = p + 3;
	e = h + strcspn(h, "/?#");
	for (p = h; p < e; p++)
		if (*p == '@')
			h = p + 1;
	if (*h == '[')
		e = memchr(h, ']', (size_t)(e - h)) ? strchr(h, ']') + 1 : e;
	else if ((p = memchr(h, ':', (size_t)(e - h))) != NULL)
		e = p;
	n = (size_t)(e - h);
	if (n == 0)
		return 0;
	if (isloopback(h, n))
		return 1;
	for (i = 0; i < nallowed; i++)
		if (strlen(allowed[i]) == n && strncasecmp(allowed[i], h, n) == 0)
			return 1;
	return 0;
}

/* ---- the browser and its pipe ---- */

struct page {
	int n;			/* its number, from 1 */
	char *target, *session;
	char *loader;		/* the main frame's current document */
	int loaded, idle;	/* its load event, its network idle came */
	int crashed;		/* the renderer crashed or the page closed */
};

static struct page *pages;
static size_t npages, cappages;
static int cur = -1, lastpage;

static pid_t chrome = -1;
static int tochrome = -1, fromchrome = -1;
static char *tmpdir, *logpath, *gonewhy;
static jv cargv;		/* the browser's command line */
static int cend = -1, csig;	/* how it ended: exit code, signal */
static struct au_buf inbuf = AU_BUF_INIT;
static size_t inoff;
static long msgid, wantid;
static int closing;		/* we asked the browser to close */
static jv answer;
static int answered;

static struct page *
bysession(const char *s)
{
	size_t i;

	for (i = 0; s != NULL && i < npages; i++)
		if (strcmp(pages[i].session, s) == 0)
			return &pages[i];
	return NULL;
}

/* Reap the browser, noting how it ended. */
static void
ended(void)
{
	int st;

	if (waitpid(chrome, &st, 0) == chrome) {
		cend = au_exit_code(st);
		csig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
	}
	chrome = -1;
}

/* How the browser ended, once it has closed its end of the pipe:
 * "exited with status N", "killed by signal N".  What is left of its
 * process group (renderers, the zygote) is killed before the leader is
 * reaped, while the group's id cannot yet name another. */
static void
reap(void)
{
	siginfo_t si;
	int i, r = -1;

	for (i = 0; i < 20; i++) {
		si.si_pid = 0;
		if ((r = waitid(P_PID, (id_t)chrome, &si, WEXITED | WNOHANG |
		    WNOWAIT)) != 0 || si.si_pid != 0)
			break;
		usleep(50000);
	}
	kill(-chrome, SIGKILL);
	if (r == 0 && si.si_pid != 0 && si.si_code == CLD_EXITED)
		gonewhy = au_xasprintf("the browser exited with status %d",
		    si.si_status);
	else if (r == 0 && si.si_pid != 0)
		gonewhy = au_xasprintf("the browser was killed by signal %d",
		    si.si_status);
	else
		gonewhy = au_xstrdup("the browser stopped answering");
	ended();
}

static void
gone(void)
{
	if (fromchrome < 0)
		return;
	close(fromchrome);
	close(tochrome);
	fromchrome = tochrome = -1;
	reap();
	if (!closing)
		au_warn("%s (its log: %s)", gonewhy, logpath);
}

/* Send a message; its id. */
static long
sendmsg_(const struct page *p, const char *method, jv params)
{
	struct au_buf b = AU_BUF_INIT;
	long id = ++msgid;
	size_t off = 0;
	ssize_t n;

	au_buf_addf(&b, "{\"id\":%ld,\"method\":\"%s\"", id, method);
	if (p != NULL)
		au_buf_addf(&b, ",\"sessionId\":\"%s\"", p->session);
	if (jv_is_valid(params)) {
		au_buf_adds(&b, ",\"params\":");
		au_json_dump(&b, params);
	}
	jv_free(params);
	au_buf_add(&b, "}", 2);
	while (tochrome >= 0 && off < b.len) {
		if ((n = write(tochrome, b.s + off, b.len - off)) < 0) {
			if (errno == EINTR)
				continue;
			gone();
			break;
		}
		off += (size_t)n;
	}
	au_buf_free(&b);
	return id;
}

static void
lifecycle(struct page *p, jv params)
{
	const char *name = au_jv_str(params, "name");
	const char *frame = au_jv_str(params, "frameId");
	const char *loader = au_jv_str(params, "loaderId");

	if (p == NULL || name == NULL || frame == NULL || loader == NULL ||
	    strcmp(frame, p->target) != 0)
		return;
	if (strcmp(name, "init") == 0) {
		free(p->loader);
		p->loader = au_xstrdup(loader);
		p->loaded = p->idle = 0;
	} else if (p->loader != NULL && strcmp(p->loader, loader) == 0) {
		if (strcmp(name, "load") == 0)
			p->loaded = 1;
		else if (strcmp(name, "networkIdle") == 0)
			p->idle = 1;
	}
}

/* A request paused by Fetch: on its way if the limits allow it, else
 * failed as blocked by the client. */
static void
paused(struct page *p, jv params)
{
	const char *rid = au_jv_str(params, "requestId");
	jv req = jv_object_get(jv_copy(params), jv_string("request"));
	const char *url = jv_is_valid(req) ? au_jv_str(req, "url") : NULL;

	if (p != NULL && rid != NULL && url != NULL) {
		if (allowed_url(url)) {
			sendmsg_(p, "Fetch.continueRequest", JV_OBJECT(
			    jv_string("requestId"), jv_string(rid)));
		} else {
			au_note("blocked %s", au_quote(url));
			sendmsg_(p, "Fetch.failRequest", JV_OBJECT(
			    jv_string("requestId"), jv_string(rid),
			    jv_string("errorReason"),
			    jv_string("BlockedByClient")));
		}
	}
	jv_free(req);
}

static void
dispatch(jv m)
{
	jv id = jv_object_get(jv_copy(m), jv_string("id"));
	const char *method = au_jv_str(m, "method");
	struct page *p = bysession(au_jv_str(m, "sessionId"));
	jv params;

	if (jv_get_kind(id) == JV_KIND_NUMBER) {
		if ((long)jv_number_value(id) == wantid && !answered) {
			answer = jv_copy(m);
			answered = 1;
		}
	} else if (method != NULL) {
		params = jv_object_get(jv_copy(m), jv_string("params"));
		if (strcmp(method, "Fetch.requestPaused") == 0)
			paused(p, params);
		else if (strcmp(method, "Page.lifecycleEvent") == 0)
			lifecycle(p, params);
		else if (p != NULL && (strcmp(method,
		    "Inspector.targetCrashed") == 0 || strcmp(method,
		    "Inspector.detached") == 0))
			p->crashed = 1;
		else if (strcmp(method, "Target.detachedFromTarget") == 0 &&
		    (p = bysession(au_jv_str(params, "sessionId"))) != NULL)
			p->crashed = 1;
		jv_free(params);
	}
	jv_free(id);
	jv_free(m);
}

/* Read what the browser has sent, waiting up to ms for it, and dispatch
 * each whole message. */
static void
pump(int64_t ms)
{
	struct pollfd pf = { fromchrome, POLLIN, 0 };
	char *nul;
	ssize_t n;
	int r;

	if (fromchrome < 0)
		return;
	r = poll(&pf, 1, ms < 0 ? 0 : ms > 1000000 ? 1000000 : (int)ms);
	if (r <= 0)
		return;
	/* One read a turn: a second would mostly find nothing (EAGAIN),
	 * and a syscall is a good part of a short command's time. */
	au_buf_grow(&inbuf, 65536);
	n = read(fromchrome, inbuf.s + inbuf.len, 65536);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		gone();
		return;
	}
	inbuf.len += (size_t)n;
	while ((nul = memchr(inbuf.s + inoff, '\0', inbuf.len - inoff)) !=
	    NULL) {
		jv m = jv_parse_sized(inbuf.s + inoff,
		    (int)(nul - inbuf.s - (long)inoff));

		if (jv_get_kind(m) == JV_KIND_OBJECT)
			dispatch(m);
		else
			jv_free(m);
		inoff = (size_t)(nul - inbuf.s) + 1;
	}
	memmove(inbuf.s, inbuf.s + inoff, inbuf.len - inoff);
	inbuf.len -= inoff;
	inoff = 0;
}

/* Call method (on page p, or the browser) and wait until deadline for
 * its answer: 0 with *result, 1 the protocol's error (au_errmsg()), 75
 * out of time, 69 the browser is gone, 1 the page crashed. */
static int
call(struct page *p, const char *method, jv params, int64_t deadline,
    jv *result)
{
	jv err;
	int rc;

	*result = jv_invalid();
	if (fromchrome < 0) {
		jv_free(params);
		return au_seterr(EX_UNAVAILABLE, "%s", gonewhy);
	}
	answered = 0;
	wantid = sendmsg_(p, method, params);
	rc = 0;
	while (!answered && rc == 0) {
		if (fromchrome < 0)
			rc = au_seterr(EX_UNAVAILABLE, "%s", gonewhy);
		else if (p != NULL && p->crashed)
			rc = au_seterr(1, "the page crashed or was closed");
		else if (stop)
			rc = au_seterr(EX_TEMPFAIL, "interrupted");
		else if (au_mono_ms() >= deadline)
			rc = au_seterr(EX_TEMPFAIL, "%s: no answer in time",
			    method);
		else
			pump(deadline - au_mono_ms());
	}
	/* An answer that comes after we gave up is dropped. */
	wantid = 0;
	if (rc != 0)
		return rc;
	err = jv_object_get(jv_copy(answer), jv_string("error"));
	if (jv_is_valid(err)) {
		rc = au_seterr(1, "%s: %s", method, au_jv_str(err, "message") ?
		    au_jv_str(err, "message") : "failed");
		jv_free(err);
		jv_free(answer);
		return rc;
	}
	jv_free(err);
	*result = jv_object_get(answer, jv_string("result"));
	return 0;
}

/* Start the browser: 0, or 69 it is missing or did not start, 73 its
 * directory cannot be made, 71 the system refused (au_errmsg()). */
static int
launch(void)
{
	const char *bin = getenv("AGENTUTILS_CHROMIUM"), *tmp;
	char *path, *profile, *udd, *size, *rules = NULL;
	struct au_buf rb = AU_BUF_INIT;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t sa;
	sigset_t none, def;
	int a[2], b[2], logfd, rc, i, verbose;
	char *argv[24];
	size_t k, n = 0;
	jv v;

	if (bin == NULL || *bin == '\0')
		bin = "chromium";
	if ((path = au_which(bin)) == NULL)
		return au_seterr(EX_UNAVAILABLE, "%s: not found (Debian's "
		    "package chromium)", au_quote(bin));
	tmp = getenv("TMPDIR");
	tmpdir = au_xasprintf("%s/ws-browser.XXXXXX", tmp && *tmp ? tmp :
	    "/tmp");
	if (mkdtemp(tmpdir) == NULL)
		return au_seterr(EX_CANTCREAT, "%s:", au_quote(tmpdir));
	profile = au_xasprintf("%s/profile", tmpdir);
	logpath = au_xasprintf("%s/chromium.log", tmpdir);
	if (mkdir(profile, 0700) != 0)
		return au_seterr(EX_CANTCREAT, "%s:", au_quote(profile));
	if ((logfd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) < 0)
		return au_seterr(EX_CANTCREAT, "%s:", au_quote(logpath));
	if (pipe2(a, O_CLOEXEC) != 0 || pipe2(b, O_CLOEXEC) != 0)
		return au_seterr(EX_OSERR, "pipe:");
	/* Out of the way of 3 and 4, which the child's dup2s make. */
	for (i = 0; i < 2; i++) {
		int *fd = i ? b : a, j;

		for (j = 0; j < 2; j++) {
			int moved = fcntl(fd[j], F_DUPFD_CLOEXEC, 10);

			if (moved < 0)
				return au_seterr(EX_OSERR, "fcntl:");
			close(fd[j]);
			fd[j] = moved;
		}
	}
	size = au_xasprintf("--window-size=%d,%d", width, height);
	argv[n++] = path;
	argv[n++] = "--headless";
	argv[n++] = "--remote-debugging-pipe";
	argv[n++] = udd = au_xasprintf("--user-data-dir=%s", profile);
	argv[n++] = "--no-first-run";
	argv[n++] = "--no-default-browser-check";
	argv[n++] = "--disable-gpu";
	argv[n++] = "--disable-background-networking";
	argv[n++] = "--disable-component-update";
	argv[n++] = "--disable-sync";
	argv[n++] = "--disable-extensions";
	argv[n++] = "--disable-dev-shm-usage";
	argv[n++] = "--hide-scrollbars";
	argv[n++] = "--mute-audio";
	argv[n++] = size;
	/* Chromium's sandbox needs user namespaces, which root in a
	 * container rarely has; it refuses to start as root without this. */
	if (geteuid() == 0)
		argv[n++] = "--no-sandbox";
	if (!netany) {
		au_buf_adds(&rb, "--host-resolver-rules=MAP * ~NOTFOUND, "
		    "EXCLUDE localhost, EXCLUDE *.localhost, EXCLUDE 127.*, "
		    "EXCLUDE [::1]");
		for (k = 0; k < nallowed; k++)
			au_buf_addf(&rb, ", EXCLUDE %s", allowed[k]);
		argv[n++] = rules = rb.s;
	}
	argv[n++] = "about:blank";
	argv[n] = NULL;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, a[0], 3);
	posix_spawn_file_actions_adddup2(&fa, b[1], 4);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	/* A holder's standard error is its caller's until it listens, and
	 * would be the browser's for good. */
	verbose = au_verbose && holder == NULL;
	posix_spawn_file_actions_adddup2(&fa, verbose ? 2 : logfd, 1);
	if (!verbose)
		posix_spawn_file_actions_adddup2(&fa, logfd, 2);
	posix_spawnattr_init(&sa);
	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	sigaddset(&def, SIGINT);
	sigaddset(&def, SIGTERM);
	sigaddset(&def, SIGHUP);
	posix_spawnattr_setsigmask(&sa, &none);
	posix_spawnattr_setsigdefault(&sa, &def);
	posix_spawnattr_setpgroup(&sa, 0);
	posix_spawnattr_setflags(&sa, POSIX_SPAWN_SETPGROUP |
	    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawn(&chrome, path, &fa, &sa, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&sa);
	if (rc != 0) {
		errno = rc;
		return au_seterr(EX_UNAVAILABLE, "%s:", au_quote(path));
	}
	cargv = jv_array();
	for (k = 0; k < n; k++)
		cargv = jv_array_append(cargv, jv_string(argv[k]));
	close(a[0]);
	close(b[1]);
	close(logfd);
	tochrome = a[1];
	fromchrome = b[0];
	fcntl(fromchrome, F_SETFL, O_NONBLOCK);
	free(path);
	free(profile);
	free(udd);
	free(size);
	free(rules);

	if ((rc = call(NULL, "Browser.getVersion", jv_invalid(),
	    au_mono_ms() + LAUNCH_MS, &v)) != 0)
		return au_seterr(EX_UNAVAILABLE, "the browser did not start: "
		    "%s (its log: %s)", au_errmsg(), logpath);
	au_note("%s", au_jv_str(v, "product"));
	jv_free(v);
	return 0;
}

/* End the browser: Browser.close, then its process group killed, the
 * profile removed; the log kept when it ended badly. */
static void
shutdown_(void)
{
	int64_t end = au_mono_ms() + CLOSE_MS;
	char *profile;
	int kept = fromchrome < 0;

	closing = 1;
	if (fromchrome >= 0) {
		sendmsg_(NULL, "Browser.close", jv_invalid());
		while (fromchrome >= 0 && au_mono_ms() < end)
			pump(end - au_mono_ms());
		if (fromchrome >= 0) {
			close(fromchrome);
			close(tochrome);
			fromchrome = tochrome = -1;
		}
	}
	if (chrome > 0) {
		kill(-chrome, SIGKILL);
		ended();
	}
	profile = au_xasprintf("%s/profile", tmpdir);
	/* What the browser's last processes, killed but not yet gone, may
	 * still make there is not worth a warning. */
	(void)au_rmtree(kept ? profile : tmpdir);
	free(profile);
}

/* ---- pages ---- */

static void
page_free(struct page *p)
{
	free(p->target);
	free(p->session);
	free(p->loader);
}

/* Open a page: a new target, attached, its lifecycle and (with limits)
 * its requests reported, its viewport set.  0 with the page current. */
static int
page_open(int64_t deadline)
{
	struct page p = { 0 };
	jv r;
	int rc;

	if ((rc = call(NULL, "Target.createTarget", JV_OBJECT(
	    jv_string("url"), jv_string("about:blank")), deadline, &r)) != 0)
		return rc;
	p.target = au_xstrdup(au_jv_str(r, "targetId"));
	jv_free(r);
	if ((rc = call(NULL, "Target.attachToTarget", JV_OBJECT(
	    jv_string("targetId"), jv_string(p.target), jv_string("flatten"),
	    jv_true()), deadline, &r)) != 0) {
		free(p.target);
		return rc;
	}
	p.session = au_xstrdup(au_jv_str(r, "sessionId"));
	jv_free(r);
	p.n = ++lastpage;
	p.loaded = p.idle = 1;
	pages = au_grow(pages, &cappages, npages + 1, sizeof *pages);
	pages[npages] = p;
	cur = (int)npages++;
	if ((rc = call(&pages[cur], "Page.enable", jv_invalid(), deadline,
	    &r)) != 0)
		return rc;
	jv_free(r);
	if ((rc = call(&pages[cur], "Page.setLifecycleEventsEnabled",
	    JV_OBJECT(jv_string("enabled"), jv_true()), deadline, &r)) != 0)
		return rc;
	jv_free(r);
	if ((rc = call(&pages[cur], "Emulation.setDeviceMetricsOverride",
	    JV_OBJECT(jv_string("width"), jv_number(width),
	    jv_string("height"), jv_number(height),
	    jv_string("deviceScaleFactor"), jv_number(1),
	    jv_string("mobile"), jv_false()), deadline, &r)) != 0)
		return rc;
	jv_free(r);
	if (!netany) {
		if ((rc = call(&pages[cur], "Fetch.enable", JV_OBJECT(
		    jv_string("patterns"), JV_ARRAY(JV_OBJECT(
		    jv_string("urlPattern"), jv_string("*")))), deadline,
		    &r)) != 0)
			return rc;
		jv_free(r);
	}
	return 0;
}

/* The page a command is for: its "page" member, else the current one,
 * else a new one.  NULL with au_errmsg() set. */
static struct page *
page_for(jv rec, int64_t deadline, int *rc)
{
	jv n = jv_object_get(jv_copy(rec), jv_string("page"));
	size_t i;

	if (jv_get_kind(n) == JV_KIND_NUMBER) {
		for (i = 0; i < npages; i++)
			if (pages[i].n == (int)jv_number_value(n)) {
				jv_free(n);
				return &pages[i];
			}
		jv_free(n);
		*rc = au_seterr(EX_DATAERR, "no page %d is open",
		    (int)jv_number_value(n));
		return NULL;
	}
	jv_free(n);
	/* A renderer's start is not the command's time. */
	if (cur < 0 && (*rc = page_open(deadline > au_mono_ms() + LAUNCH_MS ?
	    deadline : au_mono_ms() + LAUNCH_MS)) != 0)
		return NULL;
	return &pages[cur];
}

/* ---- commands ---- */

/* What a command is given: the record, the page, the deadline, and the
 * result to add members to. */
struct cmdctx {
	jv rec;			/* borrowed */
	struct page *p;
	int64_t deadline;
	jv res;
	const unsigned char *payload;	/* what the digest covers */
	size_t npayload;
	int binary;		/* the payload is not text (a PNG, a PDF) */
	char *own;		/* a payload of our own, freed after */
};

/* The first line of an exception's description, or its text. */
static int
exception(jv details)
{
	jv ex = jv_object_get(jv_copy(details), jv_string("exception"));
	const char *d = jv_get_kind(ex) == JV_KIND_OBJECT ?
	    au_jv_str(ex, "description") : NULL;
	const char *t = au_jv_str(details, "text");
	int rc;

	if (d != NULL)
		rc = au_seterr(1, "%.*s", (int)strcspn(d, "\n"), d);
	else
		rc = au_seterr(1, "%s", t ? t : "exception");
	jv_free(ex);
	jv_free(details);
	return rc;
}

/* Evaluate js in the page, awaiting a promise: 0 with its value (null
 * for undefined), 1 for an exception. */
static int
evaluate(struct cmdctx *c, const char *js, jv *value)
{
	jv r, d, res;
	int rc;

	*value = jv_invalid();
	rc = call(c->p, "Runtime.evaluate", JV_OBJECT(
	    jv_string("expression"), jv_string(js),
	    jv_string("returnByValue"), jv_true(),
	    jv_string("awaitPromise"), jv_true(),
	    jv_string("userGesture"), jv_true()), c->deadline, &r);
	if (rc == EX_TEMPFAIL && fromchrome >= 0 && !c->p->crashed) {
		/* A script still running would hold up the next command. */
		sendmsg_(c->p, "Runtime.terminateExecution", jv_invalid());
		rc = au_seterr(EX_TEMPFAIL, "the script did not end in time");
	}
	if (rc != 0)
		return rc;
	d = jv_object_get(jv_copy(r), jv_string("exceptionDetails"));
	if (jv_is_valid(d)) {
		jv_free(r);
		return exception(d);
	}
	jv_free(d);
	res = jv_object_get(r, jv_string("result"));
	*value = jv_object_get(res, jv_string("value"));
	if (!jv_is_valid(*value)) {
		jv_free(*value);
		*value = jv_null();
	}
	return 0;
}

/* A call of function f (JavaScript text) on the JSON of arg. */
static char *
fncall(const char *f, jv arg)
{
	struct au_buf b = AU_BUF_INIT;

	au_buf_addf(&b, "(%s)(", f);
	au_json_dump(&b, arg);
	au_buf_addc(&b, ')');
	jv_free(arg);
	return b.s;
}

static const char *
str(struct cmdctx *c, const char *key)
{
	return au_jv_str(c->rec, key);
}

/* A member that must be a string: NULL with au_errmsg() if not. */
static const char *
need(struct cmdctx *c, const char *key, int *rc)
{
	const char *s = str(c, key);

	if (s == NULL)
		*rc = au_seterr(EX_DATAERR, "\"%s\" is missing or not a string",
		    key);
	return s;
}

static void
set(struct cmdctx *c, const char *key, jv v)
{
	c->res = jv_object_set(c->res, jv_string(key), v);
}

static int
wait_load(struct cmdctx *c, int idle)
{
	struct page *p = c->p;

	while (!(idle ? p->loaded && p->idle : p->loaded)) {
		if (fromchrome < 0)
			return au_seterr(EX_UNAVAILABLE, "%s", gonewhy);
		if (p->crashed)
			return au_seterr(1, "the page crashed or was closed");
		if (stop)
			return au_seterr(EX_TEMPFAIL, "interrupted");
		if (au_mono_ms() >= c->deadline)
			return au_seterr(EX_TEMPFAIL, "the page did not %s in "
			    "time", idle ? "settle" : "load");
		pump(c->deadline - au_mono_ms());
	}
	return 0;
}

/* The URL and title of the page, into the result. */
static int
where_(struct cmdctx *c)
{
	jv v;
	int rc;

	if ((rc = evaluate(c, "[location.href, document.title]", &v)) != 0)
		return rc;
	set(c, "url", jv_array_get(jv_copy(v), 0));
	set(c, "title", jv_array_get(v, 1));
	return 0;
}

static int
go(struct cmdctx *c, const char *url)
{
	const char *w = str(c, "wait"), *err, *loader;
	jv r;
	int rc;

	if (w != NULL && strcmp(w, "load") != 0 && strcmp(w, "networkidle")
	    != 0 && strcmp(w, "none") != 0)
		return au_seterr(EX_DATAERR, "\"wait\" is load, networkidle or "
		    "none, not %s", au_quote(w));
	if (!allowed_url(url))
		return au_seterr(EX_NOPERM, "%s is beyond the network limits",
		    au_quote(url));
	if ((rc = call(c->p, "Page.navigate", JV_OBJECT(jv_string("url"),
	    jv_string(url)), c->deadline, &r)) != 0) {
		if (rc == EX_TEMPFAIL && fromchrome >= 0 && !c->p->crashed) {
			sendmsg_(c->p, "Page.stopLoading", jv_invalid());
			rc = au_seterr(EX_TEMPFAIL, "%s did not answer in time",
			    au_quote(url));
		}
		return rc;
	}
	if ((err = au_jv_str(r, "errorText")) != NULL) {
		rc = au_seterr(1, "%s: %s", au_quote(url), err);
		jv_free(r);
		return rc;
	}
	/* A navigation within the document has no loader: nothing loads. */
	if ((loader = au_jv_str(r, "loaderId")) != NULL) {
		if (c->p->loader == NULL || strcmp(c->p->loader, loader) != 0) {
			free(c->p->loader);
			c->p->loader = au_xstrdup(loader);
			c->p->loaded = c->p->idle = 0;
		}
	}
	jv_free(r);
	if (w == NULL || strcmp(w, "none") != 0)
		if ((rc = wait_load(c, w != NULL && strcmp(w,
		    "networkidle") == 0)) != 0) {
			if (fromchrome >= 0 && !c->p->crashed)
				sendmsg_(c->p, "Page.stopLoading",
				    jv_invalid());
			return rc;
		}
	return where_(c);
}

static int
c_open(struct cmdctx *c)
{
	const char *url = str(c, "url");
	int rc;

	if ((rc = page_open(c->deadline > au_mono_ms() + LAUNCH_MS ?
	    c->deadline : au_mono_ms() + LAUNCH_MS)) != 0)
		return rc;
	c->p = &pages[cur];
	return url != NULL ? go(c, url) : 0;
}

static int
c_navigate(struct cmdctx *c)
{
	const char *url;
	int rc = 0;

	if ((url = need(c, "url", &rc)) == NULL)
		return rc;
	return go(c, url);
}

static int
c_wait(struct cmdctx *c)
{
	const char *f = str(c, "for"), *sel = str(c, "selector");
	const char *dur = str(c, "duration");
	int64_t ms, end;
	char *js;
	jv v;
	int rc, n = (f != NULL) + (sel != NULL) + (dur != NULL);

	if (n != 1)
		return au_seterr(EX_DATAERR, "wait: one of \"for\", "
		    "\"selector\" and \"duration\"");
	if (dur != NULL) {
		if (au_dur_parse(dur, &ms) != 0)
			return au_seterr(EX_DATAERR, "\"duration\": %s is not "
			    "a duration", au_quote(dur));
		end = au_mono_ms() + ms;
		if (end > c->deadline)
			return au_seterr(EX_DATAERR, "\"duration\" %s is past "
			    "the command's timeout", dur);
		while (au_mono_ms() < end && !stop && fromchrome >= 0)
			pump(end - au_mono_ms());
		return fromchrome < 0 ? au_seterr(EX_UNAVAILABLE, "%s",
		    gonewhy) : 0;
	}
	if (f != NULL) {
		if (strcmp(f, "load") != 0 && strcmp(f, "networkidle") != 0)
			return au_seterr(EX_DATAERR, "\"for\" is load or "
			    "networkidle, not %s", au_quote(f));
		return wait_load(c, strcmp(f, "networkidle") == 0);
	}
	js = fncall("function (s) { return document.querySelector(s) !== "
	    "null; }", jv_string(sel));
	for (;;) {
		if ((rc = evaluate(c, js, &v)) != 0 &&
		    strstr(au_errmsg(), "context") == NULL)
			break;
		if (rc == 0 && jv_get_kind(v) == JV_KIND_TRUE) {
			jv_free(v);
			break;
		}
		jv_free(v);
		if (au_mono_ms() + 100 >= c->deadline) {
			rc = au_seterr(EX_TEMPFAIL, "nothing matched %s in "
			    "time", au_quote(sel));
			break;
		}
		/* Between looks the pipe is read, so requests go on. */
		end = au_mono_ms() + 100;
		while (au_mono_ms() < end && fromchrome >= 0)
			pump(end - au_mono_ms());
	}
	free(js);
	return rc;
}

static int
c_eval(struct cmdctx *c)
{
	const char *js;
	struct au_buf b = AU_BUF_INIT;
	jv v;
	int rc = 0;

	if ((js = need(c, "expression", &rc)) == NULL ||
	    (rc = evaluate(c, js, &v)) != 0)
		return rc;
	au_json_dump(&b, v);
	c->own = b.s;
	c->payload = (const unsigned char *)b.s;
	c->npayload = b.len;
	set(c, "value", v);
	return 0;
}

/* text and html: of the element sel matches, or the page. */
static int
c_read(struct cmdctx *c, const char *what)
{
	const char *sel = str(c, "selector");
	char *js, *f;
	jv v;
	int rc;

	f = au_xasprintf("function (s) { var e = s === null ? %s : "
	    "document.querySelector(s); if (e === null) throw new "
	    "Error('nothing matches ' + s); return e.%s; }",
	    strcmp(what, "text") == 0 ? "document.body" :
	    "document.documentElement",
	    strcmp(what, "text") == 0 ? "innerText" : "outerHTML");
	js = fncall(f, sel ? jv_string(sel) : jv_null());
	rc = evaluate(c, js, &v);
	free(js);
	free(f);
	if (rc != 0)
		return rc;
	if (jv_get_kind(v) != JV_KIND_STRING)
		v = jv_string("");
	c->own = au_xstrdup(jv_string_value(v));
	c->payload = (const unsigned char *)c->own;
	c->npayload = strlen(c->own);
	set(c, what, v);
	return 0;
}

/* The element sel matches, scrolled into view: its center. */
static int
center(struct cmdctx *c, const char *sel, double *x, double *y)
{
	char *js = fncall("function (s) { var e = document.querySelector(s); "
	    "if (e === null) throw new Error('nothing matches ' + s); "
	    "e.scrollIntoView({ block: 'center', inline: 'center' }); "
	    "var r = e.getBoundingClientRect(); "
	    "if (r.width === 0 || r.height === 0) throw new Error(s + "
	    "' is not visible'); "
	    "return [r.left + r.width / 2, r.top + r.height / 2]; }",
	    jv_string(sel));
	jv v;
	int rc = evaluate(c, js, &v);

	free(js);
	if (rc != 0)
		return rc;
	*x = jv_number_value(jv_array_get(jv_copy(v), 0));
	*y = jv_number_value(jv_array_get(v, 1));
	return 0;
}

static int
c_click(struct cmdctx *c)
{
	static const char *const kinds[] = { "mouseMoved", "mousePressed",
	    "mouseReleased" };
	const char *sel;
	double x, y;
	jv r;
	int rc = 0, i;

	if ((sel = need(c, "selector", &rc)) == NULL ||
	    (rc = center(c, sel, &x, &y)) != 0)
		return rc;
	for (i = 0; i < 3; i++) {
		jv e = JV_OBJECT(jv_string("type"), jv_string(kinds[i]),
		    jv_string("x"), jv_number(x), jv_string("y"),
		    jv_number(y));

		if (i > 0)
			e = jv_object_set(jv_object_set(e,
			    jv_string("button"), jv_string("left")),
			    jv_string("clickCount"), jv_number(1));
		if ((rc = call(c->p, "Input.dispatchMouseEvent", e,
		    c->deadline, &r)) != 0)
			return rc;
		jv_free(r);
	}
	set(c, "x", jv_number(x));
	set(c, "y", jv_number(y));
	return 0;
}

static int
c_type(struct cmdctx *c)
{
	const char *sel, *text;
	char *js;
	jv v, r;
	int rc = 0;

	if ((sel = need(c, "selector", &rc)) == NULL ||
	    (text = need(c, "text", &rc)) == NULL)
		return rc;
	js = fncall("function (s) { var e = document.querySelector(s); "
	    "if (e === null) throw new Error('nothing matches ' + s); "
	    "e.focus(); if (document.activeElement !== e) throw new "
	    "Error(s + ' cannot take the focus'); return true; }",
	    jv_string(sel));
	rc = evaluate(c, js, &v);
	free(js);
	if (rc != 0)
		return rc;
	jv_free(v);
	if ((rc = call(c->p, "Input.insertText", JV_OBJECT(jv_string("text"),
	    jv_string(text)), c->deadline, &r)) != 0)
		return rc;
	jv_free(r);
	return 0;
}

/* Write the base64 data to path, which becomes what the command's
 * digest covers: 0, or 73, 74. */
static int
save(struct cmdctx *c, const char *path, const char *b64)
{
	size_t len = strlen(b64), n, off = 0;
	unsigned char *d = au_xmalloc(len / 4 * 3 + 3);
	int got = EVP_DecodeBlock(d, (const unsigned char *)b64, (int)len);
	int fd, rc = 0;
	ssize_t w;

	if (got < 0) {
		free(d);
		return au_seterr(EX_SOFTWARE, "the browser sent bad base64");
	}
	/* EVP_DecodeBlock counts the padding as bytes. */
	for (n = (size_t)got; len > 0 && b64[len - 1] == '='; len--)
		n--;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0666)) < 0) {
		free(d);
		return au_seterr(EX_CANTCREAT, "%s:", au_quote(path));
	}
	while (rc == 0 && off < n) {
		if ((w = write(fd, d + off, n - off)) >= 0)
			off += (size_t)w;
		else if (errno != EINTR)
			rc = au_seterr(EX_IOERR, "%s:", au_quote(path));
	}
	if (close(fd) != 0 && rc == 0)
		rc = au_seterr(EX_IOERR, "%s:", au_quote(path));
	if (rc != 0) {
		free(d);
		return rc;
	}
	set(c, "path", jv_string(path));
	set(c, "bytes", jv_number((double)n));
	c->own = (char *)d;
	c->payload = d;
	c->npayload = n;
	c->binary = 1;
	return 0;
}

static int
num(struct cmdctx *c, const char *key, double *v, int *rc)
{
	jv n = jv_object_get(jv_copy(c->rec), jv_string(key));

	if (!jv_is_valid(n)) {
		jv_free(n);
		return 0;
	}
	if (jv_get_kind(n) != JV_KIND_NUMBER || jv_number_value(n) < 0 ||
	    jv_number_value(n) > 100000) {
		jv_free(n);
		*rc = au_seterr(EX_DATAERR, "\"%s\" is not a size", key);
		return -1;
	}
	*v = jv_number_value(n);
	jv_free(n);
	return 1;
}

static int
metrics(struct cmdctx *c, int w, int h)
{
	jv r;
	int rc = call(c->p, "Emulation.setDeviceMetricsOverride", JV_OBJECT(
	    jv_string("width"), jv_number(w), jv_string("height"),
	    jv_number(h), jv_string("deviceScaleFactor"), jv_number(1),
	    jv_string("mobile"), jv_false()), c->deadline, &r);

	jv_free(r);
	return rc;
}

static int
c_screenshot(struct cmdctx *c)
{
	const char *path;
	jv params = JV_OBJECT(jv_string("format"), jv_string("png")), r;
	jv clip = jv_object_get(jv_copy(c->rec), jv_string("clip"));
	jv full = jv_object_get(jv_copy(c->rec), jv_string("full_page"));
	double w = width, h = height, cv[4];
	static const char *const ck[] = { "x", "y", "width", "height" };
	const unsigned char *png;
	int rc = 0, resized = 0, i;

	if ((path = need(c, "path", &rc)) == NULL ||
	    num(c, "width", &w, &rc) < 0 || num(c, "height", &h, &rc) < 0)
		goto out;
	if (w < 1 || h < 1) {
		rc = au_seterr(EX_DATAERR, "\"width\" and \"height\" are 1 or "
		    "more");
		goto out;
	}
	if (jv_is_valid(clip)) {
		for (i = 0; i < 4; i++) {
			jv x = jv_get_kind(clip) == JV_KIND_OBJECT ?
			    jv_object_get(jv_copy(clip), jv_string(ck[i])) :
			    jv_invalid();

			if (jv_get_kind(x) != JV_KIND_NUMBER ||
			    jv_number_value(x) < 0 || (i >= 2 &&
			    jv_number_value(x) < 1)) {
				jv_free(x);
				rc = au_seterr(EX_DATAERR, "\"clip\" is {\"x\", "
				    "\"y\", \"width\", \"height\"} in CSS "
				    "pixels");
				goto out;
			}
			cv[i] = jv_number_value(x);
			jv_free(x);
		}
		params = jv_object_set(params, jv_string("clip"), JV_OBJECT(
		    jv_string("x"), jv_number(cv[0]), jv_string("y"),
		    jv_number(cv[1]), jv_string("width"), jv_number(cv[2]),
		    jv_string("height"), jv_number(cv[3]),
		    jv_string("scale"), jv_number(1)));
		params = jv_object_set(params,
		    jv_string("captureBeyondViewport"), jv_true());
	}
	if ((int)w != width || (int)h != height) {
		if ((rc = metrics(c, (int)w, (int)h)) != 0)
			goto out;
		resized = 1;
	}
	if (jv_get_kind(full) == JV_KIND_TRUE && !jv_is_valid(clip)) {
		jv size;

		if ((rc = call(c->p, "Page.getLayoutMetrics", jv_invalid(),
		    c->deadline, &r)) != 0)
			goto out;
		size = jv_object_get(r, jv_string("cssContentSize"));
		params = jv_object_set(params, jv_string("clip"), JV_OBJECT(
		    jv_string("x"), jv_number(0), jv_string("y"),
		    jv_number(0), jv_string("width"), jv_object_get(
		    jv_copy(size), jv_string("width")), jv_string("height"),
		    jv_object_get(jv_copy(size), jv_string("height")),
		    jv_string("scale"), jv_number(1)));
		params = jv_object_set(params,
		    jv_string("captureBeyondViewport"), jv_true());
		jv_free(size);
	}
	rc = call(c->p, "Page.captureScreenshot", params, c->deadline, &r);
	params = jv_invalid();
	if (rc == 0) {
		rc = save(c, path, au_jv_str(r, "data") ? au_jv_str(r, "data")
		    : "");
		jv_free(r);
	}
	/* The size of the picture, from its IHDR. */
	png = c->payload;
	if (rc == 0 && c->npayload >= 24 && memcmp(png, "\x89PNG", 4) == 0) {
		set(c, "width", jv_number((double)((uint32_t)png[16] << 24 |
		    (uint32_t)png[17] << 16 | (uint32_t)png[18] << 8 |
		    png[19])));
		set(c, "height", jv_number((double)((uint32_t)png[20] << 24 |
		    (uint32_t)png[21] << 16 | (uint32_t)png[22] << 8 |
		    png[23])));
	}
	if (resized && fromchrome >= 0 && !c->p->crashed) {
		int back = metrics(c, width, height);

		if (rc == 0)
			rc = back;
	}
out:
	jv_free(params);
	jv_free(clip);
	jv_free(full);
	return rc;
}

static int
c_pdf(struct cmdctx *c)
{
	const char *path;
	jv land = jv_object_get(jv_copy(c->rec), jv_string("landscape")), r;
	int rc = 0;

	if ((path = need(c, "path", &rc)) == NULL) {
		jv_free(land);
		return rc;
	}
	if ((rc = call(c->p, "Page.printToPDF", JV_OBJECT(
	    jv_string("printBackground"), jv_true(),
	    jv_string("landscape"), jv_get_kind(land) == JV_KIND_TRUE ?
	    jv_true() : jv_false()), c->deadline, &r)) != 0) {
		jv_free(land);
		return rc;
	}
	jv_free(land);
	rc = save(c, path, au_jv_str(r, "data") ? au_jv_str(r, "data") : "");
	jv_free(r);
	return rc;
}

static int
c_close(struct cmdctx *c)
{
	size_t i = (size_t)(c->p - pages);
	jv r;
	int rc;

	rc = call(NULL, "Target.closeTarget", JV_OBJECT(
	    jv_string("targetId"), jv_string(c->p->target)), c->deadline, &r);
	jv_free(r);
	set(c, "page", jv_number(c->p->n));
	page_free(c->p);
	memmove(&pages[i], &pages[i + 1], (npages - i - 1) * sizeof *pages);
	npages--;
	cur = (int)npages - 1;
	c->p = NULL;
	return rc == EX_UNAVAILABLE ? rc : 0;
}

/* The end of the browser, and of a detached session: the commands after
 * it are not read. */
static int
c_quit(struct cmdctx *c)
{
	(void)c;
	quitting = 1;
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(struct cmdctx *);
	int onpage;		/* it needs a page: the current, or a new */
} commands[] = {
	{ "open", c_open, 0 },
	{ "navigate", c_navigate, 1 },
	{ "wait", c_wait, 1 },
	{ "eval", c_eval, 1 },
	{ "text", NULL, 1 },
	{ "html", NULL, 1 },
	{ "click", c_click, 1 },
	{ "type", c_type, 1 },
	{ "screenshot", c_screenshot, 1 },
	{ "pdf", c_pdf, 1 },
	{ "close", c_close, 1 },
	{ "quit", c_quit, 0 },
};

/* ---- the human loop and the audit log ---- */

static struct sqlite3 *
state(void)
{
	if (db == NULL)
		db = au_xdb_open();
	return db;
}

/* Ask a person about rec (the command, borrowed): 0 approved, 77
 * denied, 75 not answered in time; the request's id into the result. */
static int
ask(struct cmdctx *c, const char *command)
{
	struct au_buf subj = AU_BUF_INIT, sum = AU_BUF_INIT, det = AU_BUF_INIT;
	jv id = jv_object_get(jv_copy(c->rec), jv_string("id"));
	const char *st, *reason;
	const char *what = str(c, "url") ? str(c, "url") :
	    str(c, "expression") ? str(c, "expression") : str(c, "selector");
	char aid[AU_ID_LEN];
	jv r;
	int rc;

	au_buf_addf(&subj, "browser %s", command);
	if (jv_get_kind(id) == JV_KIND_STRING)
		au_buf_addf(&subj, " id %s", jv_string_value(id));
	else if (jv_get_kind(id) == JV_KIND_NUMBER) {
		au_buf_adds(&subj, " id ");
		au_json_dump(&subj, id);
	}
	jv_free(id);
	au_buf_adds(&sum, what != NULL ? what : command);
	au_json_dump(&det, c->rec);
	rc = au_approval_create(state(), au_prog, subj.s, sum.s, det.s,
	    approval_ms > 0 ? au_now_ms() + approval_ms : 0, aid);
	au_buf_free(&subj);
	au_buf_free(&sum);
	au_buf_free(&det);
	if (rc != 0)
		au_die(rc, "%s", au_errmsg());
	set(c, "approval", jv_string(aid));
	rc = au_approval_wait(db, aid, approval_ms, &stop, &r);
	if (rc != 0 && rc != EX_TEMPFAIL)
		au_die(rc, "%s", au_errmsg());
	st = au_jv_str(r, "status");
	reason = au_jv_str(r, "reason");
	if (strcmp(st, "approved") == 0)
		rc = 0;
	else if (strcmp(st, "denied") == 0)
		rc = au_seterr(EX_NOPERM, "approval %s denied%s%s", aid,
		    reason ? ": " : "", reason ? reason : "");
	else
		rc = au_seterr(EX_TEMPFAIL, "approval %s not given in time",
		    aid);
	jv_free(r);
	return rc;
}

/* The command and its result into the session's transcript: the
 * result less what it carried (the value, the text, the HTML), which is
 * kept as a terminal's output is: its size, its SHA-256 (hex, or NULL
 * with no payload) and, when it is text, its first AU_WS_KEEP bytes. */
static void
transcribe(struct cmdctx *c, const char *hex)
{
	jv r = jv_copy(c->res);
	int rc;

	r = jv_object_delete(r, jv_string("value"));
	r = jv_object_delete(r, jv_string("text"));
	r = jv_object_delete(r, jv_string("html"));
	if ((rc = au_ws_log(db, sid, "input", jv_copy(c->rec), NULL, 0, -1,
	    NULL)) != 0 || (rc = au_ws_log(db, sid, "output", r,
	    c->binary ? NULL : (const char *)c->payload, c->npayload,
	    hex != NULL ? (int64_t)c->npayload : -1, hex)) != 0)
		au_die(rc, "%s", au_errmsg());
}

/* The audit event of a command: the command as given, how it ended,
 * and the digest hex (or NULL) of what it produced (the value, the
 * text, the file). */
static void
audit_event(struct cmdctx *c, const char *hex)
{
	static const char *const keep[] = { "page", "ok", "error",
	    "exit_code", "approval", "url", "bytes", NULL };
	jv e, cmdrec = jv_object_delete(jv_copy(c->rec), jv_string("type"));
	int i, rc;

	e = JV_OBJECT(jv_string("type"), jv_string("browser.call"),
	    jv_string("command"), cmdrec, jv_string("session"),
	    jv_string(sid));
	for (i = 0; keep[i] != NULL; i++) {
		jv v = jv_object_get(jv_copy(c->res), jv_string(keep[i]));

		if (jv_is_valid(v))
			e = jv_object_set(e, jv_string(keep[i]), v);
		else
			jv_free(v);
	}
	if (hex != NULL)
		e = jv_object_set(e, jv_string("sha256"), jv_string(hex));
	e = au_jv_redact_names(e, NULL);
	rc = au_audit_append(audit, e, NULL, NULL);
	jv_free(e);
	if (rc != 0)
		au_die(rc, "audit: %s", au_errmsg());
}

/* A record (borrowed) out: to standard output, or from a holder to its
 * client. */
static void
put(jv r)
{
	struct au_buf b = AU_BUF_INIT;

	if (holder == NULL) {
		au_out_rec(r);
		return;
	}
	au_json_dump(&b, r);
	au_ws_send(holder, b.s, b.len);
	au_buf_free(&b);
}

/* Run one browser.command record (borrowed) and answer it. */
static void
run(jv rec)
{
	struct cmdctx c = { rec, NULL, 0, jv_invalid(), NULL, 0, 0, NULL };
	unsigned char h[AU_AUDIT_HASH];
	char hex[2 * AU_AUDIT_HASH + 1];
	const char *name = au_jv_str(rec, "command"), *t;
	jv id = jv_object_get(jv_copy(rec), jv_string("id"));
	jv ap = jv_object_get(jv_copy(rec), jv_string("approval"));
	int64_t start = au_mono_ms(), ms = timeout_ms;
	size_t i;
	int rc = 0;

	c.res = JV_OBJECT(jv_string("type"), jv_string("browser.result"));
	if (jv_get_kind(id) == JV_KIND_STRING ||
	    jv_get_kind(id) == JV_KIND_NUMBER)
		set(&c, "id", jv_copy(id));
	jv_free(id);
	for (i = 0; name != NULL && i < sizeof commands / sizeof commands[0];
	    i++)
		if (strcmp(name, commands[i].name) == 0)
			break;
	if (name != NULL)
		set(&c, "command", jv_string(name));
	if (name == NULL)
		rc = au_seterr(EX_DATAERR, "\"command\" is missing");
	else if (i == sizeof commands / sizeof commands[0])
		rc = au_seterr(EX_DATAERR, "no command %s", au_quote(name));
	else if ((t = str(&c, "timeout")) != NULL && au_dur_parse(t, &ms))
		rc = au_seterr(EX_DATAERR, "\"timeout\": %s is not a duration",
		    au_quote(t));
	else if (jv_is_valid(ap) && (jv_get_kind(ap) != JV_KIND_STRING ||
	    strcmp(jv_string_value(ap), "required") != 0))
		rc = au_seterr(EX_DATAERR, "\"approval\" is \"required\" or "
		    "absent");
	else if (jv_is_valid(ap))
		rc = ask(&c, name);
	if (rc == 0 && fromchrome < 0)
		rc = au_seterr(EX_UNAVAILABLE, "%s", gonewhy);
	c.deadline = au_mono_ms() + ms;
	if (rc == 0 && commands[i].onpage)
		c.p = page_for(rec, c.deadline, &rc);
	if (rc == 0)
		rc = commands[i].fn != NULL ? commands[i].fn(&c) :
		    c_read(&c, name);
	if (c.p != NULL)
		set(&c, "page", jv_number(c.p->n));
	set(&c, "ok", jv_bool(rc == 0));
	if (rc != 0) {
		set(&c, "error", jv_string(au_errmsg()));
		set(&c, "exit_code", jv_number(rc));
	}
	set(&c, "elapsed_ms", jv_number((double)(au_mono_ms() - start)));
	put(c.res);
	if (c.payload != NULL) {
		struct au_sha256 *s = au_sha256_new();

		au_sha256_add(s, c.payload, c.npayload);
		au_sha256_end(s, h);
		au_hex(h, sizeof h, hex);
	}
	/* The transcript and the audit event in one transaction, as the
	 * commands come fast. */
	au_xdb_begin(db);
	transcribe(&c, c.payload != NULL ? hex : NULL);
	if (audit != NULL)
		audit_event(&c, c.payload != NULL ? hex : NULL);
	au_xdb_commit(db);
	outcome(rc);
	jv_free(ap);
	jv_free(c.res);
	free(c.own);
}

/* ---- reading records while the browser talks ---- */

static void
notify(void *arg)
{
	(void)arg;
	(void)!write(wake[1], "", 1);
}

/* Whether a record is ready, reading the browser meanwhile: 1, or 0
 * when a signal came. */
static int
ready(struct au_in *in)
{
	struct pollfd pf[2];
	char buf[64];

	while (!au_in_wait(in, 0)) {
		if (stop)
			return 0;
		pf[0] = (struct pollfd){ wake[0], POLLIN, 0 };
		pf[1] = (struct pollfd){ fromchrome, POLLIN, 0 };
		if (poll(pf, fromchrome >= 0 ? 2 : 1, -1) < 0)
			continue;
		if (pf[0].revents & POLLIN)
			while (read(wake[0], buf, sizeof buf) > 0)
				;
		if (fromchrome >= 0 && pf[1].revents)
			pump(0);
	}
	return !stop;
}

/* --where, or NULL. */
static struct au_where *w;

/* Whether the record rec is a command to run: 1, or 0 when --where
 * leaves it out or it is reported as bad (to a holder's client too). */
static int
wanted(struct au_in *in, struct au_rec *rec, void *arg)
{
	const char *type = au_jv_str(rec->v, "type");
	int keep = 1;
	char msg[512];

	(void)arg;
	if (type == NULL || strcmp(type, "browser.command") != 0)
		snprintf(msg, sizeof msg, "not a browser.command record");
	else if (w != NULL && (keep = au_where_test(w, rec->v)) < 0)
		snprintf(msg, sizeof msg, "--where: %s", au_errmsg());
	else
		return keep;
	au_in_reject(in, rec, "%s", msg);
	if (holder != NULL)
		au_ws_error(holder, rec->line, EX_DATAERR, msg);
	return 0;
}

/* ---- the session's row ---- */

/* The row of this browser's session: running, or detached and held. */
static void
begin(void)
{
	int rc;

	if ((rc = au_ws_create(state(), JV_OBJECT(jv_string("kind"),
	    jv_string("browser"), jv_string("state"), jv_string(holder ?
	    "detached" : "running"), jv_string("holder_pid"),
	    jv_number(getpid()), jv_string("pid"), jv_number(chrome),
	    jv_string("argv"), jv_copy(cargv), jv_string("cwd"),
	    jv_string(tmpdir)), sid)) != 0)
		au_die(rc, "%s", au_errmsg());
}

/* Its end, once the browser is shut down: killed when a signal ended
 * the session, else exited, with the browser's status either way. */
static void
finish(void)
{
	jv f = JV_OBJECT(jv_string("state"), jv_string(stop ? "killed" :
	    "exited"));
	int rc;

	if (cend >= 0)
		f = jv_object_set(f, jv_string("exit_code"), jv_number(cend));
	if (csig > 0)
		f = jv_object_set(f, jv_string("signal"), jv_string(
		    sigabbrev_np(csig) ? sigabbrev_np(csig) : "?"));
	if ((rc = au_ws_update(db, sid, f)) != 0)
		au_die(rc, "%s", au_errmsg());
}

/* ---- detached sessions ---- */

/* The holder's turn: its client's commands, one client after another,
 * until a quit, a signal, or the end of the browser.  Then the browser
 * is closed, its profile removed, the session recorded as ended, and
 * the client attached, if any, told why unless it asked. */
static void
hold(void)
{
	struct au_in *in = NULL, *next;
	struct au_rec rec;
	struct pollfd pf[3];
	const char *why = NULL;
	char buf[64];

	while (!quitting && !stop && fromchrome >= 0) {
		if (in != NULL && au_in_wait(in, 0)) {
			if (!au_in_next(in, &rec)) {
				au_ws_drop(holder);
				in = NULL;
				continue;
			}
			if (wanted(in, &rec, NULL))
				run(rec.v);
			jv_free(rec.v);
			continue;
		}
		pf[0] = (struct pollfd){ wake[0], POLLIN, 0 };
		pf[1] = (struct pollfd){ fromchrome, POLLIN, 0 };
		pf[2] = (struct pollfd){ au_ws_fd(holder), POLLIN, 0 };
		if (poll(pf, 3, -1) < 0)
			continue;
		if (pf[0].revents & POLLIN)
			while (read(wake[0], buf, sizeof buf) > 0)
				;
		if (pf[1].revents)
			pump(0);
		if (pf[2].revents &&
		    (next = au_ws_accept(holder, notify, NULL)) != NULL)
			in = next;
	}
	if (fromchrome < 0 && !quitting)
		why = gonewhy;
	else if (stop)
		why = "the session was killed";
	shutdown_();
	finish();
	if (why != NULL)
		au_ws_error(holder, 0, EX_UNAVAILABLE, why);
	au_ws_close(holder);
}

/* What a holder sends its client counts in the client's status: each
 * result's exit_code, each session.error's status. */
static void
counted(jv r, void *arg)
{
	const char *t = au_jv_str(r, "type");
	jv n = jv_object_get(jv_copy(r), jv_string(
	    t != NULL && strcmp(t, "session.error") == 0 ? "status" :
	    "exit_code"));

	(void)arg;
	if (au_jv_isint(n))
		outcome((int)jv_number_value(n));
	jv_free(n);
}

static void
parse_allow(const char *arg)
{
	char *s = au_xstrdup(arg), *save = NULL, *h;

	for (h = strtok_r(s, ",", &save); h != NULL;
	    h = strtok_r(NULL, ",", &save)) {
		if (h[strcspn(h, " /:@,")] != '\0')
			au_usage_die(&cmd, "--allow: %s is not a host name",
			    au_quote(h));
		allowed = au_grow(allowed, &capallowed, nallowed + 1,
		    sizeof *allowed);
		allowed[nallowed++] = au_xstrdup(h);
	}
	free(s);
}

static int
dimension(const char *opt, const char *arg)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < 1 || v > 10000)
		au_usage_die(&cmd, "%s: %s is not a size from 1 to 10000", opt,
		    au_quote(arg));
	return (int)v;
}

int
main(int argc, char **argv)
{
	const char *arg, *attach_id = NULL;
	struct au_in *in;
	struct au_rec rec;
	size_t i;
	int c, rc, shaped = 0, detached = 0;

	au_setprog(argv[0]);
	while ((c = au_getopt(&cmd, argc, argv, &arg)) != -1) {
		shaped |= c != O_SESSION;
		switch (c) {
		case O_SESSION:
			attach_id = arg;
			break;
		case O_DETACH:
			detached = 1;
			break;
		case O_NET:
			if (strcmp(arg, "any") != 0 &&
			    strcmp(arg, "loopback") != 0)
				au_usage_die(&cmd, "--net: loopback or any, "
				    "not %s", au_quote(arg));
			netany = strcmp(arg, "any") == 0;
			break;
		case O_ALLOW:
			parse_allow(arg);
			break;
		case O_TIMEOUT:
			timeout_ms = au_opt_dur(&cmd, "--timeout", arg);
			break;
		case O_WIDTH:
			width = dimension("--width", arg);
			break;
		case O_HEIGHT:
			height = dimension("--height", arg);
			break;
		case O_APPROVAL:
			approval_ms = au_opt_dur(&cmd, "--approval-timeout",
			    arg);
			break;
		case O_NOAUDIT:
			noaudit = 1;
			break;
		}
	}
	argc -= au_optind;
	argv += au_optind;
	if (netany && nallowed > 0)
		au_usage_die(&cmd, "--allow goes with --net loopback");
	if (attach_id != NULL && shaped)
		au_usage_die(&cmd, "--session: the browser's options go with "
		    "--detach");
	if (detached && (argc > 0 || au_opts.where != NULL))
		au_usage_die(&cmd, "--detach reads no commands");
	if (au_opts.where != NULL)
		w = au_xwhere_new(au_opts.where);
	if (attach_id != NULL) {
		au_out_init();
		if ((rc = au_ws_attach(state(), attach_id, "browser", argv, argc,
		    wanted, counted, NULL, &c)) != 0)
			au_die(rc, "%s", au_errmsg());
		outcome(c);
		au_where_free(w);
		au_db_close(db);
		au_out_close();
		return worst;
	}
	if (detached)
		holder = au_ws_xdetach();
	if (!noaudit)
		audit = au_xaudit_open(state(), "audit-write --init makes the "
		    "keys; --no-audit says not to audit");
	au_out_init();
	signal(SIGPIPE, SIG_IGN);
	if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0)
		au_die(EX_OSERR, "pipe:");
	au_catch_stop(onstop);
	if ((rc = launch()) != 0) {
		if (holder == NULL)
			au_die(rc, "%s", au_errmsg());
		au_err("%s", au_errmsg());
		au_ws_xlisten(holder, NULL, NULL, rc);
		exit(rc);
	}

	begin();
	if (holder != NULL) {
		au_ws_xlisten(holder, db, sid, 0);
		hold();
	} else {
		in = au_in_open(argv, argc);
		au_in_notify(in, notify, NULL);
		while (!quitting && ready(in) && au_in_next(in, &rec)) {
			if (wanted(in, &rec, NULL))
				run(rec.v);
			jv_free(rec.v);
		}
		outcome(au_in_status(in));
		au_in_close(in);
		shutdown_();
		finish();
	}
	au_where_free(w);
	if (audit != NULL && au_audit_close(audit) != 0)
		au_die(EX_IOERR, "audit: %s", au_errmsg());
	if (db != NULL)
		au_db_close(db);
	for (i = 0; i < npages; i++)
		page_free(&pages[i]);
	free(pages);
	for (i = 0; i < nallowed; i++)
		free(allowed[i]);
	free(allowed);
	jv_free(cargv);
	au_buf_free(&inbuf);
	free(tmpdir);
	free(logpath);
	free(gonewhy);
	close(wake[0]);
	close(wake[1]);
	au_out_close();
	return stop && !detached ? 128 + stop : worst;
}
