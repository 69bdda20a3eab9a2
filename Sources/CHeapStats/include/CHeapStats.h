#ifndef CHEAPSTATS_H
#define CHEAPSTATS_H
#include <stddef.h>
/// Bytes currently allocated by malloc (glibc mallinfo2 uordblks); 0 where unavailable.
size_t anvcs_heap_in_use(void);
#endif
