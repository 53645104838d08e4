/* SPDX-License-Identifier: GPL-2.0-only */
/* Function names the way a reader wants them: C++, Rust and Zig names without their template and parameter noise. */
#ifndef MEMSLEUTH_NAMES_H
#define MEMSLEUTH_NAMES_H

#include <stddef.h>

/*
 * Shortens a demangled function name, keeping namespace::class::function:
 * template (and Rust generic) arguments, parameter lists, trailing
 * qualifiers (" const"), GCC's " [clone .constprop.0]" and Rust's legacy
 * "::h0123456789abcdef" hash are dropped; operator names ("operator<<",
 * "operator()", "operator new[]"), "(anonymous namespace)", lambda and
 * closure names ("{lambda(int)#1}", "{closure#0}") and Rust's qualified
 * paths ("<Vec as Clone>::clone") are kept. Zig's generic instances
 * ("ArrayListAligned(u8,null).append") lose their arguments the same way.
 * C names pass unchanged.
 *
 *   std::__cxx11::basic_string<char, std::char_traits<char>, ...>::_M_construct<char const*>(char const*, ...)
 *     -> std::__cxx11::basic_string::_M_construct
 *
 * Writes at most len - 1 bytes and a NUL into out (a name longer than that
 * keeps its end: the function's own name is never cut); returns out.
 */
char *names_shorten(const char *in, char *out, size_t len);

/*
 * Names a function from its raw symbol (a linkage name, without its
 * "@VERSION"): *full is the demangled name with parameters (C++ Itanium
 * ABI, Rust legacy and v0, D, by libiberty; the symbol itself for a plain C
 * or Zig name), *brief the short one (names_shorten of the demangled name
 * without parameters or return type). The caller frees both. Returns 0 or
 * -ENOMEM.
 */
int names_of_symbol(const char *raw, char **full, char **brief);

#endif
