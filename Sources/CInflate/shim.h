#pragma once
// zlib's inflate, for reading gzip-compressed dataset sources (MNIST's .gz files, CSVs) as a
// stream. Debian: zlib1g-dev.
#include <zlib.h>

// `inflateInit2` is a macro that passes the library version and the stream's size; Swift
// cannot import it. Window bits 15 + 32: accept a gzip or a zlib header, detected by zlib.
static inline int cinflate_init_gzip(z_stream *stream) { return inflateInit2(stream, 15 + 32); }
