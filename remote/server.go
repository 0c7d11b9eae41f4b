package remote

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"sort"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/iridium-vm/iridium/internal/pending"
	"github.com/iridium-vm/iridium/internal/termtext"
)

// extKey is the Permissions extension that carries the authorised key
// (its wire form, base64) from the authentication callbacks to the
// connection: x/crypto/ssh may ask PublicKeyCallback about keys that are
// then not used, so only the key that signed is recorded, by
// VerifiedPublicKeyCallback, and checked again after the handshake.
const extKey = "iridium-authorized-key"

// sshStallGrace is how long a connection that sent its version line is
// kept in the handshake table before, if it has not logged in, it may be
// closed to make room: key exchange and authentication take a few round
// trips and signatures.
const sshStallGrace = 2 * time.Second

// SessionInfo describes an open session, for !sessions and the log.
type SessionInfo struct {
	ID          uint64
	Key         string    // the key's comment in authorized_keys, or its fingerprint
	Fingerprint string    // SHA256:... of the key that authenticated
	From        string    // the client's address
	Since       time.Time // when the session opened
	Kind        string    // "terminal", "script", "exec" or "run" (RunCommand)
}

// Server is the SSH server of one node. Start it, then Close it.
type Server struct {
	cfg       Config
	sshConfig *ssh.ServerConfig
	hostKey   ssh.Signer
	keys      *authorizedKeys
	refusals  *refusalLog
	// handshakes is the table of connections in their handshake (see
	// internal/pending): one that has sent its version line is never
	// closed to make room; a silent one may be, once its grace is over.
	handshakes *pending.Table

	ctx    context.Context // cancelled by Close: ends every session
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu        sync.Mutex
	ln        net.Listener
	conns     map[net.Conn]struct{}
	authConns int
	sessions  map[uint64]SessionInfo
	nextID    uint64
	closed    bool
}

// New checks cfg, loads or makes the host key and reads the authorized
// keys: no authorized key is an error (ErrNoAuthorizedKey) that says how
// to add one.
func New(cfg Config) (*Server, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	// Everything is checked before anything is made: a start refused
	// for want of an authorized key leaves no new host key behind.
	keys, err := loadAuthorizedKeys(cfg.AuthorizedKeysPath)
	if err != nil {
		return nil, err
	}
	hostKey, created, err := LoadOrCreateHostKey(cfg.HostKeyPath)
	if err != nil {
		return nil, fmt.Errorf("remote access: %w", err)
	}
	if created {
		cfg.Logger.Info("made a new SSH host key", "path", cfg.HostKeyPath, "fingerprint", ssh.FingerprintSHA256(hostKey.PublicKey()))
	}
	s := &Server{
		cfg:        cfg,
		hostKey:    hostKey,
		keys:       keys,
		refusals:   newRefusalLog(cfg.Logger, cfg.LogEvery, cfg.LogsPerInterval),
		conns:      make(map[net.Conn]struct{}),
		handshakes: pending.New(cfg.MaxHandshakes, cfg.MaxHandshakesPerSource).WithStallGrace(sshStallGrace),
		sessions:   make(map[uint64]SessionInfo),
	}
	s.logKeyWarnings()
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.sshConfig = &ssh.ServerConfig{
		PublicKeyCallback:         s.checkKey,
		VerifiedPublicKeyCallback: s.keyVerified,
		MaxAuthTries:              6,
		ServerVersion:             "SSH-2.0-Iridium",
	}
	s.sshConfig.AddHostKey(hostKey)
	return s, nil
}

// Check checks cfg as New does and makes nothing: the configuration, the
// authorized keys (at least one), and the host key file if there is one.
// A program that starts more than the server calls it before it makes
// anything, so that a start refused for a reason New would give leaves
// nothing behind, and no port was opened.
func Check(cfg Config) error {
	if err := cfg.check(); err != nil {
		return err
	}
	if _, err := loadAuthorizedKeys(cfg.AuthorizedKeysPath); err != nil {
		return err
	}
	if _, err := loadHostKey(cfg.HostKeyPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remote access: %w", err)
	}
	return nil
}

// HostKeyFingerprint is the host key's SHA256 fingerprint, as ssh shows it.
func (s *Server) HostKeyFingerprint() string { return ssh.FingerprintSHA256(s.hostKey.PublicKey()) }

// Start listens on Config.Addr and serves connections until Close. It
// returns the address it listens on.
func (s *Server) Start() (string, error) {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return "", fmt.Errorf("remote access: %w", err)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return "", errors.New("remote access: the server is closed")
	}
	s.ln = ln
	s.mu.Unlock()
	s.wg.Add(1)
	go s.acceptLoop(ln)
	s.cfg.Logger.Info("remote access listening", "addr", ln.Addr().String(), "host_key", s.HostKeyFingerprint(), "authorized_keys", s.cfg.AuthorizedKeysPath)
	return ln.Addr().String(), nil
}

// Sessions returns the open sessions, oldest first.
func (s *Server) Sessions() []SessionInfo {
	s.mu.Lock()
	out := make([]SessionInfo, 0, len(s.sessions))
	for _, si := range s.sessions {
		out = append(out, si)
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Close stops listening, ends every session (their programs stop) and
// waits for them.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	if s.ln != nil {
		s.ln.Close()
	}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	s.refusals.close()
	return nil
}

func (s *Server) acceptLoop(ln net.Listener) {
	defer s.wg.Done()
	backoff := 5 * time.Millisecond
	for {
		conn, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || s.ctx.Err() != nil {
				return
			}
			// Out of file descriptors, or the like: wait and retry.
			select {
			case <-time.After(backoff):
			case <-s.ctx.Done():
				return
			}
			backoff = min(2*backoff, time.Second)
			continue
		}
		backoff = 5 * time.Millisecond
		if !s.track(conn) {
			conn.Close()
			return
		}
		p, err := s.handshakes.Admit(s.ctx, conn)
		if err != nil { // the server is closing
			s.untrack(conn)
			conn.Close()
			return
		}
		s.wg.Add(1)
		go s.serveConn(conn, p)
	}
}

// track adds conn to the connections Close closes; false when the server
// is closed.
func (s *Server) track(conn net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[conn] = struct{}{}
	return true
}

func (s *Server) untrack(conn net.Conn) {
	s.mu.Lock()
	delete(s.conns, conn)
	s.mu.Unlock()
}

// serveConn runs the handshake of one connection, p in the handshake
// table, then its sessions.
func (s *Server) serveConn(raw net.Conn, p *pending.Conn) {
	defer s.wg.Done()
	defer s.untrack(raw)
	defer raw.Close()
	from := raw.RemoteAddr().String()
	conn := newIdleConn(raw, s.cfg.IdleTimeout)
	vc := newVersionConn(conn, s.cfg.VersionTimeout, s.cfg.AuthTimeout, p.Progress)
	if err := s.keys.refresh(); err != nil {
		s.cfg.Logger.Warn("authorized keys could not be read again; the keys read before stay", "err", err)
	}
	s.logKeyWarnings()
	sconn, chans, reqs, err := ssh.NewServerConn(vc, s.sshConfig)
	if evicted := s.handshakes.Done(p); evicted != nil {
		if err == nil {
			sconn.Close()
		}
		s.refusals.refuse(from, evicted.Error())
		return
	}
	if err != nil {
		s.refusals.refuse(from, s.handshakeFailure(err, vc.versionSeen()))
		return
	}
	defer sconn.Close()
	key, ok := s.authorizedKey(sconn)
	if !ok {
		s.refusals.refuse(from, "the key that authenticated is not authorized")
		return
	}
	if !s.addAuthConn() {
		s.refusals.refuse(from, fmt.Sprintf("already %d connections (--max-sessions)", s.cfg.MaxSessions))
		return
	}
	defer s.doneAuthConn()
	conn.arm()
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	go func() {
		sconn.Wait()
		cancel() // a dropped connection stops its sessions' programs
	}()
	go ssh.DiscardRequests(reqs)
	var sessions sync.WaitGroup
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.UnknownChannelType, "only session channels are served")
			continue
		}
		info, ok := s.openSession(key, from)
		if !ok {
			nc.Reject(ssh.ResourceShortage, fmt.Sprintf("already %d sessions open on this node", s.cfg.MaxSessions))
			continue
		}
		sessions.Add(1)
		go func() {
			defer sessions.Done()
			defer s.closeSession(info)
			s.serveSession(ctx, nc, info)
		}()
	}
	cancel()
	sessions.Wait()
}

// handshakeFailure words why a handshake failed, for the refusal log;
// versionSeen says whether the client's version line had arrived.
func (s *Server) handshakeFailure(err error, versionSeen bool) string {
	var authErr *ssh.ServerAuthError
	if errors.As(err, &authErr) {
		return "authentication failed: no authorized key was offered"
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		if !versionSeen {
			return fmt.Sprintf("no SSH version line within %v", s.cfg.VersionTimeout)
		}
		return "the handshake timed out"
	}
	return "the handshake failed: " + termtext.Clip(err.Error(), 120)
}

// checkKey is the PublicKeyCallback: it accepts a key found in
// authorized_keys, and records it in the permissions it returns.
func (s *Server) checkKey(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
	if _, ok := s.keys.lookup(key); !ok {
		return nil, fmt.Errorf("key %s is not authorized", ssh.FingerprintSHA256(key))
	}
	return &ssh.Permissions{}, nil
}

// keyVerified is the VerifiedPublicKeyCallback: the client proved it holds
// key, which is the one this connection is authorised as.
func (s *Server) keyVerified(_ ssh.ConnMetadata, key ssh.PublicKey, perms *ssh.Permissions, _ string) (*ssh.Permissions, error) {
	if _, ok := s.keys.lookup(key); !ok {
		return nil, fmt.Errorf("key %s is not authorized", ssh.FingerprintSHA256(key))
	}
	if perms == nil {
		perms = &ssh.Permissions{}
	}
	perms.Extensions = map[string]string{extKey: base64.StdEncoding.EncodeToString(key.Marshal())}
	return perms, nil
}

// authorizedKey returns the key that authenticated sconn, looked up again.
func (s *Server) authorizedKey(sconn *ssh.ServerConn) (authorizedKey, bool) {
	if sconn.Permissions == nil {
		return authorizedKey{}, false
	}
	wire, err := base64.StdEncoding.DecodeString(sconn.Permissions.Extensions[extKey])
	if err != nil || len(wire) == 0 {
		return authorizedKey{}, false
	}
	key, err := ssh.ParsePublicKey(wire)
	if err != nil {
		return authorizedKey{}, false
	}
	return s.keys.lookup(key)
}

func (s *Server) addAuthConn() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.authConns >= s.cfg.MaxSessions {
		return false
	}
	s.authConns++
	return true
}

func (s *Server) doneAuthConn() {
	s.mu.Lock()
	s.authConns--
	s.mu.Unlock()
}

// openSession records a new session, unless MaxSessions are open.
func (s *Server) openSession(key authorizedKey, from string) (SessionInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.sessions) >= s.cfg.MaxSessions {
		return SessionInfo{}, false
	}
	s.nextID++
	name := key.comment
	if name == "" {
		name = key.fingerprint
	}
	info := SessionInfo{ID: s.nextID, Key: termtext.Clip(name, 80), Fingerprint: key.fingerprint, From: from, Since: time.Now()}
	s.sessions[info.ID] = info
	return info, true
}

// setKind records what the session turned out to be.
func (s *Server) setKind(id uint64, kind string) {
	s.mu.Lock()
	if si, ok := s.sessions[id]; ok {
		si.Kind = kind
		s.sessions[id] = si
	}
	s.mu.Unlock()
}

func (s *Server) closeSession(info SessionInfo) {
	s.mu.Lock()
	delete(s.sessions, info.ID)
	s.mu.Unlock()
}

// logKeyWarnings logs the problems of the authorized_keys file's last
// read.
func (s *Server) logKeyWarnings() {
	for _, w := range s.keys.takeWarnings() {
		s.cfg.Logger.Warn(w)
	}
}
