/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Strict JSON reading for the configuration (internal to config.c): RFC 8259 checked over the whole
 * text with the checks a hand-edited file needs (no comments, trailing commas, single quotes, NaN,
 * raw control characters, invalid UTF-8; no repeated key inside the scope), syntax errors as
 * "NAME:LINE:COLUMN: ...", json-c objects for the scope only (other top-level keys may nest
 * arbitrarily deep: they are only checked), and the text of each value of the scope as written,
 * looked up by key path ("FlowMetadata.AccessControl.Rules[2].Ports"). Also the one-line message
 * formatter shared by the configuration code.
 */
#ifndef FLOWMETA_CONFIG_JSON_H
#define FLOWMETA_CONFIG_JSON_H

#include <json-c/json.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#define CONFIG_PATH_LEN 256 /* longest key path kept (longer ones are not recorded) */

/* Where one value of the scope was written: text[off, off + len). */
struct json_raw {
	char *path;
	size_t off, len;
};

/* A parsed text and where the values of its scope were written. */
struct json_source {
	const char *name; /* for messages: the file name, or "<string>" */
	const char *text; /* past a UTF-8 byte-order mark, if any; NUL-terminated */
	size_t len;
	const char *scope; /* the top-level key whose subtree is checked and recorded */
	size_t scope_off, scope_len; /* where its value was written; scope_len 0: absent */
	struct json_raw *values;
	size_t n_values, cap_values;
	char *err;
	size_t err_len;
};

/*
 * Parse text (len bytes, text[len] == '\0') as one strict JSON object; *root gets an object with
 * the scope's member only (empty without it). Returns 0, -EINVAL with one line in err, or -ENOMEM.
 * Call json_source_free() afterwards in every case, and json_object_put(*root).
 */
int json_source_parse(struct json_source *src, const char *name, const char *text, size_t len,
		      const char *scope, struct json_object **root, char *err, size_t err_len);

/* The value at path as written (not NUL-terminated, *len bytes), or NULL if not recorded. */
const char *json_source_raw(const struct json_source *src, const char *path, size_t *len);

void json_source_free(struct json_source *src);

/*
 * The whole file, NUL-terminated, at most max bytes, in *text (free() it). -ENOENT when it does not
 * exist, -EINVAL when it cannot be read or is too large, -ENOMEM; one line in err then.
 */
int json_read_file(const char *path, size_t max, char **text, size_t *len, char *err,
		   size_t err_len);

/* Key paths: "Parent.Key" ("Key" at the top) and "Parent[index]"; false when buf is too small. */
bool json_path_key(char *buf, size_t size, const char *parent, const char *key);
bool json_path_index(char *buf, size_t size, const char *parent, size_t index);

/* vsnprintf into err, control characters written as \uXXXX so the message stays one line. */
void config_verr(char *err, size_t err_len, const char *fmt, va_list ap);
void config_err(char *err, size_t err_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* FLOWMETA_CONFIG_JSON_H */
