#ifndef CFILEATTRIBUTES_H
#define CFILEATTRIBUTES_H
// Extended attributes (getxattr, setxattr): not part of Swift's Glibc module.
#include <sys/types.h>
#include <sys/xattr.h>
#endif
