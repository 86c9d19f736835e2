/*
 * xml.c - the safe reading of client XML and the XCAP error document
 * (see xml.h).
 *
 * The limits are checked before libxml2 sees a byte (size, UTF-8, the XML
 * declaration) and after it built the tree (depth, node count): libxml2's
 * own depth limit (256 without XML_PARSE_HUGE) stops a pathological
 * nesting while parsing, ours keeps what we walk small.
 */
#include "simservs/xml.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlsave.h>

void ss_error_set(struct ss_error *err, enum ss_error_kind kind, const char *fmt, ...)
{
  if (err == NULL || err->kind != SS_ERR_NONE)
    return;
  err->kind = kind;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->phrase, sizeof err->phrase, fmt, ap);
  va_end(ap);
  /* One line of printable text: it goes into an attribute and a log. */
  for (char *p = err->phrase; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      *p = ' ';
}

static const char *error_element(enum ss_error_kind kind)
{
  switch (kind) {
  case SS_ERR_NOT_WELL_FORMED: return "not-well-formed";
  case SS_ERR_NOT_UTF8: return "not-utf-8";
  case SS_ERR_NOT_XML_FRAG: return "not-xml-frag";
  case SS_ERR_NOT_XML_ATT_VALUE: return "not-xml-att-value";
  case SS_ERR_SCHEMA: return "schema-validation-error";
  case SS_ERR_UNIQUENESS: return "uniqueness-failure";
  case SS_ERR_NO_PARENT: return "no-parent";
  case SS_ERR_CANNOT_INSERT: return "cannot-insert";
  case SS_ERR_CANNOT_DELETE: return "cannot-delete";
  case SS_ERR_CONSTRAINT:
  case SS_ERR_TOO_LARGE:
  case SS_ERR_NONE:
    break;
  }
  return "constraint-failure";
}

char *ss_error_body(const struct ss_error *err, size_t *len)
{
  /* Written by hand: the phrase is the only variable part, escaped for an
   * attribute value. */
  char phrase[sizeof err->phrase * 6];
  size_t k = 0;
  for (const char *p = err->phrase; *p && k + 7 < sizeof phrase; p++) {
    const char *esc = *p == '&' ? "&amp;" : *p == '<' ? "&lt;" : *p == '>' ? "&gt;"
                      : *p == '"' ? "&quot;" : NULL;
    if (esc) {
      memcpy(phrase + k, esc, strlen(esc));
      k += strlen(esc);
    } else {
      phrase[k++] = *p;
    }
  }
  phrase[k] = '\0';
  const char *el = error_element(err->kind);
  size_t cap = strlen(phrase) + 256;
  char *body = malloc(cap);
  if (body == NULL)
    return NULL;
  int n = snprintf(body, cap,
                   "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                   "<xcap-error xmlns=\"" SS_NS_XCAP_ERROR "\">\n"
                   "  <%s phrase=\"%s\"/>\n"
                   "</xcap-error>\n", el, phrase);
  *len = n > 0 ? (size_t)n : 0;
  return body;
}

static void quiet_generic(void *ctx, const char *msg, ...)
{
  (void)ctx; (void)msg;
}

static void quiet_structured(void *ctx, xmlErrorPtr error)
{
  (void)ctx; (void)error;
}

void ss_xml_init(void)
{
  static bool done;
  if (done)
    return;
  done = true;
  xmlInitParser();
  xmlSetGenericErrorFunc(NULL, quiet_generic);
  xmlSetStructuredErrorFunc(NULL, quiet_structured);
}

int ss_is(const xmlNode *node, const char *ns, const char *name)
{
  return node != NULL && node->type == XML_ELEMENT_NODE && node->ns != NULL && node->ns->href != NULL &&
         strcmp((const char *)node->ns->href, ns) == 0 && strcmp((const char *)node->name, name) == 0;
}

/* Strict UTF-8 (no overlongs, no surrogates, at most U+10FFFF, no NUL). */
static bool valid_utf8(const unsigned char *s, size_t n)
{
  size_t i = 0;
  while (i < n) {
    unsigned c = s[i];
    if (c == 0)
      return false;
    if (c < 0x80) {
      i++;
      continue;
    }
    size_t more;
    unsigned cp, min;
    if ((c & 0xe0) == 0xc0) { more = 1; cp = c & 0x1f; min = 0x80; }
    else if ((c & 0xf0) == 0xe0) { more = 2; cp = c & 0x0f; min = 0x800; }
    else if ((c & 0xf8) == 0xf0) { more = 3; cp = c & 0x07; min = 0x10000; }
    else return false;
    if (i + more >= n)
      return false;     /* the sequence is cut off */
    for (size_t k = 1; k <= more; k++) {
      if ((s[i + k] & 0xc0) != 0x80)
        return false;
      cp = (cp << 6) | (s[i + k] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += more + 1;
  }
  return true;
}

/* Skips an XML declaration at the start (after an optional BOM). Returns
 * the offset of what follows, or -1 when it names another encoding than
 * UTF-8, -2 when it does not end. */
static long skip_declaration(const char *s, size_t n)
{
  size_t i = 0;
  if (n >= 3 && (unsigned char)s[0] == 0xef && (unsigned char)s[1] == 0xbb && (unsigned char)s[2] == 0xbf)
    i = 3;
  if (n - i < 5 || memcmp(s + i, "<?xml", 5) != 0 ||
      (n - i > 5 && s[i + 5] != ' ' && s[i + 5] != '\t' && s[i + 5] != '\r' && s[i + 5] != '\n' && s[i + 5] != '?'))
    return (long)i;
  size_t end = i + 5;
  while (end + 1 < n && !(s[end] == '?' && s[end + 1] == '>'))
    end++;
  if (end + 1 >= n)
    return -2;
  /* encoding="..." or '...' */
  for (size_t k = i; k + 8 < end; k++)
    if (memcmp(s + k, "encoding", 8) == 0) {
      size_t v = k + 8;
      while (v < end && (s[v] == ' ' || s[v] == '=' || s[v] == '\t'))
        v++;
      if (v < end && (s[v] == '"' || s[v] == '\'')) {
        char q = s[v++];
        size_t e = v;
        while (e < end && s[e] != q)
          e++;
        if (!((e - v == 5 && strncasecmp(s + v, "UTF-8", 5) == 0) ||
              (e - v == 4 && strncasecmp(s + v, "UTF8", 4) == 0)))
          return -1;
      }
      break;
    }
  return (long)(end + 2);
}

/* Depth and node count of the tree under `node`, without recursion. */
static bool within_limits(xmlNodePtr top)
{
  size_t nodes = 0;
  int depth = 1;
  xmlNodePtr n = top;
  while (n != NULL) {
    if (++nodes > SS_NODES_MAX || depth > SS_DEPTH_MAX)
      return false;
    if (n->type == XML_ELEMENT_NODE && n->children != NULL) {
      n = n->children;
      depth++;
      continue;
    }
    while (n != top && n->next == NULL) {
      n = n->parent;
      depth--;
    }
    if (n == top)
      break;
    n = n->next;
  }
  return true;
}

xmlNodePtr ss_xml_parse(const char *body, size_t len, xmlDocPtr *docp, struct ss_error *err)
{
  static const char open[] = "<cdivas-wrap xmlns=\"" SS_NS_SIMSERVS "\" xmlns:ss=\"" SS_NS_SIMSERVS
                             "\" xmlns:cp=\"" SS_NS_CP "\" xmlns:cdv=\"" SS_NS_CDV "\">";
  static const char close[] = "</cdivas-wrap>";
  *docp = NULL;
  ss_xml_init();
  if (len > SS_BODY_MAX) {
    ss_error_set(err, SS_ERR_TOO_LARGE, "the body is larger than %d bytes", SS_BODY_MAX);
    return NULL;
  }
  if (!valid_utf8((const unsigned char *)body, len)) {
    ss_error_set(err, SS_ERR_NOT_UTF8, "the body is not UTF-8");
    return NULL;
  }
  long start = skip_declaration(body, len);
  if (start == -1) {
    ss_error_set(err, SS_ERR_NOT_UTF8, "the XML declaration names an encoding other than UTF-8");
    return NULL;
  }
  if (start < 0) {
    ss_error_set(err, SS_ERR_NOT_WELL_FORMED, "unterminated XML declaration");
    return NULL;
  }
  size_t n = len - (size_t)start;
  char *text = malloc(sizeof open - 1 + n + sizeof close);
  if (text == NULL) {
    ss_error_set(err, SS_ERR_TOO_LARGE, "out of memory");
    return NULL;
  }
  memcpy(text, open, sizeof open - 1);
  memcpy(text + sizeof open - 1, body + start, n);
  memcpy(text + sizeof open - 1 + n, close, sizeof close);
  size_t total = sizeof open - 1 + n + sizeof close - 1;

  xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
  if (ctxt == NULL) {
    free(text);
    ss_error_set(err, SS_ERR_TOO_LARGE, "out of memory");
    return NULL;
  }
  /* No NOENT, DTDLOAD, DTDATTR, XINCLUDE or HUGE: see xml.h. */
  int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA;
  xmlDocPtr doc = xmlCtxtReadMemory(ctxt, text, (int)total, NULL, "UTF-8", options);
  free(text);
  if (doc == NULL || !ctxt->wellFormed || !ctxt->nsWellFormed) {
    xmlErrorPtr e = xmlCtxtGetLastError(ctxt);
    char msg[160] = "malformed XML";
    if (e && e->message) {
      snprintf(msg, sizeof msg, "%s", e->message);
      size_t l = strlen(msg);
      while (l > 0 && (msg[l - 1] == '\n' || msg[l - 1] == ' '))
        msg[--l] = '\0';
    }
    int line = e && e->line > 0 ? e->line : 1;
    ss_error_set(err, SS_ERR_NOT_WELL_FORMED, "not well-formed (line %d): %s", line, msg);
    xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctxt);
    return NULL;
  }
  xmlFreeParserCtxt(ctxt);
  xmlNodePtr wrap = xmlDocGetRootElement(doc), elem = NULL;
  bool frag = wrap != NULL;
  for (xmlNodePtr c = wrap ? wrap->children : NULL; c != NULL; c = c->next) {
    if (c->type == XML_ELEMENT_NODE) {
      if (elem != NULL)
        frag = false;
      elem = c;
    } else if (c->type == XML_TEXT_NODE) {
      for (const xmlChar *p = c->content; p && *p; p++)
        if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
          frag = false;
    } else if (c->type != XML_COMMENT_NODE && c->type != XML_PI_NODE) {
      frag = false;      /* an entity reference, for instance */
    }
  }
  if (!frag || elem == NULL) {
    ss_error_set(err, SS_ERR_NOT_XML_FRAG, "the body must be exactly one XML element");
    xmlFreeDoc(doc);
    return NULL;
  }
  if (!within_limits(elem)) {
    ss_error_set(err, SS_ERR_TOO_LARGE, "more than %d levels or %d nodes", SS_DEPTH_MAX, SS_NODES_MAX);
    xmlFreeDoc(doc);
    return NULL;
  }
  *docp = doc;
  return elem;
}

char *ss_xml_text(xmlDocPtr doc, size_t *len)
{
  xmlChar *buf = NULL;
  int n = 0;
  xmlDocDumpFormatMemoryEnc(doc, &buf, &n, "UTF-8", 1);
  if (buf == NULL)
    return NULL;
  char *out = malloc((size_t)n + 1);
  if (out != NULL) {
    memcpy(out, buf, (size_t)n);
    out[n] = '\0';
    *len = (size_t)n;
  }
  xmlFree(buf);
  return out;
}
