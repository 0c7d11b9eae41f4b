package cluster

import (
	"crypto/sha256"
	"sort"
)

// membersDigest summarises a set of members (alias and node ID, in alias
// order) in digestSize bytes. A joining node sends the digest of the
// members it learnt from its seed with each Join; a receiver whose own
// members differ (nodes joined concurrently through different seeds)
// answers with its member list and tells its members about the joiner.
func membersDigest(members []memberInfo) []byte {
	sorted := append([]memberInfo(nil), members...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Alias < sorted[j].Alias })
	h := sha256.New()
	for _, m := range sorted {
		h.Write([]byte(m.Alias))
		h.Write([]byte{0})
		h.Write([]byte(m.NodeID))
		h.Write([]byte{0})
	}
	return h.Sum(nil)[:digestSize]
}
