/*
 * ws-pty - run a program in a pseudo-terminal driven by records: input,
 * keys, resize, wait (for a regular expression in the output), signal
 * and screen (the terminal as libvterm renders it) in; session.output,
 * session.screen, session.error and session.exit out.  With a terminal
 * on both ends it runs the program interactively instead, and records.
 * Every session is a row of the state file with a transcript; every
 * input and a digest of the output go to the audit log; --cast writes
 * an asciicast v2 recording as it goes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <sqlite3.h>
#include <vterm.h>

#include "agentutils.h"

enum { O_COLS = AU_LONG, O_ROWS, O_CAST, O_NOAUDIT, O_APPROVAL, O_DETACH,
	O_SESSION, O_POLICY };

static const struct au_opt opts[] = {
	{ O_COLS, "cols", "N", "terminal width (default 80, or the "
	    "terminal's)", NULL },
	{ O_ROWS, "rows", "N", "terminal height (default 24, or the "
	    "terminal's)", NULL },
	{ O_CAST, "cast", "FILE", "record an asciicast v2 file as it goes",
	    "FILE" },
	{ O_NOAUDIT, "no-audit", NULL, "keep the session out of the audit "
	    "log", NULL },
	{ O_APPROVAL, "approval-timeout", "DUR", "give up waiting for an "
	    "approval after DUR", NULL },
	{ O_DETACH, "detach", NULL, "leave the session to a holder "
	    "and print its record", NULL },
	{ O_SESSION, "session", "ID", "attach to the detached session ID",
	    NULL },
	{ O_POLICY, "policy", "FILE", "decide on each line typed by the "
	    "gateway's policy FILE", "FILE" },
	{ 0, NULL, NULL, NULL, NULL }
};

static const struct au_cmd cmd = {
	"ws-pty", "-- CMD [ARG ...]\n--session ID",
	"Run a program in a pseudo-terminal driven by records.",
	opts, AU_USE_DB, "CMD"
};

#define WAIT_MAX (1 << 20)	/* output kept for wait: the last 1 MiB */
#define DEFAULT_WAIT 10000	/* ms a wait waits without a timeout */

static sqlite3 *db;
static struct au_audit *audit;
static char sid[AU_ID_LEN];
static int master = -1;
static pid_t child;
static int cols = 80, rows = 24;
static int64_t t0;			/* au_mono_ms() at the start */
static int interactive;
static int status;			/* trouble with the input: 65, 75 */
static int csig;			/* the signal that ended the child */
/* No record can ask for the screen or wait any more (the input is at its
 * end, or there is none): the output goes to neither. */
static int asked_all;
static int gone;			/* the program ended, its output read */

static VTerm *vt;
static VTermScreen *screen;
static FILE *cast;
static const char *castpath;

/* The self-pipe: SIGCHLD, SIGWINCH, and records ready on standard input
 * wake the poll loop through it. */
static int selfpipe[2] = { -1, -1 };
static volatile sig_atomic_t stopsig, winch;

/* Output since the last input (for the transcript and the audit log),
 * over the whole session, and since the last wait matched. */
static struct au_sha256 *seg_sha, *all_sha;
static int64_t seg_bytes, all_bytes;
static struct au_buf seg_text = AU_BUF_INIT, waitbuf = AU_BUF_INIT;
static unsigned char carry[4];		/* a character cut by a read */
static size_t ncarry;

/* The wait under way. */
static struct {
	int on;
	regex_t re;
	int64_t deadline;
	long line;
	char *pattern;
} w;

static struct termios saved;
static int rawmode;

/* A holder (--detach) keeps the session, with no one attached or one
 * client, whose records it reads through src and to whom it writes its
 * records. */
static struct au_ws_holder *holder;
static struct au_in *src;

static void
restore(void)
{
	if (rawmode)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
	rawmode = 0;
}

static void
onsignal(int sig)
{
	int e = errno;

	if (sig == SIGWINCH)
		winch = 1;
	else if (sig != SIGCHLD)
		stopsig = sig;
	if (write(selfpipe[1], "", 1) < 0)
		errno = e;
	errno = e;
}

static void
wake(void *arg)
{
	(void)arg;
	if (write(selfpipe[1], "", 1) < 0)
		return;
}

static const struct {
	const char *name;
	int sig;
} signames[] = {
	{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT },
	{ "KILL", SIGKILL }, { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 },
	{ "PIPE", SIGPIPE }, { "ALRM", SIGALRM }, { "TERM", SIGTERM },
	{ "CONT", SIGCONT }, { "STOP", SIGSTOP }, { "TSTP", SIGTSTP },
	{ "WINCH", SIGWINCH },
};

static int
signum(const char *name)
{
	size_t i;

	if (strncmp(name, "SIG", 3) == 0)
		name += 3;
	for (i = 0; i < sizeof signames / sizeof signames[0]; i++)
		if (strcmp(signames[i].name, name) == 0)
			return signames[i].sig;
	return 0;
}

static const char *
signame(int sig)
{
	const char *s = sigabbrev_np(sig);

	return s ? s : "?";
}

/* ---- records out ------------------------------------------------------ */

static void
head(struct au_buf *b, const char *type)
{
	char ts[AU_TS_LEN];

	au_buf_addf(b, "{\"type\":\"%s\",\"id\":\"%s\",\"ts\":\"%s\"", type,
	    sid, au_ts_fmt(au_now_ms(), ts));
}

static const int rank[] = { 0, EX_DATAERR, EX_IOERR, EX_TEMPFAIL,
    EX_NOPERM };
static int64_t approval_ms = -1;	/* --approval-timeout, -1 none */

/* A record line (n bytes at s, no newline) out: to standard output, or
 * from a holder to the client attached, if any. */
static void
emit(const char *s, size_t n)
{
	if (holder != NULL)
		au_ws_send(holder, s, n);
	else
		au_out_line(s, n);
}

/* The record r (borrowed) out, as emit. */
static void
emit_rec(jv r)
{
	struct au_buf b = AU_BUF_INIT;

	au_json_dump(&b, r);
	emit(b.s, b.len);
	au_buf_free(&b);
}

/* A session.error record about the input record at line; the trouble
 * counts as code in the exit status. */
static void
error_rec(long line, const char *msg, int code)
{
	struct au_buf b = AU_BUF_INIT;

	status = au_worse(status, code, rank, 5);
	if (interactive)
		return;
	head(&b, "session.error");
	au_buf_addf(&b, ",\"line\":%ld,\"status\":%d,\"error\":", line,
	    code);
	au_json_str(&b, msg, strlen(msg));
	au_buf_addc(&b, '}');
	emit(b.s, b.len);
	au_buf_free(&b);
}

/* The length of the UTF-8 character at p (n bytes there): 1 to 4, 0 if
 * the bytes are not one, -1 if they may be one cut short. */
static int
u8len(const unsigned char *p, size_t n)
{
	unsigned char lo = 0x80, hi = 0xBF;
	int len, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xC2 && p[0] <= 0xDF)
		len = 2;
	else if (p[0] >= 0xE0 && p[0] <= 0xEF)
		len = 3;
	else if (p[0] >= 0xF0 && p[0] <= 0xF4)
		len = 4;
	else
		return 0;
	if (p[0] == 0xE0)
		lo = 0xA0;
	else if (p[0] == 0xED)
		hi = 0x9F;
	else if (p[0] == 0xF0)
		lo = 0x90;
	else if (p[0] == 0xF4)
		hi = 0x8F;
	for (i = 1; i < len; i++) {
		if ((size_t)i >= n)
			return -1;
		if (p[i] < (i == 1 ? lo : 0x80) || p[i] > (i == 1 ? hi : 0xBF))
			return 0;
	}
	return len;
}

/* The n bytes at p as UTF-8 text appended to t: each byte that is not
 * part of a character becomes U+FFFD (counted in *bad); a character cut
 * at the end waits in carry for the next read, unless final. */
static void
text(const char *p, size_t n, int final, struct au_buf *t, int *bad)
{
	struct au_buf in = AU_BUF_INIT;
	const unsigned char *s;
	size_t i = 0, v;
	int len;

	if (ncarry > 0) {
		au_buf_add(&in, carry, ncarry);
		au_buf_add(&in, p, n);
		p = in.s;
		n = in.len;
		ncarry = 0;
	}
	s = (const unsigned char *)p;
	while (i < n) {
		v = au_utf8_valid(p + i, n - i);
		au_buf_add(t, p + i, v);
		if ((i += v) == n)
			break;
		len = u8len(s + i, n - i);
		if (len < 0 && !final) {
			memcpy(carry, s + i, n - i);
			ncarry = n - i;
			break;
		}
		if (len <= 0) {
			au_buf_adds(t, "\xef\xbf\xbd");
			(*bad)++;
			i++;
		}
	}
	au_buf_free(&in);
}

static double
elapsed(void)
{
	return (double)(au_mono_ms() - t0) / 1000.0;
}

static void
cast_event(const char *code, const char *data, size_t n)
{
	struct au_buf b = AU_BUF_INIT;

	if (cast == NULL)
		return;
	au_buf_addf(&b, "[%.6f, \"%s\", ", elapsed(), code);
	au_json_str(&b, data, n);
	au_buf_adds(&b, "]\n");
	fwrite(b.s, 1, b.len, cast);
	au_buf_free(&b);
}

/* What the program wrote: to the screen, the digests, the transcript,
 * the wait, the cast, and out as a session.output record (or as it is,
 * interactively). */
static void
output(const char *p, size_t n, int final)
{
	struct au_buf t = AU_BUF_INIT, b = AU_BUF_INIT;
	int bad = 0;
	size_t i;

	if (n > 0) {
		if (!asked_all)
			vterm_input_write(vt, p, n);
		au_sha256_add(seg_sha, p, n);
		au_sha256_add(all_sha, p, n);
		seg_bytes += (int64_t)n;
		all_bytes += (int64_t)n;
	}
	if (interactive && n > 0 && write(STDOUT_FILENO, p, n) < 0)
		au_die(EX_IOERR, "write:");
	text(p, n, final, &t, &bad);
	if (t.len == 0) {
		au_buf_free(&t);
		return;
	}
	if (seg_text.len < AU_WS_KEEP)
		au_buf_add(&seg_text, t.s, t.len);
	for (i = 0; i < t.len && !asked_all; i++)
		if (t.s[i] != '\0')
			au_buf_addc(&waitbuf, t.s[i]);
	if (waitbuf.len > WAIT_MAX) {
		size_t cut = waitbuf.len - WAIT_MAX / 2;

		while (cut < waitbuf.len &&
		    ((unsigned char)waitbuf.s[cut] & 0xC0) == 0x80)
			cut++;
		memmove(waitbuf.s, waitbuf.s + cut, waitbuf.len - cut + 1);
		waitbuf.len -= cut;
	}
	cast_event("o", t.s, t.len);
	if (!interactive) {
		head(&b, "session.output");
		au_buf_addf(&b, ",\"t_ms\":%lld,\"data\":",
		    (long long)(au_mono_ms() - t0));
		au_json_str(&b, t.s, t.len);
		if (bad > 0)
			au_buf_addf(&b, ",\"invalid\":%d", bad);
		au_buf_addc(&b, '}');
		emit(b.s, b.len);
		au_buf_free(&b);
	}
	au_buf_free(&t);
}

/* ---- the transcript and the audit log --------------------------------- */

static void
hex(struct au_sha256 *h, char out[2 * AU_AUDIT_HASH + 1])
{
	unsigned char d[AU_AUDIT_HASH];

	au_sha256_end(h, d);
	au_hex(d, sizeof d, out);
}

/* What is to go to the transcript and the audit log, written when the
 * terminal is idle (so that a round trip does not wait for the state
 * file): objects {kind, record or data, bytes, sha256, audit}. */
static jv pending;

/* Close the output segment: its digest into sha, and into pending if
 * it holds anything; its size returned.  With again a new one begins. */
static int64_t
segment(char sha[2 * AU_AUDIT_HASH + 1], int again)
{
	int64_t n = seg_bytes;

	hex(seg_sha, sha);
	if (n > 0)
		pending = jv_array_append(pending, JV_OBJECT(jv_string("kind"),
		    jv_string("output"), jv_string("data"),
		    jv_string_sized(seg_text.s, (int)seg_text.len),
		    jv_string("bytes"), jv_number((double)n),
		    jv_string("sha256"), jv_string(sha)));
	seg_sha = again ? au_sha256_new() : NULL;
	seg_bytes = 0;
	seg_text.len = 0;
	return n;
}

/* rec (consumed) for the transcript as kind, and for the audit log with
 * the output before it. */
static void
record(const char *kind, jv rec)
{
	char sha[2 * AU_AUDIT_HASH + 1], ts[AU_TS_LEN];
	int64_t n = segment(sha, 1);
	jv p = JV_OBJECT(jv_string("kind"), jv_string(kind),
	    jv_string("record"), jv_copy(rec));

	if (audit != NULL)
		p = jv_object_set(p, jv_string("audit"), JV_OBJECT(
		    jv_string("type"), jv_string("session.input"),
		    jv_string("ts"), jv_string(au_ts_fmt(au_now_ms(), ts)),
		    jv_string("id"), jv_string(sid), jv_string("kind"),
		    jv_string(kind), jv_string("record"), rec,
		    jv_string("output_bytes"), jv_number((double)n),
		    jv_string("output_sha256"), jv_string(sha)));
	else
		jv_free(rec);
	pending = jv_array_append(pending, p);
}

/* Write what is pending, in one transaction. */
static void
flush(void)
{
	int rc;

	if (jv_array_length(jv_copy(pending)) == 0)
		return;
	au_xdb_begin(db);
	jv_array_foreach(pending, i, p) {
		jv r = jv_object_get(jv_copy(p), jv_string("record"));
		jv a = jv_object_get(jv_copy(p), jv_string("audit"));
		jv nb = jv_object_get(jv_copy(p), jv_string("bytes"));
		const char *d = au_jv_str(p, "data");

		rc = au_ws_log(db, sid, au_jv_str(p, "kind"),
		    jv_is_valid(r) ? r : jv_null(), d, d ? strlen(d) : 0,
		    jv_is_valid(nb) ? (int64_t)jv_number_value(nb) : -1,
		    au_jv_str(p, "sha256"));
		if (rc != 0)
			au_die(rc, "%s", au_errmsg());
		if (jv_is_valid(a) &&
		    (rc = au_audit_append(audit, a, NULL, NULL)) != 0)
			au_die(rc, "audit: %s", au_errmsg());
		jv_free(a);
		jv_free(nb);
		jv_free(p);
	}
	au_xdb_commit(db);
	jv_free(pending);
	pending = jv_array();
}

/* ---- the terminal ----------------------------------------------------- */

static void
xwrite(const char *p, size_t n)
{
	ssize_t k;

	while (n > 0) {
		if ((k = write(master, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd pf = { master, POLLOUT, 0 };

				poll(&pf, 1, 100);
				continue;
			}
			return;
		}
		p += k;
		n -= (size_t)k;
	}
}

static void
setsize(int c, int r)
{
	struct winsize ws = { (unsigned short)r, (unsigned short)c, 0, 0 };
	char s[32];

	cols = c;
	rows = r;
	ioctl(master, TIOCSWINSZ, &ws);
	vterm_set_size(vt, rows, cols);
	snprintf(s, sizeof s, "%dx%d", cols, rows);
	cast_event("r", s, strlen(s));
}

static void
vt_out(const char *s, size_t len, void *user)
{
	(void)user;
	/* The terminal's answers (cursor position, device attributes) go
	 * back to the program, as a terminal's would; interactively the
	 * user's terminal answers. */
	if (!interactive)
		xwrite(s, len);
}

static void
put_utf8(struct au_buf *b, uint32_t c)
{
	char u[4];
	int n;

	if (c < 0x80) {
		u[0] = (char)c;
		n = 1;
	} else if (c < 0x800) {
		u[0] = (char)(0xC0 | c >> 6);
		u[1] = (char)(0x80 | (c & 0x3F));
		n = 2;
	} else if (c < 0x10000) {
		u[0] = (char)(0xE0 | c >> 12);
		u[1] = (char)(0x80 | (c >> 6 & 0x3F));
		u[2] = (char)(0x80 | (c & 0x3F));
		n = 3;
	} else {
		u[0] = (char)(0xF0 | c >> 18);
		u[1] = (char)(0x80 | (c >> 12 & 0x3F));
		u[2] = (char)(0x80 | (c >> 6 & 0x3F));
		u[3] = (char)(0x80 | (c & 0x3F));
		n = 4;
	}
	au_buf_add(b, u, (size_t)n);
}

/* The screen as a session.screen record: one line of text per row, its
 * trailing blanks dropped, and the cursor. */
static void
screen_rec(void)
{
	VTermPos pos, cur;
	VTermScreenCell cell;
	jv lines = jv_array(), r;
	char ts[AU_TS_LEN];
	int i;

	vterm_screen_flush_damage(screen);
	for (pos.row = 0; pos.row < rows; pos.row++) {
		struct au_buf b = AU_BUF_INIT;
		size_t keep = 0;

		au_buf_grow(&b, 1);
		for (pos.col = 0; pos.col < cols; pos.col++) {
			if (!vterm_screen_get_cell(screen, pos, &cell) ||
			    cell.chars[0] == 0) {
				au_buf_addc(&b, ' ');
				continue;
			}
			for (i = 0; i < VTERM_MAX_CHARS_PER_CELL &&
			    cell.chars[i] != 0; i++)
				put_utf8(&b, cell.chars[i]);
			if (cell.chars[0] != ' ')
				keep = b.len;
			if (cell.width > 1)
				pos.col += cell.width - 1;
		}
		lines = jv_array_append(lines, jv_string_sized(b.s, (int)keep));
		au_buf_free(&b);
	}
	vterm_state_get_cursorpos(vterm_obtain_state(vt), &cur);
	r = JV_OBJECT(jv_string("type"), jv_string("session.screen"),
	    jv_string("id"), jv_string(sid), jv_string("ts"),
	    jv_string(au_ts_fmt(au_now_ms(), ts)), jv_string("cols"),
	    jv_number(cols), jv_string("rows"), jv_number(rows),
	    jv_string("cursor"), JV_OBJECT(jv_string("row"),
	    jv_number(cur.row), jv_string("col"), jv_number(cur.col)),
	    jv_string("lines"), lines);
	emit_rec(r);
	jv_free(r);
}

/* ---- keys ------------------------------------------------------------- */

static const struct {
	const char *name, *seq;
} keytab[] = {
	{ "Enter", "\r" }, { "Return", "\r" }, { "Tab", "\t" },
	{ "BTab", "\033[Z" }, { "Esc", "\033" }, { "Escape", "\033" },
	{ "Space", " " }, { "Backspace", "\177" }, { "BSpace", "\177" },
	{ "Up", "\033[A" }, { "Down", "\033[B" }, { "Right", "\033[C" },
	{ "Left", "\033[D" }, { "Home", "\033[H" }, { "End", "\033[F" },
	{ "PageUp", "\033[5~" }, { "PageDown", "\033[6~" },
	{ "Insert", "\033[2~" }, { "Delete", "\033[3~" },
	{ "F1", "\033OP" }, { "F2", "\033OQ" }, { "F3", "\033OR" },
	{ "F4", "\033OS" }, { "F5", "\033[15~" }, { "F6", "\033[17~" },
	{ "F7", "\033[18~" }, { "F8", "\033[19~" }, { "F9", "\033[20~" },
	{ "F10", "\033[21~" }, { "F11", "\033[23~" }, { "F12", "\033[24~" },
};

/* The bytes of key name appended to b: 0, or -1 for an unknown key. */
static int
key(const char *name, struct au_buf *b)
{
	size_t i, n = strlen(name);

	for (i = 0; i < sizeof keytab / sizeof keytab[0]; i++)
		if (strcmp(keytab[i].name, name) == 0) {
			au_buf_adds(b, keytab[i].seq);
			return 0;
		}
	if (n > 2 && strncmp(name, "M-", 2) == 0) {
		au_buf_addc(b, '\033');
		return key(name + 2, b);
	}
	if (n == 3 && strncmp(name, "C-", 2) == 0) {
		unsigned char c = (unsigned char)name[2];

		if (c >= 'a' && c <= 'z')
			c = (unsigned char)(c - 'a' + 'A');
		if (c == '?') {
			au_buf_addc(b, '\177');
			return 0;
		}
		if (c >= '@' && c <= '_') {
			au_buf_addc(b, (char)(c - '@'));
			return 0;
		}
		return -1;
	}
	/* One character stands for itself. */
	if (n > 0 && u8len((const unsigned char *)name, n) == (int)n) {
		au_buf_add(b, name, n);
		return 0;
	}
	return -1;
}

/* ---- input records ---------------------------------------------------- */

static int64_t
int_field(jv r, const char *k, int *ok)
{
	jv v = jv_object_get(jv_copy(r), jv_string(k));
	int64_t n = 0;

	*ok = au_jv_isint(v);
	if (*ok)
		n = (int64_t)jv_number_value(v);
	jv_free(v);
	return n;
}

/* Whether the wait under way has matched; if so the output it looked at
 * is dropped through the match. */
static int
matched(void)
{
	regmatch_t m;

	au_buf_grow(&waitbuf, 1);
	waitbuf.s[waitbuf.len] = '\0';
	if (regexec(&w.re, waitbuf.s, 1, &m, 0) != 0)
		return 0;
	memmove(waitbuf.s, waitbuf.s + m.rm_eo, waitbuf.len -
	    (size_t)m.rm_eo + 1);
	waitbuf.len -= (size_t)m.rm_eo;
	return 1;
}

static void
wait_end(void)
{
	regfree(&w.re);
	free(w.pattern);
	w.on = 0;
}

static void
reject(struct au_in *in, const struct au_rec *rec, const char *msg)
{
	au_in_reject(in, rec, "%s", msg);
	error_rec(rec->line, msg, EX_DATAERR);
}

/* A record marked "approval":"required" waits for a person's answer
 * (ws-approve) before it is done: 1 approved; 0 denied, expired or not
 * answered in time, which is recorded and reported, and the record
 * skipped.  The program's output waits in the terminal meanwhile. */
static int
approved(const struct au_rec *rec)
{
	struct au_buf d = AU_BUF_INIT;
	char id[AU_ID_LEN], subject[128], msg[512];
	const char *st, *by, *why;
	jv r;
	int rc;

	flush();
	au_json_dump(&d, rec->v);
	snprintf(subject, sizeof subject, "session %s %s", sid,
	    au_jv_str(rec->v, "type"));
	if ((rc = au_approval_create(db, "ws-pty", subject, d.s, d.s, 0,
	    id)) != 0)
		au_die(rc, "%s", au_errmsg());
	au_buf_free(&d);
	au_note("waiting for approval %s", id);
	rc = au_approval_wait(db, id, approval_ms, &stopsig, &r);
	if (rc == EX_TEMPFAIL) {
		if ((rc = au_approval_withdraw(db, id)) != 0)
			au_die(rc, "%s", au_errmsg());
		snprintf(msg, sizeof msg, "approval %s: no answer in time", id);
		au_errat("<stdin>", rec->line, "%s", msg);
		error_rec(rec->line, msg, EX_TEMPFAIL);
		jv_free(r);
		record("denied", jv_copy(rec->v));
		return 0;
	}
	if (rc != 0)
		au_die(rc, "%s", au_errmsg());
	st = au_jv_str(r, "status");
	if (strcmp(st, "approved") == 0) {
		jv_free(r);
		return 1;
	}
	by = au_jv_str(r, "decided_by");
	why = au_jv_str(r, "reason");
	snprintf(msg, sizeof msg, "approval %s: %s by %s%s%s", id, st,
	    by ? by : "?", why ? ": " : "", why ? why : "");
	au_errat("<stdin>", rec->line, "%s", msg);
	error_rec(rec->line, msg, EX_NOPERM);
	jv_free(r);
	record("denied", jv_copy(rec->v));
	return 0;
}

/* With --policy each line an input record types is a call of the tool
 * ws-pty/input with arguments {"line": LINE}, decided as the gateway
 * decides tool calls (without grants). */
static struct au_tg_policy *policy;
static const struct au_tg_tool line_tool = { .name = "ws-pty/input",
    .annotations = AU_TG_DESTRUCTIVE | AU_TG_OPEN_WORLD };

/* Whether the policy lets the input record rec be typed: 1; 0 when a
 * line of it is denied, or asks and is not approved, which is recorded
 * and reported, and the record skipped. */
static int
allowed(const struct au_rec *rec)
{
	const char *d = au_jv_str(rec->v, "data"), *p, *nl, *s;
	char msg[512];
	jv worst = jv_invalid();
	int deny;

	if (d == NULL)
		return 1;
	for (p = d; *p != '\0'; p = nl ? nl + 1 : p + strlen(p)) {
		size_t n = (nl = strchr(p, '\n')) ? (size_t)(nl - p) :
		    strlen(p);
		jv call = JV_OBJECT(jv_string("type"), jv_string("tool.call"),
		    jv_string("id"), jv_string(sid), jv_string("tool"),
		    jv_string(line_tool.name), jv_string("args"), JV_OBJECT(
		    jv_string("line"), jv_string_sized(p, (int)n)));
		jv dec = au_tg_decide(policy, &line_tool, call, au_now_ms());

		jv_free(call);
		s = au_jv_str(dec, "decision");
		if (strcmp(s, "deny") == 0 || (strcmp(s, "ask") == 0 &&
		    !jv_is_valid(worst))) {
			jv_free(worst);
			worst = JV_OBJECT(jv_string("decision"), jv_string(s),
			    jv_string("line"), jv_string_sized(p, (int)n),
			    jv_string("reason"), jv_string(au_jv_str(dec,
			    "reason")));
		}
		deny = strcmp(s, "deny") == 0;
		jv_free(dec);
		if (deny)
			break;
	}
	if (!jv_is_valid(worst))
		return 1;
	if (strcmp(au_jv_str(worst, "decision"), "ask") == 0) {
		jv_free(worst);
		s = au_jv_str(rec->v, "approval");
		return (s != NULL && strcmp(s, "required") == 0) ||
		    approved(rec);
	}
	snprintf(msg, sizeof msg, "policy: %s denied: %s",
	    au_quote(au_jv_str(worst, "line")), au_jv_str(worst, "reason"));
	jv_free(worst);
	au_errat("<stdin>", rec->line, "%s", msg);
	error_rec(rec->line, msg, EX_NOPERM);
	record("denied", jv_copy(rec->v));
	return 0;
}

/* Do what rec asks. */
static void
handle(struct au_in *in, struct au_rec *rec)
{
	const char *type = au_jv_str(rec->v, "type"), *s;
	struct au_buf b = AU_BUF_INIT;
	char msg[512];
	int ok, ok2, rc;

	if (type == NULL) {
		reject(in, rec, "no \"type\"");
		return;
	}
	if (gone && strcmp(type, "wait") != 0 && strcmp(type, "screen") != 0) {
		snprintf(msg, sizeof msg, "%s: the program has ended",
		    au_quote(type));
		reject(in, rec, msg);
		return;
	}
	if (policy != NULL && strcmp(type, "input") == 0 && !allowed(rec))
		return;
	s = au_jv_str(rec->v, "approval");
	if (s != NULL && strcmp(s, "required") == 0 && !approved(rec))
		return;
	if (strcmp(type, "input") == 0) {
		jv d = jv_object_get(jv_copy(rec->v), jv_string("data"));

		if (jv_get_kind(d) != JV_KIND_STRING) {
			jv_free(d);
			reject(in, rec, "input: \"data\" is not a string");
			return;
		}
		xwrite(jv_string_value(d), (size_t)jv_string_length_bytes(
		    jv_copy(d)));
		cast_event("i", jv_string_value(d),
		    (size_t)jv_string_length_bytes(jv_copy(d)));
		jv_free(d);
	} else if (strcmp(type, "keys") == 0) {
		jv k = jv_object_get(jv_copy(rec->v), jv_string("keys"));

		if (jv_get_kind(k) != JV_KIND_ARRAY) {
			jv_free(k);
			reject(in, rec, "keys: \"keys\" is not an array");
			return;
		}
		jv_array_foreach(k, i, e) {
			if (jv_get_kind(e) != JV_KIND_STRING ||
			    key(jv_string_value(e), &b) != 0) {
				snprintf(msg, sizeof msg, "keys: unknown key %s",
				    jv_get_kind(e) == JV_KIND_STRING ?
				    au_quote(jv_string_value(e)) :
				    au_jv_kind(e));
				jv_free(e);
				jv_free(k);
				au_buf_free(&b);
				reject(in, rec, msg);
				return;
			}
			jv_free(e);
		}
		jv_free(k);
		xwrite(b.s, b.len);
		cast_event("i", b.s, b.len);
	} else if (strcmp(type, "resize") == 0) {
		int64_t c = int_field(rec->v, "cols", &ok);
		int64_t r = int_field(rec->v, "rows", &ok2);

		if (!ok || !ok2 || c < 1 || c > 1000 || r < 1 || r > 1000) {
			reject(in, rec, "resize: \"cols\" and \"rows\" must be "
			    "whole numbers from 1 to 1000");
			return;
		}
		setsize((int)c, (int)r);
		if ((rc = au_ws_update(db, sid, JV_OBJECT(jv_string("cols"),
		    jv_number(cols), jv_string("rows"), jv_number(rows)))) != 0)
			au_die(rc, "%s", au_errmsg());
	} else if (strcmp(type, "wait") == 0) {
		int64_t ms = DEFAULT_WAIT;

		s = au_jv_str(rec->v, "timeout");
		if (au_jv_str(rec->v, "for") == NULL) {
			reject(in, rec, "wait: \"for\" is not a string");
			return;
		}
		if (s != NULL && au_dur_parse(s, &ms) != 0) {
			snprintf(msg, sizeof msg, "wait: bad timeout %s",
			    au_quote(s));
			reject(in, rec, msg);
			return;
		}
		if ((rc = regcomp(&w.re, au_jv_str(rec->v, "for"),
		    REG_EXTENDED | REG_NEWLINE)) != 0) {
			char e[256];

			regerror(rc, &w.re, e, sizeof e);
			snprintf(msg, sizeof msg, "wait: bad regular "
			    "expression %s: %s", au_quote(au_jv_str(rec->v,
			    "for")), e);
			reject(in, rec, msg);
			return;
		}
		w.on = 1;
		w.deadline = au_mono_ms() + ms;
		w.line = rec->line;
		w.pattern = au_xstrdup(au_jv_str(rec->v, "for"));
		if (matched())
			wait_end();
	} else if (strcmp(type, "signal") == 0) {
		int sig;
		pid_t pg;

		s = au_jv_str(rec->v, "name");
		if (s == NULL || (sig = signum(s)) == 0) {
			snprintf(msg, sizeof msg, "signal: unknown signal %s",
			    s ? au_quote(s) : "(none)");
			reject(in, rec, msg);
			return;
		}
		/* To the terminal's foreground process group, as a key of
		 * the terminal would. */
		pg = tcgetpgrp(master);
		kill(pg > 0 ? -pg : -child, sig);
	} else if (strcmp(type, "screen") == 0) {
		screen_rec();
	} else {
		snprintf(msg, sizeof msg, "unknown record type %s",
		    au_quote(type));
		reject(in, rec, msg);
		return;
	}
	au_buf_free(&b);
	record("input", jv_copy(rec->v));
}

/* ---- the child -------------------------------------------------------- */

/* Fork the child on a new terminal: 0, or 127/126 when it cannot run
 * (said on stderr).  The child tells an exec failure through a
 * close-on-exec pipe. */
static int
start(char **argv)
{
	struct winsize ws = { (unsigned short)rows, (unsigned short)cols, 0,
	    0 };
	int p[2], e = 0;
	char *slave;
	ssize_t n;

	if ((master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0 ||
	    grantpt(master) != 0 || unlockpt(master) != 0 ||
	    (slave = ptsname(master)) == NULL)
		au_die(EX_OSERR, "pseudo-terminal:");
	ioctl(master, TIOCSWINSZ, &ws);
	if (pipe2(p, O_CLOEXEC) != 0)
		au_die(EX_OSERR, "pipe:");
	if ((child = fork()) < 0)
		au_die(EX_OSERR, "fork:");
	if (child == 0) {
		sigset_t none;
		int fd;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		signal(SIGWINCH, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		if (setsid() < 0 || (fd = open(slave, O_RDWR)) < 0 ||
		    ioctl(fd, TIOCSCTTY, 0) != 0 ||
		    dup2(fd, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0) {
			e = errno;
			n = write(p[1], &e, sizeof e);
			(void)n;
			_exit(EX_OSERR);
		}
		if (fd > 2)
			close(fd);
		if (!interactive)
			setenv("TERM", "xterm-256color", 1);
		execvp(argv[0], argv);
		e = errno;
		n = write(p[1], &e, sizeof e);
		(void)n;
		_exit(e == ENOENT ? 127 : 126);
	}
	close(p[1]);
	while ((n = read(p[0], &e, sizeof e)) < 0 && errno == EINTR)
		;
	close(p[0]);
	if (n == (ssize_t)sizeof e) {
		int st;

		waitpid(child, &st, 0);
		if (e == ENOENT) {
			au_err("%s: command not found", au_quote(argv[0]));
			return 127;
		}
		errno = e;
		au_err("%s: cannot run:", au_quote(argv[0]));
		return WIFEXITED(st) ? WEXITSTATUS(st) : 126;
	}
	fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
	return 0;
}

/* Read what the terminal has: 1 if it gave something, 0 nothing now,
 * -1 at its end (every copy of the other side closed). */
static int
drain(void)
{
	char buf[65536];
	ssize_t n;

	n = read(master, buf, sizeof buf);
	if (n > 0) {
		output(buf, (size_t)n, 0);
		return 1;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	return -1;
}

static void
raw(void)
{
	struct termios t;

	if (tcgetattr(STDIN_FILENO, &saved) != 0)
		return;
	t = saved;
	cfmakeraw(&t);
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) == 0)
		rawmode = 1;
	atexit(restore);
}

static void
mysize(void)
{
	struct winsize ws;

	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 &&
	    ws.ws_row > 0)
		setsize(ws.ws_col, ws.ws_row);
}

/* The wait under way is over if its output has come; else, when its
 * time is up or the program has gone, it failed. */
static void
wait_check(void)
{
	char msg[512];

	if (!w.on)
		return;
	if (matched()) {
		wait_end();
		return;
	}
	if (!gone && au_mono_ms() < w.deadline)
		return;
	snprintf(msg, sizeof msg, "wait: %s did not come %s",
	    au_quote(w.pattern), gone ? "before the program ended" :
	    "in time");
	au_errat("<stdin>", w.line, "%s", msg);
	error_rec(w.line, msg, EX_TEMPFAIL);
	wait_end();
}

/* The holder's client goes: its input has ended and been done. */
static void
client_end(void)
{
	au_ws_drop(holder);
	src = NULL;
}

/* Do the input records as they come, each wait holding the rest back.
 * Once the program has gone, those that come within 100 ms of each
 * other still are (a screen, a wait on what it wrote last).  A holder's
 * client goes when its input ends, or after the session.exit record. */
static void
records(void)
{
	struct au_rec rec;

	wait_check();
	while (src != NULL && !w.on && !asked_all &&
	    au_in_wait(src, gone ? 100 : 0)) {
		if (!au_in_next(src, &rec)) {
			if (holder && !gone)
				client_end();
			else
				asked_all = 1;
			break;
		}
		handle(src, &rec);
		jv_free(rec.v);
		wait_check();
	}
}

/* The poll loop, until the child has ended and its terminal is drained.
 * The child's end as an exit code. */
static int
run(void)
{
	struct pollfd pf[4];
	int ended = 0, eof = 0, st = 0, hup = 0, rc;
	int64_t quiet_since = 0, killed_at = 0;

	for (;;) {
		int timeout = -1, nfd, woke, idle;

		records();
		if (gone)
			break;
		if (w.on) {
			int64_t left = w.deadline - au_mono_ms();

			timeout = left > 0 ? (int)left : 0;
		}
		if (ended) {
			if (quiet_since == 0)
				quiet_since = au_mono_ms();
			/* Something still holds the terminal open: what
			 * it writes within 100 ms of the end still counts. */
			if (au_mono_ms() - quiet_since > 100) {
				output("", 0, 1);
				gone = 1;
				continue;
			}
			timeout = 50;
		}
		if (killed_at > 0 && !ended) {
			if (au_mono_ms() - killed_at >= 2000) {
				kill(-child, SIGKILL);
				killed_at = -1;
			} else if (timeout < 0 || timeout > 100) {
				timeout = 100;
			}
		}
		/* The state file's turn comes when the terminal is quiet for
		 * a millisecond, or when much is pending. */
		idle = 0;
		if (jv_array_length(jv_copy(pending)) > 0) {
			if (jv_array_length(jv_copy(pending)) >= 256) {
				flush();
			} else if (timeout != 0) {
				timeout = 1;
				idle = 1;
			}
		}
		pf[0] = (struct pollfd){ selfpipe[0], POLLIN, 0 };
		pf[1] = (struct pollfd){ eof ? -1 : master, POLLIN, 0 };
		pf[2] = (struct pollfd){ interactive && !hup ? STDIN_FILENO :
		    -1, POLLIN, 0 };
		pf[3] = (struct pollfd){ holder ? au_ws_fd(holder) : -1,
		    POLLIN, 0 };
		nfd = poll(pf, 4, timeout);
		if (nfd < 0 && errno != EINTR)
			au_die(EX_OSERR, "poll:");
		if (nfd == 0 && idle)
			flush();
		woke = nfd > 0 && pf[0].revents;
		if (woke) {
			char junk[256];

			while (read(selfpipe[0], junk, sizeof junk) ==
			    (ssize_t)sizeof junk)
				;
		}
		if (!eof && (pf[1].revents || ended)) {
			while ((rc = drain()) > 0)
				quiet_since = 0;
			if (rc < 0)
				eof = 1;
		}
		/* SIGCHLD wakes us through the self-pipe. */
		if (!ended && woke && waitpid(child, &st, WNOHANG) == child)
			ended = 1;
		if (ended && eof) {
			output("", 0, 1);
			gone = 1;
			continue;
		}
		if (winch) {
			winch = 0;
			mysize();
		}
		if (stopsig && killed_at == 0) {
			/* Hang up, as a terminal that goes away does; a
			 * program that ignores it is killed 2 s later. */
			kill(-child, SIGHUP);
			kill(-child, SIGCONT);
			killed_at = au_mono_ms();
		}
		if (nfd > 0 && pf[3].revents) {
			struct au_in *in = au_ws_accept(holder, wake, NULL);

			if (in != NULL)
				src = in;
		}
		if (interactive && !hup && pf[2].revents) {
			char buf[4096];
			ssize_t n = read(STDIN_FILENO, buf, sizeof buf);

			if (n > 0) {
				xwrite(buf, (size_t)n);
				cast_event("i", buf, (size_t)n);
			} else {
				hup = 1;
			}
		}
	}
	if (WIFSIGNALED(st))
		csig = WTERMSIG(st);
	return au_exit_code(st);
}

/* ---- main ------------------------------------------------------------- */

static void
xcast_open(void)
{
	struct au_buf b = AU_BUF_INIT;
	const char *sh = getenv("SHELL"), *term = interactive ?
	    getenv("TERM") : "xterm-256color";

	if ((cast = fopen(castpath, "w")) == NULL)
		au_die(EX_CANTCREAT, "%s:", castpath);
	au_buf_addf(&b, "{\"version\":2,\"width\":%d,\"height\":%d,"
	    "\"timestamp\":%lld,\"env\":{\"SHELL\":", cols, rows,
	    (long long)(au_now_ms() / 1000));
	au_json_str(&b, sh ? sh : "/bin/sh", strlen(sh ? sh : "/bin/sh"));
	au_buf_adds(&b, ",\"TERM\":");
	au_json_str(&b, term ? term : "xterm", strlen(term ? term : "xterm"));
	au_buf_adds(&b, "}}\n");
	fwrite(b.s, 1, b.len, cast);
	au_buf_free(&b);
}

/* The SHA-256 of the cast file as written, in hex; NULL if unreadable. */
static char *
cast_sha(void)
{
	struct au_sha256 *h;
	char buf[65536], out[2 * AU_AUDIT_HASH + 1];
	size_t n;
	FILE *f = fopen(castpath, "r");

	if (f == NULL)
		return NULL;
	h = au_sha256_new();
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		au_sha256_add(h, buf, n);
	fclose(f);
	hex(h, out);
	return au_xstrdup(out);
}

static void
finish(int code)
{
	char sha[2 * AU_AUDIT_HASH + 1], ts[AU_TS_LEN], *csha = NULL;
	jv e, fields;
	int rc;

	if (cast != NULL && fclose(cast) != 0)
		au_die(EX_IOERR, "%s:", castpath);
	cast = NULL;
	if (castpath != NULL)
		csha = cast_sha();
	segment(sha, 0);
	flush();
	jv_free(pending);
	au_xdb_begin(db);
	hex(all_sha, sha);
	all_sha = NULL;
	e = JV_OBJECT(jv_string("type"), jv_string("session.exit"),
	    jv_string("id"), jv_string(sid), jv_string("ts"),
	    jv_string(au_ts_fmt(au_now_ms(), ts)), jv_string("exit_code"),
	    jv_number(code), jv_string("duration_ms"),
	    jv_number((double)(au_mono_ms() - t0)), jv_string("output_bytes"),
	    jv_number((double)all_bytes), jv_string("output_sha256"),
	    jv_string(sha));
	if (csig)
		e = jv_object_set(e, jv_string("signal"),
		    jv_string(signame(csig)));
	if (castpath != NULL) {
		e = jv_object_set(e, jv_string("cast"), jv_string(castpath));
		if (csha != NULL)
			e = jv_object_set(e, jv_string("cast_sha256"),
			    jv_string(csha));
	}
	fields = JV_OBJECT(jv_string("state"), jv_string(stopsig ? "killed" :
	    "exited"), jv_string("exit_code"), jv_number(code));
	if (csig)
		fields = jv_object_set(fields, jv_string("signal"),
		    jv_string(signame(csig)));
	if ((rc = au_ws_update(db, sid, fields)) != 0)
		au_die(rc, "%s", au_errmsg());
	if (audit != NULL && (rc = au_audit_append(audit, e, NULL, NULL)) != 0)
		au_die(rc, "audit: %s", au_errmsg());
	au_xdb_commit(db);
	if (!interactive)
		emit_rec(e);
	jv_free(e);
	free(csha);
}

/* ---- attaching ------------------------------------------------------- */

/* What the holder's records say of the status: the worst session.error,
 * and the program's end in session.exit. */
static int attach_st, attach_exit = -1;

static void
attached(jv r, void *arg)
{
	const char *t = au_jv_str(r, "type");
	int ok;

	(void)arg;
	if (t != NULL && strcmp(t, "session.error") == 0)
		attach_st = au_worse(attach_st, (int)int_field(r, "status",
		    &ok), rank, 5);
	else if (t != NULL && strcmp(t, "session.exit") == 0)
		attach_exit = (int)int_field(r, "exit_code", &ok);
}

static int
number(const char *opt, const char *arg)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(arg, &end, 10);
	if (errno || *end || end == arg || n < 1 || n > 1000)
		au_usage_die(&cmd, "%s: %s is not a whole number from 1 to "
		    "1000", opt, au_quote(arg));
	return (int)n;
}

int
main(int argc, char **argv)
{
	const char *arg, *attach_id = NULL, *policypath = NULL;
	struct sigaction sa;
	char *cwd;
	jv av;
	int c, noaudit = 0, sized = 0, code, i, detached = 0;

	au_setprog(argv[0]);
	while ((c = au_getopt(&cmd, argc, argv, &arg)) != -1) {
		switch (c) {
		case O_COLS:
			cols = number("--cols", arg);
			sized = 1;
			break;
		case O_ROWS:
			rows = number("--rows", arg);
			sized = 1;
			break;
		case O_CAST:
			castpath = arg;
			break;
		case O_NOAUDIT:
			noaudit = 1;
			break;
		case O_APPROVAL:
			approval_ms = au_opt_dur(&cmd, "--approval-timeout",
			    arg);
			break;
		case O_DETACH:
			detached = 1;
			break;
		case O_SESSION:
			attach_id = arg;
			break;
		case O_POLICY:
			policypath = arg;
			break;
		}
	}
	argc -= au_optind;
	argv += au_optind;
	if (attach_id != NULL) {
		if (argc > 0 || detached || policypath != NULL)
			au_usage_die(&cmd, "--session takes no command, "
			    "--detach or --policy");
		au_out_init();
		db = au_xdb_open();
		if ((code = au_ws_attach(db, attach_id, "terminal", NULL, 0,
		    NULL, attached, NULL, &i)) != 0)
			au_die(code, "%s", au_errmsg());
		au_db_close(db);
		au_out_close();
		attach_st = au_worse(attach_st, i, rank, 5);
		return attach_st ? attach_st : attach_exit > 0 ? attach_exit :
		    0;
	}
	if (argc == 0)
		au_usage_die(&cmd, "no command");
	if (policypath != NULL) {
		jv problems = jv_array();
		int rc = au_tg_policy_load(policypath, &policy, &problems);

		jv_array_foreach(problems, k, pr) {
			au_err("%s", jv_string_value(pr));
			jv_free(pr);
		}
		jv_free(problems);
		if (rc != 0 && *au_errmsg() != '\0')
			au_die(rc, "%s", au_errmsg());
		if (rc != 0)
			au_die(rc, "%s: the policy does not load", policypath);
	}
	if (detached)
		holder = au_ws_xdetach();
	interactive = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
	au_out_init();
	db = au_xdb_open();
	if (!noaudit)
		audit = au_xaudit_open(db, "audit-write --init makes the keys; "
		    "--no-audit says not to audit");
	if (pipe2(selfpipe, O_CLOEXEC | O_NONBLOCK) != 0)
		au_die(EX_OSERR, "pipe:");
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = onsignal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGWINCH, &sa, NULL);
	sa.sa_flags = 0;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	vt = vterm_new(rows, cols);
	vterm_set_utf8(vt, 1);
	vterm_output_set_callback(vt, vt_out, NULL);
	screen = vterm_obtain_screen(vt);
	vterm_screen_enable_altscreen(screen, 1);
	vterm_screen_reset(screen, 1);
	if (interactive && !sized) {
		struct winsize ws;

		if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 &&
		    ws.ws_col > 0 && ws.ws_row > 0) {
			cols = ws.ws_col;
			rows = ws.ws_row;
			vterm_set_size(vt, rows, cols);
		}
	}
	t0 = au_mono_ms();
	seg_sha = au_sha256_new();
	all_sha = au_sha256_new();
	pending = jv_array();
	if (castpath != NULL)
		xcast_open();
	av = jv_array();
	for (i = 0; i < argc; i++)
		av = jv_array_append(av, jv_string(argv[i]));
	cwd = getcwd(NULL, 0);
	code = start(argv);
	{
		jv f = JV_OBJECT(jv_string("kind"), jv_string("terminal"),
		    jv_string("state"), jv_string(holder ? "detached" :
		    "running"), jv_string("holder_pid"), jv_number(getpid()),
		    jv_string("argv"), av, jv_string("cols"), jv_number(cols),
		    jv_string("rows"), jv_number(rows));
		int rc;

		if (code == 0)
			f = jv_object_set(f, jv_string("pid"),
			    jv_number(child));
		if (cwd != NULL)
			f = jv_object_set(f, jv_string("cwd"), jv_string(cwd));
		if (castpath != NULL)
			f = jv_object_set(f, jv_string("cast"),
			    jv_string(castpath));
		if ((rc = au_ws_create(db, f, sid)) != 0)
			au_die(rc, "%s", au_errmsg());
	}
	free(cwd);
	if (audit != NULL) {
		char ts[AU_TS_LEN];
		jv e = JV_OBJECT(jv_string("type"), jv_string("session.start"),
		    jv_string("ts"), jv_string(au_ts_fmt(au_now_ms(), ts)),
		    jv_string("id"), jv_string(sid), jv_string("argv"),
		    jv_array());
		int rc;

		for (i = 0; i < argc; i++)
			e = jv_object_set(e, jv_string("argv"),
			    jv_array_append(jv_object_get(jv_copy(e),
			    jv_string("argv")), jv_string(argv[i])));
		rc = au_audit_append(audit, e, NULL, NULL);
		jv_free(e);
		if (rc != 0)
			au_die(rc, "audit: %s", au_errmsg());
	}
	if (holder)
		au_ws_xlisten(holder, db, sid, code);
	if (code == 0) {
		if (interactive) {
			asked_all = 1;
			raw();
		} else if (!holder) {
			src = au_in_fdopen(STDIN_FILENO, "<stdin>");
			au_in_notify(src, wake, NULL);
		}
		code = run();
		restore();
	}
	finish(code);
	if (holder) {
		au_ws_close(holder);
	} else if (src != NULL) {
		int s = au_in_status(src);

		if (s != 0)
			status = au_worse(status, s, rank, 5);
		au_in_close(src);
	}
	if (audit != NULL && au_audit_close(audit) != 0)
		au_die(EX_IOERR, "audit: %s", au_errmsg());
	au_tg_policy_free(policy);
	vterm_free(vt);
	au_buf_free(&seg_text);
	au_buf_free(&waitbuf);
	au_db_close(db);
	au_out_close();
	return status ? status : code;
}
