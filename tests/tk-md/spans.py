#!/usr/bin/python3
"""spans.py IN OUT - IN (a DOCX from pandoc) with its first table replaced
by one with merged cells, which pandoc's Markdown cannot express: a
header cell spanning two columns (w:gridSpan) and a cell merged down two
rows (w:vMerge restart, then continue)."""
import re
import sys
import zipfile


def tc(text, pr=""):
    return f"<w:tc><w:tcPr>{pr}</w:tcPr><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:tc>"


table = ("<w:tbl><w:tblGrid><w:gridCol/><w:gridCol/><w:gridCol/></w:tblGrid>"
         "<w:tr>" + tc("Name") + tc("Both halves", '<w:gridSpan w:val="2"/>') + "</w:tr>"
         "<w:tr>" + tc("Group", '<w:vMerge w:val="restart"/>') + tc("a") + tc("b") + "</w:tr>"
         "<w:tr>" + tc("", "<w:vMerge/>") + tc("c") + tc("d") + "</w:tr></w:tbl>")
with zipfile.ZipFile(sys.argv[1]) as zin, \
        zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_DEFLATED) as zout:
    for item in zin.infolist():
        data = zin.read(item.filename)
        if item.filename == "word/document.xml":
            data = re.sub(rb"<w:tbl>.*?</w:tbl>", table.encode(), data, count=1, flags=re.S)
        zout.writestr(item, data)
