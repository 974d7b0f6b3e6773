#!/usr/bin/env python3
"""Documents as people attach them, made by the libraries that make them.

Usage: make_documents.py OUTDIR < values.json
values.json maps a name to a line of text ({"credit_card": "Card 4111 1111 1111 1111"}).
For each name, OUTDIR/NAME/ gets the line in: report.docx (one run), split.docx (the
line split across two runs, as Word writes an edited paragraph), cards.xlsx (a cell),
slides.pptx (a slide), notes.odt, card.pdf (Flate-compressed content stream),
cards.zip (a text member), cards.txt.gz and cards.bin (inside binary bytes).
OUTDIR/special/ gets what cannot be scanned: a zip bomb, a 42.zip-style nested bomb, a zip64 member
expanding to 10 GiB,
an encrypted zip (Info-ZIP's zip -P), an encrypted PDF, a corrupt PDF, a truncated docx.
"""
import gzip
import io
import json
import os
import struct
import subprocess
import sys
import zipfile
import zlib

import docx
import openpyxl
import pptx
from odf.opendocument import OpenDocumentText
from odf.text import P
from reportlab.lib import pdfencrypt
from reportlab.pdfgen import canvas


def pdf(line, path, encrypt=None):
    c = canvas.Canvas(path, pageCompression=1, encrypt=encrypt)
    c.drawString(72, 720, "Quarterly figures")
    c.setFont("Helvetica", 6)  # a JWT is long: small enough to stay on the page
    c.drawString(36, 700, line)
    c.showPage()
    c.save()


def make(out, line):
    os.makedirs(out, exist_ok=True)
    d = docx.Document()
    d.add_paragraph("Quarterly figures")
    d.add_paragraph(line)
    d.save(os.path.join(out, "report.docx"))

    d = docx.Document()
    p = d.add_paragraph()
    half = len(line) // 2
    p.add_run(line[:half])
    p.add_run(line[half:]).bold = True
    d.save(os.path.join(out, "split.docx"))

    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "Name"
    ws["B1"] = "Data"
    ws["A2"] = "Jane"
    ws["B2"] = line
    wb.save(os.path.join(out, "cards.xlsx"))

    deck = pptx.Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = "Quarterly figures"
    slide.placeholders[1].text = line
    deck.save(os.path.join(out, "slides.pptx"))

    odt = OpenDocumentText()
    odt.text.addElement(P(text="Quarterly figures"))
    odt.text.addElement(P(text=line))
    odt.save(os.path.join(out, "notes.odt"))

    pdf(line, os.path.join(out, "card.pdf"))

    with zipfile.ZipFile(os.path.join(out, "cards.zip"), "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("q3/cards.txt", "Quarterly figures\n" + line + "\n")

    with gzip.open(os.path.join(out, "cards.txt.gz"), "wb") as g:
        g.write(("Quarterly figures\n" + line + "\n").encode())

    with open(os.path.join(out, "cards.bin"), "wb") as f:
        f.write(bytes(range(256)) * 4 + b"\x00" + line.encode() + b"\x00" + bytes(range(255, -1, -1)) * 4)


def special(out):
    os.makedirs(out, exist_ok=True)
    # One member that expands 1000:1 to 100 MB.
    with zipfile.ZipFile(os.path.join(out, "bomb.zip"), "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("zeros.txt", b"0" * (100 << 20))
    # 42.zip's shape: archives of archives, each holding copies of the one below.
    layer = io.BytesIO()
    with zipfile.ZipFile(layer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("0.txt", b"\0" * (10 << 20))
    data = layer.getvalue()
    for depth in range(4):
        layer = io.BytesIO()
        with zipfile.ZipFile(layer, "w", zipfile.ZIP_DEFLATED) as z:
            for i in range(16):
                z.writestr("%d-%d.zip" % (depth, i), data)
        data = layer.getvalue()
    with open(os.path.join(out, "42.zip"), "wb") as f:
        f.write(data)
    # A zip64 member that expands to 10 GiB from 10 MB: deflate blocks of a MiB of zeros, each after a full
    # flush so that one block's bytes can be repeated; the sizes in zip64 extra fields (APPNOTE 4.5.3).
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = c.compress(b"\0" * (1 << 20)) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(b"\0" * (1 << 20)) + c.flush(zlib.Z_FULL_FLUSH)
    blocks = 10240
    data = first + block * (blocks - 1) + c.flush()
    size = blocks << 20
    name = b"ten-gigabytes.bin"
    extra = struct.pack("<HHQQ", 1, 16, size, len(data))
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 8, 0, 0, 0, 0xFFFFFFFF, 0xFFFFFFFF, len(name), len(extra)) + name + extra
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 8, 0, 0, 0, 0xFFFFFFFF, 0xFFFFFFFF, len(name), len(extra), 0, 0, 0, 0, 0) + name + extra
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), len(local) + len(data), 0)
    with open(os.path.join(out, "zip64-bomb.zip"), "wb") as f:
        f.write(local + data + central + end)
    # A password-protected zip, as Info-ZIP writes it.
    plain = os.path.join(out, "secret.txt")
    with open(plain, "w") as f:
        f.write("Card 4111 1111 1111 1111\n")
    subprocess.run(["zip", "-q", "-j", "-P", "s3cret", os.path.join(out, "encrypted.zip"), plain], check=True)
    os.remove(plain)
    pdf("Card 4111 1111 1111 1111", os.path.join(out, "encrypted.pdf"),
        encrypt=pdfencrypt.StandardEncryption("user-pass", ownerPassword="owner-pass", strength=128))
    # A PDF whose body is overwritten past its header, and a docx cut in half.
    pdf("Card 4111 1111 1111 1111", os.path.join(out, "whole.pdf"))
    whole = open(os.path.join(out, "whole.pdf"), "rb").read()
    os.remove(os.path.join(out, "whole.pdf"))
    with open(os.path.join(out, "corrupt.pdf"), "wb") as f:
        f.write(whole[:9] + bytes((b * 7 + 13) % 256 for b in whole[9:]))
    d = docx.Document()
    d.add_paragraph("Card 4111 1111 1111 1111")
    buf = io.BytesIO()
    d.save(buf)
    with open(os.path.join(out, "truncated.docx"), "wb") as f:
        f.write(buf.getvalue()[: len(buf.getvalue()) // 2])


def main():
    out = sys.argv[1]
    for name, line in json.load(sys.stdin).items():
        make(os.path.join(out, name), line)
    special(os.path.join(out, "special"))


if __name__ == "__main__":
    main()
