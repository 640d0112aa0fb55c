/*
 * test-mfwire.c - mfwire.c, both wire formats both ways: request bodies
 * for OpenAI chat completions and Anthropic messages compared with the
 * exact JSON expected (system prompts, content blocks and images, tool
 * calls and results, Anthropic's merged turns, tools, tool_choice, JSON
 * mode and JSON Schemas, streaming), requests refused with the place of
 * the mistake; whole answers of both providers as the APIs send them
 * (text, tool calls, usage with cached tokens, every finish reason, the
 * JSON-schema tool), and malformed ones; error bodies; streams of both
 * (with au_sse_feed, as mf-route reads them) split at every byte giving
 * the same deltas and result, tool arguments in many fragments, parallel
 * calls, error events, malformed events, streams cut short.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentutils.h"
#include "tap.h"

/* v (consumed) as compact JSON, or "ERROR: msg" for an invalid one; the
 * result is good until the next call. */
static const char *
str(jv v)
{
	static struct au_buf b;
	jv m;

	b.len = 0;
	au_buf_adds(&b, "");
	if (!jv_is_valid(v)) {
		m = jv_invalid_get_msg(v);
		au_buf_adds(&b, "ERROR: ");
		au_buf_adds(&b, jv_get_kind(m) == JV_KIND_STRING ?
		    jv_string_value(m) : "(no message)");
		jv_free(m);
		return b.s;
	}
	au_json_dump(&b, v);
	jv_free(v);
	return b.s;
}

/* The body for request text req (parsed, then freed: borrowed). */
static const char *
body(enum au_mf_wire w, const char *req, long max, int stream)
{
	jv r = jv_parse(req), out;

	if (!jv_is_valid(r))
		return str(r);
	out = au_mf_request_body(w, r, "up-model", max, stream);
	jv_free(r);
	return str(out);
}

static const char *
parsed(enum au_mf_wire w, const char *text)
{
	return str(au_mf_response_parse(w, text, strlen(text)));
}

/* ---- requests --------------------------------------------------------- */

static void
test_openai_request(void)
{
	is_str(body(AU_MF_OPENAI, "{\"type\":\"model.request\",\"id\":\"r1\","
	    "\"model\":\"fast\",\"system\":\"Be brief.\",\"messages\":[{\"role"
	    "\":"
	    "\"user\",\"content\":\"Hi\"}]}", 0, 0),
	    "{\"model\":\"up-model\",\"messages\":[{\"role\":\"system\","
	    "\"content\":\"Be brief.\"},{\"role\":\"user\",\"content\":\"Hi\"}]"
	    "}",
	    "openai: the system prompt as the first message; no max_tokens "
	    "unless given");
	is_str(body(AU_MF_OPENAI, "{\"messages\":[{\"role\":\"user\","
	    "\"content\":\"Hi\"}],\"max_tokens\":50,\"temperature\":0.2}", 100,
	    1),
	    "{\"model\":\"up-model\",\"messages\":[{\"role\":\"user\",\"content"
	    "\":"
	    "\"Hi\"}],\"max_tokens\":50,\"temperature\":0.2,\"stream\":true,"
	    "\"stream_options\":{\"include_usage\":true}}",
	    "openai: the request's max_tokens first, temperature, stream with "
	    "usage");
	is_str(body(AU_MF_OPENAI, "{\"messages\":[{\"role\":\"user\","
	    "\"content\":\"Hi\"}]}", 100, 0),
	    "{\"model\":\"up-model\",\"messages\":[{\"role\":\"user\",\"content"
	    "\":"
	    "\"Hi\"}],\"max_tokens\":100}", "openai: the default max_tokens");
	is_str(body(AU_MF_OPENAI, "{\"messages\":["
	    "{\"role\":\"system\",\"content\":\"Also this.\"},"
	    "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":"
	    "\"What is here?\"},{\"type\":\"image\",\"media_type\":\"image/png"
	    "\","
	    "\"data\":\"iVBORw0KGgo=\"},{\"type\":\"image\",\"url\":"
	    "\"https://example.com/a.jpg\"}]},"
	    "{\"role\":\"assistant\",\"content\":\"Let me look.\",\"tool_calls"
	    "\":"
	    "[{\"id\":\"c1\",\"name\":\"grep\",\"arguments\":{\"pattern\":\"x\""
	    ","
	    "\"n\":2}}]},"
	    "{\"role\":\"tool\",\"tool_call_id\":\"c1\",\"content\":\"no match"
	    "\","
	    "\"is_error\":true},"
	    "{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"c2\",\"name\":"
	    "\"ls\"}]},"
	    "{\"role\":\"tool\",\"tool_call_id\":\"c2\",\"content\":[{\"type\":"
	    "\"text\",\"text\":\"a\"},{\"type\":\"text\",\"text\":\"b\"}]},"
	    "{\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":"
	    "\"Done.\"}],\"tool_calls\":[]}]}", 0, 0),
	    "{\"model\":\"up-model\",\"messages\":["
	    "{\"role\":\"system\",\"content\":\"Also this.\"},"
	    "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":"
	    "\"What is here?\"},{\"type\":\"image_url\",\"image_url\":{\"url\":"
	    "\"data:image/png;base64,iVBORw0KGgo=\"}},{\"type\":\"image_url\","
	    "\"image_url\":{\"url\":\"https://example.com/a.jpg\"}}]},"
	    "{\"role\":\"assistant\",\"content\":\"Let me look.\",\"tool_calls"
	    "\":"
	    "[{\"id\":\"c1\",\"type\":\"function\",\"function\":{\"name\":\"gre"
	    "p\","
	    "\"arguments\":\"{\\\"pattern\\\":\\\"x\\\",\\\"n\\\":2}\"}}]},"
	    "{\"role\":\"tool\",\"tool_call_id\":\"c1\",\"content\":"
	    "\"Error: no match\"},"
	    "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":"
	    "\"c2\",\"type\":\"function\",\"function\":{\"name\":\"ls\","
	    "\"arguments\":\"{}\"}}]},"
	    "{\"role\":\"tool\",\"tool_call_id\":\"c2\",\"content\":\"ab\"},"
	    "{\"role\":\"assistant\",\"content\":\"Done.\"}]}",
	    "openai: blocks, images as URLs and data: URLs, tool calls with "
	    "arguments as JSON text, tool results, system messages in place");
	is_str(body(AU_MF_OPENAI, "{\"messages\":[{\"role\":\"user\","
	    "\"content\":\"x\"}],\"tools\":[{\"name\":\"grep\",\"description\":"
	    "\"Search.\",\"input_schema\":{\"type\":\"object\",\"properties\":"
	    "{\"pattern\":{\"type\":\"string\"}}}},{\"name\":\"now\"}],"
	    "\"tool_choice\":{\"name\":\"grep\"}}", 0, 0),
	    "{\"model\":\"up-model\",\"messages\":[{\"role\":\"user\",\"content"
	    "\":"
	    "\"x\"}],\"tools\":[{\"type\":\"function\",\"function\":{\"name\":"
	    "\"grep\",\"description\":\"Search.\",\"parameters\":{\"type\":"
	    "\"object\",\"properties\":{\"pattern\":{\"type\":\"string\"}}}}},"
	    "{\"type\":\"function\",\"function\":{\"name\":\"now\",\"parameters"
	    "\":"
	    "{\"type\":\"object\",\"properties\":{}}}}],\"tool_choice\":{\"type"
	    "\":"
	    "\"function\",\"function\":{\"name\":\"grep\"}}}",
	    "openai: tools as functions, an empty schema made, a named "
	    "tool_choice");
	is_str(body(AU_MF_OPENAI, "{\"messages\":[{\"role\":\"user\","
	    "\"content\":\"x\"}],\"tool_choice\":\"required\"}", 0, 0),
	    "{\"model\":\"up-model\",\"messages\":[{\"role\":\"user\",\"content"
	    "\":"
	    "\"x\"}],\"tool_choice\":\"required\"}",
	    "openai: tool_choice required");
	is_str(body(AU_MF_OPENAI, "{\"system\":\"Be brief.\",\"messages\":"
	    "[{\"role\":\"user\",\"content\":\"x\"}],\"response_format\":"
	    "{\"type\":\"json\"}}", 0, 0),
	    "{\"model\":\"up-model\",\"messages\":[{\"role\":\"system\","
	    "\"content\":\"Be brief.\\n\\nRespond with one JSON value and "
	    "nothing else: no prose before or after it, no Markdown code "
	    "fences.\"},{\"role\":\"user\",\"content\":\"x\"}],"
	    "\"response_format\":{\"type\":\"json_object\"}}",
	    "openai: JSON mode is json_object and an instruction");
	is_str(body(AU_MF_OPENAI, "{\"messages\":[{\"role\":\"user\","
	    "\"content\":\"x\"}],\"response_format\":{\"type\":\"json_schema\","
	    "\"name\":\"answer\",\"schema\":{\"type\":\"object\"}}}", 0, 0),
	    "{\"model\":\"up-model\",\"messages\":[{\"role\":\"user\",\"content"
	    "\":"
	    "\"x\"}],\"response_format\":{\"type\":\"json_schema\","
	    "\"json_schema\":{\"name\":\"answer\",\"schema\":{\"type\":"
	    "\"object\"},\"strict\":true}}}",
	    "openai: a JSON Schema, strict by default");
	is_str(body(AU_MF_OPENAI, "{\"messages\":[{\"role\":\"user\","
	    "\"content\":\"x\"}],\"response_format\":{\"type\":\"json_schema\","
	    "\"schema\":{},\"strict\":false}}", 0, 0),
	    "{\"model\":\"up-model\",\"messages\":[{\"role\":\"user\",\"content"
	    "\":"
	    "\"x\"}],\"response_format\":{\"type\":\"json_schema\","
	    "\"json_schema\":{\"name\":\"response\",\"schema\":{},"
	    "\"strict\":false}}}",
	    "openai: strict false, the name response by default");
	is_str(body(AU_MF_OPENAI, "{\"messages\":[{\"role\":\"user\","
	    "\"content\":\"x\"}],\"response_format\":{\"type\":\"text\"},"
	    "\"needs\":[\"tools\"],\"metadata\":{\"run\":\"R\"},\"stream\":true"
	    "}",
	    0, 0),
	    "{\"model\":\"up-model\",\"messages\":[{\"role\":\"user\",\"content"
	    "\":"
	    "\"x\"}]}",
	    "openai: text format, needs, metadata, the request's stream: "
	    "nothing");
}

static void
test_anthropic_request(void)
{
	is_str(body(AU_MF_ANTHROPIC, "{\"system\":\"Be brief.\",\"messages\":"
	    "[{\"role\":\"system\",\"content\":\"Use metric units.\"},"
	    "{\"role\":\"user\",\"content\":\"Hi\"}],\"temperature\":1}", 1024,
	    1),
	    "{\"model\":\"up-model\",\"max_tokens\":1024,\"system\":"
	    "\"Be brief.\\n\\nUse metric units.\",\"messages\":[{\"role\":"
	    "\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Hi\"}]}],"
	    "\"temperature\":1,\"stream\":true}",
	    "anthropic: system texts joined at the top, max_tokens from the "
	    "caller, stream");
	is_str(body(AU_MF_ANTHROPIC, "{\"messages\":["
	    "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":"
	    "\"Look\"},{\"type\":\"image\",\"media_type\":\"image/png\","
	    "\"data\":\"iVBORw0KGgo=\"},{\"type\":\"image\",\"url\":"
	    "\"https://example.com/a.jpg\"}]},"
	    "{\"role\":\"user\",\"content\":\"and this\"},"
	    "{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"id\":"
	    "\"c1\",\"name\":\"grep\",\"arguments\":{\"p\":\"x\"}},{\"id\":\"c2"
	    "\","
	    "\"name\":\"ls\"}]},"
	    "{\"role\":\"tool\",\"tool_call_id\":\"c1\",\"content\":\"found\"},"
	    "{\"role\":\"tool\",\"tool_call_id\":\"c2\",\"content\":\"\","
	    "\"is_error\":true},"
	    "{\"role\":\"user\",\"content\":\"go on\"},"
	    "{\"role\":\"assistant\"},"
	    "{\"role\":\"assistant\",\"content\":\"Done.\"}],\"max_tokens\":9}",
	    0, 0),
	    "{\"model\":\"up-model\",\"max_tokens\":9,\"messages\":["
	    "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":"
	    "\"Look\"},{\"type\":\"image\",\"source\":{\"type\":\"base64\","
	    "\"media_type\":\"image/png\",\"data\":\"iVBORw0KGgo=\"}},{\"type\""
	    ":"
	    "\"image\",\"source\":{\"type\":\"url\",\"url\":"
	    "\"https://example.com/a.jpg\"}},{\"type\":\"text\",\"text\":"
	    "\"and this\"}]},"
	    "{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\","
	    "\"id\":\"c1\",\"name\":\"grep\",\"input\":{\"p\":\"x\"}},{\"type\""
	    ":"
	    "\"tool_use\",\"id\":\"c2\",\"name\":\"ls\",\"input\":{}}]},"
	    "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\","
	    "\"tool_use_id\":\"c1\",\"content\":\"found\"},{\"type\":"
	    "\"tool_result\",\"tool_use_id\":\"c2\",\"is_error\":true},"
	    "{\"type\":\"text\",\"text\":\"go on\"}]},"
	    "{\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":"
	    "\"Done.\"}]}]}",
	    "anthropic: image sources, tool_use blocks, tool results as user "
	    "turns, same-role turns merged, empty ones dropped");
	is_str(body(AU_MF_ANTHROPIC, "{\"messages\":[{\"role\":\"user\","
	    "\"content\":\"x\"},{\"role\":\"assistant\",\"tool_calls\":[{\"id\""
	    ":"
	    "\"t\",\"name\":\"shot\"}]},{\"role\":\"tool\",\"tool_call_id\":\"t"
	    "\","
	    "\"content\":[{\"type\":\"text\",\"text\":\"here\"},{\"type\":"
	    "\"image\",\"media_type\":\"image/jpeg\",\"data\":\"AAAA\"}]}]}", 5,
	    0),
	    "{\"model\":\"up-model\",\"max_tokens\":5,\"messages\":[{\"role\":"
	    "\"user\",\"content\":[{\"type\":\"text\",\"text\":\"x\"}]},{\"role"
	    "\":"
	    "\"assistant\",\"content\":[{\"type\":\"tool_use\",\"id\":\"t\","
	    "\"name\":\"shot\",\"input\":{}}]},{\"role\":\"user\",\"content\":"
	    "[{\"type\":\"tool_result\",\"tool_use_id\":\"t\",\"content\":"
	    "[{\"type\":\"text\",\"text\":\"here\"},{\"type\":\"image\","
	    "\"source\":{\"type\":\"base64\",\"media_type\":\"image/jpeg\","
	    "\"data\":\"AAAA\"}}]}]}]}",
	    "anthropic: a tool result with blocks and an image");
	is_str(body(AU_MF_ANTHROPIC, "{\"messages\":[{\"role\":\"user\","
	    "\"content\":\"x\"}],\"tools\":[{\"name\":\"grep\",\"description\":"
	    "\"Search.\",\"input_schema\":{\"type\":\"object\"}},{\"name\":"
	    "\"now\"}],\"tool_choice\":\"required\"}", 5, 0),
	    "{\"model\":\"up-model\",\"max_tokens\":5,\"messages\":[{\"role\":"
	    "\"user\",\"content\":[{\"type\":\"text\",\"text\":\"x\"}]}],"
	    "\"tools\":[{\"name\":\"grep\",\"description\":\"Search.\","
	    "\"input_schema\":{\"type\":\"object\"}},{\"name\":\"now\","
	    "\"input_schema\":{\"type\":\"object\",\"properties\":{}}}],"
	    "\"tool_choice\":{\"type\":\"any\"}}",
	    "anthropic: tools with input_schema, required is any");
	is_str(body(AU_MF_ANTHROPIC, "{\"messages\":[{\"role\":\"user\","
	    "\"content\":\"x\"}],\"tool_choice\":\"auto\"}", 5, 0),
	    "{\"model\":\"up-model\",\"max_tokens\":5,\"messages\":[{\"role\":"
	    "\"user\",\"content\":[{\"type\":\"text\",\"text\":\"x\"}]}],"
	    "\"tool_choice\":{\"type\":\"auto\"}}", "anthropic: auto");
	is_str(body(AU_MF_ANTHROPIC, "{\"messages\":[{\"role\":\"user\","
	    "\"content\":\"x\"}],\"tool_choice\":\"none\"}", 5, 0),
	    "{\"model\":\"up-model\",\"max_tokens\":5,\"messages\":[{\"role\":"
	    "\"user\",\"content\":[{\"type\":\"text\",\"text\":\"x\"}]}],"
	    "\"tool_choice\":{\"type\":\"none\"}}", "anthropic: none");
	is_str(body(AU_MF_ANTHROPIC, "{\"messages\":[{\"role\":\"user\","
	    "\"content\":\"x\"}],\"tool_choice\":{\"name\":\"grep\"}}", 5, 0),
	    "{\"model\":\"up-model\",\"max_tokens\":5,\"messages\":[{\"role\":"
	    "\"user\",\"content\":[{\"type\":\"text\",\"text\":\"x\"}]}],"
	    "\"tool_choice\":{\"type\":\"tool\",\"name\":\"grep\"}}",
	    "anthropic: a named tool");
	is_str(body(AU_MF_ANTHROPIC, "{\"messages\":[{\"role\":\"user\","
	    "\"content\":\"x\"}],\"response_format\":{\"type\":\"json\"}}", 5,
	    0),
	    "{\"model\":\"up-model\",\"max_tokens\":5,\"system\":\"Respond with"
	    " "
	    "one JSON value and nothing else: no prose before or after it, no "
	    "Markdown code fences.\",\"messages\":[{\"role\":\"user\","
	    "\"content\":[{\"type\":\"text\",\"text\":\"x\"}]}]}",
	    "anthropic: JSON mode is an instruction in the system prompt");
	is_str(body(AU_MF_ANTHROPIC, "{\"messages\":[{\"role\":\"user\","
	    "\"content\":\"x\"}],\"tools\":[{\"name\":\"grep\"}],\"tool_choice"
	    "\":"
	    "\"auto\",\"response_format\":{\"type\":\"json_schema\",\"name\":"
	    "\"verdict\",\"schema\":{\"type\":\"object\",\"required\":"
	    "[\"ok\"]}}}", 5, 0),
	    "{\"model\":\"up-model\",\"max_tokens\":5,\"messages\":[{\"role\":"
	    "\"user\",\"content\":[{\"type\":\"text\",\"text\":\"x\"}]}],"
	    "\"tools\":[{\"name\":\"grep\",\"input_schema\":{\"type\":\"object"
	    "\","
	    "\"properties\":{}}},{\"name\":\"au_json_verdict\",\"description\":"
	    "\"Give the answer as this tool's input.\",\"input_schema\":"
	    "{\"type\":\"object\",\"required\":[\"ok\"]}}],\"tool_choice\":"
	    "{\"type\":\"tool\",\"name\":\"au_json_verdict\"}}",
	    "anthropic: a JSON Schema is a forced tool au_json_NAME");
}

static void
test_request_errors(void)
{
	static const struct {
		enum au_mf_wire w;
		const char *req, *err;
	} t[] = {
		{ AU_MF_OPENAI, "[1]", "the request is not an object" },
		{ AU_MF_OPENAI, "{}", "messages: missing" },
		{ AU_MF_OPENAI, "{\"messages\":{}}", "messages: not an array" },
		{ AU_MF_OPENAI, "{\"messages\":[]}", "messages: no message" },
		{ AU_MF_ANTHROPIC, "{\"messages\":[{\"role\":\"system\","
		    "\"content\":\"x\"}]}",
		    "messages: no user or assistant message" },
		{ AU_MF_OPENAI, "{\"messages\":[{\"role\":\"user\",\"content\":"
		    "\"x\"},{\"role\":\"user\"},{\"role\":\"x\"}]}",
		    "messages[2]: unknown role \"x\"" },
		{ AU_MF_OPENAI, "{\"messages\":[{\"content\":\"x\"}]}",
		    "messages[0]: no role" },
		{ AU_MF_ANTHROPIC, "{\"messages\":[\"hi\"]}",
		    "messages[0]: not an object" },
		{ AU_MF_OPENAI, "{\"messages\":[{\"role\":\"user\",\"content\":"
		    "3}]}", "messages[0].content: not a string or an array" },
		{ AU_MF_ANTHROPIC, "{\"messages\":[{\"role\":\"user\","
		    "\"content\":[{\"type\":\"audio\"}]}]}",
		    "messages[0].content[0]: unknown block type \"audio\"" },
		{ AU_MF_OPENAI, "{\"messages\":[{\"role\":\"user\",\"content\":"
		    "[{\"text\":\"x\"}]}]}",
		    "messages[0].content[0]: no type" },
		{ AU_MF_OPENAI, "{\"messages\":[{\"role\":\"user\",\"content\":"
		    "[{\"type\":\"text\",\"text\":1}]}]}",
		    "messages[0].content[0]: no text" },
		{ AU_MF_ANTHROPIC, "{\"messages\":[{\"role\":\"user\","
		    "\"content\":[{\"type\":\"image\",\"data\":\"AA\"}]}]}",
		    "messages[0].content[0]: an image needs a url, or a "
		    "media_type and data" },
		{ AU_MF_OPENAI, "{\"messages\":[{\"role\":\"assistant\","
		    "\"content\":[{\"type\":\"image\",\"url\":\"u\"}]}]}",
		    "messages[0].content[0]: an image in a assistant message" },
		{ AU_MF_OPENAI, "{\"messages\":[{\"role\":\"tool\",\"content\":"
		    "[{\"type\":\"image\",\"url\":\"u\"}],\"tool_call_id\":"
		    "\"c\"}]}",
		    "messages[0].content[0]: an image in a tool message" },
		{ AU_MF_ANTHROPIC, "{\"messages\":[{\"role\":\"tool\","
		    "\"content\":\"x\"}]}", "messages[0]: no tool_call_id" },
		{ AU_MF_OPENAI, "{\"messages\":[{\"role\":\"tool\",\"content\":"
		    "\"x\"}]}", "messages[0]: no tool_call_id" },
		{ AU_MF_ANTHROPIC, "{\"messages\":[{\"role\":\"assistant\","
		    "\"tool_calls\":[{\"id\":\"c\",\"name\":\"f\",\"arguments\""
		    ":"
		    "\"{}\"}]}]}",
		    "messages[0].tool_calls[0].arguments: not an object" },
		{ AU_MF_OPENAI, "{\"messages\":[{\"role\":\"assistant\","
		    "\"tool_calls\":[{\"name\":\"f\"}]}]}",
		    "messages[0].tool_calls[0]: id is not a string" },
		{ AU_MF_OPENAI, "{\"messages\":[{\"role\":\"assistant\","
		    "\"tool_calls\":[{\"id\":\"c\"}]}]}",
		    "messages[0].tool_calls[0]: name is not a string" },
		{ AU_MF_OPENAI, "{\"messages\":[{\"role\":\"assistant\","
		    "\"tool_calls\":{}}]}", "messages[0].tool_calls: not an arr"
		    "ay" },
		{ AU_MF_OPENAI, "{\"system\":[],\"messages\":[]}",
		    "system: not a string" },
		{ AU_MF_OPENAI, "{\"messages\":[{\"role\":\"user\"}],\"tools\":"
		    "{}}", "tools: not an array" },
		{ AU_MF_ANTHROPIC, "{\"messages\":[{\"role\":\"user\","
		    "\"content\":\"x\"}],\"tools\":[{\"name\":\"a\"},"
		    "{\"description\":\"b\"}]}", "tools[1]: name is not a strin"
		    "g" },
		{ AU_MF_OPENAI, "{\"messages\":[{\"role\":\"user\"}],\"tools\":"
		    "[{\"name\":\"a\",\"description\":1}]}",
		    "tools[0]: description is not a string" },
		{ AU_MF_OPENAI, "{\"messages\":[{\"role\":\"user\"}],\"tools\":"
		    "[{\"name\":\"a\",\"input_schema\":true}]}",
		    "tools[0]: input_schema is not an object" },
		{ AU_MF_OPENAI, "{\"messages\":[{\"role\":\"user\"}],"
		    "\"tool_choice\":\"any\"}",
		    "tool_choice: unknown choice \"any\"" },
		{ AU_MF_ANTHROPIC, "{\"messages\":[{\"role\":\"user\","
		    "\"content\":\"x\"}],\"tool_choice\":{\"type\":\"tool\"}}",
		    "tool_choice: not \"auto\", \"none\", \"required\" or "
		    "{\"name\": TOOL}" },
		{ AU_MF_OPENAI, "{\"messages\":[{\"role\":\"user\"}],"
		    "\"response_format\":{\"type\":\"xml\"}}",
		    "response_format: unknown type \"xml\"" },
		{ AU_MF_OPENAI, "{\"messages\":[{\"role\":\"user\"}],"
		    "\"response_format\":{}}", "response_format: no type" },
		{ AU_MF_OPENAI, "{\"messages\":[{\"role\":\"user\"}],"
		    "\"response_format\":{\"type\":\"json_schema\"}}",
		    "response_format: schema is not an object" },
		{ AU_MF_ANTHROPIC, "{\"messages\":[{\"role\":\"user\"}],"
		    "\"response_format\":{\"type\":\"json_schema\",\"schema\":{"
		    "},"
		    "\"name\":\"a b\"}}",
		    "response_format: name must be 1 to 56 letters, digits, '_'"
		    " "
		    "or '-'" },
		{ AU_MF_OPENAI, "{\"messages\":[{\"role\":\"user\"}],"
		    "\"response_format\":{\"type\":\"json_schema\",\"schema\":{"
		    "},"
		    "\"name\":\"\"}}",
		    "response_format: name must be 1 to 56 letters, digits, '_'"
		    " "
		    "or '-'" },
		{ AU_MF_OPENAI, "{\"messages\":[{\"role\":\"user\"}],"
		    "\"max_tokens\":0}", "max_tokens: not a positive integer" },
		{ AU_MF_OPENAI, "{\"messages\":[{\"role\":\"user\"}],"
		    "\"max_tokens\":1.5}",
		    "max_tokens: not a positive integer" },
		{ AU_MF_ANTHROPIC, "{\"messages\":[{\"role\":\"user\","
		    "\"content\":\"x\"}]}",
		    "max_tokens: none given, and Anthropic needs one" },
		{ AU_MF_OPENAI, "{\"messages\":[{\"role\":\"user\"}],"
		    "\"temperature\":\"hot\"}", "temperature: not a number" },
	};
	char want[256];
	size_t i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		snprintf(want, sizeof want, "ERROR: %s", t[i].err);
		is_str(body(t[i].w, t[i].req, 0, 0), want, "refused: %s",
		    t[i].req);
	}
}

/* ---- whole answers ---------------------------------------------------- */

static const char openai_text[] =
    "{\"id\":\"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT\",\"object\":"
    "\"chat.completion\",\"created\":1741569952,\"model\":"
    "\"gpt-4.1-2025-04-14\",\"choices\":[{\"index\":0,\"message\":{\"role\":"
    "\"assistant\",\"content\":\"Hello! How can I assist you today?\","
    "\"refusal\":null,\"annotations\":[]},\"logprobs\":null,"
    "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":19,"
    "\"completion_tokens\":10,\"total_tokens\":29,\"prompt_tokens_details\":"
    "{\"cached_tokens\":4,\"audio_tokens\":0},\"completion_tokens_details\":"
    "{\"reasoning_tokens\":0,\"audio_tokens\":0,"
    "\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}},"
    "\"service_tier\":\"default\",\"system_fingerprint\":\"fp_3b2f4\"}";

static const char openai_tools[] =
    "{\"id\":\"chatcmpl-abc\",\"object\":\"chat.completion\",\"created\":1,"
    "\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"message\":"
    "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":"
    "\"call_Dn2RJJSxzDm49vlVTehseJ0k\",\"type\":\"function\",\"function\":"
    "{\"name\":\"get_weather\",\"arguments\":\"{\\\"location\\\":"
    "\\\"Boston, MA\\\"}\"}},{\"id\":\"call_2\",\"type\":\"function\","
    "\"function\":{\"name\":\"now\",\"arguments\":\"\"}}],\"refusal\":null},"
    "\"logprobs\":null,\"finish_reason\":\"tool_calls\"}],\"usage\":"
    "{\"prompt_tokens\":82,\"completion_tokens\":17,\"total_tokens\":99}}";

static const char anthropic_text[] =
    "{\"id\":\"msg_013Zva2CMHLNnXjNJJKqJ2EF\",\"type\":\"message\",\"role\":"
    "\"assistant\",\"model\":\"claude-sonnet-4-20250514\",\"content\":"
    "[{\"type\":\"text\",\"text\":\"Hi! My name is Claude.\"}],"
    "\"stop_reason\":\"end_turn\",\"stop_sequence\":null,\"usage\":"
    "{\"input_tokens\":2095,\"cache_creation_input_tokens\":100,"
    "\"cache_read_input_tokens\":1000,\"output_tokens\":503,"
    "\"service_tier\":\"standard\"}}";

static const char anthropic_tools[] =
    "{\"id\":\"msg_01Aq9w938a90dw8q\",\"type\":\"message\",\"role\":"
    "\"assistant\",\"model\":\"claude-opus-4-1\",\"content\":[{\"type\":"
    "\"thinking\",\"thinking\":\"hmm\",\"signature\":\"x\"},{\"type\":"
    "\"text\",\"text\":\"I'll check \"},{\"type\":\"text\",\"text\":"
    "\"the weather.\"},{\"type\":\"tool_use\",\"id\":"
    "\"toolu_01A09q90qw90lq917835lq9\",\"name\":\"get_weather\",\"input\":"
    "{\"location\":\"San Francisco, CA\",\"unit\":\"celsius\"}}],"
    "\"stop_reason\":\"tool_use\",\"stop_sequence\":null,\"usage\":"
    "{\"input_tokens\":400,\"output_tokens\":90}}";

static void
test_parse(void)
{
	is_str(parsed(AU_MF_OPENAI, openai_text),
	    "{\"content\":\"Hello! How can I assist you today?\",\"tool_calls\""
	    ":"
	    "[],\"finish_reason\":\"stop\",\"usage\":{\"input_tokens\":19,"
	    "\"output_tokens\":10,\"cached_tokens\":4},\"upstream_model\":"
	    "\"gpt-4.1-2025-04-14\"}", "openai: a text answer");
	is_str(parsed(AU_MF_OPENAI, openai_tools),
	    "{\"content\":\"\",\"tool_calls\":[{\"id\":"
	    "\"call_Dn2RJJSxzDm49vlVTehseJ0k\",\"name\":\"get_weather\","
	    "\"arguments\":{\"location\":\"Boston, MA\"}},{\"id\":\"call_2\","
	    "\"name\":\"now\",\"arguments\":{}}],\"finish_reason\":"
	    "\"tool_calls\",\"usage\":{\"input_tokens\":82,\"output_tokens\":17"
	    ","
	    "\"cached_tokens\":0},\"upstream_model\":\"gpt-4o-mini\"}",
	    "openai: tool calls, arguments parsed, empty ones {}; no cached "
	    "tokens given: 0");
	is_str(parsed(AU_MF_ANTHROPIC, anthropic_text),
	    "{\"content\":\"Hi! My name is Claude.\",\"tool_calls\":[],"
	    "\"finish_reason\":\"stop\",\"usage\":{\"input_tokens\":3195,"
	    "\"output_tokens\":503,\"cached_tokens\":1000},\"upstream_model\":"
	    "\"claude-sonnet-4-20250514\"}",
	    "anthropic: a text answer, input counting cache reads and writes");
	is_str(parsed(AU_MF_ANTHROPIC, anthropic_tools),
	    "{\"content\":\"I'll check the weather.\",\"tool_calls\":[{\"id\":"
	    "\"toolu_01A09q90qw90lq917835lq9\",\"name\":\"get_weather\","
	    "\"arguments\":{\"location\":\"San Francisco, CA\",\"unit\":"
	    "\"celsius\"}}],\"finish_reason\":\"tool_calls\",\"usage\":"
	    "{\"input_tokens\":400,\"output_tokens\":90,\"cached_tokens\":0},"
	    "\"upstream_model\":\"claude-opus-4-1\"}",
	    "anthropic: text blocks joined, thinking left out, tool_use");
	is_str(parsed(AU_MF_ANTHROPIC, "{\"type\":\"message\",\"model\":\"c\","
	    "\"content\":[{\"type\":\"tool_use\",\"id\":\"t\",\"name\":"
	    "\"au_json_verdict\",\"input\":{\"ok\":true,\"why\":\"fine\"}}],"
	    "\"stop_reason\":\"tool_use\",\"usage\":{\"input_tokens\":1,"
	    "\"output_tokens\":2}}"),
	    "{\"content\":\"{\\\"ok\\\":true,\\\"why\\\":\\\"fine\\\"}\","
	    "\"tool_calls\":[],\"finish_reason\":\"stop\",\"usage\":"
	    "{\"input_tokens\":1,\"output_tokens\":2,\"cached_tokens\":0},"
	    "\"upstream_model\":\"c\"}",
	    "anthropic: the JSON-schema tool's input is the content");
	is_str(parsed(AU_MF_OPENAI, "{\"choices\":[{\"message\":{\"content\":"
	    "null,\"refusal\":\"I can't help with that.\"},\"finish_reason\":"
	    "\"stop\"}]}"),
	    "{\"content\":\"I can't help with that.\",\"tool_calls\":[],"
	    "\"finish_reason\":\"content_filter\",\"usage\":{\"input_tokens\":0"
	    ","
	    "\"output_tokens\":0,\"cached_tokens\":0},\"upstream_model\":null}",
	    "openai: a refusal is the content, content_filter; no usage, no "
	    "model");
	is_str(parsed(AU_MF_OPENAI, "{\"choices\":[{\"message\":{\"content\":"
	    "null,\"function_call\":{\"name\":\"f\",\"arguments\":"
	    "\"{\\\"a\\\":1}\"}},\"finish_reason\":\"function_call\"}]}"),
	    "{\"content\":\"\",\"tool_calls\":[{\"id\":\"call_0\",\"name\":\"f"
	    "\","
	    "\"arguments\":{\"a\":1}}],\"finish_reason\":\"tool_calls\","
	    "\"usage\":{\"input_tokens\":0,\"output_tokens\":0,"
	    "\"cached_tokens\":0},\"upstream_model\":null}",
	    "openai: the old function_call");
}

static void
test_finish_reasons(void)
{
	static const struct {
		enum au_mf_wire w;
		const char *reason, *want;
	} t[] = {
		{ AU_MF_OPENAI, "\"stop\"", "\"stop\"" },
		{ AU_MF_OPENAI, "\"length\"", "\"length\"" },
		{ AU_MF_OPENAI, "\"tool_calls\"", "\"tool_calls\"" },
		{ AU_MF_OPENAI, "\"function_call\"", "\"tool_calls\"" },
		{ AU_MF_OPENAI, "\"content_filter\"", "\"content_filter\"" },
		{ AU_MF_OPENAI, "null", "null" },
		{ AU_MF_OPENAI, "\"bogus\"", "null" },
		{ AU_MF_ANTHROPIC, "\"end_turn\"", "\"stop\"" },
		{ AU_MF_ANTHROPIC, "\"stop_sequence\"", "\"stop\"" },
		{ AU_MF_ANTHROPIC, "\"pause_turn\"", "\"stop\"" },
		{ AU_MF_ANTHROPIC, "\"max_tokens\"", "\"length\"" },
		{ AU_MF_ANTHROPIC, "\"model_context_window_exceeded\"",
		    "\"length\"" },
		{ AU_MF_ANTHROPIC, "\"tool_use\"", "\"tool_calls\"" },
		{ AU_MF_ANTHROPIC, "\"refusal\"", "\"content_filter\"" },
		{ AU_MF_ANTHROPIC, "null", "null" },
		{ AU_MF_ANTHROPIC, "\"bogus\"", "null" },
	};
	char text[256], want[64];
	const char *got, *p;
	size_t i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		if (t[i].w == AU_MF_OPENAI)
			snprintf(text, sizeof text, "{\"choices\":[{\"message\""
			    ":"
			    "{\"content\":\"x\"},\"finish_reason\":%s}]}",
			    t[i].reason);
		else
			snprintf(text, sizeof text, "{\"type\":\"message\","
			    "\"content\":[],\"stop_reason\":%s}", t[i].reason);
		got = parsed(t[i].w, text);
		p = strstr(got, "\"finish_reason\":");
		snprintf(want, sizeof want, "\"finish_reason\":%s,", t[i].want);
		ok(p != NULL && strncmp(p, want, strlen(want)) == 0,
		    "%s %s is %s", t[i].w == AU_MF_OPENAI ? "openai" :
		    "anthropic", t[i].reason, t[i].want);
	}
}

static void
test_parse_errors(void)
{
	static const struct {
		enum au_mf_wire w;
		const char *body, *err;
	} t[] = {
		{ AU_MF_OPENAI, "", "malformed response: invalid JSON: "
		    "expected a value" },
		{ AU_MF_OPENAI, "{\"id\":\"chatcmpl-1\",\"choices\":[{\"mess",
		    "malformed response: invalid JSON: " },
		{ AU_MF_ANTHROPIC, "[]", "malformed response: not a JSON "
		    "object" },
		{ AU_MF_OPENAI, "{\"choices\":{}}", "malformed response: no "
		    "choices" },
		{ AU_MF_OPENAI, "{\"choices\":[]}", "malformed response: no "
		    "choices" },
		{ AU_MF_OPENAI, "{\"choices\":[{\"text\":\"x\"}]}",
		    "malformed response: choices[0] has no message" },
		{ AU_MF_OPENAI, "{\"choices\":[{\"message\":{\"content\":5}}]}",
		    "malformed response: the content is not a string" },
		{ AU_MF_OPENAI, "{\"choices\":[{\"message\":{\"tool_calls\":"
		    "\"x\"}}]}", "malformed response: tool_calls is not an "
		    "array" },
		{ AU_MF_OPENAI, "{\"choices\":[{\"message\":{\"tool_calls\":"
		    "[7]}}]}", "malformed response: a tool call that is not an "
		    "object" },
		{ AU_MF_OPENAI, "{\"choices\":[{\"message\":{\"tool_calls\":"
		    "[{\"id\":\"c\",\"function\":{\"name\":\"f\",\"arguments\":"
		    "5}}]}}]}", "malformed response: tool call arguments that "
		    "are not a string" },
		{ AU_MF_OPENAI, "{\"choices\":[{\"message\":{\"tool_calls\":"
		    "[{\"id\":\"c\",\"function\":{\"name\":\"grep\",\"arguments"
		    "\":"
		    "\"{\\\"pattern\\\": \\\"x\"}}]}}]}",
		    "malformed response: the arguments of tool call \"grep\" "
		    "are not a JSON object" },
		{ AU_MF_OPENAI, "{\"choices\":[{\"message\":{\"tool_calls\":"
		    "[{\"id\":\"c\",\"function\":{\"name\":\"grep\",\"arguments"
		    "\":"
		    "\"[1]\"}}]}}]}",
		    "malformed response: the arguments of tool call \"grep\" "
		    "are not a JSON object" },
		{ AU_MF_OPENAI, "{\"choices\":[{\"message\":{\"tool_calls\":"
		    "[{\"id\":\"c\",\"function\":{\"arguments\":\"{}\"}}]}}]}",
		    "malformed response: tool call 0 has no name" },
		{ AU_MF_ANTHROPIC, "{\"type\":\"message\"}",
		    "malformed response: no content" },
		{ AU_MF_ANTHROPIC, "{\"type\":\"message\",\"content\":[{\"type"
		    "\":"
		    "\"tool_use\",\"id\":\"t\",\"name\":\"f\",\"input\":\"{}\"}"
		    "]}",
		    "malformed response: a tool_use block without a name or an "
		    "input object" },
		{ AU_MF_ANTHROPIC, "{\"type\":\"error\",\"error\":{\"type\":"
		    "\"overloaded_error\",\"message\":\"Overloaded\"}}",
		    "the provider's error: overloaded_error: Overloaded" },
		{ AU_MF_OPENAI, "{\"error\":{\"message\":\"The model `x` does "
		    "not exist\",\"type\":\"invalid_request_error\"}}",
		    "the provider's error: invalid_request_error: The model `x`"
		    " "
		    "does not exist" },
		{ AU_MF_OPENAI, "{\"error\":\"model not loaded\"}",
		    "the provider's error: model not loaded" },
	};
	char want[256];
	const char *got;
	size_t i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		snprintf(want, sizeof want, "ERROR: %s", t[i].err);
		got = parsed(t[i].w, t[i].body);
		/* JSON errors name the place: compare the start only. */
		if (strstr(t[i].err, "invalid JSON") != NULL)
			ok(strncmp(got, want, strlen(want)) == 0,
			    "malformed: %s (%s)", t[i].body, got);
		else
			is_str(got, want, "malformed: %s", t[i].body);
	}
}

static char *
errmsg(enum au_mf_wire w, const char *body)
{
	return au_mf_error_message(w, body, strlen(body));
}

static void
test_error_message(void)
{
	static char big[1024];
	char *m;
	size_t n;

	is_str_free(errmsg(AU_MF_OPENAI, "{\"error\":"
	    "{\"message\":\"Incorrect API key provided: sk-...abcd.\",\"type\":"
	    "\"invalid_request_error\",\"param\":null,\"code\":"
	    "\"invalid_api_key\"}}"),
	    "Incorrect API key provided: sk-...abcd.", "openai's error body");
	is_str_free(errmsg(AU_MF_ANTHROPIC, "{\"type\":\"error\","
	    "\"error\":{\"type\":\"rate_limit_error\",\"message\":\"Number of "
	    "request tokens has exceeded your per-minute rate limit\"},"
	    "\"request_id\":\"req_011CSHoEeqs5C35K2UUqR7Fy\"}"),
	    "Number of request tokens has exceeded your per-minute rate limit",
	    "anthropic's error body");
	is_str_free(errmsg(AU_MF_OPENAI, "{\"error\":\"model "
	    "'llama3' not found\"}"), "model 'llama3' not found",
	    "an error string (Ollama)");
	is_str_free(errmsg(AU_MF_OPENAI, "{\"message\":\"bad "
	    "gateway\"}"), "bad gateway", "a message at the top");
	is_str_free(errmsg(AU_MF_ANTHROPIC, "{\"error\":"
	    "{\"message\":\"line\\none\\ttab\\u0007bell\\u007f\"}}"),
	    "line one tabbell", "control characters out, white space as "
	    "spaces");
	is_str_free(errmsg(AU_MF_OPENAI, "<html>502</html>"),
	    NULL, "not JSON: NULL");
	is_str_free(errmsg(AU_MF_OPENAI, "{\"error\":{\"code\":"
	    "5}}"), NULL, "no message: NULL");
	is_str_free(errmsg(AU_MF_OPENAI, "{\"error\":{\"message\":"
	    "\"\\n \"}}"), NULL, "an empty message: NULL");
	memcpy(big, "{\"error\":{\"message\":\"", 21);
	n = 21;
	while (n < 21 + 298)
		big[n++] = 'a';
	/* A two-byte character across byte 300. */
	while (n < 21 + 600) {
		big[n++] = '\xc3';
		big[n++] = '\xa9';
	}
	memcpy(big + n, "\"}}", 3);
	n += 3;
	m = au_mf_error_message(AU_MF_OPENAI, big, n);
	ok(m != NULL && strlen(m) == 303 && strcmp(m + 300, "...") == 0 &&
	    memcmp(m + 298, "\xc3\xa9", 2) == 0,
	    "a long message cut at 300 bytes, not inside a character, "
	    "with \"...\"");
	free(m);
}

/* ---- streams ---------------------------------------------------------- */

/* What a stream gave: each delta, and how each event ended. */
struct run {
	struct au_mf_stream *s;
	struct au_buf out;
};

static int
on_event(const char *event, const char *data, size_t len, void *arg)
{
	struct run *r = arg;
	jv delta;
	char *err;
	int rc = au_mf_stream_event(r->s, event, data, len, &delta, &err);

	if (jv_is_valid(delta)) {
		au_json_dump(&r->out, delta);
		au_buf_addc(&r->out, '\n');
	}
	jv_free(delta);
	if (rc == 1)
		au_buf_adds(&r->out, "COMPLETE\n");
	if (rc < 0) {
		au_buf_addf(&r->out, "ERROR: %s\n", err);
		free(err);
		return 1;
	}
	free(err);
	return 0;
}

/* The deltas and the result of the stream text s fed split at at, each
 * line of deltas ending in LF, then "RESULT " and the result. */
static char *
stream_at(enum au_mf_wire w, const char *s, size_t at)
{
	struct run r = { au_mf_stream_new(w), AU_BUF_INIT };
	struct au_sse *p = au_sse_new(0);
	size_t n = strlen(s);

	au_buf_adds(&r.out, "");
	if (au_sse_feed(p, s, at, on_event, &r) == 0)
		au_sse_feed(p, s + at, n - at, on_event, &r);
	au_buf_adds(&r.out, "RESULT ");
	au_buf_adds(&r.out, str(au_mf_stream_result(r.s)));
	au_sse_free(p);
	au_mf_stream_free(r.s);
	return r.out.s;
}

static int
starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static char *
stream(enum au_mf_wire w, const char *s)
{
	return stream_at(w, s, 0);
}

/* Whether s gives the same at every split as whole. */
static void
every_split(enum au_mf_wire w, const char *s, const char *name)
{
	char *whole = stream(w, s), *got;
	size_t at, n = strlen(s), bad = 0;

	for (at = 1; at < n; at++) {
		got = stream_at(w, s, at);
		if (strcmp(got, whole) != 0 && bad++ == 0)
			printf("# split at %zu:\n%s\n", at, got);
		free(got);
	}
	free(whole);
	is_int(bad, 0, "%s: the same deltas and result split at each of "
	    "%zu positions", name, n - 1);
}

#define OA_CHUNK(delta, finish) \
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\"," \
    "\"created\":1694268190,\"model\":\"gpt-4o-2024-08-06\"," \
    "\"system_fingerprint\":\"fp_44709d6fcb\",\"choices\":[{\"index\":0," \
    "\"delta\":" delta ",\"logprobs\":null,\"finish_reason\":" finish \
    "}],\"usage\":null}\n\n"

static const char oa_stream[] =
    OA_CHUNK("{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null}",
	"null")
    OA_CHUNK("{\"content\":\"Hello\"}", "null")
    OA_CHUNK("{\"content\":\", wörld\"}", "null")
    OA_CHUNK("{}", "\"stop\"")
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\","
    "\"created\":1694268190,\"model\":\"gpt-4o-2024-08-06\","
    "\"system_fingerprint\":\"fp_44709d6fcb\",\"choices\":[],\"usage\":"
    "{\"prompt_tokens\":9,\"completion_tokens\":3,\"total_tokens\":12,"
    "\"prompt_tokens_details\":{\"cached_tokens\":2}}}\n\n"
    "data: [DONE]\n\n";

/* Two parallel calls, the first's arguments in eight fragments. */
static const char oa_tools[] =
    OA_CHUNK("{\"role\":\"assistant\",\"content\":null,\"tool_calls\":"
	"[{\"index\":0,\"id\":\"call_a\",\"type\":\"function\",\"function\":"
	"{\"name\":\"get_weather\",\"arguments\":\"\"}}]}", "null")
    OA_CHUNK("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":"
	"\"{\\\"\"}}]}", "null")
    OA_CHUNK("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":"
	"\"loc\"}}]}", "null")
    OA_CHUNK("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":"
	"\"ation\"}}]}", "null")
    OA_CHUNK("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":"
	"\"\\\":\\\"\"}}]}", "null")
    OA_CHUNK("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":"
	"\"Par\"}}]}", "null")
    OA_CHUNK("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":"
	"\"is, \"}}]}", "null")
    OA_CHUNK("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":"
	"\"FR\"}}]}", "null")
    OA_CHUNK("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":"
	"\"\\\"}\"}}]}", "null")
    OA_CHUNK("{\"tool_calls\":[{\"index\":1,\"id\":\"call_b\",\"type\":"
	"\"function\",\"function\":{\"name\":\"now\",\"arguments\":\"\"}}]}",
	"null")
    OA_CHUNK("{\"tool_calls\":[{\"index\":1,\"function\":{\"arguments\":"
	"\"{}\"}}]}", "null")
    OA_CHUNK("{}", "\"tool_calls\"")
    "data: [DONE]\n\n";

static void
test_openai_stream(void)
{
	char *s;

	is_str_free(stream(AU_MF_OPENAI, oa_stream),
	    "{\"text\":\"Hello\"}\n"
	    "{\"text\":\", wörld\"}\n"
	    "COMPLETE\n"
	    "RESULT {\"content\":\"Hello, wörld\",\"tool_calls\":[],"
	    "\"finish_reason\":\"stop\",\"usage\":{\"input_tokens\":9,"
	    "\"output_tokens\":3,\"cached_tokens\":2},\"upstream_model\":"
	    "\"gpt-4o-2024-08-06\"}",
	    "openai stream: text deltas, usage from the last chunk, [DONE]");
	every_split(AU_MF_OPENAI, oa_stream, "openai text stream");
	is_str_free(stream(AU_MF_OPENAI, oa_tools),
	    "{\"tool_call\":{\"index\":0,\"id\":\"call_a\",\"name\":"
	    "\"get_weather\",\"arguments\":\"\"}}\n"
	    "{\"tool_call\":{\"index\":0,\"arguments\":\"{\\\"\"}}\n"
	    "{\"tool_call\":{\"index\":0,\"arguments\":\"loc\"}}\n"
	    "{\"tool_call\":{\"index\":0,\"arguments\":\"ation\"}}\n"
	    "{\"tool_call\":{\"index\":0,\"arguments\":\"\\\":\\\"\"}}\n"
	    "{\"tool_call\":{\"index\":0,\"arguments\":\"Par\"}}\n"
	    "{\"tool_call\":{\"index\":0,\"arguments\":\"is, \"}}\n"
	    "{\"tool_call\":{\"index\":0,\"arguments\":\"FR\"}}\n"
	    "{\"tool_call\":{\"index\":0,\"arguments\":\"\\\"}\"}}\n"
	    "{\"tool_call\":{\"index\":1,\"id\":\"call_b\",\"name\":\"now\","
	    "\"arguments\":\"\"}}\n"
	    "{\"tool_call\":{\"index\":1,\"arguments\":\"{}\"}}\n"
	    "COMPLETE\n"
	    "RESULT {\"content\":\"\",\"tool_calls\":[{\"id\":\"call_a\","
	    "\"name\":\"get_weather\",\"arguments\":{\"location\":"
	    "\"Paris, FR\"}},{\"id\":\"call_b\",\"name\":\"now\",\"arguments\":"
	    "{}}],\"finish_reason\":\"tool_calls\",\"usage\":{\"input_tokens\":"
	    "0,\"output_tokens\":0,\"cached_tokens\":0},\"upstream_model\":"
	    "\"gpt-4o-2024-08-06\"}",
	    "openai stream: two calls, arguments in many fragments; no usage "
	    "chunk: 0");
	every_split(AU_MF_OPENAI, oa_tools, "openai tool stream");
	is_str_free(stream(AU_MF_OPENAI, OA_CHUNK("{\"content\":\"par\"}",
	    "null") "data: {\"error\":{\"message\":\"The server had an error\","
	    "\"type\":\"server_error\"}}\n\n"),
	    "{\"text\":\"par\"}\n"
	    "ERROR: server_error: The server had an error\n"
	    "RESULT {\"content\":\"par\",\"tool_calls\":[],\"finish_reason\":"
	    "null,\"usage\":{\"input_tokens\":0,\"output_tokens\":0,"
	    "\"cached_tokens\":0},\"upstream_model\":\"gpt-4o-2024-08-06\"}",
	    "openai stream: an error chunk stops it; the result so far has no "
	    "finish_reason");
	is_str_free(stream(AU_MF_OPENAI, OA_CHUNK("{\"content\":\"a\"}",
	    "null") "data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"delta\":"
	    "{\"content\":\"b\"\n\n"),
	    "{\"text\":\"a\"}\n"
	    "ERROR: malformed event: invalid JSON: expected ',' or '}'\n"
	    "RESULT {\"content\":\"a\",\"tool_calls\":[],\"finish_reason\":null"
	    ","
	    "\"usage\":{\"input_tokens\":0,\"output_tokens\":0,"
	    "\"cached_tokens\":0},\"upstream_model\":\"gpt-4o-2024-08-06\"}",
	    "openai stream: a truncated chunk");
	s = stream(AU_MF_OPENAI, "data: [1]\n\n");
	ok(starts(s, "ERROR: malformed event: not a JSON object\n"),
	    "openai stream: a chunk that is not an object");
	free(s);
	s = stream(AU_MF_OPENAI, "data: {\"choices\":[{\"delta\":7}]}\n\n");
	ok(starts(s, "ERROR: malformed event: a delta that is not an "
	    "object\n"), "openai stream: a delta not an object");
	free(s);
	s = stream(AU_MF_OPENAI, "data: {\"choices\":{}}\n\n");
	ok(starts(s, "ERROR: malformed event: choices is not an array\n"),
	    "openai stream: choices not an array");
	free(s);
	is_str_free(stream(AU_MF_OPENAI, OA_CHUNK("{\"tool_calls\":[{\"index\":"
	    "0,\"id\":\"c\",\"function\":{\"name\":\"f\",\"arguments\":"
	    "\"{\\\"a\\\":\"}}]}", "null") OA_CHUNK("{}", "\"tool_calls\"")
	    "data: [DONE]\n\n"),
	    "{\"tool_call\":{\"index\":0,\"id\":\"c\",\"name\":\"f\","
	    "\"arguments\":\"{\\\"a\\\":\"}}\n"
	    "COMPLETE\n"
	    "RESULT ERROR: malformed response: the arguments of tool call "
	    "\"f\" are not a JSON object",
	    "openai stream: arguments that never make JSON");
	is_str_free(stream(AU_MF_OPENAI, "data: {\"choices\":[{\"index\":1,"
	    "\"delta\":{\"content\":\"other\"}},{\"index\":0,\"delta\":"
	    "{\"content\":\"mine\",\"refusal\":null}}]}\n\n"),
	    "{\"text\":\"mine\"}\n"
	    "RESULT {\"content\":\"mine\",\"tool_calls\":[],\"finish_reason\":"
	    "null,\"usage\":{\"input_tokens\":0,\"output_tokens\":0,"
	    "\"cached_tokens\":0},\"upstream_model\":null}",
	    "openai stream: only choice 0 counts; a stream cut short");
}

#define AN_EVENT(name, data) "event: " name "\ndata: " data "\n\n"

static const char an_stream[] =
    AN_EVENT("message_start", "{\"type\":\"message_start\",\"message\":"
	"{\"id\":\"msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY\",\"type\":"
	"\"message\",\"role\":\"assistant\",\"content\":[],\"model\":"
	"\"claude-sonnet-4-5-20250929\",\"stop_reason\":null,"
	"\"stop_sequence\":null,\"usage\":{\"input_tokens\":472,"
	"\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":100,"
	"\"output_tokens\":2}}}")
    AN_EVENT("content_block_start", "{\"type\":\"content_block_start\","
	"\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}")
    AN_EVENT("ping", "{\"type\": \"ping\"}")
    AN_EVENT("content_block_delta", "{\"type\":\"content_block_delta\","
	"\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":"
	"\"Okay, let me \"}}")
    AN_EVENT("content_block_delta", "{\"type\":\"content_block_delta\","
	"\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":"
	"\"check.\"}}")
    AN_EVENT("content_block_stop", "{\"type\":\"content_block_stop\","
	"\"index\":0}")
    AN_EVENT("content_block_start", "{\"type\":\"content_block_start\","
	"\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":"
	"\"toolu_01T1x1fJ34qAmk2tNTrN7Up6\",\"name\":\"get_weather\","
	"\"input\":{}}}")
    AN_EVENT("content_block_delta", "{\"type\":\"content_block_delta\","
	"\"index\":1,\"delta\":{\"type\":\"input_json_delta\","
	"\"partial_json\":\"\"}}")
    AN_EVENT("content_block_delta", "{\"type\":\"content_block_delta\","
	"\"index\":1,\"delta\":{\"type\":\"input_json_delta\","
	"\"partial_json\":\"{\\\"location\\\":\"}}")
    AN_EVENT("content_block_delta", "{\"type\":\"content_block_delta\","
	"\"index\":1,\"delta\":{\"type\":\"input_json_delta\","
	"\"partial_json\":\" \\\"San Fra\"}}")
    AN_EVENT("content_block_delta", "{\"type\":\"content_block_delta\","
	"\"index\":1,\"delta\":{\"type\":\"input_json_delta\","
	"\"partial_json\":\"ncisco\\\"}\"}}")
    AN_EVENT("content_block_stop", "{\"type\":\"content_block_stop\","
	"\"index\":1}")
    AN_EVENT("message_delta", "{\"type\":\"message_delta\",\"delta\":"
	"{\"stop_reason\":\"tool_use\",\"stop_sequence\":null},\"usage\":"
	"{\"output_tokens\":89}}")
    AN_EVENT("message_stop", "{\"type\":\"message_stop\"}");

static void
test_anthropic_stream(void)
{
	char *s;

	is_str_free(stream(AU_MF_ANTHROPIC, an_stream),
	    "{\"text\":\"Okay, let me \"}\n"
	    "{\"text\":\"check.\"}\n"
	    "{\"tool_call\":{\"index\":0,\"id\":"
	    "\"toolu_01T1x1fJ34qAmk2tNTrN7Up6\",\"name\":\"get_weather\","
	    "\"arguments\":\"\"}}\n"
	    "{\"tool_call\":{\"index\":0,\"arguments\":\"{\\\"location\\\":\"}}"
	    "\n"
	    "{\"tool_call\":{\"index\":0,\"arguments\":\" \\\"San Fra\"}}\n"
	    "{\"tool_call\":{\"index\":0,\"arguments\":\"ncisco\\\"}\"}}\n"
	    "COMPLETE\n"
	    "RESULT {\"content\":\"Okay, let me check.\",\"tool_calls\":[{\"id"
	    "\":"
	    "\"toolu_01T1x1fJ34qAmk2tNTrN7Up6\",\"name\":\"get_weather\","
	    "\"arguments\":{\"location\":\"San Francisco\"}}],"
	    "\"finish_reason\":\"tool_calls\",\"usage\":{\"input_tokens\":572,"
	    "\"output_tokens\":89,\"cached_tokens\":100},\"upstream_model\":"
	    "\"claude-sonnet-4-5-20250929\"}",
	    "anthropic stream: text, a tool_use in fragments, ping ignored, "
	    "usage from message_start and message_delta");
	every_split(AU_MF_ANTHROPIC, an_stream, "anthropic stream");
	is_str_free(stream(AU_MF_ANTHROPIC,
	    AN_EVENT("message_start", "{\"type\":\"message_start\",\"message\":"
	    "{\"model\":\"claude\",\"usage\":{\"input_tokens\":10,"
	    "\"output_tokens\":1}}}")
	    AN_EVENT("content_block_start", "{\"type\":\"content_block_start\","
	    "\"index\":0,\"content_block\":{\"type\":\"tool_use\",\"id\":\"t\","
	    "\"name\":\"au_json_verdict\",\"input\":{}}}")
	    AN_EVENT("content_block_delta", "{\"type\":\"content_block_delta\","
	    "\"index\":0,\"delta\":{\"type\":\"input_json_delta\","
	    "\"partial_json\":\"{\\\"ok\\\": \"}}")
	    AN_EVENT("content_block_delta", "{\"type\":\"content_block_delta\","
	    "\"index\":0,\"delta\":{\"type\":\"input_json_delta\","
	    "\"partial_json\":\"true}\"}}")
	    AN_EVENT("message_delta", "{\"type\":\"message_delta\",\"delta\":"
	    "{\"stop_reason\":\"tool_use\"},\"usage\":{\"input_tokens\":12,"
	    "\"cache_read_input_tokens\":3,\"output_tokens\":7}}")
	    AN_EVENT("message_stop", "{\"type\":\"message_stop\"}")),
	    "{\"text\":\"{\\\"ok\\\": \"}\n"
	    "{\"text\":\"true}\"}\n"
	    "COMPLETE\n"
	    "RESULT {\"content\":\"{\\\"ok\\\": true}\",\"tool_calls\":[],"
	    "\"finish_reason\":\"stop\",\"usage\":{\"input_tokens\":15,"
	    "\"output_tokens\":7,\"cached_tokens\":3},\"upstream_model\":"
	    "\"claude\"}",
	    "anthropic stream: the JSON-schema tool streams as text; "
	    "message_delta's input counts win");
	is_str_free(stream(AU_MF_ANTHROPIC,
	    AN_EVENT("content_block_start", "{\"type\":\"content_block_start\","
	    "\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}")
	    AN_EVENT("content_block_delta", "{\"type\":\"content_block_delta\","
	    "\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}")
	    AN_EVENT("error", "{\"type\":\"error\",\"error\":{\"type\":"
	    "\"overloaded_error\",\"message\":\"Overloaded\"}}")),
	    "{\"text\":\"Hi\"}\n"
	    "ERROR: overloaded_error: Overloaded\n"
	    "RESULT {\"content\":\"Hi\",\"tool_calls\":[],\"finish_reason\":"
	    "null,\"usage\":{\"input_tokens\":0,\"output_tokens\":0,"
	    "\"cached_tokens\":0},\"upstream_model\":null}",
	    "anthropic stream: an error event");
	is_str_free(stream(AU_MF_ANTHROPIC,
	    "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
	    "{\"type\":\"text_delta\",\"text\":\"no event line\"}}\n\n"
	    "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
	    "{\"type\":\"thinking_delta\",\"thinking\":\"hmm\"}}\n\n"
	    "event: future_event\ndata: {\"type\":\"future_event\"}\n\n"
	    "data: {\"type\":\"message_stop\"}\n\n"),
	    "{\"text\":\"no event line\"}\n"
	    "COMPLETE\n"
	    "RESULT {\"content\":\"no event line\",\"tool_calls\":[],"
	    "\"finish_reason\":null,\"usage\":{\"input_tokens\":0,"
	    "\"output_tokens\":0,\"cached_tokens\":0},\"upstream_model\":null}",
	    "anthropic stream: the type from the data; thinking and unknown "
	    "events ignored");
	s = stream(AU_MF_ANTHROPIC, AN_EVENT("content_block_delta",
	    "{\"type\":\"content_block_delta\",\"index\":3,\"delta\":{\"type\":"
	    "\"input_json_delta\",\"partial_json\":\"{\"}}"));
	ok(starts(s, "ERROR: malformed event: input_json_delta for no "
	    "tool_use block\n"), "anthropic stream: arguments for "
	    "no tool_use");
	free(s);
	s = stream(AU_MF_ANTHROPIC, AN_EVENT("content_block_delta",
	    "{\"type\":\"content_block_delta\",\"delta\":{\"type\":"
	    "\"text_delta\",\"text\":\"x\"}}"));
	ok(starts(s, "ERROR: malformed event: content_block_delta without "
	    "an index or a type\n"), "anthropic stream: a delta "
	    "without an index");
	free(s);
	s = stream(AU_MF_ANTHROPIC, AN_EVENT("content_block_start",
	    "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":"
	    "{\"type\":\"tool_use\",\"id\":\"t\"}}"));
	ok(starts(s, "ERROR: malformed event: a tool_use block without a "
	    "name\n"), "anthropic stream: a tool_use without a name");
	free(s);
	s = stream(AU_MF_ANTHROPIC, AN_EVENT("message_start",
	    "{\"type\":\"message_start\",\"message\":{\"model\":\"c\"}"));
	ok(starts(s, "ERROR: malformed event: invalid JSON: "),
	    "anthropic stream: truncated JSON");
	free(s);
	s = stream(AU_MF_ANTHROPIC, AN_EVENT("error", "{\"type\":\"error\"}"));
	ok(starts(s, "ERROR: an error event without a message\n"),
	    "anthropic stream: an error event without a message");
	free(s);
}

/* Every proper prefix of a whole answer is malformed; every prefix of a
 * stream gives no end and a result or an error, never a crash or a
 * leak (the sanitizer build checks). */
static void
test_prefixes(void)
{
	static const struct {
		enum au_mf_wire w;
		const char *text;
	} whole[] = {
		{ AU_MF_OPENAI, openai_text }, { AU_MF_OPENAI, openai_tools },
		{ AU_MF_ANTHROPIC, anthropic_text },
		{ AU_MF_ANTHROPIC, anthropic_tools },
	}, streams[] = {
		{ AU_MF_OPENAI, oa_stream }, { AU_MF_OPENAI, oa_tools },
		{ AU_MF_ANTHROPIC, an_stream },
	};
	size_t i, n, k, bad;
	char *cut, *got;
	jv r;

	for (i = 0; i < sizeof whole / sizeof whole[0]; i++) {
		n = strlen(whole[i].text);
		for (k = bad = 0; k < n; k++) {
			r = au_mf_response_parse(whole[i].w, whole[i].text, k);
			if (jv_is_valid(r) || !starts(str(r),
			    "ERROR: malformed response: "))
				bad++;
		}
		is_int(bad, 0, "each of the %zu prefixes of whole answer %zu "
		    "is malformed", n, i);
	}
	for (i = 0; i < sizeof streams / sizeof streams[0]; i++) {
		n = strlen(streams[i].text);
		for (k = bad = 0; k < n; k++) {
			cut = au_xstrndup(streams[i].text, k);
			got = stream(streams[i].w, cut);
			if (strstr(got, "COMPLETE") != NULL ||
			    strstr(got, "RESULT ") == NULL)
				bad++;
			free(got);
			free(cut);
		}
		is_int(bad, 0, "each of the %zu prefixes of stream %zu ends "
		    "incomplete with a result", n, i);
	}
}

int
main(void)
{
	test_openai_request();
	test_anthropic_request();
	test_request_errors();
	test_parse();
	test_finish_reasons();
	test_parse_errors();
	test_error_message();
	test_openai_stream();
	test_anthropic_stream();
	test_prefixes();
	return done();
}
