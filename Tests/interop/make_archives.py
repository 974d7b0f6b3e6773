#!/usr/bin/env python3
"""The archive carriers of the DLP tests (issue 34): a docx holding the given
text, wrapped in every archive format Sluice opens with libarchive, made by
the tools people use (Python's tarfile, GNU cpio, 7-Zip, xz, bzip2, zstd,
lz4). Usage: make_archives.py OUT_DIR NAME TEXT [NAME TEXT ...]; writes
OUT_DIR/NAME/<carrier> for each, and OUT_DIR/special (an encrypted 7z, a tar
bomb)."""
import io
import os
import subprocess
import sys
import tarfile

import docx


def run(*args, cwd=None):
    subprocess.run(args, check=True, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def tar(path, members, fmt, mode="w"):
    with tarfile.open(path, mode, format=fmt) as t:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1700000000
            if fmt == tarfile.PAX_FORMAT:
                info.pax_headers = {"comment": "made by make_archives.py"}
            t.addfile(info, io.BytesIO(data))


def make(out, text):
    os.makedirs(out, exist_ok=True)
    d = docx.Document()
    d.add_paragraph("Quarterly figures")
    d.add_paragraph(text)
    buf = io.BytesIO()
    d.save(buf)
    report = buf.getvalue()
    readme = b"A file before the document, as archives of real folders have.\n" * 40
    members = [("docs/README.txt", readme), ("docs/report.docx", report)]
    tar(os.path.join(out, "ustar.tar"), members, tarfile.USTAR_FORMAT)
    tar(os.path.join(out, "pax.tar"), members, tarfile.PAX_FORMAT)
    tar(os.path.join(out, "gnu.tar"), members, tarfile.GNU_FORMAT)
    tar(os.path.join(out, "report.tar.gz"), members, tarfile.PAX_FORMAT, "w:gz")
    tar(os.path.join(out, "report.tar.bz2"), members, tarfile.PAX_FORMAT, "w:bz2")
    tar(os.path.join(out, "report.tar.xz"), members, tarfile.PAX_FORMAT, "w:xz")
    src = os.path.join(out, "src")
    os.makedirs(os.path.join(src, "docs"), exist_ok=True)
    for name, data in members:
        with open(os.path.join(src, name), "wb") as f:
            f.write(data)
    run("zstd", "-q", "-f", os.path.join(out, "pax.tar"), "-o", os.path.join(out, "report.tar.zst"))
    run("lz4", "-q", "-f", os.path.join(out, "pax.tar"), os.path.join(out, "report.tar.lz4"))
    listing = "docs/README.txt\ndocs/report.docx\n"
    with open(os.path.join(out, "report.cpio"), "wb") as f:
        subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], input=listing.encode(), stdout=f, cwd=src, check=True)
    run("7z", "a", "-bd", "-y", os.path.join(out, "report.7z"), "docs", cwd=src)
    with open(os.path.join(out, "report.docx.xz"), "wb") as f:
        subprocess.run(["xz", "-c", os.path.join(src, "docs/report.docx")], stdout=f, check=True)
    for name, _ in members:
        os.remove(os.path.join(src, name))
    os.rmdir(os.path.join(src, "docs"))
    os.rmdir(src)


def special(out):
    os.makedirs(out, exist_ok=True)
    src = os.path.join(out, "src")
    os.makedirs(src, exist_ok=True)
    with open(os.path.join(src, "secret.txt"), "w") as f:
        f.write("Card 4111 1111 1111 1111\n")
    # Encrypted names and data (7z -mhe=on), and encrypted data with names in clear.
    run("7z", "a", "-bd", "-y", "-ps3cret", "-mhe=on", os.path.join(out, "headers-encrypted.7z"), "secret.txt", cwd=src)
    run("7z", "a", "-bd", "-y", "-ps3cret", os.path.join(out, "data-encrypted.7z"), "secret.txt", cwd=src)
    os.remove(os.path.join(src, "secret.txt"))
    os.rmdir(src)
    # A tar.xz of 200 MB of zeros: a few dozen KB that expand past every ratio.
    with tarfile.open(os.path.join(out, "bomb.tar.xz"), "w:xz") as t:
        info = tarfile.TarInfo("zeros.bin")
        info.size = 200 << 20
        t.addfile(info, io.BytesIO(b"\0" * info.size))


def main():
    out = sys.argv[1]
    args = sys.argv[2:]
    for name, text in zip(args[0::2], args[1::2]):
        make(os.path.join(out, name), text)
    special(os.path.join(out, "special"))


if __name__ == "__main__":
    main()
