# fish completion for tk-serve; made by "tk-serve --completion fish", do not edit

complete -c tk-serve -f -a '(__fish_complete_directories)'
complete -c tk-serve -s h -l help -d 'show this help and exit'
complete -c tk-serve -s q -l quiet -d 'report only errors'
complete -c tk-serve -s v -l verbose -d 'report what is being done'
complete -c tk-serve -l version -d 'show the version and exit'
complete -c tk-serve -l port -x -d 'listen on port N (0: a free one; default 8000)'
complete -c tk-serve -l bind -x -d 'listen on address ADDR (default 127.0.0.1)'
complete -c tk-serve -l dotfiles -d 'list and serve names that begin with a dot'
complete -c tk-serve -l log -d 'write a serve.request record for each request'
