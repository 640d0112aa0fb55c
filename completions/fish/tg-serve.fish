# fish completion for tg-serve; made by "tg-serve --completion fish", do not edit

complete -c tg-serve -f
complete -c tg-serve -s h -l help -d 'show this help and exit'
complete -c tg-serve -s q -l quiet -d 'report only errors'
complete -c tg-serve -s v -l verbose -d 'report what is being done'
complete -c tg-serve -l version -d 'show the version and exit'
complete -c tg-serve -l db -r -F -d 'use the state file PATH'
complete -c tg-serve -l tools -r -F -d 'the ToolSpecs in DIR, not tools.d'
complete -c tg-serve -l mcp -r -F -d 'the MCP servers in FILE, not mcp.json'
complete -c tg-serve -l policy -r -F -d 'the policy in FILE, not policy.json'
complete -c tg-serve -l no-wait -d 'file approval requests, do not wait'
complete -c tg-serve -l approval-timeout -x -d 'wait DUR at most for an approval (default 5m)'
complete -c tg-serve -l timeout -x -d 'a call'\''s time unless its spec says (default 60s)'
complete -c tg-serve -l max-output -x -d 'keep SIZE of a tool'\''s output (default 1M)'
complete -c tg-serve -l sandbox -x -a 'firejail none' -d 'firejail (the default) or none'
complete -c tg-serve -l no-audit -d 'keep the calls out of the audit log'
complete -c tg-serve -l page-size -x -d 'tools/list: N tools a page (default 50)'
