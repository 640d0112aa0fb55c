/*
 * conf.c - where configuration lives, and the one check every secret file
 * (API keys, audit keys) must pass before it is read.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agentutils.h"

char *
au_config_path(const char *name)
{
	const char *e = getenv("XDG_CONFIG_HOME"), *home;
	struct passwd *pw;

	if (e != NULL && *e == '/')
		return xasprintf("%s/agentutils/%s", e, name);
	home = getenv("HOME");
	if ((home == NULL || *home == '\0') &&
	    (pw = getpwuid(getuid())) != NULL)
		home = pw->pw_dir;
	return xasprintf("%s/.config/agentutils/%s", home ? home : "", name);
}

int
au_secret_open(const char *path, int *out)
{
	struct stat st;
	int fd;

	*out = -1;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
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
	*out = fd;
	return 0;
}
