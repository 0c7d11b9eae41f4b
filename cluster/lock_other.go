//go:build !unix && !windows

package cluster

import "os"

// lockFile does nothing where the system has no file locks that this
// package knows (plan9, js, wasip1): two processes may then start the same
// node, and the cluster sees two runs of one alias.
func lockFile(*os.File) error { return nil }
