/*
 * uri.h - the XCAP URI of a simservs document (RFC 4825 6, TS 24.623):
 *
 *   /simservs.ngn.etsi.org/users/<XUI>/simservs.xml[/~~/<node selector>][?<query>]
 *
 * The XUI is the subscriber's identity (sip:bob@ims.example.net, or a
 * tel: alias), percent-encoded or not; the node selector and the query
 * (namespace bindings) are percent-decoded here and parsed by
 * simservs/selector.h.
 */
#ifndef CDIVAS_XCAP_URI_H
#define CDIVAS_XCAP_URI_H

#include <stddef.h>

#define CD_XCAP_AUID "simservs.ngn.etsi.org"
#define CD_XCAP_DOCUMENT "simservs.xml"

struct cd_xcap_uri {
  char *xui;                  /* decoded */
  char *selector;             /* decoded node selector; NULL: the whole document */
  char *query;                /* decoded query; NULL: none */
};

/* `path`: the request path without its leading '/', as Sofia-SIP's URL
 * parser leaves it (some escapes decoded, others not: decoding it fully
 * once is what this does); `query`: what follows '?', or NULL. Returns 0,
 * or -1 with *why (the URI names no simservs document: a 404). */
int cd_xcap_uri_parse(const char *path, const char *query, struct cd_xcap_uri *out, const char **why);
void cd_xcap_uri_free(struct cd_xcap_uri *uri);

/* The n bytes of s, percent-decoded: malloc'd, or NULL on a bad escape
 * or an encoded NUL. */
char *cd_xcap_pct_decode(const char *s, size_t n);

#endif
