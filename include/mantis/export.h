/* MANTIS_EXPORT: marks the declarations that libmantis and libmantis_c export; usable from C and C++.
 *
 * The shared libraries are built with hidden visibility, so a symbol is part of the ABI only if its
 * declaration carries MANTIS_EXPORT (a class: its out-of-line members, vtable and typeinfo). Define
 * MANTIS_STATIC when linking static libraries (the CMake targets of a static build do it): the macro
 * is then empty. */
#ifndef MANTIS_EXPORT_H_
#define MANTIS_EXPORT_H_

#if defined(MANTIS_STATIC) || !(defined(__GNUC__) || defined(__clang__))
#define MANTIS_EXPORT
#elif defined(__cplusplus)
/* The standard attribute syntax, so that it can follow [[nodiscard]] in a class head. */
#define MANTIS_EXPORT [[gnu::visibility("default")]]
#else
#define MANTIS_EXPORT __attribute__((visibility("default")))
#endif

#endif /* MANTIS_EXPORT_H_ */
