/*
 * test-tg.c - tg.c: argv templates (whole words, dropped optional words,
 * JSON text for other values, NUL bytes refused, shell metacharacters
 * passed as they are), globs, the registry's partial loading with
 * file:line problems (bad JSON, bad fields, unknown fields, repeated
 * keys, name collisions, servers), the policy's problems, the decision
 * matrix (deny over grants over allow over ask over the default; tool
 * globs, servers, annotations, jq conditions and their failures; grants
 * expired and revoked), grants in the state file, and the approval
 * request format that ws-approve --always reads.
 */
#define _XOPEN_SOURCE 700
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "agentutils.h"
#include "tap.h"
#include "testutil.h"

/* The argv of tmpl (a JSON array of strings) for args, joined by '|'. */
static char *
argv_of(const char *tmpl, const char *args)
{
	jv t = jv_parse(tmpl), a = jv_parse(args);
	char *words[16], **argv;
	struct au_buf b = AU_BUF_INIT;
	int i, n = jv_array_length(jv_copy(t)), rc;

	for (i = 0; i < n; i++) {
		jv w = jv_array_get(jv_copy(t), i);

		words[i] = au_xstrdup(jv_string_value(w));
		jv_free(w);
	}
	words[n] = NULL;
	rc = au_tg_argv(words, a, &argv);
	if (rc != 0) {
		au_buf_addf(&b, "error %d: %s", rc, au_errmsg());
	} else {
		au_buf_adds(&b, "");
		for (i = 0; argv[i] != NULL; i++)
			au_buf_addf(&b, "%s%s", i ? "|" : "", argv[i]);
		au_tg_strv_free(argv);
	}
	for (i = 0; i < n; i++)
		free(words[i]);
	jv_free(t);
	jv_free(a);
	return b.s;
}

static void
test_argv(void)
{
	is_str_free(argv_of("[\"grep\",\"-n\",\"--\",\"{pattern}\","
	    "\"{path}\"]", "{\"pattern\":\"a b; rm -rf /\",\"path\":"
	    "\"$(x)\"}"), "grep|-n|--|a b; rm -rf /|$(x)",
	    "argv: values are whole words, shell text left alone");
	is_str_free(argv_of("[\"ls\",\"{opt}\",\"{dir}\"]",
	    "{\"dir\":\"/tmp\"}"), "ls|/tmp",
	    "argv: a missing argument drops its word");
	is_str_free(argv_of("[\"ls\",\"{opt}\",\"x\"]", "{\"opt\":null}"),
	    "ls|x", "argv: a null argument drops its word");
	is_str_free(argv_of("[\"t\",\"{n}\",\"{b}\",\"{o}\",\"{a}\"]",
	    "{\"n\":1.5,\"b\":true,\"o\":{\"k\":[1]},\"a\":[\"x\"]}"),
	    "t|1.5|true|{\"k\":[1]}|[\"x\"]",
	    "argv: other values as JSON text");
	is_str_free(argv_of("[\"t\",\"{x}\"]", "{\"x\":\"--help\"}"),
	    "t|--help", "argv: an option-looking value is one word");
	is_str_free(argv_of("[\"t\",\"{}\",\"-{x}-\",\"{1}\",\"{x\","
	    "\"{-x}\",\"{x}}\"]", "{\"x\":\"v\"}"),
	    "t|{}|-{x}-|{1}|{x|{-x}|{x}}",
	    "argv: only whole {name} words are placeholders");
	is_str_free(argv_of("[\"t\",\"{file-name.v2}\"]",
	    "{\"file-name.v2\":\"f\"}"), "t|f",
	    "argv: names with '-' and '.'");
	is_str_free(argv_of("[\"t\",\"{x}\"]", "{\"x\":\"a\\u0000b\"}"),
	    "error 65: argument x: a NUL byte cannot be passed in an argument",
	    "argv: a NUL byte is refused");
	is_str_free(argv_of("[\"t\",\"{x}\"]", "null"), "t",
	    "argv: no arguments at all");
}

static void
test_glob(void)
{
	ok(au_tg_glob_check("fs/*") == 0, "glob: fs/*");
	ok(au_tg_glob_check("[a-c]x?") == 0, "glob: brackets");
	ok(au_tg_glob_check("[]]") == 0, "glob: a ']' first in brackets");
	ok(au_tg_glob_check("[!]x]") == 0, "glob: negated");
	is_int(au_tg_glob_check(""), 65, "glob: empty");
	is_int(au_tg_glob_check("a[b"), 65, "glob: '[' unclosed");
	is_str(au_errmsg(), "glob \"a[b\": '[' without its ']'",
	    "glob: the message");
	is_int(au_tg_glob_check("a\\"), 65, "glob: a trailing backslash");
	is_int(au_tg_glob_check("a\tb"), 65, "glob: a control character");
}

/* The problems of loading, joined by newlines, with tmpdir cut out. */
static char *
joined(jv problems)
{
	struct au_buf b = AU_BUF_INIT;
	size_t n = strlen(tmpdir);

	au_buf_adds(&b, "");
	jv_array_foreach(problems, i, p) {
		const char *s = jv_string_value(p), *t;

		if (i > 0)
			au_buf_addc(&b, '\n');
		while ((t = strstr(s, tmpdir)) != NULL) {
			au_buf_add(&b, s, (size_t)(t - s));
			s = t + n + 1;
		}
		au_buf_adds(&b, s);
		jv_free(p);
	}
	jv_free(problems);
	return b.s;
}

static void
put(const char *name, const char *text)
{
	writefile(at(name), text, strlen(text));
}

static void
test_registry(void)
{
	struct au_tg_reg *reg;
	const struct au_tg_tool *t;
	jv problems = jv_array(), d;

	mkdir(at("tools.d"), 0700);
	put("tools.d/a.json", "{\"name\":\"cat\",\"description\":\"show\","
	    "\"input_schema\":{\"type\":\"object\",\"properties\":{\"f\":{}}},"
	    "\"command\":[\"cat\",\"--\",\"{f}\"],\"sandbox\":{\"network\":"
	    "true,\"read\":[\"/etc\"],\"write\":[\"/tmp/x\"],\"env\":"
	    "[\"LANG\"],\"limits\":{\"as\":\"1M\",\"fsize\":4096,\"cpu\":"
	    "\"1.5s\",\"nproc\":2},\"timeout\":\"2s\"},\"annotations\":"
	    "{\"idempotent\":true}}\n");
	put("tools.d/b.json", "[\n"
	    "{\"name\":\"cat\",\"input_schema\":{\"type\":\"object\"},"
	    "\"command\":[\"x\"]},\n"
	    "{\"name\":\"x\",\"input_schema\":{\"type\":\"string\"},\n"
	    "  \"command\":[\"{p}\"]},\n"
	    "{\"name\":\"y\",\"input_schema\":{\"type\":\"object\"},"
	    "\"command\":[\"y\",\"{q}\"],\n"
	    "  \"sandbox\":{\"read\":[\"rel\"],\"limits\":{\"nproc\":0},\n"
	    "  \"timeout\":5,\"env\":[\"A=B\"]},\"annotations\":"
	    "{\"read_only\":1},\"extra\":1},\n"
	    "{\"name\":\"z\",\"name\":\"z\"},\n"
	    "{\"name\":\"ok\",\"input_schema\":{\"type\":\"object\"},"
	    "\"command\":[\"true\"],\"annotations\":{\"read_only\":true}}\n"
	    "]\n");
	put("tools.d/c.json", "{\"name\":\n\"c\",\n\"x\":}\n");
	put("tools.d/.hidden.json", "nonsense");
	put("tools.d/notes.txt", "nonsense");
	put("mcp.json", "{\"mcpServers\":{\n"
	    "\"fs\":{\"command\":\"srv\",\"args\":[\"-v\"],\"env\":{\"K\":"
	    "\"secret\"},\"sandbox\":{\"write\":[\"/w\"]},\"disabled\":"
	    "false},\n"
	    "\"web\":{\"type\":\"http\",\"url\":\"https://h/mcp\",\"headers\":"
	    "{\"Authorization\":\"Bearer s\"}},\n"
	    "\"bad/name\":{\"command\":\"x\"},\n"
	    "\"neither\":{},\n"
	    "\"two\":{\"command\":\"a\"},\n"
	    "\"two\":{\"command\":\"b\"},\n"
	    "\"t\":{\"type\":\"stdio\",\"url\":\"http://x\",\"sandbox\":{}}\n"
	    "}}\n");
	is_int(au_tg_load(at("tools.d"), at("mcp.json"), &reg, &problems), 0,
	    "load: partial loading succeeds");
	is_str_free(joined(problems),
	    "tools.d/b.json:2: tool \"cat\": defined already at "
	    "tools.d/a.json:1\n"
	    "tools.d/b.json:3: tool \"x\": input_schema: its \"type\" must be "
	    "\"object\"\n"
	    "tools.d/b.json:4: tool \"x\": command[0]: the program cannot come "
	    "from an argument\n"
	    "tools.d/b.json:7: tool \"y\": unknown field \"extra\"\n"
	    "tools.d/b.json:5: tool \"y\": command[1]: \"{q}\" is not a "
	    "property of input_schema\n"
	    "tools.d/b.json:6: tool \"y\": sandbox.read[0]: expected absolute "
	    "paths\n"
	    "tools.d/b.json:7: tool \"y\": sandbox.env[0]: expected variable "
	    "names\n"
	    "tools.d/b.json:6: tool \"y\": sandbox.limits.nproc: expected an "
	    "integer from 1 to 1000000\n"
	    "tools.d/b.json:7: tool \"y\": sandbox.timeout: expected a "
	    "duration (\"30s\")\n"
	    "tools.d/b.json:7: tool \"y\": annotations.read_only: expected "
	    "true or false, not number\n"
	    "tools.d/b.json:8: key \"name\" is given twice (first at line 8)\n"
	    "tools.d/c.json:3: invalid JSON: expected a value\n"
	    "mcp.json:4: server name \"bad/name\": expected 1 to 128 letters, "
	    "digits, '_', '.' or '-'\n"
	    "mcp.json:5: server \"neither\": expected either \"command\" or "
	    "\"url\"\n"
	    "mcp.json:7: key \"two\" is given twice (first at line 6)\n"
	    "mcp.json:8: server \"t\": type \"stdio\" does not fit \"url\"\n"
	    "mcp.json:8: server \"t\": sandbox: only for a server started by "
	    "\"command\"", "load: every problem with its file:line");
	is_int(reg->ntools, 2, "load: two tools");
	t = au_tg_find(reg, "cat");
	ok(t != NULL && strcmp(t->command[2], "{f}") == 0 &&
	    t->command[3] == NULL, "find: cat, with its command");
	ok(t != NULL && t->sandbox.network && strcmp(t->sandbox.read[0],
	    "/etc") == 0 && strcmp(t->sandbox.write[0], "/tmp/x") == 0 &&
	    strcmp(t->sandbox.env[0], "LANG") == 0 &&
	    t->sandbox.timeout_ms == 2000 && t->sandbox.nlimits == 4,
	    "load: the sandbox needs");
	ok(t != NULL && t->sandbox.limits[0].resource == RLIMIT_AS &&
	    t->sandbox.limits[0].soft == 1048576 &&
	    t->sandbox.limits[1].soft == 4096 &&
	    t->sandbox.limits[2].resource == RLIMIT_CPU &&
	    t->sandbox.limits[2].soft == 2, "load: limits, cpu rounded up");
	is_int(t ? t->annotations : 0, AU_TG_IDEMPOTENT | AU_TG_DESTRUCTIVE |
	    AU_TG_OPEN_WORLD, "load: MCP's default annotations");
	t = au_tg_find(reg, "ok");
	is_int(t ? t->annotations : 0, AU_TG_READ_ONLY | AU_TG_OPEN_WORLD,
	    "load: read-only is not destructive by default");
	ok(au_tg_find(reg, "y") == NULL, "find: a bad tool is left out");
	is_int(reg->nservers, 2, "load: two servers");
	is_str(reg->servers[0].name, "fs", "load: fs");
	is_str(reg->servers[0].args[0], "-v", "load: its args");
	is_str(au_jv_str(reg->servers[0].env, "K"), "secret", "load: its env");
	d = jv_dump_string(jv_copy(reg->servers[0].record), 0);
	ok(strstr(jv_string_value(d), "secret") == NULL,
	    "load: no secret in the record");
	jv_free(d);
	is_str(reg->servers[1].url, "https://h/mcp", "load: web");
	au_tg_free(reg);

	problems = jv_array();
	is_int(au_tg_load(at("nonesuch"), NULL, &reg, &problems), 66,
	    "load: a named directory that is missing is 66");
	is_int(au_tg_load(at("tools.d"), at("nonesuch"), &reg, &problems), 66,
	    "load: a named mcp.json that is missing is 66");
	jv_free(problems);
	setenv("XDG_CONFIG_HOME", at("empty"), 1);
	problems = jv_array();
	is_int(au_tg_load(NULL, NULL, &reg, &problems), 0,
	    "load: no configuration at all is an empty registry");
	ok(reg->ntools == 0 && reg->nservers == 0 &&
	    jv_array_length(jv_copy(problems)) == 0, "load: empty");
	jv_free(problems);
	au_tg_free(reg);
}

/* Parse a policy, expecting it to be good. */
static struct au_tg_policy *
policy(const char *text)
{
	struct au_tg_policy *p;
	jv problems = jv_array();

	if (au_tg_policy_parse("policy.json", text, strlen(text), &p,
	    &problems) != 0)
		printf("# %s\n", joined(problems));
	else
		jv_free(problems);
	return p;
}

/* The problems of a bad policy. */
static char *
policy_problems(const char *text)
{
	struct au_tg_policy *p;
	jv problems = jv_array();
	int rc = au_tg_policy_parse("policy.json", text, strlen(text), &p,
	    &problems);

	if (rc != EX_CONFIG || p != NULL)
		printf("# rc %d\n", rc);
	return joined(problems);
}

static void
test_policy_problems(void)
{
	is_str_free(policy_problems("{\"default\":\"maybe\",\"rules\":[\n"
	    "{\"tool\":\"a[\",\"decision\":\"allow\"},\n"
	    "{\"decision\":\"perhaps\",\"where\":\".a |\"},\n"
	    "{\"tool\":[],\"server\":5,\"annotations\":{\"ro\":true},\n"
	    "  \"decision\":\"deny\",\"label\":7,\"what\":1},\n"
	    "\"deny\"]}"),
	    "policy.json:1: default: expected \"allow\", \"deny\" or \"ask\"\n"
	    "policy.json:2: rules[0]: tool[0]: expected globs\n"
	    "policy.json:3: rules[1]: decision: expected \"allow\", \"deny\" "
	    "or \"ask\"\n"
	    "policy.json:3: rules[1]: where: syntax error, unexpected $end "
	    "(Unix shell quoting issues?) at <top-level>, line 1: .a |\n"
	    "policy.json:5: rules[2]: unknown field \"what\"\n"
	    "policy.json:5: rules[2]: label: expected a string\n"
	    "policy.json:4: rules[2]: tool: no glob\n"
	    "policy.json:4: rules[2]: server: expected a glob\n"
	    "policy.json:4: rules[2]: unknown field \"ro\"\n"
	    "policy.json:6: rules[3]: expected an object, not string",
	    "policy: every problem, and no policy");
	is_str_free(policy_problems("{\"rules\":{}, \"x\":1}"),
	    "policy.json:1: unknown field \"x\"\n"
	    "policy.json:1: rules: expected an array, not object",
	    "policy: rules not an array");
	is_str_free(policy_problems("{\"default\":\"allow\",\n"
	    "\"default\":\"deny\"}"),
	    "policy.json:2: key \"default\" is given twice (first at line 1)",
	    "policy: a key given twice");
	is_str_free(policy_problems("[1,\n2,]"),
	    "policy.json:2: invalid JSON: expected a value",
	    "policy: not JSON");
}

/* A tool for decisions. */
static struct au_tg_tool
tool(const char *name, const char *server, unsigned ann)
{
	struct au_tg_tool t;

	memset(&t, 0, sizeof t);
	t.name = name;
	t.server = server;
	t.annotations = ann;
	return t;
}

/* The decision on a call of t with args as "decision rule grant: reason". */
static char *
decide(struct au_tg_policy *p, const struct au_tg_tool *t, const char *args,
    int64_t now)
{
	jv call = jv_parse(args), d;
	char *s;

	call = JV_OBJECT(jv_string("type"), jv_string("tool.call"),
	    jv_string("id"), jv_string("c1"), jv_string("tool"),
	    jv_string(t->name), jv_string("args"), call);
	d = au_tg_decide(p, t, call, now);
	s = au_xasprintf("%s %s %s", au_jv_str(d, "decision"),
	    au_jv_str(d, "grant") ? au_jv_str(d, "grant") : "-",
	    au_jv_str(d, "reason"));
	jv_free(d);
	jv_free(call);
	return s;
}

static void
test_decide(void)
{
	struct au_tg_policy *p;
	struct au_tg_tool grep = tool("grep", NULL, AU_TG_READ_ONLY),
	    rm = tool("rm", NULL, AU_TG_DESTRUCTIVE),
	    fsr = tool("fs/read", "fs", AU_TG_READ_ONLY | AU_TG_OPEN_WORLD),
	    fsw = tool("fs/write", "fs", AU_TG_DESTRUCTIVE);
	jv d, call;

	p = policy("{}");
	is_str_free(decide(p, &grep, "{}", 0), "ask - no rule or grant "
	    "matches: the default is ask", "decide: an empty policy asks");
	au_tg_policy_free(p);

	p = policy("{\"default\":\"deny\",\"rules\":["
	    "{\"label\":\"read-only\",\"annotations\":{\"read_only\":true},"
	    "\"decision\":\"allow\"},"
	    "{\"tool\":\"fs/*\",\"decision\":\"ask\"},"
	    "{\"server\":\"fs\",\"annotations\":{\"destructive\":true},"
	    "\"decision\":\"deny\",\"label\":\"no fs writes\"},"
	    "{\"tool\":[\"grep\",\"cat\"],\"where\":\".args.path|startswith("
	    "\\\"/etc\\\")\",\"decision\":\"deny\",\"label\":\"etc\"},"
	    "{\"tool\":\"rm\",\"where\":\".args.n > 1\",\"decision\":"
	    "\"allow\"},{\"tool\":\"rm\",\"where\":\".args.x|ascii_downcase"
	    " == \\\"y\\\"\",\"decision\":\"ask\"}"
	    "]}");
	is_str_free(decide(p, &grep, "{\"path\":\"/tmp\"}", 0),
	    "allow - rule \"read-only\" allows", "decide: annotations allow");
	is_str_free(decide(p, &grep, "{\"path\":\"/etc/passwd\"}", 0),
	    "deny - rule \"etc\" denies", "decide: deny wins over an earlier "
	    "allow");
	is_str_free(decide(p, &grep, "{\"path\":5}", 0),
	    "deny - rule \"etc\" denies: its condition failed (startswith() "
	    "requires string inputs)", "decide: a failing deny condition "
	    "denies");
	is_str_free(decide(p, &fsr, "{}", 0), "allow - rule \"read-only\" "
	    "allows", "decide: allow wins over an earlier ask");
	is_str_free(decide(p, &fsw, "{}", 0), "deny - rule \"no fs writes\" "
	    "denies", "decide: server and annotations deny");
	is_str_free(decide(p, &rm, "{\"n\":2}", 0), "allow - rule "
	    "\"rules[4]\" allows", "decide: a jq condition allows, label by "
	    "index");
	is_str_free(decide(p, &rm, "{\"n\":\"x\"}", 0), "allow - rule "
	    "\"rules[4]\" allows", "decide: jq's string > number is true");
	is_str_free(decide(p, &rm, "{\"n\":null,\"x\":\"Y\"}", 0),
	    "ask - rule \"rules[5]\" asks", "decide: ask after allow fails");
	is_str_free(decide(p, &rm, "{\"n\":0,\"x\":1}", 0), "ask - rule "
	    "\"rules[5]\" asks: its condition failed (explode input must be "
	    "a string)", "decide: a failing ask condition asks");
	is_str_free(decide(p, &rm, "{\"n\":0,\"x\":\"n\"}", 0), "deny - no "
	    "rule or grant matches: the default is deny",
	    "decide: the default");

	ok(au_tg_policy_grants(p, jv_parse("[{\"type\":\"tool.grant\","
	    "\"id\":\"G1\",\"tool\":\"r?\",\"where\":\".args.n == 0\","
	    "\"status\":\"active\"},{\"type\":\"tool.grant\",\"id\":\"G2\","
	    "\"tool\":\"*\",\"expires_at\":\"1970-01-01T00:00:01.000Z\","
	    "\"status\":\"active\"},{\"type\":\"tool.grant\",\"id\":\"G3\","
	    "\"tool\":\"*\",\"status\":\"revoked\"}]")) == 0,
	    "grants: given");
	is_str_free(decide(p, &rm, "{\"n\":0}", 0), "allow G1 grant G1 "
	    "allows", "decide: a grant allows what the default denies");
	is_str_free(decide(p, &rm, "{\"n\":0,\"x\":\"y\"}", 0), "allow G1 "
	    "grant G1 allows", "decide: a grant wins over ask");
	is_str_free(decide(p, &fsw, "{\"n\":0}", 999), "deny - rule \"no fs "
	    "writes\" denies", "decide: deny wins over a grant");
	is_str_free(decide(p, &fsw, "{}", 999), "deny - rule \"no fs writes\" "
	    "denies", "decide: deny wins over a grant in force");
	is_str_free(decide(p, &rm, "{\"n\":1,\"x\":\"y\"}", 999), "allow G2 "
	    "grant G2 allows", "decide: a grant before its expiry");
	is_str_free(decide(p, &rm, "{\"n\":1,\"x\":\"y\"}", 1000), "ask - "
	    "rule \"rules[5]\" asks", "decide: an expired grant is ignored");
	is_int(au_tg_policy_grants(p, jv_parse("[{\"id\":\"G4\",\"tool\":"
	    "\"x\",\"where\":\"(\"}]")), 65, "grants: a bad condition is 65");
	is_str_free(decide(p, &rm, "{\"n\":1,\"x\":\"y\"}", 0), "ask - "
	    "rule \"rules[5]\" asks", "decide: no grants after a bad one");

	call = jv_parse("{\"type\":\"tool.call\",\"id\":\"c9\",\"tool\":"
	    "\"fs/read\"}");
	d = jv_dump_string(au_tg_decide(p, &fsr, call, 86400000), 0);
	is_str(jv_string_value(d),
	    "{\"type\":\"tool.decision\",\"id\":\"c9\",\"tool\":\"fs/read\","
	    "\"ts\":\"1970-01-02T00:00:00.000Z\",\"rule\":{\"index\":0,"
	    "\"label\":\"read-only\"},\"decision\":\"allow\",\"reason\":"
	    "\"rule \\\"read-only\\\" allows\"}", "decide: the record");
	jv_free(d);
	jv_free(call);
	au_tg_policy_free(p);
}

static void
test_grants(sqlite3 *db)
{
	jv g, list;
	char id[AU_ID_LEN];
	int64_t now = au_now_ms();

	is_int(au_tg_grant_add(db, NULL, "a[", NULL, 0, NULL, "me", NULL, &g),
	    64, "grant add: a bad glob is 64");
	is_int(au_tg_grant_add(db, NULL, "a", "(", 0, NULL, "me", NULL, &g),
	    64, "grant add: a bad condition is 64");
	ok(strncmp(au_errmsg(), "--where: ", 9) == 0, "grant add: says so");
	is_int(au_tg_grant_add(db, NULL, "fs/*", ".args.p == 1", 0, "why",
	    "me", NULL, &g), 0, "grant add");
	is_str(au_jv_str(g, "status"), "active", "grant add: active");
	is_str(au_jv_str(g, "where"), ".args.p == 1", "grant add: where");
	is_str(au_jv_str(g, "created_by"), "me", "grant add: by");
	snprintf(id, sizeof id, "%s", au_jv_str(g, "id"));
	jv_free(g);
	is_int(au_tg_grant_add(db, NULL, "x", NULL, now + 1000, NULL, "me",
	    "A1", &g), 0, "grant add: with an expiry");
	jv_free(g);
	is_int(au_tg_grant_list(db, 0, now, &list), 0, "grant list");
	is_int(jv_array_length(list), 2, "grant list: both in force");
	is_int(au_tg_grant_list(db, 0, now + 1000, &list), 0, "grant list");
	is_int(jv_array_length(list), 1, "grant list: one expired");
	is_int(au_tg_grant_list(db, 1, now + 1000, &list), 0, "grant list");
	g = jv_array_get(list, 1);
	is_str(au_jv_str(g, "status"), "expired",
	    "grant list --all: the expired one");
	jv_free(g);
	is_int(au_tg_grant_revoke(db, NULL, id, "you", &g), 0, "grant revoke");
	is_str(au_jv_str(g, "status"), "revoked", "grant revoke: revoked");
	is_str(au_jv_str(g, "revoked_by"), "you", "grant revoke: by");
	jv_free(g);
	is_int(au_tg_grant_revoke(db, NULL, id, "you", &g), 1,
	    "grant revoke: twice is 1");
	is_int(au_tg_grant_revoke(db, NULL, "nope", "you", &g), 66,
	    "grant revoke: no such grant is 66");
	is_str(au_errmsg(), "no grant \"nope\"", "grant revoke: says so");
}

static void
test_ask(sqlite3 *db)
{
	char id[AU_ID_LEN];
	jv call = jv_parse("{\"type\":\"tool.call\",\"id\":\"c 1\",\"tool\":"
	    "\"fs/read\",\"args\":{\"p\":1}}"), req;

	au_prog = "tg-invoke";
	is_int(au_tg_ask(db, call, 0, id), 0, "ask: filed");
	is_int(au_approval_get(db, id, &req), 0, "ask: there");
	is_str(au_jv_str(req, "subject"), "tool fs/read call c 1",
	    "ask: the subject");
	is_str(au_jv_str(req, "summary"), "{\"p\":1}", "ask: the summary");
	is_str(au_jv_str(req, "requester"), "tg-invoke", "ask: requester");
	is_str_free(au_tg_asked(req), "fs/read", "asked: the tool");
	jv_free(req);
	req = jv_parse("{\"subject\":\"run R task t\",\"details\":{}}");
	ok(au_tg_asked(req) == NULL, "asked: a task is not a tool call");
	jv_free(req);
	req = jv_parse("{\"subject\":\"tool *\",\"details\":{\"type\":"
	    "\"tool.call\",\"tool\":\"*\"}}");
	ok(au_tg_asked(req) == NULL, "asked: a glob is not a tool name");
	jv_free(req);
	req = jv_parse("{\"subject\":\"tool a\",\"details\":{\"type\":"
	    "\"tool.call\",\"tool\":\"b\"}}");
	ok(au_tg_asked(req) == NULL, "asked: subject and details differ");
	jv_free(req);
	jv_free(call);
	call = jv_parse("{\"tool\":\"a b\"}");
	is_int(au_tg_ask(db, call, 0, id), 65, "ask: a bad tool name is 65");
	jv_free(call);
}

int
main(void)
{
	sqlite3 *db;

	tmpdir_make("test-tg");
	test_argv();
	test_glob();
	test_registry();
	test_policy_problems();
	test_decide();
	if (au_db_open(at("state.db"), &db) != 0)
		return 2;
	test_grants(db);
	test_ask(db);
	au_db_close(db);
	tmpdir_remove();
	return done();
}
