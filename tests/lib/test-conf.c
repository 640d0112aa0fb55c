/*
 * test-conf.c - conf.c: au_config_path with and without $XDG_CONFIG_HOME
 * and $HOME, and au_secret_open's checks on a key file: 0600 and 0400 are
 * read, group or other bits are 78 with a message naming the mode, a
 * missing file 66, a symbolic link, a directory, a FIFO, a device and a
 * file of another owner 78.  Files live in a mkdtemp directory.
 */
#define _XOPEN_SOURCE 700
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agentutils.h"
#include "tap.h"
#include "testutil.h"

/* A file holding "secret" with the given mode. */
static const char *
secret(const char *name, mode_t m)
{
	const char *path = at(name);

	writefile(path, "secret", 6);
	chmod(path, m);
	return path;
}

static void
test_config_path(void)
{
	char want[4096];
	struct passwd *pw;

	setenv("XDG_CONFIG_HOME", "/xdg/config", 1);
	setenv("HOME", "/home/au", 1);
	is_str_free(au_config_path("models.json"),
	    "/xdg/config/agentutils/models.json", "config: $XDG_CONFIG_HOME");
	setenv("XDG_CONFIG_HOME", "relative", 1);
	is_str_free(au_config_path("models.json"),
	    "/home/au/.config/agentutils/models.json",
	    "config: a relative $XDG_CONFIG_HOME is ignored");
	setenv("XDG_CONFIG_HOME", "", 1);
	is_str_free(au_config_path("policy.json"),
	    "/home/au/.config/agentutils/policy.json",
	    "config: an empty $XDG_CONFIG_HOME is ignored");
	unsetenv("XDG_CONFIG_HOME");
	is_str_free(au_config_path("tools.d"), "/home/au/.config/agentutils/"
	    "tools.d", "config: $HOME/.config without $XDG_CONFIG_HOME");
	unsetenv("HOME");
	pw = getpwuid(getuid());
	snprintf(want, sizeof want, "%s/.config/agentutils/mcp.json",
	    pw ? pw->pw_dir : "");
	is_str_free(au_config_path("mcp.json"), want,
	    "config: no $HOME: the passwd entry");
	setenv("HOME", tmpdir, 1);
}

/* au_secret_open on the FIFO, in a child so that a hang is a failure and
 * not the end of the test: its result, or SIGALRM after a second. */
static void
open_fifo(void)
{
	int fd;

	alarm(1);
	_exit(au_secret_open(at("fifo"), &fd));
}

static void
test_secret(void)
{
	const char *path;
	char buf[16], want[2048];
	struct child c;
	ssize_t n;
	int fd;

	path = secret("key", 0600);
	fd = -5;
	is_int(au_secret_open(path, &fd), 0, "secret: 0600 opens");
	ok(fd >= 0, "secret: with a descriptor");
	n = fd >= 0 ? read(fd, buf, sizeof buf) : -1;
	ok(n == 6 && memcmp(buf, "secret", 6) == 0,
	    "secret: reading the file");
	if (fd >= 0)
		close(fd);

	path = secret("ro", 0400);
	is_int(au_secret_open(path, &fd), 0, "secret: 0400 opens");
	if (fd >= 0)
		close(fd);

	path = secret("open", 0644);
	fd = -5;
	is_int(au_secret_open(path, &fd), EX_CONFIG, "secret: 0644 is 78");
	is_int(fd, -1, "secret: no descriptor then");
	snprintf(want, sizeof want, "%s: secret file has mode 0644; it must "
	    "be 0600 or stricter (chmod 600 %s)", path, path);
	is_str(au_errmsg(), want, "secret: the message names the mode");
	path = secret("group", 0640);
	is_int(au_secret_open(path, &fd), EX_CONFIG, "secret: 0640 is 78");
	ok(strstr(au_errmsg(), "mode 0640") != NULL, "secret: mode 0640 "
	    "named");
	path = secret("gw", 0620);
	is_int(au_secret_open(path, &fd), EX_CONFIG, "secret: 0620 is 78");
	path = secret("ow", 0602);
	is_int(au_secret_open(path, &fd), EX_CONFIG, "secret: 0602 is 78");
	path = secret("ox", 0601);
	is_int(au_secret_open(path, &fd), EX_CONFIG, "secret: 0601 is 78");

	fd = -5;
	is_int(au_secret_open(at("missing"), &fd), EX_NOINPUT,
	    "secret: missing is 66");
	is_int(fd, -1, "secret: no descriptor then");
	snprintf(want, sizeof want, "%s: No such file or directory",
	    at("missing"));
	is_str(au_errmsg(), want, "secret: the message says missing");

	secret("target", 0600);
	if (symlink(at("target"), at("link")) != 0)
		perror("symlink");
	is_int(au_secret_open(at("link"), &fd), EX_CONFIG,
	    "secret: a symbolic link to a 0600 file is 78");
	ok(strstr(au_errmsg(), "symbolic link") != NULL, "secret: says so "
	    "(%s)", au_errmsg());

	is_int(au_secret_open(tmpdir, &fd), EX_CONFIG, "secret: a directory is "
	    "78");
	ok(strstr(au_errmsg(), "not a regular file") != NULL, "secret: says "
	    "so (%s)", au_errmsg());
	is_int(au_secret_open("/dev/null", &fd), EX_CONFIG,
	    "secret: a device is 78");

	if (mkfifo(at("fifo"), 0600) != 0)
		perror("mkfifo");
	child_run(open_fifo, &c);
	is_int(c.code, EX_CONFIG, "secret: a FIFO is 78 at once, without "
	    "waiting for a writer");

	/* Another owner: root can make one; others meet root's files. */
	if (geteuid() == 0) {
		path = secret("theirs", 0600);
		if (chown(path, 65534, 65534) != 0)
			perror("chown");
		is_int(au_secret_open(path, &fd), EX_CONFIG,
		    "secret: another owner's file is 78");
		ok(strstr(au_errmsg(), "owned by uid 65534") != NULL,
		    "secret: the message names the owner (%s)", au_errmsg());
	} else {
		is_int(au_secret_open("/etc/passwd", &fd), EX_CONFIG,
		    "secret: another owner's file is 78");
		ok(strstr(au_errmsg(), "owned by uid 0") != NULL,
		    "secret: the message names the owner (%s)", au_errmsg());
	}
}

int
main(void)
{
	tmpdir_make("test-conf");
	test_config_path();
	test_secret();
	tmpdir_remove();
	return done();
}
