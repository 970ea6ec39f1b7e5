/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The S-CSCF daemon: registrar, authentication and reg-event notifier
 * (TS 24.229 §5.4) on the shared SIP node. Without a `scscf` group in its
 * configuration it runs as a transparent stateful proxy.
 */
#include "common/sip/node.h"
#include "scscf/init.h"

int main(int argc, char **argv)
{
    static const sip_node_app_t app = {
        .name = "scscf",
        .start = scscf_start,
        .stop = scscf_stop,
        .handler = &scscf_handler,
    };

    return sip_node_run(argc, argv, &app);
}
