// syncfs(2), which Swift's Glibc module does not declare (it is a GNU extension).
#define _GNU_SOURCE
#include <unistd.h>

// Flushes every file written on the filesystem that holds fd.
static inline int sluice_syncfs(int fd) { return syncfs(fd); }
