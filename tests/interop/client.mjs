// client.mjs - the official MCP TypeScript SDK's client, driven from
// tests/mcp-interop.bats: it starts COMMAND [ARG ...] as a stdio MCP server
// (tg-serve), and prints one JSON line per answer:
//
//   node client.mjs list COMMAND [ARG ...]
//       every tool of every page of tools/list, following nextCursor:
//       {"pages": N, "tools": [...]}
//   node client.mjs call NAME ARGS_JSON COMMAND [ARG ...]
//       the tools/call result as the SDK validated it
//
// SDK=2 in the environment picks the SDK's second generation.  The
// server's standard error is passed on.  Exit 1 with the SDK's error
// on standard error when the SDK refuses an answer or the server fails.
// The second generation is @modelcontextprotocol/client, the first
// @modelcontextprotocol/sdk.
const v2 = process.env.SDK === "2";
const { Client } = await import(v2 ? "@modelcontextprotocol/client" :
	"@modelcontextprotocol/sdk/client/index.js");
const { StdioClientTransport } = await import(v2 ?
	"@modelcontextprotocol/client/stdio" :
	"@modelcontextprotocol/sdk/client/stdio.js");

const [op, ...rest] = process.argv.slice(2);
let name, args, argv;
if (op === "list") {
	argv = rest;
} else if (op === "call") {
	[name, args, ...argv] = rest;
	args = JSON.parse(args);
} else {
	console.error("usage: node client.mjs list|call [NAME ARGS] COMMAND [ARG ...]");
	process.exit(2);
}
if (argv.length === 0) {
	console.error("client.mjs: no server command");
	process.exit(2);
}

const transport = new StdioClientTransport({
	command: argv[0],
	args: argv.slice(1),
	env: process.env,
	stderr: "inherit",
});
const client = new Client({ name: "agentutils-interop", version: "1" });
try {
	await client.connect(transport);
	if (op === "list") {
		const tools = [];
		let cursor, pages = 0;
		do {
			const r = await client.listTools(cursor ? { cursor } : {});
			tools.push(...r.tools);
			cursor = r.nextCursor;
			pages++;
		} while (cursor);
		console.log(JSON.stringify({
			pages,
			server: client.getServerVersion(),
			protocol: transport.protocolVersion ?? null,
			tools,
		}));
	} else {
		console.log(JSON.stringify(await client.callTool({
			name, arguments: args })));
	}
	await client.close();
} catch (e) {
	console.error(`client.mjs: ${e.message}`);
	await client.close().catch(() => {});
	process.exit(1);
}
