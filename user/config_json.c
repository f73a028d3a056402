// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Strict JSON reading for configuration files (see config_json.h), and the one-line message
 * formatter of the configuration code.
 *
 * A scanner of our own checks the whole text against RFC 8259 once, without recursion, and places
 * every syntax error by line and column: json-c, even in strict mode, takes single-quoted names,
 * NaN, "1." and raw control characters in strings, silently keeps the last of two equal keys, and
 * refuses anything nested deeper than 32 levels, which agent profiles may well be in keys that are
 * not ours. The scanner also rejects repeated keys inside the scope (FlowMetadata), bounds its
 * depth, and remembers where each of its values was written, so that messages quote a value
 * exactly as the operator typed it (json-c would print 99999999999999999999 as
 * 18446744073709551615, and "-0" as 0). json-c then builds objects for the scope alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "config_json.h"

/*
 * Messages are one line: control characters that came from the text (a key written "a\nb" is
 * decoded to a real newline) are shown as JSON escapes.
 */
void config_verr(char *err, size_t err_len, const char *fmt, va_list ap)
{
	char raw[CONFIG_ERR_LEN];
	size_t used = 0;

	if (!err || !err_len)
		return;
	vsnprintf(raw, sizeof(raw), fmt, ap);
	for (const char *p = raw; *p && used + 1 < err_len; p++) {
		unsigned char c = (unsigned char)*p;
		char esc[8];
		size_t n;

		if (c >= 0x20 && c != 0x7f) {
			err[used++] = (char)c;
			continue;
		}
		n = (size_t)snprintf(esc, sizeof(esc), "\\u%04x", c);
		if (used + n >= err_len)
			break;
		memcpy(err + used, esc, n);
		used += n;
	}
	err[used] = '\0';
}

void config_err(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	config_verr(err, err_len, fmt, ap);
	va_end(ap);
}

static int fail(struct json_source *src, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int fail(struct json_source *src, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	config_verr(src->err, src->err_len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int out_of_memory(struct json_source *src)
{
	config_err(src->err, src->err_len, "%s: out of memory", src->name);
	return -ENOMEM;
}

/* Line and column (1-based, columns in characters: UTF-8 continuation bytes do not count). */
static void text_position(const char *text, size_t off, unsigned int *line, unsigned int *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)text[i] & 0xc0) != 0x80) {
			(*col)++;
		}
	}
}

static int syntax_error(struct json_source *src, size_t off, const char *what)
{
	unsigned int line, col;

	text_position(src->text, off, &line, &col);
	return fail(src, "%s:%u:%u: JSON syntax error: %s", src->name, line, col, what);
}

bool json_path_key(char *buf, size_t size, const char *parent, const char *key)
{
	int n = *parent ? snprintf(buf, size, "%s.%s", parent, key)
			: snprintf(buf, size, "%s", key);

	return n >= 0 && (size_t)n < size;
}

bool json_path_index(char *buf, size_t size, const char *parent, size_t index)
{
	int n = snprintf(buf, size, "%s[%zu]", parent, index);

	return n >= 0 && (size_t)n < size;
}

/* ---- the scanner: the whole text, once, without recursion ---------------------------------- */

/*
 * Objects and arrays outside the scope cost one bit each on the scanner's stack, however deep an
 * agent profile nests them; nothing else is kept of them. The scope (FlowMetadata) nests at most
 * SCOPE_MAX_DEPTH levels, each with a frame: its key path and the keys seen so far.
 */
#define SCOPE_MAX_DEPTH 16

struct seen_key {
	char *name;
	size_t off;
};

/* An open object or array of the scope. */
struct frame {
	size_t start;		/* offset of its '{' or '[' */
	size_t index;		/* array: index of the element being read */
	bool record;		/* its values are recorded (its path fits CONFIG_PATH_LEN) */
	char path[CONFIG_PATH_LEN];
	struct seen_key *seen;
	size_t n_seen;
};

struct scanner {
	struct json_source *src;
	uint8_t *kinds;		/* one bit per open container: 1 object, 0 array */
	size_t depth, kinds_cap;
	size_t scope_depth;	/* depth of the scope's value while it is open, else 0 */
	struct frame frames[SCOPE_MAX_DEPTH]; /* frames[depth - scope_depth] */
	bool scope_seen;
	size_t scope_key_off, scope_off, scope_len;
	/* the slot of the next value: its path, whether it is recorded, whether in the scope */
	char path[CONFIG_PATH_LEN];
	bool record, in_scope;
};

static size_t skip_space(const struct json_source *src, size_t pos)
{
	while (pos < src->len && (src->text[pos] == ' ' || src->text[pos] == '\t' ||
				  src->text[pos] == '\n' || src->text[pos] == '\r'))
		pos++;
	return pos;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int remember(struct json_source *src, const char *path, size_t off, size_t len)
{
	struct json_raw *v;

	if (src->n_values == src->cap_values) {
		size_t cap = src->cap_values ? 2 * src->cap_values : 32;

		v = realloc(src->values, cap * sizeof(*v));
		if (!v)
			return out_of_memory(src);
		src->values = v;
		src->cap_values = cap;
	}
	v = &src->values[src->n_values];
	v->path = strdup(path);
	if (!v->path)
		return out_of_memory(src);
	v->off = off;
	v->len = len;
	src->n_values++;
	return 0;
}

const char *json_source_raw(const struct json_source *src, const char *path, size_t *len)
{
	for (size_t i = 0; i < src->n_values; i++) {
		if (!strcmp(src->values[i].path, path)) {
			*len = src->values[i].len;
			return src->text + src->values[i].off;
		}
	}
	return NULL;
}

/*
 * The end of the file where more was expected, a comment, or else what (NULL: "unexpected
 * character" with the character).
 */
static int unexpected(struct json_source *src, size_t off, const char *what)
{
	unsigned char c = off < src->len ? (unsigned char)src->text[off] : 0;
	char buf[96];

	if (off >= src->len)
		return syntax_error(src, src->len,
				    "unexpected end of file (an object or array is not closed)");
	if (c == '/')
		return syntax_error(src, off, "comments are not allowed in JSON");
	if (what)
		return syntax_error(src, off, what);
	if (c > ' ' && c < 0x7f) {
		snprintf(buf, sizeof(buf), "unexpected character '%c'", c);
		return syntax_error(src, off, buf);
	}
	return syntax_error(src, off, "unexpected character");
}

/* Bytes of the UTF-8 sequence at s: RFC 3629, no overlong form, surrogate or beyond U+10FFFF. */
static size_t utf8_length(const unsigned char *s, size_t avail)
{
	size_t n;
	uint32_t cp;

	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	n = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	if (n > avail)
		return 0;
	cp = s[0] & (0x7f >> n);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* A string at *pos, whose escapes and UTF-8 are valid, and no control character. */
static int scan_string(struct json_source *src, size_t *pos)
{
	const unsigned char *t = (const unsigned char *)src->text;
	size_t i = *pos + 1, n;

	while (i < src->len && t[i] != '"') {
		if (t[i] < 0x20)
			return syntax_error(src, i,
					    "control character in a string (write it as an escape "
					    "such as \\t or \\n)");
		if (t[i] == '\\') {
			if (i + 1 < src->len && t[i + 1] && strchr("\"\\/bfnrt", t[i + 1])) {
				i += 2;
				continue;
			}
			if (i + 5 < src->len && t[i + 1] == 'u' && is_hex(t[i + 2]) &&
			    is_hex(t[i + 3]) && is_hex(t[i + 4]) && is_hex(t[i + 5])) {
				i += 6;
				continue;
			}
			return syntax_error(src, i,
					    "invalid escape in a string (\\\" \\\\ \\/ \\b \\f \\n "
					    "\\r \\t or \\uXXXX)");
		}
		if (t[i] < 0x80) {
			i++;
			continue;
		}
		n = utf8_length(t + i, src->len - i);
		if (!n)
			return syntax_error(src, i, "invalid UTF-8");
		i += n;
	}
	if (i >= src->len)
		return syntax_error(src, src->len, "unexpected end of file inside a string");
	*pos = i + 1;
	return 0;
}

/* JSON's number grammar exactly: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int scan_number(struct json_source *src, size_t *pos)
{
	const char *t = src->text;
	size_t i = *pos;

	if (t[i] == '-')
		i++;
	if (t[i] == 'N' || t[i] == 'I')
		return syntax_error(src, *pos, "NaN and Infinity are not JSON numbers");
	if (!is_digit(t[i]))
		return unexpected(src, *pos, NULL);
	if (t[i] == '0' && is_digit(t[i + 1]))
		return syntax_error(src, i, "a number cannot start with 0 (no leading zeros)");
	while (is_digit(t[i]))
		i++;
	if (t[i] == '.') {
		if (!is_digit(t[++i]))
			return syntax_error(src, i, "a digit must follow the decimal point");
		while (is_digit(t[i]))
			i++;
	}
	if (t[i] == 'e' || t[i] == 'E') {
		i++;
		if (t[i] == '+' || t[i] == '-')
			i++;
		if (!is_digit(t[i]))
			return syntax_error(src, i, "a digit must follow the exponent");
		while (is_digit(t[i]))
			i++;
	}
	*pos = i;
	return 0;
}

static int scan_literal(struct json_source *src, size_t *pos)
{
	static const char *const words[] = {"true", "false", "null"};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		size_t n = strlen(words[i]);

		if (!strncmp(src->text + *pos, words[i], n)) {
			*pos += n;
			return 0;
		}
	}
	return unexpected(src, *pos, NULL);
}

/* A key as json-c sees it: escapes decoded (by json-c itself, so both agree). */
static char *decode_key(const struct json_source *src, size_t start, size_t end)
{
	const char *body = src->text + start + 1;
	size_t body_len = end - start - 2;
	struct json_object *s;
	char *quoted, *key = NULL;

	if (!memchr(body, '\\', body_len))
		return strndup(body, body_len);
	quoted = strndup(src->text + start, end - start);
	if (!quoted)
		return NULL;
	s = json_tokener_parse(quoted);
	if (s)
		key = strdup(json_object_get_string(s));
	json_object_put(s);
	free(quoted);
	return key;
}

static int repeated_key(struct json_source *src, const char *path, size_t off, size_t first)
{
	unsigned int line, col, first_line, first_col;

	text_position(src->text, off, &line, &col);
	text_position(src->text, first, &first_line, &first_col);
	return fail(src,
		    "%s: key repeated at line %u, column %u (first at line %u, column %u); each "
		    "key may appear only once",
		    path, line, col, first_line, first_col);
}

/* Remember a key of one object of the scope; -EINVAL naming both places when it was there. */
static int note_key(struct json_source *src, struct frame *f, char *key, size_t off,
		    const char *path)
{
	struct seen_key *grown;

	for (size_t i = 0; i < f->n_seen; i++) {
		if (strcmp(f->seen[i].name, key))
			continue;
		free(key);
		return repeated_key(src, path, off, f->seen[i].off);
	}
	grown = realloc(f->seen, (f->n_seen + 1) * sizeof(*f->seen));
	if (!grown) {
		free(key);
		return out_of_memory(src);
	}
	f->seen = grown;
	grown[f->n_seen].name = key;
	grown[f->n_seen].off = off;
	f->n_seen++;
	return 0;
}

static bool top_is_object(const struct scanner *sc)
{
	size_t d = sc->depth - 1;

	return sc->kinds[d / 8] & (1u << (d % 8));
}

/* The frame of the innermost container when it belongs to the scope, else NULL. */
static struct frame *scope_frame(struct scanner *sc)
{
	if (!sc->scope_depth || sc->depth < sc->scope_depth)
		return NULL;
	return &sc->frames[sc->depth - sc->scope_depth];
}

/* The slot of the next member of the innermost object: its key is text[key_off, key_end). */
static int enter_member(struct scanner *sc, size_t key_off, size_t key_end)
{
	struct json_source *src = sc->src;
	struct frame *f = scope_frame(sc);
	char *key;

	sc->record = sc->in_scope = false;
	if (sc->depth == 1) {
		/* Only the scope is ours: the rest of an agent profile is not checked. */
		bool ours;

		key = decode_key(src, key_off, key_end);
		if (!key)
			return out_of_memory(src);
		ours = !strcmp(key, src->scope);
		free(key);
		if (!ours)
			return 0;
		if (sc->scope_seen)
			return repeated_key(src, src->scope, key_off, sc->scope_key_off);
		sc->scope_seen = true;
		sc->scope_key_off = key_off;
		snprintf(sc->path, sizeof(sc->path), "%s", src->scope);
		sc->record = sc->in_scope = true;
		return 0;
	}
	if (!f)
		return 0;
	sc->in_scope = true;
	key = decode_key(src, key_off, key_end);
	if (!key)
		return out_of_memory(src);
	sc->record = f->record && json_path_key(sc->path, sizeof(sc->path), f->path, key);
	if (!sc->record) {
		free(key);
		return 0;
	}
	return note_key(src, f, key, key_off, sc->path);
}

/* The slot of the next element of the innermost array. */
static void enter_element(struct scanner *sc)
{
	struct frame *f = scope_frame(sc);

	sc->in_scope = f != NULL;
	sc->record = f && f->record && json_path_index(sc->path, sizeof(sc->path), f->path,
							 f->index);
}

/* Open an object or array at off, in the current slot. */
static int push(struct scanner *sc, size_t off, bool object)
{
	struct json_source *src = sc->src;
	struct frame *f;
	size_t d = sc->depth;

	if (d / 8 >= sc->kinds_cap) {
		size_t cap = sc->kinds_cap ? 2 * sc->kinds_cap : 64;
		uint8_t *k = realloc(sc->kinds, cap);

		if (!k)
			return out_of_memory(src);
		memset(k + sc->kinds_cap, 0, cap - sc->kinds_cap);
		sc->kinds = k;
		sc->kinds_cap = cap;
	}
	if (object)
		sc->kinds[d / 8] |= (uint8_t)(1u << (d % 8));
	else
		sc->kinds[d / 8] &= (uint8_t)~(1u << (d % 8));
	sc->depth++;
	if (!sc->in_scope)
		return 0;
	if (!sc->scope_depth)
		sc->scope_depth = sc->depth;
	if (sc->depth - sc->scope_depth >= SCOPE_MAX_DEPTH) {
		unsigned int line, col;

		text_position(src->text, off, &line, &col);
		return fail(src,
			    "%s:%u:%u: %s nests objects and arrays deeper than %d levels here; no "
			    "setting needs more than 5",
			    src->name, line, col, src->scope, SCOPE_MAX_DEPTH);
	}
	f = &sc->frames[sc->depth - sc->scope_depth];
	f->start = off;
	f->index = 0;
	f->record = sc->record;
	snprintf(f->path, sizeof(f->path), "%s", sc->path);
	f->seen = NULL;
	f->n_seen = 0;
	return 0;
}

static void free_frame(struct frame *f)
{
	for (size_t k = 0; k < f->n_seen; k++)
		free(f->seen[k].name);
	free(f->seen);
	f->seen = NULL;
	f->n_seen = 0;
}

/* Close the innermost container, whose closing bracket is at off. */
static int pop(struct scanner *sc, size_t off)
{
	struct frame *f = scope_frame(sc);
	int err = 0;

	if (f) {
		if (f->record)
			err = remember(sc->src, f->path, f->start, off + 1 - f->start);
		if (sc->depth == sc->scope_depth) {
			sc->scope_off = f->start;
			sc->scope_len = off + 1 - f->start;
			sc->scope_depth = 0;
		}
		free_frame(f);
	}
	sc->depth--;
	return err;
}

/* A key of the innermost object at *pos, its ':', and the slot of its value. */
static int scan_key(struct scanner *sc, size_t *pos)
{
	struct json_source *src = sc->src;
	size_t i = *pos;
	int err;

	if (i < src->len && src->text[i] == '\'')
		return syntax_error(src, i, "names must be in double quotes");
	if (i >= src->len || src->text[i] != '"')
		return unexpected(src, i, "quoted object property name expected");
	err = scan_string(src, &i);
	if (!err)
		err = enter_member(sc, *pos, i);
	if (err)
		return err;
	i = skip_space(src, i);
	if (i >= src->len || src->text[i] != ':')
		return unexpected(src, i, "object property name separator ':' expected");
	*pos = skip_space(src, i + 1);
	return 0;
}

/*
 * One value at *pos: a scalar whole, or the opening of an object or array (then *pos is where its
 * first member or element starts, and *opened is set, or it was empty and is closed already).
 */
static int scan_value(struct scanner *sc, size_t *pos, bool *opened)
{
	struct json_source *src = sc->src;
	size_t start = *pos, i;
	char c = start < src->len ? src->text[start] : 0;
	int err;

	*opened = false;
	if (c == '{' || c == '[') {
		err = push(sc, start, c == '{');
		if (err)
			return err;
		i = skip_space(src, start + 1);
		if (i < src->len && src->text[i] == (c == '{' ? '}' : ']')) {
			*pos = i + 1;
			return pop(sc, i);
		}
		*opened = true;
		*pos = i;
		return c == '{' ? scan_key(sc, pos) : (enter_element(sc), 0);
	}
	if (start >= src->len)
		return unexpected(src, start, NULL);
	if (c == '"')
		err = scan_string(src, pos);
	else if (c == '\'')
		return syntax_error(src, start, "strings must be in double quotes");
	else if (c == 't' || c == 'f' || c == 'n')
		err = scan_literal(src, pos);
	else
		err = scan_number(src, pos);
	if (err)
		return err;
	if (sc->in_scope && !sc->scope_depth) {
		sc->scope_off = start;	/* the scope is a scalar: its type is wrong, said later */
		sc->scope_len = *pos - start;
	}
	return sc->record ? remember(src, sc->path, start, *pos - start) : 0;
}

/*
 * After a value ends at *pos: past a ',' to the next member or element (*more), or past the
 * closing brackets of the containers that end here; *more false once the top level is closed.
 */
static int scan_after(struct scanner *sc, size_t *pos, bool *more)
{
	struct json_source *src = sc->src;
	size_t i = *pos;

	*more = false;
	while (sc->depth) {
		bool object = top_is_object(sc);
		char close = object ? '}' : ']';
		int err;

		i = skip_space(src, i);
		if (i < src->len && src->text[i] == ',') {
			size_t comma = i;

			i = skip_space(src, i + 1);
			if (i < src->len && src->text[i] == close)
				return syntax_error(src, comma,
						    "trailing comma before a closing bracket");
			*more = true;
			if (object) {
				err = scan_key(sc, &i);
			} else {
				struct frame *f = scope_frame(sc);

				if (f)
					f->index++;
				enter_element(sc);
				err = 0;
			}
			*pos = i;
			return err;
		}
		if (i < src->len && src->text[i] == close) {
			err = pop(sc, i);
			if (err)
				return err;
			i++;
			continue;
		}
		return unexpected(src, i,
				  object ? "object value separator ',' expected"
					 : "array value separator ',' expected");
	}
	*pos = i;
	return 0;
}

static int scan_text(struct json_source *src, size_t first)
{
	struct scanner *sc = calloc(1, sizeof(*sc));
	size_t pos = first;
	bool opened, more = true;
	int err = 0;

	if (!sc)
		return out_of_memory(src);
	sc->src = src;
	while (more && !err) {
		err = scan_value(sc, &pos, &opened);
		if (!err && !opened)
			err = scan_after(sc, &pos, &more);
	}
	if (!err) {
		pos = skip_space(src, pos);
		if (pos < src->len)
			err = syntax_error(src, pos, "text after the top-level object");
	}
	src->scope_off = sc->scope_off;
	src->scope_len = sc->scope_len;
	for (size_t d = 0; d < SCOPE_MAX_DEPTH; d++)
		free_frame(&sc->frames[d]);
	free(sc->kinds);
	free(sc);
	return err;
}

/*
 * The scanner checks the whole text; json-c then builds objects for the scope alone ({"scope":
 * VALUE}, or {} without it), so nothing an agent profile holds elsewhere reaches json-c's depth
 * limit, its recursion or its memory.
 */
static int parse_text(struct json_source *src, struct json_object **root)
{
	const char *nul = memchr(src->text, '\0', src->len);
	size_t first = skip_space(src, 0), end;
	enum json_tokener_error jerr;
	struct json_tokener *tok;
	struct json_object *v;
	int err;

	*root = NULL;
	if (nul)
		return syntax_error(src, (size_t)(nul - src->text), "NUL byte in the file");
	if (first == src->len)
		return syntax_error(src, first, "the file is empty; expected a JSON object");
	if (src->text[first] != '{')
		return syntax_error(src, first,
				    "expected a JSON object ({ ... }) at the top level");
	err = scan_text(src, first);
	if (err)
		return err;
	*root = json_object_new_object();
	if (!*root)
		return out_of_memory(src);
	if (!src->scope_len)
		return 0;
	tok = json_tokener_new();
	if (!tok)
		return out_of_memory(src);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	v = json_tokener_parse_ex(tok, src->text + src->scope_off, (int)src->scope_len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (jerr == json_tokener_continue) { /* a number could go on: a NUL says it does not */
		v = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
		end = src->scope_len;
	}
	json_tokener_free(tok);
	if (jerr != json_tokener_success) /* the scanner let through what json-c refuses */
		return syntax_error(src, src->scope_off + end, json_tokener_error_desc(jerr));
	if (json_object_object_add(*root, src->scope, v)) {
		json_object_put(v);
		return out_of_memory(src);
	}
	return 0;
}

int json_read_file(const char *path, size_t max, char **text, size_t *len, char *err,
		   size_t err_len)
{
	size_t cap = 16384, n = 0;
	char *buf, *grown;
	int fd, ret = -EINVAL;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = errno == ENOENT ? -ENOENT : -EINVAL;
		config_err(err, err_len, "%s: %s", path, strerror(errno));
		return ret;
	}
	buf = malloc(cap);
	if (!buf)
		goto nomem;
	for (;;) {
		ssize_t r;

		if (cap - n < 2) {
			cap *= 2;
			grown = realloc(buf, cap);
			if (!grown)
				goto nomem;
			buf = grown;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			config_err(err, err_len, "%s: cannot read: %s", path, strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			config_err(err, err_len,
				   "%s: larger than %zu bytes; not a configuration file", path,
				   max);
			goto fail;
		}
	}
	close(fd);
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;

nomem:
	config_err(err, err_len, "%s: out of memory", path);
	ret = -ENOMEM;
fail:
	close(fd);
	free(buf);
	return ret;
}

int json_source_parse(struct json_source *src, const char *name, const char *text, size_t len,
		      const char *scope, struct json_object **root, char *err, size_t err_len)
{
	*root = NULL;
	memset(src, 0, sizeof(*src));
	src->name = name;
	src->text = text;
	src->len = len;
	src->scope = scope;
	src->err = err;
	src->err_len = err_len;
	/* Editors on Windows start UTF-8 files with a byte-order mark; columns count without it. */
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3)) {
		src->text += 3;
		src->len -= 3;
	}
	if (src->len > INT_MAX) /* json_tokener_parse_ex() takes an int */
		return fail(src, "%s: too large for a configuration", name);
	return parse_text(src, root);
}

void json_source_free(struct json_source *src)
{
	for (size_t i = 0; i < src->n_values; i++)
		free(src->values[i].path);
	free(src->values);
	src->values = NULL;
	src->n_values = src->cap_values = 0;
}
