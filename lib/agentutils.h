/*
 * agentutils.h - the one public header of libagentutils, the library every
 * agentutils program links and other runtimes may call through FFI.
 *
 * Conventions that hold for the whole library:
 *
 * - Exit codes are those of <sysexits.h>: EX_USAGE 64, EX_DATAERR 65,
 *   EX_NOINPUT 66, EX_UNAVAILABLE 69, EX_SOFTWARE 70, EX_CANTCREAT 73,
 *   EX_IOERR 74, EX_TEMPFAIL 75, EX_NOPERM 77, EX_CONFIG 78; 1 means "the
 *   answer is negative".
 * - Functions with an x prefix die (print "prog: what" and exit with the
 *   code that fits) on failure.  Plain functions return 0 on success or an
 *   exit code on failure and leave a message for au_errmsg().
 * - jv ownership follows jq: a function consumes the jv values it is given
 *   unless its comment says it borrows them, and a jv it returns belongs to
 *   the caller.  Plain pointers returned by the library are the caller's to
 *   free() unless the comment says otherwise.
 */
#ifndef AGENTUTILS_H
#define AGENTUTILS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sysexits.h>

#include <jv.h>

struct sqlite3;

#define AU_NORETURN _Noreturn
#define AU_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* ---- errors and program name (err.c) ---------------------------------- */

extern const char *au_prog;	/* program name for messages */
extern int au_quiet;		/* -q: only errors on stderr */
extern int au_verbose;		/* -v: notes on stderr */

/* Set au_prog from argv[0] (its last path component), and make sure
 * descriptors 0, 1 and 2 are open (on /dev/null if they were closed). */
void au_setprog(const char *argv0);
/* Print "prog: MSG" and exit with code; a trailing ':' in fmt appends
 * ": strerror(errno)". */
AU_NORETURN void au_die(int code, const char *fmt, ...) AU_PRINTF(2, 3);
/* Print "prog: MSG" to stderr, like au_die without exiting. */
void au_err(const char *fmt, ...) AU_PRINTF(1, 2);
/* au_err unless -q: for warnings that do not change the outcome. */
void au_warn(const char *fmt, ...) AU_PRINTF(1, 2);
/* au_err only with -v: progress notes. */
void au_note(const char *fmt, ...) AU_PRINTF(1, 2);
/* Record a message for au_errmsg() (same trailing ':' rule); returns code. */
int au_seterr(int code, const char *fmt, ...) AU_PRINTF(2, 3);
/* The message of the last failed plain call in this thread. */
const char *au_errmsg(void);
/* s in double quotes with control characters, '"' and '\' escaped; the
 * result lives in one of eight rotating per-thread buffers (256 bytes,
 * longer names are cut with "..."). */
const char *au_quote(const char *s);
/* The same without the quotes, for file names in "file:line:". */
const char *au_esc(const char *s);
/* Print "prog: FILE:LINE: MSG", the file name escaped. */
void au_errat(const char *file, long line, const char *fmt, ...)
    AU_PRINTF(3, 4);

/* ---- memory and buffers (mem.c) --------------------------------------- */

void *au_xmalloc(size_t n);
void *au_xcalloc(size_t n, size_t size);
void *au_xrealloc(void *p, size_t n);
/* realloc of an array of n members of size bytes, checked for overflow. */
void *au_xreallocarray(void *p, size_t n, size_t size);
/* p, an array with room for *cap members of size bytes, made to hold at
 * least need of them: doubling, so that appending one by one is cheap. */
void *au_grow(void *p, size_t *cap, size_t need, size_t size);
char *au_xstrdup(const char *s);
/* A NUL-terminated copy of the n bytes at s (NULs among them too). */
char *au_xstrndup(const char *s, size_t n);
/* malloc'd printf. */
char *au_xasprintf(const char *fmt, ...) AU_PRINTF(1, 2);

/* A growable byte buffer; always NUL-terminated after any add. */
struct au_buf {
	char *s;
	size_t len, cap;
};
#define AU_BUF_INIT { NULL, 0, 0 }
void au_buf_grow(struct au_buf *b, size_t more);
void au_buf_add(struct au_buf *b, const void *p, size_t n);
void au_buf_addc(struct au_buf *b, char c);
void au_buf_adds(struct au_buf *b, const char *s);
void au_buf_addf(struct au_buf *b, const char *fmt, ...) AU_PRINTF(2, 3);
void au_buf_addint(struct au_buf *b, int64_t v);
void au_buf_free(struct au_buf *b);

/* ---- string map (map.c) ----------------------------------------------- */

/* An open-addressing hash map from byte strings to non-negative longs.  It
 * does not copy keys: they must outlive the map. */
struct au_map;
struct au_map *au_map_new(size_t hint);
/* The value of key, or -1. */
long au_map_get(const struct au_map *m, const char *key, size_t len);
/* Insert key -> val unless present; returns the value already there, or -1
 * when key was inserted. */
long au_map_put(struct au_map *m, const char *key, size_t len, long val);
size_t au_map_count(const struct au_map *m);
void au_map_free(struct au_map *m);

/* ---- options (opt.c) -------------------------------------------------- */

/* One command-line option.  id is the short option character, or a value
 * from AU_LONG upward for a long-only option.  arg names the argument (NULL
 * for a flag); complete says how a shell completes it: NULL (nothing),
 * "FILE", "DIR", "CMD", or a space-separated list of the accepted words. */
struct au_opt {
	int id;
	const char *name;
	const char *arg;
	const char *help;
	const char *complete;
};
#define AU_LONG 256

/* Shared options a program takes besides -h, --version, -q and -v. */
enum {
	AU_USE_DB = 1,		/* --db PATH */
	AU_USE_RECORDS = 2,	/* --where JQ, --max-line SIZE */
};

/* A program's command line: its name, the operands part of its synopsis
 * (one form per line), a one-line summary for --help, its own options
 * ended by a zeroed entry, the shared options it takes, and how a shell
 * completes its operands ("FILE", "DIR", NULL, or a word list). */
struct au_cmd {
	const char *name;
	const char *operands;
	const char *summary;
	const struct au_opt *opts;
	unsigned use;
	const char *complete;
};

/* What the shared options set. */
struct au_opts {
	const char *db;		/* --db, or NULL */
	const char *where;	/* --where, or NULL */
	size_t max_line;	/* --max-line, default 16 MiB */
};
extern struct au_opts au_opts;

/* Next option of argv: its id, with *arg set to its argument, or -1 when
 * the options end; afterwards au_optind is the first operand.  One
 * command line per process: getopt's state is not reset.  The shared
 * options are handled here (--help, --version and --completion print and
 * exit 0); an unknown option or a missing argument exits 64. */
int au_getopt(const struct au_cmd *cmd, int argc, char **argv,
    const char **arg);
extern int au_optind;
/* "prog: MSG" then the usage on stderr, exit 64. */
AU_NORETURN void au_usage_die(const struct au_cmd *cmd, const char *fmt, ...)
    AU_PRINTF(2, 3);
/* Write the usage lines ("usage: prog ...") to f. */
void au_usage(const struct au_cmd *cmd, FILE *f);
/* Write a bash, zsh or fish completion script; 0, or -1 for another shell. */
int au_completion(const struct au_cmd *cmd, const char *shell, FILE *f);

/* ---- time, durations, sizes, ids (time.c) ----------------------------- */

#define AU_TS_LEN 25	/* "2026-01-02T03:04:05.678Z" and its NUL */
#define AU_ID_LEN 27	/* 26 Crockford base32 characters and a NUL */

/* Milliseconds since the epoch, wall clock. */
int64_t au_now_ms(void);
/* Milliseconds from a monotonic clock, for intervals. */
int64_t au_mono_ms(void);
/* Format ms since the epoch as RFC 3339 UTC with milliseconds into buf. */
char *au_ts_fmt(int64_t ms, char buf[AU_TS_LEN]);
/* Parse RFC 3339 (any offset, optional fraction) into ms; 0 or -1. */
int au_ts_parse(const char *s, int64_t *ms);
/* Parse a duration ("250ms", "1.5s", "2m", "1h30m", "7d") into ms; 0 or
 * -1.  A bare number without a unit, and more than 100 years, are refused. */
int au_dur_parse(const char *s, int64_t *ms);
/* Parse a size ("512", "64K", "16M", "1G", binary multiples); 0 or -1. */
int au_size_parse(const char *s, uint64_t *bytes);
/* A new ULID: time-sortable, and increasing within one millisecond. */
char *au_ulid(char buf[AU_ID_LEN]);

/* ---- JSON values (json.c) --------------------------------------------- */

/* Append v (borrowed) to b as compact JSON, keys in their stored order. */
void au_json_dump(struct au_buf *b, jv v);
/* Append the n bytes at s to b as a JSON string. */
void au_json_str(struct au_buf *b, const char *s, size_t n);
/* Length of the valid UTF-8 prefix of s (n when all of it is valid). */
size_t au_utf8_valid(const char *s, size_t n);
/* Check that the n bytes at s are one JSON value (RFC 8259) in valid
 * UTF-8, white space around it allowed: NULL, or what is wrong ("invalid
 * JSON: ...", "invalid UTF-8") with *at set to the offending byte's
 * offset.  Catches what jq 1.6's parser would leak on, or accept. */
const char *au_json_check(const char *s, size_t n, size_t *at);
/* The string at key of object o (borrowed), or NULL if absent or not a
 * string; the pointer lives as long as o. */
const char *au_jv_str(jv o, const char *key);
/* Name of the JSON type of v (borrowed): "object", "string", ... */
const char *au_jv_kind(jv v);
/* Whether v (borrowed) is a number with an integral value in int64 range. */
int au_jv_isint(jv v);

/* ---- records in and out (ndjson.c) ------------------------------------ */

/* One record read by au_in_next. */
struct au_rec {
	jv v;			/* the object, now the caller's */
	const char *file;	/* its file name: the one given to au_in_open
				 * or au_in_fdopen, or "<stdin>" */
	long line;		/* its line number */
	void *prep;		/* what the au_in_prepare function made */
};

/* Open the named files in turn (nfiles 0 means standard input; "-" names
 * standard input) for reading records of at most au_opts.max_line bytes. */
struct au_in *au_in_open(char *const *files, int nfiles);
/* Read records from fd, calling it name in messages. */
struct au_in *au_in_fdopen(int fd, const char *name);
/* Read the next record: 1, or 0 at the end of all input.  Blank lines are
 * skipped; lines that are not a JSON object in valid UTF-8, or too long,
 * are reported as "prog: file:line: what" and skipped. */
int au_in_next(struct au_in *in, struct au_rec *rec);
/* Have fn(record, arg) run on every record in the reading threads, before
 * au_in_next hands it out with fn's result in rec->prep: per-record work
 * in parallel.  fn borrows the record and must be thread-safe; what it
 * returns must be one malloc'd block (or NULL), freed with free() if
 * au_in_close comes before the record is handed out.  With drop set the
 * record is freed after fn and rec->v is jv_invalid().  Call before the
 * first au_in_next. */
void au_in_prepare(struct au_in *in, void *(*fn)(jv, void *), void *arg,
    int drop);
/* Report "prog: file:line: MSG" for rec, and mark the input bad (65). */
void au_in_reject(struct au_in *in, const struct au_rec *rec,
    const char *fmt, ...) AU_PRINTF(3, 4);
/* The worst trouble met so far: 0, 65 bad lines, 66 unopenable file, 74
 * read error. */
int au_in_status(const struct au_in *in);
/* Close the input (not the fd of au_in_fdopen). */
void au_in_close(struct au_in *in);

/* Prepare standard output: flushed per record on a pipe or a terminal. */
void au_out_init(void);
/* Write the record v (borrowed) and a newline. */
void au_out_rec(jv v);
/* Write n bytes of text. */
void au_out_text(const char *s, size_t n);
/* Flush if output is per line; call at the end of each text line. */
void au_out_eol(void);
/* Flush and close standard output; a write error exits 74. */
void au_out_close(void);

/* ---- jq filters (where.c) --------------------------------------------- */

struct au_where;
/* Compile a jq expression; NULL with au_errmsg() set on a syntax error. */
struct au_where *au_where_new(const char *expr);
/* Compile or die with 64: for --where. */
struct au_where *au_xwhere_new(const char *expr);
/* 1 if the first result for v (borrowed) is truthy, 0 if not or if there
 * is none, -1 on a jq error (au_errmsg() says which). */
int au_where_test(struct au_where *w, jv v);
void au_where_free(struct au_where *w);

/* ---- the state file (db.c, schema.c) ---------------------------------- */

/* Open (creating mode 0600 in a 0700 directory) and migrate the state
 * file.  0, or 73 cannot create, 74 not a usable database, 75 busy past
 * the timeout, 78 a newer schema than this library knows. */
int au_db_open(const char *path, struct sqlite3 **db);
/* au_db_open of au_db_path(au_opts.db), or die. */
struct sqlite3 *au_xdb_open(void);
/* Schema version a fresh state file gets from this library. */
int au_db_schema_version(void);
/* Start a write transaction (BEGIN IMMEDIATE, waiting for the busy
 * timeout): 0, 75 busy, 74 other failure. */
int au_db_begin(struct sqlite3 *db);
/* Commit: 0, 75 busy, 74 other failure. */
int au_db_commit(struct sqlite3 *db);
/* Roll back whatever transaction is open. */
void au_db_rollback(struct sqlite3 *db);
/* Run SQL without results: 0, or 75/74 as above. */
int au_db_exec(struct sqlite3 *db, const char *sql);
/* The x versions die with the message. */
void au_xdb_begin(struct sqlite3 *db);
void au_xdb_commit(struct sqlite3 *db);
/* Close the state file. */
void au_db_close(struct sqlite3 *db);

/* ---- processes (proc.c) ----------------------------------------------- */

enum {
	AU_FD_INHERIT = -1,	/* the child shares the parent's descriptor */
	AU_FD_PIPE = -2,	/* a pipe; the parent's end is in au_proc.fd */
	AU_FD_NULL = -3,	/* /dev/null */
};

struct au_limit {
	int resource;		/* RLIMIT_* */
	rlim_t soft, hard;
};

/* What to run and how.  fd[0..2] are AU_FD_* or a descriptor to give the
 * child as its stdin, stdout or stderr. */
struct au_spawn {
	char *const *argv;	/* argv[0] is looked up in PATH */
	char *const *envp;	/* NULL: the parent's environment */
	const char *dir;	/* NULL: the current directory */
	int fd[3];
	int pgroup;		/* 1: the child leads a new process group */
	const struct au_limit *limits;
	int nlimits;
};

struct au_proc {
	pid_t pid;
	int fd[3];		/* the parent's ends of pipes, or -1 */
};

/* Start a child.  0; 127 not found or 126 cannot execute (nothing to
 * wait for); 70 a system failure; au_errmsg() says why. */
int au_spawn(const struct au_spawn *sp, struct au_proc *p);
/* Wait for the child, closing the pipe ends still open.  With timeout_ms
 * >= 0 a child still running then gets SIGTERM (its group with pgroup),
 * and SIGKILL grace_ms later; *timed_out says so.  Returns its end as an
 * exit code: the status, or 128 + signal (70 if it cannot be waited for). */
int au_proc_wait(struct au_proc *p, int64_t timeout_ms, int64_t grace_ms,
    int *timed_out);
/* The exit code for a waitpid status: the status, or 128 + signal. */
int au_exit_code(int wstatus);

/* ---- configuration and secrets (conf.c) ------------------------------- */

/* $XDG_CONFIG_HOME/agentutils/NAME, or ~/.config/agentutils/NAME;
 * malloc'd, or NULL (78, au_errmsg()) without a home directory. */
char *au_config_path(const char *name);
/* The state file path: opt (--db), $AGENTUTILS_DB, then
 * $XDG_STATE_HOME/agentutils/state.db or ~/.local/state/agentutils/...;
 * malloc'd, or NULL as above. */
char *au_db_path(const char *opt);
/* Open a secret file for reading: it must be a regular file owned by us
 * and not readable or writable by group or others.  0 with *fd set; 66
 * missing or unreadable; 78 unsafe mode or owner. */
int au_secret_open(const char *path, int *fd);

#endif
