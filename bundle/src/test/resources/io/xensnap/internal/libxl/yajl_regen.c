/*
 * Usage: yajl_regen IN OUT. Reads JSON from IN and writes it to OUT through the system's libyajl 2 the way libxl
 * does (the process runs with stdin from /dev/null and stdout in a log, so files carry the data): yajl's parser,
 * numbers turned into C values like libxl_json.c's json_callback_number (double when the text has '.', 'e' or 'E',
 * else long long; the original text when out of range, like libxl's JSON_NUMBER), then yajl_gen with only
 * yajl_gen_beautify set (libxl_yajl_gen_alloc). The tests compare xensnap's YajlPrinter with this output.
 *
 * yajl's headers are not installed on a dom0 (only libyajl2 is), so the few declarations needed are written here;
 * they are yajl 2's stable ABI.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct yajl_gen_t *yajl_gen;
typedef struct yajl_handle_t *yajl_handle;
typedef struct {
    int (*yajl_null)(void *ctx);
    int (*yajl_boolean)(void *ctx, int b);
    int (*yajl_integer)(void *ctx, long long i);
    int (*yajl_double)(void *ctx, double d);
    int (*yajl_number)(void *ctx, const char *s, size_t l);
    int (*yajl_string)(void *ctx, const unsigned char *s, size_t l);
    int (*yajl_start_map)(void *ctx);
    int (*yajl_map_key)(void *ctx, const unsigned char *s, size_t l);
    int (*yajl_end_map)(void *ctx);
    int (*yajl_start_array)(void *ctx);
    int (*yajl_end_array)(void *ctx);
} yajl_callbacks;

enum { yajl_status_ok = 0 };
enum { yajl_gen_status_ok = 0 };
enum { yajl_gen_beautify = 0x01 };

yajl_handle yajl_alloc(const yajl_callbacks *callbacks, const void *afs, void *ctx);
int yajl_parse(yajl_handle h, const unsigned char *text, size_t len);
int yajl_complete_parse(yajl_handle h);
unsigned char *yajl_get_error(yajl_handle h, int verbose, const unsigned char *text, size_t len);
yajl_gen yajl_gen_alloc(const void *afs);
int yajl_gen_config(yajl_gen g, int opt, ...);
int yajl_gen_null(yajl_gen g);
int yajl_gen_bool(yajl_gen g, int b);
int yajl_gen_integer(yajl_gen g, long long i);
int yajl_gen_double(yajl_gen g, double d);
int yajl_gen_number(yajl_gen g, const char *s, size_t l);
int yajl_gen_string(yajl_gen g, const unsigned char *s, size_t l);
int yajl_gen_map_open(yajl_gen g);
int yajl_gen_map_close(yajl_gen g);
int yajl_gen_array_open(yajl_gen g);
int yajl_gen_array_close(yajl_gen g);
int yajl_gen_get_buf(yajl_gen g, const unsigned char **buf, size_t *len);

#define OK(call) ((call) == yajl_gen_status_ok)

static int on_null(void *g) { return OK(yajl_gen_null(g)); }
static int on_bool(void *g, int b) { return OK(yajl_gen_bool(g, b)); }
static int on_string(void *g, const unsigned char *s, size_t l) { return OK(yajl_gen_string(g, s, l)); }
static int on_start_map(void *g) { return OK(yajl_gen_map_open(g)); }
static int on_end_map(void *g) { return OK(yajl_gen_map_close(g)); }
static int on_start_array(void *g) { return OK(yajl_gen_array_open(g)); }
static int on_end_array(void *g) { return OK(yajl_gen_array_close(g)); }

static int on_number(void *g, const char *s, size_t l)
{
    char text[512];
    if (l >= sizeof(text))
        return OK(yajl_gen_number(g, s, l));
    memcpy(text, s, l);
    text[l] = 0;
    errno = 0;
    if (strpbrk(text, ".eE")) {
        double d = strtod(text, NULL);
        if (errno == ERANGE && isinf(d))
            return OK(yajl_gen_number(g, s, l));
        return OK(yajl_gen_double(g, d));
    }
    long long i = strtoll(text, NULL, 10);
    if (errno == ERANGE)
        return OK(yajl_gen_number(g, s, l));
    return OK(yajl_gen_integer(g, i));
}

int main(int argc, char **argv)
{
    static const yajl_callbacks callbacks = {
        on_null, on_bool, NULL, NULL, on_number, on_string,
        on_start_map, on_string, on_end_map, on_start_array, on_end_array
    };
    if (argc != 3) {
        fprintf(stderr, "usage: %s IN OUT\n", argv[0]);
        return 2;
    }
    FILE *src = fopen(argv[1], "rb");
    if (!src) {
        perror(argv[1]);
        return 2;
    }
    size_t cap = 1 << 16, len = 0, n;
    unsigned char *in = malloc(cap);
    while ((n = fread(in + len, 1, cap - len, src)) > 0) {
        len += n;
        if (len == cap)
            in = realloc(in, cap *= 2);
    }
    yajl_gen g = yajl_gen_alloc(NULL);
    yajl_gen_config(g, yajl_gen_beautify, 1);
    yajl_handle h = yajl_alloc(&callbacks, NULL, g);
    if (yajl_parse(h, in, len) != yajl_status_ok || yajl_complete_parse(h) != yajl_status_ok) {
        fprintf(stderr, "%s\n", yajl_get_error(h, 1, in, len));
        return 1;
    }
    const unsigned char *out;
    size_t outlen;
    yajl_gen_get_buf(g, &out, &outlen);
    FILE *dst = fopen(argv[2], "wb");
    if (!dst || fwrite(out, 1, outlen, dst) != outlen || fclose(dst) != 0) {
        perror(argv[2]);
        return 2;
    }
    return 0;
}
