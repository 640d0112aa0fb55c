/*
 * conf.c - where configuration and the state file live, and the one check
 * every secret file (API keys, audit keys) must pass before it is read.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agentutils.h"

/* $HOME, or the password database's idea of it; NULL if neither. */
static const char *
home(void)
{
	const char *h = getenv("HOME");
	struct passwd *pw;

	if (h != NULL && *h != '\0')
		return h;
	if ((pw = getpwuid(getuid())) != NULL && pw->pw_dir[0] != '\0')
		return pw->pw_dir;
	au_seterr(EX_CONFIG, "no home directory: set HOME");
	return NULL;
}

/* $VAR/agentutils/NAME if VAR is absolute, else ~/DFLT/agentutils/NAME. */
static char *
xdg(const char *var, const char *dflt, const char *name)
{
	const char *e = getenv(var), *h;

	if (e != NULL && *e == '/')
		return au_xasprintf("%s/agentutils/%s", e, name);
	if ((h = home()) == NULL)
		return NULL;
	return au_xasprintf("%s/%s/agentutils/%s", h, dflt, name);
}

char *
au_config_path(const char *name)
{
	return xdg("XDG_CONFIG_HOME", ".config", name);
}

const char *
au_user(void)
{
	const char *u = getenv("USER");
	struct passwd *pw;

	if (u != NULL && *u != '\0')
		return u;
	pw = getpwuid(getuid());
	return pw ? pw->pw_name : "unknown";
}

char *
au_db_path(const char *opt)
{
	const char *e;

	if (opt != NULL && *opt != '\0')
		return au_xstrdup(opt);
	if ((e = getenv("AGENTUTILS_DB")) != NULL && *e != '\0')
		return au_xstrdup(e);
	return xdg("XDG_STATE_HOME", ".local/state", "state.db");
}

int
au_secret_open(const char *path, int *out)
{
	struct stat st;
	int fd;

	*out = -1;
	/* Non-blocking, so that a FIFO is refused rather than waited on. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ELOOP)
			return au_seterr(EX_CONFIG, "%s: secret file is a "
			    "symbolic link", path);
		return au_seterr(EX_NOINPUT, "%s:", path);
	}
	if (fstat(fd, &st) != 0) {
		close(fd);
		return au_seterr(EX_NOINPUT, "%s:", path);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return au_seterr(EX_CONFIG, "%s: secret file is not a regular "
		    "file", path);
	}
	if (st.st_uid != geteuid()) {
		close(fd);
		return au_seterr(EX_CONFIG, "%s: secret file is owned by uid "
		    "%ld, not by us", path, (long)st.st_uid);
	}
	if (st.st_mode & 077) {
		close(fd);
		return au_seterr(EX_CONFIG, "%s: secret file has mode %04o; "
		    "it must be 0600 or stricter (chmod 600 %s)", path,
		    (unsigned)(st.st_mode & 07777), path);
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	*out = fd;
	return 0;
}
