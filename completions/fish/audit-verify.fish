# fish completion for audit-verify; made by "audit-verify --completion fish", do not edit

complete -c audit-verify -s h -l help -d 'show this help and exit'
complete -c audit-verify -s q -l quiet -d 'report only errors'
complete -c audit-verify -s v -l verbose -d 'report what is being done'
complete -c audit-verify -l version -d 'show the version and exit'
complete -c audit-verify -l db -r -F -d 'use the state file PATH'
complete -c audit-verify -l key -r -F -d 'decrypt with these keys and check every event'
complete -c audit-verify -l pubkey -r -F -d 'the public key checkpoints are signed with'
complete -c audit-verify -l from -x -d 'start at event SEQ (trusting the one before)'
complete -c audit-verify -s j -l jobs -x -d 'check N parts of the log at once (default: one per processor)'
