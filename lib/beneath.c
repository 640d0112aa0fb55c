/*
 * beneath.c - paths confined to a root directory.  A path is checked
 * before the kernel sees it (relative, no "..", shorter than PATH_MAX),
 * then resolved from the root's descriptor with the kernel's help:
 * openat2(2) with RESOLVE_BENEATH, RESOLVE_NO_SYMLINKS and
 * RESOLVE_NO_MAGICLINKS, or, where the kernel has no openat2, one
 * component at a time with openat(2) and O_NOFOLLOW.  No symlink is ever
 * followed, so a directory swapped for a symlink during the walk stops
 * it instead of leading it out.  Callers then work on (directory fd,
 * name) pairs with the *at calls, never on joined path strings.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/openat2.h>

#include "agentutils.h"

/* openat2 says EAGAIN when a rename raced with the lookup: try again. */
#define RETRIES 64

static int nosys;	/* the kernel has no openat2 */

int
au_beneath_walking(void)
{
	const char *e = getenv("AGENTUTILS_NO_OPENAT2");

	return nosys || (e != NULL && *e != '\0' && strcmp(e, "0") != 0);
}

int
au_beneath_err(int e, const char *path)
{
	errno = e;
	switch (e) {
	case ENOENT:
		return au_seterr(EX_NOINPUT, "%s: no such file or directory",
		    au_quote(path));
	case ENOTDIR:
		return au_seterr(EX_NOINPUT, "%s: a component is not a "
		    "directory", au_quote(path));
	case ELOOP:
		return au_seterr(EX_NOPERM, "%s: a symlink on the way, not "
		    "followed", au_quote(path));
	case EXDEV:
		return au_seterr(EX_NOPERM, "%s: escapes the root",
		    au_quote(path));
	case EACCES:
	case EPERM:
		return au_seterr(EX_NOPERM, "%s: permission denied",
		    au_quote(path));
	case ENAMETOOLONG:
		return au_seterr(EX_DATAERR, "%s: name too long",
		    au_quote(path));
	case EAGAIN:
		return au_seterr(EX_TEMPFAIL, "%s: renamed while resolved, "
		    "again and again", au_quote(path));
	default:
		return au_seterr(EX_IOERR, "%s:", au_quote(path));
	}
}

int
au_beneath_check(const char *path, char **clean)
{
	struct au_buf b = AU_BUF_INIT;
	const char *p = path, *e;
	size_t n;

	if (*path == '\0')
		return au_seterr(EX_DATAERR, "empty path");
	if (*path == '/')
		return au_seterr(EX_NOPERM, "%s: absolute path, not beneath "
		    "the root", au_quote(path));
	if (strlen(path) >= PATH_MAX)
		return au_seterr(EX_DATAERR, "%s: path too long (%d bytes at "
		    "most)", au_quote(path), PATH_MAX - 1);
	for (; *p != '\0'; p = e) {
		while (*p == '/')
			p++;
		e = p + strcspn(p, "/");
		n = (size_t)(e - p);
		if (n == 0 || (n == 1 && *p == '.'))
			continue;
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			au_buf_free(&b);
			return au_seterr(EX_NOPERM, "%s: \"..\" leaves the "
			    "root", au_quote(path));
		}
		if (b.len > 0)
			au_buf_addc(&b, '/');
		au_buf_add(&b, p, n);
	}
	if (b.len == 0)
		au_buf_addc(&b, '.');
	if (clean != NULL)
		*clean = b.s;
	else
		au_buf_free(&b);
	return 0;
}

static int
sys_openat2(int dir, const char *path, int flags, mode_t mode)
{
	struct open_how how;

	memset(&how, 0, sizeof how);
	how.flags = (unsigned)flags;
	how.mode = flags & O_CREAT ? mode : 0;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
	    RESOLVE_NO_MAGICLINKS;
	return (int)syscall(SYS_openat2, dir, path, &how, sizeof how);
}

int
au_beneath_opendir(int dir, const char *name)
{
	struct stat st;
	int fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);

	/* O_DIRECTORY wins over O_NOFOLLOW: a symlink says ENOTDIR. */
	if (fd < 0 && errno == ENOTDIR && fstatat(dir, name, &st,
	    AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
		errno = ELOOP;
	return fd;
}

/* The walk: each directory of clean (a checked path) opened beneath the
 * last with O_NOFOLLOW, then the last component with flags. */
static int
walk(int root, const char *clean, int flags, mode_t mode)
{
	const char *p = clean, *slash;
	char name[NAME_MAX + 1];
	int fd, next, e;
	size_t n;

	if ((fd = openat(root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	while ((slash = strchr(p, '/')) != NULL) {
		if ((n = (size_t)(slash - p)) > NAME_MAX) {
			close(fd);
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(name, p, n);
		name[n] = '\0';
		next = au_beneath_opendir(fd, name);
		e = errno;
		close(fd);
		if (next < 0) {
			errno = e;
			return -1;
		}
		fd = next;
		p = slash + 1;
	}
	next = flags & O_DIRECTORY ? au_beneath_opendir(fd, p) :
	    openat(fd, p, flags | O_NOFOLLOW, mode);
	e = errno;
	close(fd);
	errno = e;
	return next;
}

/* Open clean (a checked path) beneath root; messages name path. */
static int
resolve(int root, const char *clean, const char *path, int flags,
    mode_t mode, int *fd)
{
	int i;

	flags |= O_CLOEXEC;
	for (i = 0; !au_beneath_walking() && i < RETRIES; i++) {
		if ((*fd = sys_openat2(root, clean, flags, mode)) >= 0 ||
		    errno != EAGAIN)
			break;
	}
	if (!au_beneath_walking() && *fd < 0 && errno == ENOSYS)
		nosys = 1;
	if (au_beneath_walking())
		*fd = walk(root, clean, flags, mode);
	return *fd < 0 ? au_beneath_err(errno, path) : 0;
}

int
au_beneath_open(int root, const char *path, int flags, mode_t mode, int *fd)
{
	char *clean;
	int rc;

	*fd = -1;
	if ((rc = au_beneath_check(path, &clean)) != 0)
		return rc;
	rc = resolve(root, clean, path, flags, mode, fd);
	free(clean);
	return rc;
}

int
au_beneath_parent(int root, const char *path, int *dir, char **name)
{
	char *clean, *slash;
	int rc;

	*dir = -1;
	*name = NULL;
	if ((rc = au_beneath_check(path, &clean)) != 0)
		return rc;
	if (strcmp(clean, ".") == 0) {
		free(clean);
		return au_seterr(EX_DATAERR, "%s: the root itself",
		    au_quote(path));
	}
	if ((slash = strrchr(clean, '/')) == NULL)
		rc = resolve(root, ".", path, O_RDONLY | O_DIRECTORY, 0, dir);
	else {
		*slash = '\0';
		rc = resolve(root, clean, path, O_RDONLY | O_DIRECTORY, 0,
		    dir);
	}
	if (rc == 0)
		*name = au_xstrdup(slash ? slash + 1 : clean);
	free(clean);
	return rc;
}

int
au_beneath_mkdir(int root, const char *path, int parents, mode_t mode)
{
	char *clean, *p, *slash;
	int fd, next, rc = 0, e;

	if ((rc = au_beneath_check(path, &clean)) != 0)
		return rc;
	if (strcmp(clean, ".") == 0) {
		free(clean);
		return parents ? 0 : au_seterr(EX_CANTCREAT, "%s: exists",
		    au_quote(path));
	}
	if (!parents) {
		char *name;

		free(clean);
		if ((rc = au_beneath_parent(root, path, &fd, &name)) != 0)
			return rc;
		if (mkdirat(fd, name, mode) != 0)
			rc = errno == EEXIST ? au_seterr(EX_CANTCREAT,
			    "%s: exists", au_quote(path)) : au_beneath_err(errno, path);
		close(fd);
		free(name);
		return rc;
	}
	/* Make each missing directory, then step into it without
	 * following a symlink that might have taken its place. */
	if ((fd = openat(root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		free(clean);
		return au_beneath_err(errno, path);
	}
	for (p = clean; p != NULL; p = slash ? slash + 1 : NULL) {
		if ((slash = strchr(p, '/')) != NULL)
			*slash = '\0';
		if (mkdirat(fd, p, mode) != 0 && errno != EEXIST) {
			rc = au_beneath_err(errno, path);
			break;
		}
		next = au_beneath_opendir(fd, p);
		e = errno;
		close(fd);
		if ((fd = next) < 0) {
			rc = e == ENOTDIR ? au_seterr(EX_CANTCREAT, "%s: exists "
			    "and is not a directory", au_quote(path)) :
			    au_beneath_err(e, path);
			break;
		}
	}
	if (fd >= 0)
		close(fd);
	free(clean);
	return rc;
}
