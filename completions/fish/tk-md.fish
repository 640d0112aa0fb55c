# fish completion for tk-md; made by "tk-md --completion fish", do not edit

complete -c tk-md -s h -l help -d 'show this help and exit'
complete -c tk-md -s q -l quiet -d 'report only errors'
complete -c tk-md -s v -l verbose -d 'report what is being done'
complete -c tk-md -l version -d 'show the version and exit'
complete -c tk-md -s o -l output -r -F -d 'write to FILE instead of standard output'
complete -c tk-md -l records -d 'write one document record per file'
complete -c tk-md -l probe -d 'only detect the format and read the metadata, as records'
complete -c tk-md -l extract-media -r -F -d 'write images to DIR and link them from there'
complete -c tk-md -l max-size -x -d 'expand no zip member, nor all of them, beyond SIZE (default 256M)'
complete -c tk-md -s j -l jobs -x -d 'convert up to N files at once (default 1)'
