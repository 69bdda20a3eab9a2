// zlib, for AnvcsGit's pack indexer (inflating packed objects, the CRC-32 of each entry).
#include <zlib.h>
