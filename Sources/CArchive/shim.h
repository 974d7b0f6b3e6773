// libarchive (Debian libarchive-dev): tar, cpio, 7z, rar, iso and xz, bzip2, zstd, lz4 streams for DLP.
#include <archive.h>
#include <archive_entry.h>
