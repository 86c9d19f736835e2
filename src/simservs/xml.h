/*
 * xml.h - what the simservs module shares: the namespaces, the XCAP error
 * (RFC 4825 11) a request is refused with, and the one way cdivas reads
 * XML that comes from outside.
 *
 * Reading XML from a client is reading hostile input, so ss_xml_parse()
 * does it one way only: libxml2 with no network (XML_PARSE_NONET), no
 * entity substitution (no XML_PARSE_NOENT), no DTD loaded or even allowed
 * (the text is parsed inside a wrapper element, where a <!DOCTYPE> is not
 * well-formed: no internal subset, so no entity can be declared, which
 * stops "billion laughs" and external entities alike), UTF-8 only, at
 * most SS_BODY_MAX bytes, SS_DEPTH_MAX levels and SS_NODES_MAX nodes.
 *
 * The wrapper also declares the prefixes ss, cp and cdv and makes the
 * simservs namespace the default: phones send an element cut from a
 * document they parsed without namespaces, prefixes and all but without
 * their declarations (doc/xcap.md), and such a body then still means
 * what it says. A body's own declarations take precedence.
 */
#ifndef CDIVAS_SIMSERVS_XML_H
#define CDIVAS_SIMSERVS_XML_H

#include <stddef.h>
#include <libxml/tree.h>

#define SS_NS_SIMSERVS "http://uri.etsi.org/ngn/params/xml/simservs/xcap"
#define SS_NS_CP "urn:ietf:params:xml:ns:common-policy"
/* cdivas's own conditions, for what its rule model has and TS 24.604 has
 * not: weekly periods and communication deflection (doc/xcap.md). */
#define SS_NS_CDV "urn:x-cdivas:xml:ns:cdiv"
#define SS_NS_XCAP_ERROR "urn:ietf:params:xml:ns:xcap-error"

#define SS_BODY_MAX 65536
#define SS_DEPTH_MAX 32
#define SS_NODES_MAX 8192

/* Why a request was refused: the element of an <xcap-error> document
 * (answered with 409), except SS_ERR_TOO_LARGE (413). */
enum ss_error_kind {
  SS_ERR_NONE = 0,
  SS_ERR_NOT_WELL_FORMED,     /* <not-well-formed> */
  SS_ERR_NOT_UTF8,            /* <not-utf-8> */
  SS_ERR_NOT_XML_FRAG,        /* <not-xml-frag>: not exactly one element */
  SS_ERR_NOT_XML_ATT_VALUE,   /* <not-xml-att-value> */
  SS_ERR_SCHEMA,              /* <schema-validation-error>: not a simservs document */
  SS_ERR_CONSTRAINT,          /* <constraint-failure>: valid, but cdivas cannot take it */
  SS_ERR_UNIQUENESS,          /* <uniqueness-failure>: two rules with one id */
  SS_ERR_NO_PARENT,           /* <no-parent> */
  SS_ERR_CANNOT_INSERT,       /* <cannot-insert> */
  SS_ERR_CANNOT_DELETE,       /* <cannot-delete> */
  SS_ERR_TOO_LARGE,           /* more than SS_BODY_MAX bytes, SS_DEPTH_MAX levels or SS_NODES_MAX nodes */
};

struct ss_error {
  enum ss_error_kind kind;
  char phrase[256];           /* for people: what is wrong, and where */
};

/* Sets *err (when err is not NULL and no error is set yet: the first one
 * found is the one reported). */
void ss_error_set(struct ss_error *err, enum ss_error_kind kind, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));

/* The <xcap-error> document for err (malloc'd, *len its length), or NULL
 * when out of memory. */
char *ss_error_body(const struct ss_error *err, size_t *len);

/* Makes libxml2 quiet (errors are reported through struct ss_error, never
 * printed) and initializes it; called by ss_xml_parse(), may be called
 * again. */
void ss_xml_init(void);

/* Parses `len` bytes of `body`: an XML element, optionally after an XML
 * declaration (which must say UTF-8 if it names an encoding). Returns
 * that element, which lives in *doc (free it with xmlFreeDoc()), or NULL
 * with *err set (and *doc NULL). */
xmlNodePtr ss_xml_parse(const char *body, size_t len, xmlDocPtr *doc, struct ss_error *err);

/* True when the node is an element of namespace `ns` called `name`. */
int ss_is(const xmlNode *node, const char *ns, const char *name);

/* The document serialized as UTF-8 with an XML declaration, indented
 * (malloc'd; *len its length), or NULL when out of memory. */
char *ss_xml_text(xmlDocPtr doc, size_t *len);

#endif
