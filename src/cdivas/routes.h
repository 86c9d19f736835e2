/*
 * inquiry_http.h - cdivas's HTTP(S) endpoint: the KMS inquiry
 * (doc/inquiry-api.md), /metrics and /health, on http_server.
 */
#ifndef CDIVAS_INQUIRY_HTTP_H
#define CDIVAS_INQUIRY_HTTP_H

#include <stdbool.h>
#include <sofia-sip/su_wait.h>

struct cd_proxy;
struct cd_inquiry_service;

/* Listens on the conf's inquiry.listen; NULL after logging why. */
struct cd_inquiry_service *cd_inquiry_service_start(su_root_t *root, struct cd_proxy *proxy);
void cd_inquiry_service_destroy(struct cd_inquiry_service *service);

/* Counts a SIGHUP reload for /metrics (NULL service: nothing). */
void cd_inquiry_service_count_reload(struct cd_inquiry_service *service, bool ok);
struct cd_xcap_service;
/* Adds the XCAP server's counters to /metrics (NULL: none). */
void cd_inquiry_service_show_xcap(struct cd_inquiry_service *service, const struct cd_xcap_service *xcap);

#endif
