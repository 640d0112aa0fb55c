# fish completion for ws-approve; made by "ws-approve --completion fish", do not edit

complete -c ws-approve -f -a 'list show approve deny wait'
complete -c ws-approve -s h -l help -d 'show this help and exit'
complete -c ws-approve -s q -l quiet -d 'report only errors'
complete -c ws-approve -s v -l verbose -d 'report what is being done'
complete -c ws-approve -l version -d 'show the version and exit'
complete -c ws-approve -l db -r -F -d 'use the state file PATH'
complete -c ws-approve -s i -l interactive -d 'walk the pending requests on a terminal'
complete -c ws-approve -l all -d 'list: decided requests too'
complete -c ws-approve -l reason -x -d 'approve, deny: why'
complete -c ws-approve -l always -d 'approve a tool call: and grant the tool from now on'
complete -c ws-approve -l timeout -x -d 'wait: give up after DUR (exit 75)'
complete -c ws-approve -l format -x -a 'ndjson table' -d 'write ndjson or table (the default on a terminal)'
