/*
 * mikey_ticket_state.c - the initiator's state between the exchanges: what
 * mk_request_resp hands back and mk_transfer_init / mk_initiator_keys take
 * (its CSB ID, MPKi, MPKr, TGK, identity and the TICKET payload), as
 * opaque bytes the UE tool keeps in a file (doc/mikey.md, decision 14).
 *
 * Design: a flat, versioned layout ("MKT1") written and read with
 * bytes.h; decoding checks every length against the input, since the file
 * comes from outside, and the input must end where the ticket does.
 */
#include <string.h>

#include "mikey/bytes.h"
#include "mikey/mikey_ticket_private.h"

static const char STATE_MAGIC[4] = { 'M', 'K', 'T', '1' };
/* magic, CSB ID, MPKi, MPKr, TGK, length of the initiator */
#define FIXED_LEN (sizeof STATE_MAGIC + 4 + 3 * KEY_LEN + 1)

int mkt_state_encode(const struct a_state *st, unsigned char **out, size_t *out_len)
{
  size_t il = strlen(st->initiator);
  struct mk_writer w;
  if (st->ticket_len > 0xFFFF || st->ticket_len == 0)
    return -1;
  mk_writer_heap(&w, FIXED_LEN + il + 2 + st->ticket_len);
  mk_put(&w, STATE_MAGIC, sizeof STATE_MAGIC);
  mk_put_u32(&w, st->csb);
  mk_put(&w, st->mpki, KEY_LEN);
  mk_put(&w, st->mpkr, KEY_LEN);
  mk_put(&w, st->tgk, KEY_LEN);
  mk_put_u8(&w, (uint8_t)il);
  mk_put(&w, st->initiator, il);
  mk_put_u16(&w, (uint16_t)st->ticket_len);
  mk_put_u8(&w, MK_PT_LAST);              /* the TICKET payload's Next Payload */
  mk_put(&w, st->ticket + 1, st->ticket_len - 1);
  return mk_writer_take(&w, out, out_len);
}

int mkt_state_decode(const unsigned char *p, size_t len, struct a_state *st)
{
  struct mk_reader r;
  memset(st, 0, sizeof *st);
  if (!p)
    return -1;
  mk_reader_init(&r, p, len);
  const unsigned char *magic = mk_get_bytes(&r, sizeof STATE_MAGIC);
  uint32_t csb = mk_get_u32(&r);
  const unsigned char *keys = mk_get_bytes(&r, 3 * KEY_LEN);
  size_t il = mk_get_u8(&r);
  const unsigned char *id = mk_get_bytes(&r, il);
  size_t tl = mk_get_u16(&r);
  const unsigned char *ticket = mk_get_bytes(&r, tl);
  if (r.why || r.pos != len || memcmp(magic, STATE_MAGIC, sizeof STATE_MAGIC) != 0 || il == 0
      || memchr(id, 0, il) || tl == 0)
    return -1;
  st->csb = csb;
  memcpy(st->mpki, keys, KEY_LEN);
  memcpy(st->mpkr, keys + KEY_LEN, KEY_LEN);
  memcpy(st->tgk, keys + 2 * KEY_LEN, KEY_LEN);
  memcpy(st->initiator, id, il);
  st->initiator[il] = '\0';
  st->ticket = ticket;
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
