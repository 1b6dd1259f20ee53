// openh264 (Debian libopenh264-dev), used for H.264 decoding.
#include <wels/codec_api.h>
