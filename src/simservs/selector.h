/*
 * selector.h - XCAP node selectors (RFC 4825 6.3) over a simservs
 * document: parse one, and GET, PUT or DELETE what it selects.
 *
 * Supported: element steps by name (QName or *), by position
 * (cp:rule[2]), by attribute (cp:rule[@id="x"]) and by both
 * (cp:rule[2][@id="x"]); a terminal attribute selector (@active). Not
 * supported: namespace::* and extension selectors (refused as bad
 * selectors).
 *
 * Prefixes are those the query binds (?xmlns(p=urn:...)xmlns(q=...), the
 * XPointer xmlns() scheme of RFC 4825 6.4); else ss, cp and cdv stand
 * for the simservs, common-policy and cdivas namespaces; a name without a
 * prefix is in the simservs namespace (the application usage's default).
 *
 * The operations change the tree in place and say whether the selector
 * matched; checking that the result is still a document cdivas can take
 * (cdiv.h), and that a GET of the same selector now finds what was PUT
 * (or nothing, after a DELETE), is the caller's next step.
 */
#ifndef CDIVAS_SIMSERVS_SELECTOR_H
#define CDIVAS_SIMSERVS_SELECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <libxml/tree.h>
#include "simservs/xml.h"

#define SS_MAX_STEPS 16

struct ss_step {
  char *ns;                   /* namespace name; NULL with name NULL: "*" */
  char *name;                 /* local name; NULL: "*" */
  int position;               /* 1..; 0: none */
  char *attr_name;            /* the attribute test, NULL for none */
  char *attr_value;
};

struct ss_selector {
  struct ss_step steps[SS_MAX_STEPS];
  size_t n_steps;             /* at least 1 */
  char *attribute;            /* the terminal attribute selector's name, NULL for an element */
};

/* Parses `selector` (percent-decoded: what follows "~~/" in the URI)
 * with the namespace bindings of `query` (percent-decoded, NULL for
 * none). Returns 0, or -1 with why (a static or buf string) and nothing to
 * free. */
int ss_selector_parse(const char *selector, const char *query, struct ss_selector *sel,
                      const char **why, char *buf, size_t bufsize);
void ss_selector_free(struct ss_selector *sel);

/* How many elements the element steps select (0, 1 or more; 2 stands for
 * "more than one"), *elem being the match when there is exactly one. */
int ss_select(xmlDocPtr doc, const struct ss_selector *sel, xmlNodePtr *elem);

/* GET: the selected element, with the namespace declarations it needs and
 * without an XML declaration, or the selected attribute's value (escaped
 * as in a document). 0 and *out (malloc'd, *len), 404 when nothing (or
 * more than one element) is selected, -1 when out of memory. */
int ss_get(xmlDocPtr doc, const struct ss_selector *sel, char **out, size_t *len);

/* PUT of an element (an element selector): replaces the one selected, or
 * inserts `elem` where the selector says (its parent must be there; it
 * goes after the last sibling of its name, else last), *created telling
 * which. 0, or 409 with *err (no-parent, cannot-insert: elem is not what
 * the last step names, the selector matches more than one, or the
 * position does not follow on), -1 out of memory. */
int ss_put_element(xmlDocPtr doc, const struct ss_selector *sel, const xmlNode *elem, bool *created,
                   struct ss_error *err);

/* PUT of an attribute (an attribute selector): `value` is the body, the
 * value as in a document (the predefined entities and character
 * references decoded). 0, or 409 with *err (no-parent, not-xml-att-value),
 * -1 out of memory. */
int ss_put_attribute(xmlDocPtr doc, const struct ss_selector *sel, const char *value, size_t len,
                     bool *created, struct ss_error *err);

/* DELETE of what is selected: 0, 404 when there is nothing (or more than
 * one element), 409 with *err when the root would go. */
int ss_delete(xmlDocPtr doc, const struct ss_selector *sel, struct ss_error *err);

/* Whether the selector finds something (exactly one element; for an
 * attribute selector, the attribute on it). */
bool ss_selects(xmlDocPtr doc, const struct ss_selector *sel);

#endif
