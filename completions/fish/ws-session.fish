# fish completion for ws-session; made by "ws-session --completion fish", do not edit

complete -c ws-session -f -a 'list show transcript kill gc open'
complete -c ws-session -s h -l help -d 'show this help and exit'
complete -c ws-session -s q -l quiet -d 'report only errors'
complete -c ws-session -s v -l verbose -d 'report what is being done'
complete -c ws-session -l version -d 'show the version and exit'
complete -c ws-session -l db -r -F -d 'use the state file PATH'
complete -c ws-session -l grace -x -d 'kill: SIGKILL after DUR (default 5s)'
complete -c ws-session -l format -x -a 'ndjson table' -d 'write ndjson or table (the default on a terminal)'
