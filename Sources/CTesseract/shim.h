// Tesseract's C API and Leptonica (Debian: libtesseract-dev, libleptonica-dev, tesseract-ocr-eng):
// the text in images for DLP's OCR (profiles with `ocr: true`).
#include <tesseract/capi.h>
#include <leptonica/allheaders.h>

// Leptonica's severities are macros Swift does not import.
static inline void sluice_lept_quiet(void) { setMsgSeverity(6); /* L_SEVERITY_NONE */ }
