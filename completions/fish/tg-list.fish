# fish completion for tg-list; made by "tg-list --completion fish", do not edit

complete -c tg-list -f
complete -c tg-list -s h -l help -d 'show this help and exit'
complete -c tg-list -s q -l quiet -d 'report only errors'
complete -c tg-list -s v -l verbose -d 'report what is being done'
complete -c tg-list -l version -d 'show the version and exit'
complete -c tg-list -l db -r -F -d 'use the state file PATH'
complete -c tg-list -l tools -r -F -d 'the ToolSpecs in DIR, not tools.d'
complete -c tg-list -l mcp -r -F -d 'the MCP servers in FILE, not mcp.json'
complete -c tg-list -l policy -r -F -d '--check: the policy in FILE, not policy.json'
complete -c tg-list -l check -d 'check the configuration, list nothing'
complete -c tg-list -l refresh -d 'ask the MCP servers, not the cache'
complete -c tg-list -l ttl -x -d 'cached tools younger than DUR do (1h)'
complete -c tg-list -l sandbox -x -a 'firejail none' -d 'MCP servers in firejail or none'
complete -c tg-list -l format -x -a 'ndjson table' -d 'write ndjson or table (the default on a terminal)'
