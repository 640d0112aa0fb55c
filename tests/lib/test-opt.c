/*
 * test-opt.c - opt.c with an option table of its own: au_getopt on many
 * command lines (clustered flags, arguments in all four forms, long-only
 * options, operands before, between and after options and after "--",
 * the shared options), each parsed in a forked child that prints what it
 * saw; --help, --version and --completion exiting 0, unknown and
 * ambiguous options, flags given an argument, missing arguments and bad
 * values exiting 64 with their messages, a full disk under --help exiting
 * 74; the exact usage text; and the bash, zsh and fish completions (every
 * option there, each script accepted by its shell when that shell is
 * installed, the bash one run), -1 for another shell.
 */
#define _XOPEN_SOURCE 700
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agentutils.h"
#include "tap.h"
#include "testutil.h"

enum { O_COLOR = AU_LONG, O_LIMIT };

static const struct au_opt opts[] = {
	{ 'n', "dry-run", NULL, "don't write anything", NULL },
	{ 'f', "format", "FMT", "write FMT [json or text]: json by default",
	    "json text" },
	{ O_COLOR, "color", NULL, "colour the output", NULL },
	{ O_LIMIT, "limit", "N", "stop after N records", NULL },
	{ 0, NULL, NULL, NULL, NULL }
};

static const struct au_cmd cmd = {
	"au-test", "[file ...]\nrun ID", "Test the option parser.", opts,
	AU_USE_DB | AU_USE_RECORDS, "FILE"
};

/* -f FMT required: the operands name it. */
static const struct au_cmd req = {
	"au-req", "-f FMT", NULL, opts + 1, 0, NULL
};

/* No options of its own, no shared extras, no operands. */
static const struct au_cmd bare = { "au-bare", NULL, NULL, NULL, 0, NULL };

static const char usage[] =
    "usage: au-test [-hnqv] [--version] [--db PATH] [-f FMT] [--color] "
    "[--limit N]\n"
    "               [--where JQ] [--max-line SIZE] [file ...]\n"
    "       au-test run ID\n";

/* In the child: parse argv with c and print what came out, as
 * "option;option; q=N v=N [db=..] [where=..] [max=..] | operands". */
static void
parse(const struct au_cmd *c, char **argv)
{
	const char *arg;
	int argc, opt, i;

	for (argc = 0; argv[argc] != NULL; argc++)
		;
	au_setprog(c->name);
	while ((opt = au_getopt(c, argc, argv, &arg)) != -1) {
		switch (opt) {
		case 'n':
			printf("dry-run;");
			break;
		case 'f':
			printf("format=%s;", arg);
			break;
		case O_COLOR:
			printf("color;");
			break;
		case O_LIMIT:
			printf("limit=%s;", arg);
			break;
		default:
			printf("?%d;", opt);
		}
	}
	printf(" q=%d v=%d", au_quiet, au_verbose);
	if (au_opts.db != NULL)
		printf(" db=%s", au_opts.db);
	if (au_opts.where != NULL)
		printf(" where=%s", au_opts.where);
	if (au_opts.max_line != 16u << 20)
		printf(" max=%zu", au_opts.max_line);
	printf(" |");
	for (i = au_optind; i < argc; i++)
		printf(" %s", argv[i]);
	printf("\n");
}

/* The command line of run's child, and where its stdout goes (NULL: a
 * temporary file). */
static const struct au_cmd *run_cmd;
static char *run_argv[16];
static const char *run_outpath;

static void
parse_child(void)
{
	int fd;

	if (run_outpath != NULL && (fd = open(run_outpath, O_WRONLY)) >= 0)
		dup2(fd, STDOUT_FILENO);
	parse(run_cmd, run_argv);
}

/* Run parse in a child on the argv given after the program name, its
 * stdout going to outpath (NULL: a temporary file). */
static void
run(const struct au_cmd *c, const char *const *args, const char *outpath,
    struct child *r)
{
	int n;

	run_cmd = c;
	run_outpath = outpath;
	run_argv[0] = (char *)c->name;
	for (n = 1; n < 15 && args[n - 1] != NULL; n++)
		run_argv[n] = (char *)args[n - 1];
	run_argv[n] = NULL;
	child_run(parse_child, r);
}

/* A command line as one string, for the test names. */
static const char *
show(const char *const *args)
{
	static char buf[512];
	size_t len = 0;

	buf[0] = '\0';
	for (; *args != NULL && len < sizeof buf; args++)
		len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s",
		    len ? " " : "", *args);
	return buf;
}

static void
test_parse(void)
{
	static const struct {
		const char *args[8];
		const char *out;
	} c[] = {
		{ { NULL }, " q=0 v=0 |\n" },
		{ { "-n" }, "dry-run; q=0 v=0 |\n" },
		{ { "-nq" }, "dry-run; q=1 v=0 |\n" },
		{ { "-qn", "-v", "-v" }, "dry-run; q=1 v=2 |\n" },
		{ { "-vv", "--verbose", "--quiet" }, " q=1 v=3 |\n" },
		{ { "-f", "text" }, "format=text; q=0 v=0 |\n" },
		{ { "-ftext" }, "format=text; q=0 v=0 |\n" },
		{ { "--format=text" }, "format=text; q=0 v=0 |\n" },
		{ { "--format", "text" }, "format=text; q=0 v=0 |\n" },
		{ { "-nfjson" }, "dry-run;format=json; q=0 v=0 |\n" },
		{ { "-f", "-n" }, "format=-n; q=0 v=0 |\n" },
		{ { "--format=" }, "format=; q=0 v=0 |\n" },
		{ { "--dry-run", "--color", "--limit", "5", "--limit=7" },
		    "dry-run;color;limit=5;limit=7; q=0 v=0 |\n" },
		{ { "a", "b" }, " q=0 v=0 | a b\n" },
		{ { "-n", "a", "b" }, "dry-run; q=0 v=0 | a b\n" },
		{ { "a", "-n", "b", "--color" },
		    "dry-run;color; q=0 v=0 | a b\n" },
		{ { "-n", "--", "-f", "x", "--color" },
		    "dry-run; q=0 v=0 | -f x --color\n" },
		{ { "--", "--" }, " q=0 v=0 | --\n" },
		{ { "-n", "-" }, "dry-run; q=0 v=0 | -\n" },
		{ { "--db", "/x.db", "--where", ".a == 1", "--max-line",
		    "64K" }, " q=0 v=0 db=/x.db where=.a == 1 max=65536 |\n" },
		{ { "--db=/y.db", "--max-line=1G" },
		    " q=0 v=0 db=/y.db max=1073741824 |\n" },
		{ { "--max-line", "1" }, " q=0 v=0 max=1 |\n" },
	};
	struct child r;
	size_t i;

	for (i = 0; i < sizeof c / sizeof c[0]; i++) {
		run(&cmd, c[i].args, NULL, &r);
		is_str(r.out, c[i].out, "getopt: %s", show(c[i].args));
		if (r.code != 0 || r.err[0] != '\0')
			printf("# exit %d: %s", r.code, r.err);
	}
}

static void
test_refuse(void)
{
	static const struct {
		const struct au_cmd *cmd;
		const char *args[4];
		const char *msg;	/* the first line of stderr */
	} c[] = {
		{ &cmd, { "-z" }, "au-test: unknown option \"-z\"" },
		{ &cmd, { "-qz" }, "au-test: unknown option \"-z\"" },
		{ &cmd, { "--bogus" }, "au-test: unknown option \"--bogus\"" },
		{ &cmd, { "--bogus=1" },
		    "au-test: unknown option \"--bogus\"" },
		{ &cmd, { "-f" }, "au-test: option \"-f\" needs an argument" },
		{ &cmd, { "--format" },
		    "au-test: option \"--format\" needs an argument" },
		{ &cmd, { "--limit" },
		    "au-test: option \"--limit\" needs an argument" },
		{ &cmd, { "--max-line", "0" },
		    "au-test: --max-line: invalid size \"0\" (1 to 1G)" },
		{ &cmd, { "--max-line", "2G" },
		    "au-test: --max-line: invalid size \"2G\" (1 to 1G)" },
		{ &cmd, { "--max-line", "ten" },
		    "au-test: --max-line: invalid size \"ten\" (1 to 1G)" },
		{ &cmd, { "--completion", "tcsh" }, "au-test: --completion: "
		    "unknown shell \"tcsh\" (bash, zsh or fish)" },
		{ &bare, { "--db", "x" }, "au-bare: unknown option \"--db\"" },
		{ &bare, { "--where", "." },
		    "au-bare: unknown option \"--where\"" },
		{ &bare, { "-n" }, "au-bare: unknown option \"-n\"" },
	};
	struct child r;
	size_t i, len;
	char *nl;

	for (i = 0; i < sizeof c / sizeof c[0]; i++) {
		run(c[i].cmd, c[i].args, NULL, &r);
		is_int(r.code, EX_USAGE, "refuse: %s exits 64",
		    show(c[i].args));
		nl = strchr(r.err, '\n');
		len = strlen(c[i].msg);
		ok(nl != NULL && (size_t)(nl - r.err) == len &&
		    strncmp(r.err, c[i].msg, len) == 0,
		    "refuse: %s says %s (%.*s)", show(c[i].args), c[i].msg,
		    nl ? (int)(nl - r.err) : 0, r.err);
		if (c[i].cmd == &cmd)
			is_str(nl ? nl + 1 : "", usage,
			    "refuse: %s, then the usage", show(c[i].args));
		is_str(r.out, "", "refuse: %s, nothing on stdout",
		    show(c[i].args));
	}
}

/* A flag given an argument, or an abbreviation of two options, is named
 * as it was written: glibc gives a flag's id in optopt, which for a
 * long-only option is no short option at all. */
static void
test_long_refused(void)
{
	static const struct {
		const char *args[2];
		const char *msg;
	} c[] = {
		{ { "--dry-run=yes" },
		    "au-test: option \"--dry-run\" takes no argument\n" },
		{ { "--color=yes" },
		    "au-test: option \"--color\" takes no argument\n" },
		{ { "--quiet=1" },
		    "au-test: option \"--quiet\" takes no argument\n" },
		{ { "--d" }, "au-test: ambiguous option \"--d\"\n" },
		{ { "--co=1" }, "au-test: ambiguous option \"--co\"\n" },
	};
	struct child r;
	size_t i;
	char *nl;

	for (i = 0; i < sizeof c / sizeof c[0]; i++) {
		run(&cmd, c[i].args, NULL, &r);
		is_int(r.code, EX_USAGE, "long: %s exits 64", c[i].args[0]);
		nl = strchr(r.err, '\n');
		if (nl != NULL)
			nl[1] = '\0';
		is_str(r.err, c[i].msg, "long: %s says so", c[i].args[0]);
	}
}

static int
has_line(const char *text, const char *line)
{
	size_t len = strlen(line);
	const char *p;

	for (p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && p[len] == '\n')
			return 1;
	return 0;
}

static void
test_exit0(void)
{
	static const char *const help[] = { "--help", NULL };
	static const char *const h[] = { "-h", "--bogus", NULL };
	static const char *const version[] = { "--version", NULL };
	static const char *const comp[] = { "--completion", "bash", NULL };
	static const char *const lines[] = {
		"  -h, --help           show this help and exit",
		"  -q, --quiet          report only errors",
		"  -v, --verbose        report what is being done",
		"      --version        show the version and exit",
		"      --db PATH        use the state file PATH",
		"  -n, --dry-run        don't write anything",
		"  -f, --format FMT     write FMT [json or text]: json by "
		    "default",
		"      --color          colour the output",
		"      --limit N        stop after N records",
		"      --where JQ       only records for which the jq "
		    "expression JQ is true",
		"      --max-line SIZE  longest input line accepted (default "
		    "16M)",
	};
	char *text;
	size_t len, i;
	struct child r;
	FILE *f;

	run(&cmd, help, NULL, &r);
	is_int(r.code, 0, "--help exits 0");
	is_str(r.err, "", "--help: nothing on stderr");
	ok(strncmp(r.out, usage, strlen(usage)) == 0,
	    "--help: starts with the usage");
	ok(has_line(r.out, "Test the option parser.") &&
	    has_line(r.out, "options:") && has_line(r.out, "See au-test(1)."),
	    "--help: summary, options, see also");
	for (i = 0; i < sizeof lines / sizeof lines[0]; i++)
		ok(has_line(r.out, lines[i]), "--help: has \"%s\"", lines[i]);
	run(&cmd, h, NULL, &r);
	ok(r.code == 0 && strncmp(r.out, usage, strlen(usage)) == 0,
	    "-h exits 0 with the help, before a bad option");

	run(&cmd, version, NULL, &r);
	is_int(r.code, 0, "--version exits 0");
	is_str(r.out, "au-test (agentutils) " AU_VERSION "\n",
	    "--version: name and version");

	run(&cmd, comp, NULL, &r);
	is_int(r.code, 0, "--completion bash exits 0");
	f = open_memstream(&text, &len);
	au_completion(&cmd, "bash", f);
	fclose(f);
	is_str(r.out, text, "--completion bash writes au_completion's "
	    "script");
	free(text);

	run(&cmd, help, "/dev/full", &r);
	is_int(r.code, EX_IOERR, "--help on a full disk exits 74");
	is_str(r.err, "au-test: write error: No space left on device\n",
	    "--help on a full disk: says so");
}

static void
usage_die(void)
{
	au_setprog("au-test");
	au_usage_die(&cmd, "too many %s", "operands");
}

static void
test_usage(void)
{
	struct child r;
	char *text;
	size_t len;
	FILE *f;

	f = open_memstream(&text, &len);
	au_usage(&cmd, f);
	fclose(f);
	is_str(text, usage, "usage: the exact text");
	free(text);
	f = open_memstream(&text, &len);
	au_usage(&bare, f);
	fclose(f);
	is_str(text, "usage: au-bare [-hqv] [--version]\n",
	    "usage: with no options or operands of its own");
	free(text);
	f = open_memstream(&text, &len);
	au_usage(&req, f);
	fclose(f);
	is_str(text, "usage: au-req [-hqv] [--version] [--color]"
	    " [--limit N] -f FMT\n",
	    "usage: a required option is shown with the operands only");
	free(text);

	child_run(usage_die, &r);
	is_int(r.code, EX_USAGE, "usage_die exits 64");
	ok(strncmp(r.err, "au-test: too many operands\n", 27) == 0 &&
	    strcmp(r.err + 27, usage) == 0, "usage_die: message, then usage");
}

/* Run argv with text on its standard input, in an environment of its
 * own (no $HOME, no startup files): its exit code and its output in out;
 * -1 if the program is not installed. */
static int
pipe_to(char *const argv[], const char *text, char *out, size_t size)
{
	char *path = au_xasprintf("PATH=%s", getenv("PATH") ? getenv("PATH") :
	    "/usr/bin:/bin");
	char *envp[] = { "HOME=/nonexistent", "LC_ALL=C", path, NULL };
	int in = tmpfd(), o = tmpfd(), rc;
	struct au_spawn sp = { argv, envp, NULL, { in, o, o }, 0, NULL, 0, NULL };
	size_t len = strlen(text);
	struct au_proc p;

	if (write(in, text, len) != (ssize_t)len)
		perror("write");
	lseek(in, 0, SEEK_SET);
	rc = au_spawn(&sp, &p);
	if (rc == 0)
		rc = au_proc_wait(&p, 10000, 1000, NULL);
	else if (rc == 127)
		rc = -1;
	close(in);
	readall(o, out, size);
	close(o);
	free(path);
	return rc;
}

/* Check the script of shell with the shell itself, if it is there. */
static void
syntax(const char *shell, char *const argv[], const char *script)
{
	char out[4096];
	int rc = pipe_to(argv, script, out, sizeof out);

	if (rc == -1)
		ok(1, "# SKIP %s is not installed", shell);
	else
		ok(rc == 0, "completion: %s accepts the %s script %s",
		    shell, shell, au_quote(out));
}

static void
test_completion(void)
{
	static const char *const longs[] = { "help", "quiet", "verbose",
	    "version", "db", "dry-run", "format", "color", "limit", "where",
	    "max-line" };
	static const char *const shells[] = { "bash", "zsh", "fish" };
	static char *const bash_n[] = { "bash", "-n", NULL };
	static char *const zsh_n[] = { "zsh", "-f", "-n", NULL };
	static char *const fish_n[] = { "fish", "--no-config",
	    "--no-execute", NULL };
	static char *const bash_s[] = { "bash", NULL };
	char *text[3], *run_bash, out[4096], want[64];
	size_t len, i, k;
	int missing, rc;
	FILE *f;

	for (k = 0; k < 3; k++) {
		f = open_memstream(&text[k], &len);
		is_int(au_completion(&cmd, shells[k], f), 0,
		    "completion: %s is 0", shells[k]);
		fclose(f);
		for (i = 0, missing = 0; i < sizeof longs / sizeof longs[0];
		    i++) {
			snprintf(want, sizeof want, k == 2 ? "-l %s " : "--%s",
			    longs[i]);
			if (strstr(text[k], want) == NULL) {
				printf("# %s lacks %s\n", shells[k], want);
				missing++;
			}
		}
		is_int(missing, 0, "completion: %s has every long option",
		    shells[k]);
		ok(strstr(text[k], "json text") != NULL,
		    "completion: %s has --format's words", shells[k]);
	}
	ok(strstr(text[0], "-n --dry-run") != NULL &&
	    strstr(text[0], "-f --format") != NULL &&
	    strstr(text[0], "\t-f|--format)\n") != NULL &&
	    strstr(text[0], "\n\t--limit)\n") != NULL &&
	    strstr(text[0], "complete -F _au_test au-test") != NULL,
	    "completion: bash has the short options, the arguments and the "
	    "binding");
	ok(has_line(text[1], "\t'(-n --dry-run)'{-n,--dry-run}'[don'\\''t "
	    "write anything]' \\") &&
	    has_line(text[1], "\t'(-f --format)'{-f+,--format=}'[write FMT "
	    "\\[json or text\\]\\: json by default]:FMT:(json text)' \\") &&
	    has_line(text[1], "\t'--limit=[stop after N records]:N: ' \\") &&
	    strncmp(text[1], "#compdef au-test\n", 17) == 0,
	    "completion: zsh lines, with quotes, brackets and colons escaped");
	ok(has_line(text[2], "complete -c au-test -s n -l dry-run -d "
	    "'don'\\''t write anything'") &&
	    has_line(text[2], "complete -c au-test -s f -l format -x -a "
	    "'json text' -d 'write FMT [json or text]: json by default'") &&
	    has_line(text[2], "complete -c au-test -l color -d 'colour the "
	    "output'") &&
	    has_line(text[2], "complete -c au-test -l db -r -F -d 'use the "
	    "state file PATH'"), "completion: fish lines");

	syntax("bash", bash_n, text[0]);
	syntax("zsh", zsh_n, text[1]);
	syntax("fish", fish_n, text[2]);

	/* Ask the bash function itself. */
	run_bash = au_xasprintf("%s\nCOMP_WORDS=(au-test --for); COMP_CWORD=1; "
	    "_au_test; echo \"${COMPREPLY[*]}\"\nCOMP_WORDS=(au-test -f ''); "
	    "COMP_CWORD=2; _au_test; echo \"${COMPREPLY[*]}\"\n"
	    "COMP_WORDS=(au-test --li); COMP_CWORD=1; _au_test; "
	    "echo \"${COMPREPLY[*]}\"\n", text[0]);
	rc = pipe_to(bash_s, run_bash, out, sizeof out);
	if (rc == -1)
		ok(1, "# SKIP bash is not installed");
	else
		is_str(out, "--format\njson text\n--limit\n",
		    "completion: bash completes options and their words");
	free(run_bash);
	for (k = 0; k < 3; k++)
		free(text[k]);

	f = open_memstream(&text[0], &len);
	is_int(au_completion(&cmd, "tcsh", f), -1, "completion: tcsh is -1");
	is_int(au_completion(&cmd, "", f), -1, "completion: \"\" is -1");
	fclose(f);
	is_int(len, 0, "completion: nothing written for another shell");
	free(text[0]);
}

int
main(void)
{
	test_parse();
	test_refuse();
	test_long_refused();
	test_exit0();
	test_usage();
	test_completion();
	return done();
}
