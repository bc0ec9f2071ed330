/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ELF_NOTE_DLOPEN(feature, description, priority, soname...): declares a library the program
 * opens with dlopen() in a ".note.dlopen" ELF note, as the freedesktop "ELF dlopen metadata"
 * specification (https://systemd.io/ELF_DLOPEN_METADATA/) describes: note type 0x407c0c0a, owner
 * "FDO", the description a NUL-terminated JSON array of one object. Packaging tools read it
 * (`readelf --notes`, dlopen-notes.py, dh-dlopenlibdeps) to find dependencies that DT_NEEDED
 * does not show. Use it at file scope, once per library; one to four sonames, most preferred
 * first. The strings must not need JSON escaping (no quote, backslash or control character).
 */
#pragma once

#include <stdint.h>

#define ELF_NOTE_DLOPEN_VENDOR		     "FDO"
#define ELF_NOTE_DLOPEN_TYPE		     UINT32_C(0x407c0c0a)
#define ELF_NOTE_DLOPEN_PRIORITY_REQUIRED    "required"
#define ELF_NOTE_DLOPEN_PRIORITY_RECOMMENDED "recommended"
#define ELF_NOTE_DLOPEN_PRIORITY_SUGGESTED   "suggested"

#define ELF_NOTE_DLOPEN_CAT_(a, b) a##b
#define ELF_NOTE_DLOPEN_CAT(a, b)  ELF_NOTE_DLOPEN_CAT_(a, b)

/* "\"a\"", "\"a\",\"b\"", ...: the sonames as JSON strings joined by commas */
#define ELF_NOTE_DLOPEN_SONAMES_1(a) "\"" a "\""
#define ELF_NOTE_DLOPEN_SONAMES_2(a, b)                                                            \
	ELF_NOTE_DLOPEN_SONAMES_1(a) "," ELF_NOTE_DLOPEN_SONAMES_1(b)
#define ELF_NOTE_DLOPEN_SONAMES_3(a, b, c)                                                         \
	ELF_NOTE_DLOPEN_SONAMES_2(a, b) "," ELF_NOTE_DLOPEN_SONAMES_1(c)
#define ELF_NOTE_DLOPEN_SONAMES_4(a, b, c, d)                                                      \
	ELF_NOTE_DLOPEN_SONAMES_3(a, b, c) "," ELF_NOTE_DLOPEN_SONAMES_1(d)
#define ELF_NOTE_DLOPEN_NTH(_1, _2, _3, _4, n, ...) n
#define ELF_NOTE_DLOPEN_SONAMES(...)                                                               \
	ELF_NOTE_DLOPEN_NTH(__VA_ARGS__, ELF_NOTE_DLOPEN_SONAMES_4, ELF_NOTE_DLOPEN_SONAMES_3,     \
			    ELF_NOTE_DLOPEN_SONAMES_2, ELF_NOTE_DLOPEN_SONAMES_1, )                \
	(__VA_ARGS__)

#define ELF_NOTE_DLOPEN_JSON(feature, description, priority, ...)                                  \
	"[{\"feature\":\"" feature "\",\"description\":\"" description                             \
	"\",\"priority\":\"" priority "\",\"soname\":[" ELF_NOTE_DLOPEN_SONAMES(__VA_ARGS__) "]}]"

/* One note: the header, the owner name and the JSON, each padded to 4 bytes as ELF notes are. */
#define ELF_NOTE_DLOPEN_AT(text, var)                                                              \
	__attribute__((used, section(".note.dlopen"))) _Alignas(4) static const struct {           \
		struct {                                                                           \
			uint32_t n_namesz, n_descsz, n_type;                                       \
		} nhdr;                                                                            \
		char name[sizeof(ELF_NOTE_DLOPEN_VENDOR)];                                         \
		_Alignas(4) char json[(sizeof(text) + 3) / 4 * 4];                                 \
	} var = {                                                                                  \
		.nhdr = { sizeof(ELF_NOTE_DLOPEN_VENDOR), sizeof(text), ELF_NOTE_DLOPEN_TYPE },    \
		.name = ELF_NOTE_DLOPEN_VENDOR,                                                    \
		.json = text,                                                                      \
	}

#define ELF_NOTE_DLOPEN(feature, description, priority, ...)                                       \
	ELF_NOTE_DLOPEN_AT(ELF_NOTE_DLOPEN_JSON(feature, description, priority, __VA_ARGS__),      \
			   ELF_NOTE_DLOPEN_CAT(elf_note_dlopen_, __COUNTER__))
