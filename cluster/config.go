package cluster

import (
	"crypto/tls"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/iridium-vm/iridium/internal/termtext"
)

// Defaults used by DefaultConfig and by New for zero-valued fields.
const (
	DefaultBindHost               = "127.0.0.1"
	DefaultBindPort               = 2254
	DefaultMaxFrameSize           = 1 << 20 // 1 MiB
	DefaultDialTimeout            = 3 * time.Second
	DefaultHandshakeTimeout       = 3 * time.Second
	DefaultWriteTimeout           = 3 * time.Second
	DefaultProbeInterval          = time.Second
	DefaultProbeTimeout           = 500 * time.Millisecond
	DefaultIndirectChecks         = 3
	DefaultSuspicionMult          = 1
	DefaultSuspicionMaxMult       = 4
	DefaultReconnectFor           = time.Minute
	DefaultMaxMembers             = 256
	DefaultMaxPendingConns        = 64
	DefaultMaxPendingPerSource    = 8
	DefaultFirstFrameTimeout      = time.Second
	DefaultRefusalSummaryInterval = 10 * time.Second
	// PreAuthMaxFrameSize is the largest frame accepted from a peer that
	// has not proven it knows the cookie (openers, Challenge,
	// ChallengeReply).
	PreAuthMaxFrameSize = 4096
	// MaxAliasLength is the longest alias a node may have, in bytes.
	MaxAliasLength = 64
)

// Config configures a Node. New fills every zero-valued field that has a
// default with that default, except BindPort, which is used as given (0 means
// "pick a free port"). DefaultConfig returns a Config with all defaults set.
type Config struct {
	// Alias names the node in the cluster. Required; unique in the cluster;
	// at most MaxAliasLength bytes of printable characters without spaces.
	Alias string

	// NodeID identifies this node across restarts (see LoadOrCreateNodeID).
	// A node that comes back with the same Alias and NodeID replaces its
	// old entry everywhere; another node claiming the same Alias is refused.
	// Default: a fresh random ID, so a restart counts as a different node.
	NodeID string

	// BindHost is the address the cluster listener binds. Default
	// "127.0.0.1"; use "0.0.0.0" or "::" to listen on every interface.
	// When it is a specific IP address, outgoing connections leave from
	// it too (see TCPTransport.SourceHost), so peers see one address.
	BindHost string

	// BindPort is the port the cluster listener binds. DefaultConfig sets
	// 2254; 0 picks a free port.
	BindPort int

	// AdvertiseHost is the host other nodes should dial to reach this one.
	// Optional. Without it the node publishes BindHost, or, when BindHost
	// is a wildcard, the local address of each connection, which is an
	// address the peer has just reached it on.
	AdvertiseHost string

	// Cookie is the cluster secret. Required: nodes with different cookies
	// refuse each other. It is never sent; see docs/cluster.md and
	// LoadOrCreateCookie.
	Cookie []byte

	// CookieKey is DeriveCookieKey(Cookie), when the caller derived it
	// already (it costs tens of milliseconds). Default: New derives it.
	CookieKey []byte

	// MaxFrameSize is the largest frame (type byte + body) accepted or sent.
	// A bigger frame closes its connection. Default 1 MiB.
	MaxFrameSize int

	// DialTimeout bounds connecting to a peer. Default 3s.
	DialTimeout time.Duration

	// HandshakeTimeout bounds the whole handshake on a new connection, in
	// both directions. Default 3s.
	HandshakeTimeout time.Duration

	// WriteTimeout bounds writing one frame to a link; a peer that does not
	// read is dropped after it. Default 3s.
	WriteTimeout time.Duration

	// ProbeInterval is the length of a probe slot: in each, this node
	// checks its partner of the slot, members paired in a shuffled round
	// robin that every node computes alike, at a randomly staggered
	// moment (SWIM; docs/cluster.md). It is also the first wait before a failed
	// member is redialed. Default 1s.
	ProbeInterval time.Duration

	// ProbeTimeout is how long a probe waits for the member's Ack before
	// IndirectChecks other members are asked to probe it too. A member
	// that answers neither within 3 × ProbeTimeout of the probe is
	// suspected. Default 500ms: a member paused for a second is not
	// suspected.
	ProbeTimeout time.Duration

	// IndirectChecks is how many other members are asked to probe a
	// member that missed a direct probe (SWIM's k). Default 3.
	IndirectChecks int

	// SuspicionMult scales the suspicion timeout: a suspected member that
	// does not refute fails after at least SuspicionMult × max(1,
	// log10(members)) × ProbeTimeout, and at most SuspicionMaxMult times
	// that; the more members confirm the suspicion, the nearer the least
	// (Lifeguard). Defaults 1 and 4.
	SuspicionMult    int
	SuspicionMaxMult int

	// ReconnectFor is how long a node keeps redialing a member whose link
	// failed (not one that left), with exponential backoff. Negative
	// disables reconnection. Default 1m.
	ReconnectFor time.Duration

	// MaxMembers caps the cluster size seen by this node, itself included.
	// Default 256.
	MaxMembers int

	// MaxPendingConns caps inbound connections still in their handshake.
	// When it is reached, the oldest pending connection is closed to make
	// room: idle connections cannot lock members out. Default 64.
	MaxPendingConns int

	// MaxPendingPerSource caps the pending inbound connections from one
	// source address; beyond it, that source's oldest pending connection
	// is closed. Default 8.
	MaxPendingPerSource int

	// FirstFrameTimeout bounds the wait for the first frame (Hello or
	// Join) of an inbound connection, TLS handshake included. Default 1s.
	FirstFrameTimeout time.Duration

	// RefusalSummaryInterval is how often refused inbound connections are
	// summarised in one EventRefused. The first refusal after a quiet
	// interval is reported at once. Default 10s.
	RefusalSummaryInterval time.Duration

	// TLS, when set, wraps every cluster connection in TLS using this
	// configuration for both accepting and dialing (see TLSConfig). Ignored
	// when Transport is set. Default nil: plain TCP, authenticated by the
	// cookie but not encrypted.
	TLS *tls.Config

	// Transport carries cluster connections. Default nil: TCP (or TLS when
	// the TLS field is set).
	Transport Transport

	// OnEvent, when set, receives membership events. It is called in order
	// from one goroutine of the node, never while the node holds a lock,
	// and must not block for long. It may call Members, but not Close or
	// Leave (they wait for queued events to be delivered).
	OnEvent func(Event)
}

// DefaultConfig returns a Config with every default filled in and no Alias
// or Cookie.
func DefaultConfig() Config {
	return Config{
		BindHost:               DefaultBindHost,
		BindPort:               DefaultBindPort,
		MaxFrameSize:           DefaultMaxFrameSize,
		DialTimeout:            DefaultDialTimeout,
		HandshakeTimeout:       DefaultHandshakeTimeout,
		WriteTimeout:           DefaultWriteTimeout,
		ProbeInterval:          DefaultProbeInterval,
		ProbeTimeout:           DefaultProbeTimeout,
		IndirectChecks:         DefaultIndirectChecks,
		SuspicionMult:          DefaultSuspicionMult,
		SuspicionMaxMult:       DefaultSuspicionMaxMult,
		ReconnectFor:           DefaultReconnectFor,
		MaxMembers:             DefaultMaxMembers,
		MaxPendingConns:        DefaultMaxPendingConns,
		MaxPendingPerSource:    DefaultMaxPendingPerSource,
		FirstFrameTimeout:      DefaultFirstFrameTimeout,
		RefusalSummaryInterval: DefaultRefusalSummaryInterval,
	}
}

// withDefaults returns c with zero fields replaced by their defaults.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	setDefault(&c.BindHost, d.BindHost)
	setDefault(&c.MaxFrameSize, d.MaxFrameSize)
	setDefault(&c.DialTimeout, d.DialTimeout)
	setDefault(&c.HandshakeTimeout, d.HandshakeTimeout)
	setDefault(&c.WriteTimeout, d.WriteTimeout)
	setDefault(&c.ProbeInterval, d.ProbeInterval)
	setDefault(&c.ProbeTimeout, d.ProbeTimeout)
	setDefault(&c.IndirectChecks, d.IndirectChecks)
	setDefault(&c.SuspicionMult, d.SuspicionMult)
	setDefault(&c.SuspicionMaxMult, d.SuspicionMaxMult)
	setDefault(&c.ReconnectFor, d.ReconnectFor)
	setDefault(&c.MaxMembers, d.MaxMembers)
	setDefault(&c.MaxPendingConns, d.MaxPendingConns)
	setDefault(&c.MaxPendingPerSource, d.MaxPendingPerSource)
	setDefault(&c.FirstFrameTimeout, d.FirstFrameTimeout)
	setDefault(&c.RefusalSummaryInterval, d.RefusalSummaryInterval)
	return c
}

func setDefault[T comparable](field *T, def T) {
	var zero T
	if *field == zero {
		*field = def
	}
}

// validate reports the first problem with an already defaulted config.
func (c Config) validate() error {
	if err := ValidateAlias(c.Alias); err != nil {
		return fmt.Errorf("%w: %v", ErrBadConfig, err)
	}
	if len(c.Cookie) == 0 {
		return fmt.Errorf("%w: %w (give one, or use LoadOrCreateCookie)", ErrBadConfig, ErrNoCookie)
	}
	switch {
	case c.BindPort < 0 || c.BindPort > 65535:
		return fmt.Errorf("%w: bind port %d is outside 0-65535", ErrBadConfig, c.BindPort)
	case c.MaxFrameSize < 512:
		return fmt.Errorf("%w: MaxFrameSize %d is below 512 bytes", ErrBadConfig, c.MaxFrameSize)
	case c.ProbeInterval < time.Millisecond || c.ProbeTimeout < time.Millisecond:
		return fmt.Errorf("%w: ProbeInterval %v and ProbeTimeout %v must be at least 1ms",
			ErrBadConfig, c.ProbeInterval, c.ProbeTimeout)
	case c.IndirectChecks < 0 || c.SuspicionMult < 1 || c.SuspicionMaxMult < 1:
		return fmt.Errorf("%w: IndirectChecks must not be negative, SuspicionMult and SuspicionMaxMult must be at least 1", ErrBadConfig)
	case c.MaxMembers < 2:
		return fmt.Errorf("%w: MaxMembers %d is below 2", ErrBadConfig, c.MaxMembers)
	case c.DialTimeout < 0 || c.HandshakeTimeout < 0 || c.WriteTimeout < 0 || c.MaxPendingConns < 0 ||
		c.MaxPendingPerSource < 0 || c.FirstFrameTimeout < 0 || c.RefusalSummaryInterval < 0:
		return fmt.Errorf("%w: timeouts and limits must not be negative", ErrBadConfig)
	}
	return nil
}

// ValidateAlias reports why alias cannot name a node, or nil: an alias is
// 1 to MaxAliasLength bytes of valid UTF-8, printable characters only (no
// white space, no control or format characters). The same rule holds for
// aliases from the config and from the wire.
func ValidateAlias(alias string) error {
	return validateName("alias", alias, MaxAliasLength)
}

// validateName checks a name that came from outside (what says what it
// names, such as "alias"): 1 to limit bytes of valid UTF-8 without white
// space or unprintable characters. Its error quotes the name raw, cut to
// limit bytes: whoever shows it escapes it (see Event).
func validateName(what, name string, limit int) error {
	switch {
	case name == "":
		return fmt.Errorf("%s is empty", what)
	case len(name) > limit:
		return fmt.Errorf("%s \"%s\" is %d bytes long, the limit is %d", what, termtext.Cut(name, limit), len(name), limit)
	case !utf8.ValidString(name):
		return fmt.Errorf("%s \"%s\" is not valid UTF-8", what, name)
	case strings.IndexFunc(name, func(r rune) bool { return !unicode.IsPrint(r) || unicode.IsSpace(r) }) >= 0:
		return fmt.Errorf("%s \"%s\" has spaces or unprintable characters", what, name)
	}
	return nil
}
