// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * IPFIX encoder unit tests: every message the encoder builds is compared byte for byte with the
 * bytes RFC 7011 and SPEC §5 call for, written out below field by field (the expected bytes were
 * derived from the RFC and the IANA registry, not from the encoder).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "ipfix.h"

/* Byte tables keep one field per line with its comment, here and in the cases: no reflowing. */
/* clang-format off */

/* ---- Expected bytes: template records ---- */

#define TMPL_IPV4_TCP \
	0x01, 0x00, /* Template ID 256: IPv4 TCP */ \
	0x00, 0x0f, /* Field Count 15 */ \
	0x00, 0x98, 0x00, 0x08, /* flowStartMilliseconds 152, length 8 */ \
	0x00, 0x99, 0x00, 0x08, /* flowEndMilliseconds 153, length 8 */ \
	0x00, 0x01, 0x00, 0x08, /* octetDeltaCount 1, length 8 */ \
	0x00, 0x02, 0x00, 0x08, /* packetDeltaCount 2, length 8 */ \
	0x00, 0x08, 0x00, 0x04, /* sourceIPv4Address 8, length 4 */ \
	0x00, 0x0c, 0x00, 0x04, /* destinationIPv4Address 12, length 4 */ \
	0x00, 0x07, 0x00, 0x02, /* sourceTransportPort 7, length 2 */ \
	0x00, 0x0b, 0x00, 0x02, /* destinationTransportPort 11, length 2 */ \
	0x00, 0x04, 0x00, 0x01, /* protocolIdentifier 4, length 1 */ \
	0x00, 0x06, 0x00, 0x01, /* tcpControlBits 6, length 1 */ \
	0x00, 0x3d, 0x00, 0x01, /* flowDirection 61, length 1 */ \
	0x00, 0x88, 0x00, 0x01, /* flowEndReason 136, length 1 */ \
	0x00, 0x59, 0x00, 0x01, /* forwardingStatus 89, length 1 */ \
	0x00, 0x0a, 0x00, 0x04, /* ingressInterface 10, length 4 */ \
	0x00, 0x0e, 0x00, 0x04, /* egressInterface 14, length 4 */
/* 64 octets */

#define TMPL_IPV4_UDP \
	0x01, 0x01, /* Template ID 257: IPv4 UDP */ \
	0x00, 0x0e, /* Field Count 14 */ \
	0x00, 0x98, 0x00, 0x08, /* flowStartMilliseconds 152, length 8 */ \
	0x00, 0x99, 0x00, 0x08, /* flowEndMilliseconds 153, length 8 */ \
	0x00, 0x01, 0x00, 0x08, /* octetDeltaCount 1, length 8 */ \
	0x00, 0x02, 0x00, 0x08, /* packetDeltaCount 2, length 8 */ \
	0x00, 0x08, 0x00, 0x04, /* sourceIPv4Address 8, length 4 */ \
	0x00, 0x0c, 0x00, 0x04, /* destinationIPv4Address 12, length 4 */ \
	0x00, 0x07, 0x00, 0x02, /* sourceTransportPort 7, length 2 */ \
	0x00, 0x0b, 0x00, 0x02, /* destinationTransportPort 11, length 2 */ \
	0x00, 0x04, 0x00, 0x01, /* protocolIdentifier 4, length 1 */ \
	0x00, 0x3d, 0x00, 0x01, /* flowDirection 61, length 1 */ \
	0x00, 0x88, 0x00, 0x01, /* flowEndReason 136, length 1 */ \
	0x00, 0x59, 0x00, 0x01, /* forwardingStatus 89, length 1 */ \
	0x00, 0x0a, 0x00, 0x04, /* ingressInterface 10, length 4 */ \
	0x00, 0x0e, 0x00, 0x04, /* egressInterface 14, length 4 */
/* 60 octets */

#define TMPL_IPV4_ICMP \
	0x01, 0x02, /* Template ID 258: IPv4 ICMP */ \
	0x00, 0x0d, /* Field Count 13 */ \
	0x00, 0x98, 0x00, 0x08, /* flowStartMilliseconds 152, length 8 */ \
	0x00, 0x99, 0x00, 0x08, /* flowEndMilliseconds 153, length 8 */ \
	0x00, 0x01, 0x00, 0x08, /* octetDeltaCount 1, length 8 */ \
	0x00, 0x02, 0x00, 0x08, /* packetDeltaCount 2, length 8 */ \
	0x00, 0x08, 0x00, 0x04, /* sourceIPv4Address 8, length 4 */ \
	0x00, 0x0c, 0x00, 0x04, /* destinationIPv4Address 12, length 4 */ \
	0x00, 0x20, 0x00, 0x02, /* icmpTypeCodeIPv4 32, length 2 */ \
	0x00, 0x04, 0x00, 0x01, /* protocolIdentifier 4, length 1 */ \
	0x00, 0x3d, 0x00, 0x01, /* flowDirection 61, length 1 */ \
	0x00, 0x88, 0x00, 0x01, /* flowEndReason 136, length 1 */ \
	0x00, 0x59, 0x00, 0x01, /* forwardingStatus 89, length 1 */ \
	0x00, 0x0a, 0x00, 0x04, /* ingressInterface 10, length 4 */ \
	0x00, 0x0e, 0x00, 0x04, /* egressInterface 14, length 4 */
/* 56 octets */

#define TMPL_IPV4_OTHER \
	0x01, 0x03, /* Template ID 259: IPv4 other protocol */ \
	0x00, 0x0c, /* Field Count 12 */ \
	0x00, 0x98, 0x00, 0x08, /* flowStartMilliseconds 152, length 8 */ \
	0x00, 0x99, 0x00, 0x08, /* flowEndMilliseconds 153, length 8 */ \
	0x00, 0x01, 0x00, 0x08, /* octetDeltaCount 1, length 8 */ \
	0x00, 0x02, 0x00, 0x08, /* packetDeltaCount 2, length 8 */ \
	0x00, 0x08, 0x00, 0x04, /* sourceIPv4Address 8, length 4 */ \
	0x00, 0x0c, 0x00, 0x04, /* destinationIPv4Address 12, length 4 */ \
	0x00, 0x04, 0x00, 0x01, /* protocolIdentifier 4, length 1 */ \
	0x00, 0x3d, 0x00, 0x01, /* flowDirection 61, length 1 */ \
	0x00, 0x88, 0x00, 0x01, /* flowEndReason 136, length 1 */ \
	0x00, 0x59, 0x00, 0x01, /* forwardingStatus 89, length 1 */ \
	0x00, 0x0a, 0x00, 0x04, /* ingressInterface 10, length 4 */ \
	0x00, 0x0e, 0x00, 0x04, /* egressInterface 14, length 4 */
/* 52 octets */

#define TMPL_IPV6_TCP \
	0x01, 0x04, /* Template ID 260: IPv6 TCP */ \
	0x00, 0x0f, /* Field Count 15 */ \
	0x00, 0x98, 0x00, 0x08, /* flowStartMilliseconds 152, length 8 */ \
	0x00, 0x99, 0x00, 0x08, /* flowEndMilliseconds 153, length 8 */ \
	0x00, 0x01, 0x00, 0x08, /* octetDeltaCount 1, length 8 */ \
	0x00, 0x02, 0x00, 0x08, /* packetDeltaCount 2, length 8 */ \
	0x00, 0x1b, 0x00, 0x10, /* sourceIPv6Address 27, length 16 */ \
	0x00, 0x1c, 0x00, 0x10, /* destinationIPv6Address 28, length 16 */ \
	0x00, 0x07, 0x00, 0x02, /* sourceTransportPort 7, length 2 */ \
	0x00, 0x0b, 0x00, 0x02, /* destinationTransportPort 11, length 2 */ \
	0x00, 0x04, 0x00, 0x01, /* protocolIdentifier 4, length 1 */ \
	0x00, 0x06, 0x00, 0x01, /* tcpControlBits 6, length 1 */ \
	0x00, 0x3d, 0x00, 0x01, /* flowDirection 61, length 1 */ \
	0x00, 0x88, 0x00, 0x01, /* flowEndReason 136, length 1 */ \
	0x00, 0x59, 0x00, 0x01, /* forwardingStatus 89, length 1 */ \
	0x00, 0x0a, 0x00, 0x04, /* ingressInterface 10, length 4 */ \
	0x00, 0x0e, 0x00, 0x04, /* egressInterface 14, length 4 */
/* 64 octets */

#define TMPL_IPV6_UDP \
	0x01, 0x05, /* Template ID 261: IPv6 UDP */ \
	0x00, 0x0e, /* Field Count 14 */ \
	0x00, 0x98, 0x00, 0x08, /* flowStartMilliseconds 152, length 8 */ \
	0x00, 0x99, 0x00, 0x08, /* flowEndMilliseconds 153, length 8 */ \
	0x00, 0x01, 0x00, 0x08, /* octetDeltaCount 1, length 8 */ \
	0x00, 0x02, 0x00, 0x08, /* packetDeltaCount 2, length 8 */ \
	0x00, 0x1b, 0x00, 0x10, /* sourceIPv6Address 27, length 16 */ \
	0x00, 0x1c, 0x00, 0x10, /* destinationIPv6Address 28, length 16 */ \
	0x00, 0x07, 0x00, 0x02, /* sourceTransportPort 7, length 2 */ \
	0x00, 0x0b, 0x00, 0x02, /* destinationTransportPort 11, length 2 */ \
	0x00, 0x04, 0x00, 0x01, /* protocolIdentifier 4, length 1 */ \
	0x00, 0x3d, 0x00, 0x01, /* flowDirection 61, length 1 */ \
	0x00, 0x88, 0x00, 0x01, /* flowEndReason 136, length 1 */ \
	0x00, 0x59, 0x00, 0x01, /* forwardingStatus 89, length 1 */ \
	0x00, 0x0a, 0x00, 0x04, /* ingressInterface 10, length 4 */ \
	0x00, 0x0e, 0x00, 0x04, /* egressInterface 14, length 4 */
/* 60 octets */

#define TMPL_IPV6_ICMP \
	0x01, 0x06, /* Template ID 262: IPv6 ICMPv6 */ \
	0x00, 0x0d, /* Field Count 13 */ \
	0x00, 0x98, 0x00, 0x08, /* flowStartMilliseconds 152, length 8 */ \
	0x00, 0x99, 0x00, 0x08, /* flowEndMilliseconds 153, length 8 */ \
	0x00, 0x01, 0x00, 0x08, /* octetDeltaCount 1, length 8 */ \
	0x00, 0x02, 0x00, 0x08, /* packetDeltaCount 2, length 8 */ \
	0x00, 0x1b, 0x00, 0x10, /* sourceIPv6Address 27, length 16 */ \
	0x00, 0x1c, 0x00, 0x10, /* destinationIPv6Address 28, length 16 */ \
	0x00, 0x8b, 0x00, 0x02, /* icmpTypeCodeIPv6 139, length 2 */ \
	0x00, 0x04, 0x00, 0x01, /* protocolIdentifier 4, length 1 */ \
	0x00, 0x3d, 0x00, 0x01, /* flowDirection 61, length 1 */ \
	0x00, 0x88, 0x00, 0x01, /* flowEndReason 136, length 1 */ \
	0x00, 0x59, 0x00, 0x01, /* forwardingStatus 89, length 1 */ \
	0x00, 0x0a, 0x00, 0x04, /* ingressInterface 10, length 4 */ \
	0x00, 0x0e, 0x00, 0x04, /* egressInterface 14, length 4 */
/* 56 octets */

#define TMPL_IPV6_OTHER \
	0x01, 0x07, /* Template ID 263: IPv6 other protocol */ \
	0x00, 0x0c, /* Field Count 12 */ \
	0x00, 0x98, 0x00, 0x08, /* flowStartMilliseconds 152, length 8 */ \
	0x00, 0x99, 0x00, 0x08, /* flowEndMilliseconds 153, length 8 */ \
	0x00, 0x01, 0x00, 0x08, /* octetDeltaCount 1, length 8 */ \
	0x00, 0x02, 0x00, 0x08, /* packetDeltaCount 2, length 8 */ \
	0x00, 0x1b, 0x00, 0x10, /* sourceIPv6Address 27, length 16 */ \
	0x00, 0x1c, 0x00, 0x10, /* destinationIPv6Address 28, length 16 */ \
	0x00, 0x04, 0x00, 0x01, /* protocolIdentifier 4, length 1 */ \
	0x00, 0x3d, 0x00, 0x01, /* flowDirection 61, length 1 */ \
	0x00, 0x88, 0x00, 0x01, /* flowEndReason 136, length 1 */ \
	0x00, 0x59, 0x00, 0x01, /* forwardingStatus 89, length 1 */ \
	0x00, 0x0a, 0x00, 0x04, /* ingressInterface 10, length 4 */ \
	0x00, 0x0e, 0x00, 0x04, /* egressInterface 14, length 4 */
/* 52 octets */

/* total 464 */
#define OPT_TMPL_METERING_STATS \
	0x01, 0x08, /* Template ID 264: metering statistics */ \
	0x00, 0x04, /* Field Count 4 */ \
	0x00, 0x01, /* Scope Field Count 1 */ \
	0x00, 0x95, 0x00, 0x04, /* observationDomainId 149, length 4 */ \
	0x00, 0x29, 0x00, 0x08, /* exportedMessageTotalCount 41, length 8 */ \
	0x00, 0x2a, 0x00, 0x08, /* exportedFlowRecordTotalCount 42, length 8 */ \
	0x00, 0x28, 0x00, 0x08, /* exportedOctetTotalCount 40, length 8 */
/* 22 octets */

#define OPT_TMPL_EXPORTING_STATS \
	0x01, 0x09, /* Template ID 265: exporting reliability */ \
	0x00, 0x06, /* Field Count 6 */ \
	0x00, 0x01, /* Scope Field Count 1 */ \
	0x00, 0x90, 0x00, 0x04, /* exportingProcessId 144, length 4 */ \
	0x00, 0xa6, 0x00, 0x08, /* notSentFlowTotalCount 166, length 8 */ \
	0x00, 0xa7, 0x00, 0x08, /* notSentPacketTotalCount 167, length 8 */ \
	0x00, 0xa8, 0x00, 0x08, /* notSentOctetTotalCount 168, length 8 */ \
	0x01, 0x43, 0x00, 0x08, /* observationTimeMilliseconds 323: first flow not sent */ \
	0x01, 0x43, 0x00, 0x08, /* observationTimeMilliseconds 323: last flow not sent */
/* 30 octets */

#define OPT_TMPL_METERING_RELIABILITY \
	0x01, 0x0a, /* Template ID 266: metering reliability (RFC 7011 4.2) */ \
	0x00, 0x05, /* Field Count 5 */ \
	0x00, 0x01, /* Scope Field Count 1 */ \
	0x00, 0x95, 0x00, 0x04, /* observationDomainId 149, length 4 */ \
	0x00, 0xa4, 0x00, 0x08, /* ignoredPacketTotalCount 164, length 8 */ \
	0x00, 0xa5, 0x00, 0x08, /* ignoredOctetTotalCount 165, length 8 */ \
	0x01, 0x43, 0x00, 0x08, /* observationTimeMilliseconds 323: first packet ignored */ \
	0x01, 0x43, 0x00, 0x08, /* observationTimeMilliseconds 323: last packet ignored */
/* 26 octets */

#define OPT_TMPL_INGRESS_INTERFACE \
	0x01, 0x0b, /* Template ID 267: interface, by ingressInterface */ \
	0x00, 0x03, /* Field Count 3 */ \
	0x00, 0x01, /* Scope Field Count 1 */ \
	0x00, 0x0a, 0x00, 0x04, /* ingressInterface 10, length 4 */ \
	0x00, 0x52, 0xff, 0xff, /* interfaceName 82, variable length */ \
	0x00, 0x53, 0xff, 0xff, /* interfaceDescription 83, variable length */
/* 18 octets */

#define OPT_TMPL_EGRESS_INTERFACE \
	0x01, 0x0c, /* Template ID 268: interface, by egressInterface */ \
	0x00, 0x03, /* Field Count 3 */ \
	0x00, 0x01, /* Scope Field Count 1 */ \
	0x00, 0x0e, 0x00, 0x04, /* egressInterface 14, length 4 */ \
	0x00, 0x52, 0xff, 0xff, /* interfaceName 82, variable length */ \
	0x00, 0x53, 0xff, 0xff, /* interfaceDescription 83, variable length */
/* 18 octets */

#define OPT_TMPL_SAMPLING \
	0x01, 0x0d, /* Template ID 269: sampling */ \
	0x00, 0x06, /* Field Count 6 */ \
	0x00, 0x01, /* Scope Field Count 1 */ \
	0x00, 0x95, 0x00, 0x04, /* observationDomainId 149, length 4 */ \
	0x00, 0x22, 0x00, 0x04, /* samplingInterval 34, length 4 */ \
	0x00, 0x23, 0x00, 0x01, /* samplingAlgorithm 35, length 1 */ \
	0x01, 0x31, 0x00, 0x04, /* samplingPacketInterval 305, length 4 */ \
	0x01, 0x32, 0x00, 0x04, /* samplingPacketSpace 306, length 4 */ \
	0x01, 0x30, 0x00, 0x02, /* selectorAlgorithm 304, length 2 */
/* 30 octets */

#define OPT_TMPL_EXPORTER_IPV4 \
	0x01, 0x0e, /* Template ID 270: exporter IPv4 address */ \
	0x00, 0x02, /* Field Count 2 */ \
	0x00, 0x01, /* Scope Field Count 1 */ \
	0x00, 0x90, 0x00, 0x04, /* exportingProcessId 144, length 4 */ \
	0x00, 0x82, 0x00, 0x04, /* exporterIPv4Address 130, length 4 */
/* 14 octets */

#define OPT_TMPL_EXPORTER_IPV6 \
	0x01, 0x0f, /* Template ID 271: exporter IPv6 address */ \
	0x00, 0x02, /* Field Count 2 */ \
	0x00, 0x01, /* Scope Field Count 1 */ \
	0x00, 0x90, 0x00, 0x04, /* exportingProcessId 144, length 4 */ \
	0x00, 0x83, 0x00, 0x10, /* exporterIPv6Address 131, length 16 */
/* 14 octets */


/* ---- Expected bytes: data records of the fixtures below ---- */

#define REC_IPV4_TCP \
	0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x7b, /* flowStartMilliseconds 1700000000123 */ \
	0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe6, 0x52, 0x5f, /* flowEndMilliseconds 1700000059999 */ \
	0x00, 0x00, 0x01, 0x1f, 0x71, 0xfb, 0x04, 0xcb, /* octetDeltaCount 1234567890123 */ \
	0x00, 0x00, 0x00, 0x00, 0x00, 0x0f, 0x12, 0x06, /* packetDeltaCount 987654 */ \
	0x64, 0x40, 0x00, 0x01, /* sourceIPv4Address 100.64.0.1 */ \
	0x64, 0x40, 0x00, 0x02, /* destinationIPv4Address 100.64.0.2 */ \
	0x9c, 0x40, /* sourceTransportPort 40000 */ \
	0x01, 0xbb, /* destinationTransportPort 443 */ \
	0x06, /* protocolIdentifier 6 */ \
	0x1b, /* tcpControlBits 0x1b */ \
	0x01, /* flowDirection 1 */ \
	0x03, /* flowEndReason 3 */ \
	0x40, /* forwardingStatus 64 */ \
	0x00, 0x00, 0x00, 0x00, /* ingressInterface 0 */ \
	0x00, 0x00, 0x00, 0x07, /* egressInterface 7 */
/* 57 octets */

#define REC_IPV4_UDP \
	0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x6b, 0xe8, /* flowStartMilliseconds 1700000001000 */ \
	0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x6f, 0xd0, /* flowEndMilliseconds 1700000002000 */ \
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0xdc, /* octetDeltaCount 1500 */ \
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, /* packetDeltaCount 3 */ \
	0x64, 0x40, 0x00, 0x02, /* sourceIPv4Address 100.64.0.2 */ \
	0x64, 0x40, 0x00, 0x01, /* destinationIPv4Address 100.64.0.1 */ \
	0x00, 0x35, /* sourceTransportPort 53 */ \
	0x80, 0xe8, /* destinationTransportPort 33000 */ \
	0x11, /* protocolIdentifier 17 */ \
	0x00, /* flowDirection 0 */ \
	0x01, /* flowEndReason 1 */ \
	0x40, /* forwardingStatus 64 */ \
	0x00, 0x00, 0x00, 0x07, /* ingressInterface 7 */ \
	0x00, 0x00, 0x00, 0x00, /* egressInterface 0 */
/* 56 octets */

#define REC_IPV4_ICMP \
	0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x73, 0xb8, /* flowStartMilliseconds 1700000003000 */ \
	0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x77, 0xa0, /* flowEndMilliseconds 1700000004000 */ \
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x48, /* octetDeltaCount 840 */ \
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, /* packetDeltaCount 10 */ \
	0x64, 0x40, 0x00, 0x09, /* sourceIPv4Address 100.64.0.9 */ \
	0x64, 0x40, 0x00, 0x01, /* destinationIPv4Address 100.64.0.1 */ \
	0x08, 0x00, /* icmpTypeCodeIPv4 type 8 code 0 */ \
	0x01, /* protocolIdentifier 1 */ \
	0x00, /* flowDirection 0 */ \
	0x02, /* flowEndReason 2 */ \
	0x81, /* forwardingStatus 129 */ \
	0x00, 0x00, 0x00, 0x07, /* ingressInterface 7 */ \
	0x00, 0x00, 0x00, 0x00, /* egressInterface 0 */
/* 54 octets */

#define REC_IPV4_OTHER \
	0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x7b, 0x88, /* flowStartMilliseconds 1700000005000 */ \
	0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x7f, 0x70, /* flowEndMilliseconds 1700000006000 */ \
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, /* octetDeltaCount 4096 */ \
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, /* packetDeltaCount 4 */ \
	0x64, 0x40, 0x00, 0x01, /* sourceIPv4Address 100.64.0.1 */ \
	0x64, 0x40, 0x00, 0x03, /* destinationIPv4Address 100.64.0.3 */ \
	0x2f, /* protocolIdentifier 47 */ \
	0x01, /* flowDirection 1 */ \
	0x04, /* flowEndReason 4 */ \
	0x82, /* forwardingStatus 130 */ \
	0x00, 0x00, 0x00, 0x00, /* ingressInterface 0 */ \
	0x00, 0x00, 0x00, 0x07, /* egressInterface 7 */
/* 52 octets */

#define REC_IPV6_TCP \
	0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x83, 0x58, /* flowStartMilliseconds 1700000007000 */ \
	0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x87, 0x40, /* flowEndMilliseconds 1700000008000 */ \
	0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xe2, 0x40, /* octetDeltaCount 123456 */ \
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x4e, /* packetDeltaCount 78 */ \
	0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, /* sourceIPv6Address 2001:db8::1 */ \
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, \
	0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, /* destinationIPv6Address 2001:db8::2 */ \
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, \
	0xc3, 0x50, /* sourceTransportPort 50000 */ \
	0x00, 0x16, /* destinationTransportPort 22 */ \
	0x06, /* protocolIdentifier 6 */ \
	0x12, /* tcpControlBits 0x12 */ \
	0x01, /* flowDirection 1 */ \
	0x01, /* flowEndReason 1 */ \
	0x40, /* forwardingStatus 64 */ \
	0x00, 0x00, 0x00, 0x00, /* ingressInterface 0 */ \
	0x00, 0x00, 0x00, 0x09, /* egressInterface 9 */
/* 81 octets */

#define REC_IPV6_UDP \
	0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x8b, 0x28, /* flowStartMilliseconds 1700000009000 */ \
	0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x8f, 0x10, /* flowEndMilliseconds 1700000010000 */ \
	0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, /* octetDeltaCount 65536 */ \
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, /* packetDeltaCount 1 */ \
	0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* sourceIPv6Address fd00::1 */ \
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, \
	0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* destinationIPv6Address fd00::2 */ \
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, \
	0x14, 0xe9, /* sourceTransportPort 5353 */ \
	0x14, 0xe9, /* destinationTransportPort 5353 */ \
	0x11, /* protocolIdentifier 17 */ \
	0x00, /* flowDirection 0 */ \
	0x02, /* flowEndReason 2 */ \
	0x40, /* forwardingStatus 64 */ \
	0x00, 0x00, 0x00, 0x09, /* ingressInterface 9 */ \
	0x00, 0x00, 0x00, 0x00, /* egressInterface 0 */
/* 80 octets */

#define REC_IPV6_ICMP \
	0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x92, 0xf8, /* flowStartMilliseconds 1700000011000 */ \
	0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x96, 0xe0, /* flowEndMilliseconds 1700000012000 */ \
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x68, /* octetDeltaCount 104 */ \
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, /* packetDeltaCount 1 */ \
	0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, /* sourceIPv6Address 2001:db8::2 */ \
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, \
	0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, /* destinationIPv6Address 2001:db8::1 */ \
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, \
	0x80, 0x00, /* icmpTypeCodeIPv6 type 128 code 0 */ \
	0x3a, /* protocolIdentifier 58 */ \
	0x00, /* flowDirection 0 */ \
	0x01, /* flowEndReason 1 */ \
	0x81, /* forwardingStatus 129 */ \
	0x00, 0x00, 0x00, 0x09, /* ingressInterface 9 */ \
	0x00, 0x00, 0x00, 0x00, /* egressInterface 0 */
/* 78 octets */

#define REC_IPV6_OTHER \
	0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x9a, 0xc8, /* flowStartMilliseconds 1700000013000 */ \
	0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x9e, 0xb0, /* flowEndMilliseconds 1700000014000 */ \
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xe7, /* octetDeltaCount 999 */ \
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, /* packetDeltaCount 7 */ \
	0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* sourceIPv6Address fd00::a */ \
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, \
	0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* destinationIPv6Address fd00::b */ \
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0b, \
	0x84, /* protocolIdentifier 132 */ \
	0x01, /* flowDirection 1 */ \
	0x05, /* flowEndReason 5 */ \
	0x40, /* forwardingStatus 64 */ \
	0x00, 0x00, 0x00, 0x00, /* ingressInterface 0 */ \
	0x00, 0x00, 0x00, 0x09, /* egressInterface 9 */
/* 76 octets */

#define REC_METERING_STATS \
	0x00, 0x00, 0x00, 0x01, /* observationDomainId 1 */ \
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xe8, /* exportedMessageTotalCount 1000 */ \
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x61, 0xa8, /* exportedFlowRecordTotalCount 25000 */ \
	0x00, 0x00, 0x00, 0x00, 0x00, 0x15, 0x5c, 0xc0, /* exportedOctetTotalCount 1400000 */
/* 28 octets */

#define REC_EXPORTING_STATS \
	0x00, 0x00, 0x10, 0x92, /* exportingProcessId 4242 */ \
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, /* notSentFlowTotalCount 3 */ \
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46, /* notSentPacketTotalCount 70 */ \
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x23, 0x8c, /* notSentOctetTotalCount 9100 */ \
	0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0xdd, 0x30, /* first not sent 1700000030000 */ \
	0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe6, 0x19, 0xbc, /* last not sent 1700000045500 */
/* 44 octets */

#define REC_METERING_RELIABILITY \
	0x00, 0x00, 0x00, 0x01, /* observationDomainId 1 */ \
	0x00, 0x00, 0x00, 0x00, 0x07, 0x5b, 0xcd, 0x15, /* ignoredPacketTotalCount 123456789 */ \
	0x00, 0x00, 0x00, 0x02, 0x4c, 0xb0, 0x16, 0xea, /* ignoredOctetTotalCount 9876543210 */ \
	0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x6b, 0xe8, /* first ignored 1700000001000 */ \
	0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe6, 0x4e, 0x78, /* last ignored 1700000059000 */
/* 36 octets */

#define REC_INTERFACE_WG0 \
	0x00, 0x00, 0x00, 0x09, /* ingressInterface or egressInterface 9 */ \
	0x03, 'w', 'g', '0', /* interfaceName: length 3, "wg0" */ \
	0x0e, 'o', 'v', 'e', 'r', 'l', 'a', 'y', ' ', '(', 't', 'u', 'n', ')', ' ', \
	/* interfaceDescription: length 14, "overlay (tun) " */
/* 4 + 4 + 15 = 23 octets */

#define REC_UNSAMPLED \
	0x00, 0x00, 0x00, 0x01, /* observationDomainId 1 */ \
	0x00, 0x00, 0x00, 0x01, /* samplingInterval 1 */ \
	0x01, /* samplingAlgorithm 1: deterministic */ \
	0x00, 0x00, 0x00, 0x01, /* samplingPacketInterval 1 */ \
	0x00, 0x00, 0x00, 0x00, /* samplingPacketSpace 0 */ \
	0x00, 0x01, /* selectorAlgorithm 1: systematic count-based */
/* 19 octets */

#define REC_EXPORTER_IPV4 \
	0x00, 0x00, 0x10, 0x92, /* exportingProcessId 4242 */ \
	0xc6, 0x12, 0x00, 0x01, /* exporterIPv4Address 198.18.0.1 */
/* 8 octets */

#define REC_EXPORTER_IPV6 \
	0x00, 0x00, 0x10, 0x92, /* exportingProcessId 4242 */ \
	0xfd, 0x00, 0x00, 0x64, 0x00, 0x00, 0x00, 0x00, /* exporterIPv6Address fd00:64::7 */ \
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07,
/* 20 octets */

/* ---- Fixtures: the flows behind the REC_* bytes ---- */

static const struct ipfix_flow flow_ipv4_tcp = {
	.start_ms = 1700000000123,
	.end_ms = 1700000059999,
	.octets = 1234567890123,
	.packets = 987654,
	.src_addr = { 100, 64, 0, 1 },
	.dst_addr = { 100, 64, 0, 2 },
	.src_port = 40000,
	.dst_port = 443,
	.protocol = 6,
	.ip_version = 4,
	.direction = 1,
	.end_reason = IPFIX_END_DETECTED,
	.forwarding_status = IPFIX_FWD_FORWARDED,
	.tcp_flags = 0x1b,
	.ingress_ifindex = 0,
	.egress_ifindex = 7,
};

/* tcp_flags set: a UDP record must not carry them. */
static const struct ipfix_flow flow_ipv4_udp = {
	.start_ms = 1700000001000,
	.end_ms = 1700000002000,
	.octets = 1500,
	.packets = 3,
	.src_addr = { 100, 64, 0, 2 },
	.dst_addr = { 100, 64, 0, 1 },
	.src_port = 53,
	.dst_port = 33000,
	.protocol = 17,
	.ip_version = 4,
	.direction = 0,
	.end_reason = IPFIX_END_IDLE,
	.forwarding_status = IPFIX_FWD_FORWARDED,
	.tcp_flags = 0xff,
	.ingress_ifindex = 7,
	.egress_ifindex = 0,
};

/* Bytes past the IPv4 address and src_port set: neither may reach the record. */
static const struct ipfix_flow flow_ipv4_icmp = {
	.start_ms = 1700000003000,
	.end_ms = 1700000004000,
	.octets = 840,
	.packets = 10,
	.src_addr = { 100, 64, 0, 9, 0xee, 0xee, 0xee, 0xee },
	.dst_addr = { 100, 64, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xee },
	.src_port = 0x1234,
	.dst_port = 8 << 8 | 0,	/* echo request */
	.protocol = 1,
	.ip_version = 4,
	.direction = 0,
	.end_reason = IPFIX_END_ACTIVE,
	.forwarding_status = IPFIX_FWD_DROP_ACL_DENY,
	.ingress_ifindex = 7,
	.egress_ifindex = 0,
};

/* GRE, with stray ports and flags that the "other protocol" template has no place for. */
static const struct ipfix_flow flow_ipv4_other = {
	.start_ms = 1700000005000,
	.end_ms = 1700000006000,
	.octets = 4096,
	.packets = 4,
	.src_addr = { 100, 64, 0, 1 },
	.dst_addr = { 100, 64, 0, 3 },
	.src_port = 1,
	.dst_port = 2,
	.protocol = 47,
	.ip_version = 4,
	.direction = 1,
	.end_reason = IPFIX_END_FORCED,
	.forwarding_status = IPFIX_FWD_DROP_ACL_DROP,
	.tcp_flags = 0x02,
	.ingress_ifindex = 0,
	.egress_ifindex = 7,
};

static const struct ipfix_flow flow_ipv6_tcp = {
	.start_ms = 1700000007000,
	.end_ms = 1700000008000,
	.octets = 123456,
	.packets = 78,
	.src_addr = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 },
	.dst_addr = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 },
	.src_port = 50000,
	.dst_port = 22,
	.protocol = 6,
	.ip_version = 6,
	.direction = 1,
	.end_reason = IPFIX_END_IDLE,
	.forwarding_status = IPFIX_FWD_FORWARDED,
	.tcp_flags = 0x12,
	.ingress_ifindex = 0,
	.egress_ifindex = 9,
};

static const struct ipfix_flow flow_ipv6_udp = {
	.start_ms = 1700000009000,
	.end_ms = 1700000010000,
	.octets = 65536,
	.packets = 1,
	.src_addr = { 0xfd, [15] = 1 },
	.dst_addr = { 0xfd, [15] = 2 },
	.src_port = 5353,
	.dst_port = 5353,
	.protocol = 17,
	.ip_version = 6,
	.direction = 0,
	.end_reason = IPFIX_END_ACTIVE,
	.forwarding_status = IPFIX_FWD_FORWARDED,
	.ingress_ifindex = 9,
	.egress_ifindex = 0,
};

static const struct ipfix_flow flow_ipv6_icmp = {
	.start_ms = 1700000011000,
	.end_ms = 1700000012000,
	.octets = 104,
	.packets = 1,
	.src_addr = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 },
	.dst_addr = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 },
	.dst_port = 128 << 8 | 0,	/* echo request */
	.protocol = 58,
	.ip_version = 6,
	.direction = 0,
	.end_reason = IPFIX_END_IDLE,
	.forwarding_status = IPFIX_FWD_DROP_ACL_DENY,
	.ingress_ifindex = 9,
	.egress_ifindex = 0,
};

/* SCTP has ports, but flowmeta's templates have none for it: it goes to "other protocol". */
static const struct ipfix_flow flow_ipv6_other = {
	.start_ms = 1700000013000,
	.end_ms = 1700000014000,
	.octets = 999,
	.packets = 7,
	.src_addr = { 0xfd, [15] = 0x0a },
	.dst_addr = { 0xfd, [15] = 0x0b },
	.src_port = 36412,
	.dst_port = 36412,
	.protocol = 132,
	.ip_version = 6,
	.direction = 1,
	.end_reason = IPFIX_END_LACK_OF_RESOURCES,
	.forwarding_status = IPFIX_FWD_FORWARDED,
	.ingress_ifindex = 0,
	.egress_ifindex = 9,
};

static const struct ipfix_metering_stats metering_stats = {
	.observation_domain_id = 1,
	.exported_messages = 1000,
	.exported_flow_records = 25000,
	.exported_octets = 1400000,
};

static const struct ipfix_exporting_stats exporting_stats = {
	.exporting_process_id = 4242,
	.not_sent_flows = 3,
	.not_sent_packets = 70,
	.not_sent_octets = 9100,
	.first_not_sent_ms = 1700000030000,
	.last_not_sent_ms = 1700000045500,
};

static const struct ipfix_metering_reliability metering_reliability = {
	.observation_domain_id = 1,
	.ignored_packets = 123456789,
	.ignored_octets = 9876543210,
	.first_ignored_ms = 1700000001000,
	.last_ignored_ms = 1700000059000,
};

static const struct ipfix_interface wg0 = {
	.ifindex = 9,
	.name = "wg0",
	.description = "overlay (tun) ",
};

/*
 * Message header of the single-set messages below: export time 1700000060, sequence 42, domain 1.
 * len_hi, len_lo: the message length.
 */
#define HEADER(len_hi, len_lo)                                                                     \
	0x00, 0x0a,		/* Version 10 */                                                   \
	(len_hi), (len_lo),	/* Length */                                                       \
	0x65, 0x53, 0xf1, 0x3c,	/* Export Time 1700000060 */                                       \
	0x00, 0x00, 0x00, 0x2a,	/* Sequence Number 42 */                                           \
	0x00, 0x00, 0x00, 0x01,	/* Observation Domain ID 1 */
#define EXPORT_TIME 1700000060u
#define SEQUENCE    42u
#define DOMAIN	    1u

static uint8_t buf[IPFIX_MAX_MESSAGE];

/* Encodes flow alone in a message and compares the whole message with want. */
static void expect_single_record(const struct ipfix_flow *flow, const uint8_t *want,
				 size_t want_len)
{
	struct ipfix_msg msg;

	memset(buf, 0xa5, sizeof(buf));
	ipfix_msg_begin(&msg, buf, 1400);
	EXPECT_EQ(ipfix_msg_add_flow(&msg, flow), 0);
	EXPECT_EQ(ipfix_msg_finish(&msg, EXPORT_TIME, SEQUENCE, DOMAIN), want_len);
	EXPECT_MEM(buf, want, want_len);
	EXPECT_EQ(msg.data_records, 1);
}

/* ---- Template sets ---- */

static void template_set_holds_the_eight_flow_templates_in_documented_field_order(void)
{
	static const uint8_t want[] = {
		HEADER(0x01, 0xe4)	/* 484 = 16 + 468 */
		0x00, 0x02,		/* Set ID 2: Template Set */
		0x01, 0xd4,		/* Set Length 468 = 4 + 64 + 60 + 56 + 52 + 64 + 60 + 56 + 52 */
		TMPL_IPV4_TCP
		TMPL_IPV4_UDP
		TMPL_IPV4_ICMP
		TMPL_IPV4_OTHER
		TMPL_IPV6_TCP
		TMPL_IPV6_UDP
		TMPL_IPV6_ICMP
		TMPL_IPV6_OTHER
	};
	struct ipfix_msg msg;

	ipfix_msg_begin(&msg, buf, 1400);
	EXPECT_EQ(ipfix_msg_add_templates(&msg), 0);
	EXPECT_EQ(ipfix_msg_finish(&msg, EXPORT_TIME, SEQUENCE, DOMAIN), sizeof(want));
	EXPECT_MEM(buf, want, sizeof(want));
	EXPECT_EQ(msg.data_records, 0);
}

static void template_set_fits_a_512_byte_message_but_not_with_the_options_templates(void)
{
	struct ipfix_msg msg;

	/* 16 + 468 = 484 <= 512, RFC 7011's size for an unknown path MTU. */
	ipfix_msg_begin(&msg, buf, IPFIX_MIN_MESSAGE);
	EXPECT_EQ(ipfix_msg_add_templates(&msg), 0);
	EXPECT_EQ(msg.len, 484);
	/* 484 + 204 > 512: at MaxMessageSize 512 the options templates need a message of their
	 * own, and are refused whole. */
	EXPECT_EQ(ipfix_msg_add_options_templates(&msg), -ENOSPC);
	EXPECT_EQ(msg.len, 484);
	EXPECT_EQ(ipfix_msg_finish(&msg, EXPORT_TIME, SEQUENCE, DOMAIN), 484);
	EXPECT_EQ(buf[2] << 8 | buf[3], 484);
}

static void template_set_that_does_not_fit_is_refused_whole(void)
{
	struct ipfix_msg msg;

	ipfix_msg_begin(&msg, buf, 483);
	EXPECT_EQ(ipfix_msg_add_templates(&msg), -ENOSPC);
	EXPECT_EQ(msg.len, IPFIX_HEADER_LEN);
	EXPECT_TRUE(ipfix_msg_empty(&msg));
	ipfix_msg_begin(&msg, buf, 484);
	EXPECT_EQ(ipfix_msg_add_templates(&msg), 0);
	EXPECT_EQ(msg.len, 484);
}

static void options_templates_each_get_their_own_options_template_set(void)
{
	static const uint8_t want[] = {
		HEADER(0x00, 0xdc)	/* 220 = 16 + 26 + 34 + 30 + 22 + 22 + 34 + 18 + 18 */
		0x00, 0x03,		/* Set ID 3: Options Template Set */
		0x00, 0x1a,		/* Set Length 26 = 4 + 22, no padding */
		OPT_TMPL_METERING_STATS
		0x00, 0x03,
		0x00, 0x22,		/* Set Length 34 = 4 + 30 */
		OPT_TMPL_EXPORTING_STATS
		0x00, 0x03,
		0x00, 0x1e,		/* 30 = 4 + 26 */
		OPT_TMPL_METERING_RELIABILITY
		0x00, 0x03,
		0x00, 0x16,		/* 22 = 4 + 18 */
		OPT_TMPL_INGRESS_INTERFACE
		0x00, 0x03,
		0x00, 0x16,		/* 22 */
		OPT_TMPL_EGRESS_INTERFACE
		0x00, 0x03,
		0x00, 0x22,		/* 34 = 4 + 30 */
		OPT_TMPL_SAMPLING
		0x00, 0x03,
		0x00, 0x12,		/* 18 = 4 + 14 */
		OPT_TMPL_EXPORTER_IPV4
		0x00, 0x03,
		0x00, 0x12,		/* 18 */
		OPT_TMPL_EXPORTER_IPV6
	};
	struct ipfix_msg msg;

	ipfix_msg_begin(&msg, buf, 1400);
	EXPECT_EQ(ipfix_msg_add_options_templates(&msg), 0);
	EXPECT_EQ(ipfix_msg_finish(&msg, EXPORT_TIME, SEQUENCE, DOMAIN), sizeof(want));
	EXPECT_MEM(buf, want, sizeof(want));
	EXPECT_EQ(msg.data_records, 0);
}

static void options_templates_are_refused_whole_when_only_some_fit(void)
{
	struct ipfix_msg msg;

	/* One octet short of the eighth set: none goes in. */
	ipfix_msg_begin(&msg, buf, 220 - 1);
	EXPECT_EQ(ipfix_msg_add_options_templates(&msg), -ENOSPC);
	EXPECT_EQ(msg.len, IPFIX_HEADER_LEN);
	ipfix_msg_begin(&msg, buf, 220);
	EXPECT_EQ(ipfix_msg_add_options_templates(&msg), 0);
	EXPECT_EQ(msg.len, 220);
}

/* ---- One data record of each template ---- */

static void ipv4_tcp_flow_is_a_template_256_record(void)
{
	static const uint8_t want[] = {
		HEADER(0x00, 0x4d)	/* 77 = 16 + 4 + 57 */
		0x01, 0x00,		/* Set ID 256 */
		0x00, 0x3d,		/* Set Length 61 = 4 + 57 */
		REC_IPV4_TCP
	};

	expect_single_record(&flow_ipv4_tcp, want, sizeof(want));
}

static void ipv4_udp_flow_is_a_template_257_record_without_tcp_flags(void)
{
	static const uint8_t want[] = {
		HEADER(0x00, 0x4c)	/* 76 = 16 + 4 + 56 */
		0x01, 0x01,		/* Set ID 257 */
		0x00, 0x3c,		/* Set Length 60 */
		REC_IPV4_UDP
	};

	expect_single_record(&flow_ipv4_udp, want, sizeof(want));
}

static void ipv4_icmp_flow_is_a_template_258_record_with_type_and_code(void)
{
	static const uint8_t want[] = {
		HEADER(0x00, 0x4a)	/* 74 = 16 + 4 + 54 */
		0x01, 0x02,		/* Set ID 258 */
		0x00, 0x3a,		/* Set Length 58 */
		REC_IPV4_ICMP
	};

	expect_single_record(&flow_ipv4_icmp, want, sizeof(want));
}

static void ipv4_other_protocol_flow_is_a_template_259_record_without_ports(void)
{
	static const uint8_t want[] = {
		HEADER(0x00, 0x48)	/* 72 = 16 + 4 + 52 */
		0x01, 0x03,		/* Set ID 259 */
		0x00, 0x38,		/* Set Length 56 */
		REC_IPV4_OTHER
	};

	expect_single_record(&flow_ipv4_other, want, sizeof(want));
}

static void ipv6_tcp_flow_is_a_template_260_record(void)
{
	static const uint8_t want[] = {
		HEADER(0x00, 0x65)	/* 101 = 16 + 4 + 81 */
		0x01, 0x04,		/* Set ID 260 */
		0x00, 0x55,		/* Set Length 85 */
		REC_IPV6_TCP
	};

	expect_single_record(&flow_ipv6_tcp, want, sizeof(want));
}

static void ipv6_udp_flow_is_a_template_261_record(void)
{
	static const uint8_t want[] = {
		HEADER(0x00, 0x64)	/* 100 = 16 + 4 + 80 */
		0x01, 0x05,		/* Set ID 261 */
		0x00, 0x54,		/* Set Length 84 */
		REC_IPV6_UDP
	};

	expect_single_record(&flow_ipv6_udp, want, sizeof(want));
}

static void ipv6_icmpv6_flow_is_a_template_262_record_with_type_and_code(void)
{
	static const uint8_t want[] = {
		HEADER(0x00, 0x62)	/* 98 = 16 + 4 + 78 */
		0x01, 0x06,		/* Set ID 262 */
		0x00, 0x52,		/* Set Length 82 */
		REC_IPV6_ICMP
	};

	expect_single_record(&flow_ipv6_icmp, want, sizeof(want));
}

static void ipv6_sctp_flow_is_a_template_263_record_without_ports(void)
{
	static const uint8_t want[] = {
		HEADER(0x00, 0x60)	/* 96 = 16 + 4 + 76 */
		0x01, 0x07,		/* Set ID 263 */
		0x00, 0x50,		/* Set Length 80 */
		REC_IPV6_OTHER
	};

	expect_single_record(&flow_ipv6_other, want, sizeof(want));
}

/* ---- Options data records ---- */

static void metering_stats_are_a_template_264_record(void)
{
	static const uint8_t want[] = {
		HEADER(0x00, 0x30)	/* 48 = 16 + 4 + 28 */
		0x01, 0x08,		/* Set ID 264 */
		0x00, 0x20,		/* Set Length 32 */
		REC_METERING_STATS
	};
	struct ipfix_msg msg;

	ipfix_msg_begin(&msg, buf, 1400);
	EXPECT_EQ(ipfix_msg_add_metering_stats(&msg, &metering_stats), 0);
	EXPECT_EQ(ipfix_msg_finish(&msg, EXPORT_TIME, SEQUENCE, DOMAIN), sizeof(want));
	EXPECT_MEM(buf, want, sizeof(want));
}

static void exporting_stats_are_a_template_265_record(void)
{
	static const uint8_t want[] = {
		HEADER(0x00, 0x40)	/* 64 = 16 + 4 + 44 */
		0x01, 0x09,		/* Set ID 265 */
		0x00, 0x30,		/* Set Length 48 */
		REC_EXPORTING_STATS
	};
	struct ipfix_msg msg;

	ipfix_msg_begin(&msg, buf, 1400);
	EXPECT_EQ(ipfix_msg_add_exporting_stats(&msg, &exporting_stats), 0);
	EXPECT_EQ(ipfix_msg_finish(&msg, EXPORT_TIME, SEQUENCE, DOMAIN), sizeof(want));
	EXPECT_MEM(buf, want, sizeof(want));
}

static void metering_reliability_is_a_template_266_record(void)
{
	static const uint8_t want[] = {
		HEADER(0x00, 0x38)	/* 56 = 16 + 4 + 36 */
		0x01, 0x0a,		/* Set ID 266 */
		0x00, 0x28,		/* Set Length 40 */
		REC_METERING_RELIABILITY
	};
	struct ipfix_msg msg;

	ipfix_msg_begin(&msg, buf, 1400);
	EXPECT_EQ(ipfix_msg_add_metering_reliability(&msg, &metering_reliability), 0);
	EXPECT_EQ(ipfix_msg_finish(&msg, EXPORT_TIME, SEQUENCE, DOMAIN), sizeof(want));
	EXPECT_MEM(buf, want, sizeof(want));
	EXPECT_EQ(msg.data_records, 1);
}

static void interface_is_a_267_record_by_ingress_and_a_268_record_by_egress(void)
{
	static const uint8_t want[] = {
		HEADER(0x00, 0x46)	/* 70 = 16 + 2 * (4 + 23) */
		0x01, 0x0b,		/* Set ID 267 */
		0x00, 0x1b,		/* Set Length 27 = 4 + 23 */
		REC_INTERFACE_WG0
		0x01, 0x0c,		/* Set ID 268 */
		0x00, 0x1b,		/* Set Length 27 */
		REC_INTERFACE_WG0
	};
	struct ipfix_msg msg;

	ipfix_msg_begin(&msg, buf, 1400);
	EXPECT_EQ(ipfix_msg_add_interface(&msg, &wg0, false), 0);
	EXPECT_EQ(ipfix_msg_add_interface(&msg, &wg0, true), 0);
	EXPECT_EQ(ipfix_msg_finish(&msg, EXPORT_TIME, SEQUENCE, DOMAIN), sizeof(want));
	EXPECT_MEM(buf, want, sizeof(want));
	EXPECT_EQ(msg.data_records, 2);
}

/* An interfaceDescription over 254 octets is cut to at most 254, not inside a character. */
static void long_description_is_cut_at_a_character_boundary_within_254_octets(void)
{
	char desc[300];
	struct ipfix_interface ifc = { .ifindex = 1, .name = "", .description = desc };
	struct ipfix_msg msg;

	/* 253 ASCII octets, then "é" (0xc3 0xa9) across the 254th and 255th: cut before it. */
	memset(desc, 'a', 253);
	desc[253] = (char)0xc3;
	desc[254] = (char)0xa9;
	desc[255] = '\0';
	ipfix_msg_begin(&msg, buf, 1400);
	EXPECT_EQ(ipfix_msg_add_interface(&msg, &ifc, false), 0);
	EXPECT_EQ(ipfix_msg_finish(&msg, EXPORT_TIME, SEQUENCE, DOMAIN), 16 + 4 + 4 + 1 + 1 + 253);
	EXPECT_EQ(buf[16 + 4 + 4], 0);		/* interfaceName: empty */
	EXPECT_EQ(buf[16 + 4 + 4 + 1], 253);	/* interfaceDescription: 253 octets */
	EXPECT_EQ(buf[16 + 4 + 4 + 2 + 252], 'a');
	/* 254 ASCII octets and more: exactly 254. */
	memset(desc, 'b', 299);
	desc[299] = '\0';
	ipfix_msg_begin(&msg, buf, 1400);
	EXPECT_EQ(ipfix_msg_add_interface(&msg, &ifc, true), 0);
	EXPECT_EQ(msg.len, 16 + 4 + 4 + 1 + 1 + 254);
	EXPECT_EQ(buf[16 + 4 + 4 + 1], 254);
}

static void unsampled_is_a_template_269_record_interval_1_in_both_registries(void)
{
	static const uint8_t want[] = {
		HEADER(0x00, 0x27)	/* 39 = 16 + 4 + 19 */
		0x01, 0x0d,		/* Set ID 269 */
		0x00, 0x17,		/* Set Length 23 */
		REC_UNSAMPLED
	};
	struct ipfix_msg msg;

	ipfix_msg_begin(&msg, buf, 1400);
	EXPECT_EQ(ipfix_msg_add_unsampled(&msg, 1), 0);
	EXPECT_EQ(ipfix_msg_finish(&msg, EXPORT_TIME, SEQUENCE, DOMAIN), sizeof(want));
	EXPECT_MEM(buf, want, sizeof(want));
}

static void exporter_address_is_a_270_record_for_ipv4_and_271_for_ipv6(void)
{
	static const uint8_t want[] = {
		HEADER(0x00, 0x34)	/* 52 = 16 + 4 + 8 + 4 + 20 */
		0x01, 0x0e,		/* Set ID 270 */
		0x00, 0x0c,		/* Set Length 12 */
		REC_EXPORTER_IPV4
		0x01, 0x0f,		/* Set ID 271 */
		0x00, 0x18,		/* Set Length 24 */
		REC_EXPORTER_IPV6
	};
	struct ipfix_exporter_addr v4 = { 4242, 4, { 198, 18, 0, 1 } };
	struct ipfix_exporter_addr v6 = { 4242, 6, { 0xfd, 0, 0, 0x64, [15] = 7 } };
	struct ipfix_exporter_addr bad = { 4242, 5, { 0 } };
	struct ipfix_msg msg;

	ipfix_msg_begin(&msg, buf, 1400);
	EXPECT_EQ(ipfix_msg_add_exporter_addr(&msg, &v4), 0);
	EXPECT_EQ(ipfix_msg_add_exporter_addr(&msg, &bad), -EINVAL);
	EXPECT_EQ(ipfix_msg_add_exporter_addr(&msg, &v6), 0);
	EXPECT_EQ(ipfix_msg_finish(&msg, EXPORT_TIME, SEQUENCE, DOMAIN), sizeof(want));
	EXPECT_MEM(buf, want, sizeof(want));
	EXPECT_EQ(msg.data_records, 2);
}

/* ---- Messages ---- */

static void message_header_carries_length_export_time_sequence_and_domain(void)
{
	static const uint8_t want[] = {
		0x00, 0x0a,		/* Version 10 */
		0x01, 0x0a,		/* Length 266 = 16 + 118 + 84 + 48 */
		0x6a, 0x1b, 0x2c, 0x3d,	/* Export Time 0x6a1b2c3d */
		0x01, 0x02, 0x03, 0x04,	/* Sequence Number 0x01020304 */
		0xa1, 0xb2, 0xc3, 0xd4,	/* Observation Domain ID 0xa1b2c3d4 */
		0x01, 0x00,		/* Set ID 256 */
		0x00, 0x76,		/* Set Length 118 = 4 + 2 * 57 */
		REC_IPV4_TCP
		REC_IPV4_TCP
		0x01, 0x05,		/* Set ID 261 */
		0x00, 0x54,		/* Set Length 84 = 4 + 80 */
		REC_IPV6_UDP
		0x01, 0x09,		/* Set ID 265 */
		0x00, 0x30,		/* Set Length 48 = 4 + 44 */
		REC_EXPORTING_STATS
	};
	struct ipfix_msg msg;

	memset(buf, 0xa5, sizeof(buf));
	ipfix_msg_begin(&msg, buf, 1400);
	EXPECT_EQ(ipfix_msg_add_flow(&msg, &flow_ipv4_tcp), 0);
	EXPECT_EQ(ipfix_msg_add_flow(&msg, &flow_ipv4_tcp), 0);
	EXPECT_EQ(ipfix_msg_add_flow(&msg, &flow_ipv6_udp), 0);
	EXPECT_EQ(ipfix_msg_add_exporting_stats(&msg, &exporting_stats), 0);
	EXPECT_TRUE(!ipfix_msg_empty(&msg));
	EXPECT_EQ(ipfix_msg_finish(&msg, 0x6a1b2c3d, 0x01020304, 0xa1b2c3d4), sizeof(want));
	EXPECT_MEM(buf, want, sizeof(want));
	EXPECT_EQ(msg.data_records, 4);
}

static void record_of_another_template_opens_a_new_set_and_same_template_appends(void)
{
	static const uint8_t want[] = {
		HEADER(0x00, 0xff)	/* 255 = 16 + 118 + 60 + 61 */
		0x01, 0x00,		/* Set ID 256 */
		0x00, 0x76,		/* Set Length 118 = 4 + 2 * 57 */
		REC_IPV4_TCP
		REC_IPV4_TCP
		0x01, 0x01,		/* Set ID 257 */
		0x00, 0x3c,		/* Set Length 60 = 4 + 56 */
		REC_IPV4_UDP
		0x01, 0x00,		/* Set ID 256 again: a set holds consecutive records only */
		0x00, 0x3d,		/* Set Length 61 = 4 + 57 */
		REC_IPV4_TCP
	};
	struct ipfix_msg msg;

	ipfix_msg_begin(&msg, buf, 1400);
	EXPECT_EQ(ipfix_msg_add_flow(&msg, &flow_ipv4_tcp), 0);
	EXPECT_EQ(ipfix_msg_add_flow(&msg, &flow_ipv4_tcp), 0);
	EXPECT_EQ(ipfix_msg_add_flow(&msg, &flow_ipv4_udp), 0);
	EXPECT_EQ(ipfix_msg_add_flow(&msg, &flow_ipv4_tcp), 0);
	EXPECT_EQ(ipfix_msg_finish(&msg, EXPORT_TIME, SEQUENCE, DOMAIN), sizeof(want));
	EXPECT_MEM(buf, want, sizeof(want));
}

static void templates_options_templates_and_data_never_share_a_set(void)
{
	/* Set ID and Set Length of each set, in message order. */
	static const uint16_t want[][2] = {
		{ 2, 468 },	/* the eight flow templates */
		{ 3, 26 },	/* options template 264 */
		{ 3, 34 },	/* 265 */
		{ 3, 30 },	/* 266 */
		{ 3, 22 },	/* 267 */
		{ 3, 22 },	/* 268 */
		{ 3, 34 },	/* 269 */
		{ 3, 18 },	/* 270 */
		{ 3, 18 },	/* 271 */
		{ 264, 32 },	/* metering statistics */
		{ 256, 61 },	/* one IPv4 TCP record */
	};
	const size_t sets = sizeof(want) / sizeof(want[0]);
	struct ipfix_msg msg;
	size_t len, off = IPFIX_HEADER_LEN, n = 0;

	ipfix_msg_begin(&msg, buf, 1400);
	EXPECT_EQ(ipfix_msg_add_templates(&msg), 0);
	EXPECT_EQ(ipfix_msg_add_options_templates(&msg), 0);
	EXPECT_EQ(ipfix_msg_add_metering_stats(&msg, &metering_stats), 0);
	EXPECT_EQ(ipfix_msg_add_flow(&msg, &flow_ipv4_tcp), 0);
	len = ipfix_msg_finish(&msg, EXPORT_TIME, SEQUENCE, DOMAIN);
	EXPECT_EQ(len, 16 + 468 + 204 + 32 + 61);
	while (off + IPFIX_SET_HEADER_LEN <= len && n < sets) {
		uint16_t id = buf[off] << 8 | buf[off + 1], set_len = buf[off + 2] << 8 | buf[off + 3];

		EXPECT_EQ(id, want[n][0]);
		EXPECT_EQ(set_len, want[n][1]);
		if (set_len < IPFIX_SET_HEADER_LEN)
			break;
		off += set_len;
		n++;
	}
	EXPECT_EQ(n, sets);
	EXPECT_EQ(off, len);
}

static void data_records_counts_flow_and_options_data_records_not_templates(void)
{
	struct ipfix_msg msg;

	ipfix_msg_begin(&msg, buf, 1400);
	EXPECT_EQ(ipfix_msg_add_templates(&msg), 0);
	EXPECT_EQ(ipfix_msg_add_options_templates(&msg), 0);
	EXPECT_EQ(msg.data_records, 0);
	EXPECT_EQ(ipfix_msg_add_flow(&msg, &flow_ipv4_tcp), 0);
	EXPECT_EQ(ipfix_msg_add_flow(&msg, &flow_ipv6_icmp), 0);
	EXPECT_EQ(ipfix_msg_add_flow(&msg, &flow_ipv4_other), 0);
	EXPECT_EQ(msg.data_records, 3);
	EXPECT_EQ(ipfix_msg_add_metering_stats(&msg, &metering_stats), 0);
	EXPECT_EQ(ipfix_msg_add_exporting_stats(&msg, &exporting_stats), 0);
	EXPECT_EQ(msg.data_records, 5);
	/* Each record above opened its own set: 688 + 61 + 82 + 56 + 32 + 48 = 967. Leave room for
	 * nothing more, so the next record is refused and must not be counted. */
	msg.cap = 968;
	EXPECT_EQ(ipfix_msg_add_flow(&msg, &flow_ipv6_tcp), -ENOSPC);
	EXPECT_EQ(msg.data_records, 5);
	EXPECT_EQ(msg.len, 967);
}

/* ---- Running out of room ---- */

static void message_of_512_bytes_holds_exactly_8_ipv4_tcp_records(void)
{
	/*
	 * 16 (message header) + 4 (set header) + N * 57 <= 512  =>  N <= 492 / 57 = 8.63  =>  N = 8:
	 * 8 records end at 20 + 456 = 476, a ninth would end at 533.
	 */
	struct ipfix_msg msg;
	int n = 0;

	ipfix_msg_begin(&msg, buf, 512);
	while (n < 100 && ipfix_msg_add_flow(&msg, &flow_ipv4_tcp) == 0)
		n++;
	EXPECT_EQ(n, 8);
	EXPECT_EQ(ipfix_msg_add_flow(&msg, &flow_ipv4_tcp), -ENOSPC);
	EXPECT_EQ(msg.data_records, 8);
	EXPECT_EQ(msg.len, 476);
	/* Still a valid message: header and set lengths agree. */
	EXPECT_EQ(ipfix_msg_finish(&msg, EXPORT_TIME, SEQUENCE, DOMAIN), 476);
	EXPECT_EQ(buf[2] << 8 | buf[3], 476);
	EXPECT_EQ(buf[16] << 8 | buf[17], 256);
	EXPECT_EQ(buf[18] << 8 | buf[19], 4 + 8 * 57);
}

static void record_filling_the_message_exactly_to_cap_fits_one_octet_less_does_not(void)
{
	struct ipfix_msg msg;

	ipfix_msg_begin(&msg, buf, 16 + 4 + 57);
	EXPECT_EQ(ipfix_msg_add_flow(&msg, &flow_ipv4_tcp), 0);
	EXPECT_EQ(msg.len, msg.cap);

	ipfix_msg_begin(&msg, buf, 16 + 4 + 57 - 1);
	EXPECT_EQ(ipfix_msg_add_flow(&msg, &flow_ipv4_tcp), -ENOSPC);
	EXPECT_EQ(msg.len, IPFIX_HEADER_LEN);
	EXPECT_EQ(msg.data_records, 0);
	EXPECT_EQ(ipfix_msg_finish(&msg, EXPORT_TIME, SEQUENCE, DOMAIN), IPFIX_HEADER_LEN);

	/* Appending to the open set needs no set header: 57 octets left take one more record. */
	ipfix_msg_begin(&msg, buf, 16 + 4 + 2 * 57);
	EXPECT_EQ(ipfix_msg_add_flow(&msg, &flow_ipv4_tcp), 0);
	EXPECT_EQ(ipfix_msg_add_flow(&msg, &flow_ipv4_tcp), 0);
	EXPECT_EQ(msg.len, msg.cap);
}

static void new_set_header_counts_against_cap(void)
{
	struct ipfix_msg msg;

	/* 57 octets left after one TCP record: a 56-octet UDP record needs 4 more for its set. */
	ipfix_msg_begin(&msg, buf, 16 + 4 + 2 * 57);
	EXPECT_EQ(ipfix_msg_add_flow(&msg, &flow_ipv4_tcp), 0);
	EXPECT_EQ(ipfix_msg_add_flow(&msg, &flow_ipv4_udp), -ENOSPC);
	EXPECT_EQ(msg.len, 16 + 4 + 57);
	/* The TCP set is still open and still takes TCP records. */
	EXPECT_EQ(ipfix_msg_add_flow(&msg, &flow_ipv4_tcp), 0);
	EXPECT_EQ(ipfix_msg_finish(&msg, EXPORT_TIME, SEQUENCE, DOMAIN), 16 + 4 + 2 * 57);
	EXPECT_EQ(buf[18] << 8 | buf[19], 4 + 2 * 57);
}

static void buffer_larger_than_65535_bytes_is_used_up_to_65535(void)
{
	static uint8_t big[70000];
	struct ipfix_msg msg;
	int n = 0;

	/* (65535 - 16 - 4) / 81 = 808.8: 808 IPv6 TCP records, 65468 octets. */
	ipfix_msg_begin(&msg, big, sizeof(big));
	EXPECT_EQ(msg.cap, IPFIX_MAX_MESSAGE);
	while (n < 1000 && ipfix_msg_add_flow(&msg, &flow_ipv6_tcp) == 0)
		n++;
	EXPECT_EQ(n, 808);
	EXPECT_EQ(ipfix_msg_finish(&msg, EXPORT_TIME, SEQUENCE, DOMAIN), 65468);
	EXPECT_EQ(big[2] << 8 | big[3], 65468);
}

/* ---- Slicing a message for a smaller path ---- */

/*
 * Three IPv4 TCP then two IPv6 UDP records, cut for a path that carries 134 octets: whole records
 * in sets of their template, in order, with the flows' packet and octet sums; then nothing.
 */
static void message_is_sliced_into_whole_records_that_fit_in_order_with_their_sums(void)
{
	static const uint8_t want_first[] = {
		HEADER(0x00, 0x86)	/* 134 = 16 + 4 + 2 * 57 */
		0x01, 0x00,		/* Set ID 256 */
		0x00, 0x76,		/* Set Length 118 */
		REC_IPV4_TCP
		REC_IPV4_TCP
	};
	static uint8_t src[1400], out[1400];
	/* records of each slice, and the template of its (one) set */
	static const struct { int records; uint16_t set; } want[] = {
		{ 2, 256 }, { 1, 256 }, { 1, 261 }, { 1, 261 },
	};
	struct ipfix_cursor cur = { 0 };
	struct ipfix_flow_sums sums = { 0 };
	struct ipfix_msg msg, slice;
	size_t len;

	ipfix_msg_begin(&msg, src, 1400);
	for (int i = 0; i < 3; i++)
		EXPECT_EQ(ipfix_msg_add_flow(&msg, &flow_ipv4_tcp), 0);
	for (int i = 0; i < 2; i++)
		EXPECT_EQ(ipfix_msg_add_flow(&msg, &flow_ipv6_udp), 0);
	len = ipfix_msg_finish(&msg, EXPORT_TIME, SEQUENCE, DOMAIN);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		ipfix_msg_begin(&slice, out, 134);
		EXPECT_EQ(ipfix_msg_slice(src, len, &cur, &slice, &sums), want[i].records);
		EXPECT_EQ(slice.data_records, want[i].records);
		ipfix_msg_finish(&slice, EXPORT_TIME, SEQUENCE, DOMAIN);
		EXPECT_EQ(out[16] << 8 | out[17], want[i].set);
		if (!i)
			EXPECT_MEM(out, want_first, sizeof(want_first));
	}
	ipfix_msg_begin(&slice, out, 134);
	EXPECT_EQ(ipfix_msg_slice(src, len, &cur, &slice, &sums), 0);
	EXPECT_TRUE(ipfix_msg_empty(&slice));
	EXPECT_EQ(sums.flows, 5);
	EXPECT_EQ(sums.packets, 3 * flow_ipv4_tcp.packets + 2 * flow_ipv6_udp.packets);
	EXPECT_EQ(sums.octets, 3 * flow_ipv4_tcp.octets + 2 * flow_ipv6_udp.octets);
}

/* Template sets and strings cannot be cut at record boundaries: refused, nothing copied. */
static void message_with_a_template_set_or_strings_is_not_sliced(void)
{
	static uint8_t src[1400], out[1400];
	struct ipfix_cursor cur = { 0 };
	struct ipfix_msg msg, slice;
	size_t len;

	ipfix_msg_begin(&msg, src, 1400);
	EXPECT_EQ(ipfix_msg_add_templates(&msg), 0);
	len = ipfix_msg_finish(&msg, EXPORT_TIME, SEQUENCE, DOMAIN);
	ipfix_msg_begin(&slice, out, 512);
	EXPECT_EQ(ipfix_msg_slice(src, len, &cur, &slice, NULL), -EINVAL);
	EXPECT_TRUE(ipfix_msg_empty(&slice));
	ipfix_msg_begin(&msg, src, 1400);
	EXPECT_EQ(ipfix_msg_add_interface(&msg, &wg0, false), 0);
	len = ipfix_msg_finish(&msg, EXPORT_TIME, SEQUENCE, DOMAIN);
	cur = (struct ipfix_cursor){ 0 };
	EXPECT_EQ(ipfix_msg_slice(src, len, &cur, &slice, NULL), -EINVAL);
}

/* ---- Template choice ---- */

static void template_for_maps_ip_version_and_protocol(void)
{
	static const struct {
		uint8_t ip_version, protocol;
		uint16_t want;
	} cases[] = {
		{ 4, 6, 256 },	 { 4, 17, 257 },  { 4, 1, 258 },  { 4, 47, 259 },
		{ 4, 58, 259 },	 /* ICMPv6 number on IPv4: not ICMP */
		{ 4, 136, 259 }, /* UDP-Lite: no port IEs in flowmeta's templates */
		{ 4, 132, 259 }, /* SCTP: likewise */
		{ 4, 0, 259 },	 { 6, 6, 260 },	  { 6, 17, 261 }, { 6, 58, 262 },
		{ 6, 1, 263 },	 /* ICMPv4 number on IPv6: not ICMPv6 */
		{ 6, 132, 263 }, { 6, 136, 263 }, { 6, 59, 263 },
		{ 0, 6, 0 },	 { 5, 17, 0 },	  /* neither IPv4 nor IPv6: no template */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ipfix_flow flow = { .ip_version = cases[i].ip_version,
					   .protocol = cases[i].protocol };

		if (!EXPECT_EQ(ipfix_template_for(&flow), cases[i].want))
			printf("     case ip_version %u protocol %u\n", cases[i].ip_version,
			       cases[i].protocol);
	}
}

static void flow_of_unknown_ip_version_is_refused_and_leaves_the_message_alone(void)
{
	struct ipfix_flow flow = flow_ipv4_tcp;
	struct ipfix_msg msg;

	flow.ip_version = 0;
	ipfix_msg_begin(&msg, buf, 1400);
	EXPECT_EQ(ipfix_msg_add_flow(&msg, &flow), -EINVAL);
	EXPECT_EQ(msg.len, IPFIX_HEADER_LEN);
	EXPECT_EQ(msg.data_records, 0);
}

static void record_len_gives_each_template_record_size(void)
{
	EXPECT_EQ(ipfix_record_len(IPFIX_TMPL_IPV4_TCP), 57);
	EXPECT_EQ(ipfix_record_len(IPFIX_TMPL_IPV4_UDP), 56);
	EXPECT_EQ(ipfix_record_len(IPFIX_TMPL_IPV4_ICMP), 54);
	EXPECT_EQ(ipfix_record_len(IPFIX_TMPL_IPV4_OTHER), 52);
	EXPECT_EQ(ipfix_record_len(IPFIX_TMPL_IPV6_TCP), 81);
	EXPECT_EQ(ipfix_record_len(IPFIX_TMPL_IPV6_UDP), 80);
	EXPECT_EQ(ipfix_record_len(IPFIX_TMPL_IPV6_ICMP), 78);
	EXPECT_EQ(ipfix_record_len(IPFIX_TMPL_IPV6_OTHER), 76);
	EXPECT_EQ(ipfix_record_len(IPFIX_TMPL_METERING_STATS), 28);
	EXPECT_EQ(ipfix_record_len(IPFIX_TMPL_EXPORTING_STATS), 44);
	EXPECT_EQ(ipfix_record_len(IPFIX_TMPL_METERING_RELIABILITY), 36);
	EXPECT_EQ(ipfix_record_len(IPFIX_TMPL_INGRESS_INTERFACE), 0);	/* strings */
	EXPECT_EQ(ipfix_record_len(IPFIX_TMPL_EGRESS_INTERFACE), 0);
	EXPECT_EQ(ipfix_record_len(IPFIX_TMPL_SAMPLING), 19);
	EXPECT_EQ(ipfix_record_len(IPFIX_TMPL_EXPORTER_IPV4), 8);
	EXPECT_EQ(ipfix_record_len(IPFIX_TMPL_EXPORTER_IPV6), 20);
	EXPECT_EQ(ipfix_record_len(255), 0);
	EXPECT_EQ(ipfix_record_len(272), 0);
}

int main(void)
{
	RUN_TEST(template_set_holds_the_eight_flow_templates_in_documented_field_order);
	RUN_TEST(template_set_fits_a_512_byte_message_but_not_with_the_options_templates);
	RUN_TEST(template_set_that_does_not_fit_is_refused_whole);
	RUN_TEST(options_templates_each_get_their_own_options_template_set);
	RUN_TEST(options_templates_are_refused_whole_when_only_some_fit);
	RUN_TEST(ipv4_tcp_flow_is_a_template_256_record);
	RUN_TEST(ipv4_udp_flow_is_a_template_257_record_without_tcp_flags);
	RUN_TEST(ipv4_icmp_flow_is_a_template_258_record_with_type_and_code);
	RUN_TEST(ipv4_other_protocol_flow_is_a_template_259_record_without_ports);
	RUN_TEST(ipv6_tcp_flow_is_a_template_260_record);
	RUN_TEST(ipv6_udp_flow_is_a_template_261_record);
	RUN_TEST(ipv6_icmpv6_flow_is_a_template_262_record_with_type_and_code);
	RUN_TEST(ipv6_sctp_flow_is_a_template_263_record_without_ports);
	RUN_TEST(metering_stats_are_a_template_264_record);
	RUN_TEST(exporting_stats_are_a_template_265_record);
	RUN_TEST(metering_reliability_is_a_template_266_record);
	RUN_TEST(interface_is_a_267_record_by_ingress_and_a_268_record_by_egress);
	RUN_TEST(long_description_is_cut_at_a_character_boundary_within_254_octets);
	RUN_TEST(unsampled_is_a_template_269_record_interval_1_in_both_registries);
	RUN_TEST(exporter_address_is_a_270_record_for_ipv4_and_271_for_ipv6);
	RUN_TEST(message_header_carries_length_export_time_sequence_and_domain);
	RUN_TEST(record_of_another_template_opens_a_new_set_and_same_template_appends);
	RUN_TEST(templates_options_templates_and_data_never_share_a_set);
	RUN_TEST(data_records_counts_flow_and_options_data_records_not_templates);
	RUN_TEST(message_of_512_bytes_holds_exactly_8_ipv4_tcp_records);
	RUN_TEST(record_filling_the_message_exactly_to_cap_fits_one_octet_less_does_not);
	RUN_TEST(new_set_header_counts_against_cap);
	RUN_TEST(buffer_larger_than_65535_bytes_is_used_up_to_65535);
	RUN_TEST(message_is_sliced_into_whole_records_that_fit_in_order_with_their_sums);
	RUN_TEST(message_with_a_template_set_or_strings_is_not_sliced);
	RUN_TEST(template_for_maps_ip_version_and_protocol);
	RUN_TEST(flow_of_unknown_ip_version_is_refused_and_leaves_the_message_alone);
	RUN_TEST(record_len_gives_each_template_record_size);
	return check_exit_status();
}
