#ifndef FLASHDEAL_CFUZZERDRIVER_H
#define FLASHDEAL_CFUZZERDRIVER_H
#include <stddef.h>
#include <stdint.h>

/// libFuzzer's entry for programs with their own main (present only in `-sanitize=fuzzer` builds).
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
