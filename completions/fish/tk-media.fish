# fish completion for tk-media; made by "tk-media --completion fish", do not edit

complete -c tk-media -s h -l help -d 'show this help and exit'
complete -c tk-media -s q -l quiet -d 'report only errors'
complete -c tk-media -s v -l verbose -d 'report what is being done'
complete -c tk-media -l version -d 'show the version and exit'
