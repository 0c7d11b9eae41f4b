package main

import (
	"fmt"
	"syscall"
	"testing"
	"time"
)

// TestClusterJoinAnswersBeforeLinkingAll (issue 19): a seed lists members
// that accept connections but never answer (stopped processes: the
// kernel completes their TCP handshakes). !join_cluster answers as soon
// as the seed has, the shell answers !cluster_members at once with those
// members as joining, and once their handshakes time out a notice names
// them as unreachable.
func TestClusterJoinAnswersBeforeLinkingAll(t *testing.T) {
	t.Parallel()
	// Slow probes: the seed keeps listing the stopped members while j joins.
	slow := []string{"--probe-interval", "20s", "--probe-timeout", "10s"}
	seed := startNode(t, nodeSpec{alias: "seed", extra: slow})
	port := startCluster(t, seed, "127.0.0.1")
	stopped := []string{"m1", "m2", "m3"}
	for i, alias := range stopped {
		m := startNode(t, nodeSpec{alias: alias, host: fmt.Sprintf("127.0.0.%d", 11+i), extra: slow})
		joinCluster(t, m, "127.0.0.1", port)
		if err := m.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.cmd.Process.Signal(syscall.SIGCONT) })
	}

	const handshake = 4 * time.Second // what the old !join_cluster waited for
	j := startNode(t, nodeSpec{alias: "j", extra: append(slow, "--handshake-timeout", handshake.String())})
	began := time.Now()
	j.send(t, fmt.Sprintf("!join_cluster 127.0.0.1 %d", port), "!cluster_members")
	const answerBound = 2 * time.Second
	expect(t, j, fmt.Sprintf(`(?m)^joined the cluster through 127\.0\.0\.1 %d: 5 members: .*\nlinking to 3 of them in the background`, port), answerBound)
	expect(t, j, `(?m)^ALIAS +ADDRESS +STATE +SINCE +LAST HEARD\n`, answerBound)
	if took := time.Since(began); took >= answerBound {
		t.Errorf("!join_cluster and !cluster_members answered after %v, want under %v", took, answerBound)
	}
	for _, alias := range stopped {
		expect(t, j, `(?m)^`+alias+` +127\.0\.0\.\d+:\d+ +joining `, time.Second)
	}
	expectEvent(t, j, `(?m)^cluster: joined through "seed": linked to 0 of 3 members; 3 unreachable: m\d, m\d, m\d$`, handshake+waitFor)
	if rows := listMembers(t, j); len(rows) != 2 {
		t.Errorf("after the linking ended j lists %v, want itself and seed", rows)
	}
}
