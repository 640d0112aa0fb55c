#!/usr/bin/env bats
# tk-doc: every document it writes is opened by LibreOffice (headless,
# in setup_file: one soffice call for each kind of conversion, for the
# whole suite, as it is slow) and converted, and what LibreOffice read
# is checked: the cells of each sheet as CSV, the text of each slide and
# its notes through a PDF with notes pages (pdftotext, pdfimages), the
# text of each Word document.  The parts and their XML are checked with
# unzip and xmllint; the error paths for their status, their messages
# and the files they leave.

load helper

# The documents LibreOffice converts, made once for the suite.
setup_file() {
	command -v soffice >/dev/null && command -v xmllint >/dev/null &&
	    command -v pdftotext >/dev/null && command -v convert >/dev/null ||
	    return 0
	cd "$BATS_FILE_TMPDIR" || return 1
	mkdir -p docs out
	printf '%s\n' \
	    '{"name":"ann","n":1,"ok":true,"when":"2026-12-01T10:30:00Z","day":"2026-01-02"}' \
	    '{"name":"bob","n":2.5,"ok":false,"tags":["x","y"],"meta":{"k":null}}' \
	    '{"n":-3,"name":null,"when":"2026-12-01T12:00:00+02:00","note":"a, \"quoted\" text"}' \
	    >docs/types.ndjson
	tk-doc xlsx -o docs/types.xlsx docs/types.ndjson
	printf '%s\n' '{"team":"a/b","v":1}' '{"team":"A/B","v":2}' '{"v":3}' \
	    '{"team":"a/b","v":4,"w":"new"}' '{"team":"[x]*?:","v":5}' |
	    tk-doc xlsx --sheet-by team >docs/sheets.xlsx
	printf '%s\n' '{"a":1,"b":2,"c":3}' '{"c":"z","d":4}' |
	    tk-doc xlsx --columns c,a -o docs/cols.xlsx
	convert -size 64x48 xc:red docs/red.png
	convert -size 30x40 xc:blue docs/blue.jpg
	cp "$BATS_TEST_DIRNAME/fixtures/tk-doc/deck.md" \
	    "$BATS_TEST_DIRNAME/fixtures/tk-doc/report.md" docs/
	tk-doc pptx -o docs/mddeck.pptx docs/deck.md
	tk-doc pptx -o docs/recdeck.pptx \
	    "$BATS_TEST_DIRNAME/fixtures/tk-doc/slides.ndjson"
	tk-doc docx -o docs/report.docx docs/report.md
	lo="-env:UserInstallation=file://$BATS_FILE_TMPDIR/lo"
	soffice --headless "$lo" --convert-to \
	    'csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1' \
	    --outdir out docs/*.xlsx >lo.log 2>&1
	soffice --headless "$lo" --convert-to \
	    'pdf:impress_pdf_Export:{"ExportNotesPages":{"type":"boolean","value":"true"}}' \
	    --outdir out docs/*.pptx >>lo.log 2>&1
	soffice --headless "$lo" --convert-to txt:Text --outdir out \
	    docs/*.docx >>lo.log 2>&1
}

setup() {
	home
	command -v soffice >/dev/null && command -v xmllint >/dev/null &&
	    command -v pdftotext >/dev/null && command -v convert >/dev/null ||
	    skip "LibreOffice, xmllint, poppler-utils or ImageMagick missing (make deps)"
	D=$BATS_FILE_TMPDIR
}

# part FILE MEMBER: a member of a zip, as it is, once xmllint has found
# it well-formed.
part() {
	unzip -p "$1" "$2" | xmllint --noout - || return
	unzip -p "$1" "$2"
}

@test "xlsx: columns are the union of the keys, cells keep their types" {
	run cat "$D/out/types-Sheet1.csv"
	assert_output "$(cat <<'CSV'
name,n,ok,when,day,tags,meta,note
ann,1,TRUE,2026-12-01 10:30:00,2026-01-02,,,
bob,2.5,FALSE,,,"[""x"",""y""]","{""k"":null}",
,-3,,2026-12-01 10:00:00,,,,"a, ""quoted"" text"
CSV
)"
	sheet=$(part "$D/docs/types.xlsx" xl/worksheets/sheet1.xml)
	# Numbers and dates are numbers (dates with a date style), booleans
	# booleans, text inline strings.
	assert_regex "$sheet" '<c r="B2"><v>1</v></c>'
	assert_regex "$sheet" '<c r="C3" t="b"><v>0</v></c>'
	assert_regex "$sheet" '<c r="D2" s="[0-9]+"><v>46357.4375</v></c>'
	assert_regex "$sheet" '<c r="E2" s="[0-9]+"><v>46024</v></c>'
	assert_regex "$sheet" '<c r="F3" t="inlineStr">'
}

@test "xlsx: a bold frozen header, an autofilter, widths from the content" {
	sheet=$(part "$D/docs/types.xlsx" xl/worksheets/sheet1.xml)
	assert_regex "$sheet" '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
	assert_regex "$sheet" '<autoFilter ref="A1:H4"/>'
	assert_regex "$sheet" '<c r="A1" s="1" t="inlineStr">'
	assert_regex "$(part "$D/docs/types.xlsx" xl/styles.xml)" '<fonts count="2">.*<font><b/>'
	# "name" (4 + 3 for the filter's button), and the note of 16.
	assert_regex "$sheet" '<col min="1" max="1" width="7\.[0-9]+" customWidth="1"/>'
	assert_regex "$sheet" '<col min="8" max="8" width="18\.[0-9]+" customWidth="1"/>'
	# A long cell makes a column no wider than 60.
	jq -nc '{long: ("x" * 500)}' | tk-doc xlsx -o long.xlsx
	assert_regex "$(part long.xlsx xl/worksheets/sheet1.xml)" '<col min="1" max="1" width="60\.[0-9]+"'
}

@test "xlsx: --sheet-by makes one sheet per value, names sanitised and unique" {
	assert_equal "$(ls "$D/out" | grep '^sheets-')" "$(printf '%s\n' \
	    'sheets-(none).csv' 'sheets-A_B (2).csv' 'sheets-_x____.csv' 'sheets-a_b.csv')"
	assert_equal "$(cat "$D/out/sheets-a_b.csv")" "$(printf '%s\n' team,v,w a/b,1, a/b,4,new)"
	assert_equal "$(cat "$D/out/sheets-A_B (2).csv")" "$(printf '%s\n' team,v A/B,2)"
	assert_equal "$(cat "$D/out/sheets-(none).csv")" "$(printf '%s\n' v 3)"
	assert_regex "$(part "$D/docs/sheets.xlsx" xl/workbook.xml)" 'name="_x____"'
}

@test "xlsx: sheet names longer than 31 characters are cut, and stay unique" {
	a=$(printf 'é%.0s' $(seq 40))
	jq -nc --arg a "$a" '{s: $a}, {s: ($a + "b")}' | tk-doc xlsx --sheet-by s -o long.xlsx
	names=$(part long.xlsx xl/workbook.xml | grep -o 'name="[^"]*"')
	assert_equal "$(sed -n 1p <<<"$names")" "name=\"$(printf 'é%.0s' $(seq 31))\""
	assert_equal "$(sed -n 2p <<<"$names")" "name=\"$(printf 'é%.0s' $(seq 27)) (2)\""
}

@test "xlsx: --columns takes those columns in that order, and no others" {
	assert_equal "$(cat "$D/out/cols-Sheet1.csv")" "$(printf '%s\n' c,a 3,1 z,)"
	run tk-doc xlsx --columns a,,b -o x.xlsx
	assert_failure 64
	assert_line --index 0 'tk-doc: --columns: an empty column name in "a,,b"'
}

@test "xlsx: no records still make a workbook with one empty sheet" {
	run tk-doc xlsx -o empty.xlsx </dev/null
	assert_success
	assert_equal "$(unzip -l empty.xlsx | grep -c 'xl/worksheets/sheet')" 1
}

@test "xlsx: bad lines are reported with file and line, skipped, exit 65" {
	printf '%s\n' '{"a":1}' 'nope' '[1]' '{"a":2}' >bad.ndjson
	run --separate-stderr tk-doc xlsx -o bad.xlsx bad.ndjson
	assert_failure 65
	assert_equal "${stderr_lines[0]}" 'tk-doc: bad.ndjson:2: invalid JSON: invalid literal (column 1)'
	assert_equal "${stderr_lines[1]}" 'tk-doc: bad.ndjson:3: not a JSON object (found array)'
	assert_equal "$(part bad.xlsx xl/worksheets/sheet1.xml | grep -o '<row ' | wc -l)" 3
}

@test "xlsx: a missing input is 66, and the others are still written" {
	echo '{"a":1}' >one.ndjson
	run --separate-stderr tk-doc xlsx -o out.xlsx gone.ndjson one.ndjson
	assert_failure 66
	assert_equal "$stderr" 'tk-doc: gone.ndjson: No such file or directory'
	assert_equal "$(part out.xlsx xl/worksheets/sheet1.xml | grep -o '<row ' | wc -l)" 2
}

@test "output: written whole or not at all, with no temporary file left" {
	echo '{"a":1}' >one.ndjson
	mkdir ro && chmod 555 ro
	if [ "$(id -u)" = 0 ]; then
		# root writes anywhere: a directory where the file should be.
		rmdir ro && mkdir -p ro/out.xlsx
	fi
	run --separate-stderr tk-doc xlsx -o ro/out.xlsx one.ndjson
	assert_failure 73
	assert_regex "$stderr" '^tk-doc: ro/out.xlsx: cannot create'
	assert_equal "$(find ro -name '.*')" ""
	echo old >kept.xlsx
	tk-doc xlsx -o kept.xlsx one.ndjson
	assert_equal "$(unzip -l kept.xlsx | grep -c worksheets/sheet1.xml)" 1
	assert_equal "$(ls -A | grep -c '^\.kept')" 0
	# A new file gets the mode the umask gives, not 0600.
	(umask 022 && tk-doc xlsx -o mode.xlsx one.ndjson)
	assert_equal "$(stat -c %a mode.xlsx)" 644
}

@test "-v says what was written" {
	run --separate-stderr tk-doc -v xlsx --sheet-by k -o v.xlsx <<<'{"k":"a","n":1}'
	assert_success
	assert_equal "$stderr" 'tk-doc: sheet "a": 1 row, 2 columns'
	run --separate-stderr tk-doc -v pptx -o v.pptx <<<'# one'
	assert_equal "$stderr" 'tk-doc: 1 slide'
	run --separate-stderr tk-doc -q docx -o v.docx <<<'# one'
	assert_equal "$stderr" ''
}

@test "output: standard output when it is not a terminal; -o when it is" {
	echo '{"a":1}' | tk-doc xlsx >piped.xlsx
	assert_equal "$(unzip -l piped.xlsx | grep -c worksheets/sheet1.xml)" 1
	run script -qec 'echo "{}" | tk-doc xlsx' /dev/null
	assert_failure 64
	assert_line --index 0 --partial 'tk-doc: standard output is a terminal: name a file with -o'
}

@test "usage: a format is needed, and options go with their format" {
	run tk-doc
	assert_failure 64
	assert_line --index 0 'tk-doc: no format'
	run tk-doc pdf -o x
	assert_failure 64
	assert_line --index 0 'tk-doc: unknown format "pdf"'
	run tk-doc pptx --sheet-by a -o x
	assert_failure 64
	assert_line --index 0 'tk-doc: pptx: --sheet-by and --columns are for xlsx'
	run tk-doc docx --from md -o x
	assert_failure 64
	assert_line --index 0 'tk-doc: docx: --from is for pptx'
	run tk-doc pptx --from html -o x
	assert_failure 64
	assert_line --index 0 'tk-doc: --from: "html" is neither md nor records'
	assert_equal "$(ls -A)" "home"
}

# slides PDF: the text of each page of a deck's PDF, one line a page,
# blanks squeezed.
slides() {
	pdftotext "$1" - | tr -s ' \n' '  ' | tr '\f' '\n' | sed 's/^ //; s/ $//'
}

@test "pptx from Markdown: title slide, bullets by level, a table, an image, notes" {
	run slides "$D/out/mddeck.pdf"
	assert_line --index 0 'The Deck by the team'
	assert_line --index 1 'Plans • first point • second point • nested a • nested b • third emph and code'
	assert_line --index 2 'Numbers name n a 1 b 2'
	assert_line --index 3 'Picture'
	assert_line --index 4 '• Text after a rule'
	# The notes pages follow, one a slide: the quote is the notes of
	# the second.
	assert_regex "${lines[6]}" 'these are speaker notes'
	assert_equal "$(pdfimages -list "$D/out/mddeck.pdf" | awk 'NR > 2 && $1 <= 5 { print $1, $4, $5 }')" '4 64 48'
	d=$D/docs/mddeck.pptx
	assert_regex "$(part "$d" ppt/slides/slide2.xml)" '<a:p><a:pPr lvl="1"/><a:r><a:rPr lang="en-US"/><a:t>nested a</a:t>'
	assert_regex "$(part "$d" ppt/slides/_rels/slide1.xml.rels)" 'Target="../slideLayouts/slideLayout1.xml"'
	assert_regex "$(part "$d" ppt/slides/_rels/slide2.xml.rels)" 'Target="../slideLayouts/slideLayout2.xml"'
	assert_regex "$(part "$d" ppt/slides/slide3.xml)" '<a:tbl><a:tblPr firstRow="1" bandRow="1"/><a:tblGrid><a:gridCol w="10515600"/><a:gridCol w="10515600"/>|<a:gridCol w="5257800"/><a:gridCol w="5257800"/>'
}

@test "pptx: the package has every part, well-formed, in ECMA-376's places" {
	d=$D/docs/mddeck.pptx
	assert_equal "$(unzip -Z1 "$d" | head -1)" '[Content_Types].xml'
	for m in ppt/presentation.xml ppt/_rels/presentation.xml.rels \
	    ppt/slideMasters/slideMaster1.xml ppt/slideLayouts/slideLayout1.xml \
	    ppt/slideLayouts/slideLayout2.xml ppt/theme/theme1.xml \
	    ppt/notesMasters/notesMaster1.xml ppt/theme/theme2.xml \
	    ppt/notesSlides/notesSlide2.xml ppt/media/image1.png _rels/.rels; do
		unzip -Z1 "$d" | grep -qx "$m" || fail "no $m"
	done
	for m in $(unzip -Z1 "$d" | grep -e '\.xml$' -e '\.rels$' | grep -v Content_Types); do
		part "$d" "$m" >/dev/null || fail "$m is not well-formed"
	done
	unzip -p "$d" '\[Content_Types].xml' | xmllint --noout - || fail "bad content types"
	assert_equal "$(part "$d" ppt/presentation.xml | grep -o '<p:sldId ' | wc -l)" 5
	assert_regex "$(unzip -p "$d" '\[Content_Types].xml')" 'PartName="/ppt/notesSlides/notesSlide2.xml"'
	# The same input makes the same bytes.
	(cd "$D" && tk-doc pptx -o "$BATS_TEST_TMPDIR/again.pptx" docs/deck.md)
	cmp again.pptx "$d"
}

@test "pptx from slide records: text, table, image, notes; bad records skipped" {
	run slides "$D/out/recdeck.pdf"
	assert_line --index 0 'Records • one • two deep • three'
	assert_line --index 1 'Side by side • left h1 h2 1 true x'
	assert_line --index 2 'Opening by the records'
	assert_regex "$output" 'notes of the first'
	# Page 2, the second slide (the notes pages show the slides again).
	assert_equal "$(pdfimages -list "$D/out/recdeck.pdf" | awk 'NR > 2 && $1 <= 3 { print $1, $4, $5 }')" '2 30 40'
	cp "$BATS_TEST_DIRNAME/fixtures/tk-doc/slides.ndjson" .
	valid <slides.ndjson
	printf '%s\n' '{"type":"note","title":"x"}' '{"type":"slide","bullets":"no"}' \
	    '{"type":"slide","bullets":[1]}' '{"type":"slide","table":[1]}' \
	    '{"type":"slide","title":3}' '{"type":"slide","image":"gone.png"}' \
	    '{"type":"slide","image":"slides.ndjson"}' >bad.ndjson
	run --separate-stderr tk-doc pptx -o bad.pptx bad.ndjson
	assert_failure 65
	assert_equal "$stderr" "$(cat <<'ERR'
tk-doc: bad.ndjson:1: not a slide record
tk-doc: bad.ndjson:2: bullets: not an array
tk-doc: bad.ndjson:3: bullets: an item is neither a string nor an array
tk-doc: bad.ndjson:4: table: a row is not an array
tk-doc: bad.ndjson:5: title: not a string
tk-doc: bad.ndjson:6: image: gone.png: No such file or directory
tk-doc: bad.ndjson:7: image: slides.ndjson: not a PNG or JPEG image
ERR
)"
	# The two slides whose images failed are still there.
	assert_equal "$(part bad.pptx ppt/presentation.xml | grep -o '<p:sldId ' | wc -l)" 2
	run tk-doc pptx -o gone.pptx <<<'{"type":"slide","image":"gone.png"}'
	assert_failure 66
	# A FIFO is not waited on.
	mkfifo fifo.png
	run --separate-stderr timeout 10 tk-doc pptx -o fifo.pptx <<<'{"type":"slide","image":"fifo.png"}'
	assert_failure 65
	assert_equal "$stderr" 'tk-doc: <stdin>:1: image: fifo.png: not a regular file'
}

@test "pptx: --from md reads Markdown that starts with a brace" {
	printf '{braces} are text\n' >brace.md
	run --separate-stderr tk-doc pptx -o b.pptx brace.md
	assert_failure 65
	assert_regex "$stderr" '^tk-doc: brace.md:1: invalid JSON'
	run tk-doc pptx --from md -o b.pptx brace.md
	assert_success
	assert_regex "$(part b.pptx ppt/slides/slide1.xml)" '<a:t>\{braces\} are text</a:t>'
	run tk-doc pptx --from records -o r.pptx <<<'# not records'
	assert_failure 65
}

@test "docx from Markdown: what LibreOffice reads" {
	run cat "$D/out/report.txt"
	assert_output "$(cat "$BATS_TEST_DIRNAME/golden/tk-doc.report.txt")"
}

@test "docx: styles, numbering, links and images in their parts" {
	d=$D/docs/report.docx
	assert_equal "$(unzip -Z1 "$d" | head -1)" '[Content_Types].xml'
	for m in $(unzip -Z1 "$d" | grep -e '\.xml$' -e '\.rels$' | grep -v Content_Types); do
		part "$d" "$m" >/dev/null || fail "$m is not well-formed"
	done
	doc=$(part "$d" word/document.xml)
	styles=$(part "$d" word/styles.xml)
	for h in 1 2 3 6; do
		assert_regex "$doc" "<w:pStyle w:val=\"Heading$h\"/>"
	done
	for h in 1 2 3 4 5 6; do
		assert_regex "$styles" "w:styleId=\"Heading$h\"><w:name w:val=\"heading $h\"/>"
	done
	assert_regex "$doc" '<w:rPr><w:b/></w:rPr><w:t xml:space="preserve">bold</w:t>'
	assert_regex "$doc" '<w:rPr><w:i/></w:rPr><w:t xml:space="preserve">italic</w:t>'
	assert_regex "$doc" '<w:rPr><w:rStyle w:val="VerbatimChar"/></w:rPr><w:t xml:space="preserve">code</w:t>'
	assert_regex "$doc" '<w:hyperlink r:id="rId3"><w:r><w:rPr><w:rStyle w:val="Hyperlink"/></w:rPr><w:t xml:space="preserve">link</w:t>'
	assert_regex "$(part "$d" word/_rels/document.xml.rels)" 'Id="rId3" Type="[^"]*/hyperlink" Target="https://example.com/a\?b=1&amp;c=2" TargetMode="External"'
	# Two top-level lists and a nested one: three instances, the
	# ordered ones starting where the Markdown says.
	num=$(part "$d" word/numbering.xml)
	assert_equal "$(grep -o '<w:num w:numId' <<<"$num" | wc -l)" 3
	assert_regex "$num" '<w:num w:numId="3"><w:abstractNumId w:val="1"/><w:lvlOverride w:ilvl="0"><w:startOverride w:val="3"/>'
	assert_regex "$doc" '<w:numPr><w:ilvl w:val="1"/><w:numId w:val="2"/></w:numPr>'
	assert_regex "$doc" '<wp:extent cx="609600" cy="457200"/>'
	unzip -Z1 "$d" | grep -qx word/media/image1.png || fail "no image"
}

@test "docx: a missing image is its alt text and exit 66; bad UTF-8 is 65" {
	printf 'see ![the chart](chart.png) here\n' >a.md
	run --separate-stderr tk-doc docx -o a.docx a.md
	assert_failure 66
	assert_equal "$stderr" 'tk-doc: a.md: image: chart.png: No such file or directory'
	assert_regex "$(part a.docx word/document.xml)" '>the chart</w:t>'
	printf 'caf\351\n' >latin1.md
	run --separate-stderr tk-doc docx -o l.docx latin1.md
	assert_failure 65
	assert_equal "$stderr" 'tk-doc: latin1.md: not UTF-8 text'
}

@test "round trips: tk-md reads back what tk-doc wrote" {
	printf '%s\n' '{"name":"ada","n":3,"ok":true,"when":"2026-12-01"}' \
	    '{"name":"bob","n":4.5,"ok":false}' | tk-doc xlsx -o r.xlsx
	run tk-md r.xlsx
	assert_success
	assert_equal "$output" "## Sheet1

| name | n | ok | when |
| --- | --- | --- | --- |
| ada | 3 | TRUE | 2026-12-01 |
| bob | 4.5 | FALSE |  |"
	printf '%s\n' '# Report' '' 'Some *text*, **bold** and `code`.' '' \
	    '- one' '  - nested' '- two' '' '1. first' '2. second' '' \
	    '| a | b |' '|---|---|' '| 1 | 2 |' '' '[a link](https://example.org)' \
	    >r.md
	tk-doc docx -o r.docx r.md
	run tk-md r.docx
	assert_success
	# the header row comes back bold, as tk-doc made it
	assert_equal "$output" "$(sed 's/^| a | b |$/| **a** | **b** |/;
	    s/^|---|---|$/| --- | --- |/' r.md)"
	printf '%s\n' '# Deck' '' '## First' '' '- alpha' '  - deeper' '- beta' \
	    '' '> say hello' '' '## Second' '' '| x | y |' '|---|---|' \
	    '| 1 | 2 |' >d.md
	tk-doc pptx -o d.pptx d.md
	run tk-md d.pptx
	assert_success
	assert_equal "$output" "## Slide 1: Deck

## Slide 2: First

- alpha
  - deeper
- beta

> say hello

## Slide 3: Second

| **x** | **y** |
| --- | --- |
| 1 | 2 |"
}
