// libsrtp2 (Debian libsrtp2-dev). No wrappers needed: use srtp_crypto_policy_set_rtp_default
// rather than the macro alias for AES-CM-HMAC-SHA1-80.
#include <srtp2/srtp.h>
