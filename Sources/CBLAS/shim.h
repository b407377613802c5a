#pragma once
// Debian: /usr/include/x86_64-linux-gnu/cblas.h -> openblas-pthread/cblas.h (alternatives).
#include <cblas.h>
