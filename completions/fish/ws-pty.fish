# fish completion for ws-pty; made by "ws-pty --completion fish", do not edit

complete -c ws-pty -f -a 'CMD'
complete -c ws-pty -s h -l help -d 'show this help and exit'
complete -c ws-pty -s q -l quiet -d 'report only errors'
complete -c ws-pty -s v -l verbose -d 'report what is being done'
complete -c ws-pty -l version -d 'show the version and exit'
complete -c ws-pty -l db -r -F -d 'use the state file PATH'
complete -c ws-pty -l cols -x -d 'terminal width (default 80, or the terminal'\''s)'
complete -c ws-pty -l rows -x -d 'terminal height (default 24, or the terminal'\''s)'
complete -c ws-pty -l cast -r -F -d 'record an asciicast v2 file as it goes'
complete -c ws-pty -l no-audit -d 'keep the session out of the audit log'
complete -c ws-pty -l approval-timeout -x -d 'give up waiting for an approval after DUR'
