/* Test helper (Windows, run under Wine by scripts/suites/25-windows.sh): opens FILE the way most
 * Windows programs do (read, sharing read only: no FILE_SHARE_DELETE), prints "held" and keeps it
 * open until its standard input closes. Windows then refuses to delete, rename or replace FILE:
 * the case of a package opened by an antivirus scan or an Explorer preview during commit. */
#include <stdio.h>
#include <windows.h>

int wmain(int argc, wchar_t **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: hold_open FILE\n");
        return 2;
    }
    HANDLE h = CreateFileW(argv[1], GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        fprintf(stderr, "cannot open: error %lu\n", GetLastError());
        return 1;
    }
    printf("held\n");
    fflush(stdout);
    char buf[64];
    while (fread(buf, 1, sizeof buf, stdin) > 0) {
    }
    CloseHandle(h);
    return 0;
}
