// A sandboxed plug-in for Conduit written in C (docs/sandbox.md): a synchronous step that refuses contacts whose
// last name is "Refused", so the create is rolled back with its message.
//
// Build it for wasm32 with clang and lld (Debian's `clang` and `lld`, or the Swift toolchain's), no libc:
//
//   clang --target=wasm32 -O2 -nostdlib -Wl,--no-entry -Wl,--export-memory -o check-name.wasm check-name.c
//
// Upload check-name.wasm base64-encoded as a pluginassembly (isolationmode 2) with a plugintype whose typename is
// "check_name", and register a stage-20 synchronous step on Create of contact with it.
#include <stdint.h>

// The host functions this plug-in uses (module "conduit").
__attribute__((import_module("conduit"), import_name("fail"))) void conduit_fail(const char *text, int32_t length);
__attribute__((import_module("conduit"), import_name("trace"))) void conduit_trace(const char *text, int32_t length);

// The ABI's allocator: the host asks for room for the context and the configuration. A bump allocator is enough,
// as every execution gets a fresh instance.
static unsigned char heap[1 << 20];
static int32_t used;

__attribute__((export_name("alloc"))) int32_t alloc(int32_t size) {
    if (size < 0 || used + size > (int32_t)sizeof heap) __builtin_trap();
    int32_t offset = used;
    used += (size + 7) & ~7;
    return (int32_t)(uintptr_t)(heap + offset);
}

static int contains(const char *haystack, int32_t length, const char *needle) {
    int32_t n = 0;
    while (needle[n]) n++;
    for (int32_t i = 0; i + n <= length; i++) {
        int32_t j = 0;
        while (j < n && haystack[i + j] == needle[j]) j++;
        if (j == n) return 1;
    }
    return 0;
}

// The plug-in type "check_name": the context is DataContract JSON; a real plug-in would parse it.
__attribute__((export_name("check_name"))) int32_t check_name(const char *context, int32_t length,
                                                              const char *configuration, int32_t configurationLength) {
    (void)configuration;
    (void)configurationLength;
    static const char tracing[] = "checking the last name";
    conduit_trace(tracing, sizeof tracing - 1);
    if (contains(context, length, "\"Refused\"")) {
        static const char message[] = "Contacts may not be called Refused (said a plug-in written in C).";
        conduit_fail(message, sizeof message - 1);
        return 1;
    }
    return 0;
}
