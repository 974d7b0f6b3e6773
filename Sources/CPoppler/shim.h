// Poppler's GLib interface (Debian: libpoppler-glib-dev): PDF text extraction for DLP.
#include <poppler.h>

// POPPLER_ERROR is a macro over a function; Swift sees this one.
static inline GQuark sluice_poppler_error_quark(void) { return poppler_error_quark(); }
