//go:build e2e

package reports

// The browser check behind `make e2e` (.ci/e2e.sh): each HTML report named
// in SYNCSIM_E2E_PAGES is opened in headless Chromium, driven over the
// DevTools protocol on a pipe (--remote-debugging-pipe: no port, nothing
// else to install). The page fails if it throws, logs an error to the
// console, fetches anything but itself (every figure, style and font must
// be inline), shows a broken image, lacks a heading it must have, or draws
// a figure with no size. A full-page screenshot of each is saved in
// SYNCSIM_E2E_OUT. Before trusting a pass, the check proves it can fail: it
// plants a script error, a missing image and a corrupt inline image in
// copies of the first page and requires each to be caught.
//
// It is built only with -tags e2e, so go test ./... never needs a browser
// and never skips a test.

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestBrowser(t *testing.T) {
	pages := strings.Fields(os.Getenv("SYNCSIM_E2E_PAGES"))
	if len(pages) == 0 {
		t.Fatal("SYNCSIM_E2E_PAGES is not set: run the browser check with make e2e")
	}
	out := os.Getenv("SYNCSIM_E2E_OUT")
	if out == "" {
		out = t.TempDir()
	}
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}

	// The check must fail on planted faults.
	first, err := os.ReadFile(pages[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, plant := range []struct{ name, html, want string }{
		{"script error", `<script>plantedUndefinedFunction();</script>`, "plantedUndefinedFunction"},
		{"missing image", `<img src="planted-missing.png" alt="x">`, "planted-missing.png"},
		{"corrupt inline image", `<img src="data:image/png;base64,AAAA" alt="x">`, "broken image"},
	} {
		dir := t.TempDir()
		path := filepath.Join(dir, "planted.html")
		body := strings.Replace(string(first), "</body>", plant.html+"</body>", 1)
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		problems, err := checkPage(chromium, path, "", "")
		if err != nil {
			t.Fatalf("planted %s: %v", plant.name, err)
		}
		if !strings.Contains(strings.Join(problems, "\n"), plant.want) {
			t.Fatalf("the browser check missed a planted %s: problems %q", plant.name, problems)
		}
		t.Logf("planted %s: caught (%s)", plant.name, problems[0])
	}

	// The content checks must fail too: a failing run's page whose
	// diagram lost its arrows, whose events are raw JSON again, and a run
	// page without its snapshot marks.
	for _, plant := range []struct{ page, name, from, to, want string }{
		{"throttle-bug", "diagram without arrows", `class="arrow`, `class="gone`, "arrows in the sequence diagram"},
		{"throttle-bug", "raw JSON events", `<span class="t">`, `<span class="t">{"t":1,"ev":"input"} `, "raw trace JSON"},
		{"throttle", "no snapshot marks", `ShapeSnapshot received`, `something else`, "ShapeSnapshot received"},
	} {
		var src string
		for _, p := range pages {
			if filepath.Base(filepath.Dir(p)) == plant.page {
				src = p
			}
		}
		if src == "" {
			t.Fatalf("no page %s/ among SYNCSIM_E2E_PAGES to plant %s in", plant.page, plant.name)
		}
		body, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(body), plant.from) {
			t.Fatalf("planting %s: %s holds no %q", plant.name, src, plant.from)
		}
		path := filepath.Join(t.TempDir(), "planted.html")
		if err := os.WriteFile(path, []byte(strings.ReplaceAll(string(body), plant.from, plant.to)), 0o644); err != nil {
			t.Fatal(err)
		}
		problems, err := checkPage(chromium, path, "", plant.page)
		if err != nil {
			t.Fatalf("planted %s: %v", plant.name, err)
		}
		if !strings.Contains(strings.Join(problems, "\n"), plant.want) {
			t.Fatalf("the content check missed a planted %s: problems %q", plant.name, problems)
		}
		t.Logf("planted %s: caught (%s)", plant.name, problems[0])
	}

	for _, page := range pages {
		// reports-e2e/run/index.html is shot as run.png
		kind := filepath.Base(filepath.Dir(page))
		shot := filepath.Join(out, kind+".png")
		problems, err := checkPage(chromium, page, shot, kind)
		if err != nil {
			t.Fatalf("%s: %v", page, err)
		}
		for _, p := range problems {
			t.Errorf("%s: %s", page, p)
		}
		if len(problems) == 0 {
			t.Logf("%s: renders cleanly; screenshot %s", page, shot)
		}
	}
}

// checkPage opens path in Chromium and returns what is wrong with it; it
// saves a full-page screenshot to shot unless shot is "". kind names the
// page (its directory in reports-e2e/) and so what it must show, read as
// a person would: the marks in the plots' legends, the events as
// sentences, the sequence diagram's arrows and decoded frames.
func checkPage(chromium, path, shot, kind string) ([]string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	pageURL := (&url.URL{Scheme: "file", Path: abs}).String()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	b, err := startBrowser(ctx, chromium)
	if err != nil {
		return nil, err
	}
	defer b.close()

	var target struct{ TargetID string }
	if err := b.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &target); err != nil {
		return nil, err
	}
	var attached struct{ SessionID string }
	if err := b.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &attached); err != nil {
		return nil, err
	}
	s := attached.SessionID
	for _, m := range []string{"Runtime.enable", "Log.enable", "Page.enable", "Network.enable"} {
		if err := b.call(ctx, s, m, nil, nil); err != nil {
			return nil, err
		}
	}
	if err := b.call(ctx, s, "Emulation.setDeviceMetricsOverride", map[string]any{"width": 1280, "height": 2400, "deviceScaleFactor": 1, "mobile": false}, nil); err != nil {
		return nil, err
	}
	loaded := b.wait("Page.loadEventFired")
	if err := b.call(ctx, s, "Page.navigate", map[string]any{"url": pageURL}, nil); err != nil {
		return nil, err
	}
	select {
	case <-loaded:
	case <-ctx.Done():
		return nil, fmt.Errorf("the page did not finish loading: %w", ctx.Err())
	}
	// What the page must show, measured in the page once fonts are in.
	const probe = `document.fonts.ready.then(() => JSON.stringify({
		headings: Array.from(document.querySelectorAll('h1, h2')).map(h => h.textContent.trim()),
		broken: Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src.slice(0, 60)),
		figures: Array.from(document.querySelectorAll('figure svg')).map(s => Math.round(s.getBoundingClientRect().width)),
		fonts: Array.from(document.fonts).map(f => f.family + ' ' + f.status),
		overflow: document.documentElement.scrollWidth > window.innerWidth,
		figText: Object.fromEntries(Array.from(document.querySelectorAll('figure[id^="fig-"]')).map(f => [f.id.slice(4), f.querySelector('svg') ? f.querySelector('svg').textContent : ''])),
		events: Array.from(document.querySelectorAll('ol.events li')).map(li => li.textContent.trim()),
		arrows: Array.from(document.querySelectorAll('svg.sequence line.arrow')).filter(l => l.getBoundingClientRect().width + l.getBoundingClientRect().height > 4).length,
		frames: Array.from(document.querySelectorAll('svg.sequence text.frame')).map(t => t.textContent),
		summary: Object.fromEntries(Array.from(document.querySelectorAll('#summary + table tr')).map(r => [r.cells[0].textContent, r.cells[1].textContent])),
		why: (document.querySelector('td.why') || {textContent: ''}).textContent,
		groups: Array.from(document.querySelectorAll('table.groups tr.group')).map(r => r.textContent.trim()),
		windows: document.querySelectorAll('table.windows tr').length - 1,
	}))`
	var ev struct {
		Result struct{ Value string }
	}
	if err := b.call(ctx, s, "Runtime.evaluate", map[string]any{"expression": probe, "awaitPromise": true, "returnByValue": true}, &ev); err != nil {
		return nil, err
	}
	var got struct {
		Headings, Broken, Fonts []string
		Figures                 []int
		Overflow                bool
		FigText                 map[string]string
		Events, Frames, Groups  []string
		Arrows, Windows         int
		Summary                 map[string]string
		Why                     string
	}
	if err := json.Unmarshal([]byte(ev.Result.Value), &got); err != nil {
		return nil, fmt.Errorf("page probe: %w (%q)", err, ev.Result.Value)
	}
	time.Sleep(200 * time.Millisecond) // let late console messages arrive
	problems := b.problems(pageURL)
	for _, src := range got.Broken {
		problems = append(problems, "broken image "+src)
	}
	has := func(prefix string) bool {
		for _, h := range got.Headings {
			if strings.HasPrefix(h, prefix) {
				return true
			}
		}
		return false
	}
	for _, h := range []string{"syncsim ", "Summary", "Plots"} {
		if !has(h) {
			problems = append(problems, fmt.Sprintf("no heading %q (headings %q)", h, got.Headings))
		}
	}
	if len(got.Figures) == 0 {
		problems = append(problems, "no figures")
	}
	for i, w := range got.Figures {
		if w < 400 {
			problems = append(problems, fmt.Sprintf("figure %d is %d px wide", i+1, w))
		}
	}
	if strings.Join(got.Fonts, ",") != "Liberation Sans loaded" {
		problems = append(problems, fmt.Sprintf("fonts %q: want the embedded Liberation Sans, loaded", got.Fonts))
	}
	if got.Overflow {
		problems = append(problems, "the page is wider than a 1280 px window")
	}
	problems = append(problems, contentProblems(kind, got.FigText, got.Events, got.Frames, got.Groups, got.Arrows, got.Windows, got.Summary, got.Why)...)
	if shot != "" {
		if err := b.screenshot(ctx, s, shot); err != nil {
			return problems, err
		}
	}
	return problems, nil
}

// contentProblems checks what a page of kind shows against what an
// engineer reading it needs (the pages .ci/e2e.sh writes).
func contentProblems(kind string, figs map[string]string, events, frames, groups []string, arrows, windows int, summary map[string]string, why string) []string {
	var out []string
	need := func(ok bool, format string, args ...any) {
		if !ok {
			out = append(out, fmt.Sprintf(format, args...))
		}
	}
	sentence := regexp.MustCompile(`^[0-9]+\.[0-9]{4} s +\S`)
	checkEvents := func() {
		need(len(events) > 0, "no events told")
		for _, e := range events {
			if strings.Contains(e, `{"t":`) || strings.Contains(e, `"ev":`) {
				out = append(out, "raw trace JSON among the events: "+e)
				break
			}
			if !sentence.MatchString(e) {
				out = append(out, "an event that is not a timed sentence: "+e)
				break
			}
		}
	}
	switch kind {
	case "throttle": // slow-consumer seed 1, passing
		need(strings.Contains(figs["lag"], "ShapeSnapshot received (4)"), "the lag plot's legend lacks ShapeSnapshot received (4)")
		need(strings.Contains(figs["push-rate"], "Throttle{on} received: engage or renewal (7)"), "the push-rate plot lacks the 7 Throttle{on} marks")
		need(strings.Contains(figs["push-rate"], "Throttle{off} received: release (1)"), "the push-rate plot lacks the release mark")
		need(strings.Contains(figs["push-rate"], "rate asked for in Throttle frames"), "the push-rate plot lacks the rate asked for")
		need(windows == 6, "%d fault windows listed, want the 6 slow-consumer windows", windows)
		need(strings.Contains(summary["repair"], "n/a"), "the repair ratio over 0 bytes lost is not n/a: %q", summary["repair"])
	case "throttle-bug": // slow-consumer seed 1 -bug ignore-throttle, failing
		checkEvents()
		need(arrows >= 20, "%d arrows in the sequence diagram, want at least 20", arrows)
		throttle := false
		for _, f := range frames {
			throttle = throttle || f == "Throttle{on, queue 768, rate 40}"
		}
		need(throttle, "the sequence diagram does not show Throttle{on, queue 768, rate 40} (frames %q)", frames)
		arrived := false
		for _, e := range events {
			arrived = arrived || strings.Contains(e, "lite1 → origin Throttle{on, queue 768, rate 40} arrives (conn 1)")
		}
		need(arrived, "the events do not tell the Throttle's arrival")
		need(strings.Contains(why, "sent 10 ShapeDeltas on connection 1"), "the failure is not explained from the wire: %q", why)
		need(strings.Contains(figs["push-rate"], "rate asked for in Throttle frames"), "the push-rate plot lacks the rate the frames asked for")
		need(!strings.Contains(figs["push-rate"], "heal at"), "the push-rate legend names heal although the run stopped before it")
		need(summary["planted bugs"] == "ignore-throttle (-bug)", "planted bugs %q", summary["planted bugs"])
	case "live-proxy": // simrun proxy between reference Lites and an Origin with -bug ignore-throttle
		checkEvents()
		need(arrows >= 10, "%d arrows in the sequence diagram of the live failure, want at least 10", arrows)
		throttle := false
		for _, f := range frames {
			throttle = throttle || strings.HasPrefix(f, "Throttle{on")
		}
		need(throttle, "the live sequence diagram does not show the Throttle{on} the Origin ignored (frames %q)", frames)
		need(strings.HasPrefix(summary["live verdict"], "FAIL"), "live verdict %q, want FAIL", summary["live verdict"])
		need(strings.Contains(summary["nodes"], "not visible to the proxy"), "the nodes row %q claims what a proxy cannot see", summary["nodes"])
		need(strings.Contains(figs["push-rate"], "wall-clock time"), "the push-rate plot's time axis is not wall-clock")
	case "run": // a failing fragile seed, from simrun plot
		checkEvents()
		need(arrows >= 1, "%d arrows in the sequence diagram", arrows)
	case "sweep", "bug-sweep":
		need(len(groups) >= 1, "no failure groups")
		need(figs["fault-kinds"] == "" || strings.Contains(figs["fault-kinds"], "baseline"), "the fault-kind plot has no baseline")
		need(figs["violation-times"] != "", "no time-to-violation plot")
		if kind == "bug-sweep" {
			need(summary["planted bugs"] == "ignore-throttle (-bug)", "planted bugs %q", summary["planted bugs"])
			need(len(groups) == 1 && strings.HasPrefix(groups[0], "50"), "groups %q: want one of 50 runs", groups)
		} else {
			need(summary["planted bugs"] == "none", "planted bugs %q, want none", summary["planted bugs"])
		}
	}
	return out
}

// browser is Chromium driven over --remote-debugging-pipe: commands go in
// on its fd 3, replies and events come out of its fd 4, each a JSON object
// ended by a NUL byte.
type browser struct {
	cmd     *exec.Cmd
	in      io.WriteCloser
	dir     string
	stderr  strings.Builder
	mu      sync.Mutex
	next    int
	replies map[int]chan message
	waiters map[string][]chan struct{}
	events  []message
	done    chan struct{}
}

type message struct {
	ID        int             `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

func startBrowser(ctx context.Context, chromium string) (*browser, error) {
	dir, err := os.MkdirTemp("", "syncsim-e2e-profile-")
	if err != nil {
		return nil, err
	}
	cmdR, cmdW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	b := &browser{in: cmdW, dir: dir, replies: map[int]chan message{}, waiters: map[string][]chan struct{}{}, done: make(chan struct{})}
	b.cmd = exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
		"--user-data-dir="+dir, "--remote-debugging-pipe", "about:blank")
	b.cmd.ExtraFiles = []*os.File{cmdR, outW} // fds 3 and 4
	b.cmd.Stderr = &b.stderr
	if err := b.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("starting %s: %w (install it with apt-get install chromium, or set CHROMIUM)", chromium, err)
	}
	cmdR.Close()
	outW.Close()
	go b.read(outR)
	return b, nil
}

func (b *browser) read(r io.Reader) {
	defer close(b.done)
	br := bufio.NewReader(r)
	for {
		raw, err := br.ReadBytes(0)
		if err != nil {
			return
		}
		var m message
		if json.Unmarshal(raw[:len(raw)-1], &m) != nil {
			continue
		}
		b.mu.Lock()
		if m.ID != 0 {
			if ch := b.replies[m.ID]; ch != nil {
				ch <- m
				delete(b.replies, m.ID)
			}
		} else {
			b.events = append(b.events, m)
			for _, ch := range b.waiters[m.Method] {
				close(ch)
			}
			delete(b.waiters, m.Method)
		}
		b.mu.Unlock()
	}
}

// wait returns a channel closed at the next event named method.
func (b *browser) wait(method string) <-chan struct{} {
	ch := make(chan struct{})
	b.mu.Lock()
	b.waiters[method] = append(b.waiters[method], ch)
	b.mu.Unlock()
	return ch
}

func (b *browser) call(ctx context.Context, session, method string, params any, result any) error {
	b.mu.Lock()
	b.next++
	id := b.next
	ch := make(chan message, 1)
	b.replies[id] = ch
	b.mu.Unlock()
	msg := map[string]any{"id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if session != "" {
		msg["sessionId"] = session
	}
	raw, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	if _, err := b.in.Write(append(raw, 0)); err != nil {
		return fmt.Errorf("%s: %w (browser stderr: %s)", method, err, lastLines(b.stderr.String()))
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			return fmt.Errorf("%s: %s", method, m.Error.Message)
		}
		if result != nil {
			return json.Unmarshal(m.Result, result)
		}
		return nil
	case <-b.done:
		return fmt.Errorf("%s: the browser exited (stderr: %s)", method, lastLines(b.stderr.String()))
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

// problems are the errors the page reported: uncaught exceptions, console
// errors, error log entries (failed loads) and requests for anything but
// the page itself.
func (b *browser) problems(pageURL string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, e := range b.events {
		switch e.Method {
		case "Runtime.exceptionThrown":
			var p struct {
				ExceptionDetails struct {
					Text      string
					Exception struct{ Description string }
				}
			}
			json.Unmarshal(e.Params, &p)
			out = append(out, "uncaught exception: "+p.ExceptionDetails.Text+" "+p.ExceptionDetails.Exception.Description)
		case "Runtime.consoleAPICalled":
			var p struct {
				Type string
				Args []struct {
					Value       any
					Description string
				}
			}
			json.Unmarshal(e.Params, &p)
			if p.Type == "error" || p.Type == "assert" || p.Type == "warning" {
				var parts []string
				for _, a := range p.Args {
					parts = append(parts, fmt.Sprint(a.Value, a.Description))
				}
				out = append(out, "console."+p.Type+": "+strings.Join(parts, " "))
			}
		case "Log.entryAdded":
			var p struct {
				Entry struct{ Level, Text, URL string }
			}
			json.Unmarshal(e.Params, &p)
			if p.Entry.Level == "error" || p.Entry.Level == "warning" {
				out = append(out, fmt.Sprintf("console %s: %s %s", p.Entry.Level, p.Entry.Text, p.Entry.URL))
			}
		case "Network.requestWillBeSent":
			var p struct {
				Request struct{ URL string }
			}
			json.Unmarshal(e.Params, &p)
			if u := p.Request.URL; u != pageURL && !strings.HasPrefix(u, "data:") && u != "about:blank" {
				out = append(out, "the page fetched "+u)
			}
		}
	}
	return out
}

func (b *browser) screenshot(ctx context.Context, session, path string) error {
	var lm struct {
		CSSContentSize struct{ Width, Height float64 }
	}
	if err := b.call(ctx, session, "Page.getLayoutMetrics", nil, &lm); err != nil {
		return err
	}
	var shot struct{ Data string }
	clip := map[string]any{"x": 0, "y": 0, "width": 1280, "height": lm.CSSContentSize.Height, "scale": 1}
	if err := b.call(ctx, session, "Page.captureScreenshot", map[string]any{"format": "png", "clip": clip, "captureBeyondViewport": true}, &shot); err != nil {
		return err
	}
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, png, 0o644)
}

func (b *browser) close() {
	b.in.Close() // Chromium exits when its command pipe closes
	wait := make(chan error, 1)
	go func() { wait <- b.cmd.Wait() }()
	select {
	case <-wait:
	case <-time.After(10 * time.Second):
		b.cmd.Process.Kill()
		<-wait
	}
	os.RemoveAll(b.dir)
}

func lastLines(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-3):], " | ")
}
