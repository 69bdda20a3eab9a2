#ifndef CCURLSHIM_H
#define CCURLSHIM_H
#include <curl/curl.h>
/* Typed, non-variadic wrappers for curl_easy_setopt/getinfo, which Swift cannot call. */
CURLcode anvcs_curl_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode anvcs_curl_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode anvcs_curl_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode anvcs_curl_getinfo_long(CURL *handle, CURLINFO info, long *value);
#endif
