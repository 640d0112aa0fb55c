/*
 * test-beneath.c - paths beneath a root: the checks before the kernel
 * (absolute, "..", empty, too long), and the same escapes and ordinary
 * opens through openat2 and through the O_NOFOLLOW walk: symlinks inside
 * and pointing out, a component that is a file, the parent of a path,
 * and mkdir with and without parents, never through a symlink.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agentutils.h"
#include "tap.h"
#include "testutil.h"

static int root;

/* What au_beneath_open of path says: its exit code, the fd closed. */
static int
opens(const char *path, int flags)
{
	int fd, rc = au_beneath_open(root, path, flags, 0644, &fd);

	if (fd >= 0)
		close(fd);
	return rc;
}

static void
checks(void)
{
	char *c, *big;

	is_int(au_beneath_check("a//b/./c/", &c), 0, "a//b/./c/ is fine");
	is_str_free(c, "a/b/c", "and cleans up to a/b/c");
	is_int(au_beneath_check("./", &c), 0, "./ is the root");
	is_str_free(c, ".", "called .");
	is_int(au_beneath_check("", NULL), 65, "empty is 65");
	is_int(au_beneath_check("/etc/passwd", NULL), 77, "absolute is 77");
	is_str(au_errmsg(), "\"/etc/passwd\": absolute path, not beneath the "
	    "root", "and says so");
	is_int(au_beneath_check("..", NULL), 77, ".. alone");
	is_int(au_beneath_check("../x", NULL), 77, ".. first");
	is_int(au_beneath_check("a/../../x", NULL), 77, ".. in the middle");
	is_int(au_beneath_check("a/..", NULL), 77, ".. last");
	is_int(au_beneath_check("a/../b", NULL), 77, ".. that stays inside");
	is_int(au_beneath_check("..a/b..", NULL), 0, "..a and b.. are names");
	big = malloc(PATH_MAX + 1);
	memset(big, 'a', PATH_MAX);
	big[PATH_MAX] = '\0';
	is_int(au_beneath_check(big, NULL), 65, "PATH_MAX bytes is too long");
	free(big);
}

/* The same cases through either resolver. */
static void
resolves(const char *how)
{
	int fd, dir;
	char *name;

	is_int(opens("in.txt", O_RDONLY), 0, "%s: a file", how);
	is_int(opens("d/deep.txt", O_RDONLY), 0, "%s: a file in a directory",
	    how);
	is_int(opens(".", O_RDONLY | O_DIRECTORY), 0, "%s: the root", how);
	is_int(opens("nope", O_RDONLY), 66, "%s: missing is 66", how);
	is_int(opens("in.txt/x", O_RDONLY), 66, "%s: through a file is 66",
	    how);
	is_int(opens("out", O_RDONLY), 77, "%s: a symlink out is 77", how);
	is_str(au_errmsg(), "\"out\": a symlink on the way, not followed",
	    "%s: and says so", how);
	is_int(opens("outdir/passwd", O_RDONLY), 77, "%s: through a symlink "
	    "to /etc", how);
	is_int(opens("rel/x", O_RDONLY), 77, "%s: through a relative symlink "
	    "to ..", how);
	is_int(opens("inlink", O_RDONLY), 77, "%s: a symlink inside is not "
	    "followed either", how);
	is_int(opens("d/../in.txt", O_RDONLY), 77, "%s: .. is refused", how);
	is_int(opens("new.txt", O_WRONLY | O_CREAT | O_EXCL), 0,
	    "%s: creating", how);
	is_int(access(at("root/new.txt"), F_OK), 0, "%s: made beneath the "
	    "root", how);
	unlink(at("root/new.txt"));
	is_int(au_beneath_parent(root, "d/deep.txt", &dir, &name), 0,
	    "%s: the parent of d/deep.txt", how);
	is_str_free(name, "deep.txt", "%s: its name", how);
	ok(faccessat(dir, "deep.txt", F_OK, 0) == 0, "%s: its directory",
	    how);
	close(dir);
	is_int(au_beneath_parent(root, "outdir/x", &dir, &name), 77,
	    "%s: no parent through a symlink", how);
	ok(dir == -1 && name == NULL, "%s: and nothing open", how);
	is_int(au_beneath_parent(root, ".", &dir, &name), 65,
	    "%s: the root has no parent here", how);
	is_int(au_beneath_mkdir(root, "m/n/o", 1, 0777), 0,
	    "%s: mkdir with parents", how);
	is_int(au_beneath_mkdir(root, "m/n/o", 1, 0777), 0,
	    "%s: again is fine", how);
	is_int(au_beneath_mkdir(root, "m/n/o", 0, 0777), 73,
	    "%s: without parents it exists", how);
	is_int(au_beneath_mkdir(root, "x/y", 0, 0777), 66,
	    "%s: without parents a missing parent is 66", how);
	is_int(au_beneath_mkdir(root, "outdir/evil", 1, 0777), 77,
	    "%s: not through a symlink", how);
	is_int(au_beneath_mkdir(root, "in.txt/z", 1, 0777), 73,
	    "%s: not through a file", how);
	ok(access("/etc/evil", F_OK) != 0, "%s: nothing made outside", how);
	fd = -1;
	is_int(au_beneath_open(root, "m/n/o", O_RDONLY | O_DIRECTORY, 0, &fd),
	    0, "%s: and it opens", how);
	if (fd >= 0)
		close(fd);
	system("rm -rf -- \"$T/root/m\"");
}

int
main(void)
{
	tmpdir_make("test-beneath");
	setenv("T", tmpdir, 1);
	system("mkdir -p \"$T/root/d\" && echo in > \"$T/root/in.txt\" && "
	    "echo deep > \"$T/root/d/deep.txt\" && "
	    "ln -s /etc/passwd \"$T/root/out\" && "
	    "ln -s /etc \"$T/root/outdir\" && "
	    "ln -s ../.. \"$T/root/rel\" && "
	    "ln -s in.txt \"$T/root/inlink\"");
	root = open(at("root"), O_RDONLY | O_DIRECTORY);
	checks();
	unsetenv("AGENTUTILS_NO_OPENAT2");
	ok(!au_beneath_walking(), "openat2 by default");
	resolves("openat2");
	setenv("AGENTUTILS_NO_OPENAT2", "1", 1);
	ok(au_beneath_walking(), "the walk with AGENTUTILS_NO_OPENAT2");
	resolves("walk");
	close(root);
	tmpdir_remove();
	return done();
}
