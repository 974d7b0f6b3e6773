// libunbound (Debian: libunbound-dev), NLnet Labs' validating, caching resolver library.
#include <unbound.h>
