/* md5: prints the MD5 digest (RFC 1321) of each file named, or of standard input, as md5sum does.
 * The demo's first scenario builds it statically into an image; inside the micro-VM it reads its
 * input from the secret the broker released (/run/secrets/input). Self-contained: no library. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct md5 { uint32_t state[4]; uint64_t length; unsigned char block[64]; size_t used; };

static const uint32_t K[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};
static const unsigned S[64] = {
    7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
    4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
};

static uint32_t rotate(uint32_t x, unsigned n) { return (x << n) | (x >> (32 - n)); }

static void compress(struct md5 *m, const unsigned char *p) {
    uint32_t w[16], a = m->state[0], b = m->state[1], c = m->state[2], d = m->state[3];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 | (uint32_t)p[4 * i + 2] << 16 | (uint32_t)p[4 * i + 3] << 24;
    for (int i = 0; i < 64; i++) {
        uint32_t f; int g;
        if (i < 16) { f = (b & c) | (~b & d); g = i; }
        else if (i < 32) { f = (d & b) | (~d & c); g = (5 * i + 1) % 16; }
        else if (i < 48) { f = b ^ c ^ d; g = (3 * i + 5) % 16; }
        else { f = c ^ (b | ~d); g = (7 * i) % 16; }
        uint32_t next = d; d = c; c = b;
        b = b + rotate(a + f + K[i] + w[g], S[i]);
        a = next;
    }
    m->state[0] += a; m->state[1] += b; m->state[2] += c; m->state[3] += d;
}

static void update(struct md5 *m, const unsigned char *p, size_t n) {
    m->length += n;
    while (n > 0) {
        size_t take = 64 - m->used < n ? 64 - m->used : n;
        memcpy(m->block + m->used, p, take);
        m->used += take; p += take; n -= take;
        if (m->used == 64) { compress(m, m->block); m->used = 0; }
    }
}

static void finish(struct md5 *m, unsigned char out[16]) {
    uint64_t bits = m->length * 8;
    unsigned char pad = 0x80, zero = 0, size[8];
    update(m, &pad, 1);
    while (m->used != 56) update(m, &zero, 1);
    for (int i = 0; i < 8; i++) size[i] = (unsigned char)(bits >> (8 * i));
    update(m, size, 8);
    for (int i = 0; i < 16; i++) out[i] = (unsigned char)(m->state[i / 4] >> (8 * (i % 4)));
}

static int digest(FILE *in, const char *name) {
    struct md5 m = {{0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476}, 0, {0}, 0};
    unsigned char buffer[65536], out[16];
    size_t n;
    while ((n = fread(buffer, 1, sizeof buffer, in)) > 0) update(&m, buffer, n);
    if (ferror(in)) { fprintf(stderr, "md5: %s: read error\n", name); return 1; }
    finish(&m, out);
    for (int i = 0; i < 16; i++) printf("%02x", out[i]);
    printf("  %s\n", name);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) return digest(stdin, "-");
    int status = 0;
    for (int i = 1; i < argc; i++) {
        FILE *in = fopen(argv[i], "rb");
        if (!in) { perror(argv[i]); status = 1; continue; }
        status |= digest(in, argv[i]);
        fclose(in);
    }
    return status;
}
