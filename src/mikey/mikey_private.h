/*
 * mikey_private.h - what the two halves of the MIKEY codec (mikey.h)
 * share and nothing outside src/mikey uses: mikey.c frames messages and
 * chains, mikey_payload.c codes each payload's fields, and each calls
 * into the other at one point.
 */
#ifndef CDIVAS_MIKEY_PRIVATE_H
#define CDIVAS_MIKEY_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include "mikey/bytes.h"
#include "mikey/mikey.h"

/* mikey_payload.c: decodes the payload of `type` that starts at the
 * reader's position (its Next Payload byte first) into *p, with its exact
 * bytes (raw, len, off relative to the reader's buffer). False, with the
 * reader's why, for an unknown type or a malformed payload. */
bool mk_payload_decode(struct mk_reader *c, uint8_t type, struct mk_payload *p);

/* mikey.c: starts a payload of `type`: the pending Next Payload field of
 * the chain gets `type`, and the new payload's own Next Payload byte
 * (written as 0) becomes the pending one. Nothing happens once the
 * message has failed. */
void mk_enc_begin(struct mk_enc *e, uint16_t type);

#endif
