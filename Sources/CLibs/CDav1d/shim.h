// dav1d (Debian libdav1d-dev). DAV1D_ERR is a function-like macro.
#ifndef COMMUCAT_CDAV1D_SHIM_H
#define COMMUCAT_CDAV1D_SHIM_H
#include <dav1d/dav1d.h>
static inline int commucat_DAV1D_ERR(int e) { return DAV1D_ERR(e); }
#endif
