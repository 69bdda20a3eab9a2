// Header-only target: SwiftPM needs one source file to build a C module.
#include "CFileAttributes.h"
