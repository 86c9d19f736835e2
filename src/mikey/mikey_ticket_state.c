/*
 * mikey_ticket_state.c - the initiator's state between the exchanges: what
 * mk_request_resp hands back and mk_transfer_init / mk_initiator_keys take
 * (its CSB ID, MPKi, MPKr, TGK, identity and the TICKET payload), as
 * opaque bytes the UE tool keeps in a file (doc/mikey.md, decision 14).
 *
 * Design: a flat, versioned layout ("MKT1"); decoding checks every length
 * against the input, since the file comes from outside.
 */
#include <stdlib.h>
#include <string.h>

#include "mikey/mikey_ticket_private.h"

static const char STATE_MAGIC[4] = { 'M', 'K', 'T', '1' };

int mkt_state_encode(const struct a_state *st, unsigned char **out, size_t *out_len)
{
  size_t il = strlen(st->initiator);
  size_t len = 4 + 4 + 3 * KEY_LEN + 1 + il + 2 + st->ticket_len;
  unsigned char *p = malloc(len), *q = p;
  if (!p || st->ticket_len > 0xFFFF || st->ticket_len == 0)
    return free(p), -1;
  memcpy(q, STATE_MAGIC, 4), q += 4;
  for (int i = 0; i < 4; i++)
    *q++ = (unsigned char)(st->csb >> (24 - 8 * i));
  memcpy(q, st->mpki, KEY_LEN), q += KEY_LEN;
  memcpy(q, st->mpkr, KEY_LEN), q += KEY_LEN;
  memcpy(q, st->tgk, KEY_LEN), q += KEY_LEN;
  *q++ = (unsigned char)il;
  memcpy(q, st->initiator, il), q += il;
  *q++ = (unsigned char)(st->ticket_len >> 8);
  *q++ = (unsigned char)st->ticket_len;
  memcpy(q, st->ticket, st->ticket_len);
  p[len - st->ticket_len] = MK_PT_LAST;
  *out = p;
  *out_len = len;
  return 0;
}

int mkt_state_decode(const unsigned char *p, size_t len, struct a_state *st)
{
  size_t fixed = 4 + 4 + 3 * KEY_LEN + 1;
  memset(st, 0, sizeof *st);
  if (!p || len < fixed || memcmp(p, STATE_MAGIC, 4) != 0)
    return -1;
  st->csb = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
  memcpy(st->mpki, p + 8, KEY_LEN);
  memcpy(st->mpkr, p + 8 + KEY_LEN, KEY_LEN);
  memcpy(st->tgk, p + 8 + 2 * KEY_LEN, KEY_LEN);
  size_t il = p[fixed - 1];
  if (il == 0 || len - fixed < il + 2)
    return -1;
  memcpy(st->initiator, p + fixed, il);
  st->initiator[il] = '\0';
  if (memchr(st->initiator, 0, il))
    return -1;
  size_t tl = (size_t)p[fixed + il] << 8 | p[fixed + il + 1];
  if (tl == 0 || len - fixed - il - 2 != tl)
    return -1;
  st->ticket = p + fixed + il + 2;
  st->ticket_len = tl;
  return 0;
}

const struct mk_payload *mkt_state_ticket(const struct a_state *st, struct mk_chain *c)
{
  if (mk_decode_chain(st->ticket, st->ticket_len, MK_PT_TICKET, MK_CTX_MSG, 0, c, NULL) != 0
      || c->n != 1)
    return NULL;
  return &c->p[0];
}
