/*
 * test-out.c - an output file that appears whole: its temporary name
 * beside the target, the mode it gets, the rename at commit, and that
 * exit, a stopping signal or a failure to create leaves nothing behind;
 * and a tree removed, the links in it as links.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agentutils.h"
#include "tap.h"
#include "testutil.h"

/* How many entries tmpdir has besides . and .. */
static int
entries(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	int n = 0;

	while (d != NULL && (e = readdir(d)) != NULL)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	if (d != NULL)
		closedir(d);
	return n;
}

static void
temp_near(void)
{
	char *name, *want;
	int fd = au_xtemp_near(at("doc.xlsx"), ".stage", &name);

	want = au_xasprintf("%s/.doc.xlsx.stage.", tmpdir);
	ok(fd >= 0 && strncmp(name, want, strlen(want)) == 0 &&
	    strlen(name) == strlen(want) + 6, "beside the target: %s", name);
	close(fd);
	unlink(name);
	free(name);
	free(want);
}

static void
commit(void)
{
	char buf[64];
	struct stat st;
	mode_t mask = umask(022);
	int fd = au_xout_open(at("out.txt"), 0666);

	ok(au_out_name() != NULL && access(au_out_name(), F_OK) == 0,
	    "the temporary file exists while it is written");
	ok(access(at("out.txt"), F_OK) != 0, "the target does not yet");
	ok(write(fd, "whole\n", 6) == 6 && close(fd) == 0, "written");
	au_xout_commit();
	ok(au_out_name() == NULL, "no temporary name after the commit");
	fd = open(at("out.txt"), O_RDONLY);
	readall(fd, buf, sizeof buf);
	is_str(buf, "whole\n", "the target has the content");
	if (fstat(fd, &st) != 0)
		st.st_mode = 0;
	is_int(st.st_mode & 0777, 0644, "mode 0666 less the umask 022");
	close(fd);
	is_int(entries(), 1, "and nothing else is left");
	unlink(at("out.txt"));

	fd = au_xout_open(at("key"), 0600);
	if (fstat(fd, &st) != 0)
		st.st_mode = 0;
	is_int(st.st_mode & 0777, 0600, "mode 0600 stays private");
	close(fd);
	au_xout_commit();
	unlink(at("key"));
	umask(mask);
}

static void
exit_early(void)
{
	int fd = au_xout_open(at("half.txt"), 0666);

	if (write(fd, "half", 4) != 4)
		_exit(3);
	exit(0);
}

static void
stopped(void)
{
	int fd = au_xout_open(at("half.txt"), 0666);

	if (write(fd, "half", 4) != 4)
		_exit(3);
	raise(SIGTERM);
	_exit(4);
}

static void
uncreatable(void)
{
	au_xout_open(at("no/such/dir/out.txt"), 0666);
}

static void
uncommitted(void)
{
	au_xout_commit();
}

static void
left_behind(void)
{
	struct child c;

	child_run(exit_early, &c);
	is_int(c.code, 0, "a program that exits before the commit");
	is_int(entries(), 0, "leaves no file");
	child_run(stopped, &c);
	is_int(c.code, 128 + SIGTERM, "one stopped by SIGTERM dies of it");
	is_int(entries(), 0, "and leaves no file either");
	child_run(uncreatable, &c);
	is_int(c.code, 73, "a directory that is not there: 73");
	ok(strstr(c.err, "no/such/dir/out.txt: cannot create: No such file") !=
	    NULL, "naming the target");
	child_run(uncommitted, &c);
	is_int(c.code, 70, "a commit with nothing open: 70");
}

/* In a child: exit 0 if the output file is in $TMPDIR, named for us. */
static void
tmp_only(void)
{
	char *want = au_xasprintf("%s/test-out.", tmpdir);
	int named;

	setenv("TMPDIR", tmpdir, 1);
	close(au_xout_open("", 0666));
	printf("%s", au_out_name());
	named = strncmp(au_out_name(), want, strlen(want)) == 0;
	free(want);
	exit(named ? 0 : 5);
}

static void
tmp_removed(void)
{
	struct child c;

	child_run(tmp_only, &c);
	is_int(c.code, 0, "\"\" is a file in $TMPDIR named for the program: "
	    "%s", c.out);
	is_int(entries(), 0, "removed at exit");
}

static void
rmtree(void)
{
	char *t = au_xstrdup(at("tree")), *keep = au_xstrdup(at("keep"));
	char *f = au_xasprintf("%s/kept", keep), *p;
	int fd;

	p = au_xasprintf("%s/a/b/c", t);
	ok(mkdir(t, 0700) == 0 && mkdir(at("tree/a"), 0700) == 0 &&
	    mkdir(at("tree/a/b"), 0700) == 0 && mkdir(p, 0700) == 0 &&
	    mkdir(keep, 0700) == 0, "a tree, a directory beside it");
	ok((fd = open(at("tree/a/b/c/x"), O_WRONLY | O_CREAT, 0600)) >= 0 &&
	    close(fd) == 0, "a file deep down");
	ok((fd = open(f, O_WRONLY | O_CREAT, 0600)) >= 0 && close(fd) == 0 &&
	    symlink(keep, at("tree/a/link")) == 0 &&
	    symlink(f, at("tree/a/b/flink")) == 0,
	    "links in the tree to the directory beside it and its file");
	is_int(au_rmtree(t), 0, "removed");
	ok(access(t, F_OK) != 0 && errno == ENOENT, "the tree is gone");
	ok(access(f, F_OK) == 0, "what its links named is not");
	is_int(au_rmtree(t), 0, "a tree that is not there: 0");
	is_int(au_rmtree(f), 0, "a file alone");
	ok(access(f, F_OK) != 0, "is removed");
	rmdir(keep);
	free(p);
	free(f);
	free(keep);
	free(t);
}

static void
table_cell(void)
{
	jv r = jv_parse("{\"s\":\"ab\",\"n\":42,\"x\":1.5,\"a\":[\"p\",\"q\",3],"
	    "\"z\":null,\"o\":{\"k\":true},\"e\":\"a\\u001b[2Jb\"}");
	struct au_buf b = AU_BUF_INIT;

	au_table_cell(&b, r, "s", 4, 1);
	au_table_cell(&b, r, "n", 3, 2);
	au_table_cell(&b, r, "x", 0, 0);
	is_str(b.s, "ab   42   1.5", "padded to the width, then the gap");
	b.len = 0;
	au_table_cell(&b, r, "a", 0, 0);
	au_buf_addc(&b, '|');
	au_table_cell(&b, r, "z", 0, 0);
	au_table_cell(&b, r, "missing", 0, 0);
	au_buf_addc(&b, '|');
	au_table_cell(&b, r, "o", 0, 0);
	is_str(b.s, "p q 3|--|{\"k\":true}", "an array's items, - for null "
	    "or missing, JSON for the rest");
	b.len = 0;
	au_table_cell(&b, r, "e", 0, 0);
	ok(strchr(b.s, '\033') == NULL, "no control character reaches the "
	    "terminal: %s", b.s);
	au_buf_free(&b);
	jv_free(r);
}

int
main(int argc, char **argv)
{
	(void)argc;
	au_setprog(argv[0]);
	tmpdir_make("test-out");
	temp_near();
	commit();
	left_behind();
	tmp_removed();
	rmtree();
	table_cell();
	tmpdir_remove();
	return done();
}
