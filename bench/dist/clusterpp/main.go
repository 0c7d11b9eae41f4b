// Command clusterpp measures the floor under cross-node ping-pong: round
// trips of a one-byte application message between two cluster nodes in
// two processes on loopback, with no VM, scheduler or dist in the way
// (docs/performance.md, "Messages across nodes").
//
//	clusterpp -serve -port 24999 &      # node b: echoes every message
//	clusterpp -port 24999 -n 20000      # node a: prints round trips/s
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/iridium-vm/iridium/cluster"
)

func main() {
	serve := flag.Bool("serve", false, "be node b: listen on -port and echo")
	port := flag.Int("port", 24999, "node b's port on 127.0.0.1")
	n := flag.Int("n", 20000, "round trips")
	flag.Parse()
	if err := run(*serve, *port, *n); err != nil {
		fmt.Fprintln(os.Stderr, "clusterpp:", err)
		os.Exit(1)
	}
}

func run(serve bool, port, n int) error {
	cfg := cluster.DefaultConfig()
	cfg.Cookie = []byte("clusterpp benchmark cookie: xK8pQ2mZ7vR4tW9y")
	cfg.BindHost, cfg.Alias, cfg.BindPort = "127.0.0.1", "a", 0
	if serve {
		cfg.Alias, cfg.BindPort = "b", port
	}
	node, err := cluster.New(cfg)
	if err != nil {
		return err
	}
	defer node.Close()
	ctx := context.Background()
	back := make(chan struct{}, 1)
	// The handlers never wait, as dist's message handler does not: one
	// message is in flight, so the channel and the send queue have room,
	// and the echo's Send is given a done context all the same.
	done, cancel := context.WithCancel(ctx)
	cancel()
	node.HandleNonBlocking("pp.v1", func(from string, p []byte) {
		if serve {
			_ = node.Send(done, from, "pp.v1", p)
			return
		}
		back <- struct{}{}
	})
	if serve {
		if _, err := node.Start(ctx); err != nil {
			return err
		}
		select {}
	}
	if _, err := node.Join(ctx, "127.0.0.1", port); err != nil {
		return err
	}
	if err := node.WaitLinked(ctx); err != nil {
		return err
	}
	start := time.Now()
	for range n {
		if err := node.Send(ctx, "b", "pp.v1", []byte{1}); err != nil {
			return err
		}
		<-back
	}
	fmt.Printf("cluster ping-pong: %.0f round trips/s\n", float64(n)/time.Since(start).Seconds())
	return nil
}
