"""Citations resolved once, by pandoc's citeproc, into the AST that every output shares."""

from __future__ import annotations

import dataclasses
import json

from paperbuild import pandoc
from paperbuild.assemble import IMAGES, Document, resources_rewrite
from paperbuild.ast import Node, rewrite
from paperbuild.project import Project
from paperbuild.render.common import citation_args, document_json


def resolve_citations(document: Document, project: Project) -> Document:
    """Return the document with citations rendered (notes) and the bibliography appended."""
    if not document.cited:
        return document
    out = pandoc.run(
        ["--sandbox", "-f", "json", "-t", "json", *citation_args(project)],
        document_json(document),
        cwd=project.root,
    )
    blocks = rewrite(json.loads(out)["blocks"], _cite_to_span, frozenset(("Cite",)))
    if b'"Image"' in out:  # a bibliography field may hold one (\\includegraphics{…}): hold it
        images = resources_rewrite(project.root, project.outline.bibliography)  # to the project
        blocks = rewrite(blocks, images, IMAGES)
    return dataclasses.replace(document, blocks=blocks)


def _cite_to_span(node: Node) -> Node:
    """Return a rendered citation as a span (writers would cite natively), keeping its keys."""
    keys = " ".join(c["citationId"] for c in node["c"][0])
    return {"t": "Span", "c": [["", ["citation"], [["data-cites", keys]]], node["c"][1]]}
