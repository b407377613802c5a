#pragma once
// SHA-256 from the system's OpenSSL: builds in seconds, unlike a vendored BoringSSL.
#include <openssl/evp.h>
