/*
 * opt.c - the command line from one option table per program.  The table
 * gives getopt_long its options, and the same table writes --help, the
 * usage line that the man page SYNOPSIS must equal, and the bash, zsh and
 * fish completions, so none of them can drift from what is parsed.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agentutils.h"

#ifndef AU_VERSION
#define AU_VERSION "0"
#endif

enum {
	O_VERSION = 1000,
	O_DB,
	O_WHERE,
	O_MAXLINE,
	O_FORMAT,
	O_COMPLETION,
};

/* The shared options, in the order usage shows them; hidden ones have no
 * help line and stay out of usage. */
static const struct au_opt shared_head[] = {
	{ 'h', "help", NULL, "show this help and exit", NULL },
	{ 'q', "quiet", NULL, "report only errors", NULL },
	{ 'v', "verbose", NULL, "report what is being done", NULL },
	{ O_VERSION, "version", NULL, "show the version and exit", NULL },
	{ O_DB, "db", "PATH", "use the state file PATH", "FILE" },
	{ 0, NULL, NULL, NULL, NULL }
};
static const struct au_opt shared_tail[] = {
	{ O_WHERE, "where", "JQ", "only records for which the jq "
	    "expression JQ is true", NULL },
	{ O_MAXLINE, "max-line", "SIZE", "longest input line accepted "
	    "(default 16M)", NULL },
	{ O_FORMAT, "format", "FORMAT", "write ndjson or table (the default "
	    "on a terminal)", "ndjson table" },
	{ O_COMPLETION, "completion", "SHELL", NULL, "bash zsh fish" },
	{ 0, NULL, NULL, NULL, NULL }
};

int au_optind = 1;

static const struct au_opt **table;	/* shared and own options merged */
static size_t ntable;
static const struct au_cmd *tablecmd;

static int
wanted(const struct au_cmd *cmd, int id)
{
	if (id == O_DB)
		return (cmd->use & AU_USE_DB) != 0;
	if (id == O_WHERE || id == O_MAXLINE)
		return (cmd->use & AU_USE_RECORDS) != 0;
	if (id == O_FORMAT)
		return (cmd->use & AU_USE_TABLE) != 0;
	return 1;
}

static void
add(const struct au_cmd *cmd, const struct au_opt *o)
{
	if (!wanted(cmd, o->id))
		return;
	table = au_xreallocarray(table, ntable + 1, sizeof *table);
	table[ntable++] = o;
}

static void
build(const struct au_cmd *cmd)
{
	const struct au_opt *o;

	if (tablecmd == cmd)
		return;
	free(table);
	table = NULL;
	ntable = 0;
	tablecmd = cmd;
	for (o = shared_head; o->name; o++)
		add(cmd, o);
	for (o = cmd->opts; o && o->name; o++)
		add(cmd, o);
	for (o = shared_tail; o->name; o++)
		add(cmd, o);
}

static int
isshort(int id)
{
	return id > 0 && id < 128 && isalnum(id);
}

static int
bychar(const void *a, const void *b)
{
	return *(const char *)a - *(const char *)b;
}

/* Whether the operands part names option o with its argument ("-o OUT"):
 * a required option, which usage shows there and not in brackets. */
static int
required(const struct au_cmd *cmd, const struct au_opt *o)
{
	const char *ops = cmd->operands, *p;
	char w[128];
	int n;

	if (ops == NULL || o->arg == NULL)
		return 0;
	if (isshort(o->id))
		n = snprintf(w, sizeof w, "-%c %s", o->id, o->arg);
	else
		n = snprintf(w, sizeof w, "--%s %s", o->name, o->arg);
	for (p = ops; (p = strstr(p, w)) != NULL; p++)
		if ((p == ops || isspace((unsigned char)p[-1])) &&
		    (p[n] == '\0' || isspace((unsigned char)p[n])))
			return 1;
	return 0;
}

/* The usage words after the program name, e.g. "[-hqv]" "[--db PATH]". */
static char **
usagewords(const struct au_cmd *cmd, size_t *nw)
{
	char flags[128], **w = NULL;
	size_t i, nf = 0, n = 0;
	const struct au_opt *o;

	build(cmd);
	for (i = 0; i < ntable; i++)
		if (isshort(table[i]->id) && table[i]->arg == NULL &&
		    table[i]->help != NULL && nf < sizeof flags - 1)
			flags[nf++] = (char)table[i]->id;
	flags[nf] = '\0';
	qsort(flags, nf, 1, bychar);
	w = au_xreallocarray(w, ntable + 1, sizeof *w);
	if (nf > 0)
		w[n++] = au_xasprintf("[-%s]", flags);
	for (i = 0; i < ntable; i++) {
		o = table[i];
		if (o->help == NULL || (isshort(o->id) && o->arg == NULL) ||
		    required(cmd, o))
			continue;
		if (isshort(o->id))
			w[n++] = au_xasprintf("[-%c %s]", o->id, o->arg);
		else if (o->arg != NULL)
			w[n++] = au_xasprintf("[--%s %s]", o->name, o->arg);
		else
			w[n++] = au_xasprintf("[--%s]", o->name);
	}
	*nw = n;
	return w;
}

void
au_usage(const struct au_cmd *cmd, FILE *f)
{
	const char *form = cmd->operands ? cmd->operands : "", *nl;
	size_t nw, i, col, indent = strlen("usage: ") + strlen(cmd->name);
	char **w = usagewords(cmd, &nw);
	int first = 1;

	do {
		nl = strchr(form, '\n');
		fprintf(f, "%s%s", first ? "usage: " : "       ", cmd->name);
		col = indent;
		for (i = 0; first && i < nw; i++) {
			if (col + 1 + strlen(w[i]) > 79) {
				fprintf(f, "\n%*s", (int)indent, "");
				col = indent;
			}
			col += fprintf(f, " %s", w[i]);
		}
		if (nl ? nl > form : *form != '\0') {
			int len = nl ? (int)(nl - form) : (int)strlen(form);

			if (col + 1 + (size_t)len > 79)
				fprintf(f, "\n%*s", (int)indent, "");
			fprintf(f, " %.*s", len, form);
		}
		fputc('\n', f);
		first = 0;
		form = nl ? nl + 1 : NULL;
	} while (form != NULL);
	for (i = 0; i < nw; i++)
		free(w[i]);
	free(w);
}

static void
help(const struct au_cmd *cmd)
{
	size_t i, width = 0, len;
	char left[96];
	const struct au_opt *o;

	au_usage(cmd, stdout);
	if (cmd->summary)
		printf("\n%s\n", cmd->summary);
	printf("\noptions:\n");
	for (i = 0; i < ntable; i++) {
		o = table[i];
		len = strlen(o->name) + (o->arg ? strlen(o->arg) + 1 : 0);
		if (o->help && len > width)
			width = len;
	}
	for (i = 0; i < ntable; i++) {
		o = table[i];
		if (o->help == NULL)
			continue;
		snprintf(left, sizeof left, "%s%s%s", o->name,
		    o->arg ? " " : "", o->arg ? o->arg : "");
		if (isshort(o->id))
			printf("  -%c, --%-*s  %s\n", o->id, (int)width, left,
			    o->help);
		else
			printf("      --%-*s  %s\n", (int)width, left, o->help);
	}
	printf("\nSee %s(1).\n", cmd->name);
}

static AU_NORETURN void
finish(void)
{
	au_out_close();
	exit(0);
}

void
au_usage_die(const struct au_cmd *cmd, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fflush(stdout);
	fprintf(stderr, "%s: %s\n", au_prog, msg);
	au_usage(cmd, stderr);
	exit(EX_USAGE);
}

/* What was wrong with the option word a, which getopt_long refused. */
static AU_NORETURN void
badopt(const struct au_cmd *cmd, const char *a)
{
	char name[128], s[3] = { '-', (char)optopt, '\0' };
	size_t i, len, n = 0;

	if (strncmp(a, "--", 2) != 0)
		au_usage_die(cmd, "unknown option %s", au_quote(s));
	len = strcspn(a + 2, "=");
	snprintf(name, sizeof name, "--%.*s", (int)len, a + 2);
	if (optopt != 0)
		au_usage_die(cmd, "option %s takes no argument",
		    au_quote(name));
	for (i = 0; i < ntable; i++)
		if (strncmp(table[i]->name, a + 2, len) == 0)
			n++;
	if (n > 1)
		au_usage_die(cmd, "ambiguous option %s", au_quote(name));
	au_usage_die(cmd, "unknown option %s", au_quote(name));
}

int
au_table(void)
{
	return au_opts.table >= 0 ? au_opts.table : isatty(STDOUT_FILENO);
}

int64_t
au_opt_dur(const struct au_cmd *cmd, const char *opt, const char *arg)
{
	int64_t ms;

	if (au_dur_parse(arg, &ms) != 0)
		au_usage_die(cmd, "%s: invalid duration %s", opt,
		    au_quote(arg));
	return ms;
}

int
au_getopt(const struct au_cmd *cmd, int argc, char **argv, const char **arg)
{
	static struct option *lo;
	static char so[256];
	static const struct au_cmd *built;
	const struct au_opt *o;
	size_t i, n = 0;
	uint64_t size;
	int c;

	if (built != cmd) {
		build(cmd);
		free(lo);
		lo = au_xcalloc(ntable + 1, sizeof *lo);
		so[n++] = ':';
		for (i = 0; i < ntable; i++) {
			o = table[i];
			lo[i].name = o->name;
			lo[i].has_arg = o->arg ? required_argument :
			    no_argument;
			lo[i].val = o->id;
			if (isshort(o->id) && n < sizeof so - 3) {
				so[n++] = (char)o->id;
				if (o->arg)
					so[n++] = ':';
			}
		}
		so[n] = '\0';
		built = cmd;
		opterr = 0;
		optind = 1;
	}
	for (;;) {
		*arg = NULL;
		c = getopt_long(argc, argv, so, lo, NULL);
		au_optind = optind;
		if (c == -1)
			return -1;
		*arg = optarg;
		switch (c) {
		case 'h':
			help(cmd);
			finish();
		case 'q':
			au_quiet = 1;
			break;
		case 'v':
			au_verbose++;
			break;
		case O_VERSION:
			printf("%s (agentutils) %s\n", cmd->name, AU_VERSION);
			finish();
		case O_DB:
			au_opts.db = optarg;
			break;
		case O_WHERE:
			au_opts.where = optarg;
			break;
		case O_MAXLINE:
			if (au_size_parse(optarg, &size) != 0 || size == 0 ||
			    size > (1u << 30))
				au_usage_die(cmd, "--max-line: invalid size %s "
				    "(1 to 1G)", au_quote(optarg));
			au_opts.max_line = (size_t)size;
			break;
		case O_FORMAT:
			if (strcmp(optarg, "table") == 0)
				au_opts.table = 1;
			else if (strcmp(optarg, "ndjson") == 0)
				au_opts.table = 0;
			else
				au_usage_die(cmd, "--format: unknown format %s "
				    "(ndjson or table)", au_quote(optarg));
			break;
		case O_COMPLETION:
			if (au_completion(cmd, optarg, stdout) != 0)
				au_usage_die(cmd, "--completion: unknown shell "
				    "%s (bash, zsh or fish)", au_quote(optarg));
			finish();
		case ':':
			au_usage_die(cmd, "option %s needs an argument",
			    au_quote(argv[optind - 1]));
		case '?':
			badopt(cmd, argv[optind - 1]);
		default:
			return c;
		}
	}
}

/* ---- completions ---- */

/* s with ' made safe for a single-quoted shell word. */
static void
squote(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	}
}

static const char *
funcname(const char *name)
{
	static char buf[128];
	size_t i;

	for (i = 0; name[i] && i < sizeof buf - 2; i++)
		buf[i + 1] = isalnum((unsigned char)name[i]) ? name[i] : '_';
	buf[0] = '_';
	buf[i + 1] = '\0';
	return buf;
}

/* The bash action completing a word of the given kind. */
static void
bash_action(FILE *f, const char *complete)
{
	if (complete == NULL)
		fputs("COMPREPLY=()", f);
	else if (strcmp(complete, "FILE") == 0)
		fputs("compopt -o filenames; "
		    "COMPREPLY=($(compgen -f -- \"$cur\"))", f);
	else if (strcmp(complete, "DIR") == 0)
		fputs("compopt -o filenames; "
		    "COMPREPLY=($(compgen -d -- \"$cur\"))", f);
	else if (strcmp(complete, "CMD") == 0)
		fputs("COMPREPLY=($(compgen -c -- \"$cur\"))", f);
	else
		fprintf(f, "COMPREPLY=($(compgen -W '%s' -- \"$cur\"))",
		    complete);
}

static void
bash(const struct au_cmd *cmd, FILE *f)
{
	const char *fn = funcname(cmd->name), *sep = "";
	const struct au_opt *o;
	size_t i;

	fprintf(f, "# bash completion for %s; made by \"%s --completion "
	    "bash\", do not edit\n\n%s()\n{\n"
	    "\tlocal cur=${COMP_WORDS[COMP_CWORD]} "
	    "prev=${COMP_WORDS[COMP_CWORD-1]}\n\n\tcase $prev in\n",
	    cmd->name, cmd->name, fn);
	for (i = 0; i < ntable; i++) {
		o = table[i];
		if (o->arg == NULL || o->help == NULL)
			continue;
		fputs("\t", f);
		if (isshort(o->id))
			fprintf(f, "-%c|", o->id);
		fprintf(f, "--%s)\n\t\t", o->name);
		bash_action(f, o->complete);
		fputs("\n\t\treturn\n\t\t;;\n", f);
	}
	fputs("\tesac\n\tif [[ $cur == -* ]]; then\n"
	    "\t\tCOMPREPLY=($(compgen -W '", f);
	for (i = 0; i < ntable; i++) {
		o = table[i];
		if (o->help == NULL)
			continue;
		fprintf(f, "%s", sep);
		if (isshort(o->id))
			fprintf(f, "-%c ", o->id);
		fprintf(f, "--%s", o->name);
		sep = " ";
	}
	fputs("' -- \"$cur\"))\n\t\treturn\n\tfi\n\t", f);
	bash_action(f, cmd->complete);
	fprintf(f, "\n}\n\ncomplete -F %s %s\n", fn, cmd->name);
}

/* s made safe inside a zsh _arguments description. */
static void
zdesc(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '[' || *s == ']' || *s == ':' || *s == '\\')
			fputc('\\', f);
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	}
}

static void
zsh_action(FILE *f, const char *complete)
{
	if (complete == NULL)
		fputs(" ", f);
	else if (strcmp(complete, "FILE") == 0)
		fputs("_files", f);
	else if (strcmp(complete, "DIR") == 0)
		fputs("_files -/", f);
	else if (strcmp(complete, "CMD") == 0)
		fputs("_command_names", f);
	else
		fprintf(f, "(%s)", complete);
}

static void
zsh(const struct au_cmd *cmd, FILE *f)
{
	const struct au_opt *o;
	size_t i;

	fprintf(f, "#compdef %s\n# zsh completion for %s; made by \"%s "
	    "--completion zsh\", do not edit\n\n_arguments -s -S \\\n",
	    cmd->name, cmd->name, cmd->name);
	for (i = 0; i < ntable; i++) {
		o = table[i];
		if (o->help == NULL)
			continue;
		fputs("\t'", f);
		if (isshort(o->id))
			fprintf(f, "(-%c --%s)'{-%c%s,--%s%s}'", o->id,
			    o->name, o->id, o->arg ? "+" : "", o->name,
			    o->arg ? "=" : "");
		else
			fprintf(f, "--%s%s", o->name, o->arg ? "=" : "");
		fputc('[', f);
		zdesc(f, o->help);
		fputc(']', f);
		if (o->arg) {
			fprintf(f, ":%s:", o->arg);
			zsh_action(f, o->complete);
		}
		fputs("' \\\n", f);
	}
	fputs("\t'*:operand:", f);
	zsh_action(f, cmd->complete);
	fputs("'\n", f);
}

static void
fish(const struct au_cmd *cmd, FILE *f)
{
	const struct au_opt *o;
	size_t i;

	fprintf(f, "# fish completion for %s; made by \"%s --completion "
	    "fish\", do not edit\n\n", cmd->name, cmd->name);
	if (cmd->complete == NULL || strcmp(cmd->complete, "FILE") != 0) {
		fprintf(f, "complete -c %s -f", cmd->name);
		if (cmd->complete != NULL && strcmp(cmd->complete, "DIR") == 0)
			fputs(" -a '(__fish_complete_directories)'", f);
		else if (cmd->complete != NULL)
			fprintf(f, " -a '%s'", cmd->complete);
		fputc('\n', f);
	}
	for (i = 0; i < ntable; i++) {
		o = table[i];
		if (o->help == NULL)
			continue;
		fprintf(f, "complete -c %s", cmd->name);
		if (isshort(o->id))
			fprintf(f, " -s %c", o->id);
		fprintf(f, " -l %s", o->name);
		if (o->arg != NULL) {
			if (o->complete != NULL && (strcmp(o->complete, "FILE")
			    == 0 || strcmp(o->complete, "DIR") == 0))
				fputs(" -r -F", f);
			else if (o->complete != NULL &&
			    strcmp(o->complete, "CMD") == 0)
				fputs(" -x -a '(__fish_complete_command)'", f);
			else if (o->complete != NULL)
				fprintf(f, " -x -a '%s'", o->complete);
			else
				fputs(" -x", f);
		}
		fputs(" -d '", f);
		squote(f, o->help);
		fputs("'\n", f);
	}
}

int
au_completion(const struct au_cmd *cmd, const char *shell, FILE *f)
{
	build(cmd);
	if (strcmp(shell, "bash") == 0)
		bash(cmd, f);
	else if (strcmp(shell, "zsh") == 0)
		zsh(cmd, f);
	else if (strcmp(shell, "fish") == 0)
		fish(cmd, f);
	else
		return -1;
	return 0;
}
