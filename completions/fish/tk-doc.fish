# fish completion for tk-doc; made by "tk-doc --completion fish", do not edit

complete -c tk-doc -f -a 'xlsx pptx docx'
complete -c tk-doc -s h -l help -d 'show this help and exit'
complete -c tk-doc -s q -l quiet -d 'report only errors'
complete -c tk-doc -s v -l verbose -d 'report what is being done'
complete -c tk-doc -l version -d 'show the version and exit'
complete -c tk-doc -s o -l output -r -F -d 'write the document to FILE (needed when standard output is a terminal)'
complete -c tk-doc -l from -x -a 'md records' -d 'pptx: the input is Markdown (md) or slide records (records); default: records when it starts with '\''{'\'''
complete -c tk-doc -l sheet-by -x -d 'xlsx: one sheet for each value of FIELD'
complete -c tk-doc -l columns -x -d 'xlsx: these columns (comma-separated), in this order, in one pass'
