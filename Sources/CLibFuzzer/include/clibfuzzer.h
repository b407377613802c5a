#pragma once
#include <stddef.h>
#include <stdint.h>

// libFuzzer's entry for programs that keep their own `main` (LLVM 11 and later). The fuzz
// executables need it because SwiftPM links every executable target with `main` renamed to
// `<module>_main`, which clashes with the `main` libFuzzer's usual runtime brings. Only fuzz
// builds (scripts/fuzz: -DFUZZING, libclang_rt.fuzzer_no_main) reference it, so normal builds
// link without the fuzzer runtime.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
