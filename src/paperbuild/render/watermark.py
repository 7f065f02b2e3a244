"""A diagonal text watermark in the page header, as Word itself writes one (VML WordArt)."""

from __future__ import annotations

from typing import Any

from paperbuild.render.ooxml import quoteattr
from paperbuild.render.oxml import parse_xml

SHAPE_ID = "PaperbuildWatermark"  # how a later build knows the watermark as paperbuild's
VML = (
    '<w:r xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
    'xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office">'
    '<w:pict><v:shapetype id="_x0000_t136" coordsize="21600,21600" o:spt="136" '
    'adj="10800" path="m@7,l@8,m@5,21600l@6,21600e"><v:path textpathok="t" o:connecttype="custom"/>'
    '<v:textpath on="t" fitshape="t"/></v:shapetype>'
    f'<v:shape id="{SHAPE_ID}" o:spid="_x0000_s2049" type="#_x0000_t136" '
    'style="position:absolute;margin-left:0;margin-top:0;width:460pt;height:115pt;rotation:315;'
    "z-index:-251654144;mso-position-horizontal:center;mso-position-horizontal-relative:margin;"
    'mso-position-vertical:center;mso-position-vertical-relative:margin" fillcolor="#c8c8c8" '
    'stroked="f"><v:fill opacity=".45"/><v:textpath style="font-family:&quot;Calibri&quot;;'
    'font-size:1pt" string={text}/></v:shape></w:pict></w:r>'
)


def add_watermark(doc: Any, text: str) -> None:
    """Add the watermark text to every page's header (title page included)."""
    for section in doc.sections:
        for header in (section.header, section.first_page_header):
            header.is_linked_to_previous = False
            paragraph = header.paragraphs[0]
            paragraph._p.append(parse_xml(VML.format(text=quoteattr(text))))
