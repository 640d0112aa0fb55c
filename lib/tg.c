/*
 * tg.c - the tool gateway's configuration and decisions: the registry of
 * local tools (ToolSpecs in tools.d/NAME.json) and MCP servers (mcp.json),
 * the argv of a call from a tool's template, the policy (policy.json) and
 * the decision it makes on a call, the grants kept in the state file, and
 * the approval requests a call under "ask" files.  agentutils-tools(5)
 * describes the files.  The registry loads what it can and reports the
 * rest; the policy loads whole or not at all, since a rule skipped could
 * turn a deny into an allow.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "cfg.h"

/* The characters of a word: of variable names and placeholders. */
#define WORDCH "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_"

/* 1..128 of the characters MCP allows in a tool name, less '/'. */
static int
name_ok(const char *s)
{
	size_t n = strspn(s, WORDCH ".-");

	return n > 0 && n <= 128 && s[n] == '\0';
}

/* A tool's name: a local one, or "server/tool".  Neither has a glob's
 * special characters, so that a name is a glob matching only itself. */
static int
tool_name_ok(const char *s)
{
	const char *slash = strchr(s, '/');
	char *server;
	int ok;

	if (slash == NULL)
		return name_ok(s);
	server = au_xstrndup(s, (size_t)(slash - s));
	ok = name_ok(server) && name_ok(slash + 1);
	free(server);
	return ok;
}

/* An environment variable's name. */
static int
envname_ok(const char *s)
{
	size_t n = strspn(s, WORDCH);

	return n > 0 && s[n] == '\0' && !(*s >= '0' && *s <= '9');
}

int
au_tg_glob_check(const char *g)
{
	const char *p, *q;

	if (*g == '\0')
		return au_seterr(EX_DATAERR, "empty glob");
	for (p = g; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return au_seterr(EX_DATAERR, "control character in "
			    "glob %s", au_quote(g));
		if (*p == '\\' && *++p == '\0')
			return au_seterr(EX_DATAERR, "glob %s ends in a "
			    "backslash", au_quote(g));
		if (*p != '[')
			continue;
		q = p + 1;
		if (*q == '!')
			q++;
		if (*q == ']')
			q++;
		if ((q = strchr(q, ']')) == NULL)
			return au_seterr(EX_DATAERR, "glob %s: '[' without "
			    "its ']'", au_quote(g));
		p = q;
	}
	return 0;
}

/* The strings of array v (borrowed) as a NULL-terminated array, or NULL
 * with a problem noted for field at ptr; ok says which strings will do. */
static char **
strings(struct cfg *c, jv v, const char *ptr, int (*ok)(const char *),
    const char *want)
{
	char **a, field[64], *p;
	int i, n;

	snprintf(field, sizeof field, "%s", ptr + 1);
	for (p = field; (p = strchr(p, '/')) != NULL; )
		*p = '.';
	if (jv_get_kind(v) != JV_KIND_ARRAY) {
		cfg_problem(c, ptr, "%s: expected an array of %s, not %s",
		    field, want, au_jv_kind(v));
		return NULL;
	}
	n = jv_array_length(jv_copy(v));
	a = au_xcalloc((size_t)n + 1, sizeof *a);
	for (i = 0; i < n; i++) {
		jv e = jv_array_get(jv_copy(v), i);
		const char *s = cfg_jstr(e);
		char sub[64];

		snprintf(sub, sizeof sub, "%s/%d", ptr, i);
		if (s == NULL || (ok != NULL && !ok(s)))
			cfg_problem(c, sub, "%s[%d]: expected %s", field, i,
			    want);
		else
			a[i] = au_xstrdup(s);
		jv_free(e);
		if (a[i] == NULL) {
			au_tg_strv_free(a);
			return NULL;
		}
	}
	return a;
}

void
au_tg_strv_free(char **v)
{
	char **p;

	if (v == NULL)
		return;
	for (p = v; *p != NULL; p++)
		free(*p);
	free(v);
}

/* A path a sandbox may open: absolute, no "..", no control characters. */
static int
path_ok(const char *s)
{
	const char *p;

	if (*s != '/' || strstr(s, "/../") != NULL ||
	    (strlen(s) >= 3 && strcmp(s + strlen(s) - 3, "/..") == 0))
		return 0;
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

/* ---- sandbox needs and annotations -------------------------------------- */

/* A size, as bytes or as text ("512M"): 0 or -1. */
static int
size_of(jv v, uint64_t *n)
{
	if (au_jv_isint(v) && jv_number_value(v) >= 0) {
		*n = (uint64_t)jv_number_value(v);
		return 0;
	}
	if (jv_get_kind(v) == JV_KIND_STRING)
		return au_size_parse(jv_string_value(v), n);
	return -1;
}

static void
add_limit(struct au_tg_sandbox *sb, int res, rlim_t n)
{
	sb->limits[sb->nlimits].resource = res;
	sb->limits[sb->nlimits].soft = n;
	sb->limits[sb->nlimits].hard = n;
	sb->nlimits++;
}

/* The limits at ptr (a member of sandbox): into sb, and rec's normal
 * form in *out. */
static void
limits(struct cfg *c, jv l, struct au_tg_sandbox *sb, jv *out)
{
	static const char *const known[] = { "as", "cpu", "nproc", "fsize",
	    NULL };
	static const char *const bytes[] = { "as", "fsize" };
	static const int res[] = { RLIMIT_AS, RLIMIT_FSIZE };
	uint64_t n;
	int64_t ms;
	jv v;
	int i;

	*out = jv_object();
	if (jv_get_kind(l) != JV_KIND_OBJECT) {
		cfg_problem(c, "/sandbox/limits", "sandbox.limits: expected an "
		    "object, not %s", au_jv_kind(l));
		return;
	}
	cfg_only(c, l, "/sandbox/limits", known);
	for (i = 0; i < 2; i++) {
		v = jv_object_get(jv_copy(l), jv_string(bytes[i]));
		if (!jv_is_valid(v))
			continue;
		if (size_of(v, &n) != 0 || n == 0)
			cfg_problem(c, i ? "/sandbox/limits/fsize" :
			    "/sandbox/limits/as", "sandbox.limits.%s: expected "
			    "a size (bytes, or \"64M\")", bytes[i]);
		else {
			add_limit(sb, res[i], (rlim_t)n);
			*out = jv_object_set(*out, jv_string(bytes[i]),
			    jv_number((double)n));
		}
		jv_free(v);
	}
	v = jv_object_get(jv_copy(l), jv_string("cpu"));
	if (jv_is_valid(v)) {
		if (jv_get_kind(v) != JV_KIND_STRING ||
		    au_dur_parse(jv_string_value(v), &ms) != 0 || ms <= 0)
			cfg_problem(c, "/sandbox/limits/cpu", "sandbox.limits.cpu: "
			    "expected a duration (\"10s\")");
		else {
			add_limit(sb, RLIMIT_CPU, (rlim_t)((ms + 999) / 1000));
			*out = jv_object_set(*out, jv_string("cpu_ms"),
			    jv_number((double)ms));
		}
	}
	jv_free(v);
	v = jv_object_get(jv_copy(l), jv_string("nproc"));
	if (jv_is_valid(v)) {
		if (!au_jv_isint(v) || jv_number_value(v) < 1 ||
		    jv_number_value(v) > 1e6)
			cfg_problem(c, "/sandbox/limits/nproc", "sandbox.limits."
			    "nproc: expected an integer from 1 to 1000000");
		else {
			add_limit(sb, RLIMIT_NPROC, (rlim_t)jv_number_value(v));
			*out = jv_object_set(*out, jv_string("nproc"),
			    jv_copy(v));
		}
	}
	jv_free(v);
}

/* The sandbox needs in s (borrowed; invalid: none given) into sb, and
 * their normal form for the record. */
static jv
sandbox(struct cfg *c, jv s, struct au_tg_sandbox *sb)
{
	static const char *const known[] = { "network", "read", "write",
	    "limits", "timeout", "env", NULL };
	jv out = jv_object(), v, lim;
	char ***lists[] = { &sb->read, &sb->write, &sb->env };
	static const char *const names[] = { "read", "write", "env" };
	int i;

	memset(sb, 0, sizeof *sb);
	if (jv_is_valid(s) && jv_get_kind(s) != JV_KIND_OBJECT) {
		cfg_problem(c, "/sandbox", "sandbox: expected an object, not %s",
		    au_jv_kind(s));
		return out;
	}
	if (jv_is_valid(s))
		cfg_only(c, s, "/sandbox", known);
	v = jv_is_valid(s) ? jv_object_get(jv_copy(s), jv_string("network")) :
	    jv_invalid();
	if (jv_is_valid(v) && jv_get_kind(v) != JV_KIND_TRUE &&
	    jv_get_kind(v) != JV_KIND_FALSE)
		cfg_problem(c, "/sandbox/network", "sandbox.network: expected "
		    "true or false, not %s", au_jv_kind(v));
	sb->network = jv_get_kind(v) == JV_KIND_TRUE;
	jv_free(v);
	out = jv_object_set(out, jv_string("network"),
	    jv_bool(sb->network));
	for (i = 0; i < 3; i++) {
		char ptr[32];
		jv a = jv_array();
		char **p;

		snprintf(ptr, sizeof ptr, "/sandbox/%s", names[i]);
		v = jv_is_valid(s) ? jv_object_get(jv_copy(s),
		    jv_string(names[i])) : jv_invalid();
		if (jv_is_valid(v))
			*lists[i] = strings(c, v, ptr, i < 2 ? path_ok :
			    envname_ok, i < 2 ? "absolute paths" :
			    "variable names");
		if (*lists[i] == NULL)
			*lists[i] = au_xcalloc(1, sizeof (char *));
		for (p = *lists[i]; *p != NULL; p++)
			a = jv_array_append(a, jv_string(*p));
		out = jv_object_set(out, jv_string(names[i]), a);
		jv_free(v);
	}
	v = jv_is_valid(s) ? jv_object_get(jv_copy(s), jv_string("limits")) :
	    jv_invalid();
	if (jv_is_valid(v)) {
		limits(c, v, sb, &lim);
		out = jv_object_set(out, jv_string("limits"), lim);
	}
	jv_free(v);
	v = jv_is_valid(s) ? jv_object_get(jv_copy(s), jv_string("timeout")) :
	    jv_invalid();
	if (jv_is_valid(v)) {
		if (jv_get_kind(v) != JV_KIND_STRING || au_dur_parse(
		    jv_string_value(v), &sb->timeout_ms) != 0 ||
		    sb->timeout_ms <= 0)
			cfg_problem(c, "/sandbox/timeout", "sandbox.timeout: "
			    "expected a duration (\"30s\")");
		else
			out = jv_object_set(out, jv_string("timeout_ms"),
			    jv_number((double)sb->timeout_ms));
	}
	jv_free(v);
	return out;
}

static void
sandbox_free(struct au_tg_sandbox *sb)
{
	au_tg_strv_free(sb->read);
	au_tg_strv_free(sb->write);
	au_tg_strv_free(sb->env);
}

static const char *const annotation_names[] = { "read_only", "destructive",
    "idempotent", "open_world", NULL };

/* The annotations in a (borrowed; invalid: none) as AU_TG_* bits, with
 * MCP's defaults for those not given (a read-only tool is taken as not
 * destructive); their normal form in *out. */
static unsigned
annotations(struct cfg *c, jv a, jv *out)
{
	unsigned bits = AU_TG_OPEN_WORLD, given = 0;
	int i;

	*out = jv_object();
	if (jv_is_valid(a) && jv_get_kind(a) != JV_KIND_OBJECT)
		cfg_problem(c, "/annotations", "annotations: expected an object, "
		    "not %s", au_jv_kind(a));
	else if (jv_is_valid(a))
		cfg_only(c, a, "/annotations", annotation_names);
	for (i = 0; annotation_names[i] != NULL; i++) {
		jv v = jv_get_kind(a) == JV_KIND_OBJECT ? jv_object_get(
		    jv_copy(a), jv_string(annotation_names[i])) : jv_invalid();
		char ptr[32];

		snprintf(ptr, sizeof ptr, "/annotations/%s",
		    annotation_names[i]);
		if (jv_get_kind(v) == JV_KIND_TRUE ||
		    jv_get_kind(v) == JV_KIND_FALSE)
			given |= 1u << i;
		if (jv_get_kind(v) == JV_KIND_TRUE)
			bits |= 1u << i;
		else if (jv_get_kind(v) == JV_KIND_FALSE)
			bits &= ~(1u << i);
		else if (jv_is_valid(v))
			cfg_problem(c, ptr, "annotations.%s: expected true or "
			    "false, not %s", annotation_names[i],
			    au_jv_kind(v));
		jv_free(v);
	}
	if (!(given & AU_TG_DESTRUCTIVE) && !(bits & AU_TG_READ_ONLY))
		bits |= AU_TG_DESTRUCTIVE;
	for (i = 0; annotation_names[i] != NULL; i++)
		*out = jv_object_set(*out, jv_string(annotation_names[i]),
		    jv_bool(bits & (1u << i)));
	return bits;
}

/* ---- the argv of a call -------------------------------------------------- */

/* The length of the placeholder name at p, just after a '{' and up to
 * its '}': a letter or '_', then letters, digits, '_', '.' or '-'; else
 * 0. */
static size_t
placeholder_at(const char *p)
{
	size_t n;

	if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
	    *p == '_'))
		return 0;
	n = strspn(p, WORDCH ".-");
	return p[n] == '}' ? n : 0;
}

/* The length of the placeholder name in word w ("{name}"), or 0 if w is
 * not a placeholder. */
static size_t
placeholder(const char *w)
{
	size_t n = w[0] == '{' ? placeholder_at(w + 1) : 0;

	return n > 0 && w[n + 2] == '\0' ? n : 0;
}

/* Whether word w holds a placeholder that is not the whole word. */
static int
partial_placeholder(const char *w)
{
	const char *p;

	if (placeholder(w) > 0)
		return 0;
	for (p = strchr(w, '{'); p != NULL; p = strchr(p + 1, '{'))
		if (placeholder_at(p + 1) > 0)
			return 1;
	return 0;
}

int
au_tg_argv(char *const *tmpl, jv args, char ***out)
{
	char **argv;
	size_t i, j = 0, n;

	*out = NULL;
	for (n = 0; tmpl[n] != NULL; n++)
		;
	argv = au_xcalloc(n + 1, sizeof *argv);
	for (i = 0; i < n; i++) {
		size_t len = placeholder(tmpl[i]);
		struct au_buf b = AU_BUF_INIT;
		jv v;

		if (len == 0) {
			argv[j++] = au_xstrdup(tmpl[i]);
			continue;
		}
		v = jv_get_kind(args) == JV_KIND_OBJECT ? jv_object_get(
		    jv_copy(args), jv_string_sized(tmpl[i] + 1, (int)len)) :
		    jv_invalid();
		if (!jv_is_valid(v) || jv_get_kind(v) == JV_KIND_NULL) {
			jv_free(v);
			continue;
		}
		if (jv_get_kind(v) == JV_KIND_STRING && cfg_jstr(v) == NULL) {
			jv_free(v);
			au_tg_strv_free(argv);
			return au_seterr(EX_DATAERR, "argument %.*s: a NUL "
			    "byte cannot be passed in an argument", (int)len,
			    tmpl[i] + 1);
		}
		if (jv_get_kind(v) == JV_KIND_STRING) {
			argv[j++] = au_xstrdup(jv_string_value(v));
		} else {
			au_json_dump(&b, v);
			argv[j++] = b.s;
		}
		jv_free(v);
	}
	*out = argv;
	return 0;
}

/* ---- the registry ------------------------------------------------------- */

/* The placeholders of command must name properties of the schema. */
static void
check_command(struct cfg *c, char **cmd, jv schema)
{
	jv props = jv_object_get(jv_copy(schema), jv_string("properties"));
	char ptr[32];
	size_t len;
	int i;

	if (cmd[0] == NULL)
		cfg_problem(c, "/command", "command: expected at least the "
		    "program");
	for (i = 0; cmd[i] != NULL; i++) {
		snprintf(ptr, sizeof ptr, "/command/%d", i);
		if (partial_placeholder(cmd[i]))
			cfg_problem(c, ptr, "command[%d]: a placeholder must be a "
			    "whole word: %s", i, au_quote(cmd[i]));
		if ((len = placeholder(cmd[i])) == 0)
			continue;
		if (i == 0)
			cfg_problem(c, ptr, "command[0]: the program cannot come "
			    "from an argument");
		else if (jv_get_kind(props) != JV_KIND_OBJECT ||
		    !jv_object_has(jv_copy(props), jv_string_sized(cmd[i] + 1,
		    (int)len)))
			cfg_problem(c, ptr, "command[%d]: %s is not a property of "
			    "input_schema", i, au_quote(cmd[i]));
	}
	jv_free(props);
}

struct au_tg_reg_x {
	struct au_tg_reg pub;
	struct au_map *names;
	size_t cap, scap;
};

/* The JSON Schema at key of spec, or invalid; a problem if it is given
 * but is not an object (with "type":"object" for input_schema), or not a
 * schema au_jschema takes. */
static jv
schema(struct cfg *c, jv spec, const char *key, int required)
{
	jv v = jv_object_get(jv_copy(spec), jv_string(key));
	struct au_jschema *js;
	char ptr[32];
	const char *t;

	snprintf(ptr, sizeof ptr, "/%s", key);
	if (!jv_is_valid(v)) {
		if (required)
			cfg_problem(c, "", "%s: missing", key);
		return v;
	}
	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		cfg_problem(c, ptr, "%s: expected a JSON Schema object, not %s",
		    key, au_jv_kind(v));
		jv_free(v);
		return jv_invalid();
	}
	t = au_jv_str(v, "type");
	if (required && (t == NULL || strcmp(t, "object") != 0))
		cfg_problem(c, ptr, "%s: its \"type\" must be \"object\"", key);
	else if (au_jschema_compile(jv_copy(v), &js) != 0) {
		cfg_problem(c, ptr, "%s: %s", key, au_errmsg());
		jv_free(v);
		return jv_invalid();
	} else
		au_jschema_free(js);
	return v;
}

/* A ToolSpec: added to the registry unless it has problems. */
static void
add_tool(struct au_tg_reg_x *r, struct cfg *c, jv spec)
{
	static const char *const known[] = { "name", "title", "description",
	    "input_schema", "output_schema", "command", "sandbox",
	    "annotations", NULL };
	struct au_tg_tool t;
	jv rec, v, in, outs, sb, ann, cmd;
	const char *name, *s;
	char what[160];
	long prev;

	memset(&t, 0, sizeof t);
	c->bad = 0;
	c->what = NULL;
	if (jv_get_kind(spec) != JV_KIND_OBJECT) {
		cfg_problem(c, "", "expected a ToolSpec object, not %s",
		    au_jv_kind(spec));
		jv_free(spec);
		return;
	}
	name = au_jv_str(spec, "name");
	if (name == NULL || !name_ok(name)) {
		cfg_problem(c, "/name", "name: expected 1 to 128 letters, digits, "
		    "'_', '.' or '-'");
		jv_free(spec);
		return;
	}
	snprintf(what, sizeof what, "tool %s", au_quote(name));
	c->what = what;
	cfg_only(c, spec, "", known);
	rec = JV_OBJECT(jv_string("type"), jv_string("tool"),
	    jv_string("name"), jv_string(name));
	for (s = "title"; s != NULL; s = *s == 't' ? "description" : NULL) {
		v = jv_object_get(jv_copy(spec), jv_string(s));
		if (jv_is_valid(v) && jv_get_kind(v) != JV_KIND_STRING)
			cfg_problem(c, *s == 't' ? "/title" : "/description",
			    "%s: expected a string, not %s", s, au_jv_kind(v));
		if (jv_get_kind(v) == JV_KIND_STRING)
			rec = jv_object_set(rec, jv_string(s), v);
		else
			jv_free(v);
	}
	in = schema(c, spec, "input_schema", 1);
	outs = schema(c, spec, "output_schema", 0);
	cmd = jv_object_get(jv_copy(spec), jv_string("command"));
	if (!jv_is_valid(cmd))
		cfg_problem(c, "", "command: missing");
	else if ((t.command = strings(c, cmd, "/command", NULL,
	    "strings")) != NULL && jv_is_valid(in))
		check_command(c, t.command, in);
	v = jv_object_get(jv_copy(spec), jv_string("sandbox"));
	sb = sandbox(c, v, &t.sandbox);
	jv_free(v);
	v = jv_object_get(jv_copy(spec), jv_string("annotations"));
	t.annotations = annotations(c, v, &ann);
	jv_free(v);
	if (jv_is_valid(in))
		rec = jv_object_set(rec, jv_string("input_schema"), in);
	if (jv_is_valid(outs))
		rec = jv_object_set(rec, jv_string("output_schema"), outs);
	else
		jv_free(outs);
	if (jv_is_valid(cmd))
		rec = jv_object_set(rec, jv_string("command"), cmd);
	rec = jv_object_set(rec, jv_string("sandbox"), sb);
	rec = jv_object_set(rec, jv_string("annotations"), ann);
	t.line = au_json_line(c->text, c->n, c->base);
	rec = jv_object_set(rec, jv_string("file"), jv_string(c->file));
	rec = jv_object_set(rec, jv_string("line"), jv_number(t.line));
	if (!c->bad && (prev = au_map_get(r->names, name, strlen(name))) >= 0)
		cfg_problem(c, "", "defined already at %s:%ld",
		    au_esc(r->pub.tools[prev].file), r->pub.tools[prev].line);
	if (c->bad) {
		au_tg_strv_free(t.command);
		sandbox_free(&t.sandbox);
		jv_free(rec);
		jv_free(spec);
		return;
	}
	t.name = au_xstrdup(name);
	t.file = au_xstrdup(c->file);
	t.record = rec;
	r->pub.tools = au_grow(r->pub.tools, &r->cap, r->pub.ntools + 1,
	    sizeof t);
	au_map_put(r->names, t.name, strlen(t.name), (long)r->pub.ntools);
	r->pub.tools[r->pub.ntools++] = t;
	jv_free(spec);
}

/* One file of tools.d: a ToolSpec, or an array of them. */
static void
load_tools_file(struct au_tg_reg_x *r, const char *path, jv *problems)
{
	struct au_buf b = AU_BUF_INIT;
	struct cfg c = { path, NULL, 0, "", NULL, problems, 0 };
	jv v, dups;
	int i, n;

	if (cfg_slurp(path, &b) != 0) {
		*problems = jv_array_append(*problems,
		    jv_string(au_errmsg()));
		au_buf_free(&b);
		return;
	}
	c.text = b.s;
	c.n = b.len;
	v = cfg_parse(&c);
	if (!jv_is_valid(v)) {
		au_buf_free(&b);
		return;
	}
	dups = au_json_dups(c.text, c.n);
	if (jv_get_kind(v) == JV_KIND_ARRAY) {
		n = jv_array_length(jv_copy(v));
		for (i = 0; i < n; i++) {
			snprintf(c.base, sizeof c.base, "/%d", i);
			c.what = NULL;
			if (cfg_dups(&c, dups, c.base, 0))
				continue;
			add_tool(r, &c, jv_array_get(jv_copy(v), i));
		}
		jv_free(v);
	} else if (!cfg_dups(&c, dups, "", 0)) {
		add_tool(r, &c, v);
	} else {
		jv_free(v);
	}
	jv_free(dups);
	au_buf_free(&b);
}

static int
json_name(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 5 &&
	    strcmp(d->d_name + n - 5, ".json") == 0;
}

static int
load_tools(struct au_tg_reg_x *r, const char *dir, int named, jv *problems)
{
	struct dirent **list;
	int i, n;

	if ((n = scandir(dir, &list, json_name, alphasort)) < 0) {
		if (errno == ENOENT && !named)
			return 0;
		return au_seterr(errno == ENOENT ? EX_NOINPUT : EX_IOERR,
		    "%s:", dir);
	}
	for (i = 0; i < n; i++) {
		char *path = au_xasprintf("%s/%s", dir, list[i]->d_name);

		load_tools_file(r, path, problems);
		free(path);
		free(list[i]);
	}
	free(list);
	return 0;
}

/* Whether name is an HTTP field name (RFC 9110's token) and value holds
 * no line break: nothing can be slipped into the messages. */
static int
header_ok(const char *name, const char *value)
{
	size_t n = strspn(name, "!#$%&'*+-.^_`|~0123456789"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

	return n > 0 && name[n] == '\0' && strpbrk(value, "\r\n") == NULL;
}

/* A string-valued object at key of s (borrowed), as NAME=VALUE strings
 * for env, or kept as it is for headers; the names go to the record. */
static jv
string_map(struct cfg *c, jv s, const char *key, jv *names)
{
	jv v = jv_object_get(jv_copy(s), jv_string(key));
	char ptr[160];

	*names = jv_array();
	snprintf(ptr, sizeof ptr, "/%s", key);
	if (!jv_is_valid(v))
		return jv_object();
	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		cfg_problem(c, ptr, "%s: expected an object of strings, not %s",
		    key, au_jv_kind(v));
		jv_free(v);
		return jv_object();
	}
	jv_object_foreach(v, k, e) {
		snprintf(ptr, sizeof ptr, "/%s/%s", key, jv_string_value(k));
		if (cfg_jstr(e) == NULL)
			cfg_problem(c, ptr, "%s.%s: expected a string", key,
			    jv_string_value(k));
		else if (*key == 'e' && !envname_ok(jv_string_value(k)))
			cfg_problem(c, ptr, "env: %s is not a variable name",
			    au_quote(jv_string_value(k)));
		else if (*key == 'h' && !header_ok(jv_string_value(k),
		    jv_string_value(e)))
			cfg_problem(c, ptr, "headers: %s: expected a header name "
			    "and a value of one line", au_quote(
			    jv_string_value(k)));
		*names = jv_array_append(*names, k);
		jv_free(e);
	}
	return v;
}

/* One entry of mcpServers. */
static void
add_server(struct au_tg_reg_x *r, struct cfg *c, const char *name, jv s)
{
	struct au_tg_server sv;
	jv rec, v, names, sb;
	const char *cmd, *url, *type;
	char what[160], **p;

	memset(&sv, 0, sizeof sv);
	c->bad = 0;
	c->what = NULL;
	if (!name_ok(name)) {
		cfg_problem(c, "", "server name %s: expected 1 to 128 letters, "
		    "digits, '_', '.' or '-'", au_quote(name));
		jv_free(s);
		return;
	}
	snprintf(what, sizeof what, "server %s", au_quote(name));
	c->what = what;
	if (jv_get_kind(s) != JV_KIND_OBJECT) {
		cfg_problem(c, "", "expected an object, not %s", au_jv_kind(s));
		jv_free(s);
		return;
	}
	rec = JV_OBJECT(jv_string("type"), jv_string("mcp.server"),
	    jv_string("name"), jv_string(name));
	cmd = cfg_jstr(v = jv_object_get(jv_copy(s), jv_string("command")));
	if (jv_is_valid(v) && (cmd == NULL || *cmd == '\0'))
		cfg_problem(c, "/command", "command: expected a string");
	jv_free(v);
	url = cfg_jstr(v = jv_object_get(jv_copy(s), jv_string("url")));
	if (jv_is_valid(v) && (url == NULL || (strncmp(url, "http://", 7) &&
	    strncmp(url, "https://", 8))))
		cfg_problem(c, "/url", "url: expected an http or https URL");
	jv_free(v);
	type = cfg_jstr(v = jv_object_get(jv_copy(s), jv_string("type")));
	if (jv_is_valid(v) && (type == NULL || (strcmp(type, "stdio") != 0 &&
	    strcmp(type, "http") != 0)))
		cfg_problem(c, "/type", "type: expected \"stdio\" or \"http\"");
	jv_free(v);
	cmd = au_jv_str(s, "command");
	url = au_jv_str(s, "url");
	type = au_jv_str(s, "type");
	if ((cmd == NULL) == (url == NULL))
		cfg_problem(c, "", "expected either \"command\" or \"url\"");
	else if (type != NULL && (*type == 's') != (cmd != NULL))
		cfg_problem(c, "/type", "type %s does not fit %s", au_quote(type),
		    cmd ? "\"command\"" : "\"url\"");
	if (cmd != NULL) {
		sv.command = au_xstrdup(cmd);
		rec = jv_object_set(rec, jv_string("transport"),
		    jv_string("stdio"));
		rec = jv_object_set(rec, jv_string("command"), jv_string(cmd));
		v = jv_object_get(jv_copy(s), jv_string("args"));
		if (jv_is_valid(v))
			sv.args = strings(c, v, "/args", NULL, "strings");
		if (sv.args == NULL)
			sv.args = au_xcalloc(1, sizeof (char *));
		jv_free(v);
		v = jv_array();
		for (p = sv.args; *p != NULL; p++)
			v = jv_array_append(v, jv_string(*p));
		rec = jv_object_set(rec, jv_string("args"), v);
		sv.env = string_map(c, s, "env", &names);
		rec = jv_object_set(rec, jv_string("env"), names);
		v = jv_object_get(jv_copy(s), jv_string("sandbox"));
		sb = sandbox(c, v, &sv.sandbox);
		jv_free(v);
		rec = jv_object_set(rec, jv_string("sandbox"), sb);
		sv.headers = jv_object();
	} else if (url != NULL) {
		sv.url = au_xstrdup(url);
		rec = jv_object_set(rec, jv_string("transport"),
		    jv_string("http"));
		rec = jv_object_set(rec, jv_string("url"), jv_string(url));
		sv.headers = string_map(c, s, "headers", &names);
		rec = jv_object_set(rec, jv_string("headers"), names);
		if (jv_object_has(jv_copy(s), jv_string("sandbox")))
			cfg_problem(c, "/sandbox", "sandbox: only for a server "
			    "started by \"command\"");
		sv.env = jv_object();
	}
	sv.line = au_json_line(c->text, c->n, c->base);
	rec = jv_object_set(rec, jv_string("file"), jv_string(c->file));
	rec = jv_object_set(rec, jv_string("line"), jv_number(sv.line));
	jv_free(s);
	if (c->bad) {
		free((char *)sv.command);
		free((char *)sv.url);
		au_tg_strv_free(sv.args);
		sandbox_free(&sv.sandbox);
		jv_free(sv.env);
		jv_free(sv.headers);
		jv_free(rec);
		return;
	}
	sv.name = au_xstrdup(name);
	sv.file = au_xstrdup(c->file);
	sv.record = rec;
	r->pub.servers = au_grow(r->pub.servers, &r->scap,
	    r->pub.nservers + 1, sizeof sv);
	r->pub.servers[r->pub.nservers++] = sv;
}

static int
load_mcp(struct au_tg_reg_x *r, const char *path, int named, jv *problems)
{
	struct au_buf b = AU_BUF_INIT;
	struct cfg c = { path, NULL, 0, "", NULL, problems, 0 };
	jv v, servers, dups;
	int rc;

	if ((rc = cfg_slurp(path, &b)) != 0) {
		au_buf_free(&b);
		return rc == EX_NOINPUT && !named ? 0 : rc;
	}
	c.text = b.s;
	c.n = b.len;
	v = cfg_parse(&c);
	dups = jv_is_valid(v) ? au_json_dups(c.text, c.n) : jv_array();
	if (!jv_is_valid(v) || cfg_dups(&c, dups, "/mcpServers", 1) ||
	    jv_get_kind(v) != JV_KIND_OBJECT) {
		if (jv_is_valid(v) && !c.bad)
			cfg_problem(&c, "", "expected an object with "
			    "\"mcpServers\", not %s", au_jv_kind(v));
		jv_free(v);
		jv_free(dups);
		au_buf_free(&b);
		return 0;
	}
	servers = jv_object_get(v, jv_string("mcpServers"));
	if (jv_get_kind(servers) != JV_KIND_OBJECT) {
		jv_free(dups);
		cfg_problem(&c, jv_is_valid(servers) ? "/mcpServers" : "",
		    "mcpServers: expected an object of servers");
		jv_free(servers);
		au_buf_free(&b);
		return 0;
	}
	jv_object_foreach(servers, k, s) {
		const char *name = jv_string_value(k);

		snprintf(c.base, sizeof c.base, "/mcpServers/");
		for (; *name != '\0' && strlen(c.base) < sizeof c.base - 3;
		    name++)
			strcat(c.base, *name == '~' ? "~0" : *name == '/' ?
			    "~1" : (char[]){ *name, '\0' });
		name = jv_string_value(k);
		c.what = NULL;
		if (cfg_dups(&c, dups, c.base, 1) ||
		    cfg_dups(&c, dups, c.base, 0)) {
			jv_free(k);
			jv_free(s);
			continue;
		}
		add_server(r, &c, name, s);
		jv_free(k);
	}
	jv_free(servers);
	jv_free(dups);
	au_buf_free(&b);
	return 0;
}

int
au_tg_load(const char *tools, const char *mcp, struct au_tg_reg **out,
    jv *problems)
{
	struct au_tg_reg_x *r = au_xcalloc(1, sizeof *r);
	char *dir = tools ? au_xstrdup(tools) : au_config_path("tools.d");
	char *file = mcp ? au_xstrdup(mcp) : au_config_path("mcp.json");
	int rc = dir == NULL || file == NULL ? EX_CONFIG : 0;

	*out = NULL;
	r->names = au_map_new(16);
	if (rc == 0)
		rc = load_tools(r, dir, tools != NULL, problems);
	if (rc == 0)
		rc = load_mcp(r, file, mcp != NULL, problems);
	free(dir);
	free(file);
	if (rc != 0) {
		au_tg_free(&r->pub);
		return rc;
	}
	*out = &r->pub;
	return 0;
}

const struct au_tg_tool *
au_tg_find(const struct au_tg_reg *reg, const char *name)
{
	const struct au_tg_reg_x *r = (const struct au_tg_reg_x *)reg;
	long i = au_map_get(r->names, name, strlen(name));

	return i >= 0 ? &reg->tools[i] : NULL;
}

void
au_tg_free(struct au_tg_reg *reg)
{
	struct au_tg_reg_x *r = (struct au_tg_reg_x *)reg;
	size_t i;

	if (reg == NULL)
		return;
	for (i = 0; i < reg->ntools; i++) {
		struct au_tg_tool *t = &reg->tools[i];

		free((char *)t->name);
		free((char *)t->file);
		au_tg_strv_free(t->command);
		sandbox_free(&t->sandbox);
		jv_free(t->record);
	}
	for (i = 0; i < reg->nservers; i++) {
		struct au_tg_server *s = &reg->servers[i];

		free((char *)s->name);
		free((char *)s->file);
		free((char *)s->command);
		free((char *)s->url);
		au_tg_strv_free(s->args);
		sandbox_free(&s->sandbox);
		jv_free(s->env);
		jv_free(s->headers);
		jv_free(s->record);
	}
	free(reg->tools);
	free(reg->servers);
	au_map_free(r->names);
	free(r);
}

/* ---- the policy ---------------------------------------------------------- */

enum { ALLOW, DENY, ASK };
static const char *const decisions[] = { "allow", "deny", "ask", NULL };

struct rule {
	char **tools;		/* globs, or NULL for any tool */
	char *server;		/* a glob, or NULL */
	unsigned amask, aval;	/* annotations that must be as in aval */
	struct au_where *where;	/* or NULL */
	int decision;
	char *label;
};

struct grant {
	char *id, *tool;
	struct au_where *where;
	int64_t expires;	/* epoch ms, or 0 */
};

struct au_tg_policy {
	int dflt;
	struct rule *rules;
	size_t nrules;
	struct grant *grants;
	size_t ngrants;
};

static int
decision_of(const char *s)
{
	int i;

	for (i = 0; s != NULL && decisions[i] != NULL; i++)
		if (strcmp(s, decisions[i]) == 0)
			return i;
	return -1;
}

static int
glob_ok(const char *g)
{
	return au_tg_glob_check(g) == 0;
}

/* The rule o (consumed) at index i of the policy into *r; problems
 * noted. */
static void
parse_rule(struct cfg *c, jv o, int i, struct rule *r)
{
	static const char *const known[] = { "label", "tool", "server",
	    "annotations", "where", "decision", NULL };
	static char what[32];
	jv v;
	int k;

	memset(r, 0, sizeof *r);
	snprintf(c->base, sizeof c->base, "/rules/%d", i);
	snprintf(what, sizeof what, "rules[%d]", i);
	c->what = what;
	if (jv_get_kind(o) != JV_KIND_OBJECT) {
		cfg_problem(c, "", "expected an object, not %s", au_jv_kind(o));
		jv_free(o);
		return;
	}
	cfg_only(c, o, "", known);
	v = jv_object_get(jv_copy(o), jv_string("label"));
	if (jv_is_valid(v) && cfg_jstr(v) == NULL)
		cfg_problem(c, "/label", "label: expected a string");
	r->label = cfg_jstr(v) ? au_xstrdup(jv_string_value(v)) :
	    au_xstrdup(what);
	jv_free(v);
	v = jv_object_get(jv_copy(o), jv_string("decision"));
	if ((r->decision = decision_of(cfg_jstr(v))) < 0)
		cfg_problem(c, jv_is_valid(v) ? "/decision" : "", "decision: "
		    "expected \"allow\", \"deny\" or \"ask\"");
	jv_free(v);
	v = jv_object_get(jv_copy(o), jv_string("tool"));
	if (jv_get_kind(v) == JV_KIND_STRING)
		v = JV_ARRAY(v);
	if (jv_is_valid(v) && (r->tools = strings(c, v, "/tool", glob_ok,
	    "globs")) != NULL && r->tools[0] == NULL)
		cfg_problem(c, "/tool", "tool: no glob");
	jv_free(v);
	v = jv_object_get(jv_copy(o), jv_string("server"));
	if (jv_is_valid(v) && (cfg_jstr(v) == NULL || !glob_ok(cfg_jstr(v))))
		cfg_problem(c, "/server", "server: expected a glob");
	else if (jv_is_valid(v))
		r->server = au_xstrdup(jv_string_value(v));
	jv_free(v);
	v = jv_object_get(jv_copy(o), jv_string("annotations"));
	if (jv_get_kind(v) == JV_KIND_OBJECT) {
		cfg_only(c, v, "/annotations", annotation_names);
		for (k = 0; annotation_names[k] != NULL; k++) {
			jv b = jv_object_get(jv_copy(v),
			    jv_string(annotation_names[k]));

			if (jv_get_kind(b) == JV_KIND_TRUE ||
			    jv_get_kind(b) == JV_KIND_FALSE) {
				r->amask |= 1u << k;
				if (jv_get_kind(b) == JV_KIND_TRUE)
					r->aval |= 1u << k;
			} else if (jv_is_valid(b)) {
				char ptr[64];

				snprintf(ptr, sizeof ptr, "/annotations/%s",
				    annotation_names[k]);
				cfg_problem(c, ptr, "annotations.%s: expected "
				    "true or false", annotation_names[k]);
			}
			jv_free(b);
		}
	} else if (jv_is_valid(v)) {
		cfg_problem(c, "/annotations", "annotations: expected an "
		    "object");
	}
	jv_free(v);
	v = jv_object_get(jv_copy(o), jv_string("where"));
	if (jv_is_valid(v) && cfg_jstr(v) == NULL)
		cfg_problem(c, "/where", "where: expected a jq expression");
	else if (jv_is_valid(v) && (r->where = au_where_new(
	    jv_string_value(v))) == NULL)
		cfg_problem(c, "/where", "where: %s", au_errmsg());
	jv_free(v);
	jv_free(o);
}

static void
rule_free(struct rule *r)
{
	au_tg_strv_free(r->tools);
	free(r->server);
	au_where_free(r->where);
	free(r->label);
}

int
au_tg_policy_parse(const char *file, const char *text, size_t n,
    struct au_tg_policy **out, jv *problems)
{
	static const char *const known[] = { "default", "rules", NULL };
	struct cfg c = { file, text, n, "", NULL, problems, 0 };
	struct au_tg_policy *p;
	jv v, rules, dups;
	int i;

	*out = NULL;
	v = cfg_parse(&c);
	if (!jv_is_valid(v))
		return EX_CONFIG;
	dups = au_json_dups(text, n);
	cfg_dups(&c, dups, "", 0);
	jv_free(dups);
	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		cfg_problem(&c, "", "expected an object, not %s", au_jv_kind(v));
		jv_free(v);
		return EX_CONFIG;
	}
	cfg_only(&c, v, "", known);
	p = au_xcalloc(1, sizeof *p);
	p->dflt = ASK;
	rules = jv_object_get(jv_copy(v), jv_string("default"));
	if (jv_is_valid(rules) && (p->dflt = decision_of(cfg_jstr(rules))) < 0)
		cfg_problem(&c, "/default", "default: expected \"allow\", \"deny\" "
		    "or \"ask\"");
	jv_free(rules);
	rules = jv_object_get(v, jv_string("rules"));
	if (jv_get_kind(rules) == JV_KIND_ARRAY) {
		p->nrules = (size_t)jv_array_length(jv_copy(rules));
		p->rules = au_xcalloc(p->nrules, sizeof *p->rules);
		for (i = 0; i < (int)p->nrules; i++)
			parse_rule(&c, jv_array_get(jv_copy(rules), i), i,
			    &p->rules[i]);
		c.what = NULL;
	} else if (jv_is_valid(rules)) {
		cfg_problem(&c, "/rules", "rules: expected an array, not %s",
		    au_jv_kind(rules));
	}
	jv_free(rules);
	if (c.bad) {
		au_tg_policy_free(p);
		return EX_CONFIG;
	}
	*out = p;
	return 0;
}

int
au_tg_policy_load(const char *path, struct au_tg_policy **out, jv *problems)
{
	struct au_buf b = AU_BUF_INIT;
	char *file = path ? au_xstrdup(path) : au_config_path("policy.json");
	int rc;

	*out = NULL;
	if (file == NULL)
		return EX_CONFIG;
	rc = cfg_slurp(file, &b);
	if (rc == EX_NOINPUT && path == NULL) {
		*out = au_xcalloc(1, sizeof **out);
		(*out)->dflt = ASK;
		rc = 0;
	} else if (rc == 0) {
		rc = au_tg_policy_parse(file, b.s, b.len, out, problems);
	}
	au_buf_free(&b);
	free(file);
	return rc;
}

static void
grants_free(struct au_tg_policy *p)
{
	size_t i;

	for (i = 0; i < p->ngrants; i++) {
		free(p->grants[i].id);
		free(p->grants[i].tool);
		au_where_free(p->grants[i].where);
	}
	free(p->grants);
	p->grants = NULL;
	p->ngrants = 0;
}

void
au_tg_policy_free(struct au_tg_policy *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nrules; i++)
		rule_free(&p->rules[i]);
	free(p->rules);
	grants_free(p);
	free(p);
}

int
au_tg_policy_grants(struct au_tg_policy *p, jv grants)
{
	int rc = 0, n, i;

	grants_free(p);
	if (jv_get_kind(grants) != JV_KIND_ARRAY) {
		jv_free(grants);
		return au_seterr(EX_DATAERR, "grants: expected an array");
	}
	n = jv_array_length(jv_copy(grants));
	p->grants = au_xcalloc((size_t)n + 1, sizeof *p->grants);
	for (i = 0; i < n && rc == 0; i++) {
		jv g = jv_array_get(jv_copy(grants), i);
		struct grant *e = &p->grants[p->ngrants];
		const char *id = au_jv_str(g, "id"), *tool = au_jv_str(g,
		    "tool"), *w = au_jv_str(g, "where"), *st = au_jv_str(g,
		    "status"), *exp = au_jv_str(g, "expires_at");

		if (id == NULL || tool == NULL || au_tg_glob_check(tool) != 0)
			rc = au_seterr(EX_DATAERR, "grant %s: a bad tool glob",
			    au_quote(id ? id : "?"));
		else if (exp != NULL && au_ts_parse(exp, &e->expires) != 0)
			rc = au_seterr(EX_DATAERR, "grant %s: a bad expiry",
			    au_quote(id));
		else if (w != NULL && (e->where = au_where_new(w)) == NULL)
			rc = au_seterr(EX_DATAERR, "grant %s: %s", au_quote(id),
			    au_errmsg());
		if (rc == 0 && (st == NULL || strcmp(st, "revoked") != 0)) {
			e->id = au_xstrdup(id);
			e->tool = au_xstrdup(tool);
			p->ngrants++;
		} else {
			au_where_free(e->where);
			memset(e, 0, sizeof *e);
		}
		jv_free(g);
	}
	jv_free(grants);
	if (rc != 0)
		grants_free(p);
	return rc;
}

/* Whether rule r matches the call of t: 1, 0, or -1 when its condition
 * fails (au_errmsg() says how). */
static int
rule_match(const struct rule *r, const struct au_tg_tool *t, jv call)
{
	char **g;

	if (r->tools != NULL) {
		for (g = r->tools; *g != NULL; g++)
			if (fnmatch(*g, t->name, 0) == 0)
				break;
		if (*g == NULL)
			return 0;
	}
	if (r->server != NULL && (t->server == NULL ||
	    fnmatch(r->server, t->server, 0) != 0))
		return 0;
	if ((t->annotations & r->amask) != r->aval)
		return 0;
	return r->where != NULL ? au_where_test(r->where, call) : 1;
}

/* The first rule with decision d that matches (or whose condition fails,
 * when failing counts), or -1; *err tells whether it failed. */
static long
first_rule(struct au_tg_policy *p, int d, const struct au_tg_tool *t,
    jv call, int fail_matches, char **err)
{
	size_t i;
	int m;

	for (i = 0; i < p->nrules; i++) {
		if (p->rules[i].decision != d)
			continue;
		m = rule_match(&p->rules[i], t, call);
		if (m == 1 || (m < 0 && fail_matches)) {
			*err = m < 0 ? au_xstrdup(au_errmsg()) : NULL;
			return (long)i;
		}
	}
	return -1;
}

jv
au_tg_decide(struct au_tg_policy *p, const struct au_tg_tool *t, jv call,
    int64_t now_ms)
{
	char ts[AU_TS_LEN], *err = NULL;
	const char *id = au_jv_str(call, "id");
	struct au_buf why = AU_BUF_INIT;
	jv rec;
	long r = -1;
	size_t g;
	int d = -1;

	rec = JV_OBJECT(jv_string("type"), jv_string("tool.decision"));
	if (id != NULL)
		rec = jv_object_set(rec, jv_string("id"), jv_string(id));
	rec = jv_object_set(rec, jv_string("tool"), jv_string(t->name));
	rec = jv_object_set(rec, jv_string("ts"),
	    jv_string(au_ts_fmt(now_ms, ts)));
	/* Deny wins over everything, then grants, allow and ask; a deny or
	 * ask whose condition fails still counts, an allow does not. */
	if ((r = first_rule(p, DENY, t, call, 1, &err)) >= 0)
		d = DENY;
	for (g = 0; d < 0 && g < p->ngrants; g++) {
		struct grant *e = &p->grants[g];

		if ((e->expires == 0 || e->expires > now_ms) &&
		    fnmatch(e->tool, t->name, 0) == 0 && (e->where == NULL ||
		    au_where_test(e->where, call) == 1)) {
			d = ALLOW;
			rec = jv_object_set(rec, jv_string("grant"),
			    jv_string(e->id));
			au_buf_addf(&why, "grant %s allows", e->id);
		}
	}
	if (d < 0 && (r = first_rule(p, ALLOW, t, call, 0, &err)) >= 0)
		d = ALLOW;
	if (d < 0 && (r = first_rule(p, ASK, t, call, 1, &err)) >= 0)
		d = ASK;
	if (r >= 0) {
		rec = jv_object_set(rec, jv_string("rule"), JV_OBJECT(
		    jv_string("index"), jv_number(r), jv_string("label"),
		    jv_string(p->rules[r].label)));
		au_buf_addf(&why, "rule %s %s", au_quote(p->rules[r].label),
		    d == DENY ? "denies" : d == ALLOW ? "allows" : "asks");
		if (err != NULL)
			au_buf_addf(&why, ": its condition failed (%s)", err);
	} else if (d < 0) {
		d = p->dflt;
		au_buf_addf(&why, "no rule or grant matches: the default is "
		    "%s", decisions[d]);
	}
	rec = jv_object_set(rec, jv_string("decision"),
	    jv_string(decisions[d]));
	rec = jv_object_set(rec, jv_string("reason"), jv_string(why.s));
	au_buf_free(&why);
	free(err);
	return rec;
}

/* ---- grants in the state file -------------------------------------------- */

static const char grant_cols[] = "id, created, created_by, tool, cond, "
    "expires_at, note, approval_id, revoked_at, revoked_by";

/* The tool.grant record of the current row of s (selected with
 * grant_cols), its status as of now. */
static jv
grant_row(sqlite3_stmt *s, const char *now)
{
	static const char *const names[] = { "id", "created", "created_by",
	    "tool", "where", "expires_at", "note", "approval_id",
	    "revoked_at", "revoked_by" };
	const char *st = "active", *exp;
	jv r = JV_OBJECT(jv_string("type"), jv_string("tool.grant"));
	int i;

	for (i = 0; i < 10; i++) {
		const char *v = (const char *)sqlite3_column_text(s, i);

		if (v != NULL)
			r = jv_object_set(r, jv_string(names[i]), jv_string(v));
	}
	exp = (const char *)sqlite3_column_text(s, 5);
	if (sqlite3_column_type(s, 8) != SQLITE_NULL)
		st = "revoked";
	else if (exp != NULL && strcmp(exp, now) <= 0)
		st = "expired";
	return jv_object_set(r, jv_string("status"), jv_string(st));
}

/* The grants with id (or all with id NULL, or only those in force), as
 * of now_ms. */
static int
grant_select(sqlite3 *db, const char *id, int all, int64_t now_ms, jv *list)
{
	char q[512], now[AU_TS_LEN];
	sqlite3_stmt *s;
	int rc;

	*list = jv_array();
	au_ts_fmt(now_ms, now);
	snprintf(q, sizeof q, "SELECT %s FROM tg_grants WHERE (?1 IS NULL OR "
	    "id = ?1) AND (?2 OR (revoked_at IS NULL AND (expires_at IS NULL "
	    "OR expires_at > ?3))) ORDER BY created, id", grant_cols);
	if ((rc = sqlite3_prepare_v2(db, q, -1, &s, NULL)) != SQLITE_OK)
		return au_db_error(db, rc);
	if (id != NULL)
		sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, all);
	sqlite3_bind_text(s, 3, now, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		*list = jv_array_append(*list, grant_row(s, now));
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : au_db_error(db, rc);
}

int
au_tg_grant_list(sqlite3 *db, int all, int64_t now_ms, jv *list)
{
	return grant_select(db, NULL, all, now_ms, list);
}

/* The change to grant id is made (rc 0): read it back into *grant,
 * append it to the audit log a (if any), and commit if own. */
static int
grant_done(sqlite3 *db, struct au_audit *a, const char *id, int own, int rc,
    jv *grant)
{
	jv list = jv_invalid();

	if (rc == 0)
		rc = grant_select(db, id, 1, au_now_ms(), &list);
	if (rc == 0 && a != NULL) {
		jv g = jv_array_get(jv_copy(list), 0);

		if ((rc = au_audit_append(a, g, NULL, NULL)) != 0)
			au_seterr(rc, "audit: %s", au_errmsg());
		jv_free(g);
	}
	if (rc == 0 && own)
		rc = au_db_commit(db);
	if (rc != 0) {
		if (own)
			au_db_rollback(db);
		jv_free(list);
		return rc;
	}
	*grant = jv_array_get(list, 0);
	return 0;
}

int
au_tg_grant_add(sqlite3 *db, struct au_audit *a, const char *tool,
    const char *where, int64_t expires_ms, const char *note, const char *by,
    const char *approval, jv *grant)
{
	char id[AU_ID_LEN], now[AU_TS_LEN], exp[AU_TS_LEN];
	struct au_where *w;
	int own = sqlite3_get_autocommit(db), rc, n;

	*grant = jv_invalid();
	if (au_tg_glob_check(tool) != 0)
		return au_seterr(EX_USAGE, "--tool: %s", au_errmsg());
	if (where != NULL && (w = au_where_new(where)) == NULL)
		return au_seterr(EX_USAGE, "--where: %s", au_errmsg());
	if (where != NULL)
		au_where_free(w);
	if (own && (rc = au_db_begin(db)) != 0)
		return rc;
	au_ulid(id);
	au_ts_fmt(au_now_ms(), now);
	if (expires_ms > 0)
		au_ts_fmt(expires_ms, exp);
	rc = au_db_run(db, "INSERT INTO tg_grants (id, created, created_by, "
	    "tool, cond, expires_at, note, approval_id) VALUES (?1, ?2, ?3, "
	    "?4, ?5, ?6, ?7, ?8)", &n, 8, id, now, by, tool, where,
	    expires_ms > 0 ? exp : NULL, note, approval);
	return grant_done(db, a, id, own, rc, grant);
}

int
au_tg_grant_revoke(sqlite3 *db, struct au_audit *a, const char *id,
    const char *by, jv *grant)
{
	char now[AU_TS_LEN];
	int own = sqlite3_get_autocommit(db), rc, n = 0;
	jv list;

	*grant = jv_invalid();
	if (own && (rc = au_db_begin(db)) != 0)
		return rc;
	au_ts_fmt(au_now_ms(), now);
	rc = au_db_run(db, "UPDATE tg_grants SET revoked_at = ?2, revoked_by "
	    "= ?3 WHERE id = ?1 AND revoked_at IS NULL", &n, 3, id, now, by);
	if (rc == 0 && n == 0 && (rc = grant_select(db, id, 1, au_now_ms(),
	    &list)) == 0) {
		rc = jv_array_length(jv_copy(list)) == 0 ? au_seterr(
		    EX_NOINPUT, "no grant %s", au_quote(id)) : au_seterr(1,
		    "grant %s is revoked already", au_quote(id));
		jv_free(list);
	}
	if (rc != 0 && own)
		au_db_rollback(db);
	return rc != 0 ? rc : grant_done(db, a, id, own, rc, grant);
}

/* ---- approval requests for tool calls ------------------------------------ */

char *
au_tg_ask_subject(jv call)
{
	const char *tool = au_jv_str(call, "tool");
	struct au_buf subj = AU_BUF_INIT;
	jv cid;

	if (tool == NULL || !tool_name_ok(tool))
		return NULL;
	au_buf_addf(&subj, "tool %s", tool);
	cid = jv_object_get(jv_copy(call), jv_string("id"));
	if (jv_get_kind(cid) == JV_KIND_STRING)
		au_buf_addf(&subj, " call %s", jv_string_value(cid));
	else if (jv_get_kind(cid) == JV_KIND_NUMBER) {
		au_buf_adds(&subj, " call ");
		au_json_dump(&subj, cid);
	}
	jv_free(cid);
	return subj.s;
}

int
au_tg_ask(sqlite3 *db, jv call, int64_t expires_ms, char id[AU_ID_LEN])
{
	struct au_buf sum = AU_BUF_INIT, det = AU_BUF_INIT;
	char *subj = au_tg_ask_subject(call);
	jv args;
	int rc;

	if (subj == NULL)
		return au_seterr(EX_DATAERR, "a tool call needs a \"tool\" "
		    "name");
	args = jv_object_get(jv_copy(call), jv_string("args"));
	if (!jv_is_valid(args))
		args = jv_object();
	au_json_dump(&sum, args);
	jv_free(args);
	au_json_dump(&det, call);
	rc = au_approval_create(db, au_prog, subj, sum.s, det.s, expires_ms,
	    id);
	free(subj);
	au_buf_free(&sum);
	au_buf_free(&det);
	return rc;
}

char *
au_tg_asked(jv req)
{
	const char *subj = au_jv_str(req, "subject"), *tool;
	jv d = jv_object_get(jv_copy(req), jv_string("details"));
	size_t n;
	char *name = NULL;

	tool = au_jv_str(d, "tool");
	if (subj != NULL && tool != NULL && tool_name_ok(tool) &&
	    strncmp(subj, "tool ", 5) == 0 &&
	    strcmp(au_jv_str(d, "type") ? au_jv_str(d, "type") : "",
	    "tool.call") == 0) {
		n = strcspn(subj + 5, " ");
		if (strlen(tool) == n && strncmp(subj + 5, tool, n) == 0 &&
		    (subj[5 + n] == '\0' || strncmp(subj + 5 + n, " call ",
		    6) == 0))
			name = au_xstrdup(tool);
	}
	jv_free(d);
	return name;
}
