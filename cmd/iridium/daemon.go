package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// runDaemon runs the node with no terminal shell (--daemon): it starts the
// cluster listener, joins the --join nodes (retrying), serves SSH with -r,
// and logs to stderr, until SIGTERM or SIGINT; then it leaves the cluster,
// closes the sessions and returns 0. It does not fork: a service manager,
// tmux or nohup keeps it running.
func runDaemon(ctx context.Context, o *options, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := newLogger(o.remote.logFormat, stderr, false)
	logger.Info("iridium daemon starting", "version", version, "pid", os.Getpid(), "data_dir", o.dataDir)
	n := newNode(o)
	release := n.events.subscribe(func(msg notice) { msg.log(ctx, logger) }, true)
	defer release()
	// Checked first, then made (see startup.go).
	if err := n.checkStart(true); err != nil {
		what := "the node"
		var refused *startError
		if errors.As(err, &refused) {
			what = refused.what
		}
		logger.Error(what+" did not start", "err", err)
		n.close()
		return exitFailure
	}
	if _, err := n.cluster.get(); err != nil {
		logger.Error("the cluster node was not made", "err", err)
		n.close()
		return exitFailure
	}
	if o.remote.enabled {
		if _, err := n.startRemote(logger); err != nil {
			logger.Error("remote access did not start", "err", err)
			n.close()
			return exitFailure
		}
	}
	addr, _, err := n.cluster.Start(ctx)
	if err != nil {
		logger.Error("the cluster listener did not start", "err", err)
		n.close()
		return exitFailure
	}
	logger.Info("cluster listening", "addr", addr)
	defer n.serveStatus(func(msg string) { logger.Warn(msg) })()
	joined := make(chan struct{})
	go func() {
		defer close(joined)
		n.joinAtStart(ctx, func(level slog.Level, msg string) { logger.Log(ctx, level, msg) })
	}()
	<-ctx.Done()
	<-joined
	logger.Info("stopping: leaving the cluster and closing the sessions", "cause", context.Cause(ctx).Error())
	n.close()
	logger.Info("stopped")
	return exitOK
}
