/*
 * libxl-oracle: libxenlight 4.17 itself reading and writing a domain's userdata JSON, as the reference the tests
 * compare xensnap's config rewrite with.
 *
 * libxl_ctx_alloc opens the hypervisor (xc_interface_open) and xenstore (xs_open) but the JSON calls never use either
 * handle. The definitions below live in the executable, so they win over libxenctrl's and libxenstore's versioned ones
 * (xc_interface_open@VERS_4.17.0 ...): no hypervisor, no xenstored, no privileges needed.
 *
 * Usage (the output file holds exactly what libxl_domain_config_to_json returned, plus its trailing NUL, as libxl
 * stores a userdata file):
 *   libxl-oracle round-trip IN OUT                     parse IN, write it back
 *   libxl-oracle set-disk IN OUT VDEV PATH FORMAT      parse IN, give disk VDEV the PATH ("" for none) and the FORMAT
 *                                                      (libxl's name: raw, qcow2, empty ...), write it back
 *   libxl-oracle set-disk IN OUT VDEV PATH FORMAT BACKEND
 *                                                      the same, and the disk's BACKEND (libxl's name: phy, qdisk
 *                                                      ...); a qdisk loses its hotplug script, which libxl refuses
 *                                                      with that backend (disk_try_backend)
 * Exit: 0 done; 2 usage; 3 libxl refused the input (its log on stderr); 4 no disk VDEV; 5 I/O error.
 *
 * Build: gcc -O2 -Wall -Werror -o libxl-oracle libxl-oracle.c -lxenlight -lxentoollog
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libxl.h>
#include <xentoollog.h>

static int fake_xc_handle, fake_xs_handle;

void *xc_interface_open(void *logger, void *dombuild_logger, unsigned open_flags)
{
    return &fake_xc_handle;
}

int xc_interface_close(void *xch)
{
    return 0;
}

void *xs_open(unsigned long flags)
{
    return &fake_xs_handle;
}

void xs_close(void *xsh)
{
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return NULL;
    }
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap + 1);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
        }
    }
    fclose(f);
    if (buf) {
        buf[len] = '\0'; /* a userdata file ends with its own NUL already: parsing stops there either way */
    }
    return buf;
}

static int write_all(const char *path, const char *json)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        return 5;
    }
    size_t len = strlen(json) + 1; /* libxl stores the NUL too */
    int bad = fwrite(json, 1, len, f) != len;
    bad |= fclose(f) != 0;
    if (bad) {
        perror(path);
        return 5;
    }
    return 0;
}

static int set_disk(libxl_domain_config *config, const char *vdev, const char *path, const char *format,
                    const char *backend)
{
    for (int i = 0; i < config->num_disks; i++) {
        libxl_device_disk *disk = &config->disks[i];
        if (disk->vdev && strcmp(disk->vdev, vdev) == 0) {
            libxl_disk_format parsed;
            if (libxl_disk_format_from_string(format, &parsed)) {
                fprintf(stderr, "libxl has no disk format '%s'\n", format);
                return 2;
            }
            free(disk->pdev_path);
            disk->pdev_path = path[0] ? strdup(path) : NULL;
            disk->format = parsed;
            if (backend) {
                libxl_disk_backend b;
                if (libxl_disk_backend_from_string(backend, &b)) {
                    fprintf(stderr, "libxl has no disk backend '%s'\n", backend);
                    return 2;
                }
                disk->backend = b;
                if (b == LIBXL_DISK_BACKEND_QDISK) {
                    free(disk->script);
                    disk->script = NULL;
                }
            }
            return 0;
        }
    }
    fprintf(stderr, "no disk with vdev '%s'\n", vdev);
    return 4;
}

int main(int argc, char **argv)
{
    int roundtrip = argc == 4 && strcmp(argv[1], "round-trip") == 0;
    int setdisk = (argc == 7 || argc == 8) && strcmp(argv[1], "set-disk") == 0;
    if (!roundtrip && !setdisk) {
        fprintf(stderr, "usage: %s round-trip IN OUT | set-disk IN OUT VDEV PATH FORMAT [BACKEND]\n", argv[0]);
        return 2;
    }
    xentoollog_logger_stdiostream *logger = xtl_createlogger_stdiostream(stderr, XTL_WARN, 0);
    libxl_ctx *ctx;
    if (!logger || libxl_ctx_alloc(&ctx, LIBXL_VERSION, 0, (xentoollog_logger *)logger)) {
        fprintf(stderr, "libxl_ctx_alloc failed\n");
        return 5;
    }
    char *json = read_all(argv[2]);
    if (!json) {
        return 5;
    }
    libxl_domain_config config;
    libxl_domain_config_init(&config);
    int rc = 0;
    if (libxl_domain_config_from_json(ctx, &config, json)) {
        fprintf(stderr, "libxl_domain_config_from_json refused %s\n", argv[2]);
        rc = 3;
    }
    if (rc == 0 && setdisk) {
        rc = set_disk(&config, argv[4], argv[5], argv[6], argc == 8 ? argv[7] : NULL);
    }
    if (rc == 0) {
        char *out = libxl_domain_config_to_json(ctx, &config);
        rc = out ? write_all(argv[3], out) : 3;
        free(out);
    }
    libxl_domain_config_dispose(&config);
    free(json);
    libxl_ctx_free(ctx);
    xtl_logger_destroy((xentoollog_logger *)logger);
    return rc;
}
