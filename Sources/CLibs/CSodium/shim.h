// libsodium (Debian libsodium-dev).
#include <sodium.h>
