/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ims-hss, the lab HSS: Cx (UAR/MAR/SAR/LIR, RTR/PPR) over Diameter with the
 * subscribers of a libconfig file and SQNs kept across restarts.
 *
 *   ims-hss -c FILE [-s STATE_DIR] [-L LEVEL] [-p PIDFILE]
 *   ims-hss --ctl SOCKET "COMMAND"     talk to a running ims-hss (see hss/ctl.h)
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/rc.h"
#include "hss/context.h"
#include "hss/ctl.h"
#include "hss/init.h"

static void usage(void)
{
    fprintf(stderr, "usage: ims-hss -c FILE [-s STATE_DIR] [-L err|warn|notice|info|debug]"
                    " [-p PIDFILE]\n"
                    "       ims-hss --ctl SOCKET \"stats | show IMPI | rtr IMPI REASON | "
                    "ppr IMPI\"\n");
}

typedef struct opts {
    const char *conf, *level, *pidfile, *ctl, *state_dir;
} opts_t;

static int parse_args(opts_t *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "ctl", required_argument, NULL, 'C' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    while ((c = getopt_long(argc, argv, "c:L:p:s:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': o->conf = optarg; break;
        case 'L': o->level = optarg; break;
        case 'p': o->pidfile = optarg; break;
        case 's': o->state_dir = optarg; break;
        case 'C': o->ctl = optarg; break;
        default: usage(); return IMS_ERROR;
        }
    }
    if (o->ctl ? optind != argc - 1 : (optind != argc || !o->conf)) {
        usage();
        return IMS_ERROR;
    }
    return IMS_OK;
}

/* Log level: -L, else log_level in the file, else notice. */
static int log_level(const opts_t *o, hss_ctx_t *ctx)
{
    const char *s = o->level;
    int lvl;

    if (!s && ims_conf_str(ctx->conf, "log_level", false, &s) == IMS_ERROR) {
        fprintf(stderr, "ims-hss: %s\n", ims_conf_error(ctx->conf));
        return -1;
    }
    if (!s)
        return IMS_LOG_NOTICE;
    if ((lvl = ims_log_level_parse(s)) < 0)
        fprintf(stderr, "ims-hss: unknown log level \"%s\"\n", s);
    return lvl;
}

static void write_pidfile(const char *path)
{
    FILE *f = fopen(path, "w");

    if (!f) {
        IMS_WARN("cannot write pid file %s", path);
        return;
    }
    fprintf(f, "%ld\n", (long)getpid());
    fclose(f);
}

int main(int argc, char **argv)
{
    opts_t o = { 0 };
    hss_ctx_t *ctx;
    char err[1024];
    int lvl, rc = EXIT_FAILURE;

    if (parse_args(&o, argc, argv) != IMS_OK)
        return EXIT_FAILURE;
    if (o.ctl)
        return hss_ctl_client(o.ctl, argv[optind]);
    ctx = hss_ctx_new();
    if (hss_ctx_load(ctx, o.conf, err, sizeof(err)) != IMS_OK) {
        fprintf(stderr, "ims-hss: %s\n", err);
        hss_ctx_free(ctx);
        return EXIT_FAILURE;
    }
    if (o.state_dir)
        ctx->state_dir = o.state_dir;
    if ((lvl = log_level(&o, ctx)) < 0) {
        hss_ctx_free(ctx);
        return EXIT_FAILURE;
    }
    ims_log_init("ims-hss", (ims_log_level_t)lvl, NULL);
    if (hss_start(ctx) == IMS_OK) {
        if (o.pidfile)
            write_pidfile(o.pidfile);
        IMS_NOTICE("ims-hss running");
        rc = ims_loop_run(ctx->loop) == IMS_OK ? EXIT_SUCCESS : EXIT_FAILURE;
    }
    hss_stop(ctx);
    hss_ctx_free(ctx);
    if (o.pidfile)
        unlink(o.pidfile);
    return rc;
}
