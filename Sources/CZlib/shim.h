// zlib (Debian: zlib1g-dev), for the deflate entries of zip attachments.
#include <zlib.h>

// inflateInit2 is a macro; Swift sees this function instead.
static inline int sluice_inflate_init_raw(z_stream *s) { return inflateInit2(s, -15); }
// A gzip stream (RFC 1952), header and trailer checked by zlib.
static inline int sluice_inflate_init_gzip(z_stream *s) { return inflateInit2(s, 16 + 15); }
