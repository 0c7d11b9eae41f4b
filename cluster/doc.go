// Package cluster joins Iridium nodes into a cluster over TCP.
//
// Every node listens for cluster connections. A newcomer greets one member
// with Hello; after a mutual cookie check the member answers HelloAck with
// itself and every node it knows. The newcomer then opens its own connection
// to each of those nodes and introduces itself with Join, which gets no list
// back. The result is a full mesh: one connection per pair of nodes, each
// node knowing every member by alias and by the address where that member
// accepts cluster connections.
//
// A link that closes or breaks drops its member at once. Members that
// hang or are cut off are found by SWIM probes (one member probed per
// interval, indirect probes through others, a suspicion the member can
// refute; swim.go, probe.go) and announced as failed. Leave tells every
// peer that a node goes away on purpose.
//
// The wire format (frames with a length and a message type, bodies in
// msgpack) and the handshake are described in docs/cluster.md.
package cluster
