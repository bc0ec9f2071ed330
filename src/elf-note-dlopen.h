/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * ELF_NOTE_DLOPEN(feature, description, priority, soname...): declares, in the binary, a library
 * the program opens with dlopen() at run time, so that packagers and image builders find it as
 * they find DT_NEEDED entries (the freedesktop "ELF dlopen metadata" format, systemd's
 * ELF_NOTE_DLOPEN). One note in the .note.dlopen section, owner "FDO", type 0x407c0c0a, whose
 * descriptor is a JSON array of one object:
 *   [{"feature":"kmod","description":"...","priority":"recommended","soname":["libkmod.so.2"]}]
 * priority: "required", "recommended" or "suggested". Read it with `readelf -n` or
 * `systemd-analyze dlopen-metadata`. Strings are C literals: no quotes or backslashes in them.
 */
#define ELF_NOTE_DLOPEN_OWNER "FDO"
#define ELF_NOTE_DLOPEN_TYPE  0x407c0c0au

#define ELF_NOTE_DLOPEN_JOIN_(a, b) a##b
#define ELF_NOTE_DLOPEN_JOIN(a, b)  ELF_NOTE_DLOPEN_JOIN_(a, b)

/* "a", "b", ... -> "\"a\",\"b\"" (up to four sonames) */
#define ELF_NOTE_DLOPEN_S1(a)				"\"" a "\""
#define ELF_NOTE_DLOPEN_S2(a, b)			ELF_NOTE_DLOPEN_S1(a) "," ELF_NOTE_DLOPEN_S1(b)
#define ELF_NOTE_DLOPEN_S3(a, b, c)			ELF_NOTE_DLOPEN_S2(a, b) "," ELF_NOTE_DLOPEN_S1(c)
#define ELF_NOTE_DLOPEN_S4(a, b, c, d)			ELF_NOTE_DLOPEN_S3(a, b, c) "," ELF_NOTE_DLOPEN_S1(d)
#define ELF_NOTE_DLOPEN_PICK(_1, _2, _3, _4, name, ...) name
#define ELF_NOTE_DLOPEN_SONAMES(...)                                                               \
	ELF_NOTE_DLOPEN_PICK(__VA_ARGS__, ELF_NOTE_DLOPEN_S4, ELF_NOTE_DLOPEN_S3,                  \
			     ELF_NOTE_DLOPEN_S2, ELF_NOTE_DLOPEN_S1, )                             \
	(__VA_ARGS__)

#define ELF_NOTE_DLOPEN_NOTE(json, var)                                                            \
	__attribute__((used, section(".note.dlopen"), aligned(4))) static const struct {           \
		unsigned int namesz, descsz, type;                                                 \
		char owner[sizeof(ELF_NOTE_DLOPEN_OWNER)];                                         \
		__attribute__((aligned(4))) char desc[sizeof(json)];                               \
	} var = { sizeof(ELF_NOTE_DLOPEN_OWNER), sizeof(json), ELF_NOTE_DLOPEN_TYPE,               \
		  ELF_NOTE_DLOPEN_OWNER, json }

#define ELF_NOTE_DLOPEN(feature, description, priority, ...)                                       \
	ELF_NOTE_DLOPEN_NOTE("[{\"feature\":\"" feature "\",\"description\":\"" description        \
			     "\",\"priority\":\"" priority                                         \
			     "\",\"soname\":[" ELF_NOTE_DLOPEN_SONAMES(__VA_ARGS__) "]}]",         \
			     ELF_NOTE_DLOPEN_JOIN(elf_note_dlopen_, __COUNTER__))
