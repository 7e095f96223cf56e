/* common/array.h — GB_ARRAY_LEN, the element count of an array.
 *
 * It refuses to compile when given a pointer (where sizeof would silently
 * yield the pointer's size): the struct holding the assertion costs nothing
 * at run time.  The result is a size_t constant expression.
 *
 * Ownership: nothing to own; a macro only.
 */
#ifndef GB_COMMON_ARRAY_H
#define GB_COMMON_ARRAY_H

#include <stddef.h>

#define GB_ARRAY_LEN(a)                                                                        \
	(sizeof(a) / sizeof((a)[0]) +                                                              \
	 0 * sizeof(struct {                                                                       \
		 _Static_assert(!__builtin_types_compatible_p(__typeof__(a), __typeof__(&(a)[0])),  \
		                "GB_ARRAY_LEN needs an array, not a pointer");                      \
		 int gb_array_len_;                                                                  \
	 }))

#endif
