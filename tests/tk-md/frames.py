#!/usr/bin/python3
"""frames.py IN OUT [broken] - IN (deck.pptx from pandoc) with slides whose
shape trees list their frames out of reading order, so that only the
positions place them: pandoc's placeholders have no position of their own
(their layout or master has it), text boxes have theirs, groups map their
children's to the slide.

Slide 2 lists a footer, a date and the body placeholder before the title
and two text boxes; the body is placed by its layout (given a position
here, below the master's), date and footer by the master.  Slide 3's
layout (bare, added here) has no master: its unplaced placeholder keeps
the slide in tree order.  Slide 4 has the body and groups: one moved, one
scaled from a child space far off, one nested in it, one of no child
extent.  With "broken", slide 2's layout is a missing part and slide 4's
malformed XML: both slides keep tree order and still convert."""
import re
import sys
import zipfile

NS = ('xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
      'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
      'xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"')


def xfrm(x, y):
    return f'<a:xfrm><a:off x="{x}" y="{y}"/><a:ext cx="1000000" cy="300000"/></a:xfrm>'


def sp(text, ph=None, pos=None):
    nv = f"<p:ph {ph}/>" if ph is not None else ""
    box = ' txBox="1"' if ph is None else ""
    return (f'<p:sp><p:nvSpPr><p:cNvPr id="9" name="{text}"/><p:cNvSpPr{box}/>'
            f"<p:nvPr>{nv}</p:nvPr></p:nvSpPr>"
            f"<p:spPr>{xfrm(*pos) if pos else ''}</p:spPr>"
            f"<p:txBody><a:bodyPr/><a:p><a:r><a:t>{text}</a:t></a:r></a:p>"
            "</p:txBody></p:sp>")


def grp(off, ext, choff, chext, *kids):
    return ('<p:grpSp><p:nvGrpSpPr><p:cNvPr id="8" name="Group"/><p:cNvGrpSpPr/>'
            "<p:nvPr/></p:nvGrpSpPr><p:grpSpPr><a:xfrm>"
            f'<a:off x="0" y="{off}"/><a:ext cx="{ext}" cy="{ext}"/>'
            f'<a:chOff x="0" y="{choff}"/><a:chExt cx="{chext}" cy="{chext}"/>'
            "</a:xfrm></p:grpSpPr>" + "".join(kids) + "</p:grpSp>")


def tree(data, f):
    """The shape tree of slide XML data, its frames rewritten by f (given
    them as a list of strings)."""
    m = re.search(rb"(<p:spTree>.*?</p:grpSpPr>)(.*)(</p:spTree>)", data, re.S)
    frames = re.findall(rb"<p:sp>.*?</p:sp>|<p:graphicFrame>.*?</p:graphicFrame>",
                        m.group(2), re.S)
    body = "".join(f([x.decode() for x in frames])).encode()
    return data[:m.start(2)] + body + data[m.end(2):]


def goals(fr):
    title, body = fr
    return [sp("Footer", 'type="ftr"'), sp("Today", 'type="dt" idx="10"'),
            body, title, sp("Aside", None, (457200, 600000)),
            sp("Between", None, (457200, 1500000))]


def numbers(fr):
    return fr + [sp("Above all", None, (457200, 100000)),
                 sp("Unplaced", 'type="body" idx="5"')]


def links(fr):
    title, body = fr
    return [body, title,
            grp(3000000, 1000000, 0, 1000000, sp("Bottom", None, (0, 100000))),
            grp(0, 2000000, 5000000, 1000000, sp("Top", None, (0, 5100000)),
                grp(5400000, 1000000, 0, 500000,
                    sp("Upper", None, (0, 100000)))),
            grp(4000000, 0, 0, 0, sp("Last", None, (0, 500000)))]


bare = (f'<?xml version="1.0" encoding="UTF-8"?><p:sldLayout {NS}><p:cSld><p:spTree>'
        + sp("Title", 'type="title"') + "</p:spTree></p:cSld></p:sldLayout>")
broken = len(sys.argv) > 3
with zipfile.ZipFile(sys.argv[1]) as zin, \
        zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_DEFLATED) as zout:
    for item in zin.infolist():
        data = zin.read(item.filename)
        name = item.filename
        if name == "ppt/slides/slide2.xml":
            data = tree(data, goals)
        elif name == "ppt/slides/slide3.xml":
            data = tree(data, numbers)
        elif name == "ppt/slides/slide4.xml":
            data = tree(data, links)
        elif name == "ppt/slides/_rels/slide3.xml.rels":
            data = data.replace(b"slideLayout2.xml", b"bare.xml")
        elif broken and name == "ppt/slides/_rels/slide2.xml.rels":
            data = data.replace(b"slideLayout2.xml", b"gone.xml")
        elif broken and name == "ppt/slides/_rels/slide4.xml.rels":
            data = data.replace(b"slideLayout2.xml", b"bad.xml")
        elif name == "ppt/slideLayouts/slideLayout2.xml":
            data = re.sub(rb'(<p:ph idx="1"/></p:nvPr></p:nvSpPr>)<p:spPr/>',
                          rb"\1<p:spPr>" + xfrm(457200, 2000000).encode() + rb"</p:spPr>",
                          data)
        zout.writestr(item, data)
    zout.writestr("ppt/slideLayouts/bare.xml", bare)
    if broken:
        zout.writestr("ppt/slideLayouts/bad.xml", "<p:sldLayout " + NS + "><p:cSld>")
