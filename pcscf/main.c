/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The P-CSCF daemon: the shared SIP node (transport, transactions, proxy
 * core) with the P-CSCF procedures of TS 24.229 §5.2 as its proxy handler.
 * Command line: see common/sip/node.h; configuration: config/pcscf.cfg.
 */
#include "common/sip/node.h"
#include "pcscf/init.h"
#include "pcscf/sip-handler.h"

static const sip_proxy_handler_t g_handler = {
    .on_request = pcscf_on_request,
    .on_response = pcscf_on_response,
    .on_ack = pcscf_on_ack,
};

static const sip_node_app_t g_app = {
    .name = "pcscf",
    .start = pcscf_start,
    .stop = pcscf_stop,
    .handler = &g_handler,
};

int main(int argc, char **argv)
{
    return sip_node_run(argc, argv, &g_app);
}
