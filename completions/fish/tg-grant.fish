# fish completion for tg-grant; made by "tg-grant --completion fish", do not edit

complete -c tg-grant -f -a 'add list revoke'
complete -c tg-grant -s h -l help -d 'show this help and exit'
complete -c tg-grant -s q -l quiet -d 'report only errors'
complete -c tg-grant -s v -l verbose -d 'report what is being done'
complete -c tg-grant -l version -d 'show the version and exit'
complete -c tg-grant -l db -r -F -d 'use the state file PATH'
complete -c tg-grant -l tool -x -d 'add: the tools granted'
complete -c tg-grant -l where -x -d 'add: only calls for which JQ is true'
complete -c tg-grant -l expires -x -d 'add: the grant ends after DUR'
complete -c tg-grant -l note -x -d 'add: why'
complete -c tg-grant -l all -d 'list: expired and revoked grants too'
complete -c tg-grant -l format -x -a 'ndjson table' -d 'write ndjson or table (the default on a terminal)'
