/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The I-CSCF daemon (TS 24.229 §5.3): REGISTER gets a UAR and goes to the
 * S-CSCF the HSS answer leads to; an initial request for a user of the home
 * domain gets an LIR and goes to the S-CSCF serving that user; other requests
 * (in-dialog, routed, other domains) are proxied by default routing. Without
 * an `icscf` group in its configuration it is a transparent stateful proxy.
 * Options: common/sip/node.h; keys: config/icscf.cfg.
 */
#include "common/sip/node.h"
#include "icscf/init.h"
#include "icscf/register-handler.h"

static const sip_proxy_handler_t handler = {
    .on_request = icscf_on_request,
};

int main(int argc, char **argv)
{
    static const sip_node_app_t app = {
        .name = "icscf",
        .start = icscf_start,
        .stop = icscf_stop,
        .handler = &handler,
    };

    return sip_node_run(argc, argv, &app);
}
