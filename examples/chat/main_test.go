package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coder/websocket"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/goleak"
	"go.uber.org/zap"

	"github.com/fxforge/fxforge/fxforge"
	"github.com/fxforge/fxforge/fxforge/fxnats"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// startChat starts the chat app on a free loopback port and returns its
// base URL and its NATS server's URL.
func startChat(t *testing.T, nats ...fxnats.Option) (base, natsURL string) {
	t.Helper()
	var srv *fxforge.Server
	var info *fxnats.Info
	app := fxtest.New(t, App("127.0.0.1:0", nats...), fx.Decorate(func() *zap.Logger { return zap.NewNop() }), fx.NopLogger, fx.Populate(&srv, &info))
	app.RequireStart()
	t.Cleanup(app.RequireStop)
	return "http://" + srv.Addr().String(), info.URL()
}

func TestTwoInstancesOnOneNATSShareRooms(t *testing.T) {
	a, natsURL := startChat(t) // embedded NATS server
	b, _ := startChat(t, fxnats.URL(natsURL))
	ann, bob, cid := connect(t, a), connect(t, b), connect(t, b)
	for i, c := range []*client{ann, bob, cid} {
		room := "lobby"
		if i == 2 {
			room = "kitchen"
		}
		c.send(`{"kind":"message","pattern":"chat.join","payload":{"room":"` + room + `","name":"n` + fmt.Sprint(i) + `"},"metadata":{},"id":"j"}`)
		if f := c.read(); f.ID != "j" || f.Kind != "response" {
			t.Fatalf("join reply %+v", f)
		}
	}
	// ann's messages cross to bob's instance, once each and in order; the
	// kitchen hears nothing and ann gets no echo.
	const n = 50
	for i := range n {
		ann.send(fmt.Sprintf(`{"kind":"message","pattern":"chat.send","payload":{"room":"lobby","text":"%d"},"metadata":{},"id":"%d"}`, i, i))
	}
	for i := range n {
		if f := ann.read(); f.Kind != "response" || f.ID != fmt.Sprint(i) {
			t.Fatalf("ann got %+v, want reply %d", f, i)
		}
		f := bob.read()
		var m Message
		if err := json.Unmarshal(f.Payload, &m); err != nil || f.Pattern != "chat.message" || m.Text != fmt.Sprint(i) || m.Name != "n0" {
			t.Fatalf("bob got %+v, want message %d", f, i)
		}
	}
	// Nothing more for bob, nothing for the kitchen: a marker sent after the
	// run is the next thing each sees.
	cid.send(`{"kind":"message","pattern":"chat.send","payload":{"room":"kitchen","text":"marker"},"metadata":{},"id":"m"}`)
	if f := cid.read(); f.ID != "m" {
		t.Fatalf("kitchen got %+v before its own reply", f)
	}
	bob.send(`{"kind":"message","pattern":"chat.send","payload":{"room":"lobby","text":"back"},"metadata":{},"id":"b"}`)
	if f := bob.read(); f.ID != "b" {
		t.Fatalf("bob got %+v, want only his reply", f)
	}
	if f := ann.read(); f.Pattern != "chat.message" {
		t.Fatalf("ann got %+v, want bob's message", f)
	}
}

type frame struct {
	Kind     string          `json:"kind"`
	Pattern  string          `json:"pattern"`
	ID       string          `json:"id"`
	Payload  json.RawMessage `json:"payload"`
	Metadata json.RawMessage `json:"metadata"`
	Error    *struct{ Code, Message string }
}

type client struct {
	t *testing.T
	c *websocket.Conn
}

func connect(t *testing.T, base string) *client {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, strings.Replace(base, "http", "ws", 1)+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return &client{t, c}
}

func (c *client) send(s string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.c.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
		c.t.Fatal(err)
	}
}

func (c *client) read() frame {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, data, err := c.c.Read(ctx)
	if err != nil {
		c.t.Fatal(err)
	}
	var f frame
	if err := json.Unmarshal(data, &f); err != nil {
		c.t.Fatalf("%s: %v", data, err)
	}
	return f
}

func TestChatFramesAsDocumented(t *testing.T) {
	base, _ := startChat(t)
	ann, bob := connect(t, base), connect(t, base)
	ann.send(`{"kind":"message","pattern":"chat.join","payload":{"room":"lobby","name":"ann"},"metadata":{},"id":"1"}`)
	if f := ann.read(); f.Kind != "response" || f.ID != "1" || f.Pattern != "chat.join" {
		t.Fatalf("join reply %+v", f)
	}
	bob.send(`{"kind":"message","pattern":"chat.join","payload":{"room":"lobby","name":"bob"},"metadata":{},"id":"1"}`)
	if f := bob.read(); f.Kind != "response" || f.ID != "1" {
		t.Fatalf("join reply %+v", f)
	}
	ann.send(`{"kind":"message","pattern":"chat.send","payload":{"room":"lobby","text":"hi"},"metadata":{},"id":"2"}`)
	if f := ann.read(); f.Kind != "response" || f.ID != "2" || f.Pattern != "chat.send" {
		t.Fatalf("send reply %+v (the sender must get its reply, not its own message)", f)
	}
	f := bob.read()
	var m Message
	if err := json.Unmarshal(f.Payload, &m); err != nil || f.Kind != "event" || f.Pattern != "chat.message" || string(f.Metadata) != "{}" ||
		m.Room != "lobby" || m.Name != "ann" || m.Text != "hi" {
		t.Fatalf("bob got %+v (%+v)", f, m)
	}
	// Sending to a room one has not joined, and invalid payloads, are
	// refused with error frames; the connection stays.
	bob.send(`{"kind":"message","pattern":"chat.send","payload":{"room":"kitchen","text":"hi"},"metadata":{},"id":"3"}`)
	if f := bob.read(); f.Kind != "error" || f.Error.Code != "not_joined" || f.ID != "3" {
		t.Fatalf("send to a room not joined: %+v", f)
	}
	bob.send(`{"kind":"message","pattern":"chat.join","payload":{"room":"","name":"bob"},"metadata":{},"id":"4"}`)
	if f := bob.read(); f.Kind != "error" || f.Error.Code != "invalid_payload" || !strings.Contains(f.Error.Message, "room") {
		t.Fatalf("join without a room: %+v", f)
	}
	bob.send(`{"kind":"message","pattern":"chat.leave","payload":{"room":"lobby"},"metadata":{},"id":"5"}`)
	if f := bob.read(); f.Kind != "response" || f.ID != "5" {
		t.Fatalf("leave reply %+v", f)
	}
	ann.send(`{"kind":"message","pattern":"chat.send","payload":{"room":"lobby","text":"anyone?"},"metadata":{},"id":"6"}`)
	ann.read()
	bob.send(`{"kind":"message","pattern":"chat.join","payload":{"room":"lobby","name":"bob"},"metadata":{},"id":"7"}`)
	if f := bob.read(); f.ID != "7" { // not "anyone?": bob had left
		t.Fatalf("bob got %+v after leaving", f)
	}
	ann.c.Close(websocket.StatusNormalClosure, "")
	bob.c.Close(websocket.StatusNormalClosure, "")
}

// chromium finds the browser, installing it is .ci/run's job. Outside CI a
// machine without one skips the browser test.
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no Chromium on this CI machine: .ci/run installs the Debian package chromium")
	}
	t.Skip("no Chromium installed (apt-get install chromium); skipping the browser test")
	return ""
}

func TestTwoBrowserPagesChatThroughTheGateway(t *testing.T) {
	exe := chromium(t)
	base, _ := startChat(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ann, cancelAnn := chromedp.NewContext(actx)
	defer cancelAnn()
	ann, cancelTimeout := context.WithTimeout(ann, 60*time.Second)
	defer cancelTimeout()
	if err := chromedp.Do(ann); err != nil { // starts the browser
		t.Fatalf("start chromium: %v", err)
	}
	bob, cancelBob := chromedp.NewContext(ann) // a second tab
	defer cancelBob()

	join := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Steps(
			chromedp.Navigate(base+"/"),
			chromedp.WaitVisible(chromedp.ID("name")),
			chromedp.SendKeys(chromedp.ID("name"), name),
			chromedp.Click(chromedp.CSS("#join button")),
			chromedp.WaitVisible(chromedp.CSS(`body[data-joined="lobby"]`)),
		)
	}
	if err := chromedp.Do(ann, join("ann")); err != nil {
		t.Fatalf("ann joins: %v", err)
	}
	if err := chromedp.Do(bob, join("bob")); err != nil {
		t.Fatalf("bob joins: %v", err)
	}
	if err := chromedp.Do(ann,
		chromedp.SendKeys(chromedp.ID("text"), "hello from ann"),
		chromedp.Click(chromedp.ID("send-button")),
	); err != nil {
		t.Fatalf("ann sends: %v", err)
	}
	if err := chromedp.Do(bob, chromedp.WaitVisible(chromedp.CSS("#messages li.message"))); err != nil {
		t.Fatalf("bob's page: %v", err)
	}
	got, err := chromedp.Run(bob, chromedp.Text(chromedp.CSS("#messages li.message")))
	if err != nil {
		t.Fatalf("bob's page: %v", err)
	}
	if got != "ann: hello from ann" {
		t.Fatalf("bob's page shows %q", got)
	}
	annMessages, err := chromedp.Run(ann, chromedp.Evaluate[int](`document.querySelectorAll("#messages li.message").length`))
	if err != nil {
		t.Fatal(err)
	}
	if annMessages != 0 {
		t.Fatalf("the sender got its own message back %d times", annMessages)
	}
}
