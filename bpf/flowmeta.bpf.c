// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * flowmeta's kernel programs: TC clsact ingress and egress, and XDP ingress for `--hook xdp`. Each
 * parses the frame, judges it by the access-control policy and meters it into the per-CPU flow
 * map; it lets the frame pass unmodified unless the policy drops it (TC_ACT_SHOT, XDP_DROP). The
 * maps are in maps.h, the rodata (l3_device) in parse.h; the loader relies on all of these names.
 * Two more programs serve the daemon, not the packet path: flowmeta_export_apply and
 * flowmeta_send_trace (export.h).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "export.h"
#include "hooks.h"

SEC("tc")
int flowmeta_tc_ingress(struct __sk_buff *skb)
{
	return flowmeta_tc(skb, FLOW_DIR_INGRESS);
}

SEC("tc")
int flowmeta_tc_egress(struct __sk_buff *skb)
{
	return flowmeta_tc(skb, FLOW_DIR_EGRESS);
}

SEC("xdp")
int flowmeta_xdp_ingress(struct xdp_md *ctx)
{
	return flowmeta_xdp(ctx);
}

SEC("syscall")
int flowmeta_export_apply(void *ctx)
{
	return export_apply();
}

SEC("cgroup_skb/egress")
int flowmeta_send_trace(struct __sk_buff *skb)
{
	return send_trace_count(skb);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
