/*
 * key_mgmt.h - the SDP key-mgmt attribute (RFC 4567) carrying MIKEY:
 *   a=key-mgmt:mikey <base64 MIKEY message>
 * Shared by cdivas (which records the ticket's hash of every diverted
 * INVITE) and the UE tool.
 */
#ifndef CDIVAS_KEY_MGMT_H
#define CDIVAS_KEY_MGMT_H

#include <stddef.h>

/* Decodes "a=key-mgmt:mikey <b64>", "mikey <b64>" or bare base64 (the
 * first `len` bytes of `text`). Returns a malloc'd buffer, or NULL. */
unsigned char *cd_key_mgmt_decode(const char *text, size_t len, size_t *out_len);

/* Finds the first a=key-mgmt:mikey line in an SDP body and writes the
 * SHA-256 of its ticket (mk_ticket_hash) as 64 lower-case hex digits.
 * Returns 0, or -1 when there is no such line or no ticket in it. */
int cd_key_mgmt_ticket_hash(const char *sdp, size_t len, char hex[65]);

#endif
