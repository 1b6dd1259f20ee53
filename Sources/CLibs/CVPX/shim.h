// libvpx (Debian libvpx-dev). vpx_codec_enc_init, vpx_codec_dec_init and vpx_codec_control are
// macros (ABI-versioned or variadic); the wrappers below are their callable forms.
#ifndef COMMUCAT_CVPX_SHIM_H
#define COMMUCAT_CVPX_SHIM_H
#include <vpx/vpx_encoder.h>
#include <vpx/vpx_decoder.h>
#include <vpx/vp8cx.h>
#include <vpx/vp8dx.h>
static inline vpx_codec_err_t commucat_vpx_codec_enc_init(vpx_codec_ctx_t *ctx, vpx_codec_iface_t *iface, const vpx_codec_enc_cfg_t *cfg, vpx_codec_flags_t flags) { return vpx_codec_enc_init(ctx, iface, cfg, flags); }
static inline vpx_codec_err_t commucat_vpx_codec_dec_init(vpx_codec_ctx_t *ctx, vpx_codec_iface_t *iface, const vpx_codec_dec_cfg_t *cfg, vpx_codec_flags_t flags) { return vpx_codec_dec_init(ctx, iface, cfg, flags); }
static inline vpx_codec_err_t commucat_vpx_codec_control_int(vpx_codec_ctx_t *ctx, int id, int value) { return vpx_codec_control_(ctx, id, value); }
static inline vpx_codec_err_t commucat_vpx_codec_control_ptr(vpx_codec_ctx_t *ctx, int id, void *value) { return vpx_codec_control_(ctx, id, value); }
#endif
