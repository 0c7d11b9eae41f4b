package main

import (
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/iridium-vm/iridium/cluster"
)

// limitOptions are the flags that bound what other members may do here
// (issue 19), kept apart from the other flags.
type limitOptions struct {
	maxRemoteJobsPerMember int
	remoteJobTimeLimit     time.Duration
}

// defineLimitFlags defines the flags of limitOptions.
func defineLimitFlags(fs *flag.FlagSet, o *limitOptions) {
	fs.IntVar(&o.maxRemoteJobsPerMember, "max-remote-jobs-per-member", 0, "the most programs one member may run here at once (0: half of --max-remote-jobs, rounded up)")
	fs.DurationVar(&o.remoteJobTimeLimit, "remote-job-time-limit", 0, "kill a program run for another member once it has run this long (0: no limit)")
}

// checkLimits reports the first bad value among the limit flags, and
// refuses a guessable --cookie at once (the other sources of the cookie
// are checked when the node is made, by clusterCookie).
func (o *options) checkLimits() error {
	switch {
	case o.limits.maxRemoteJobsPerMember < 0:
		return errors.New("--max-remote-jobs-per-member must not be negative")
	case o.limits.remoteJobTimeLimit < 0:
		return errors.New("--remote-job-time-limit must not be negative")
	}
	if o.cookie != "" {
		return checkCookie([]byte(o.cookie), "--cookie")
	}
	return nil
}

// checkCookie refuses a cookie that is easy to guess, saying where it
// came from and how to make a good one.
func checkCookie(cookie []byte, from string) error {
	if err := cluster.CheckCookie(cookie); err != nil {
		return fmt.Errorf("the cookie from %s: %w; make a random one with 'iridium cookie FILE' and give it with --cookie-file FILE", from, err)
	}
	return nil
}
