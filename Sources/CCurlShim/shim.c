#include "CCurlShim.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

/*
 * libcurl is loaded on first use, not at process start. Linking it costs every start of
 * git-anvcs several milliseconds (libcurl and its TLS, LDAP, Kerberos and SSH libraries are
 * mapped and relocated), and most commands (hooks, log, show) never make an HTTP request.
 * The curl functions the HTTP client calls are defined here with their exact signatures and
 * forward to the library opened with dlopen, so the Swift side is unchanged.
 */
static struct {
    CURLcode (*global_init)(long);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *);
    void (*easy_reset)(CURL *);
    CURLcode (*easy_perform)(CURL *);
    const char *(*easy_strerror)(CURLcode);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
} lib;
static pthread_once_t loaded = PTHREAD_ONCE_INIT;

static void *symbol(void *handle, const char *name) {
    void *f = dlsym(handle, name);
    if (!f) {
        fprintf(stderr, "git anvcs: error: libcurl has no %s (%s); install libcurl4 7.68 or later\n", name, dlerror());
        exit(1);
    }
    return f;
}

static void load(void) {
    void *handle = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        fprintf(stderr, "git anvcs: error: cannot load libcurl (%s); install it with 'apt-get install libcurl4'\n", dlerror());
        exit(1);
    }
    *(void **)&lib.global_init = symbol(handle, "curl_global_init");
    *(void **)&lib.easy_init = symbol(handle, "curl_easy_init");
    *(void **)&lib.easy_cleanup = symbol(handle, "curl_easy_cleanup");
    *(void **)&lib.easy_reset = symbol(handle, "curl_easy_reset");
    *(void **)&lib.easy_perform = symbol(handle, "curl_easy_perform");
    *(void **)&lib.easy_strerror = symbol(handle, "curl_easy_strerror");
    *(void **)&lib.easy_setopt = symbol(handle, "curl_easy_setopt");
    *(void **)&lib.easy_getinfo = symbol(handle, "curl_easy_getinfo");
    *(void **)&lib.slist_append = symbol(handle, "curl_slist_append");
    *(void **)&lib.slist_free_all = symbol(handle, "curl_slist_free_all");
}

#define LIB (pthread_once(&loaded, load), lib)

CURLcode curl_global_init(long flags) { return LIB.global_init(flags); }
CURL *curl_easy_init(void) { return LIB.easy_init(); }
void curl_easy_cleanup(CURL *handle) { LIB.easy_cleanup(handle); }
void curl_easy_reset(CURL *handle) { LIB.easy_reset(handle); }
CURLcode curl_easy_perform(CURL *handle) { return LIB.easy_perform(handle); }
const char *curl_easy_strerror(CURLcode code) { return LIB.easy_strerror(code); }
struct curl_slist *curl_slist_append(struct curl_slist *list, const char *string) { return LIB.slist_append(list, string); }
void curl_slist_free_all(struct curl_slist *list) { LIB.slist_free_all(list); }

CURLcode anvcs_curl_setopt_long(CURL *handle, CURLoption option, long value) { return LIB.easy_setopt(handle, option, value); }
CURLcode anvcs_curl_setopt_offset(CURL *handle, CURLoption option, curl_off_t value) { return LIB.easy_setopt(handle, option, value); }
CURLcode anvcs_curl_setopt_string(CURL *handle, CURLoption option, const char *value) { return LIB.easy_setopt(handle, option, value); }
CURLcode anvcs_curl_setopt_pointer(CURL *handle, CURLoption option, void *value) { return LIB.easy_setopt(handle, option, value); }
CURLcode anvcs_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) { return LIB.easy_setopt(handle, option, value); }
CURLcode anvcs_curl_setopt_data_callback(CURL *handle, CURLoption option, anvcs_curl_data_callback value) { return LIB.easy_setopt(handle, option, value); }
CURLcode anvcs_curl_setopt_seek_callback(CURL *handle, anvcs_curl_seek_callback value) { return LIB.easy_setopt(handle, CURLOPT_SEEKFUNCTION, value); }
CURLcode anvcs_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) { return LIB.easy_getinfo(handle, info, value); }
CURLcode anvcs_curl_getinfo_offset(CURL *handle, CURLINFO info, curl_off_t *value) { return LIB.easy_getinfo(handle, info, value); }
CURLcode anvcs_curl_getinfo_string(CURL *handle, CURLINFO info, const char **value) { return LIB.easy_getinfo(handle, info, value); }
