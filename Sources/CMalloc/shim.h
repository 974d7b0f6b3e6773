// glibc's malloc statistics and trimming (malloc.h is not in Swift's Glibc module).
#include <malloc.h>

// Bytes malloc holds free in its main arena (mallinfo2 reports that arena only).
static inline size_t sluice_malloc_free_bytes(void) { return mallinfo2().fordblks; }
// Returns the free pages of every arena to the kernel.
static inline int sluice_malloc_trim(void) { return malloc_trim(0); }
