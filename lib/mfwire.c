/*
 * mfwire.c - the two wire formats of the model fabric, both directions:
 * OpenAI chat completions (which local servers such as llama.cpp, vLLM
 * and Ollama speak too) and Anthropic messages.  A model.request record
 * becomes the body a provider wants; a provider's answer, whole or as
 * server-sent events, becomes one normalized result.  No HTTP here:
 * mf-route moves the bytes.
 *
 * Choices the formats leave to us:
 * - JSON mode ({"type":"json"}) adds an instruction to the system prompt
 *   for both (OpenAI refuses json_object unless the prompt asks for
 *   JSON), and OpenAI's response_format json_object.
 * - A JSON Schema ({"type":"json_schema"}) is OpenAI's json_schema with
 *   strict unless the request says "strict": false.  Anthropic has no such
 *   thing: the schema becomes a tool named "au_json_" and the schema's
 *   name, which tool_choice forces; a call of a tool so named is the
 *   answer, whose input is given as the JSON text content (compact when
 *   whole, as it came when streamed) with finish_reason "stop", and is
 *   not among tool_calls.
 * - Several text blocks are joined with nothing between them; system
 *   texts with a blank line.  A tool result with is_error has no field in
 *   OpenAI's format: its text begins "Error: " there.
 * - max_tokens goes to OpenAI as max_tokens, which local servers know and
 *   OpenAI's reasoning models refuse (they want max_completion_tokens).
 * - A streamed OpenAI chunk with fragments of several calls (no server we
 *   know sends one) reports the first as its delta; the result has all.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "agentutils.h"

#define JSON_TOOL "au_json_"
#define JSON_NAME_MAX 56	/* a tool name has 64 characters at most */
#define ERRMSG_MAX 300
#define JSON_ASK "Respond with one JSON value and nothing else: no prose " \
	"before or after it, no Markdown code fences."

/* ---- small helpers ---------------------------------------------------- */

/* Member k of o (borrowed), or jv_invalid() when o is no object or has
 * no such member. */
static jv
get(jv o, const char *k)
{
	if (jv_get_kind(o) != JV_KIND_OBJECT)
		return jv_invalid();
	return jv_object_get(jv_copy(o), jv_string(k));
}

static int
kind(jv o, const char *k)
{
	jv v = get(o, k);
	int t = jv_get_kind(v);

	jv_free(v);
	return t;
}

/* A non-negative integer member of o, or 0. */
static int64_t
count(jv o, const char *k)
{
	jv v = get(o, k);
	int64_t n = au_jv_isint(v) && jv_number_value(v) > 0 ?
	    (int64_t)jv_number_value(v) : 0;

	jv_free(v);
	return n;
}

static jv AU_PRINTF(1, 2)
bad(const char *fmt, ...)
{
	va_list ap;
	jv msg;

	va_start(ap, fmt);
	msg = jv_string_vfmt(fmt, ap);
	va_end(ap);
	return jv_invalid_with_msg(msg);
}

static jv
text_jv(const struct au_buf *b)
{
	return jv_string_sized(b->len ? b->s : "", (int)b->len);
}

/* The n bytes of JSON text at s as a value, or jv_invalid() with what is
 * wrong in *why (static). */
static jv
parse(const char *s, size_t n, const char **why)
{
	size_t at;

	if (n > (size_t)INT32_MAX) {
		*why = "too long";
		return jv_invalid();
	}
	if ((*why = au_json_check(s, n, &at)) != NULL)
		return jv_invalid();
	return jv_parse_sized(s, (int)n);
}

/* v (consumed) as compact JSON text. */
static jv
dump(jv v)
{
	struct au_buf b = AU_BUF_INIT;
	jv s;

	au_json_dump(&b, v);
	jv_free(v);
	s = text_jv(&b);
	au_buf_free(&b);
	return s;
}

/* ---- requests --------------------------------------------------------- */

/* What reading a request gathers for its body's other parts. */
struct req {
	enum au_mf_wire w;
	jv system;		/* the system texts, joined */
	int json;		/* response_format json */
	jv schema, schema_name;	/* response_format json_schema */
	int strict;
};

static void
add_system(struct req *r, jv text)
{
	if (jv_string_length_bytes(jv_copy(text)) == 0) {
		jv_free(text);
		return;
	}
	if (jv_string_length_bytes(jv_copy(r->system)) > 0)
		r->system = jv_string_append_str(r->system, "\n\n");
	r->system = jv_string_concat(r->system, text);
}

/* The content of message where (a string, null or absent, or an array of
 * text and image blocks) as an array of blocks checked. */
static jv
blocks(jv content, const char *where)
{
	jv out = jv_array(), b, t;
	const char *type;
	int i, n;

	switch (jv_get_kind(content)) {
	case JV_KIND_INVALID:
	case JV_KIND_NULL:
		jv_free(content);
		return out;
	case JV_KIND_STRING:
		b = JV_OBJECT(jv_string("type"), jv_string("text"),
		    jv_string("text"), content);
		return jv_array_append(out, b);
	case JV_KIND_ARRAY:
		break;
	default:
		jv_free(content);
		jv_free(out);
		return bad("%s.content: not a string or an array", where);
	}
	n = jv_array_length(jv_copy(content));
	for (i = 0; i < n; i++) {
		b = jv_array_get(jv_copy(content), i);
		type = au_jv_str(b, "type");
		if (type == NULL) {
			jv_free(b);
			jv_free(out);
			jv_free(content);
			return bad("%s.content[%d]: no type", where, i);
		}
		if (strcmp(type, "text") == 0) {
			if (kind(b, "text") != JV_KIND_STRING) {
				jv_free(b);
				jv_free(out);
				jv_free(content);
				return bad("%s.content[%d]: no text", where, i);
			}
		} else if (strcmp(type, "image") == 0) {
			t = get(b, "url");
			if (jv_get_kind(t) != JV_KIND_STRING &&
			    (kind(b, "media_type") != JV_KIND_STRING ||
			    kind(b, "data") != JV_KIND_STRING)) {
				jv_free(t);
				jv_free(b);
				jv_free(out);
				jv_free(content);
				return bad("%s.content[%d]: an image needs a "
				    "url, or a media_type and data", where, i);
			}
			jv_free(t);
		} else {
			jv r = bad("%s.content[%d]: unknown block type %s",
			    where, i, au_quote(type));

			jv_free(b);
			jv_free(out);
			jv_free(content);
			return r;
		}
		out = jv_array_append(out, b);
	}
	jv_free(content);
	return out;
}

/* The text of checked blocks (borrowed) joined, or an error for an image
 * in a message of role that the wire cannot carry. */
static jv
joined(jv bl, const char *where, const char *role)
{
	jv s = jv_string("");

	jv_array_foreach(bl, i, b) {
		const char *t = au_jv_str(b, "text");

		if (t == NULL) {
			jv_free(b);
			jv_free(s);
			return bad("%s.content[%d]: an image in a %s message",
			    where, i, role);
		}
		s = jv_string_concat(s, get(b, "text"));
		jv_free(b);
	}
	return s;
}

/* The tool calls of an assistant message, checked: an array of {id,
 * name, arguments (an object)}. */
static jv
tool_calls(jv m, const char *where)
{
	jv calls = get(m, "tool_calls"), out = jv_array();

	if (jv_get_kind(calls) == JV_KIND_INVALID ||
	    jv_get_kind(calls) == JV_KIND_NULL) {
		jv_free(calls);
		return out;
	}
	if (jv_get_kind(calls) != JV_KIND_ARRAY) {
		jv_free(calls);
		jv_free(out);
		return bad("%s.tool_calls: not an array", where);
	}
	jv_array_foreach(calls, i, c) {
		jv args = get(c, "arguments");

		if (au_jv_str(c, "id") == NULL ||
		    au_jv_str(c, "name") == NULL) {
			jv e = bad("%s.tool_calls[%d]: %s is not a string",
			    where, i, au_jv_str(c, "id") ? "name" : "id");

			jv_free(args);
			jv_free(c);
			jv_free(calls);
			jv_free(out);
			return e;
		}
		if (jv_get_kind(args) == JV_KIND_INVALID ||
		    jv_get_kind(args) == JV_KIND_NULL) {
			jv_free(args);
			args = jv_object();
		} else if (jv_get_kind(args) != JV_KIND_OBJECT) {
			jv_free(args);
			jv_free(c);
			jv_free(calls);
			jv_free(out);
			return bad("%s.tool_calls[%d].arguments: not an object",
			    where, i);
		}
		out = jv_array_append(out, JV_OBJECT(jv_string("id"),
		    get(c, "id"), jv_string("name"), get(c, "name"),
		    jv_string("arguments"), args));
		jv_free(c);
	}
	jv_free(calls);
	return out;
}

/* OpenAI's content parts for checked blocks (consumed). */
static jv
openai_parts(jv bl)
{
	jv out = jv_array();

	jv_array_foreach(bl, i, b) {
		jv url = get(b, "url");

		(void)i;
		if (au_jv_str(b, "text") != NULL) {
			out = jv_array_append(out, JV_OBJECT(jv_string("type"),
			    jv_string("text"), jv_string("text"),
			    get(b, "text")));
		} else {
			if (jv_get_kind(url) != JV_KIND_STRING) {
				jv_free(url);
				url = jv_string_fmt("data:%s;base64,%s",
				    au_jv_str(b, "media_type"),
				    au_jv_str(b, "data"));
			}
			out = jv_array_append(out, JV_OBJECT(jv_string("type"),
			    jv_string("image_url"), jv_string("image_url"),
			    JV_OBJECT(jv_string("url"), url)));
			url = jv_invalid();
		}
		jv_free(url);
		jv_free(b);
	}
	jv_free(bl);
	return out;
}

/* Anthropic's content blocks for checked blocks (consumed); empty texts,
 * which Anthropic refuses, left out. */
static jv
anthropic_blocks(jv bl)
{
	jv out = jv_array();

	jv_array_foreach(bl, i, b) {
		jv src;
		const char *t = au_jv_str(b, "text");

		(void)i;
		if (t != NULL) {
			if (*t != '\0')
				out = jv_array_append(out, JV_OBJECT(
				    jv_string("type"), jv_string("text"),
				    jv_string("text"), get(b, "text")));
			jv_free(b);
			continue;
		}
		if (au_jv_str(b, "url") != NULL)
			src = JV_OBJECT(jv_string("type"), jv_string("url"),
			    jv_string("url"), get(b, "url"));
		else
			src = JV_OBJECT(jv_string("type"), jv_string("base64"),
			    jv_string("media_type"), get(b, "media_type"),
			    jv_string("data"), get(b, "data"));
		out = jv_array_append(out, JV_OBJECT(jv_string("type"),
		    jv_string("image"), jv_string("source"), src));
		jv_free(b);
	}
	jv_free(bl);
	return out;
}

/* One message m (borrowed) in OpenAI's format. */
static jv
openai_message(jv m, const char *role, const char *where)
{
	jv bl = blocks(get(m, "content"), where), text, calls, out;

	if (!jv_is_valid(bl))
		return bl;
	if (strcmp(role, "user") == 0) {
		if (kind(m, "content") == JV_KIND_STRING) {
			jv_free(bl);
			return JV_OBJECT(jv_string("role"), jv_string("user"),
			    jv_string("content"), get(m, "content"));
		}
		return JV_OBJECT(jv_string("role"), jv_string("user"),
		    jv_string("content"), openai_parts(bl));
	}
	text = joined(bl, where, role);
	jv_free(bl);
	if (!jv_is_valid(text))
		return text;
	if (strcmp(role, "system") == 0)
		return JV_OBJECT(jv_string("role"), jv_string("system"),
		    jv_string("content"), text);
	if (strcmp(role, "tool") == 0) {
		if (au_jv_str(m, "tool_call_id") == NULL) {
			jv_free(text);
			return bad("%s: no tool_call_id", where);
		}
		if (kind(m, "is_error") == JV_KIND_TRUE)
			text = jv_string_concat(jv_string("Error: "), text);
		return JV_OBJECT(jv_string("role"), jv_string("tool"),
		    jv_string("tool_call_id"), get(m, "tool_call_id"),
		    jv_string("content"), text);
	}
	calls = tool_calls(m, where);
	if (!jv_is_valid(calls)) {
		jv_free(text);
		return calls;
	}
	if (jv_array_length(jv_copy(calls)) == 0) {
		jv_free(calls);
		return JV_OBJECT(jv_string("role"), jv_string("assistant"),
		    jv_string("content"), text);
	}
	if (jv_string_length_bytes(jv_copy(text)) == 0) {
		jv_free(text);
		text = jv_null();
	}
	out = jv_array();
	jv_array_foreach(calls, i, c) {
		jv f = JV_OBJECT(jv_string("name"), get(c, "name"),
		    jv_string("arguments"), dump(get(c, "arguments")));

		(void)i;
		out = jv_array_append(out, JV_OBJECT(jv_string("id"),
		    get(c, "id"), jv_string("type"), jv_string("function"),
		    jv_string("function"), f));
		jv_free(c);
	}
	jv_free(calls);
	return JV_OBJECT(jv_string("role"), jv_string("assistant"),
	    jv_string("content"), text, jv_string("tool_calls"), out);
}

/* One message m (borrowed) as Anthropic's role and content blocks, or
 * jv_null() for a system message, whose text goes to r. */
static jv
anthropic_message(struct req *r, jv m, const char *role, const char *where)
{
	jv bl = blocks(get(m, "content"), where), text, calls, res, content;

	if (!jv_is_valid(bl))
		return bl;
	if (strcmp(role, "system") == 0) {
		text = joined(bl, where, role);
		jv_free(bl);
		if (!jv_is_valid(text))
			return text;
		add_system(r, text);
		return jv_null();
	}
	if (strcmp(role, "user") == 0)
		return JV_OBJECT(jv_string("role"), jv_string("user"),
		    jv_string("content"), anthropic_blocks(bl));
	if (strcmp(role, "tool") == 0) {
		if (au_jv_str(m, "tool_call_id") == NULL) {
			jv_free(bl);
			return bad("%s: no tool_call_id", where);
		}
		res = JV_OBJECT(jv_string("type"), jv_string("tool_result"),
		    jv_string("tool_use_id"), get(m, "tool_call_id"));
		if (kind(m, "content") == JV_KIND_STRING) {
			jv_free(bl);
			if (jv_string_length_bytes(get(m, "content")) > 0)
				res = jv_object_set(res, jv_string("content"),
				    get(m, "content"));
		} else {
			content = anthropic_blocks(bl);
			if (jv_array_length(jv_copy(content)) > 0)
				res = jv_object_set(res, jv_string("content"),
				    content);
			else
				jv_free(content);
		}
		if (kind(m, "is_error") == JV_KIND_TRUE)
			res = jv_object_set(res, jv_string("is_error"),
			    jv_true());
		return JV_OBJECT(jv_string("role"), jv_string("user"),
		    jv_string("content"), JV_ARRAY(res));
	}
	/* Only to refuse images: Anthropic takes the blocks themselves. */
	text = joined(bl, where, role);
	if (!jv_is_valid(text)) {
		jv_free(bl);
		return text;
	}
	jv_free(text);
	calls = tool_calls(m, where);
	if (!jv_is_valid(calls)) {
		jv_free(bl);
		return calls;
	}
	content = anthropic_blocks(bl);
	jv_array_foreach(calls, i, c) {
		(void)i;
		content = jv_array_append(content, JV_OBJECT(jv_string("type"),
		    jv_string("tool_use"), jv_string("id"), get(c, "id"),
		    jv_string("name"), get(c, "name"), jv_string("input"),
		    get(c, "arguments")));
		jv_free(c);
	}
	jv_free(calls);
	return JV_OBJECT(jv_string("role"), jv_string("assistant"),
	    jv_string("content"), content);
}

/* The messages of req (borrowed) in the wire's format. */
static jv
messages(struct req *r, jv req)
{
	jv msgs = get(req, "messages"), out = jv_array(), m, last = jv_null();
	static const char *const roles[] = { "user", "assistant", "tool",
	    "system" };
	const char *role;
	char where[40];
	size_t k;
	int i, n;

	if (jv_get_kind(msgs) != JV_KIND_ARRAY) {
		jv_free(msgs);
		jv_free(out);
		return bad("messages: %s", jv_get_kind(msgs) ==
		    JV_KIND_INVALID ? "missing" : "not an array");
	}
	n = jv_array_length(jv_copy(msgs));
	for (i = 0; i < n; i++) {
		jv one = jv_array_get(jv_copy(msgs), i);

		snprintf(where, sizeof where, "messages[%d]", i);
		role = au_jv_str(one, "role");
		for (k = 0; role != NULL && k < 4; k++)
			if (strcmp(role, roles[k]) == 0)
				break;
		if (role == NULL || k == 4) {
			m = jv_get_kind(one) != JV_KIND_OBJECT ?
			    bad("%s: not an object", where) : role == NULL ?
			    bad("%s: no role", where) :
			    bad("%s: unknown role %s", where, au_quote(role));
			jv_free(one);
			goto fail;
		}
		m = r->w == AU_MF_OPENAI ? openai_message(one, role, where) :
		    anthropic_message(r, one, role, where);
		jv_free(one);
		if (!jv_is_valid(m))
			goto fail;
		if (r->w == AU_MF_OPENAI) {
			out = jv_array_append(out, m);
			continue;
		}
		/* Anthropic: no empty messages, and the roles alternate. */
		if (jv_get_kind(m) == JV_KIND_NULL ||
		    jv_array_length(get(m, "content")) == 0) {
			jv_free(m);
			continue;
		}
		if (jv_get_kind(last) != JV_KIND_NULL && strcmp(au_jv_str(last,
		    "role"), au_jv_str(m, "role")) == 0) {
			last = jv_object_set(last, jv_string("content"),
			    jv_array_concat(get(last, "content"),
			    get(m, "content")));
			jv_free(m);
			continue;
		}
		if (jv_get_kind(last) != JV_KIND_NULL)
			out = jv_array_append(out, last);
		last = m;
	}
	jv_free(msgs);
	if (jv_get_kind(last) != JV_KIND_NULL)
		out = jv_array_append(out, last);
	if (jv_array_length(jv_copy(out)) == 0) {
		jv_free(out);
		return bad("messages: no %s", r->w == AU_MF_OPENAI ? "message" :
		    "user or assistant message");
	}
	return out;
fail:
	jv_free(msgs);
	jv_free(out);
	jv_free(last);
	return m;
}

/* The tools of req (borrowed) in the wire's format, or jv_null(). */
static jv
tools(const struct req *r, jv req)
{
	jv list = get(req, "tools"), out = jv_array();

	if (jv_get_kind(list) == JV_KIND_INVALID ||
	    jv_get_kind(list) == JV_KIND_NULL) {
		jv_free(list);
		jv_free(out);
		return jv_null();
	}
	if (jv_get_kind(list) != JV_KIND_ARRAY) {
		jv_free(list);
		jv_free(out);
		return bad("tools: not an array");
	}
	jv_array_foreach(list, i, t) {
		jv schema = get(t, "input_schema"), d, one;

		if (au_jv_str(t, "name") == NULL ||
		    (kind(t, "description") != JV_KIND_INVALID &&
		    au_jv_str(t, "description") == NULL) ||
		    (jv_get_kind(schema) != JV_KIND_INVALID &&
		    jv_get_kind(schema) != JV_KIND_OBJECT)) {
			jv e = bad("tools[%d]: %s", i,
			    au_jv_str(t, "name") == NULL ?
			    "name is not a string" :
			    jv_get_kind(schema) == JV_KIND_INVALID ||
			    jv_get_kind(schema) == JV_KIND_OBJECT ?
			    "description is not a string" :
			    "input_schema is not an object");

			jv_free(schema);
			jv_free(t);
			jv_free(list);
			jv_free(out);
			return e;
		}
		if (!jv_is_valid(schema))
			schema = JV_OBJECT(jv_string("type"),
			    jv_string("object"), jv_string("properties"),
			    jv_object());
		one = JV_OBJECT(jv_string("name"), get(t, "name"));
		if (jv_is_valid(d = get(t, "description")))
			one = jv_object_set(one, jv_string("description"), d);
		else
			jv_free(d);
		if (r->w == AU_MF_OPENAI)
			one = JV_OBJECT(jv_string("type"),
			    jv_string("function"), jv_string("function"),
			    jv_object_set(one, jv_string("parameters"),
			    schema));
		else
			one = jv_object_set(one, jv_string("input_schema"),
			    schema);
		out = jv_array_append(out, one);
		jv_free(t);
	}
	jv_free(list);
	return out;
}

/* The tool_choice of req (borrowed) in the wire's format, or jv_null(). */
static jv
tool_choice(const struct req *r, jv req)
{
	jv c = get(req, "tool_choice"), name;
	static const char *const words[][3] = {
		{ "auto", "auto", "auto" },
		{ "none", "none", "none" },
		{ "required", "required", "any" },
	};
	const char *s;
	size_t i;

	if (jv_get_kind(c) == JV_KIND_INVALID || jv_get_kind(c) ==
	    JV_KIND_NULL) {
		jv_free(c);
		return jv_null();
	}
	if (jv_get_kind(c) == JV_KIND_STRING) {
		s = jv_string_value(c);
		for (i = 0; i < 3; i++)
			if (strcmp(s, words[i][0]) == 0)
				break;
		if (i == 3) {
			jv e = bad("tool_choice: unknown choice %s",
			    au_quote(s));

			jv_free(c);
			return e;
		}
		jv_free(c);
		if (r->w == AU_MF_OPENAI)
			return jv_string(words[i][1]);
		return JV_OBJECT(jv_string("type"), jv_string(words[i][2]));
	}
	if (au_jv_str(c, "name") == NULL) {
		jv_free(c);
		return bad("tool_choice: not \"auto\", \"none\", "
		    "\"required\" or {\"name\": TOOL}");
	}
	name = get(c, "name");
	jv_free(c);
	if (r->w == AU_MF_OPENAI)
		return JV_OBJECT(jv_string("type"), jv_string("function"),
		    jv_string("function"), JV_OBJECT(jv_string("name"), name));
	return JV_OBJECT(jv_string("type"), jv_string("tool"),
	    jv_string("name"), name);
}

/* Read response_format of req (borrowed) into r: jv_true(), or the
 * error. */
static jv
response_format(struct req *r, jv req)
{
	jv f = get(req, "response_format");
	const char *type = au_jv_str(f, "type"), *name;
	size_t i;

	if (jv_get_kind(f) == JV_KIND_INVALID || jv_get_kind(f) ==
	    JV_KIND_NULL) {
		jv_free(f);
		return jv_true();
	}
	if (type == NULL) {
		jv_free(f);
		return bad("response_format: no type");
	}
	if (strcmp(type, "json") == 0) {
		r->json = 1;
	} else if (strcmp(type, "json_schema") == 0) {
		r->schema = get(f, "schema");
		if (jv_get_kind(r->schema) != JV_KIND_OBJECT) {
			jv_free(f);
			return bad("response_format: schema is not an object");
		}
		name = au_jv_str(f, "name");
		if (kind(f, "name") == JV_KIND_INVALID)
			name = "response";
		for (i = 0; name != NULL && name[i] != '\0'; i++)
			if (!(name[i] >= 'a' && name[i] <= 'z') &&
			    !(name[i] >= 'A' && name[i] <= 'Z') &&
			    !(name[i] >= '0' && name[i] <= '9') &&
			    name[i] != '_' && name[i] != '-')
				break;
		if (name == NULL || i == 0 || name[i] != '\0' ||
		    i > JSON_NAME_MAX) {
			jv_free(f);
			return bad("response_format: name must be 1 to %d "
			    "letters, digits, '_' or '-'", JSON_NAME_MAX);
		}
		r->schema_name = jv_string(name);
		r->strict = kind(f, "strict") != JV_KIND_FALSE;
	} else if (strcmp(type, "text") != 0) {
		jv e = bad("response_format: unknown type %s", au_quote(type));

		jv_free(f);
		return e;
	}
	jv_free(f);
	return jv_true();
}

/* body with key set to v, unless v is jv_null(). */
static jv
set(jv body, const char *key, jv v)
{
	if (jv_get_kind(v) == JV_KIND_NULL) {
		jv_free(v);
		return body;
	}
	return jv_object_set(body, jv_string(key), v);
}

jv
au_mf_request_body(enum au_mf_wire w, jv req, const char *upstream_model,
    long max_tokens, int stream)
{
	struct req r = { w, jv_string(""), 0, jv_null(), jv_null(), 0 };
	jv body = JV_OBJECT(jv_string("model"), jv_string(upstream_model));
	jv msgs = jv_null(), tl = jv_null(), tc = jv_null(), v, err;

	if (jv_get_kind(req) != JV_KIND_OBJECT) {
		err = bad("the request is not an object");
		goto fail;
	}
	v = get(req, "system");
	if (jv_get_kind(v) == JV_KIND_STRING) {
		add_system(&r, v);
	} else if (jv_is_valid(v) && jv_get_kind(v) != JV_KIND_NULL) {
		jv_free(v);
		err = bad("system: not a string");
		goto fail;
	} else {
		jv_free(v);
	}
	if (!jv_is_valid(err = response_format(&r, req)))
		goto fail;
	jv_free(err);
	if (!jv_is_valid(msgs = messages(&r, req))) {
		err = msgs;
		msgs = jv_null();
		goto fail;
	}
	if (!jv_is_valid(tl = tools(&r, req))) {
		err = tl;
		tl = jv_null();
		goto fail;
	}
	if (!jv_is_valid(tc = tool_choice(&r, req))) {
		err = tc;
		tc = jv_null();
		goto fail;
	}
	v = get(req, "max_tokens");
	if (jv_is_valid(v) && (!au_jv_isint(v) || jv_number_value(v) < 1)) {
		jv_free(v);
		err = bad("max_tokens: not a positive integer");
		goto fail;
	}
	if (!jv_is_valid(v) && max_tokens > 0)
		v = jv_number((double)max_tokens);
	if (!jv_is_valid(v) && w == AU_MF_ANTHROPIC) {
		err = bad("max_tokens: none given, and Anthropic needs one");
		goto fail;
	}
	if (r.json)
		add_system(&r, jv_string(JSON_ASK));
	if (w == AU_MF_ANTHROPIC) {
		body = set(body, "max_tokens", v);
		if (jv_string_length_bytes(jv_copy(r.system)) > 0)
			body = jv_object_set(body, jv_string("system"),
			    jv_copy(r.system));
		body = jv_object_set(body, jv_string("messages"), msgs);
	} else {
		if (jv_string_length_bytes(jv_copy(r.system)) > 0)
			msgs = jv_array_concat(JV_ARRAY(JV_OBJECT(
			    jv_string("role"), jv_string("system"),
			    jv_string("content"), jv_copy(r.system))), msgs);
		body = jv_object_set(body, jv_string("messages"), msgs);
		body = set(body, "max_tokens", jv_is_valid(v) ? v : jv_null());
	}
	msgs = jv_null();
	v = get(req, "temperature");
	if (jv_is_valid(v) && jv_get_kind(v) != JV_KIND_NUMBER) {
		jv_free(v);
		err = bad("temperature: not a number");
		goto fail;
	}
	body = set(body, "temperature", jv_is_valid(v) ? v : jv_null());
	if (jv_get_kind(r.schema) == JV_KIND_OBJECT && w == AU_MF_ANTHROPIC) {
		jv name = jv_string_concat(jv_string(JSON_TOOL),
		    jv_copy(r.schema_name));

		if (jv_get_kind(tl) != JV_KIND_ARRAY) {
			jv_free(tl);
			tl = jv_array();
		}
		tl = jv_array_append(tl, JV_OBJECT(jv_string("name"),
		    jv_copy(name), jv_string("description"), jv_string(
		    "Give the answer as this tool's input."),
		    jv_string("input_schema"), jv_copy(r.schema)));
		jv_free(tc);
		tc = JV_OBJECT(jv_string("type"), jv_string("tool"),
		    jv_string("name"), name);
	}
	body = set(body, "tools", tl);
	body = set(body, "tool_choice", tc);
	tl = tc = jv_null();
	if (w == AU_MF_OPENAI && r.json)
		body = jv_object_set(body, jv_string("response_format"),
		    JV_OBJECT(jv_string("type"), jv_string("json_object")));
	if (w == AU_MF_OPENAI && jv_get_kind(r.schema) == JV_KIND_OBJECT)
		body = jv_object_set(body, jv_string("response_format"),
		    JV_OBJECT(jv_string("type"), jv_string("json_schema"),
		    jv_string("json_schema"), JV_OBJECT(jv_string("name"),
		    jv_copy(r.schema_name), jv_string("schema"),
		    jv_copy(r.schema), jv_string("strict"),
		    jv_bool(r.strict))));
	if (stream) {
		body = jv_object_set(body, jv_string("stream"), jv_true());
		if (w == AU_MF_OPENAI)
			body = jv_object_set(body, jv_string("stream_options"),
			    JV_OBJECT(jv_string("include_usage"), jv_true()));
	}
	jv_free(r.system);
	jv_free(r.schema);
	jv_free(r.schema_name);
	return body;
fail:
	jv_free(body);
	jv_free(msgs);
	jv_free(tl);
	jv_free(tc);
	jv_free(r.system);
	jv_free(r.schema);
	jv_free(r.schema_name);
	return err;
}

/* ---- answers ---------------------------------------------------------- */

/* One tool call of an answer as it comes together. */
struct call {
	char *id, *name;	/* NULL until they come */
	struct au_buf args;	/* the arguments' JSON text, so far */
	jv input;		/* or the whole object (Anthropic, whole) */
	long key;		/* OpenAI's index, Anthropic's block index */
	int json;		/* the JSON-schema answer, not a call */
};

/* An answer as it comes together, whole or event by event. */
struct au_mf_stream {
	enum au_mf_wire w;
	struct au_buf text;
	struct call *calls;
	size_t ncalls, cap;
	const char *finish;	/* normalized, or NULL */
	int64_t in, out, cached, created;	/* as the provider counts */
	char *model;
	int refusal;		/* OpenAI's refusal: content_filter */
};

struct au_mf_stream *
au_mf_stream_new(enum au_mf_wire w)
{
	struct au_mf_stream *s = au_xcalloc(1, sizeof *s);

	s->w = w;
	return s;
}

void
au_mf_stream_free(struct au_mf_stream *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->ncalls; i++) {
		free(s->calls[i].id);
		free(s->calls[i].name);
		au_buf_free(&s->calls[i].args);
		jv_free(s->calls[i].input);
	}
	free(s->calls);
	au_buf_free(&s->text);
	free(s->model);
	free(s);
}

/* The call with key, made if there is none: its number in *n. */
static struct call *
call_at(struct au_mf_stream *s, long key, size_t *n)
{
	struct call *c;

	for (*n = 0; *n < s->ncalls; (*n)++)
		if (s->calls[*n].key == key)
			return &s->calls[*n];
	s->calls = au_grow(s->calls, &s->cap, s->ncalls + 1, sizeof *c);
	c = &s->calls[s->ncalls++];
	memset(c, 0, sizeof *c);
	c->input = jv_invalid();
	c->key = key;
	return c;
}

static void
setstr(char **p, const char *s)
{
	if (*p == NULL && s != NULL)
		*p = au_xstrdup(s);
}

/* The normalized finish reason for r, a reason of the wire's, or NULL
 * when r is NULL or one we do not know. */
static const char *
finish_of(enum au_mf_wire w, const char *r)
{
	static const char *const map[][3] = {
		{ "o", "stop", "stop" }, { "o", "length", "length" },
		{ "o", "tool_calls", "tool_calls" },
		{ "o", "function_call", "tool_calls" },
		{ "o", "content_filter", "content_filter" },
		{ "a", "end_turn", "stop" }, { "a", "stop_sequence", "stop" },
		{ "a", "pause_turn", "stop" }, { "a", "max_tokens", "length" },
		{ "a", "model_context_window_exceeded", "length" },
		{ "a", "tool_use", "tool_calls" },
		{ "a", "refusal", "content_filter" },
	};
	char wire = w == AU_MF_OPENAI ? 'o' : 'a';
	size_t i;

	for (i = 0; r != NULL && i < sizeof map / sizeof map[0]; i++)
		if (map[i][0][0] == wire && strcmp(r, map[i][1]) == 0)
			return map[i][2];
	return NULL;
}

/* Take the finish reason at key of o (borrowed), if it is a string. */
static void
take_finish(struct au_mf_stream *s, jv o, const char *key)
{
	const char *r = au_jv_str(o, key);

	if (r != NULL)
		s->finish = finish_of(s->w, r);
}

/* Take the counts of usage u (consumed), those it has. */
static void
take_usage(struct au_mf_stream *s, jv u)
{
	jv d;

	if (jv_get_kind(u) != JV_KIND_OBJECT) {
		jv_free(u);
		return;
	}
	if (s->w == AU_MF_OPENAI) {
		s->in = count(u, "prompt_tokens");
		s->out = count(u, "completion_tokens");
		d = get(u, "prompt_tokens_details");
		s->cached = count(d, "cached_tokens");
		jv_free(d);
	} else {
		/* message_delta repeats only what changed. */
		if (kind(u, "input_tokens") == JV_KIND_NUMBER)
			s->in = count(u, "input_tokens");
		if (kind(u, "output_tokens") == JV_KIND_NUMBER)
			s->out = count(u, "output_tokens");
		if (kind(u, "cache_read_input_tokens") == JV_KIND_NUMBER)
			s->cached = count(u, "cache_read_input_tokens");
		if (kind(u, "cache_creation_input_tokens") == JV_KIND_NUMBER)
			s->created = count(u, "cache_creation_input_tokens");
	}
	jv_free(u);
}

static int
blank(const struct au_buf *b)
{
	size_t i;

	for (i = 0; i < b->len; i++)
		if (b->s[i] != ' ' && b->s[i] != '\t' && b->s[i] != '\n' &&
		    b->s[i] != '\r')
			return 0;
	return 1;
}

/* The normalized result of what s has gathered. */
static jv
result(const struct au_mf_stream *s)
{
	jv calls = jv_array(), args, usage;
	const char *fr = s->finish, *why;
	const struct call *c;
	size_t i;
	int json = 0;

	for (i = 0; i < s->ncalls; i++) {
		c = &s->calls[i];
		if (c->json) {
			json = 1;
			continue;
		}
		if (c->name == NULL) {
			jv_free(calls);
			return bad("malformed response: tool call %zu has no "
			    "name", i);
		}
		if (jv_is_valid(c->input))
			args = jv_copy(c->input);
		else if (blank(&c->args))
			args = jv_object();
		else
			args = parse(c->args.s, c->args.len, &why);
		if (jv_get_kind(args) != JV_KIND_OBJECT) {
			jv_free(args);
			jv_free(calls);
			return bad("malformed response: the arguments of tool "
			    "call %s are not a JSON object", au_quote(c->name));
		}
		calls = jv_array_append(calls, JV_OBJECT(jv_string("id"),
		    c->id ? jv_string(c->id) : jv_string_fmt("call_%zu", i),
		    jv_string("name"), jv_string(c->name),
		    jv_string("arguments"), args));
	}
	if (json && jv_array_length(jv_copy(calls)) == 0 && fr != NULL &&
	    strcmp(fr, "tool_calls") == 0)
		fr = "stop";
	if (s->refusal)
		fr = "content_filter";
	usage = JV_OBJECT(jv_string("input_tokens"), jv_number((double)(
	    s->in + (s->w == AU_MF_ANTHROPIC ? s->cached + s->created : 0))),
	    jv_string("output_tokens"), jv_number((double)s->out),
	    jv_string("cached_tokens"), jv_number((double)s->cached));
	return JV_OBJECT(jv_string("content"), text_jv(&s->text),
	    jv_string("tool_calls"), calls,
	    jv_string("finish_reason"), fr ? jv_string(fr) : jv_null(),
	    jv_string("usage"), usage,
	    jv_string("upstream_model"), s->model ? jv_string(s->model) :
	    jv_null());
}

jv
au_mf_stream_result(struct au_mf_stream *s)
{
	return result(s);
}

/* Add the text at key of o (borrowed), if it is a string: its length. */
static size_t
take_text(struct au_mf_stream *s, jv o, const char *key)
{
	jv t = get(o, key);
	size_t n = 0;

	if (jv_get_kind(t) == JV_KIND_STRING) {
		n = (size_t)jv_string_length_bytes(jv_copy(t));
		au_buf_add(&s->text, jv_string_value(t), n);
	}
	jv_free(t);
	return n;
}

/* An OpenAI tool call tc (borrowed) of a message or a chunk's delta, its
 * pos in the list; NULL, or what is wrong.  With delta, a fragment for
 * the caller goes to *delta. */
static const char *
openai_call(struct au_mf_stream *s, jv tc, int pos, jv *delta)
{
	jv f = get(tc, "function"), a;
	struct call *c;
	size_t n;
	long key = pos;

	if (jv_get_kind(tc) != JV_KIND_OBJECT ||
	    (jv_is_valid(f) && jv_get_kind(f) != JV_KIND_OBJECT)) {
		jv_free(f);
		return "a tool call that is not an object";
	}
	if (au_jv_isint(a = get(tc, "index")))
		key = (long)jv_number_value(a);
	jv_free(a);
	c = call_at(s, key, &n);
	setstr(&c->id, au_jv_str(tc, "id"));
	setstr(&c->name, au_jv_str(f, "name"));
	a = get(f, "arguments");
	if (jv_get_kind(a) == JV_KIND_STRING)
		au_buf_add(&c->args, jv_string_value(a),
		    (size_t)jv_string_length_bytes(jv_copy(a)));
	else if (jv_get_kind(a) == JV_KIND_OBJECT && delta == NULL)
		c->input = jv_copy(a);
	else if (jv_get_kind(a) != JV_KIND_INVALID &&
	    jv_get_kind(a) != JV_KIND_NULL) {
		jv_free(a);
		jv_free(f);
		return "tool call arguments that are not a string";
	}
	if (delta != NULL && jv_get_kind(*delta) == JV_KIND_INVALID) {
		jv d = JV_OBJECT(jv_string("index"), jv_number((double)n));

		if (au_jv_str(tc, "id") != NULL)
			d = jv_object_set(d, jv_string("id"), get(tc, "id"));
		if (au_jv_str(f, "name") != NULL)
			d = jv_object_set(d, jv_string("name"), get(f, "name"));
		d = jv_object_set(d, jv_string("arguments"),
		    jv_get_kind(a) == JV_KIND_STRING ? jv_copy(a) :
		    jv_string(""));
		*delta = JV_OBJECT(jv_string("tool_call"), d);
	}
	jv_free(a);
	jv_free(f);
	return NULL;
}

/* The tool calls at key of m (borrowed), and the legacy function_call. */
static const char *
openai_calls(struct au_mf_stream *s, jv m, jv *delta)
{
	jv list = get(m, "tool_calls"), fc;
	const char *what = NULL;

	if (jv_get_kind(list) == JV_KIND_ARRAY) {
		jv_array_foreach(list, i, tc) {
			if (what == NULL)
				what = openai_call(s, tc, i, delta);
			jv_free(tc);
		}
	} else if (jv_get_kind(list) != JV_KIND_INVALID &&
	    jv_get_kind(list) != JV_KIND_NULL) {
		what = "tool_calls is not an array";
	}
	jv_free(list);
	fc = get(m, "function_call");
	if (what == NULL && jv_get_kind(fc) == JV_KIND_OBJECT) {
		fc = JV_OBJECT(jv_string("function"), fc, jv_string("index"),
		    jv_number(-1));
		what = openai_call(s, fc, -1, delta);
	}
	jv_free(fc);
	return what;
}

/* A chat.completion (borrowed) into s: NULL, or what is wrong. */
static const char *
openai_whole(struct au_mf_stream *s, jv r)
{
	jv ch = get(r, "choices"), c0, m;
	const char *what = NULL;

	setstr(&s->model, au_jv_str(r, "model"));
	take_usage(s, get(r, "usage"));
	if (jv_get_kind(ch) != JV_KIND_ARRAY ||
	    jv_array_length(jv_copy(ch)) == 0) {
		jv_free(ch);
		return "no choices";
	}
	c0 = jv_array_get(jv_copy(ch), 0);
	m = get(c0, "message");
	if (jv_get_kind(m) != JV_KIND_OBJECT)
		what = "choices[0] has no message";
	else if (kind(m, "content") != JV_KIND_STRING &&
	    kind(m, "content") != JV_KIND_NULL &&
	    kind(m, "content") != JV_KIND_INVALID)
		what = "the content is not a string";
	else
		what = openai_calls(s, m, NULL);
	if (what == NULL) {
		take_text(s, m, "content");
		if (s->text.len == 0 && take_text(s, m, "refusal") > 0)
			s->refusal = 1;
		take_finish(s, c0, "finish_reason");
	}
	jv_free(m);
	jv_free(c0);
	jv_free(ch);
	return what;
}

/* An Anthropic message (borrowed) into s: NULL, or what is wrong. */
static const char *
anthropic_whole(struct au_mf_stream *s, jv r)
{
	jv content = get(r, "content");
	const char *type, *name;
	struct call *c;
	size_t n;

	setstr(&s->model, au_jv_str(r, "model"));
	take_usage(s, get(r, "usage"));
	take_finish(s, r, "stop_reason");
	if (jv_get_kind(content) != JV_KIND_ARRAY) {
		jv_free(content);
		return "no content";
	}
	jv_array_foreach(content, i, b) {
		type = au_jv_str(b, "type");
		name = au_jv_str(b, "name");
		if (type != NULL && strcmp(type, "text") == 0) {
			take_text(s, b, "text");
		} else if (type != NULL && strcmp(type, "tool_use") == 0) {
			if (name == NULL ||
			    kind(b, "input") != JV_KIND_OBJECT) {
				jv_free(b);
				jv_free(content);
				return "a tool_use block without a name or an "
				    "input object";
			}
			c = call_at(s, i, &n);
			setstr(&c->id, au_jv_str(b, "id"));
			setstr(&c->name, name);
			c->input = get(b, "input");
			if (strncmp(name, JSON_TOOL, strlen(JSON_TOOL)) == 0) {
				jv t = dump(jv_copy(c->input));

				c->json = 1;
				au_buf_adds(&s->text, jv_string_value(t));
				jv_free(t);
			}
		}
		jv_free(b);
	}
	jv_free(content);
	return NULL;
}

/* A clean copy of the error message msg (with its type, if not NULL):
 * control characters out, at most ERRMSG_MAX bytes; NULL if empty. */
static char *
clean(const char *type, const char *msg)
{
	struct au_buf b = AU_BUF_INIT;
	const unsigned char *p;
	size_t cut;

	if (type != NULL && *type != '\0') {
		au_buf_adds(&b, type);
		au_buf_adds(&b, ": ");
	}
	for (p = (const unsigned char *)msg; *p != '\0'; p++) {
		if (*p == '\n' || *p == '\t' || *p == '\r')
			au_buf_addc(&b, ' ');
		else if (*p >= 0x20 && *p != 0x7f)
			au_buf_addc(&b, (char)*p);
	}
	if (b.len == 0 || blank(&b)) {
		au_buf_free(&b);
		return NULL;
	}
	if (b.len > ERRMSG_MAX) {
		/* Not in the middle of a UTF-8 sequence. */
		for (cut = ERRMSG_MAX; cut > 0 &&
		    ((unsigned char)b.s[cut] & 0xc0) == 0x80; cut--)
			;
		b.len = cut;
		au_buf_adds(&b, "...");
	}
	return b.s;
}

/* The message of an error object or string e (borrowed), with its type
 * if withtype. */
static char *
error_of(jv e, int withtype)
{
	if (jv_get_kind(e) == JV_KIND_STRING)
		return clean(NULL, jv_string_value(e));
	if (au_jv_str(e, "message") == NULL)
		return NULL;
	return clean(withtype ? au_jv_str(e, "type") : NULL,
	    au_jv_str(e, "message"));
}

char *
au_mf_error_message(enum au_mf_wire w, const char *body, size_t len)
{
	const char *why;
	jv r = parse(body, len, &why), e;
	char *msg;

	/* Either shape, whatever the wire: compatible servers mix them. */
	(void)w;
	e = get(r, "error");
	msg = error_of(e, 0);
	if (msg == NULL && au_jv_str(r, "message") != NULL)
		msg = clean(NULL, au_jv_str(r, "message"));
	jv_free(e);
	jv_free(r);
	return msg;
}

jv
au_mf_response_parse(enum au_mf_wire w, const char *body, size_t len)
{
	struct au_mf_stream *s = au_mf_stream_new(w);
	const char *why;
	jv r = parse(body, len, &why), e = get(r, "error"), res;
	char *msg;

	if (!jv_is_valid(r)) {
		res = bad("malformed response: %s", why);
	} else if (jv_get_kind(r) != JV_KIND_OBJECT) {
		res = bad("malformed response: not a JSON object");
	} else if (jv_is_valid(e) && jv_get_kind(e) != JV_KIND_NULL) {
		msg = error_of(e, 1);
		res = bad("the provider's error: %s", msg ? msg :
		    "(no message)");
		free(msg);
	} else if ((why = w == AU_MF_OPENAI ? openai_whole(s, r) :
	    anthropic_whole(s, r)) != NULL) {
		res = bad("malformed response: %s", why);
	} else {
		res = result(s);
	}
	jv_free(e);
	jv_free(r);
	au_mf_stream_free(s);
	return res;
}

/* One chunk of an OpenAI stream, parsed (borrowed): 0, or -1 with *err. */
static int
openai_event(struct au_mf_stream *s, jv r, jv *delta, char **err)
{
	jv ch = get(r, "choices"), d = jv_invalid(), c0 = jv_invalid();
	const char *what = NULL;
	size_t n0 = s->text.len;

	setstr(&s->model, au_jv_str(r, "model"));
	take_usage(s, get(r, "usage"));
	if (jv_get_kind(ch) == JV_KIND_ARRAY) {
		jv_array_foreach(ch, i, c) {
			jv idx = get(c, "index");

			(void)i;
			if (!jv_is_valid(c0) && (!jv_is_valid(idx) ||
			    (au_jv_isint(idx) && jv_number_value(idx) == 0)))
				c0 = jv_copy(c);
			jv_free(idx);
			jv_free(c);
		}
	} else if (jv_get_kind(ch) != JV_KIND_INVALID &&
	    jv_get_kind(ch) != JV_KIND_NULL) {
		what = "choices is not an array";
	}
	if (jv_is_valid(c0)) {
		d = get(c0, "delta");
		if (jv_get_kind(d) == JV_KIND_OBJECT) {
			take_text(s, d, "content");
			if (take_text(s, d, "refusal") > 0)
				s->refusal = 1;
			what = openai_calls(s, d, delta);
		} else if (jv_is_valid(d) && jv_get_kind(d) != JV_KIND_NULL) {
			what = "a delta that is not an object";
		}
		take_finish(s, c0, "finish_reason");
	}
	jv_free(d);
	jv_free(c0);
	jv_free(ch);
	if (what != NULL) {
		*err = au_xasprintf("malformed event: %s", what);
		return -1;
	}
	if (s->text.len > n0) {
		jv t = jv_string_sized(s->text.s + n0, (int)(s->text.len - n0));

		*delta = jv_get_kind(*delta) == JV_KIND_OBJECT ?
		    jv_object_set(*delta, jv_string("text"), t) :
		    JV_OBJECT(jv_string("text"), t);
	}
	return 0;
}

/* One event of an Anthropic stream, parsed (borrowed): 0, 1 at the end,
 * or -1 with *err. */
static int
anthropic_event(struct au_mf_stream *s, const char *type, jv r, jv *delta,
    char **err)
{
	jv b, m;
	const char *what = NULL, *bt;
	struct call *c;
	size_t n, n0 = s->text.len;
	long idx;

	if (au_jv_isint(b = get(r, "index")))
		idx = (long)jv_number_value(b);
	else
		idx = -1;
	jv_free(b);
	if (strcmp(type, "message_stop") == 0)
		return 1;
	if (strcmp(type, "message_start") == 0) {
		m = get(r, "message");
		setstr(&s->model, au_jv_str(m, "model"));
		take_usage(s, get(m, "usage"));
		jv_free(m);
	} else if (strcmp(type, "message_delta") == 0) {
		m = get(r, "delta");
		take_finish(s, m, "stop_reason");
		jv_free(m);
		take_usage(s, get(r, "usage"));
	} else if (strcmp(type, "content_block_start") == 0) {
		b = get(r, "content_block");
		bt = au_jv_str(b, "type");
		if (idx < 0 || bt == NULL) {
			what = "content_block_start without an index or a type";
		} else if (strcmp(bt, "text") == 0) {
			take_text(s, b, "text");
		} else if (strcmp(bt, "tool_use") == 0) {
			if (au_jv_str(b, "name") == NULL) {
				what = "a tool_use block without a name";
			} else {
				c = call_at(s, idx, &n);
				setstr(&c->id, au_jv_str(b, "id"));
				setstr(&c->name, au_jv_str(b, "name"));
				c->json = strncmp(c->name, JSON_TOOL,
				    strlen(JSON_TOOL)) == 0;
				if (!c->json)
					*delta = JV_OBJECT(jv_string(
					    "tool_call"), JV_OBJECT(
					    jv_string("index"), jv_number(
					    (double)n), jv_string("id"),
					    get(b, "id"), jv_string("name"),
					    get(b, "name"),
					    jv_string("arguments"),
					    jv_string("")));
			}
		}
		jv_free(b);
	} else if (strcmp(type, "content_block_delta") == 0) {
		b = get(r, "delta");
		bt = au_jv_str(b, "type");
		if (idx < 0 || bt == NULL) {
			what = "content_block_delta without an index or a type";
		} else if (strcmp(bt, "text_delta") == 0) {
			take_text(s, b, "text");
		} else if (strcmp(bt, "input_json_delta") == 0) {
			jv f = get(b, "partial_json");

			for (n = 0; n < s->ncalls; n++)
				if (s->calls[n].key == idx)
					break;
			if (n == s->ncalls) {
				what = "input_json_delta for no tool_use block";
			} else if (jv_get_kind(f) != JV_KIND_STRING) {
				what = "input_json_delta without partial_json";
			} else {
				c = &s->calls[n];
				if (c->json)
					take_text(s, b, "partial_json");
				else
					au_buf_adds(&c->args,
					    jv_string_value(f));
				if (!c->json && jv_string_length_bytes(
				    jv_copy(f)) > 0)
					*delta = JV_OBJECT(jv_string(
					    "tool_call"), JV_OBJECT(
					    jv_string("index"), jv_number(
					    (double)n), jv_string("arguments"),
					    jv_copy(f)));
			}
			jv_free(f);
		}
		jv_free(b);
	}
	if (what != NULL) {
		*err = au_xasprintf("malformed event: %s", what);
		return -1;
	}
	if (s->text.len > n0)
		*delta = JV_OBJECT(jv_string("text"), jv_string_sized(
		    s->text.s + n0, (int)(s->text.len - n0)));
	return 0;
}

int
au_mf_stream_event(struct au_mf_stream *s, const char *event,
    const char *data, size_t len, jv *delta, char **err)
{
	const char *why, *type;
	jv r, e;
	int rc;

	*delta = jv_invalid();
	*err = NULL;
	if (s->w == AU_MF_OPENAI && len == 6 && memcmp(data, "[DONE]", 6) == 0)
		return 1;
	r = parse(data, len, &why);
	if (!jv_is_valid(r)) {
		*err = au_xasprintf("malformed event: %s", why);
		return -1;
	}
	if (jv_get_kind(r) != JV_KIND_OBJECT) {
		jv_free(r);
		*err = au_xstrdup("malformed event: not a JSON object");
		return -1;
	}
	type = strcmp(event, "message") != 0 ? event : au_jv_str(r, "type");
	e = get(r, "error");
	if ((jv_is_valid(e) && jv_get_kind(e) != JV_KIND_NULL) ||
	    (type != NULL && strcmp(type, "error") == 0)) {
		*err = error_of(e, 1);
		if (*err == NULL)
			*err = au_xstrdup("an error event without a message");
		jv_free(e);
		jv_free(r);
		return -1;
	}
	jv_free(e);
	if (s->w == AU_MF_OPENAI)
		rc = openai_event(s, r, delta, err);
	else
		rc = anthropic_event(s, type ? type : "", r, delta, err);
	jv_free(r);
	return rc;
}
