#!/usr/bin/env bats
# tk-md, the web and OpenDocument formats: ODT, ODS, ODP, EPUB and HTML.
# The documents are made at test time by tools that are not ours from the
# committed sources in tests/tk-md-web/: pandoc writes ODT, EPUB, HTML and
# PPTX from Markdown; LibreOffice writes ODS from CSV and ODP from that
# PPTX.  Each converts to its golden Markdown, compared by diff -u.  The
# hostile files (a spine naming a missing chapter or a file outside the
# book, a package without content.xml, malformed XML, runaway repeats and
# nesting) are zipped by hand and must fail alone, with exit 65 and why.

load helper

F=$BATS_TEST_DIRNAME/tk-md-web

setup_file() {
	export D=$BATS_FILE_TMPDIR
	cp "$F"/doc.md "$F"/deck.md "$F"/birds.csv "$D"/
	if command -v pandoc >/dev/null && command -v convert >/dev/null; then
		(cd "$D" && convert -size 16x12 xc:skyblue gull.png &&
		    pandoc -s doc.md -o doc.odt && pandoc -s doc.md -o doc.epub &&
		    pandoc -s doc.md -o doc.html && pandoc deck.md -o deck.pptx)
	fi
	# LibreOffice is slow to start: one profile of its own for the
	# suite, made once, and one run per output format (a run converts
	# to one format only).
	if command -v soffice >/dev/null && [ -f "$D/deck.pptx" ]; then
		lo="-env:UserInstallation=file://$D/lo"
		(cd "$D" && soffice "$lo" --headless --convert-to ods birds.csv &&
		    soffice "$lo" --headless --convert-to odp deck.pptx) \
		    >"$D/soffice.log" 2>&1
	fi
}

# need FILE: skip unless setup_file could make FILE.
need() {
	[ -f "$D/$1" ] || skip "$1 not made (pandoc, imagemagick or LibreOffice missing)"
}

# zipit OUT MEMBER FILE ...: a zip of each FILE as MEMBER, the mimetype
# first and stored, as ODF and EPUB have it.
zipit() {
	python3 - "$@" <<'EOF'
import sys, zipfile
out, args = sys.argv[1], sys.argv[2:]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for name, path in zip(args[0::2], args[1::2]):
        with open(path, "rb") as f:
            z.writestr(name, f.read(), zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED)
EOF
}

# epub OUT HREF: a one-chapter EPUB whose spine names HREF.
epub() {
	printf 'application/epub+zip' >mimetype
	cat >container.xml <<'EOF'
<?xml version="1.0"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles>
</container>
EOF
	cat >content.opf <<EOF
<?xml version="1.0"?>
<package version="3.0" xmlns="http://www.idpf.org/2007/opf">
<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Hostile</dc:title></metadata>
<manifest>
<item id="c1" href="text/one.xhtml" media-type="application/xhtml+xml"/>
<item id="c2" href="$2" media-type="application/xhtml+xml"/>
</manifest>
<spine><itemref idref="c1"/><itemref idref="c2"/></spine>
</package>
EOF
	printf '<html xmlns="http://www.w3.org/1999/xhtml"><body><p>One.</p></body></html>' >one.xhtml
	zipit "$1" mimetype mimetype META-INF/container.xml container.xml \
	    OEBPS/content.opf content.opf OEBPS/text/one.xhtml one.xhtml
}

# odf OUT TYPE CONTENT: an ODF package of mimetype TYPE with CONTENT
# (a file) as its content.xml; without CONTENT, none.
odf() {
	printf 'application/vnd.oasis.opendocument.%s' "$2" >mimetype
	if [ -n "${3:-}" ]; then
		zipit "$1" mimetype mimetype content.xml "$3"
	else
		zipit "$1" mimetype mimetype
	fi
}

@test "HTML: headings, emphasis, lists, a spanned table, quote, pre; script, style, head and nav dropped" {
	run --separate-stderr tk-md "$F/page.html"
	assert_success
	assert_equal "$stderr" ""
	diff -u "$F/page-html.md" - <<<"$output"
	refute_output --partial SCRIPT
	refute_output --partial STYLE
	refute_output --partial NAV
	assert_equal "$(tk-md --records "$F/page.html" | jq -c '[.format, .title]')" '["html","The Tide Tables"]'
	tk-md --records "$F/page.html" | valid
}

@test "HTML written by pandoc: its title, and the same Markdown as the source says" {
	need doc.html
	run --separate-stderr tk-md "$D/doc.html"
	assert_success
	diff -u "$F/doc-html.md" - <<<"$output"
	assert_equal "$(tk-md --records "$D/doc.html" | jq -r .title)" "A Field Guide"
}

@test "HTML without a title takes its first h1; one nested too deep is refused" {
	printf '<html><body><h1>First <b>one</b></h1><h1>Second</h1></body></html>' >t.html
	assert_equal "$(tk-md --records t.html | jq -r .title)" "First one"
	python3 -c "print('<html><body>' + '<div>' * 5000 + 'deep' + '</div>' * 5000)" >deep.html
	run --separate-stderr tk-md deep.html t.html
	assert_failure 65
	assert_equal "$stderr" "tk-md: deep.html: elements nested deeper than 200"
	assert_output --partial "# First **one**"
}

@test "HTML: empty elements write nothing, a link without text shows its target" {
	printf '<html><body><p><em></em> </p><pre></pre><ul></ul><table><tr><td> </td></tr></table><h2> </h2><blockquote> </blockquote><p><a href="x.html"></a></p></body></html>' >e.html
	run --separate-stderr tk-md e.html
	assert_success
	assert_output "[x.html](x.html)"
}

@test "ODT: headings, emphasis, code, links, nested and numbered lists, table, quote, footnote, image" {
	need doc.odt
	run --separate-stderr tk-md "$D/doc.odt"
	assert_success
	assert_equal "$stderr" ""
	diff -u "$F/doc-odt.md" - <<<"$output"
	assert_equal "$(tk-md --records "$D/doc.odt" | jq -c '[.format, .title]')" '["odt","A Field Guide"]'
	tk-md --records "$D/doc.odt" | valid
}

@test "ODT: --extract-media writes the picture and links it there" {
	need doc.odt
	mkdir media
	run --separate-stderr tk-md --extract-media media "$D/doc.odt"
	assert_success
	assert_output --partial "![](media/doc-0.png)"
	cmp media/doc-0.png "$D/gull.png"
}

@test "EPUB: chapters in spine order, metadata from the package" {
	need doc.epub
	run --separate-stderr tk-md "$D/doc.epub"
	assert_success
	assert_equal "$stderr" ""
	diff -u "$F/doc-epub.md" - <<<"$output"
	assert_equal "$(tk-md --records "$D/doc.epub" | jq -c '[.format, .title, .authors, .language, .chapters]')" \
	    '["epub","A Field Guide",["Ada Lovelace"],"en",3]'
	tk-md --records "$D/doc.epub" | valid
}

@test "EPUB: chapters zipped in another order than the spine still read in spine order" {
	# The archive is read forward from member to member; a chapter zipped
	# before the one last read opens it anew.
	epub order.epub text/two.xhtml
	printf '<html xmlns="http://www.w3.org/1999/xhtml"><body><p>Two.</p></body></html>' >two.xhtml
	zipit order.epub mimetype mimetype META-INF/container.xml container.xml \
	    OEBPS/content.opf content.opf OEBPS/text/two.xhtml two.xhtml \
	    OEBPS/text/one.xhtml one.xhtml
	run --separate-stderr tk-md order.epub order.epub
	assert_success
	assert_equal "$output" "$(printf 'One.\n\nTwo.\n\nOne.\n\nTwo.')"
}

@test "EPUB: a book of 400 chapters zipped in order, reversed and shuffled reads the same; a missing one is named" {
	# The chapters are wanted before the first is read, and each passed
	# on the way to another is kept (two passes over the zip at most).
	python3 - <<'PY'
import random, zipfile
n = 400
def book(out, order, skip=None):
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip")
        z.writestr("META-INF/container.xml", '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>')
        man = "".join('<item id="c%d" href="c%d.xhtml" media-type="application/xhtml+xml"/>' % (i, i) for i in range(n))
        spine = "".join('<itemref idref="c%d"/>' % i for i in range(n))
        z.writestr("OEBPS/content.opf", '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Long</dc:title></metadata><manifest>%s</manifest><spine>%s</spine></package>' % (man, spine))
        for i in order:
            if i != skip:
                z.writestr("OEBPS/c%d.xhtml" % i, '<html xmlns="http://www.w3.org/1999/xhtml"><body><h1>Chapter %d</h1><p>Text %d.</p></body></html>' % (i, i))
idx = list(range(n))
book("fwd.epub", idx)
book("rev.epub", idx[::-1])
random.seed(7)
random.shuffle(idx)
book("shuf.epub", idx)
book("hole.epub", idx, skip=250)
PY
	tk-md fwd.epub >fwd.md
	assert_equal "$(grep -c '^# Chapter' fwd.md)" 400
	assert_equal "$(grep '^# Chapter' fwd.md | sed -n '1p;400p')" "$(printf '# Chapter 0\n# Chapter 399')"
	tk-md rev.epub | diff -u fwd.md -
	tk-md shuf.epub | diff -u fwd.md -
	assert_equal "$(tk-md --records rev.epub | jq .chapters)" 400
	run --separate-stderr tk-md hole.epub
	assert_failure 65
	assert_equal "$stderr" 'tk-md: hole.epub: spine item "c250.xhtml": missing chapter "OEBPS/c250.xhtml"'
}

@test "EPUB: images resolved against their chapter and extracted" {
	need doc.epub
	mkdir media
	run --separate-stderr tk-md --extract-media media "$D/doc.epub"
	assert_success
	assert_output --partial "![A gull in flight](media/doc-file0.png)"
	cmp media/doc-file0.png "$D/gull.png"
}

@test "ODS: a section and a table per sheet, values as displayed, trailing repeats never expanded" {
	need birds.ods
	run --separate-stderr tk-md "$D/birds.ods"
	assert_success
	assert_equal "$stderr" ""
	diff -u "$F/birds-ods.md" - <<<"$output"
	assert_equal "$(tk-md --records "$D/birds.ods" | jq -c '[.format, .sheets]')" '["ods",1]'
	tk-md --records "$D/birds.ods" | valid
}

@test "ODS: merged cells, repeated cells and rows, a million empty rows, two sheets" {
	cat >content.xml <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0">
<office:body><office:spreadsheet>
<table:table table:name="Tides">
<table:table-column table:number-columns-repeated="16384"/>
<table:table-row>
<table:table-cell table:number-columns-spanned="2" office:value-type="string"><text:p>Port</text:p></table:table-cell>
<table:covered-table-cell/>
<table:table-cell office:value-type="float" office:value="6.1"><text:p>6.10</text:p></table:table-cell>
<table:table-cell table:number-columns-repeated="16381"/>
</table:table-row>
<table:table-row table:number-rows-repeated="2">
<table:table-cell office:value-type="boolean" office:boolean-value="true"><text:p>TRUE</text:p></table:table-cell>
<table:table-cell table:number-columns-repeated="2" office:value-type="date" office:date-value="2024-05-06"><text:p>05/06/24</text:p></table:table-cell>
<table:table-cell table:number-columns-repeated="16381"/>
</table:table-row>
<table:table-row table:number-rows-repeated="1048573"><table:table-cell table:number-columns-repeated="16384"/></table:table-row>
</table:table>
<table:table table:name="Empty"><table:table-row table:number-rows-repeated="1048576"><table:table-cell table:number-columns-repeated="16384"/></table:table-row></table:table>
</office:spreadsheet></office:body></office:document-content>
EOF
	odf sheet.ods spreadsheet content.xml
	run --separate-stderr timeout 5 tk-md sheet.ods
	assert_success
	diff -u - <(printf '%s\n' "$output") <<'EOF'
## Tides

| Port |  | 6.10 |
| --- | --- | --- |
| TRUE | 05/06/24 | 05/06/24 |
| TRUE | 05/06/24 | 05/06/24 |

## Empty
EOF
}

@test "ODS: a filled cell repeated past the limit is refused, not expanded" {
	cat >content.xml <<'EOF'
<?xml version="1.0"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0">
<office:body><office:spreadsheet><table:table table:name="Bomb">
<table:table-row table:number-rows-repeated="1048576"><table:table-cell table:number-columns-repeated="16384"><text:p>x</text:p></table:table-cell></table:table-row>
</table:table></office:spreadsheet></office:body></office:document-content>
EOF
	odf bomb.ods spreadsheet content.xml
	run --separate-stderr timeout 5 tk-md bomb.ods
	assert_failure 65
	assert_equal "$stderr" "tk-md: bomb.ods: a table of more than 4194304 cells"
}

@test "ODP: a section per slide with its title, lists, a table, speaker notes as a quote" {
	need deck.odp
	run --separate-stderr tk-md "$D/deck.odp"
	assert_success
	assert_equal "$stderr" ""
	diff -u "$F/deck-odp.md" - <<<"$output"
	assert_equal "$(tk-md --records "$D/deck.odp" | jq -c '[.format, .slides]')" '["odp",4]'
	tk-md --records "$D/deck.odp" | valid
}

@test "EPUB whose spine names a missing chapter: 65, and the other files still convert" {
	epub gone.epub text/gone.xhtml
	printf '<html><body><p>fine</p></body></html>' >ok.html
	run --separate-stderr tk-md gone.epub ok.html
	assert_failure 65
	assert_equal "$stderr" 'tk-md: gone.epub: spine item "text/gone.xhtml": missing chapter "OEBPS/text/gone.xhtml"'
	assert_output "fine"
}

@test "EPUB whose package points outside the book: refused, nothing read from disk" {
	epub out.epub ../../etc/passwd
	run --separate-stderr tk-md out.epub
	assert_failure 65
	assert_equal "$stderr" 'tk-md: out.epub: spine item "../../etc/passwd": outside the book'
	refute_output --partial "root:"
	epub abs.epub /etc/passwd
	run --separate-stderr tk-md abs.epub
	assert_failure 65
	assert_equal "$stderr" 'tk-md: abs.epub: spine item "/etc/passwd": no chapter in the book'
}

@test "ODT without content.xml, and with malformed XML: 65 and why" {
	odf empty.odt text
	run --separate-stderr tk-md empty.odt
	assert_failure 65
	assert_equal "$stderr" "tk-md: empty.odt: missing part content.xml"
	printf '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"><office:body>' >bad.xml
	odf bad.odt text bad.xml
	run --separate-stderr tk-md bad.odt
	assert_failure 65
	assert_regex "$stderr" '^tk-md: bad\.odt: content\.xml: malformed XML: line 1: '
	printf '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"/>' >nobody.xml
	odf nobody.odp presentation nobody.xml
	run --separate-stderr tk-md nobody.odp
	assert_failure 65
	assert_equal "$stderr" "tk-md: nobody.odp: content.xml: no office:presentation body"
}
