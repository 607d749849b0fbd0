/*
 * fuzz: what every fuzz target of tests/fuzz/ shares. Each target defines
 * LLVMFuzzerTestOneInput; libFuzzer drives it in the fuzz build
 * (ONECARD_FUZZ, clang), and replay.c feeds it the checked-in corpus in
 * every other build, so the ordinary unit test run (and its ASan build)
 * re-checks every seed and every past crash.
 */
#ifndef ONECARD_FUZZ_H
#define ONECARD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The libFuzzer entry point: 0, always; a broken promise aborts. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A promise of the code under test that must hold for every input: when it
 * does not, abort, which libFuzzer and the replay both report as a crash. */
#define FUZZ_REQUIRE(cond)                                                                         \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: broken promise: %s\n", __FILE__, __LINE__, #cond);             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
