/*
 * xl-dry-run-shim: lets Xen 4.17's real xl parse an xl.cfg and print libxl's JSON for it (xl -N create CFG, its dry
 * run) on a machine with no hypervisor, as the reference the tests compare xensnap's xl.cfg writer with.
 *
 * Preloaded into xl: xl's start and its config parser ask the hypervisor for its version, the host's CPUs and NUMA
 * nodes and its physical info (to size vCPU bitmaps and check capabilities); the definitions below answer for a
 * 4-CPU, one-node host with PV, PVH and HVM. Opening the hypervisor and xenstore gives dummy handles that nothing
 * uses in a dry run. xl create without -N fails here, as it must: nothing can start a domain.
 *
 * Build: gcc -O2 -Wall -Werror -shared -fPIC -o xl-dry-run-shim.so xl-dry-run-shim.c
 */
#include <libxl.h>

static int fake_xc_handle, fake_xs_handle;
static libxl_version_info version;

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

const libxl_version_info *libxl_get_version_info(libxl_ctx *ctx)
{
    version.xen_version_major = 4;
    version.xen_version_minor = 17;
    version.xen_version_extra = ".0";
    version.compiler = version.compile_by = version.compile_domain = version.compile_date = "";
    version.capabilities = "xen-3.0-x86_64 hvm-3.0-x86_64";
    version.changeset = version.commandline = version.build_id = "";
    version.pagesize = 4096;
    return &version;
}

int xc_get_max_cpus(void *xch) { return 4; }
int xc_get_online_cpus(void *xch) { return 4; }
int xc_get_max_nodes(void *xch) { return 1; }
int libxl_get_max_cpus(libxl_ctx *ctx) { return 4; }
int libxl_get_online_cpus(libxl_ctx *ctx) { return 4; }
int libxl_get_max_nodes(libxl_ctx *ctx) { return 1; }

int libxl_get_physinfo(libxl_ctx *ctx, libxl_physinfo *info)
{
    info->threads_per_core = 1;
    info->cores_per_socket = 4;
    info->max_cpu_id = 3;
    info->nr_cpus = 4;
    info->nr_nodes = 1;
    info->total_pages = 1 << 20;
    info->free_pages = 1 << 19;
    info->cap_hvm = info->cap_pv = info->cap_hap = info->cap_shadow = 1;
    return 0;
}
