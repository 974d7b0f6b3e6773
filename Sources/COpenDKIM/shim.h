// libopendkim (Debian: libopendkim-dev), the DKIM library of the OpenDKIM project.
#include <stdbool.h>
#include <sys/types.h>
#include <dkim.h>
