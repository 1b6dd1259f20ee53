// OpenSSL 3.0 (Debian libssl-dev) for DTLS 1.2 and certificates.
// Swift cannot call function-like macros or C variadic functions; each wrapper below exists for
// exactly that reason and does nothing else.
#ifndef COMMUCAT_COPENSSL_SHIM_H
#define COMMUCAT_COPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ec.h>
#include <openssl/x509.h>
#include <openssl/bio.h>
#include <openssl/rand.h>

// EVP_EC_gen is a macro around EVP_PKEY_Q_keygen, which is variadic.
static inline EVP_PKEY *commucat_EVP_EC_gen(const char *curve) { return EVP_EC_gen(curve); }
// SSL_CTX_set_min/max_proto_version are SSL_CTX_ctrl macros.
static inline int commucat_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int v) { return (int)SSL_CTX_set_min_proto_version(ctx, v); }
static inline int commucat_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int v) { return (int)SSL_CTX_set_max_proto_version(ctx, v); }
// DTLS_set_link_mtu is an SSL_ctrl macro.
static inline long commucat_DTLS_set_link_mtu(SSL *ssl, long mtu) { return DTLS_set_link_mtu(ssl, mtu); }
// BIO_set_mem_eof_return is a BIO_ctrl macro.
static inline long commucat_BIO_set_mem_eof_return(BIO *b, long v) { return BIO_set_mem_eof_return(b, v); }
// SSL_CTX_set1_groups_list is an SSL_CTX_ctrl macro.
static inline int commucat_SSL_CTX_set1_groups_list(SSL_CTX *ctx, const char *list) { return (int)SSL_CTX_set1_groups_list(ctx, list); }
// SSL_OP_* are macros of a type Swift imports inconsistently across OpenSSL versions.
static inline uint64_t commucat_SSL_OP_NO_QUERY_MTU(void) { return SSL_OP_NO_QUERY_MTU; }
static inline uint64_t commucat_SSL_OP_NO_TICKET(void) { return SSL_OP_NO_TICKET; }
// BIO_get_mem_data is a BIO_ctrl macro.
static inline long commucat_BIO_get_mem_data(BIO *b, char **pp) { return BIO_get_mem_data(b, pp); }
// DTLSv1_get_timeout / DTLSv1_handle_timeout are SSL_ctrl macros.
static inline long commucat_DTLSv1_get_timeout(SSL *ssl, struct timeval *left) { return DTLSv1_get_timeout(ssl, left); }
static inline long commucat_DTLSv1_handle_timeout(SSL *ssl) { return DTLSv1_handle_timeout(ssl); }
// BIO_set_retry_read / BIO_clear_retry_flags are BIO_set_flags/BIO_clear_flags macros.
static inline void commucat_BIO_set_retry_read(BIO *b) { BIO_set_retry_read(b); }
static inline void commucat_BIO_clear_retry_flags(BIO *b) { BIO_clear_retry_flags(b); }
#endif
