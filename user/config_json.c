// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Strict JSON reading for configuration files (see config_json.h), and the one-line message
 * formatter of the configuration code.
 *
 * json-c parses the text, but even in strict mode it takes single-quoted names, NaN, "1." and raw
 * control characters in strings, and silently keeps the last of two equal keys. So once json-c has
 * accepted the text, a small scanner walks it once more: it rejects those, rejects repeated keys
 * inside the scope (FlowMetadata), and remembers where each value of the scope was written, so that
 * messages quote a value exactly as the operator typed it (json-c would print
 * 99999999999999999999 as 18446744073709551615, and "-0" as 0).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

/* ---- the strict second pass over the text --------------------------------------------------- */

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

static int scan_value(struct json_source *src, size_t *pos, const char *path, bool record,
		      int depth);

static int scan_string(struct json_source *src, size_t *pos)
{
	size_t i = *pos + 1;

	while (i < src->len && src->text[i] != '"') {
		unsigned char c = src->text[i];

		if (c < 0x20)
			return syntax_error(src, i,
					    "control character in a string (write it as an escape "
					    "such as \\t or \\n)");
		i += c == '\\' ? 2 : 1;
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
		return syntax_error(src, *pos, "unexpected character");
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
	return syntax_error(src, *pos, "unexpected character");
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

struct seen_key {
	char *name;
	size_t off;
};

/* Remember a key of one object; -EINVAL naming both places when it was already there. */
static int note_key(struct json_source *src, struct seen_key **seen, size_t *n_seen, char *key,
		    size_t off, const char *path)
{
	struct seen_key *grown;
	unsigned int line, col, first_line, first_col;

	for (size_t i = 0; i < *n_seen; i++) {
		if (strcmp((*seen)[i].name, key))
			continue;
		free(key);
		text_position(src->text, off, &line, &col);
		text_position(src->text, (*seen)[i].off, &first_line, &first_col);
		return fail(src,
			    "%s: key repeated at line %u, column %u (first at line %u, column %u); "
			    "each key may appear only once",
			    path, line, col, first_line, first_col);
	}
	grown = realloc(*seen, (*n_seen + 1) * sizeof(**seen));
	if (!grown) {
		free(key);
		return out_of_memory(src);
	}
	*seen = grown;
	grown[*n_seen].name = key;
	grown[*n_seen].off = off;
	(*n_seen)++;
	return 0;
}

static int scan_object(struct json_source *src, size_t *pos, const char *path, bool record,
		       int depth)
{
	struct seen_key *seen = NULL;
	size_t n_seen = 0, i = skip_space(src, *pos + 1);
	char child[CONFIG_PATH_LEN];
	int err = 0;

	if (src->text[i] == '}') {
		*pos = i + 1;
		return 0;
	}
	for (;;) {
		size_t key_off = i;
		bool child_record;
		char *key;

		if (src->text[i] != '"') {
			err = syntax_error(src, i,
					   src->text[i] == '\'' ? "names must be in double quotes"
								: "unexpected character");
			break;
		}
		err = scan_string(src, &i);
		if (err)
			break;
		key = decode_key(src, key_off, i);
		if (!key) {
			err = out_of_memory(src);
			break;
		}
		/* Only the scope is ours: the rest of an agent profile is not checked. */
		child_record = record || (depth == 0 && !strcmp(key, src->scope));
		if (!json_path_key(child, sizeof(child), path, key))
			child_record = false;
		if (child_record)
			err = note_key(src, &seen, &n_seen, key, key_off, child);
		else
			free(key);
		if (err)
			break;
		i = skip_space(src, skip_space(src, i) + 1); /* past the ':' json-c has checked */
		err = scan_value(src, &i, child, child_record, depth + 1);
		if (err)
			break;
		i = skip_space(src, i);
		if (src->text[i] == '}') {
			*pos = i + 1;
			break;
		}
		i = skip_space(src, i + 1); /* past the ',' */
	}
	for (size_t k = 0; k < n_seen; k++)
		free(seen[k].name);
	free(seen);
	return err;
}

static int scan_array(struct json_source *src, size_t *pos, const char *path, bool record,
		      int depth)
{
	size_t i = skip_space(src, *pos + 1);
	char child[CONFIG_PATH_LEN];
	int err;

	if (src->text[i] == ']') {
		*pos = i + 1;
		return 0;
	}
	for (size_t index = 0;; index++) {
		bool child_record = record && json_path_index(child, sizeof(child), path, index);

		err = scan_value(src, &i, child, child_record, depth + 1);
		if (err)
			return err;
		i = skip_space(src, i);
		if (src->text[i] == ']') {
			*pos = i + 1;
			return 0;
		}
		i = skip_space(src, i + 1);
	}
}

static int scan_value(struct json_source *src, size_t *pos, const char *path, bool record,
		      int depth)
{
	size_t start = *pos;
	char c;
	int err;

	if (start >= src->len)
		return syntax_error(src, start, "unexpected end of file");
	c = src->text[start];
	if (c == '{')
		err = scan_object(src, pos, path, record, depth);
	else if (c == '[')
		err = scan_array(src, pos, path, record, depth);
	else if (c == '"')
		err = scan_string(src, pos);
	else if (c == '\'')
		return syntax_error(src, start, "strings must be in double quotes");
	else if (c == 't' || c == 'f' || c == 'n')
		err = scan_literal(src, pos);
	else
		err = scan_number(src, pos);
	if (err || !record)
		return err;
	return remember(src, path, start, *pos - start);
}

/*
 * json-c's description of a syntax error, made precise for the mistakes people make by hand; *off
 * moves to the character to fix (the trailing comma, the first byte of a broken UTF-8 sequence).
 */
static const char *describe_error(const struct json_source *src, size_t *off,
				  enum json_tokener_error jerr, char *buf, size_t size)
{
	const unsigned char *t = (const unsigned char *)src->text;
	char c = src->text[*off];
	size_t prev = *off;

	while (prev > 0 && strchr(" \t\r\n", src->text[prev - 1]))
		prev--;
	if (c == '/')
		return "comments are not allowed in JSON";
	if ((c == '}' || c == ']') && prev > 0 && src->text[prev - 1] == ',') {
		*off = prev - 1;
		return "trailing comma before a closing bracket";
	}
	if (jerr == json_tokener_error_parse_utf8_string) {
		prev = *off;
		while (prev > 0 && (t[prev - 1] & 0xc0) == 0x80)
			prev--;
		if (prev > 0 && (t[prev - 1] & 0xc0) == 0xc0)
			*off = prev - 1;
		return "invalid UTF-8";
	}
	if (jerr == json_tokener_error_parse_unexpected && c > ' ' && c < 0x7f) {
		snprintf(buf, size, "unexpected character '%c'", c);
		return buf;
	}
	return json_tokener_error_desc(jerr);
}

/* json-c first (it reports most syntax errors well), then the strict pass. */
static int parse_text(struct json_source *src, struct json_object **root)
{
	const char *nul = memchr(src->text, '\0', src->len);
	size_t first = skip_space(src, 0), pos;
	enum json_tokener_error jerr;
	struct json_tokener *tok;
	char what[64];
	size_t end;

	*root = NULL;
	if (nul)
		return syntax_error(src, (size_t)(nul - src->text), "NUL byte in the file");
	if (first == src->len)
		return syntax_error(src, first, "the file is empty; expected a JSON object");
	if (src->text[first] != '{')
		return syntax_error(src, first,
				    "expected a JSON object ({ ... }) at the top level");

	tok = json_tokener_new();
	if (!tok)
		return out_of_memory(src);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	*root = json_tokener_parse_ex(tok, src->text, (int)src->len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (jerr == json_tokener_continue)
		return syntax_error(src, src->len,
				    "unexpected end of file (an object or array is not closed)");
	if (jerr != json_tokener_success)
		return syntax_error(src, end, describe_error(src, &end, jerr, what, sizeof(what)));
	if (skip_space(src, end) != src->len)
		return syntax_error(src, skip_space(src, end), "text after the top-level object");

	pos = first;
	return scan_value(src, &pos, "", false, 0);
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
