package live

import (
	"context"
	"fmt"
	"log"
	"math/rand/v2"
	"time"

	"github.com/coder/websocket"

	"github.com/syncsim/syncsim/sim"
)

// OriginConfig is an Origin served over real WebSockets.
type OriginConfig struct {
	// Listen is the address to listen on (default 127.0.0.1:9090).
	Listen string
	// MaxConns bounds the connections open at once (default
	// DefaultMaxConns); one more is refused with HTTP 503 before the
	// WebSocket upgrade.
	MaxConns    int
	Impl        sim.Impl
	Collections []string
	Seed        uint64
	// Workload, if set, makes Origin's own writes until WriteFor.
	Workload sim.Workload
	WriteFor sim.Time
	Log      *log.Logger
}

// Origin is an Origin being served.
type Origin struct {
	cfg   OriginConfig
	h     *host
	node  *hosted
	srv   *server
	Stats Stats
}

// NewOrigin builds the Origin node and listens; Serve runs it.
func NewOrigin(ctx context.Context, cfg OriginConfig) (*Origin, error) {
	cfg.Log = quiet(cfg.Log)
	o := &Origin{cfg: cfg}
	o.h = newHost(ctx, cfg.Log, &o.Stats)
	o.h.workload, o.h.writeFor = cfg.Workload, cfg.WriteFor
	env := sim.Env{ID: 0, Name: "origin", Role: sim.RoleOrigin, Collections: cfg.Collections, Seed: sim.NodeSeed(cfg.Seed, "origin")}
	env.Rand = rand.New(rand.NewPCG(env.Seed[0], env.Seed[1]))
	n, err := cfg.Impl.New(env)
	if err != nil {
		return nil, fmt.Errorf("origin (%s): %w", cfg.Impl.Name, err)
	}
	o.node = &hosted{id: 0, name: "origin", node: n}
	o.h.nodes = []*hosted{o.node}
	if o.srv, err = listen("origin", cfg.Listen, "127.0.0.1:9090", cfg.MaxConns, cfg.Log, &o.Stats); err != nil {
		return nil, err
	}
	o.srv.session = o.session
	return o, nil
}

// Addr is the address the Origin listens on.
func (o *Origin) Addr() string { return o.srv.Addr() }

// Serve runs the Origin until NewOrigin's context is done, then closes
// every connection.
func (o *Origin) Serve() error {
	stop := o.srv.start()
	o.h.run(100*time.Millisecond, nil)
	err := stop()
	o.h.shutdown()
	if err != nil {
		return err
	}
	return o.h.failure
}

// session makes an accepted connection one of the Origin's and waits for
// its end.
func (o *Origin) session(ws *websocket.Conn, remote string) {
	got := make(chan context.Context, 1)
	if !o.h.post(func() {
		c := o.h.attach(o.node, 0, ws, false)
		if c == nil {
			got <- o.h.ctx // shutting down: already closed
			return
		}
		o.cfg.Log.Printf("origin: connection %d from %s", c.id, remote)
		got <- c.ctx
	}) {
		ws.Close(websocket.StatusGoingAway, "shutting down")
		return
	}
	select {
	case done := <-got:
		<-done.Done()
	case <-o.h.ctx.Done():
	}
}
