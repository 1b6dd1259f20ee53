// x264 (Debian libx264-dev, GPL: linked only by commucat-bench). x264_encoder_open is a macro
// naming a build-versioned symbol.
#ifndef COMMUCAT_CX264_SHIM_H
#define COMMUCAT_CX264_SHIM_H
#include <stdint.h>
#include <x264.h>
static inline x264_t *commucat_x264_encoder_open(x264_param_t *p) { return x264_encoder_open(p); }
#endif
