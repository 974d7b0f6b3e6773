#!/usr/bin/env python3
"""The document corpus of bench/dlp-docs.sh, made by the libraries that make real documents.

Usage: docs_corpus.py OUTDIR
Writes report.docx (300 paragraphs), cards.xlsx (3000 rows x 6 columns), slides.pptx (40 slides),
report.pdf (30 pages, Flate), files.zip (the docx, the xlsx and a CSV), files.tar.gz (the same members), app.log.gz (2 MB of log),
blob.bin (1 MB of random bytes) and plain.txt (1 MB of prose); each holds one card number. Then
one message per file with it attached (base64), plain.eml (the prose as a text body) and
plain-100k.eml (its first 100 KiB). OUTDIR/clean/ gets the same without the card number.
"""
import base64
import gzip
import io
import os
import random
import sys
import tarfile
import zipfile

import docx
import openpyxl
import pptx
from reportlab.pdfgen import canvas

random.seed(7)
WORDS = ("the quarterly plan for our customers in the northern region shows growth in revenue while costs "
         "remain under control and the team expects to deliver the new service before the end of the year").split()
CARD = "4111 1111 1111 1111"


def sentence(n=14):
    return " ".join(random.choice(WORDS) for _ in range(n)).capitalize() + "."


def write_all(out, CARD):
    random.seed(7)
    os.makedirs(out, exist_ok=True)
    p = lambda name: os.path.join(out, name)

    d = docx.Document()
    for i in range(300):
        d.add_paragraph(" ".join(sentence() for _ in range(4)) + (" Card " + CARD if i == 250 else ""))
    d.save(p("report.docx"))

    wb = openpyxl.Workbook()
    ws = wb.active
    for r in range(3000):
        ws.append(["row %d" % r, random.randint(1, 10**6), sentence(6), random.random(), "EUR", CARD if r == 2500 else "n/a"])
    wb.save(p("cards.xlsx"))

    deck = pptx.Presentation()
    for i in range(40):
        s = deck.slides.add_slide(deck.slide_layouts[1])
        s.shapes.title.text = "Slide %d" % i
        s.placeholders[1].text = "\n".join(sentence() for _ in range(6)) + ("\nCard " + CARD if i == 30 else "")
    deck.save(p("slides.pptx"))

    c = canvas.Canvas(p("report.pdf"), pageCompression=1)
    for page in range(30):
        y = 800
        for line in range(60):
            c.drawString(40, y, sentence(10) + (" Card " + CARD if page == 20 and line == 30 else ""))
            y -= 12
        c.showPage()
    c.save()

    with zipfile.ZipFile(p("files.zip"), "w", zipfile.ZIP_DEFLATED) as z:
        z.write(p("report.docx"), "q3/report.docx")
        z.write(p("cards.xlsx"), "q3/cards.xlsx")
        z.writestr("q3/payments.csv", "".join("%d,%s,%s\n" % (i, sentence(5), CARD if i == 9000 else "0") for i in range(10000)))

    # The same members as a tar.gz (issue 34: every archive format, read at about the speed of zip).
    with tarfile.open(p("files.tar.gz"), "w:gz") as t:
        with zipfile.ZipFile(p("files.zip")) as z:
            for info in z.infolist():
                data = z.read(info)
                member = tarfile.TarInfo(info.filename)
                member.size = len(data)
                t.addfile(member, io.BytesIO(data))

    log = "".join("2026-12-04T10:%02d:%02d host app[%d]: %s\n" % (i // 60 % 60, i % 60, i, sentence(8)) for i in range(20000))
    with gzip.open(p("app.log.gz"), "wb") as g:
        g.write((log[: len(log) // 2] + "card " + CARD + "\n" + log[len(log) // 2:]).encode())

    blob = bytearray(random.getrandbits(8) for _ in range(1 << 20))
    blob[600000:600000 + 24] = b"\0card " + CARD.encode() + b"\0"
    open(p("blob.bin"), "wb").write(bytes(blob))

    prose = "\n".join(sentence() for _ in range(9000))
    open(p("plain.txt"), "w").write(prose[: len(prose) // 2] + "\nCard " + CARD + "\n" + prose[len(prose) // 2:])

    for name in ["report.docx", "cards.xlsx", "slides.pptx", "report.pdf", "files.zip", "app.log.gz", "blob.bin", "plain.txt"]:
        data = base64.encodebytes(open(p(name), "rb").read()).decode().replace("\n", "\r\n")
        msg = ("From: bench@example.test\r\nTo: sink@example.org\r\nSubject: %s\r\nMIME-Version: 1.0\r\n"
               "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nAttached.\r\n"
               "--b\r\nContent-Type: application/octet-stream; name=\"%s\"\r\nContent-Disposition: attachment; filename=\"%s\"\r\n"
               "Content-Transfer-Encoding: base64\r\n\r\n%s--b--\r\n") % (name, name, name, data)
        open(p(name + ".eml"), "w", newline="").write(msg)
    open(p("plain.eml"), "w", newline="").write(
        "From: bench@example.test\r\nTo: sink@example.org\r\nSubject: prose\r\n\r\n" + prose.replace("\n", "\r\n") + "\r\n")
    # Prose the size of a typical attachment message (100 KiB), for the pipeline's reference row.
    short = prose[: 100 * 1024]
    open(p("plain-100k.eml"), "w", newline="").write(
        "From: bench@example.test\r\nTo: sink@example.org\r\nSubject: prose\r\n\r\n" + short.replace("\n", "\r\n") + "\r\n")


def main():
    write_all(sys.argv[1], CARD)
    # The same corpus without the card number (a reference in its place): the pipeline relays it.
    write_all(os.path.join(sys.argv[1], "clean"), "REF-0000-0000-0000")


if __name__ == "__main__":
    main()
