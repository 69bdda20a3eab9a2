#ifndef ANVCS_CLIBGIT2_STARTUP_H
#define ANVCS_CLIBGIT2_STARTUP_H

/// How many times libgit2 asked for a CA bundle to be parsed since the process started
/// (each request is declined; see libgit2_startup.c). Calling it also keeps this object linked.
int anvcs_libgit2_ca_bundle_requests(void);

#endif
