/*
 * uri.c - the XCAP URI of a simservs document (see uri.h).
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include "xcap/uri.h"

#include <stdlib.h>
#include <string.h>

static int hexval(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

char *cd_xcap_pct_decode(const char *s, size_t n)
{
  char *out = malloc(n + 1);
  size_t k = 0;
  if (out == NULL)
    return NULL;
  for (size_t i = 0; i < n; i++) {
    if (s[i] != '%') {
      out[k++] = s[i];
      continue;
    }
    int h = i + 2 < n ? hexval(s[i + 1]) : -1, l = i + 2 < n ? hexval(s[i + 2]) : -1;
    if (h < 0 || l < 0 || (h == 0 && l == 0)) {
      free(out);
      return NULL;
    }
    out[k++] = (char)(h * 16 + l);
    i += 2;
  }
  out[k] = '\0';
  return out;
}

void cd_xcap_uri_free(struct cd_xcap_uri *uri)
{
  free(uri->xui);
  free(uri->selector);
  free(uri->query);
  uri->xui = uri->selector = uri->query = NULL;
}

int cd_xcap_uri_parse(const char *path, const char *query, struct cd_xcap_uri *out, const char **why)
{
  static const char users[] = CD_XCAP_AUID "/users/";
  static const char doc[] = "/" CD_XCAP_DOCUMENT;
  out->xui = out->selector = out->query = NULL;
  if (path == NULL || strncmp(path, users, sizeof users - 1) != 0) {
    *why = "not a simservs document (/" CD_XCAP_AUID "/users/<XUI>/" CD_XCAP_DOCUMENT ")";
    return -1;
  }
  const char *xui = path + sizeof users - 1, *end = NULL;
  for (const char *p = strstr(xui, doc); p; p = strstr(p + 1, doc)) {
    const char *after = p + sizeof doc - 1;
    if (*after == '\0' || strncmp(after, "/~~/", 4) == 0) {
      end = p;
      break;
    }
  }
  if (end == NULL) {
    *why = "no such document (the simservs document is " CD_XCAP_DOCUMENT ")";
    return -1;
  }
  if (end == xui) {
    *why = "no XUI in the URI";
    return -1;
  }
  if ((out->xui = cd_xcap_pct_decode(xui, (size_t)(end - xui))) == NULL) {
    *why = "bad %-escape in the XUI";
    return -1;
  }
  const char *after = end + sizeof doc - 1;
  if (*after == '/') {
    const char *sel = after + 4;
    if (*sel == '\0') {
      *why = "empty node selector";
      cd_xcap_uri_free(out);
      return -1;
    }
    if ((out->selector = cd_xcap_pct_decode(sel, strlen(sel))) == NULL) {
      *why = "bad %-escape in the node selector";
      cd_xcap_uri_free(out);
      return -1;
    }
  }
  if (query && *query && (out->query = cd_xcap_pct_decode(query, strlen(query))) == NULL) {
    *why = "bad %-escape in the query";
    cd_xcap_uri_free(out);
    return -1;
  }
  return 0;
}
