package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/iridium-vm/iridium/cluster"
	"github.com/iridium-vm/iridium/internal/filecmd"
	"github.com/iridium-vm/iridium/internal/termtext"
	"github.com/iridium-vm/iridium/jobs"
	"github.com/iridium-vm/iridium/proc"
	"github.com/iridium-vm/iridium/remote"
	"github.com/iridium-vm/iridium/repl"
	"github.com/iridium-vm/iridium/vm"
)

// version is the program's version, shown by --version and the REPL banner.
const version = "0.1.0"

// defaultHeapTotal is the default of --max-heap-total: 1 GiB, what the
// default 16 jobs hold with the default 64 MiB heap each.
const defaultHeapTotal = 1 << 30

// maxThreads bounds --threads: more scheduler threads than this only
// cost memory.
const maxThreads = 1024

// options are the command's flags.
type options struct {
	registers  bool
	version    bool
	stackLimit int
	heapLimit  int
	heapTotal  int64

	// The scheduler of processes.
	threads      int
	mailboxLimit int

	// The REPL.
	evalLines    []string // -e: lines run as a script, in order
	interactFile string   // -i: a file run before the REPL starts
	dataDir      string
	failFast     bool
	noColor      bool
	maxJobs      int

	// The cluster.
	bindHost         string
	bindPort         int
	advertiseHost    string
	nodeAlias        string
	cookie           string
	cookieFile       string
	tlsCert          string
	tlsKey           string
	tlsCA            string
	probeInterval    time.Duration
	probeTimeout     time.Duration
	suspicionMult    int
	dialTimeout      time.Duration
	handshakeTimeout time.Duration
	writeTimeout     time.Duration
	reconnectFor     time.Duration
	maxFrameSize     int
	maxMembers       int
	maxPendingConns  int

	// Remote spawn.
	remoteSpawn   onOff
	maxRemoteJobs int

	// Remote access and daemon mode (see remote.go).
	remote remoteOptions

	// What other members may do here (see limits.go).
	limits limitOptions
}

// defaultDataDir is where the REPL keeps its history, the node id and the
// cluster cookie: $XDG_DATA_HOME/iridium, else ~/.local/share/iridium, else
// a directory under the system's temporary directory.
func defaultDataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "iridium")
	}
	if home, err := os.UserHomeDir(); err == nil && home != "" {
		return filepath.Join(home, ".local", "share", "iridium")
	}
	return filepath.Join(os.TempDir(), "iridium-"+fmt.Sprint(os.Getuid()))
}

// newFlagSet defines every flag. Flags with a short and a long name are
// defined twice over one variable; usage lists them together.
func newFlagSet(o *options) *flag.FlagSet {
	fs := flag.NewFlagSet("iridium", flag.ContinueOnError)
	fs.BoolVar(&o.registers, "registers", false, "after running FILE, print the non-zero registers")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	fs.Func("e", "run `LINE` as a REPL script line and exit with the script's status (repeatable)", func(line string) error {
		o.evalLines = append(o.evalLines, line)
		return nil
	})
	fs.StringVar(&o.interactFile, "i", "", "run the assembly `FILE`, then stay in the REPL with its program, labels and registers")
	fs.IntVar(&o.stackLimit, "stack-limit", vm.DefaultStackLimit, "the most values the stack, and the most return addresses the call stack, may hold")
	fs.IntVar(&o.heapLimit, "heap-limit", vm.DefaultHeapLimit, "the most bytes the heap may grow to (at least 1)")
	fs.IntVar(&o.threads, "threads", runtime.NumCPU(), "the number of scheduler threads that run processes (the default is this machine's core count)")
	fs.IntVar(&o.mailboxLimit, "mailbox-limit", proc.DefaultMailboxLimit, "the most messages a process's mailbox holds; past it, messages to it are dropped and counted")
	fs.Int64Var(&o.heapTotal, "max-heap-total", defaultHeapTotal, "the most bytes the heaps of all programs (the REPL's and every job's) may hold together")
	fs.StringVar(&o.dataDir, "data-root-dir", defaultDataDir(), "where the REPL keeps its history, the node id and the cluster cookie")
	fs.BoolVar(&o.failFast, "fail-fast", false, "in scripted mode (input not a terminal), stop at the first line that fails")
	fs.IntVar(&o.maxJobs, "max-jobs", repl.DefaultMaxJobs, "the most programs !spawn may run at once in the REPL")
	fs.BoolVar(&o.noColor, "no-color", false, "no colour in the REPL (also when NO_COLOR is set or output is not a terminal)")
	for _, name := range flagNames("cluster-host") {
		fs.StringVar(&o.bindHost, name, cluster.DefaultBindHost, "the `HOST` the cluster port listens on")
	}
	for _, name := range flagNames("cluster-port") {
		fs.IntVar(&o.bindPort, name, cluster.DefaultBindPort, "the cluster `PORT`: the one other nodes join, with !join_cluster or --join (0 picks a free one)")
	}
	fs.StringVar(&o.advertiseHost, "advertise-host", "", "the host other nodes should dial to reach this one (default: the bind host, or a local address when binding 0.0.0.0)")
	fs.StringVar(&o.nodeAlias, "node-alias", "", "this node's name in the cluster (default: a UUID made once and kept in the data directory)")
	fs.StringVar(&o.cookie, "cookie", "", "the cluster secret; other users can see it in ps: prefer --cookie-file or IRIDIUM_COOKIE (default: the file 'cookie' in the data directory, made on first use)")
	fs.StringVar(&o.cookieFile, "cookie-file", "", "read the cluster secret from this file (regular, at most 4 KiB, mode 600)")
	fs.StringVar(&o.tlsCert, "tls-cert", "", "PEM certificate for TLS on cluster links (with --tls-key and --tls-ca)")
	fs.StringVar(&o.tlsKey, "tls-key", "", "PEM private key of --tls-cert")
	fs.StringVar(&o.tlsCA, "tls-ca", "", "PEM CA certificates that peers' certificates must chain to")
	fs.DurationVar(&o.probeInterval, "probe-interval", cluster.DefaultProbeInterval, "the probe slot: in each, this node checks its partner of the slot (SWIM)")
	fs.DurationVar(&o.probeTimeout, "probe-timeout", cluster.DefaultProbeTimeout, "how long a probe waits for its answer before other members probe too; a member that answers none within 3 probe timeouts is suspected")
	fs.IntVar(&o.suspicionMult, "suspicion-mult", cluster.DefaultSuspicionMult, "a suspected member that does not refute is marked failed after N × max(1, log10(members)) × --probe-timeout, up to 4 times that while no other member confirms; it is then listed as failed and redialed for --reconnect-for, and dropped if not reached")
	fs.DurationVar(&o.dialTimeout, "dial-timeout", cluster.DefaultDialTimeout, "how long connecting to a cluster peer may take")
	fs.DurationVar(&o.handshakeTimeout, "handshake-timeout", cluster.DefaultHandshakeTimeout, "how long the handshake of a cluster connection may take")
	fs.DurationVar(&o.writeTimeout, "write-timeout", cluster.DefaultWriteTimeout, "how long writing one frame to a cluster peer may take; a peer that does not read is dropped")
	fs.DurationVar(&o.reconnectFor, "reconnect-for", cluster.DefaultReconnectFor, "how long a failed member is listed and redialed before it is dropped (negative: dropped at once, never redialed)")
	fs.IntVar(&o.maxFrameSize, "max-frame-size", cluster.DefaultMaxFrameSize, "the largest cluster frame accepted or sent, in bytes")
	fs.IntVar(&o.maxMembers, "max-members", cluster.DefaultMaxMembers, "the most members the cluster may have, this node included")
	fs.IntVar(&o.maxPendingConns, "max-pending-conns", cluster.DefaultMaxPendingConns, "the most inbound cluster connections still in their handshake at once")
	o.remoteSpawn = true
	fs.Var(&o.remoteSpawn, "remote-spawn", "on: other members of the cluster may run programs here (!spawn_on); off: they are refused")
	fs.IntVar(&o.maxRemoteJobs, "max-remote-jobs", jobs.DefaultMaxRemoteJobs, "the most programs other members may run here at once")
	defineRemoteFlags(fs, &o.remote)
	defineLimitFlags(fs, &o.limits)
	return fs
}

// flagAliases maps a flag's name to its other names: a one-letter one
// first, if any, then older long names kept working. Usage lists a flag
// once, under its name, with its aliases.
var flagAliases = map[string][]string{
	"cluster-host":         {"H", "server-bind-host"},
	"cluster-port":         {"P", "server-bind-port"},
	"ssh-host":             {"bind-host"},
	"ssh-port":             {"p", "bind-port"},
	"enable-remote-access": {"r"},
}

// flagNames is a flag's name followed by its aliases, each of which
// newFlagSet defines over the same variable.
func flagNames(name string) []string {
	return append([]string{name}, flagAliases[name]...)
}

// isAlias reports whether name is another name of a flag, which usage
// lists with that flag.
func isAlias(name string) bool {
	for _, aliases := range flagAliases {
		if slices.Contains(aliases, name) {
			return true
		}
	}
	return false
}

// dashed is a flag name as typed: -x for one letter, --name for more.
func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// usageName is how usage names flag f: its one-letter alias, if any, its
// name, and the type of its value.
func usageName(f *flag.Flag, typ string) string {
	name := dashed(f.Name)
	if aliases := flagAliases[f.Name]; len(aliases) > 0 && len(aliases[0]) == 1 {
		name = "-" + aliases[0] + ", " + name
	}
	if typ != "" {
		name += " " + strings.ToUpper(typ)
	}
	return name
}

// usageAliases says which older long names flag f also answers to.
func usageAliases(f *flag.Flag) string {
	var long []string
	for _, a := range flagAliases[f.Name] {
		if len(a) > 1 {
			long = append(long, dashed(a))
		}
	}
	if len(long) == 0 {
		return ""
	}
	return "; also " + strings.Join(long, ", ")
}

func usage(fs *flag.FlagSet) {
	w := fs.Output()
	fmt.Fprint(w, `Iridium: a register-based VM, its assembler and an interactive shell.

Usage:
  iridium [flags] FILE          run FILE (assembly .iasm, or bytecode)
  iridium asm FILE [-o OUT]     assemble FILE into bytecode (default: FILE.irb)
  iridium disasm FILE           print an assembly listing of FILE
  iridium cookie [FILE]         write a new random cluster cookie to FILE (mode 600)
  iridium [flags]               start the REPL (scripted unless on a terminal)
  iridium -e LINE [-e LINE...]  run the lines as a REPL script and exit
  iridium -i FILE               run FILE, then stay in the REPL with its program
  iridium --daemon [flags]      run a node with no terminal; with -r, reach it by SSH
  iridium status [HOST:PORT]    show the running nodes of the data directory:
                                members and their states, jobs, uptime

Exit status: 0 on success, 1 on an assembly error, a fault or a failed REPL
line, 2 on a usage error, 130 when interrupted.

Flags:
`)
	fs.VisitAll(func(f *flag.Flag) {
		if isAlias(f.Name) {
			return
		}
		typ, help := flag.UnquoteUsage(f)
		def := ""
		if f.DefValue != "" && f.DefValue != "false" {
			def = fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(w, "  %s\n%s\n", usageName(f, typ), termtext.Indent(help+def+usageAliases(f), 80, "      "))
	})
	fmt.Fprint(w, "\nThe manual is docs/manual.md; the REPL's commands are in docs/repl.md and !help.\n")
	fmt.Fprintf(w, "A node opens two ports at most: the cluster port (-P, --cluster-port; default\n"+
		"%d), which other nodes join, and, with -r, the SSH port (-p, --ssh-port;\n"+
		"default %d), which people log in to. The cluster: docs/cluster.md; remote\n"+
		"access and daemon mode: docs/remote.md.\n", cluster.DefaultBindPort, remote.DefaultBindPort)
}

// parseOptions parses flags and returns the file arguments. Flags may come
// before or after the file.
func parseOptions(args []string, stderr io.Writer) (*options, []string, error) {
	o := &options{}
	fs := newFlagSet(o)
	// The flag package would print an error and the whole usage; the
	// caller prints one line instead, and the usage only when asked.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	files, err := filecmd.ParseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(stderr)
		usage(fs)
	}
	if err != nil {
		return nil, nil, err
	}
	if (len(o.evalLines) > 0 || o.interactFile != "") && len(files) > 0 {
		return nil, nil, fmt.Errorf("-e and -i run in the REPL: give no FILE with them (got %q)", files[0])
	}
	if o.bindPort < 0 || o.bindPort > 65535 {
		return nil, nil, fmt.Errorf("--cluster-port %d: a port is 0 to 65535", o.bindPort)
	}
	if o.probeInterval < time.Millisecond || o.probeTimeout < time.Millisecond || o.suspicionMult < 1 {
		return nil, nil, fmt.Errorf("--probe-interval (%v) and --probe-timeout (%v) must be at least 1ms, --suspicion-mult (%d) at least 1", o.probeInterval, o.probeTimeout, o.suspicionMult)
	}
	if o.dialTimeout <= 0 || o.handshakeTimeout <= 0 || o.writeTimeout <= 0 || o.maxFrameSize <= 0 || o.maxMembers < 2 || o.maxPendingConns <= 0 {
		return nil, nil, fmt.Errorf("cluster limits must be positive (and --max-members at least 2)")
	}
	if o.nodeAlias != "" {
		if err := cluster.ValidateAlias(o.nodeAlias); err != nil {
			return nil, nil, fmt.Errorf("--node-alias: %v (an alias is 1 to %d bytes of printable characters without spaces)", err, cluster.MaxAliasLength)
		}
	}
	if o.cookie != "" && o.cookieFile != "" {
		return nil, nil, fmt.Errorf("--cookie and --cookie-file: give one, not both")
	}
	if o.maxJobs <= 0 {
		return nil, nil, fmt.Errorf("--max-jobs must be positive")
	}
	if o.maxRemoteJobs <= 0 {
		return nil, nil, fmt.Errorf("--max-remote-jobs must be positive")
	}
	if o.stackLimit <= 0 || o.heapLimit <= 0 {
		return nil, nil, fmt.Errorf("--stack-limit and --heap-limit must be positive")
	}
	if o.threads <= 0 || o.threads > maxThreads {
		return nil, nil, fmt.Errorf("--threads must be 1 to %d", maxThreads)
	}
	if o.mailboxLimit <= 0 {
		return nil, nil, fmt.Errorf("--mailbox-limit must be positive")
	}
	if err := o.remote.check(o.dataDir); err != nil {
		return nil, nil, err
	}
	if err := o.checkLimits(); err != nil {
		return nil, nil, err
	}
	if o.heapTotal <= 0 {
		return nil, nil, fmt.Errorf("--max-heap-total must be positive")
	}
	return o, files, nil
}
