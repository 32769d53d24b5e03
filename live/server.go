package live

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// server accepts WebSocket connections on any path, as NodeDB's listener
// does, within a connection limit checked before the upgrade.
type server struct {
	who      string // "origin", "proxy": the prefix of its log lines
	ln       net.Listener
	srv      *http.Server
	active   atomic.Int64
	maxConns int
	log      *log.Logger
	stats    *Stats
	// session runs one accepted connection and returns when it is over.
	session func(ws *websocket.Conn, remote string)
}

// listen binds addr (defaultAddr when empty); maxConns <= 0 is
// DefaultMaxConns.
func listen(who, addr, defaultAddr string, maxConns int, lg *log.Logger, st *Stats) (*server, error) {
	if addr == "" {
		addr = defaultAddr
	}
	if maxConns <= 0 {
		maxConns = DefaultMaxConns
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("-listen %s: %w", addr, err)
	}
	s := &server{who: who, ln: ln, maxConns: maxConns, log: lg, stats: st}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.accept), ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(discard{}, "", 0)}
	return s, nil
}

// quiet is the logger of a component given none.
func quiet(lg *log.Logger) *log.Logger {
	if lg == nil {
		return log.New(discard{}, "", 0)
	}
	return lg
}

// Addr is the address the server listens on.
func (s *server) Addr() string { return s.ln.Addr().String() }

func (s *server) accept(w http.ResponseWriter, r *http.Request) {
	if n := s.active.Add(1); n > int64(s.maxConns) {
		s.active.Add(-1)
		s.stats.Refused.Add(1)
		s.log.Printf("%s: refused %s: %d connections open, the limit is %d (-max-conns)", s.who, r.RemoteAddr, n-1, s.maxConns)
		http.Error(w, fmt.Sprintf("connection limit (%d) reached", s.maxConns), http.StatusServiceUnavailable)
		return
	}
	defer s.active.Add(-1)
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		s.stats.Malformed.Add(1)
		s.log.Printf("%s: %s: not a WebSocket upgrade: %v", s.who, r.RemoteAddr, err)
		return
	}
	ws.SetReadLimit(MaxFrameBytes)
	s.session(ws, r.RemoteAddr)
}

// start serves in the background; stop ends it and returns Serve's error.
func (s *server) start() (stop func() error) {
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	return func() error {
		shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		s.srv.Shutdown(shut)
		if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
