// vectorscan (Debian: libvectorscan-dev), the portable fork of Intel's Hyperscan.
#include <hs/hs.h>
