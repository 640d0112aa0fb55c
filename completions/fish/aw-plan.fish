# fish completion for aw-plan; made by "aw-plan --completion fish", do not edit

complete -c aw-plan -s h -l help -d 'show this help and exit'
complete -c aw-plan -s q -l quiet -d 'report only errors'
complete -c aw-plan -s v -l verbose -d 'report what is being done'
complete -c aw-plan -l version -d 'show the version and exit'
complete -c aw-plan -l db -r -F -d 'use the state file PATH'
complete -c aw-plan -s n -l dry-run -d 'check and print the plan, store nothing'
complete -c aw-plan -s f -l format -x -a 'ndjson dot tsv' -d 'write ndjson (the default), dot or tsv'
complete -c aw-plan -l critical-path -d 'write the longest chain by estimate instead of the plan'
complete -c aw-plan -l goal -x -d 'plan the tasks a planner makes for TEXT'
complete -c aw-plan -l planner-cmd -x -a '(__fish_complete_command)' -d 'the planner to run for --goal'
complete -c aw-plan -l where -x -d 'only records for which the jq expression JQ is true'
complete -c aw-plan -l max-line -x -d 'longest input line accepted (default 16M)'
