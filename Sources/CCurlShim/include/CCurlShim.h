#ifndef CCURLSHIM_H
#define CCURLSHIM_H
#include <curl/curl.h>
/* Typed, non-variadic wrappers for curl_easy_setopt/getinfo, which Swift cannot call. */

/* The signature shared by CURLOPT_WRITEFUNCTION, CURLOPT_READFUNCTION and CURLOPT_HEADERFUNCTION. */
typedef size_t (*anvcs_curl_data_callback)(char *buffer, size_t size, size_t count, void *context);
/* CURLOPT_SEEKFUNCTION: curl rewinds an upload when it must resend it on a fresh connection. */
typedef int (*anvcs_curl_seek_callback)(void *context, curl_off_t offset, int origin);

CURLcode anvcs_curl_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode anvcs_curl_setopt_offset(CURL *handle, CURLoption option, curl_off_t value);
CURLcode anvcs_curl_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode anvcs_curl_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode anvcs_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value);
CURLcode anvcs_curl_setopt_data_callback(CURL *handle, CURLoption option, anvcs_curl_data_callback value);
CURLcode anvcs_curl_setopt_seek_callback(CURL *handle, anvcs_curl_seek_callback value);
CURLcode anvcs_curl_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode anvcs_curl_getinfo_offset(CURL *handle, CURLINFO info, curl_off_t *value);
CURLcode anvcs_curl_getinfo_string(CURL *handle, CURLINFO info, const char **value);
#endif
