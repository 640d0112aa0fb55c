/*
 * sandbox.c - the firejail command line and the environment that confine
 * a tool, or a stdio MCP server, to what its spec says it needs: no
 * network unless asked, the whole file system read-only, a private home
 * and /tmp that show only the declared paths beneath them, no
 * capabilities, no new privileges, a seccomp filter, resource limits,
 * and an environment of a few harmless variables and the declared ones;
 * and, for root, whom RLIMIT_NPROC does not bind, a pids cgroup.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agentutils.h"

extern char **environ;

/* What every sandboxed program gets, if we have it: enough to find
 * programs and speak the user's language, and nothing that may hold a
 * secret. */
static const char *const keep[] = {
	"PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE",
	"LC_MESSAGES", "TZ", "TERM", NULL
};

struct strv {
	char **v;
	size_t n, cap;
};

static void
push(struct strv *s, char *str)
{
	s->v = au_grow(s->v, &s->cap, s->n + 2, sizeof *s->v);
	s->v[s->n++] = str;
	s->v[s->n] = NULL;
}

/* Whether path is dir or beneath it. */
static int
beneath(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	return strncmp(path, dir, n) == 0 &&
	    (path[n] == '\0' || path[n] == '/');
}

/* Whether any of the paths in v lies under dir. */
static int
any_beneath(char *const *v, const char *dir)
{
	for (; v != NULL && *v != NULL; v++)
		if (beneath(*v, dir))
			return 1;
	return 0;
}

/* --whitelist for each path of v under home or /tmp, so that the private
 * home and /tmp show it; --OPT for each path of v. */
static int
paths(struct strv *a, char *const *v, const char *home, const char *opt)
{
	for (; v != NULL && *v != NULL; v++) {
		if ((*v)[0] != '/')
			return au_seterr(EX_CONFIG, "sandbox path %s is not "
			    "absolute", au_quote(*v));
		if ((home != NULL && beneath(*v, home)) ||
		    beneath(*v, "/tmp"))
			push(a, au_xasprintf("--whitelist=%s", *v));
		push(a, au_xasprintf("--%s=%s", opt, *v));
	}
	return 0;
}

static const struct {
	int resource;
	const char *opt;
} rlimits[] = {
	{ RLIMIT_AS, "rlimit-as" },
	{ RLIMIT_CPU, "rlimit-cpu" },
	{ RLIMIT_NPROC, "rlimit-nproc" },
	{ RLIMIT_FSIZE, "rlimit-fsize" },
};

int
au_sandbox_argv(const struct au_tg_sandbox *sb, char *const *cmd,
    char ***argv)
{
	static const char *const fixed[] = {
		"firejail", "--quiet", "--noprofile", "--caps.drop=all",
		"--nonewprivs", "--seccomp", "--noroot", "--private-dev",
		"--nogroups", NULL
	};
	const char *home = getenv("HOME");
	struct strv a = { NULL, 0, 0 };
	size_t i, j;
	int rc;

	*argv = NULL;
	if (home != NULL && (home[0] != '/' || home[1] == '\0'))
		home = NULL;
	for (i = 0; fixed[i] != NULL; i++)
		push(&a, au_xstrdup(fixed[i]));
	if (!sb->network)
		push(&a, au_xstrdup("--net=none"));
	if (home == NULL || (!any_beneath(sb->read, home) &&
	    !any_beneath(sb->write, home)))
		push(&a, au_xstrdup("--private"));
	if (!any_beneath(sb->read, "/tmp") && !any_beneath(sb->write, "/tmp"))
		push(&a, au_xstrdup("--private-tmp"));
	push(&a, au_xstrdup("--read-only=/"));
	if ((rc = paths(&a, sb->read, home, "read-only")) != 0 ||
	    (rc = paths(&a, sb->write, home, "read-write")) != 0) {
		au_tg_strv_free(a.v);
		return rc;
	}
	for (i = 0; i < (size_t)sb->nlimits; i++)
		for (j = 0; j < sizeof rlimits / sizeof rlimits[0]; j++)
			if (rlimits[j].resource == sb->limits[i].resource)
				push(&a, au_xasprintf("--%s=%llu",
				    rlimits[j].opt, (unsigned long long)
				    sb->limits[i].hard));
	push(&a, au_xstrdup("--"));
	for (; *cmd != NULL; cmd++)
		push(&a, au_xstrdup(*cmd));
	*argv = a.v;
	return 0;
}

char **
au_sandbox_env(const struct au_tg_sandbox *sb, char *const *extra)
{
	struct strv e = { NULL, 0, 0 };
	char *const *n;
	size_t i, len;
	const char *v;

	for (i = 0; keep[i] != NULL; i++)
		if ((v = getenv(keep[i])) != NULL)
			push(&e, au_xasprintf("%s=%s", keep[i], v));
	for (n = sb->env; n != NULL && *n != NULL; n++)
		if ((v = getenv(*n)) != NULL)
			push(&e, au_xasprintf("%s=%s", *n, v));
	for (n = extra; n != NULL && *n != NULL; n++) {
		len = strcspn(*n, "=");
		for (i = 0; i < e.n; i++)
			if (strncmp(e.v[i], *n, len + 1) == 0)
				break;
		if (i < e.n) {
			free(e.v[i]);
			e.v[i] = au_xstrdup(*n);
		} else
			push(&e, au_xstrdup(*n));
	}
	if (getenv("PATH") == NULL)
		push(&e, au_xstrdup("PATH=/usr/bin:/bin"));
	return e.v;
}

/* ---- a pids cgroup, for root ---- */

/* What firejail runs of its own beside the tool: itself, and the first
 * process of the sandbox's namespaces. */
#define FIREJAIL_PROCS 2

/* Whether word is one of the comma-separated words of list. */
static int
among(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (; list != NULL && *list != '\0'; list += strcspn(list, ","),
	    list += *list == ',')
		if (strncmp(list, word, n) == 0 && (list[n] == ',' ||
		    list[n] == '\0'))
			return 1;
	return 0;
}

/* Whether the small file path holds the word (space-separated). */
static int
holds(const char *path, const char *word)
{
	char buf[512], *t, *save;
	FILE *f = fopen(path, "re");
	size_t n;

	if (f == NULL)
		return 0;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	for (t = strtok_r(buf, " \n", &save); t; t = strtok_r(NULL, " \n",
	    &save))
		if (strcmp(t, word) == 0)
			return 1;
	return 0;
}

/* The directory of cgroup path (as /proc/self/cgroup names it) in the
 * hierarchy mounted at mnt from its root. */
static char *
mounted(const char *mnt, const char *root, const char *path)
{
	size_t n = strcmp(root, "/") == 0 ? 0 : strlen(root);

	return au_xasprintf("%s%s", mnt, strncmp(path, root, n) == 0 ?
	    path + n : path);
}

/* The directory of our own cgroup in the hierarchy that has the pids
 * controller (version 1, or version 2 with pids given to our children),
 * or NULL. */
static char *
pids_home(void)
{
	char *line = NULL, *v1 = NULL, *v2 = NULL, *dir = NULL;
	char *mnt1 = NULL, *mnt2 = NULL, *root1 = NULL, *root2 = NULL;
	size_t cap = 0;
	FILE *f;

	if ((f = fopen("/proc/self/cgroup", "re")) == NULL)
		return NULL;
	while (getline(&line, &cap, f) > 0) {
		char *c = strchr(line, ':'), *p = c ? strchr(c + 1, ':') : NULL;

		if (p == NULL)
			continue;
		*p++ = '\0';
		p[strcspn(p, "\n")] = '\0';
		if (among(c + 1, "pids"))
			v1 = au_xstrdup(p);
		else if (c[1] == '\0' && strcmp(line, "0:") == 0)
			v2 = au_xstrdup(p);
	}
	fclose(f);
	/* mountinfo: id parent dev root mountpoint ... - type source opts */
	if ((f = fopen("/proc/self/mountinfo", "re")) != NULL) {
		while (getline(&line, &cap, f) > 0) {
			char *sep = strstr(line, " - "), *fld[5], *save, *t;
			char *type, *opts;
			int i;

			if (sep == NULL)
				continue;
			*sep = '\0';
			type = strtok_r(sep + 3, " ", &save);
			(void)strtok_r(NULL, " ", &save);
			opts = strtok_r(NULL, " \n", &save);
			for (i = 0, t = strtok_r(line, " ", &save); t && i < 5;
			    t = strtok_r(NULL, " ", &save))
				fld[i++] = t;
			if (i < 5 || type == NULL)
				continue;
			if (strcmp(type, "cgroup") == 0 && among(opts, "pids") &&
			    mnt1 == NULL) {
				mnt1 = au_xstrdup(fld[4]);
				root1 = au_xstrdup(fld[3]);
			} else if (strcmp(type, "cgroup2") == 0 && mnt2 == NULL) {
				mnt2 = au_xstrdup(fld[4]);
				root2 = au_xstrdup(fld[3]);
			}
		}
		fclose(f);
	}
	free(line);
	if (v1 != NULL && mnt1 != NULL) {
		dir = mounted(mnt1, root1, v1);
	} else if (v2 != NULL && mnt2 != NULL) {
		char *sub;

		dir = mounted(mnt2, root2, v2);
		sub = au_xasprintf("%s/cgroup.subtree_control", dir);
		if (!holds(sub, "pids")) {
			free(dir);
			dir = NULL;
		}
		free(sub);
	}
	free(v1);
	free(v2);
	free(mnt1);
	free(mnt2);
	free(root1);
	free(root2);
	return dir;
}

int
au_sandbox_cgroup(const struct au_tg_sandbox *sb, char **procs)
{
	/* Where our cgroup is, found once: a stream of calls asks often. */
	static char *home;
	static int looked;
	static unsigned seq;
	char *dir, *max;
	rlim_t nproc = 0;
	int i, fd, rc = 0;

	*procs = NULL;
	for (i = 0; i < sb->nlimits; i++)
		if (sb->limits[i].resource == RLIMIT_NPROC)
			nproc = sb->limits[i].hard;
	if (nproc == 0 || geteuid() != 0)
		return 0;
	if (!looked) {
		home = pids_home();
		looked = 1;
	}
	if (home == NULL)
		return 0;
	dir = au_xasprintf("%s/agentutils.%ld.%u", home, (long)getpid(),
	    seq++);
	if (mkdir(dir, 0755) != 0) {
		rc = au_seterr(EX_UNAVAILABLE, "%s:", dir);
		free(dir);
		return rc;
	}
	max = au_xasprintf("%s/pids.max", dir);
	if ((fd = open(max, O_WRONLY | O_CLOEXEC)) < 0 ||
	    dprintf(fd, "%llu", (unsigned long long)nproc +
	    FIREJAIL_PROCS) < 0)
		rc = au_seterr(EX_UNAVAILABLE, "%s:", max);
	if (fd >= 0 && close(fd) != 0 && rc == 0)
		rc = au_seterr(EX_UNAVAILABLE, "%s:", max);
	free(max);
	if (rc != 0) {
		rmdir(dir);
		free(dir);
		return rc;
	}
	*procs = au_xasprintf("%s/cgroup.procs", dir);
	free(dir);
	return 0;
}

void
au_sandbox_cgroup_end(char *procs)
{
	char *slash;
	int i;

	if (procs == NULL)
		return;
	slash = strrchr(procs, '/');
	*slash = '\0';
	/* The last of the sandbox may take a moment to be reaped. */
	for (i = 0; i < 100 && rmdir(procs) != 0 && errno == EBUSY; i++)
		nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	free(procs);
}
