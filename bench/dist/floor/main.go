// Command floor measures the loopback floor under cross-node ping-pong:
// round trips of a 32-byte message between two processes over TCP on
// loopback, with TCP_NODELAY and nothing else in the way (no framing,
// seal, cluster, dist or VM). The server listens on 127.0.0.1 and echoes
// every byte it reads; the client dials from 127.0.0.2, as the two
// Iridium nodes of bench/dist/run.sh do, writes 32 bytes, reads the 32
// back, and prints round trips/s (docs/performance.md, "Messages across
// nodes").
//
//	floor -serve -port 24998 &      # echoes until killed
//	floor -port 24998 -n 200000     # prints round trips/s
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"time"
)

// msgSize is the size of one message each way.
const msgSize = 32

func main() {
	serve := flag.Bool("serve", false, "listen on 127.0.0.1:-port and echo")
	port := flag.Int("port", 24998, "the server's port on 127.0.0.1")
	n := flag.Int("n", 200000, "round trips")
	flag.Parse()
	var err error
	if *serve {
		err = echo(*port)
	} else {
		err = ping(*port, *n)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}

// echo serves one connection at a time on 127.0.0.1:port, writing back
// whatever it reads, until it is killed.
func echo(port int) error {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return err
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		if err := c.(*net.TCPConn).SetNoDelay(true); err != nil {
			return err
		}
		buf := make([]byte, msgSize)
		for {
			if _, err := io.ReadFull(c, buf); err != nil {
				break
			}
			if _, err := c.Write(buf); err != nil {
				break
			}
		}
		c.Close()
	}
}

// ping dials 127.0.0.1:port from 127.0.0.2, makes n round trips and prints
// their rate.
func ping(port, n int) error {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
	c, err := d.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.(*net.TCPConn).SetNoDelay(true); err != nil {
		return err
	}
	msg := make([]byte, msgSize)
	back := make([]byte, msgSize)
	start := time.Now()
	for i := range n {
		msg[0] = byte(i)
		if _, err := c.Write(msg); err != nil {
			return err
		}
		if _, err := io.ReadFull(c, back); err != nil {
			return err
		}
		if back[0] != msg[0] {
			return errors.New("the echo sent back something else")
		}
	}
	fmt.Printf("loopback floor: %.0f round trips/s\n", float64(n)/time.Since(start).Seconds())
	return nil
}
