/*
 * selector.c - XCAP node selectors (see selector.h).
 *
 * A selector is evaluated step by step over sets of elements, starting
 * from the document (whose only child is the root element); the sets are
 * small (a simservs document has a few dozen elements), so each step
 * simply scans the children of the set before it.
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L     /* strdup, strndup */
#endif
#include "simservs/selector.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ parsing */

struct binding {
  char prefix[64];
  char uri[512];
};

/* xmlns(p=uri)xmlns(q=uri) with XPointer's ^ escapes (^( ^) ^^). */
static int parse_query(const char *q, struct binding *b, size_t max, size_t *n, const char **why)
{
  *n = 0;
  while (q && *q) {
    while (*q == ' ')
      q++;
    if (*q == '\0')
      break;
    if (strncmp(q, "xmlns(", 6) != 0) {
      *why = "the query may only bind namespaces: xmlns(prefix=namespace)";
      return -1;
    }
    q += 6;
    size_t k = 0;
    while (*q == ' ')
      q++;
    while (*q && *q != '=' && *q != ' ' && k + 1 < sizeof b->prefix)
      b[*n].prefix[k++] = *q++;
    b[*n].prefix[k] = '\0';
    while (*q == ' ')
      q++;
    if (k == 0 || *q != '=') {
      *why = "bad xmlns() in the query: expected xmlns(prefix=namespace)";
      return -1;
    }
    q++;
    while (*q == ' ')
      q++;
    k = 0;
    while (*q && *q != ')') {
      if (*q == '^' && (q[1] == '(' || q[1] == ')' || q[1] == '^'))
        q++;
      if (k + 1 >= sizeof b->uri) {
        *why = "namespace name too long in the query";
        return -1;
      }
      b[*n].uri[k++] = *q++;
    }
    while (k > 0 && b[*n].uri[k - 1] == ' ')
      k--;
    b[*n].uri[k] = '\0';
    if (*q != ')' || k == 0) {
      *why = "bad xmlns() in the query: expected xmlns(prefix=namespace)";
      return -1;
    }
    q++;
    if (++*n >= max) {
      *why = "too many namespace bindings in the query";
      return -1;
    }
  }
  return 0;
}

static bool ncname(const char *s, size_t n)
{
  if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_' || (unsigned char)s[0] >= 0x80))
    return false;
  for (size_t i = 1; i < n; i++)
    if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '-' || s[i] == '.' ||
          (unsigned char)s[i] >= 0x80))
      return false;
  return true;
}

/* Resolves QName s[0..n) into ns and local name; "*" gives NULL, NULL. */
static int resolve(const char *s, size_t n, bool attribute, const struct binding *b, size_t nb,
                   char **ns, char **name, const char **why)
{
  *ns = *name = NULL;
  if (n == 1 && s[0] == '*' && !attribute)
    return 0;
  const char *colon = memchr(s, ':', n);
  const char *local = colon ? colon + 1 : s;
  size_t ln = (size_t)(s + n - local);
  if ((colon && !ncname(s, (size_t)(colon - s))) || !ncname(local, ln)) {
    *why = "bad name in the node selector";
    return -1;
  }
  const char *uri = NULL;
  if (colon) {
    size_t pn = (size_t)(colon - s);
    for (size_t i = 0; i < nb && !uri; i++)
      if (strlen(b[i].prefix) == pn && memcmp(b[i].prefix, s, pn) == 0)
        uri = b[i].uri;
    if (!uri && pn == 2 && memcmp(s, "ss", 2) == 0)
      uri = SS_NS_SIMSERVS;
    if (!uri && pn == 2 && memcmp(s, "cp", 2) == 0)
      uri = SS_NS_CP;
    if (!uri && pn == 3 && memcmp(s, "cdv", 3) == 0)
      uri = SS_NS_CDV;
    if (!uri) {
      *why = "a prefix of the node selector is bound to no namespace";
      return -1;
    }
  } else if (!attribute) {
    uri = SS_NS_SIMSERVS;
  }
  *name = strndup(local, ln);
  *ns = uri ? strdup(uri) : NULL;
  if (*name == NULL || (uri && *ns == NULL)) {
    free(*name);
    free(*ns);
    *ns = *name = NULL;
    *why = "out of memory";
    return -1;
  }
  return 0;
}

void ss_selector_free(struct ss_selector *sel)
{
  for (size_t i = 0; i < sel->n_steps; i++) {
    free(sel->steps[i].ns);
    free(sel->steps[i].name);
    free(sel->steps[i].attr_name);
    free(sel->steps[i].attr_value);
  }
  free(sel->attribute);
  memset(sel, 0, sizeof *sel);
}

/* One step s[0..n): NameorAny ( "[" pos "]" )? ( "[@" att "=" value "]" )? */
static int parse_step(const char *s, size_t n, const struct binding *b, size_t nb, struct ss_step *st,
                      const char **why)
{
  size_t name_end = 0;
  while (name_end < n && s[name_end] != '[')
    name_end++;
  if (resolve(s, name_end, false, b, nb, &st->ns, &st->name, why) < 0)
    return -1;
  size_t i = name_end;
  while (i < n) {
    if (s[i] != '[') {
      *why = "bad predicate in the node selector";
      return -1;
    }
    i++;
    if (i < n && isdigit((unsigned char)s[i])) {
      if (st->position || st->attr_name) {
        *why = "bad predicate in the node selector";
        return -1;
      }
      long pos = 0;
      while (i < n && isdigit((unsigned char)s[i]) && pos < 100000)
        pos = pos * 10 + (s[i++] - '0');
      if (pos < 1 || pos >= 100000 || i >= n || s[i] != ']') {
        *why = "bad position in the node selector";
        return -1;
      }
      st->position = (int)pos;
      i++;
    } else if (i < n && s[i] == '@') {
      if (st->attr_name) {
        *why = "bad predicate in the node selector";
        return -1;
      }
      size_t a = ++i;
      while (i < n && s[i] != '=')
        i++;
      char *ns = NULL;
      if (i >= n || resolve(s + a, i - a, true, b, nb, &ns, &st->attr_name, why) < 0) {
        if (i >= n)
          *why = "bad attribute test in the node selector";
        return -1;
      }
      bool namespaced = ns != NULL;
      free(ns);
      if (namespaced) {
        *why = "namespaced attributes are not used in simservs";
        return -1;
      }
      i++;
      if (i >= n || (s[i] != '"' && s[i] != '\'')) {
        *why = "the attribute value of a node selector must be quoted";
        return -1;
      }
      char q = s[i++];
      size_t v = i;
      while (i < n && s[i] != q)
        i++;
      if (i + 1 >= n || s[i + 1] != ']') {
        *why = "unterminated attribute test in the node selector";
        return -1;
      }
      if ((st->attr_value = strndup(s + v, i - v)) == NULL) {
        *why = "out of memory";
        return -1;
      }
      i += 2;
    } else {
      *why = "bad predicate in the node selector";
      return -1;
    }
  }
  return 0;
}

int ss_selector_parse(const char *selector, const char *query, struct ss_selector *sel,
                      const char **why, char *buf, size_t bufsize)
{
  struct binding b[8];
  size_t nb = 0;
  (void)buf; (void)bufsize;
  memset(sel, 0, sizeof *sel);
  if (parse_query(query, b, 8, &nb, why) < 0)
    return -1;
  const char *p = selector;
  size_t len = strlen(selector);
  if (len == 0) {
    *why = "empty node selector";
    return -1;
  }
  while (*p) {
    /* the step ends at a '/' outside quotes */
    size_t n = 0;
    char q = 0;
    for (; p[n] && (q || p[n] != '/'); n++)
      if (q && p[n] == q)
        q = 0;
      else if (!q && (p[n] == '"' || p[n] == '\''))
        q = p[n];
    if (q) {
      *why = "unterminated quote in the node selector";
      goto bad;
    }
    if (n == 0) {
      *why = "empty step in the node selector";
      goto bad;
    }
    bool last = p[n] == '\0';
    if (p[0] == '@') {
      char *ns = NULL;
      if (!last) {
        *why = "an attribute selector must be the last step";
        goto bad;
      }
      if (resolve(p + 1, n - 1, true, b, nb, &ns, &sel->attribute, why) < 0)
        goto bad;
      bool namespaced = ns != NULL;
      free(ns);
      if (namespaced) {
        *why = "namespaced attributes are not used in simservs";
        goto bad;
      }
    } else if (n >= 9 && strncmp(p, "namespace", 9) == 0 && (n == 9 || p[9] == ':')) {
      *why = "namespace selectors are not supported";
      goto bad;
    } else {
      if (sel->n_steps >= SS_MAX_STEPS) {
        *why = "too many steps in the node selector";
        goto bad;
      }
      if (parse_step(p, n, b, nb, &sel->steps[sel->n_steps++], why) < 0)
        goto bad;
    }
    p += n;
    if (*p == '/') {
      p++;
      if (*p == '\0') {
        *why = "the node selector ends with /";
        goto bad;
      }
    }
  }
  if (sel->n_steps == 0) {
    *why = "a node selector starts with an element step";
    goto bad;
  }
  return 0;
bad:
  ss_selector_free(sel);
  return -1;
}

/* ------------------------------------------------------------ evaluation */

static bool name_matches(const xmlNode *n, const struct ss_step *st)
{
  if (n->type != XML_ELEMENT_NODE)
    return false;
  if (st->name == NULL)
    return true;
  return n->ns && n->ns->href && st->ns && strcmp((const char *)n->ns->href, st->ns) == 0 &&
         strcmp((const char *)n->name, st->name) == 0;
}

static bool attr_matches(xmlNode *n, const struct ss_step *st)
{
  if (st->attr_name == NULL)
    return true;
  xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)st->attr_name);
  bool ok = v && strcmp((const char *)v, st->attr_value) == 0;
  xmlFree(v);
  return ok;
}

#define SET_MAX 256

/* The children of the nodes in `in` that step `st` selects. */
static size_t step(xmlNodePtr *in, size_t n_in, const struct ss_step *st, xmlNodePtr *out)
{
  size_t n_out = 0;
  for (size_t i = 0; i < n_in; i++) {
    int pos = 0;
    for (xmlNodePtr c = in[i]->children; c != NULL; c = c->next) {
      if (!name_matches(c, st))
        continue;
      pos++;
      if (st->position && pos != st->position)
        continue;
      if (attr_matches(c, st) && n_out < SET_MAX)
        out[n_out++] = c;
    }
  }
  return n_out;
}

/* Evaluates the first `steps` element steps; the set is in `set`. */
static size_t eval(xmlDocPtr doc, const struct ss_selector *sel, size_t steps, xmlNodePtr *set)
{
  xmlNodePtr a[SET_MAX], b[SET_MAX];
  xmlNodePtr *cur = a, *next = b;
  cur[0] = (xmlNodePtr)doc;
  size_t n = 1;
  for (size_t i = 0; i < steps && n > 0; i++) {
    n = step(cur, n, &sel->steps[i], next);
    xmlNodePtr *t = cur;
    cur = next;
    next = t;
  }
  memcpy(set, cur, n * sizeof *set);
  return n;
}

int ss_select(xmlDocPtr doc, const struct ss_selector *sel, xmlNodePtr *elem)
{
  xmlNodePtr set[SET_MAX];
  size_t n = eval(doc, sel, sel->n_steps, set);
  *elem = n == 1 ? set[0] : NULL;
  return n > 1 ? 2 : (int)n;
}

bool ss_selects(xmlDocPtr doc, const struct ss_selector *sel)
{
  xmlNodePtr e;
  if (ss_select(doc, sel, &e) != 1)
    return false;
  return sel->attribute == NULL || xmlHasNsProp(e, (const xmlChar *)sel->attribute, NULL) != NULL;
}

/* ------------------------------------------------------------ GET */

static char *escape_attr(const char *v, size_t *len)
{
  size_t n = 0;
  for (const char *p = v; *p; p++)
    n += *p == '&' ? 5 : *p == '<' || *p == '>' ? 4 : *p == '"' ? 6 : 1;
  char *out = malloc(n + 1), *o = out;
  if (out == NULL)
    return NULL;
  for (const char *p = v; *p; p++) {
    const char *e = *p == '&' ? "&amp;" : *p == '<' ? "&lt;" : *p == '>' ? "&gt;" : *p == '"' ? "&quot;" : NULL;
    if (e) {
      memcpy(o, e, strlen(e));
      o += strlen(e);
    } else {
      *o++ = *p;
    }
  }
  *o = '\0';
  *len = n;
  return out;
}

int ss_get(xmlDocPtr doc, const struct ss_selector *sel, char **out, size_t *len)
{
  xmlNodePtr e;
  if (ss_select(doc, sel, &e) != 1)
    return 404;
  if (sel->attribute) {
    xmlChar *v = xmlGetNoNsProp(e, (const xmlChar *)sel->attribute);
    if (v == NULL)
      return 404;
    *out = escape_attr((const char *)v, len);
    xmlFree(v);
    return *out ? 0 : -1;
  }
  /* A copy as the root of a document of its own declares every namespace
   * it uses (libxml2 adds the declarations from the original's scope). */
  xmlDocPtr d = xmlNewDoc((const xmlChar *)"1.0");
  xmlNodePtr copy = d ? xmlDocCopyNode(e, d, 1) : NULL;
  if (copy == NULL) {
    xmlFreeDoc(d);
    return -1;
  }
  xmlDocSetRootElement(d, copy);
  xmlReconciliateNs(d, copy);
  xmlBufferPtr buf = xmlBufferCreate();
  int rc = -1;
  if (buf && xmlNodeDump(buf, d, copy, 0, 1) >= 0) {
    size_t n = (size_t)xmlBufferLength(buf);
    if ((*out = malloc(n + 2)) != NULL) {
      memcpy(*out, xmlBufferContent(buf), n);
      (*out)[n] = '\n';
      (*out)[n + 1] = '\0';
      *len = n + 1;
      rc = 0;
    }
  }
  xmlBufferFree(buf);
  xmlFreeDoc(d);
  return rc;
}

/* ------------------------------------------------------------ PUT, DELETE */

static bool same_name(const xmlNode *a, const struct ss_step *st)
{
  return name_matches(a, st);
}

static bool same_expanded_name(const xmlNode *a, const xmlNode *b)
{
  const char *na = a->ns && a->ns->href ? (const char *)a->ns->href : "";
  const char *nb = b->ns && b->ns->href ? (const char *)b->ns->href : "";
  return strcmp(na, nb) == 0 && strcmp((const char *)a->name, (const char *)b->name) == 0;
}

int ss_put_element(xmlDocPtr doc, const struct ss_selector *sel, const xmlNode *elem, bool *created,
                   struct ss_error *err)
{
  const struct ss_step *last = &sel->steps[sel->n_steps - 1];
  xmlNodePtr old;
  *created = false;
  int n = ss_select(doc, sel, &old);
  if (n > 1) {
    ss_error_set(err, SS_ERR_CANNOT_INSERT, "the node selector selects more than one element");
    return 409;
  }
  if (!same_name(elem, last) || (last->attr_name && !attr_matches((xmlNodePtr)elem, last))) {
    ss_error_set(err, SS_ERR_CANNOT_INSERT, "the element in the body is not the one the node selector names");
    return 409;
  }
  xmlNodePtr copy = xmlDocCopyNode((xmlNodePtr)elem, doc, 1);
  if (copy == NULL)
    return -1;
  if (n == 1) {
    if (old == xmlDocGetRootElement(doc)) {
      xmlDocSetRootElement(doc, copy);
    } else {
      xmlReplaceNode(old, copy);
    }
    xmlFreeNode(old);
    xmlReconciliateNs(doc, copy);
    return 0;
  }
  /* Insertion: under the one parent the other steps select. */
  xmlNodePtr parents[SET_MAX];
  size_t np = eval(doc, sel, sel->n_steps - 1, parents);
  if (sel->n_steps == 1) {
    xmlFreeNode(copy);
    ss_error_set(err, SS_ERR_CANNOT_INSERT, "a document has one document element");
    return 409;
  }
  if (np != 1) {
    xmlFreeNode(copy);
    ss_error_set(err, SS_ERR_NO_PARENT, np == 0 ? "the parent of the element does not exist"
                                                : "the node selector's parent is not one element");
    return 409;
  }
  xmlNodePtr parent = parents[0], after = NULL;
  int count = 0;
  for (xmlNodePtr c = parent->children; c != NULL; c = c->next) {
    if (name_matches(c, last))
      count++;
    if (c->type == XML_ELEMENT_NODE && same_expanded_name(c, copy))
      after = c;
  }
  if (last->position && last->position != count + 1) {
    xmlFreeNode(copy);
    ss_error_set(err, SS_ERR_CANNOT_INSERT, "position %d does not follow the %d element(s) there",
                 last->position, count);
    return 409;
  }
  if (after)
    xmlAddNextSibling(after, copy);
  else
    xmlAddChild(parent, copy);
  xmlReconciliateNs(doc, copy);
  *created = true;
  return 0;
}

/* The attribute value from its document form: &amp; &lt; &gt; &quot;
 * &apos; and &#..; decoded; a bare & or <, or a ", is not an attribute
 * value. Returns malloc'd UTF-8, or NULL. */
static char *att_value(const char *v, size_t len, bool *bad)
{
  char *out = malloc(len * 4 + 1), *o = out;
  *bad = false;
  if (out == NULL)
    return NULL;
  for (size_t i = 0; i < len; i++) {
    char c = v[i];
    if (c == '<' || c == '"' || c == '\0') {
      *bad = true;
      break;
    }
    if (c != '&') {
      *o++ = c;
      continue;
    }
    static const struct { const char *name; char ch; } ents[] = {
      { "amp;", '&' }, { "lt;", '<' }, { "gt;", '>' }, { "quot;", '"' }, { "apos;", '\'' } };
    bool done = false;
    for (size_t k = 0; k < 5 && !done; k++) {
      size_t el = strlen(ents[k].name);
      if (i + 1 + el <= len && memcmp(v + i + 1, ents[k].name, el) == 0) {
        *o++ = ents[k].ch;
        i += el;
        done = true;
      }
    }
    if (!done && i + 2 < len && v[i + 1] == '#') {
      size_t j = i + 2;
      bool hex = v[j] == 'x';
      if (hex)
        j++;
      unsigned long cp = 0;
      size_t start = j;
      while (j < len && (hex ? isxdigit((unsigned char)v[j]) : isdigit((unsigned char)v[j])) && cp <= 0x10ffff)
        cp = cp * (hex ? 16 : 10) + (unsigned long)(isdigit((unsigned char)v[j]) ? v[j] - '0'
                                                    : (tolower((unsigned char)v[j]) - 'a' + 10)), j++;
      if (j > start && j < len && v[j] == ';' && cp > 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff)) {
        if (cp < 0x80) *o++ = (char)cp;
        else if (cp < 0x800) *o++ = (char)(0xc0 | (cp >> 6)), *o++ = (char)(0x80 | (cp & 0x3f));
        else if (cp < 0x10000) *o++ = (char)(0xe0 | (cp >> 12)), *o++ = (char)(0x80 | ((cp >> 6) & 0x3f)),
                               *o++ = (char)(0x80 | (cp & 0x3f));
        else *o++ = (char)(0xf0 | (cp >> 18)), *o++ = (char)(0x80 | ((cp >> 12) & 0x3f)),
             *o++ = (char)(0x80 | ((cp >> 6) & 0x3f)), *o++ = (char)(0x80 | (cp & 0x3f));
        i = j;
        done = true;
      }
    }
    if (!done) {
      *bad = true;
      break;
    }
  }
  *o = '\0';
  if (*bad) {
    free(out);
    return NULL;
  }
  return out;
}

int ss_put_attribute(xmlDocPtr doc, const struct ss_selector *sel, const char *value, size_t len,
                     bool *created, struct ss_error *err)
{
  xmlNodePtr e;
  *created = false;
  if (ss_select(doc, sel, &e) != 1) {
    ss_error_set(err, SS_ERR_NO_PARENT, "the element of the attribute does not exist");
    return 409;
  }
  bool bad;
  char *v = att_value(value, len, &bad);
  if (v == NULL) {
    if (!bad)
      return -1;
    ss_error_set(err, SS_ERR_NOT_XML_ATT_VALUE, "the body is not an attribute value");
    return 409;
  }
  *created = xmlHasNsProp(e, (const xmlChar *)sel->attribute, NULL) == NULL;
  xmlAttrPtr a = xmlSetProp(e, (const xmlChar *)sel->attribute, (const xmlChar *)v);
  free(v);
  return a ? 0 : -1;
}

int ss_delete(xmlDocPtr doc, const struct ss_selector *sel, struct ss_error *err)
{
  xmlNodePtr e;
  if (ss_select(doc, sel, &e) != 1)
    return 404;
  if (sel->attribute) {
    xmlAttrPtr a = xmlHasNsProp(e, (const xmlChar *)sel->attribute, NULL);
    if (a == NULL)
      return 404;
    xmlRemoveProp(a);
    return 0;
  }
  if (e == xmlDocGetRootElement(doc)) {
    ss_error_set(err, SS_ERR_CANNOT_DELETE, "the document element cannot be deleted (DELETE the document)");
    return 409;
  }
  xmlUnlinkNode(e);
  xmlFreeNode(e);
  return 0;
}
