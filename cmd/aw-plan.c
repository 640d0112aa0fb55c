/*
 * aw-plan - read task records, check them as a graph, put them in a
 * deterministic topological order and store the result as a run.
 *
 * Every problem in the input is reported with its file and line before
 * anything is written or stored: a plan is all or nothing.  The order is
 * Kahn's algorithm with a heap of ready tasks (higher priority first, then
 * input order), so the same input always gives the same plan.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "agentutils.h"

enum { O_CRITICAL = AU_LONG, O_GOAL, O_PLANNER, O_PLANNERCMD, O_MODEL,
    O_PROMPT };

static const struct au_opt opts[] = {
	{ 'n', "dry-run", NULL, "check and print the plan, store nothing",
	    NULL },
	{ 'f', "format", "FORMAT", "write ndjson (the default), dot or tsv",
	    "ndjson dot tsv" },
	{ O_CRITICAL, "critical-path", NULL, "write the longest chain by "
	    "estimate instead of the plan", NULL },
	{ O_GOAL, "goal", "TEXT", "plan the tasks a planner makes for TEXT",
	    NULL },
	{ O_PLANNER, "planner", "NAME", "--goal: the planner, mf (a model "
	    "through mf-route)", "mf" },
	{ O_MODEL, "model", "NAME", "--planner mf: the model or route "
	    "(default planner)", NULL },
	{ O_PROMPT, "prompt", "FILE", "--planner mf: the system prompt "
	    "(default: the planner.md installed)", "FILE" },
	{ O_PLANNERCMD, "planner-cmd", "CMD", "the planner to run for "
	    "--goal", "CMD" },
	{ 0, NULL, NULL, NULL, NULL }
};

static const struct au_cmd cmd = {
	"aw-plan", "[file ...]",
	"Read task records, check the graph, and write it in order as a plan.",
	opts, AU_USE_DB | AU_USE_RECORDS, "FILE"
};

enum fmt { NDJSON, DOT, TSV };

struct ref {			/* a dependency: a name, then its task */
	const char *s;
	size_t len;
	size_t task;		/* NONE until resolved */
};

#define NONE ((size_t)-1)

/*
 * What the reading threads make of one record (prepare() below): the
 * fields the plan needs, the record's own fields as JSON text for the
 * output, and its problems, all in one malloc'd block, so the record
 * itself can be freed where it was parsed.
 */
struct prep {
	int skip;		/* a plan's run record: not a task */
	const char *id;		/* NULL: not a task (msgs say why) */
	size_t idlen;
	const char *kind;	/* "run", "tool" or "prompt" */
	int haskind;		/* the record names its kind */
	int approval;		/* it asks for a person's approval */
	int64_t priority;
	int64_t estimate;	/* ms, 0 without one */
	struct ref *deps;
	size_t ndeps;
	const char *text;	/* its own fields, ",\"k\":v..." */
	size_t textlen;
	const char *needs;	/* its needs as JSON, or NULL */
	size_t needslen;
	const char *msgs;	/* nmsgs problems, each ended by a NUL */
	int nmsgs;
};

struct task {
	struct prep *p;		/* holds its strings */
	const char *id;
	size_t idlen;
	const char *file;
	long line;
	size_t dep0, ndeps;	/* its dependencies in deps[] */
	int level, order;
	size_t indeg;
};

static struct task *tasks;
static size_t ntasks, tasks_cap;
static struct ref *deps;
static size_t ndeps, deps_cap;
static struct au_map *byid;	/* id -> index in tasks */
static struct au_map *dropped;	/* ids --where left out */
static struct prep **kept;	/* preps holding the keys of dropped */
static size_t nkept, kept_cap;
static int render;		/* keep each record's text for output */
static struct au_buf lines;	/* the tasks as the plan writes them */
static size_t *line;		/* each one's start in lines, and the end */
static int bad;			/* any error: no plan */

/* Report a problem of task t found in the graph. */
static void
fault(const struct task *t, const char *fmt, ...) AU_PRINTF(2, 3);

static void
fault(const struct task *t, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	au_errat(t->file, t->line, "%s", msg);
	bad = 1;
}

/* ---- checking one record, in the reading threads ---- */

/* A record being checked: what prepare() collects before it packs the
 * result into one block.  Each reading thread has its own. */
struct build {
	struct prep p;
	struct au_buf text, msgs, names, needs;
	size_t *namelen;	/* the id, then dependency names, in names,
				 * each ended by a NUL */
	size_t nnames, names_cap;
	int render;
};

static void
problem(struct build *b, const char *fmt, ...) AU_PRINTF(2, 3);

static void
problem(struct build *b, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	au_buf_add(&b->msgs, msg, strlen(msg) + 1);
	b->p.nmsgs++;
}

/* Check that v, the field k, is a duration; its ms into *ms. */
static void
check_duration(struct build *b, const char *k, jv v, int64_t *ms)
{
	if (jv_get_kind(v) != JV_KIND_STRING)
		problem(b, "%s: expected a duration string, found %s", k,
		    au_jv_kind(v));
	else if (au_dur_parse(jv_string_value(v), ms) != 0)
		problem(b, "%s: invalid duration %s (like \"90s\", \"10m\" or "
		    "\"1h30m\")", k, au_quote(jv_string_value(v)));
}

/* Check that v (borrowed), the field k, is an array of strings; 1 if so;
 * with names set, collect them as dependency names. */
static int
check_strings(struct build *b, const char *k, jv v, int names)
{
	int i, n;

	if (jv_get_kind(v) != JV_KIND_ARRAY) {
		problem(b, "%s: expected an array of strings, found %s", k,
		    au_jv_kind(v));
		return 0;
	}
	n = jv_array_length(jv_copy(v));
	for (i = 0; i < n; i++) {
		jv e = jv_array_get(jv_copy(v), i);

		if (jv_get_kind(e) != JV_KIND_STRING) {
			problem(b, "%s[%d]: expected a string, found %s", k, i,
			    au_jv_kind(e));
			jv_free(e);
			return 0;
		}
		if (names) {
			size_t len = (size_t)jv_string_length_bytes(jv_copy(e));
			const char *c = jv_string_value(e);
			size_t m;

			for (m = 0; m < len; m++)
				if ((unsigned char)c[m] < 0x20 || c[m] == 0x7f)
					break;
			if (m < len) {
				problem(b, "%s[%d]: control character in %s", k,
				    i, au_quote(c));
				jv_free(e);
				return 0;
			}

			b->namelen = au_grow(b->namelen, &b->names_cap,
			    b->nnames + 1, sizeof *b->namelen);
			b->namelen[b->nnames++] = len;
			au_buf_add(&b->names, jv_string_value(e), len + 1);
		}
		jv_free(e);
	}
	return 1;
}

static void
check_run(struct build *b, jv v)
{
	if (jv_get_kind(v) == JV_KIND_STRING) {
		if (jv_string_length_bytes(jv_copy(v)) == 0)
			problem(b, "run: empty command");
	} else if (jv_get_kind(v) == JV_KIND_ARRAY) {
		if (check_strings(b, "run", v, 0) &&
		    jv_array_length(jv_copy(v)) == 0)
			problem(b, "run: empty argv");
	} else {
		problem(b, "run: expected a command string or an argv array, "
		    "found %s", au_jv_kind(v));
	}
}

static void
check_retry(struct build *b, jv r)
{
	static const char *known[] = { "attempts", "delay", "factor", "max",
	    "jitter", "non_retryable", NULL };
	const char **kp;
	int i, n;
	double d;
	int64_t ms;
	jv v;

	if (jv_get_kind(r) != JV_KIND_OBJECT) {
		problem(b, "retry: expected an object, found %s",
		    au_jv_kind(r));
		return;
	}
	jv_object_foreach(r, key, val) {
		for (kp = known; *kp && strcmp(*kp, jv_string_value(key)); kp++)
			;
		if (*kp == NULL)
			problem(b, "retry: unknown field %s",
			    au_quote(jv_string_value(key)));
		jv_free(key);
		jv_free(val);
	}
	v = jv_object_get(jv_copy(r), jv_string("attempts"));
	if (jv_is_valid(v) && (!au_jv_isint(v) || jv_number_value(v) < 1 ||
	    jv_number_value(v) > 1000))
		problem(b, "retry.attempts: expected an integer from 1 to "
		    "1000");
	jv_free(v);
	for (i = 0; i < 2; i++) {
		const char *name = i ? "max" : "delay";

		v = jv_object_get(jv_copy(r), jv_string(name));
		if (jv_is_valid(v) && (jv_get_kind(v) != JV_KIND_STRING ||
		    au_dur_parse(jv_string_value(v), &ms) != 0))
			problem(b, "retry.%s: expected a duration string",
			    name);
		jv_free(v);
	}
	v = jv_object_get(jv_copy(r), jv_string("factor"));
	if (jv_is_valid(v) && (jv_get_kind(v) != JV_KIND_NUMBER ||
	    (d = jv_number_value(v)) < 1 || d > 100))
		problem(b, "retry.factor: expected a number from 1 to 100");
	jv_free(v);
	v = jv_object_get(jv_copy(r), jv_string("jitter"));
	if (jv_is_valid(v) && (jv_get_kind(v) != JV_KIND_NUMBER ||
	    (d = jv_number_value(v)) < 0 || d > 1))
		problem(b, "retry.jitter: expected a number from 0 to 1");
	jv_free(v);
	v = jv_object_get(jv_copy(r), jv_string("non_retryable"));
	if (jv_get_kind(v) == JV_KIND_ARRAY) {
		n = jv_array_length(jv_copy(v));
		for (i = 0; i < n; i++) {
			jv k = jv_array_get(jv_copy(v), i);

			if (!au_jv_isint(k) || jv_number_value(k) < 0 ||
			    jv_number_value(k) > 255)
				problem(b, "retry.non_retryable[%d]: expected "
				    "an exit status from 0 to 255", i);
			jv_free(k);
		}
	} else if (jv_is_valid(v)) {
		problem(b, "retry.non_retryable: expected an array of exit "
		    "statuses");
	}
	jv_free(v);
}

/* Fields the plan writes itself rather than copying from the record. */
static int
ours(const char *k)
{
	return strcmp(k, "type") == 0 || strcmp(k, "id") == 0 ||
	    strcmp(k, "run_id") == 0 || strcmp(k, "order") == 0 ||
	    strcmp(k, "level") == 0;
}

/* Check the id; 1 when it can name a task. */
static int
check_id(struct build *b, jv rec)
{
	jv id = jv_object_get(jv_copy(rec), jv_string("id"));
	const char *s;
	size_t n, i;
	int ok = 0;

	if (jv_get_kind(id) != JV_KIND_STRING) {
		if (jv_is_valid(id))
			problem(b, "id: expected a string, found %s",
			    au_jv_kind(id));
		else
			problem(b, "missing \"id\"");
		goto out;
	}
	s = jv_string_value(id);
	n = (size_t)jv_string_length_bytes(jv_copy(id));
	if (n == 0 || n > 256) {
		problem(b, "id: must be 1 to 256 bytes long");
		goto out;
	}
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			problem(b, "id: control character in %s", au_quote(s));
			goto out;
		}
	ok = 1;
	b->p.idlen = n;
	au_buf_add(&b->names, s, n + 1);	/* the id goes first in names */
out:
	jv_free(id);
	return ok;
}

/*
 * Check the fields aw-plan knows, in one pass over the record; unknown
 * fields pass through untouched.  With render set, the record's own
 * fields are kept as JSON text for the output.
 */
static void
check(struct build *b, jv rec)
{
	int has_run = 0, has_tool = 0, has_prompt = 0;
	const char *k, *s;
	int64_t ms;

	jv_object_foreach(rec, key, v) {
		k = jv_string_value(key);
		if (b->render && !ours(k)) {
			au_buf_addc(&b->text, ',');
			au_json_str(&b->text, k,
			    (size_t)jv_string_length_bytes(jv_copy(key)));
			au_buf_addc(&b->text, ':');
			au_json_dump(&b->text, v);
		}
		if (strcmp(k, "kind") == 0) {
			s = jv_get_kind(v) == JV_KIND_STRING ?
			    jv_string_value(v) : NULL;
			b->p.haskind = 1;
			if (s == NULL)
				problem(b, "kind: expected a string, found %s",
				    au_jv_kind(v));
			else if (strcmp(s, "tool") == 0)
				b->p.kind = "tool";
			else if (strcmp(s, "prompt") == 0)
				b->p.kind = "prompt";
			else if (strcmp(s, "run") != 0)
				problem(b, "kind: unknown kind %s (run, tool "
				    "or prompt)", au_quote(s));
		} else if (strcmp(k, "run") == 0) {
			has_run = 1;
			check_run(b, v);
		} else if (strcmp(k, "deps") == 0) {
			check_strings(b, "deps", v, 1);
		} else if (strcmp(k, "needs") == 0) {
			if (check_strings(b, "needs", v, 0))
				au_json_dump(&b->needs, v);
		} else if (strcmp(k, "priority") == 0) {
			if (au_jv_isint(v) && jv_number_value(v) >= -1e9 &&
			    jv_number_value(v) <= 1e9)
				b->p.priority = (int64_t)jv_number_value(v);
			else
				problem(b, "priority: expected an integer from "
				    "-1e9 to 1e9");
		} else if (strcmp(k, "timeout") == 0) {
			check_duration(b, k, v, &ms);
		} else if (strcmp(k, "estimate") == 0) {
			check_duration(b, k, v, &b->p.estimate);
		} else if (strcmp(k, "retry") == 0) {
			check_retry(b, v);
		} else if (strcmp(k, "approval") == 0) {
			if (jv_get_kind(v) != JV_KIND_STRING ||
			    (strcmp(jv_string_value(v), "required") != 0 &&
			    strcmp(jv_string_value(v), "none") != 0))
				problem(b, "approval: expected \"required\" or "
				    "\"none\"");
			else
				b->p.approval = strcmp(jv_string_value(v),
				    "required") == 0;
		} else if (strcmp(k, "tool") == 0) {
			has_tool = jv_get_kind(v) == JV_KIND_STRING;
			if (!has_tool)
				problem(b, "tool: expected a string, found %s",
				    au_jv_kind(v));
		} else if (strcmp(k, "prompt") == 0 ||
		    strcmp(k, "messages") == 0) {
			has_prompt = 1;
		}
		jv_free(key);
		jv_free(v);
	}
	if (strcmp(b->p.kind, "run") == 0 && !has_run)
		problem(b, "missing \"run\" (the command of a run task)");
	if (strcmp(b->p.kind, "tool") == 0 && !has_tool)
		problem(b, "missing \"tool\" (the tool a tool task calls)");
	if (strcmp(b->p.kind, "prompt") == 0 && !has_prompt)
		problem(b, "missing \"prompt\" or \"messages\" (what a prompt "
		    "task asks)");
}

/* Pack what b collected into one block. */
static struct prep *
pack(struct build *b)
{
	size_t size = sizeof(struct prep) + b->nnames * sizeof(struct ref) +
	    b->names.len + b->text.len + b->needs.len + b->msgs.len + 1, i,
	    off;
	struct prep *p = au_xmalloc(size);
	char *s;

	*p = b->p;
	p->deps = (struct ref *)(p + 1);
	p->ndeps = b->nnames;
	s = (char *)(p->deps + p->ndeps);
	memcpy(s, b->names.s, b->names.len);
	if (p->id != NULL)
		p->id = s;
	off = p->id != NULL ? p->idlen + 1 : 0;
	for (i = 0; i < p->ndeps; i++) {
		p->deps[i].s = s + off;
		p->deps[i].len = b->namelen[i];
		off += b->namelen[i] + 1;
	}
	s += b->names.len;
	memcpy(s, b->text.s, b->text.len);
	p->text = s;
	p->textlen = b->text.len;
	s += b->text.len;
	memcpy(s, b->needs.s, b->needs.len);
	p->needs = b->needs.len > 0 ? s : NULL;
	p->needslen = b->needs.len;
	s += b->needs.len;
	memcpy(s, b->msgs.s, b->msgs.len);
	p->msgs = s;
	s[b->msgs.len] = '\0';
	return p;
}

/* Each reading thread keeps its struct build until it ends. */
static pthread_key_t build_key;
static pthread_once_t build_once = PTHREAD_ONCE_INIT;

static void
build_free(void *arg)
{
	struct build *b = arg;

	au_buf_free(&b->text);
	au_buf_free(&b->msgs);
	au_buf_free(&b->names);
	au_buf_free(&b->needs);
	free(b->namelen);
	free(b);
}

static void
build_key_init(void)
{
	if (pthread_key_create(&build_key, build_free) != 0)
		au_die(EX_SOFTWARE, "pthread_key_create:");
}

/* The au_in_prepare function: everything about one record that needs no
 * other record, done in the reading threads. */
static void *
prepare(jv rec, void *arg)
{
	jv t = jv_object_get(jv_copy(rec), jv_string("type"));
	const char *type = jv_get_kind(t) == JV_KIND_STRING ?
	    jv_string_value(t) : NULL;
	struct build *b;

	pthread_once(&build_once, build_key_init);
	if ((b = pthread_getspecific(build_key)) == NULL) {
		b = au_xcalloc(1, sizeof *b);
		pthread_setspecific(build_key, b);
	}
	memset(&b->p, 0, sizeof b->p);
	b->text.len = b->msgs.len = b->names.len = b->needs.len = 0;
	au_buf_grow(&b->text, 0);	/* pack() copies from all four */
	au_buf_grow(&b->msgs, 0);
	au_buf_grow(&b->names, 0);
	au_buf_grow(&b->needs, 0);
	b->nnames = 0;
	b->render = *(int *)arg;
	b->p.kind = "run";
	if (jv_is_valid(t) && type == NULL)
		problem(b, "type: expected a string, found %s", au_jv_kind(t));
	else if (type != NULL && strcmp(type, "run") == 0)
		b->p.skip = 1;	/* a stored plan's header: replanned */
	else if (type != NULL && strcmp(type, "task") != 0)
		problem(b, "unexpected record type %s (want \"task\")",
		    au_quote(type));
	else if (check_id(b, rec)) {
		b->p.id = "";	/* pack() points it at the name */
		check(b, rec);
	}
	jv_free(t);	/* type pointed into it until here */
	return pack(b);
}

/* ---- the graph, in the main thread ---- */

static void
readtasks(struct au_in *in, struct au_where *where)
{
	struct au_rec rec;
	struct prep *p;
	struct task *t;
	const char *m;
	long prev;
	int i, sel;

	au_in_prepare(in, prepare, &render, where == NULL);
	while (au_in_next(in, &rec)) {
		p = rec.prep;
		sel = p->id == NULL || where == NULL ? 1 :
		    au_where_test(where, rec.v);
		jv_free(rec.v);
		if (sel < 0)
			au_in_reject(in, &rec, "--where: %s", au_errmsg());
		if (sel == 0) {
			au_map_put(dropped, p->id, p->idlen, 0);
			kept = au_grow(kept, &kept_cap, nkept + 1,
			    sizeof *kept);
			kept[nkept++] = p;
			continue;
		}
		if (p->skip || sel < 0) {
			free(p);
			continue;
		}
		if (p->id != NULL && (prev = au_map_put(byid, p->id, p->idlen,
		    (long)ntasks)) >= 0) {
			au_in_reject(in, &rec, "duplicate id %s (first at "
			    "%s:%ld)", au_quote(p->id), tasks[prev].file,
			    tasks[prev].line);
			free(p);
			continue;
		}
		for (i = 0, m = p->msgs; i < p->nmsgs; i++, m += strlen(m) + 1)
			au_in_reject(in, &rec, "%s", m);
		if (p->id == NULL) {
			free(p);
			continue;
		}
		tasks = au_grow(tasks, &tasks_cap, ntasks + 1, sizeof *tasks);
		t = &tasks[ntasks++];
		memset(t, 0, sizeof *t);
		t->p = p;
		t->id = p->id;
		t->idlen = p->idlen;
		t->file = rec.file;
		t->line = rec.line;
		t->dep0 = ndeps;
		t->ndeps = p->ndeps;
		deps = au_grow(deps, &deps_cap, ndeps + p->ndeps, sizeof *deps);
		for (i = 0; i < (int)p->ndeps; i++) {
			/* Most inputs name a task before its dependents:
			 * resolve those now, while the readers parse on. */
			deps[ndeps] = p->deps[i];
			prev = au_map_get(byid, deps[ndeps].s, deps[ndeps].len);
			deps[ndeps++].task = prev >= 0 ? (size_t)prev : NONE;
		}
	}
	if (au_in_status(in) != 0)
		bad = 1;
}

/* Turn dependency names into task indices: unknown names and a task's
 * own id are errors, a name given twice is dropped with a warning. */
static void
resolve(void)
{
	size_t i, j, n, *seen = au_xcalloc(ntasks ? ntasks : 1, sizeof *seen);
	struct task *t;
	long k;

	for (i = 0; i < ntasks; i++) {
		t = &tasks[i];
		n = 0;
		for (j = t->dep0; j < t->dep0 + t->ndeps; j++) {
			k = deps[j].task != NONE ? (long)deps[j].task :
			    au_map_get(byid, deps[j].s, deps[j].len);
			if (k < 0 && au_map_get(dropped, deps[j].s,
			    deps[j].len) >= 0)
				fault(t, "dependency %s is not selected by "
				    "--where", au_quote(deps[j].s));
			else if (k < 0)
				fault(t, "unknown dependency %s",
				    au_quote(deps[j].s));
			else if ((size_t)k == i)
				fault(t, "task %s depends on itself",
				    au_quote(t->id));
			else if (seen[k] == i + 1)
				au_warn("%s:%ld: duplicate dependency %s "
				    "ignored", au_esc(t->file), t->line,
				    au_quote(deps[j].s));
			else {
				seen[k] = i + 1;
				deps[t->dep0 + n] = deps[j];
				deps[t->dep0 + n++].task = (size_t)k;
			}
		}
		t->ndeps = n;
	}
	free(seen);
}

/* Who depends on each task, as compressed rows: rdep[roff[i]..roff[i+1]). */
static size_t *roff, *rdep;

static void
reverse(void)
{
	size_t i, j, *fill;

	roff = au_xcalloc(ntasks + 1, sizeof *roff);
	rdep = au_xcalloc(ndeps ? ndeps : 1, sizeof *rdep);
	for (j = 0; j < ndeps; j++)
		roff[deps[j].task + 1]++;
	for (i = 0; i < ntasks; i++)
		roff[i + 1] += roff[i];
	fill = au_xcalloc(ntasks + 1, sizeof *fill);
	memcpy(fill, roff, (ntasks + 1) * sizeof *fill);
	for (i = 0; i < ntasks; i++)
		for (j = tasks[i].dep0; j < tasks[i].dep0 + tasks[i].ndeps; j++)
			rdep[fill[deps[j].task]++] = i;
	free(fill);
}

/* The ready heap: higher priority first, then input order. */
static size_t *heap, nheap;

static int
before(size_t a, size_t b)
{
	if (tasks[a].p->priority != tasks[b].p->priority)
		return tasks[a].p->priority > tasks[b].p->priority;
	return a < b;
}

static void
push(size_t x)
{
	size_t i = nheap++, p;

	while (i > 0 && before(x, heap[p = (i - 1) / 2])) {
		heap[i] = heap[p];
		i = p;
	}
	heap[i] = x;
}

static size_t
pop(void)
{
	size_t top = heap[0], x = heap[--nheap], i = 0, c;

	while ((c = 2 * i + 1) < nheap) {
		if (c + 1 < nheap && before(heap[c + 1], heap[c]))
			c++;
		if (!before(heap[c], x))
			break;
		heap[i] = heap[c];
		i = c;
	}
	heap[i] = x;
	return top;
}

static size_t *seq;		/* task indices in plan order */
static int nlevels;

/* Kahn's algorithm; the number of tasks placed (less than ntasks when
 * there are cycles). */
static size_t
order(void)
{
	size_t i, j, n = 0, x, d;
	int lv;

	heap = au_xcalloc(ntasks ? ntasks : 1, sizeof *heap);
	seq = au_xcalloc(ntasks ? ntasks : 1, sizeof *seq);
	for (i = 0; i < ntasks; i++)
		if ((tasks[i].indeg = tasks[i].ndeps) == 0)
			push(i);
	while (nheap > 0) {
		x = pop();
		lv = 0;
		for (j = tasks[x].dep0; j < tasks[x].dep0 + tasks[x].ndeps; j++)
			if (tasks[deps[j].task].level + 1 > lv)
				lv = tasks[deps[j].task].level + 1;
		tasks[x].level = lv;
		if (lv + 1 > nlevels)
			nlevels = lv + 1;
		tasks[x].order = (int)n + 1;
		seq[n++] = x;
		for (j = roff[x]; j < roff[x + 1]; j++) {
			d = rdep[j];
			if (--tasks[d].indeg == 0)
				push(d);
		}
	}
	return n;
}

/*
 * Cycles: the tasks left unplaced are in a cycle or wait on one.  Tarjan's
 * algorithm (iterative) finds the strongly connected components among
 * them; each one of two or more tasks holds a cycle, printed from its
 * first task in input order along the shortest way back to it.
 */
static void
cycles(void)
{
	size_t *index, *low, *stack, *cstack, *ci, *scc, *prevs, *queue;
	size_t next = 1, sp = 0, cp = 0, i, j, v, w, n, qh, qt, start;
	unsigned char *on, *seen;
	struct au_buf b = AU_BUF_INIT;

	index = au_xcalloc(ntasks, sizeof *index);
	low = au_xcalloc(ntasks, sizeof *low);
	stack = au_xcalloc(ntasks, sizeof *stack);
	cstack = au_xcalloc(ntasks, sizeof *cstack);
	ci = au_xcalloc(ntasks, sizeof *ci);
	scc = au_xcalloc(ntasks, sizeof *scc);
	prevs = au_xcalloc(ntasks, sizeof *prevs);
	queue = au_xcalloc(ntasks, sizeof *queue);
	on = au_xcalloc(ntasks, 1);
	seen = au_xcalloc(ntasks, 1);
	for (i = 0; i < ntasks; i++) {
		if (tasks[i].indeg == 0 || index[i] != 0)
			continue;
		/* Depth-first over "depended on by" edges among unplaced. */
		cstack[cp] = i;
		ci[cp++] = roff[i];
		index[i] = low[i] = next++;
		stack[sp++] = i;
		on[i] = 1;
		while (cp > 0) {
			v = cstack[cp - 1];
			if (ci[cp - 1] < roff[v + 1]) {
				w = rdep[ci[cp - 1]++];
				if (tasks[w].indeg == 0)
					continue;
				if (index[w] == 0) {
					cstack[cp] = w;
					ci[cp++] = roff[w];
					index[w] = low[w] = next++;
					stack[sp++] = w;
					on[w] = 1;
				} else if (on[w] && index[w] < low[v]) {
					low[v] = index[w];
				}
				continue;
			}
			cp--;
			if (cp > 0 && low[v] < low[cstack[cp - 1]])
				low[cstack[cp - 1]] = low[v];
			if (low[v] != index[v])
				continue;
			n = 0;
			do {
				w = stack[--sp];
				on[w] = 0;
				scc[n++] = w;
			} while (w != v);
			if (n < 2)
				continue;
			start = scc[0];
			for (j = 1; j < n; j++)
				if (scc[j] < start)
					start = scc[j];
			for (j = 0; j < n; j++)
				seen[scc[j]] = 2;	/* in this component */
			/* Breadth-first from start back to start. */
			qh = qt = 0;
			queue[qt++] = start;
			seen[start] = 1;
			w = start;
			while (qh < qt) {
				v = queue[qh++];
				for (j = roff[v]; j < roff[v + 1]; j++) {
					if (rdep[j] == start) {
						w = v;
						qh = qt;
						break;
					}
					if (seen[rdep[j]] == 2) {
						seen[rdep[j]] = 1;
						prevs[rdep[j]] = v;
						queue[qt++] = rdep[j];
					}
				}
			}
			/* Walk back from w to start, then print forwards. */
			qt = 0;
			for (v = w; v != start; v = prevs[v])
				queue[qt++] = v;
			b.len = 0;
			au_buf_add(&b, tasks[start].id, tasks[start].idlen);
			while (qt > 0) {
				v = queue[--qt];
				au_buf_adds(&b, " -> ");
				au_buf_add(&b, tasks[v].id, tasks[v].idlen);
			}
			au_buf_adds(&b, " -> ");
			au_buf_add(&b, tasks[start].id, tasks[start].idlen);
			fault(&tasks[start], "dependency cycle: %s", b.s);
			for (j = 0; j < n; j++)
				seen[scc[j]] = 0;
		}
	}
	au_buf_free(&b);
	free(index);
	free(low);
	free(stack);
	free(cstack);
	free(ci);
	free(scc);
	free(prevs);
	free(queue);
	free(on);
	free(seen);
}

static int64_t *finish;	/* for critical(): when each task could end */

/* Whether the chain ending in a is longer than the one ending in b: by
 * estimate, then by number of tasks, then the one placed first. */
static int
longer(size_t a, size_t b)
{
	if (finish[a] != finish[b])
		return finish[a] > finish[b];
	if (tasks[a].level != tasks[b].level)
		return tasks[a].level > tasks[b].level;
	return tasks[a].order < tasks[b].order;
}

/* The longest chain by estimate, from a task without dependencies to one
 * that ends last: its tasks into path, their count, and its total ms. */
static size_t
critical(size_t **path, int64_t *total)
{
	size_t *via = au_xcalloc(ntasks ? ntasks : 1, sizeof *via);
	size_t i, j, x, d, best = 0, n = 0;

	finish = au_xcalloc(ntasks ? ntasks : 1, sizeof *finish);
	for (i = 0; i < ntasks; i++) {
		x = seq[i];
		via[x] = x;
		for (j = tasks[x].dep0; j < tasks[x].dep0 + tasks[x].ndeps;
		    j++) {
			d = deps[j].task;
			if (via[x] == x || longer(d, via[x]))
				via[x] = d;
		}
		finish[x] = (via[x] == x ? 0 : finish[via[x]]) +
		    tasks[x].p->estimate;
		if (i == 0 || longer(x, best))
			best = x;
	}
	*total = ntasks > 0 ? finish[best] : 0;
	*path = au_xcalloc(ntasks ? ntasks : 1, sizeof **path);
	for (x = best; ntasks > 0; x = via[x]) {
		(*path)[n++] = x;
		if (via[x] == x)
			break;
	}
	for (i = 0; i < n / 2; i++) {
		x = (*path)[i];
		(*path)[i] = (*path)[n - 1 - i];
		(*path)[n - 1 - i] = x;
	}
	free(finish);
	free(via);
	return n;
}

/* Task t as the plan writes it, a line added to b: type and id first,
 * then its own fields, then where it stands in the run. */
static void
emit(struct au_buf *b, const struct task *t, const char *runid)
{
	au_buf_adds(b, "{\"type\":\"task\",\"id\":");
	au_json_str(b, t->id, t->idlen);
	if (!t->p->haskind)
		au_buf_adds(b, ",\"kind\":\"run\"");
	au_buf_add(b, t->p->text, t->p->textlen);
	au_buf_adds(b, ",\"run_id\":\"");
	au_buf_adds(b, runid);
	au_buf_adds(b, "\",\"order\":");
	au_buf_addint(b, t->order);
	au_buf_adds(b, ",\"level\":");
	au_buf_addint(b, t->level);
	au_buf_adds(b, "}\n");
}

static jv
runrec(const char *runid, const char *goal, char *const *files, int nfiles)
{
	char ts[AU_TS_LEN];
	jv r = jv_object(), src = jv_array();
	int i;

	r = jv_object_set(r, jv_string("type"), jv_string("run"));
	r = jv_object_set(r, jv_string("id"), jv_string(runid));
	r = jv_object_set(r, jv_string("ts"),
	    jv_string(au_ts_fmt(au_now_ms(), ts)));
	r = jv_object_set(r, jv_string("tasks"), jv_number((double)ntasks));
	r = jv_object_set(r, jv_string("levels"), jv_number(nlevels));
	if (goal != NULL) {
		r = jv_object_set(r, jv_string("goal"), jv_string(goal));
		src = jv_array_append(src, jv_string("planner"));
	} else if (nfiles == 0) {
		src = jv_array_append(src, jv_string("-"));
	}
	for (i = 0; i < nfiles; i++)
		src = jv_array_append(src, jv_string(files[i]));
	return jv_object_set(r, jv_string("sources"), src);
}

static void
write_tsv(const size_t *list, size_t n)
{
	static const char head[] = "order\tlevel\tid\tkind\tpriority\tdeps\n";
	struct au_buf b = AU_BUF_INIT;
	const struct task *t;
	size_t i, j;

	au_out_text(head, strlen(head));
	for (i = 0; i < n; i++) {
		t = &tasks[list[i]];
		b.len = 0;
		au_buf_addf(&b, "%d\t%d\t", t->order, t->level);
		au_out_text(b.s, b.len);
		au_out_text(t->id, t->idlen);
		b.len = 0;
		au_buf_addf(&b, "\t%s\t%lld\t", t->p->kind,
		    (long long)t->p->priority);
		au_out_text(b.s, b.len);
		for (j = 0; j < t->ndeps; j++) {
			if (j > 0)
				au_out_text(",", 1);
			au_out_text(deps[t->dep0 + j].s, deps[t->dep0 + j].len);
		}
		au_out_text("\n", 1);
		au_out_eol();
	}
	au_buf_free(&b);
}

/* A quoted dot identifier. */
static void
dot_id(struct au_buf *b, const char *s, size_t n)
{
	size_t i;

	au_buf_addc(b, '"');
	for (i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\')
			au_buf_addc(b, '\\');
		au_buf_addc(b, s[i]);
	}
	au_buf_addc(b, '"');
}

static void
write_dot(const char *runid, const unsigned char *hot)
{
	struct au_buf b = AU_BUF_INIT;
	size_t i, j, x, *start, *bylevel;
	int lv;

	au_buf_addf(&b, "digraph \"%s\" {\n\trankdir=LR;\n"
	    "\tnode [shape=box, fontname=\"Helvetica\"];\n", runid);
	/* Tasks of one level share a rank: sort plan order by level. */
	start = au_xcalloc((size_t)nlevels + 1, sizeof *start);
	bylevel = au_xcalloc(ntasks ? ntasks : 1, sizeof *bylevel);
	for (i = 0; i < ntasks; i++)
		start[tasks[i].level + 1]++;
	for (lv = 0; lv < nlevels; lv++)
		start[lv + 1] += start[lv];
	for (i = 0; i < ntasks; i++)
		bylevel[start[tasks[seq[i]].level]++] = seq[i];
	for (i = 0, lv = 0; lv < nlevels; lv++) {
		au_buf_adds(&b, "\t{ rank=same;");
		for (; i < start[lv]; i++) {
			au_buf_addc(&b, ' ');
			dot_id(&b, tasks[bylevel[i]].id,
			    tasks[bylevel[i]].idlen);
			au_buf_addc(&b, ';');
		}
		au_buf_adds(&b, " }\n");
		au_out_text(b.s, b.len);
		b.len = 0;
	}
	free(start);
	free(bylevel);
	for (i = 0; i < ntasks; i++) {
		x = seq[i];
		if (hot != NULL && hot[x]) {
			au_buf_adds(&b, "\t");
			dot_id(&b, tasks[x].id, tasks[x].idlen);
			au_buf_adds(&b, " [color=red, penwidth=2];\n");
		}
		for (j = tasks[x].dep0; j < tasks[x].dep0 + tasks[x].ndeps;
		    j++) {
			size_t d = deps[j].task;

			au_buf_adds(&b, "\t");
			dot_id(&b, tasks[d].id, tasks[d].idlen);
			au_buf_adds(&b, " -> ");
			dot_id(&b, tasks[x].id, tasks[x].idlen);
			if (hot != NULL && hot[x] && hot[d])
				au_buf_adds(&b, " [color=red, penwidth=2]");
			au_buf_adds(&b, ";\n");
		}
		au_out_text(b.s, b.len);
		b.len = 0;
	}
	au_out_text("}\n", 2);
	au_out_eol();
	au_buf_free(&b);
}

/* au_aw_store's source: the tasks in plan order. */
static int
next_task(void *arg, struct au_aw_task *t)
{
	static struct au_str *dl;
	static size_t dlcap;
	size_t *i = arg, j;
	const struct task *k;

	if (*i == ntasks) {
		free(dl);
		return 0;
	}
	k = &tasks[seq[*i]];
	dl = au_grow(dl, &dlcap, k->ndeps + 1, sizeof *dl);
	for (j = 0; j < k->ndeps; j++) {
		dl[j].s = deps[k->dep0 + j].s;
		dl[j].len = deps[k->dep0 + j].len;
	}
	t->id = k->id;
	t->idlen = k->idlen;
	t->order = k->order;
	t->level = k->level;
	t->kind = k->p->kind;
	t->priority = k->p->priority;
	t->needs = k->p->needs;
	t->needslen = k->p->needslen;
	/* The line as printed, without its newline. */
	t->record = lines.s + line[*i];
	t->reclen = line[*i + 1] - line[*i] - 1;
	t->approval = k->p->approval;
	t->deps = dl;
	t->ndeps = k->ndeps;
	++*i;
	return 1;
}

/* Store the plan as a run. */
static void
store(jv run, const char *runid, const char *goal)
{
	struct au_buf b = AU_BUF_INIT;
	struct au_aw_run r;
	sqlite3 *db = au_xdb_open();
	size_t i = 0;
	int rc;

	au_json_dump(&b, run);
	r.id = runid;
	r.ts = au_jv_str(run, "ts");
	r.goal = goal;
	r.record = b.s;
	r.tasks = (int64_t)ntasks;
	r.levels = nlevels;
	if ((rc = au_aw_store(db, &r, next_task, &i)) != 0)
		au_die(rc, "%s", au_errmsg());
	au_db_close(db);
	au_buf_free(&b);
	au_note("stored run %s: %zu tasks, %d levels", runid, ntasks, nlevels);
}

/* Start argv with the n bytes at text on its standard input, its
 * standard output a pipe.  The text comes from an unlinked file, not a
 * pipe, so that a child that writes before it reads (or never reads)
 * cannot block us. */
static void
spawn_fed(char *const *argv, const char *what, const char *text, size_t n,
    struct au_proc *p)
{
	struct au_spawn sp = { argv, NULL, NULL,
	    { AU_FD_PIPE, AU_FD_PIPE, AU_FD_INHERIT }, 0, NULL, 0, NULL };
	FILE *f;
	int rc;

	if ((f = tmpfile()) == NULL || fwrite(text, 1, n, f) != n ||
	    fflush(f) != 0 || lseek(fileno(f), 0, SEEK_SET) != 0)
		au_die(EX_CANTCREAT, "%s: its input's file:", what);
	sp.fd[0] = fileno(f);
	if ((rc = au_spawn(&sp, p)) != 0)
		au_die(rc, "%s: %s", what, au_errmsg());
	fclose(f);
}

/* The child p's end, reported as what's: 0 when it exited 0. */
static int
reap(struct au_proc *p, const char *what)
{
	int rc = au_proc_wait(p, -1, 0, NULL);

	if (rc > 128)
		au_err("%s: killed by signal %d", what, rc - 128);
	else if (rc != 0)
		au_err("%s: exited with status %d", what, rc);
	return rc;
}

/* Run the planner with the goal on its standard input; read its tasks. */
static int
plan_goal(const char *goal, const char *plannercmd, struct au_where *where)
{
	char *argv[] = { "/bin/sh", "-c", (char *)plannercmd, NULL };
	struct au_buf b = AU_BUF_INIT;
	struct au_proc p;
	struct au_in *in;
	jv g;

	g = jv_object_set(jv_object(), jv_string("type"), jv_string("goal"));
	g = jv_object_set(g, jv_string("text"), jv_string(goal));
	au_json_dump(&b, g);
	au_buf_addc(&b, '\n');
	jv_free(g);
	spawn_fed(argv, "planner", b.s, b.len, &p);
	au_buf_free(&b);
	in = au_in_fdopen(p.fd[1], "planner");
	readtasks(in, where);
	au_in_close(in);
	return reap(&p, "planner");
}

/* Ask a model, through mf-route, to break the goal into tasks: the
 * system prompt from the file prompt, the goal as the user's message.
 * Its answer's lines are read as task records, code fences aside, under
 * the name "model" for messages: the input's status (65 for bad lines). */
static int
plan_model(const char *goal, const char *model, const char *prompt,
    const char *runid, struct au_where *where)
{
	char *argv[] = { "mf-route", NULL };
	struct au_buf b = AU_BUF_INIT, out = AU_BUF_INIT;
	struct au_proc p;
	struct au_in *in;
	char chunk[8192], *ln, *end;
	const char *text, *err;
	ssize_t n;
	FILE *f;
	jv req, resp;
	int rc, fd;

	if ((fd = open(prompt, O_RDONLY | O_CLOEXEC)) < 0)
		au_die(errno == ENOENT ? EX_NOINPUT : EX_IOERR, "%s:", prompt);
	while ((n = read(fd, chunk, sizeof chunk)) > 0)
		au_buf_add(&b, chunk, (size_t)n);
	if (n < 0)
		au_die(EX_IOERR, "%s:", prompt);
	close(fd);
	if (b.len == 0 || au_utf8_valid(b.s, b.len) != b.len)
		au_die(EX_DATAERR, "%s: an empty prompt, or not UTF-8", prompt);
	req = JV_OBJECT(jv_string("type"), jv_string("model.request"),
	    jv_string("id"), jv_string("plan"), jv_string("model"),
	    jv_string(model), jv_string("system"),
	    jv_string_sized(b.s, (int)b.len), jv_string("messages"),
	    JV_ARRAY(JV_OBJECT(jv_string("role"), jv_string("user"),
	    jv_string("content"), jv_string(goal))), jv_string("metadata"),
	    JV_OBJECT(jv_string("run"), jv_string(runid), jv_string("task"),
	    jv_string("plan")));
	b.len = 0;
	au_json_dump(&b, req);
	au_buf_addc(&b, '\n');
	jv_free(req);
	spawn_fed(argv, "mf-route", b.s, b.len, &p);
	au_buf_free(&b);
	au_buf_adds(&out, "");
	while ((n = read(p.fd[1], chunk, sizeof chunk)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			au_die(EX_IOERR, "mf-route:");
		au_buf_add(&out, chunk, (size_t)n);
	}
	if ((rc = reap(&p, "mf-route")) != 0 && out.len == 0)
		au_die(rc > 128 ? EX_SOFTWARE : rc, "the model planner failed");
	resp = jv_parse_sized(out.s, (int)out.len);
	au_buf_free(&out);
	if (jv_get_kind(resp) != JV_KIND_OBJECT)
		au_die(EX_SOFTWARE, "mf-route: not one model.response record");
	if ((err = au_jv_str(resp, "error")) != NULL)
		au_die(rc ? rc : EX_UNAVAILABLE, "the model planner: %s", err);
	if ((text = au_jv_str(resp, "content")) == NULL)
		au_die(EX_DATAERR, "the model planner: an answer without text");
	if ((f = tmpfile()) == NULL)
		au_die(EX_CANTCREAT, "the model's answer's file:");
	for (ln = (char *)text; *ln != '\0'; ln = end) {
		end = ln + strcspn(ln, "\n");
		if (*end == '\n')
			end++;
		if (strncmp(ln, "```", 3) != 0)
			fwrite(ln, 1, (size_t)(end - ln), f);
	}
	if (fflush(f) != 0 || lseek(fileno(f), 0, SEEK_SET) != 0)
		au_die(EX_CANTCREAT, "the model's answer's file:");
	jv_free(resp);
	in = au_in_fdopen(fileno(f), "model");
	readtasks(in, where);
	rc = au_in_status(in);
	au_in_close(in);
	fclose(f);
	return rc;
}

/* Free what the plan was made of. */
static void
cleanup(void)
{
	size_t i;

	for (i = 0; i < ntasks; i++)
		free(tasks[i].p);
	for (i = 0; i < nkept; i++)
		free(kept[i]);
	free(tasks);
	free(kept);
	free(deps);
	free(roff);
	free(rdep);
	free(heap);
	free(seq);
	au_map_free(byid);
	au_map_free(dropped);
	au_buf_free(&lines);
	free(line);
}

int
main(int argc, char **argv)
{
	const char *arg, *goal = NULL, *plannercmd = NULL, *planner = NULL;
	const char *model = "planner", *prompt = AU_DATADIR "/planner.md";
	struct au_where *where = NULL;
	struct au_in *in;
	enum fmt fmt = NDJSON;
	int c, dry = 0, crit = 0, rc, instatus = 0;
	char runid[AU_ID_LEN];
	size_t placed, *path = NULL, npath = 0, i;
	unsigned char *hot = NULL;
	int64_t total = 0;
	jv run;

	au_setprog(argv[0]);
	while ((c = au_getopt(&cmd, argc, argv, &arg)) != -1) {
		switch (c) {
		case 'n':
			dry = 1;
			break;
		case 'f':
			if (strcmp(arg, "ndjson") == 0)
				fmt = NDJSON;
			else if (strcmp(arg, "dot") == 0)
				fmt = DOT;
			else if (strcmp(arg, "tsv") == 0)
				fmt = TSV;
			else
				au_usage_die(&cmd, "--format: unknown format "
				    "%s (ndjson, dot or tsv)", au_quote(arg));
			break;
		case O_CRITICAL:
			crit = 1;
			break;
		case O_GOAL:
			goal = arg;
			break;
		case O_PLANNER:
			if (strcmp(arg, "mf") != 0)
				au_usage_die(&cmd, "--planner: unknown planner "
				    "%s (mf)", au_quote(arg));
			planner = arg;
			break;
		case O_MODEL:
			model = arg;
			break;
		case O_PROMPT:
			prompt = arg;
			break;
		case O_PLANNERCMD:
			plannercmd = arg;
			break;
		}
	}
	argc -= au_optind;
	argv += au_optind;
	if (goal != NULL && (plannercmd == NULL) == (planner == NULL))
		au_usage_die(&cmd, "--goal needs --planner mf or --planner-cmd");
	if ((plannercmd != NULL || planner != NULL) && goal == NULL)
		au_usage_die(&cmd, "--planner and --planner-cmd need --goal");
	if (goal != NULL && argc > 0)
		au_usage_die(&cmd, "--goal takes no file operands");

	if (au_opts.where != NULL)
		where = au_xwhere_new(au_opts.where);
	au_out_init();
	render = !dry || (fmt == NDJSON && !crit);
	byid = au_map_new(1024);
	dropped = au_map_new(16);
	rc = 0;
	au_ulid(runid);
	if (planner != NULL)
		instatus = plan_model(goal, model, prompt, runid, where);
	else if (goal != NULL) {
		rc = plan_goal(goal, plannercmd, where);
	} else {
		in = au_in_open(argv, argc);
		readtasks(in, where);
		instatus = au_in_status(in);
		au_in_close(in);
	}
	au_where_free(where);
	if (rc != 0)
		exit(rc);
	/* Unknown dependencies are left out of the graph, so that its
	 * cycles are found too: every problem is reported at once. */
	resolve();
	reverse();
	placed = order();
	if (placed < ntasks)
		cycles();
	if (bad)
		exit(instatus ? instatus : EX_DATAERR);

	run = runrec(runid, goal, argv, goal ? 0 : argc);
	if (crit) {
		npath = critical(&path, &total);
		run = jv_object_set(run, jv_string("critical_path_ms"),
		    jv_number((double)total));
	}
	if (render) {
		line = au_xcalloc(ntasks + 1, sizeof *line);
		for (i = 0; i < ntasks; i++) {
			emit(&lines, &tasks[seq[i]], runid);
			line[i + 1] = lines.len;
		}
	}
	if (!dry)
		store(run, runid, goal);

	if (crit && fmt == NDJSON) {
		jv cp = jv_object(), ids = jv_array();

		for (i = 0; i < npath; i++)
			ids = jv_array_append(ids, jv_string_sized(
			    tasks[path[i]].id, (int)tasks[path[i]].idlen));
		cp = jv_object_set(cp, jv_string("type"),
		    jv_string("critical_path"));
		cp = jv_object_set(cp, jv_string("run_id"), jv_string(runid));
		cp = jv_object_set(cp, jv_string("tasks"), ids);
		cp = jv_object_set(cp, jv_string("estimate_ms"),
		    jv_number((double)total));
		au_out_rec(cp);
		jv_free(cp);
	} else if (fmt == NDJSON) {
		au_out_rec(run);
		for (i = 0; i < ntasks; i++) {
			au_out_text(lines.s + line[i], line[i + 1] - line[i]);
			au_out_eol();
		}
	} else if (fmt == TSV) {
		write_tsv(crit ? path : seq, crit ? npath : ntasks);
	} else {
		if (crit) {
			hot = au_xcalloc(ntasks ? ntasks : 1, 1);
			for (i = 0; i < npath; i++)
				hot[path[i]] = 1;
		}
		write_dot(runid, hot);
	}
	jv_free(run);
	au_out_close();
	free(path);
	free(hot);
	cleanup();
	return 0;
}
