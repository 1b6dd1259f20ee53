// libaom (Debian libaom-dev). aom_codec_enc_init and aom_codec_control are macros.
#ifndef COMMUCAT_CAOM_SHIM_H
#define COMMUCAT_CAOM_SHIM_H
#include <aom/aom_encoder.h>
#include <aom/aom_decoder.h>
#include <aom/aomcx.h>
#include <aom/aomdx.h>
static inline aom_codec_err_t commucat_aom_codec_enc_init(aom_codec_ctx_t *ctx, aom_codec_iface_t *iface, const aom_codec_enc_cfg_t *cfg, aom_codec_flags_t flags) { return aom_codec_enc_init(ctx, iface, cfg, flags); }
static inline aom_codec_err_t commucat_aom_codec_control_int(aom_codec_ctx_t *ctx, int id, int value) { return aom_codec_control(ctx, id, value); }
#endif
