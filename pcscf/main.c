/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The PCSCF daemon. Until its own procedures exist (TS 24.229), it runs the
 * shared SIP node as a transparent stateful proxy.
 */
#include "common/sip/node.h"

int main(int argc, char **argv)
{
    return sip_node_main(argc, argv, "pcscf");
}
