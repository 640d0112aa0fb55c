# fish completion for mf-usage; made by "mf-usage --completion fish", do not edit

complete -c mf-usage -f
complete -c mf-usage -s h -l help -d 'show this help and exit'
complete -c mf-usage -s q -l quiet -d 'report only errors'
complete -c mf-usage -s v -l verbose -d 'report what is being done'
complete -c mf-usage -l version -d 'show the version and exit'
complete -c mf-usage -l db -r -F -d 'use the state file PATH'
complete -c mf-usage -l by -x -a 'model provider day run task' -d 'one record per model, provider, day, run or task'
complete -c mf-usage -l since -x -d 'from TIME (RFC 3339, or a duration ago)'
complete -c mf-usage -l until -x -d 'before TIME'
complete -c mf-usage -l budget -d 'spend against each budget of models.json'
complete -c mf-usage -l models -r -F -d 'the models.json to read'
complete -c mf-usage -l format -x -a 'ndjson table' -d 'write ndjson or table (the default on a terminal)'
