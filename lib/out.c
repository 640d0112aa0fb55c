/*
 * out.c - an output file that appears whole or not at all.  It is written
 * under a hidden temporary name in its own directory (so the rename that
 * names it stays on one filesystem), synced, and renamed over the target;
 * until then exit or a stopping signal removes it, so an interrupted
 * program leaves neither a half-written file nor a temporary one.  And
 * the other end of a file's life: a tree of files removed.
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "agentutils.h"

static char *tmpname;		/* the file being written, or NULL */
static const char *target;	/* its final name ("" : none) */

static void
cleanup(void)
{
	if (tmpname != NULL)
		unlink(tmpname);
}

static void
onsig(int sig)
{
	cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

int
au_xtemp_near(const char *path, const char *tag, char **name)
{
	const char *slash = strrchr(path, '/'), *tmp = getenv("TMPDIR");
	int dl = slash != NULL ? (int)(slash - path + 1) : 0, fd;

	if (*path == '\0')
		*name = au_xasprintf("%s/%s%s.XXXXXX", tmp != NULL && *tmp !=
		    '\0' ? tmp : "/tmp", au_prog, tag);
	else
		*name = au_xasprintf("%.*s.%s%s.XXXXXX", dl, path, path + dl,
		    tag);
	if ((fd = mkstemp(*name)) < 0) {
		free(*name);
		*name = NULL;
		au_die(EX_CANTCREAT, "%s: cannot create:", *path != '\0' ?
		    au_esc(path) : "temporary file");
	}
	return fd;
}

int
au_xout_open(const char *path, mode_t mode)
{
	static int registered;
	mode_t mask;
	int fd;

	if (tmpname != NULL)
		au_die(EX_SOFTWARE, "au_xout_open: %s is still open",
		    au_esc(tmpname));
	if (!registered) {
		au_catch_stop(onsig);
		atexit(cleanup);
		registered = 1;
	}
	fd = au_xtemp_near(path, "", &tmpname);
	target = path;
	mask = umask(0);
	umask(mask);
	if (*path != '\0' && (mode & ~mask) != 0600 &&
	    fchmod(fd, mode & ~mask) != 0)
		au_die(EX_CANTCREAT, "%s: cannot create:", au_esc(path));
	return fd;
}

const char *
au_out_name(void)
{
	return tmpname;
}

void
au_xout_commit(void)
{
	int fd;

	if (tmpname == NULL || *target == '\0')
		au_die(EX_SOFTWARE, "au_xout_commit: no file to name");
	if ((fd = open(tmpname, O_RDONLY | O_CLOEXEC)) < 0 || fsync(fd) != 0 ||
	    close(fd) != 0)
		au_die(EX_IOERR, "%s:", au_esc(target));
	if (rename(tmpname, target) != 0)
		au_die(EX_CANTCREAT, "%s: cannot create:", au_esc(target));
	free(tmpname);
	tmpname = NULL;
}

/* The first failure of a removal by nftw, which gives a callback no
 * argument of its own. */
static _Thread_local int rmerr;

static int
rmone(const char *path, const struct stat *st, int kind, struct FTW *f)
{
	(void)st;
	(void)f;
	if ((kind == FTW_DP ? rmdir(path) : unlink(path)) != 0 &&
	    errno != ENOENT && rmerr == 0)
		rmerr = errno;
	return 0;
}

int
au_rmtree(const char *path)
{
	rmerr = 0;
	if (nftw(path, rmone, 16, FTW_DEPTH | FTW_PHYS) != 0 &&
	    errno != ENOENT && rmerr == 0)
		rmerr = errno;
	if (rmerr == 0)
		return 0;
	errno = rmerr;
	return -1;
}

static void
cell_text(struct au_buf *t, jv v)
{
	switch (jv_get_kind(v)) {
	case JV_KIND_STRING:
		au_buf_adds(t, au_esc(jv_string_value(v)));
		break;
	case JV_KIND_ARRAY:
		jv_array_foreach(v, i, a) {
			if (i > 0)
				au_buf_addc(t, ' ');
			cell_text(t, a);
			jv_free(a);
		}
		break;
	case JV_KIND_NULL:
	case JV_KIND_INVALID:
		au_buf_addc(t, '-');
		break;
	default:
		au_json_dump(t, v);
		break;
	}
}

void
au_table_cell(struct au_buf *b, jv r, const char *key, int width, int gap)
{
	jv v = jv_object_get(jv_copy(r), jv_string(key));
	struct au_buf t = AU_BUF_INIT;

	au_buf_adds(&t, "");
	cell_text(&t, v);
	jv_free(v);
	if (width > 0)
		au_buf_addf(b, "%-*s%*s", width, t.s, gap, "");
	else
		au_buf_adds(b, t.s);
	au_buf_free(&t);
}
