// Debian's libgit2 1.5 is built with mbedTLS, and git_libgit2_init() parses the whole system CA
// bundle (/etc/ssl/certs/ca-certificates.crt, ~140 certificates) through
// mbedtls_x509_crt_parse_file before returning: measured with callgrind, 54 million instructions,
// a third of a `git anvcs log` query and of every hook's process.
//
// ANVCS never uses libgit2's network transports: objects travel through git's own transports and
// S3 through libcurl (OpenSSL). So the executable defines this one mbedTLS function itself; the
// dynamic linker binds libgit2's call to the executable's definition first (ELF interposition:
// libgit2 imports it unversioned). The request is declined without reading the file. Should
// libgit2 ever open a TLS connection, its CA chain is empty and verification fails: fail closed,
// never open.

#include "CLibgit2Startup.h"

#include <stdatomic.h>

static atomic_int ca_bundle_requests;

// mbedTLS's MBEDTLS_ERR_X509_FILE_IO_ERROR: "could not read the file".
#define ANVCS_X509_FILE_IO_ERROR (-0x2900)

int mbedtls_x509_crt_parse_file(void *chain, const char *path);

int mbedtls_x509_crt_parse_file(void *chain, const char *path) {
    (void)chain;
    (void)path;
    atomic_fetch_add(&ca_bundle_requests, 1);
    return ANVCS_X509_FILE_IO_ERROR;
}

int anvcs_libgit2_ca_bundle_requests(void) {
    return atomic_load(&ca_bundle_requests);
}
