/* Test-only stand-in for Windows 10's bcryptprimitives.dll, which Wine 8.0 (Debian 12) lacks.
 * Rust's standard library (1.78+) imports ProcessPrng from it for HashMap keys, so no Rust .exe
 * starts under that Wine without it. This forwards to RtlGenRandom (advapi32!SystemFunction036),
 * which Wine implements. It is installed into the suite's own Wine prefix only; it never ships:
 * real Windows 10/11 and Server 2016+ have the real DLL. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk)) return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
