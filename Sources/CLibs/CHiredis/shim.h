// hiredis 0.14 (Debian libhiredis-dev). Only the reply reader (redisReader) is used; the socket
// is a SwiftNIO channel.
#include <hiredis/hiredis.h>
#include <hiredis/read.h>
