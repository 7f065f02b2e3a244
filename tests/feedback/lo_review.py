"""Review a DOCX in LibreOffice, as a committee member would, through its UNO bridge.

Run with the Python that has LibreOffice's `uno` module (Debian: /usr/bin/python3 with
python3-uno), not the project's:

    python3 lo_review.py IN.docx OUT.docx SPEC.json

SPEC is a list of actions, each done with change recording on, by the reviewer it names:
{"op": "insert_after" | "replace" | "delete" | "comment" | "reply" | "resolve",
 "find": text, "text": text, "author": name, "resolved": bool}
A reply answers the comment made before it, where this LibreOffice can script one (the
Annotation's ParentName property, which LibreOffice 7.4 lacks). Prints {"replies": bool}:
whether replies were made as replies.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import uno  # type: ignore[import-not-found]
from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found]


def prop(name: str, value: object) -> PropertyValue:
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def connect(pipe: str) -> object:
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            return resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def set_user(ctx: object, author: str) -> None:
    """Make `author` the user LibreOffice records changes and comments under."""
    provider = ctx.ServiceManager.createInstanceWithContext(
        "com.sun.star.configuration.ConfigurationProvider", ctx
    )
    access = provider.createInstanceWithArguments(
        "com.sun.star.configuration.ConfigurationUpdateAccess",
        (prop("nodepath", "/org.openoffice.UserProfile/Data"),),
    )
    given, _, family = author.partition(" ")
    access.setPropertyValue("givenname", given)
    access.setPropertyValue("sn", family)
    access.commitChanges()


def now() -> object:
    stamp = time.gmtime()
    value = uno.createUnoStruct("com.sun.star.util.DateTime")
    value.Year, value.Month, value.Day = stamp.tm_year, stamp.tm_mon, stamp.tm_mday
    value.Hours, value.Minutes, value.Seconds = stamp.tm_hour, stamp.tm_min, stamp.tm_sec
    return value


def find(doc: object, text: str) -> object:
    search = doc.createSearchDescriptor()
    search.SearchString = text
    search.SearchCaseSensitive = True
    found = doc.findFirst(search)
    if found is None:
        raise SystemExit(f"not found in the document: {text!r}")
    return found


def review(doc: object, ctx: object, actions: list[dict[str, object]]) -> bool:
    """Do the actions; return whether replies could be made as replies."""
    last_comment = None
    threaded = True
    for action in actions:
        author = str(action.get("author", "Reviewer"))
        set_user(ctx, author)
        op = action["op"]
        if op == "resolve":  # mark the comment with this text (e.g. the author's query) resolved
            fields = doc.getTextFields().createEnumeration()
            while fields.hasMoreElements():
                field = fields.nextElement()
                if field.supportsService("com.sun.star.text.textfield.Annotation") and (
                    field.Content == action["text"]
                ):
                    field.Resolved = True
            continue
        if op in ("comment", "reply"):
            anchor = find(doc, str(action["find"]))
            note = doc.createInstance("com.sun.star.text.textfield.Annotation")
            note.Author = author
            note.Content = str(action["text"])
            note.DateTimeValue = now()  # as the user interface stamps it
            if op == "reply" and last_comment is not None:
                names = {p.Name for p in note.getPropertySetInfo().getProperties()}
                if "ParentName" not in names:
                    threaded = False
                    continue
                if not last_comment.Name:
                    last_comment.Name = f"paperbuild-test-{id(last_comment)}"
                note.ParentName = last_comment.Name
            if action.get("resolved"):
                note.Resolved = True
            doc.Text.insertTextContent(anchor, note, op == "comment")
            if op == "comment":
                last_comment = note
            continue
        doc.RecordChanges = True
        found = find(doc, str(action["find"]))
        if op == "insert_after":
            cursor = found.getText().createTextCursorByRange(found.getEnd())
            cursor.getText().insertString(cursor, str(action["text"]), False)
        elif op == "replace":
            found.setString(str(action["text"]))
        elif op == "delete":
            found.setString("")
        doc.RecordChanges = False
    return threaded


def main() -> None:
    source, target, spec = (Path(a).resolve() for a in sys.argv[1:4])
    actions = json.loads(spec.read_text(encoding="utf-8"))
    pipe = f"paperbuild-test-{os.getpid()}"
    with tempfile.TemporaryDirectory() as profile:
        copy = Path(profile) / "draft.docx"  # LibreOffice leaves a lock file beside what it opens
        copy.write_bytes(source.read_bytes())
        office = subprocess.Popen(
            [
                "soffice",
                "--headless",
                "--invisible",
                "--norestore",
                "--nologo",
                f"-env:UserInstallation={Path(profile).as_uri()}",
                f"--accept=pipe,name={pipe};urp;",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # soffice starts soffice.bin: both stopped as one group
        )
        try:
            ctx = connect(pipe)
            desktop = ctx.ServiceManager.createInstanceWithContext(
                "com.sun.star.frame.Desktop", ctx
            )
            doc = desktop.loadComponentFromURL(copy.as_uri(), "_blank", 0, (prop("Hidden", True),))
            if doc is None:
                raise SystemExit(f"LibreOffice could not open {source}")
            threaded = review(doc, ctx, actions)
            doc.storeToURL(target.as_uri(), (prop("FilterName", "MS Word 2007 XML"),))
            doc.close(True)
            with contextlib.suppress(Exception):  # the bridge goes down with the office
                desktop.terminate()
            print(json.dumps({"replies": threaded}))
        finally:
            try:
                office.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(office.pid, signal.SIGKILL)
                office.wait()


if __name__ == "__main__":
    main()
