// libb2 (Debian libb2-dev): BLAKE2s for the Noise hash function (swift-crypto has no BLAKE2s).
#include <blake2.h>
