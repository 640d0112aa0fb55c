/*
 * sandbox.c - the firejail command line and the environment that confine
 * a tool, or a stdio MCP server, to what its spec says it needs: no
 * network unless asked, the whole file system read-only, a private home
 * and /tmp that show only the declared paths beneath them, no
 * capabilities, no new privileges, a seccomp filter, resource limits,
 * and an environment of a few harmless variables and the declared ones.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

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
