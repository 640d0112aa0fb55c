#!/usr/bin/env bats
# tk-doc: every document it writes is opened by LibreOffice (headless,
# one soffice call per target format for the whole suite, in
# setup_file: it is slow) and converted, and what LibreOffice read is
# checked: the cells of each sheet as CSV.  The parts and their XML are
# checked with unzip and xmllint; the error paths for their status,
# their messages and the files they leave.

load helper

# The documents LibreOffice converts, made once for the suite.
setup_file() {
	command -v soffice >/dev/null && command -v xmllint >/dev/null ||
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
	soffice --headless -env:UserInstallation="file://$BATS_FILE_TMPDIR/lo" \
	    --convert-to 'csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1' \
	    --outdir out docs/*.xlsx >lo.log 2>&1
}

setup() {
	home
	command -v soffice >/dev/null && command -v xmllint >/dev/null ||
	    skip "LibreOffice or xmllint missing (make deps)"
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
}
