#!/usr/bin/python3
"""mkxlsx.py OUT [1904] - a small XLSX written by hand, to the letter of
ECMA-376, for what LibreOffice's CSV import never makes: custom and
built-in number formats, the 1904 date system, booleans, errors, inline
strings, cached formula values, merged cells, empty styled cells past the
data, and sheets whose parts are named out of the workbook's order."""
import sys
import zipfile

out = sys.argv[1]
d1904 = len(sys.argv) > 2 and sys.argv[2] == "1904"
NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ' \
     'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"

types = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/worksheets/sheet2.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>
<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>
</Types>"""
rootrels = f"""<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="{REL}officeDocument" Target="xl/workbook.xml"/></Relationships>"""
workbook = f"""<?xml version="1.0" encoding="UTF-8"?>
<workbook {NS}><workbookPr{' date1904="1"' if d1904 else ''}/><sheets>
<sheet name="Numbers" sheetId="2" r:id="rId2"/><sheet name="Other &amp; more" sheetId="1" r:id="rId1"/>
</sheets></workbook>"""
wbrels = f"""<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="{REL}worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="{REL}worksheet" Target="/xl/worksheets/sheet2.xml"/>
<Relationship Id="rId3" Type="{REL}styles" Target="styles.xml"/>
<Relationship Id="rId4" Type="{REL}sharedStrings" Target="sharedStrings.xml"/></Relationships>"""
fmts = ['#,##0.00', '0.0%', 'd-mmm-yy', 'h:mm AM/PM', '"$"#,##0;("$"#,##0)',
        '0.00E+00', 'yyyy-mm-dd hh:mm:ss', '[Red]0.000;[Blue]-0.000;"zero"']
styles = f"""<?xml version="1.0" encoding="UTF-8"?>
<styleSheet {NS}><numFmts count="{len(fmts)}">""" + "".join(
    f'<numFmt numFmtId="{164 + i}" formatCode="{f.replace(chr(34), "&quot;")}"/>'
    for i, f in enumerate(fmts)) + """</numFmts><cellXfs count="10">
<xf numFmtId="0"/>""" + "".join(f'<xf numFmtId="{164 + i}"/>' for i in range(len(fmts))) + \
    '<xf numFmtId="14"/></cellXfs></styleSheet>'
strings = ["kind", "thousands", "percent", "date", "time", "money", "scientific",
           "datetime", "built-in date", "bool", "error", "formula", "formula text",
           "merged", "sections", "only", "a|pipe *star*"]
sst = f'<?xml version="1.0" encoding="UTF-8"?><sst {NS}>' + "".join(
    f"<si><t>{s}</t></si>" if i != 2 else
    f'<si><r><t>per</t></r><r><rPr><b/></rPr><t>cent</t></r><rPh><t>X</t></rPh></si>'
    for i, s in enumerate(strings)) + "</sst>"


def s(ref, i):
    return f'<c r="{ref}" t="s"><v>{i}</v></c>'


rows = [
    s("A1", 0) + '<c r="B1" t="inlineStr"><is><t>value</t></is></c>',
    s("A2", 1) + '<c r="B2" s="1"><v>1234567.891</v></c>',
    s("A3", 2) + '<c r="B3" s="2"><v>0.125</v></c>',
    s("A4", 3) + '<c r="B4" s="3"><v>45306</v></c>',
    s("A5", 4) + '<c r="B5" s="4"><v>0.6458333333333334</v></c>',
    s("A6", 5) + '<c r="B6" s="5"><v>-1234</v></c>',
    s("A7", 6) + '<c r="B7" s="6"><v>123456</v></c>',
    s("A8", 7) + '<c r="B8" s="7"><v>45306.5</v></c>',
    s("A9", 8) + '<c r="B9" s="9"><v>1</v></c>',
    s("A10", 9) + '<c r="B10" t="b"><v>1</v></c>',
    s("A11", 10) + '<c r="B11" t="e"><v>#DIV/0!</v></c>',
    s("A12", 11) + '<c r="B12"><f>1+1</f><v>2</v></c>',
    s("A13", 12) + '<c r="B13" t="str"><f>"h"&amp;"i"</f><v>hi</v></c>',
    s("A14", 13) + '<c r="B14" t="s"><v>16</v></c>',
    s("A15", 14) + '<c r="B15" s="8"><v>-2.5</v></c><c r="C15" s="8"><v>0</v></c>',
    '<c r="D17" s="1"/>',
]
sheet2 = f'<?xml version="1.0" encoding="UTF-8"?><worksheet {NS}><sheetData>' + "".join(
    f'<row r="{i + 1}">{r}</row>' for i, r in enumerate(rows)) + \
    '</sheetData><mergeCells count="1"><mergeCell ref="A14:A15"/></mergeCells></worksheet>'
sheet1 = f'<?xml version="1.0" encoding="UTF-8"?><worksheet {NS}><sheetData>' \
    '<row r="3"><c r="C3" t="s"><v>15</v></c></row></sheetData></worksheet>'

with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("[Content_Types].xml", types)
    z.writestr("_rels/.rels", rootrels)
    z.writestr("xl/workbook.xml", workbook)
    z.writestr("xl/_rels/workbook.xml.rels", wbrels)
    z.writestr("xl/styles.xml", styles)
    z.writestr("xl/sharedStrings.xml", sst)
    z.writestr("xl/worksheets/sheet1.xml", sheet1)
    z.writestr("xl/worksheets/sheet2.xml", sheet2)
