#!/usr/bin/env python3
"""Images with text in them, made by the libraries that make them (issue 34's OCR).

Usage: make_images.py OUTDIR LINE
OUTDIR gets: card.png (LINE rendered by Pillow in DejaVu Sans, as a screenshot would show it),
card.jpg (the same as JPEG), card.docx (the PNG inserted by python-docx), scan.pdf (a PDF whose
page 1 is only that image, no text layer, by reportlab), plain.png (an image with no text), and
huge.png (a valid PNG header declaring 50,000 x 50,000 pixels: it must never be decoded).
"""
import os
import struct
import sys
import zlib

import docx
from docx.shared import Inches
from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas

out, line = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 40)
left, top, right, bottom = ImageDraw.Draw(Image.new("RGB", (1, 1))).textbbox((0, 0), line, font=font)
image = Image.new("RGB", (right - left + 80, bottom - top + 80), "white")
ImageDraw.Draw(image).text((40 - left, 40 - top), line, fill="black", font=font)
image.save(os.path.join(out, "card.png"))
image.save(os.path.join(out, "card.jpg"), quality=90)
Image.new("RGB", (400, 200), (200, 220, 240)).save(os.path.join(out, "plain.png"))

d = docx.Document()
d.add_paragraph("Quarterly figures, see the screenshot")
d.add_picture(os.path.join(out, "card.png"), width=Inches(6))
d.save(os.path.join(out, "card.docx"))

c = canvas.Canvas(os.path.join(out, "scan.pdf"), pagesize=letter)
c.drawImage(os.path.join(out, "card.png"), 36, 600, width=540, height=540 * image.height / image.width)
c.showPage()
c.save()


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


with open(os.path.join(out, "huge.png"), "wb") as f:
    f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 50000, 50000, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 50001 * 4)) + chunk(b"IEND", b""))
