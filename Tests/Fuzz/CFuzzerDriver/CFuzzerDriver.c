// Declarations only: libFuzzer defines LLVMFuzzerRunDriver in builds made with -sanitize=fuzzer.
#include "CFuzzerDriver.h"
