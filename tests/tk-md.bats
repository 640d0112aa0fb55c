#!/usr/bin/env bats
# tk-md: documents to Markdown.  The fixtures are made at test time by
# tools independent of us, from the sources committed in tests/tk-md/:
# pandoc writes DOCX and PPTX from Markdown, LibreOffice (started once for
# the suite, with a profile of its own) writes XLSX from CSV; what neither
# can make (number formats, merged cells, slides whose frames are out of
# reading order) is written to the letter of ECMA-376 by mkxlsx.py,
# spans.py and frames.py.  Outputs are compared with golden Markdown by
# diff -u.  Hostile files (truncated, bombs, entities, missing parts,
# wrong content types) each say which file and why, exit 65, and the
# other files still convert.

load helper

F=$BATS_TEST_DIRNAME/tk-md

setup_file() {
	command -v pandoc >/dev/null && command -v soffice >/dev/null || return 0
	cd "$BATS_FILE_TMPDIR" || return 1
	convert -size 4x4 xc:red red.png 2>/dev/null ||
	    printf 'P3 1 1 255 255 0 0\n' >red.png
	pandoc "$F/report.md" -o report.docx
	pandoc "$F/deck.md" -o deck.pptx
	cp "$F/sheet.csv" sheet.csv
	soffice -env:UserInstallation="file://$BATS_FILE_TMPDIR/lo" --headless \
	    --convert-to xlsx sheet.csv >lo.out 2>&1
}

setup() {
	home
	X=$BATS_FILE_TMPDIR
}

# needs TOOL...: skip unless every tool is there.
needs() {
	for t; do
		command -v "$t" >/dev/null || skip "$t missing (make deps)"
	done
}

# zipped OUT PY: a zip written by python3's zipfile, PY the body of a
# "with zipfile.ZipFile(OUT, 'w', zipfile.ZIP_DEFLATED) as z:" block,
# with the members of report.docx at hand as src.
zipped() {
	python3 - "$1" "$X/report.docx" <<PY
import sys, zipfile
src = zipfile.ZipFile(sys.argv[2])
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
$2
PY
}

@test "plain text and Markdown pass through unchanged, from a file or stdin" {
	tk-md "$F/notes.md" | diff -u "$F/notes.md" -
	tk-md <"$F/notes.md" | diff -u "$F/notes.md" -
	tk-md - <"$F/notes.md" | diff -u "$F/notes.md" -
}

@test "CSV and TSV: a GFM table, the delimiter sniffed, RFC 4180 quoting" {
	tk-md "$F/people.csv" | diff -u "$F/people.md" -
	python3 -c 'import csv,sys; w=csv.writer(sys.stdout, delimiter="\t", lineterminator="\r\n"); [w.writerow(r) for r in csv.reader(open(sys.argv[1]))]' \
	    "$F/people.csv" >people.tsv
	tk-md people.tsv | diff -u "$F/people.md" -
	tr , ';' <"$F/people.csv" | sed 's/;\(in 1843\);/,\1,/' >semi.csv
	run tk-md --records semi.csv
	assert_equal "$(jq -r .format <<<"$output")" csv
	assert_equal "$(jq -r .rows <<<"$output")" 3
	assert_equal "$(tk-md --records people.tsv | jq -r .format)" tsv
}

@test "CSV: one long record among many short ones is padded within --max-size, else refused, 65" {
	# 100 records of two fields (what the sniffer reads), one of 100001
	# and 100000 of one: padded, 10^10 cells from 500 KB.
	python3 -c 'import sys; sys.stdout.write("a,b\n" * 100 + "," * 100000 + "\n" + "x\n" * 100000)' >wide.csv
	run --separate-stderr tk-md -o wide.md wide.csv
	assert_failure 65
	assert_equal "$stderr" "tk-md: wide.csv: a table of 100101 by 100001 cells, more than --max-size allows"
	[ ! -s wide.md ]
	python3 -c 'import sys; sys.stdout.write("a,b\n" * 100 + ",,,z\nx\n")' >pad.csv
	run tk-md --max-size 3264 pad.csv
	assert_success
	assert_equal "${#lines[@]}" 103
	assert_line --index 0 '| a | b |  |  |'
	assert_line --index 101 "|  |  |  | z |"
	assert_line --index 102 '| x |  |  |  |'
	run --separate-stderr tk-md --max-size 3263 pad.csv
	assert_failure 65
	assert_equal "$stderr" "tk-md: pad.csv: a table of 102 by 4 cells, more than --max-size allows"
}

@test "JSON: an array of objects is a table, anything else a fenced block; NDJSON alike" {
	printf '[{"a":1,"b":"x|y"},{"b":null,"c":[1,2],"a":true}]\n' >rows.json
	run tk-md rows.json
	assert_success
	assert_output "$(printf '%s\n' '| a | b | c |' '| --- | --- | --- |' '| 1 | x\|y |  |' '| true |  | \[1,2\] |')"
	printf '{"a":1}\n{"a":2,"b":"z"}\n' >rows.ndjson
	run tk-md --records rows.ndjson
	assert_equal "$(jq -r .format <<<"$output")" ndjson
	assert_equal "$(jq -r .markdown <<<"$output")" "$(printf '%s\n' '| a | b |' '| --- | --- |' '| 1 |  |' '| 2 | z |')"
	printf '{"name":"x","list":[1,"```"]}' >one.json
	run tk-md one.json
	assert_output "$(printf '%s\n' '````json' '{' '  "name": "x",' '  "list": [' '    1,' '    "```"' '  ]' '}' '````')"
}

@test "DOCX from pandoc: headings, emphasis, code, links, lists, table, footnote, image" {
	needs pandoc
	tk-md "$X/report.docx" | diff -u "$F/report.docx.md" -
}

@test "DOCX: merged cells (gridSpan, vMerge) keep the grid" {
	needs pandoc
	python3 "$F/spans.py" "$X/report.docx" spans.docx
	run tk-md spans.docx
	assert_success
	assert_output --partial "$(printf '%s\n' '| Name | Both halves |  |' '| --- | --- | --- |' '| Group | a | b |' '|  | c | d |')"
}

@test "DOCX: --extract-media writes the image beneath DIR and links it there; one it cannot write is 74" {
	needs pandoc
	run tk-md --extract-media media "$X/report.docx"
	assert_success
	assert_output --partial '![A red square](media/report-rId23.png)'
	cmp media/report-rId23.png <(unzip -p "$X/report.docx" word/media/rId23.png)
	# A link planted in DIR is not followed.
	rm media/report-rId23.png
	ln -s "$BATS_TEST_TMPDIR/victim" media/report-rId23.png
	run --separate-stderr tk-md --extract-media media "$X/report.docx" "$F/notes.md"
	assert_failure 74
	assert [ ! -e "$BATS_TEST_TMPDIR/victim" ]
	assert_output --partial '![A red square](word/media/rId23.png)'
	diff -u "$F/notes.md" <(tail -n "$(wc -l <"$F/notes.md")" <<<"$output")
	assert_equal "$stderr" "tk-md: media/report-rId23.png: cannot create: Too many levels of symbolic links"
}

@test "PPTX from pandoc: slides in order with titles, lists, a table, links, notes" {
	needs pandoc
	tk-md "$X/deck.pptx" | diff -u "$F/deck.pptx.md" -
	run tk-md --records "$X/deck.pptx"
	echo "$output" | valid
	assert_equal "$(jq -c '[.format, .title, .slides]' <<<"$output")" '["pptx","Launch Plan",4]'
}

@test "PPTX: frames in reading order, placed by their own position, their layout's, their master's, through groups; one unplaced keeps tree order" {
	needs pandoc
	python3 "$F/frames.py" "$X/deck.pptx" frames.pptx
	tk-md frames.pptx | diff -u "$F/frames.pptx.md" -
}

@test "PPTX: a slide whose layout is missing or malformed keeps tree order and converts" {
	needs pandoc
	python3 "$F/frames.py" "$X/deck.pptx" broken.pptx broken
	run --separate-stderr tk-md broken.pptx
	assert_success
	assert_equal "$stderr" ""
	diff -u "$F/frames-broken.pptx.md" - <<<"$output"
}

@test "PPTX: placeholders by the thousand, on a slide and in its layout, are each found in log time" {
	needs pandoc
	python3 - "$X/deck.pptx" many.pptx <<-'PY'
	import sys, zipfile
	def sp(ph, pos, text):
	    xfrm = f'<a:xfrm><a:off x="0" y="{pos}"/></a:xfrm>' if pos else ""
	    return (f'<p:sp><p:nvSpPr><p:cNvPr id="3" name=""/><p:cNvSpPr/><p:nvPr>{ph}</p:nvPr>'
	            f'</p:nvSpPr><p:spPr>{xfrm}</p:spPr><p:txBody><a:bodyPr/><a:p><a:r>'
	            f'<a:t>{text}</a:t></a:r></a:p></p:txBody></p:sp>')
	last = '<p:ph idx="999999"/>'
	slide = sp("", 5000000, "Below") + sp(last, 0, "") * 20000 + sp(last, 0, "Placed")
	layout = "".join(sp(f'<p:ph type="t{i}" idx="{i}"/>', 0, "") for i in range(20000))
	layout += sp(last, 1, "")
	src = zipfile.ZipFile(sys.argv[1])
	with zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_DEFLATED) as z:
	    for item in src.infolist():
	        d = src.read(item.filename)
	        if item.filename == "ppt/slides/slide4.xml":
	            d = d.replace(b"</p:spTree>", slide.encode() + b"</p:spTree>")
	        elif item.filename == "ppt/slideLayouts/slideLayout2.xml":
	            d = d.replace(b"</p:spTree>", layout.encode() + b"</p:spTree>")
	        z.writestr(item, d)
	PY
	# Each placeholder looked up by a walk of the layout took minutes.
	run --separate-stderr timeout 20 tk-md many.pptx
	assert_success
	diff -u - <(sed -n '/^## Slide 4/,$p' <<<"$output") <<-'EOF'
	## Slide 4: Links

	- Placed

	See the [site](https://example.org) for more.

	Below
	EOF
}

@test "PPTX: a slide of no frames is its heading alone (under SAN: no qsort of NULL)" {
	needs pandoc
	python3 - "$X/deck.pptx" empty.pptx <<-'PY'
	import re, sys, zipfile
	src = zipfile.ZipFile(sys.argv[1])
	with zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_DEFLATED) as z:
	    for item in src.infolist():
	        d = src.read(item.filename)
	        if item.filename == "ppt/slides/slide4.xml":
	            d = re.sub(rb"</p:grpSpPr>.*</p:spTree>", b"</p:grpSpPr></p:spTree>", d, flags=re.S)
	        z.writestr(item, d)
	PY
	run --separate-stderr tk-md empty.pptx
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(tail -n 2 <<<"$output")" "$(printf '\n## Slide 4')"
}

@test "XLSX from LibreOffice: the same table as the CSV it came from" {
	needs soffice
	[ -s "$X/sheet.xlsx" ] || fail "LibreOffice made no sheet.xlsx: $(cat "$X/lo.out")"
	run tk-md "$X/sheet.xlsx"
	assert_success
	assert_equal "$(head -2 <<<"$output")" "$(printf '## sheet\n\n')"
	diff -u <(tk-md "$F/sheet.csv") <(tail -n +3 <<<"$output")
	assert_equal "$(tk-md --records "$X/sheet.xlsx" | jq -c '[.format, .sheets]')" '["xlsx",1]'
}

@test "XLSX: number formats, dates, booleans, errors, formulas, merges, sheet order" {
	python3 "$F/mkxlsx.py" formats.xlsx
	tk-md formats.xlsx | diff -u "$F/formats.xlsx.md" -
	# The same members stored rather than deflated.
	python3 -c 'import sys, zipfile; s = zipfile.ZipFile(sys.argv[1]); z = zipfile.ZipFile(sys.argv[2], "w"); [z.writestr(i, s.read(i)) for i in s.namelist()]; z.close()' formats.xlsx stored.xlsx
	tk-md stored.xlsx | diff -u "$F/formats.xlsx.md" -
	python3 "$F/mkxlsx.py" f1904.xlsx 1904
	run tk-md f1904.xlsx
	assert_line '| date | 16-Jan-28 |  |'
	assert_line '| built-in date | 1904-01-02 |  |'
}

# sheetvariant OUT PY: ok.xlsx (from mkxlsx.py) with its sheet2.xml, as d,
# changed by the python3 statement PY.
sheetvariant() {
	python3 - "$1" "$2" <<-'PY'
	import sys, zipfile
	src = zipfile.ZipFile("ok.xlsx")
	with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
	    for i in src.namelist():
	        d = src.read(i)
	        if i == "xl/worksheets/sheet2.xml":
	            exec(sys.argv[2])
	        z.writestr(i, d)
	PY
}

@test "XLSX: the sheet scanner resolves references, CDATA, prefixes and a BOM, across blocks" {
	python3 "$F/mkxlsx.py" ok.xlsx
	sheetvariant refs.xlsx 'd = b"\xef\xbb\xbf" + d.replace(b"<c r=\"B1\" t=\"inlineStr\"><is><t>value</t></is></c>", b"<!-- a note --><c r=\"B&#49;\" t=\"inlineStr\"><is><t>a &amp; b &lt;c&gt; &#233;&#x263A; <![CDATA[x<y]]></t></is></c>").replace(b"<row r=\"2\">", b"<x:row xmlns:x=\"urn:x\" r=\"2\">").replace(b"</c></row><row r=\"3\">", b"</c></x:row><row r=\"3\">", 1)'
	run tk-md refs.xlsx
	assert_success
	assert_line '| kind | a & b \<c\> é☺ x\<y |  |'
	assert_line '| thousands | 1,234,567.89 |  |'
	# 30000 rows of references and values with a ">", deflated and
	# stored, so that tokens fall across the blocks libarchive hands over.
	python3 - <<-'PY'
	import zipfile
	src = zipfile.ZipFile("ok.xlsx")
	rows = "".join(f'<row r="{i}" spans="1:2" note="a>b>c"><c r="A{i}" t="inlineStr"><is><t>r&amp;{i}&#x263A;</t></is></c><c r="B{i}"><v>{i}.5</v></c></row>' for i in range(1, 30001))
	sheet = f'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{rows}</sheetData></worksheet>'
	for name, how in ("long.xlsx", zipfile.ZIP_DEFLATED), ("longst.xlsx", zipfile.ZIP_STORED):
	    with zipfile.ZipFile(name, "w", how) as z:
	        for i in src.namelist():
	            z.writestr(i, sheet if i == "xl/worksheets/sheet2.xml" else src.read(i))
	with open("long.md", "w") as f:
	    f.write("| r&1☺ | 1.5 |\n| --- | --- |\n")
	    f.write("".join(f"| r&{i}☺ | {i}.5 |\n" for i in range(2, 30001)))
	PY
	tk-md long.xlsx | awk '/^## /{ s = $0 == "## Numbers"; next } s && NF' | diff -u long.md -
	tk-md longst.xlsx | awk '/^## /{ s = $0 == "## Numbers"; next } s && NF' | diff -u long.md -
}

@test "XLSX: rows and cells out of order or twice (the later wins), a merged range as large as a sheet" {
	python3 "$F/mkxlsx.py" ok.xlsx
	python3 - <<-'PY'
	import zipfile
	src = zipfile.ZipFile("ok.xlsx")
	head = '<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
	c = lambda r, v: f'<c r="{r}"><v>{v}</v></c>'
	order = head + '<row r="3">' + c("A3", 1) + c("B3", 2) + c("A3", 9) + '</row><row r="1">' + c("A1", 3) + '</row><row r="2">' + c("B2", 4) + '</row><row r="1">' + c("B1", 5) + '</row></sheetData></worksheet>'
	merged = head + '<row r="1">' + c("A1", 1) + c("B1", 2) + '</row><row r="2">' + c("A2", 4) + c("B2", 5) + '</row></sheetData><mergeCells><mergeCell ref="A1:XFD1000000"/></mergeCells></worksheet>'
	for name, sheet in ("order.xlsx", order), ("merged.xlsx", merged):
	    with zipfile.ZipFile(name, "w") as z:
	        for i in src.namelist():
	            z.writestr(i, sheet if i == "xl/worksheets/sheet2.xml" else src.read(i))
	PY
	numbers() { awk '/^## /{ s = $0 == "## Numbers"; next } s && NF'; }
	tk-md order.xlsx | numbers | diff -u - <(printf '%s\n' '| 3 | 5 |' '| --- | --- |' '|  | 4 |' '| 9 | 2 |')
	# Only the cells read are looked at, not each cell of the range.
	timeout 20 tk-md merged.xlsx | numbers | diff -u - <(printf '%s\n' '| 1 |' '| --- |')
}

@test "XLSX: a sheet whose cells' text outgrows --max-size is refused, 65, though its XML is small" {
	python3 "$F/mkxlsx.py" ok.xlsx
	# 200 cells of a format that writes 1000 bytes of literal text: 200 KB
	# of table from a sheet of a few KB.
	python3 - <<-'PY'
	import zipfile
	src = zipfile.ZipFile("ok.xlsx")
	ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
	styles = f'<?xml version="1.0"?><styleSheet {ns}><numFmts><numFmt numFmtId="164" formatCode="&quot;{"x" * 1000}&quot;0"/></numFmts><cellXfs><xf numFmtId="0"/><xf numFmtId="164"/></cellXfs></styleSheet>'
	rows = "".join(f'<row r="{i}"><c r="A{i}" s="1"><v>{i}</v></c></row>' for i in range(1, 201))
	sheet = f'<?xml version="1.0"?><worksheet {ns}><sheetData>{rows}</sheetData></worksheet>'
	with zipfile.ZipFile("wide.xlsx", "w") as z:
	    for i in src.namelist():
	        z.writestr(i, sheet if i == "xl/worksheets/sheet2.xml" else styles if i == "xl/styles.xml" else src.read(i))
	PY
	run --separate-stderr tk-md --max-size 64K wide.xlsx
	assert_failure 65
	assert_equal "$stderr" "tk-md: wide.xlsx: xl/worksheets/sheet2.xml: too large"
	run tk-md wide.xlsx
	assert_success
	assert_line "| x$(printf 'x%.0s' $(seq 999))200 |"
}

@test "XLSX: a sheet whose elements all carry a prefix (x:c, as the Open XML SDK writes) reads as one without" {
	python3 "$F/mkxlsx.py" ok.xlsx
	sheetvariant prefixed.xlsx 'import re; d = re.sub(rb"<(/?)(?![?!])", rb"<\1x:", d).replace(b"<x:worksheet xmlns=", b"<x:worksheet xmlns:x=")'
	run tk-md prefixed.xlsx
	assert_success
	assert_line '| thousands | 1,234,567.89 |  |'
	diff -u <(tk-md ok.xlsx) <(tk-md prefixed.xlsx)
}

@test "XLSX: merged ranges of the whole sheet, one or twice, cost only the cells read" {
	python3 "$F/mkxlsx.py" ok.xlsx
	sheetvariant whole.xlsx 'd = d.replace(b"A14:A15", b"A1:XFD1048576")'
	sheetvariant twice.xlsx 'd = d.replace(b"<mergeCell ref=\"A14:A15\"/>", b"<mergeCell ref=\"A1:XFD1048576\"/>" * 2)'
	# 17 G cells walked one by one took minutes.
	run timeout 20 tk-md whole.xlsx
	assert_success
	assert_line --index 0 '## Numbers'
	assert_line --index 1 '| kind |'
	assert_line --index 2 '| --- |'
	timeout 20 tk-md whole.xlsx >whole.md
	timeout 20 tk-md twice.xlsx | diff -u whole.md -
}

@test "XLSX: a part that is not UTF-8 is refused on one line, libxml2's second one joined to it" {
	python3 "$F/mkxlsx.py" ok.xlsx
	python3 - <<-'PY'
	import zipfile
	src = zipfile.ZipFile("ok.xlsx")
	with zipfile.ZipFile("latin1.xlsx", "w", zipfile.ZIP_DEFLATED) as z:
	    for i in src.namelist():
	        d = src.read(i)
	        z.writestr(i, d.replace(b"<numFmts", b"<!-- caf\xe9 --><numFmts") if i == "xl/styles.xml" else d)
	PY
	run --separate-stderr tk-md latin1.xlsx
	assert_failure 65
	assert_equal "$stderr" "tk-md: latin1.xlsx: xl/styles.xml: malformed XML: line 2: Input is not proper UTF-8, indicate encoding ! Bytes: 0xE9 0x20 0x2D 0x2D"
}

@test "XLSX: malformed sheet XML is refused, 65, naming the part and the byte" {
	python3 "$F/mkxlsx.py" ok.xlsx
	sheetvariant open.xlsx 'd = d[:d.index(b"</sheetData>")]'
	sheetvariant other.xlsx 'd = d.replace(b"</is>", b"</it>", 1)'
	sheetvariant entity.xlsx 'd = d.replace(b"<v>1234567.891</v>", b"<v>&nbsp;1</v>")'
	sheetvariant amp.xlsx 'd = d.replace(b"<v>1234567.891</v>", b"<v>1 & 2</v>")'
	sheetvariant charref.xlsx 'd = d.replace(b"<v>1234567.891</v>", b"<v>&#0;</v>")'
	sheetvariant unquoted.xlsx 'd = d.replace(b"<c r=\"B2\"", b"<c r=B2")'
	sheetvariant after.xlsx 'd = d + b"junk"'
	sheetvariant cut.xlsx 'd = d + b"<row"'
	sheetvariant empty.xlsx 'd = b"<?xml version=\"1.0\"?>"'
	sheetvariant latin.xlsx 'd = d.replace(b"<v>1234567.891</v>", b"<v>caf\xe9</v>")'
	# Where each is refused: the byte offset of what python3 finds.
	at() { python3 -c 'import sys, zipfile; d = zipfile.ZipFile(sys.argv[1]).read("xl/worksheets/sheet2.xml"); print(d.rindex(sys.argv[2].encode()) if sys.argv[2] else len(d))' "$@"; }
	run --separate-stderr tk-md open.xlsx other.xlsx entity.xlsx amp.xlsx charref.xlsx unquoted.xlsx after.xlsx cut.xlsx empty.xlsx latin.xlsx "$F/notes.md"
	assert_failure 65
	assert_output "$(cat "$F/notes.md")"
	P=xl/worksheets/sheet2.xml
	assert_equal "$stderr" "$(printf '%s\n' \
	    "tk-md: open.xlsx: $P: malformed XML at byte $(at open.xlsx ''): the end with 2 elements open" \
	    "tk-md: other.xlsx: $P: malformed XML at byte $(at other.xlsx '</it>'): an end tag that closes another element" \
	    "tk-md: entity.xlsx: $P: malformed XML at byte $(at entity.xlsx '&nbsp;'): undefined entity" \
	    "tk-md: amp.xlsx: $P: malformed XML at byte $(at amp.xlsx '& 2'): '&' that starts no reference" \
	    "tk-md: charref.xlsx: $P: malformed XML at byte $(at charref.xlsx '&#0;'): bad character reference" \
	    "tk-md: unquoted.xlsx: $P: malformed XML at byte $(at unquoted.xlsx 'B2 s='): an attribute value not quoted" \
	    "tk-md: after.xlsx: $P: malformed XML at byte $(at after.xlsx 'junk'): text outside the root element" \
	    "tk-md: cut.xlsx: $P: malformed XML at byte $(at cut.xlsx '<row'): the end in the middle of a tag" \
	    "tk-md: empty.xlsx: $P: malformed XML: no element" \
	    "tk-md: latin.xlsx: $P: malformed XML at byte $(($(at latin.xlsx '>caf') + 4)): text not in UTF-8")"
}

@test "--records: one valid document record per file, in order; --probe without Markdown" {
	needs pandoc
	run tk-md --records "$F/notes.md" "$X/report.docx" "$F/people.csv"
	assert_success
	echo "$output" | valid
	assert_equal "$(jq -c '[(.path | sub(".*/"; "")), .format, .title]' <<<"$output")" \
	    "$(printf '%s\n' '["notes.md","text","Field notes"]' '["report.docx","docx","Quarterly Report"]' '["people.csv","csv",null]')"
	assert_equal "$(jq -r .markdown <<<"${lines[1]}")" "$(cat "$F/report.docx.md")"
	assert_equal "$(jq -r .words <<<"${lines[0]}")" 17
	python3 "$F/mkxlsx.py" two.xlsx
	run tk-md --probe "$X/deck.pptx" "$X/report.docx" two.xlsx
	echo "$output" | valid
	assert_equal "$(jq -c '[.format, .title, .slides, .sheets, has("markdown")]' <<<"$output")" \
	    "$(printf '%s\n' '["pptx","Launch Plan",4,null,false]' '["docx","Quarterly Report",null,null,false]' '["xlsx",null,null,2,false]')"
}

@test "-j: files convert in parallel, the output in the order given; -o writes a file" {
	needs pandoc
	tk-md "$X/report.docx" "$X/deck.pptx" "$F/people.csv" "$F/notes.md" >one.md
	tk-md -j 3 "$X/report.docx" "$X/deck.pptx" "$F/people.csv" "$F/notes.md" >three.md
	diff -u one.md three.md
	tk-md -j 2 -o out.md "$X/report.docx" "$X/deck.pptx" "$F/people.csv" "$F/notes.md"
	diff -u one.md out.md
	run tk-md -j 0 x
	assert_failure 64
}

@test "-o: the file appears whole; interrupted, it is left as it was" {
	echo old >out.md
	mkfifo in
	tk-md -o out.md in &
	pid=$!
	exec 5>in
	echo '# half' >&5
	sleep 0.2
	kill -TERM "$pid"
	exec 5>&-
	st=0
	wait "$pid" || st=$?
	assert_equal "$st" 143
	assert_equal "$(cat out.md)" old
	assert_equal "$(find . -maxdepth 1 -name '.out.md*')" ''
	echo '# whole' | tk-md -o out.md -
	assert_equal "$(cat out.md)" '# whole'
	assert_equal "$(find . -maxdepth 1 -name '.out.md*')" ''
	run --separate-stderr tk-md -o no/such/out.md "$F/notes.md"
	assert_failure 73
	assert_equal "$stderr" 'tk-md: no/such/out.md: cannot create: No such file or directory'
}

@test "a missing file and a directory: 66, named, the others still convert" {
	mkdir dir
	run --separate-stderr tk-md nope.docx dir "$F/notes.md"
	assert_failure 66
	assert_equal "$stderr" "$(printf '%s\n' 'tk-md: nope.docx: No such file or directory' 'tk-md: dir: is a directory')"
	diff -u "$F/notes.md" - <<<"$output"
}

@test "hostile zips: truncated, a bomb, --max-size, not a document, missing parts, wrong types" {
	needs pandoc
	head -c 3000 "$X/report.docx" >truncated.docx
	zipped bomb.docx '    z.writestr("[Content_Types].xml", src.read("[Content_Types].xml"))
    z.writestr("word/document.xml", b"\0" * (64 << 20))'
	zipped plain.zip '    z.writestr("hello.txt", "hi")'
	zipped missing.docx '    [z.writestr(i, src.read(i)) for i in src.namelist() if i != "word/document.xml"]'
	zipped types.docx '    [z.writestr(i, src.read(i).replace(b"document.main+xml", b"document+xml")) for i in src.namelist()]'
	run --separate-stderr tk-md truncated.docx bomb.docx plain.zip missing.docx types.docx "$F/notes.md"
	assert_failure 65
	diff -u "$F/notes.md" - <<<"$output"
	diff -u - <(echo "$stderr") <<-'EOF'
	tk-md: truncated.docx: truncated zip (no end of central directory)
	tk-md: bomb.docx: word/document.xml: expands more than 500 times (a zip bomb)
	tk-md: plain.zip: a zip archive, not a document ([Content_Types].xml and mimetype missing)
	tk-md: missing.docx: missing part word/document.xml
	tk-md: types.docx: [Content_Types].xml names no main part of a known document type
	EOF
	run --separate-stderr tk-md --max-size 4K "$X/report.docx"
	assert_failure 65
	assert_equal "$stderr" "tk-md: $X/report.docx: word/document.xml: expands to $(unzip -Zl "$X/report.docx" word/document.xml | awk '{print $4}') bytes, more than 4096 (--max-size)"
}

@test "hostile XML: an external entity and a billion laughs are refused, nothing is read" {
	needs pandoc
	zipped xxe.docx '    [z.writestr(i, src.read(i) if i != "word/document.xml" else b"<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY x SYSTEM \"file:///etc/hostname\">]><w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body><w:p><w:r><w:t>&x;</w:t></w:r></w:p></w:body></w:document>") for i in src.namelist()]'
	zipped lol.docx '    [z.writestr(i, src.read(i) if i != "word/document.xml" else b"<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY a \"aaaaaaaaaa\">" + b"".join(b"<!ENTITY %c \"%s\">" % (98 + k, (b"&%c;" % (97 + k)) * 10) for k in range(9)) + b"]><w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body><w:p><w:r><w:t>&j;</w:t></w:r></w:p></w:body></w:document>") for i in src.namelist()]'
	run --separate-stderr tk-md xxe.docx lol.docx "$F/notes.md"
	assert_failure 65
	refute_output --partial "$(cat /etc/hostname)"
	assert_equal "$stderr" "$(printf '%s\n' 'tk-md: xxe.docx: word/document.xml: document type declaration refused' 'tk-md: lol.docx: word/document.xml: malformed XML: line 1: Detected an entity reference loop')"
	# A sheet is streamed, and refused alike.
	python3 "$F/mkxlsx.py" ok.xlsx
	python3 - <<-'PY'
	import zipfile
	src = zipfile.ZipFile("ok.xlsx")
	with zipfile.ZipFile("xxe.xlsx", "w") as z:
	    for i in src.namelist():
	        d = src.read(i)
	        if i == "xl/worksheets/sheet2.xml":
	            d = d.replace(b"<worksheet", b'<!DOCTYPE w [<!ENTITY x SYSTEM "file:///etc/hostname">]><worksheet', 1)
	        z.writestr(i, d)
	PY
	run --separate-stderr tk-md xxe.xlsx
	assert_failure 65
	assert_equal "$stderr" "tk-md: xxe.xlsx: xl/worksheets/sheet2.xml: document type declaration refused"
}

@test "binary data, PDF and legacy Office files: 65, by name" {
	printf '\0\1\2\3binary' >blob.bin
	printf '%%PDF-1.4\n' >doc.pdf
	printf '\320\317\021\340\241\261\032\341' >old.doc
	run --separate-stderr tk-md blob.bin doc.pdf old.doc
	assert_failure 65
	assert_equal "$stderr" "$(printf '%s\n' 'tk-md: blob.bin: binary data of no format tk-md knows' 'tk-md: doc.pdf: PDF is not a format tk-md converts' 'tk-md: old.doc: a legacy Office (OLE2) file: tk-md converts only DOCX, XLSX and PPTX')"
}
