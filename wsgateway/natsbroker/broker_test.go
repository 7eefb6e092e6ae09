package natsbroker_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/fxforge/fxforge/wsgateway"
	"github.com/fxforge/fxforge/wsgateway/natsbroker"
)

// twoNodes starts one nats-server and two nodes, each with its own NATS
// connection.
func twoNodes(t *testing.T) (a, b *node, ns *server.Server) {
	t.Helper()
	ns = startNATS(t, -1)
	a = startNode(t, connect(t, ns.ClientURL()), wsgateway.Config{})
	b = startNode(t, connect(t, ns.ClientURL()), wsgateway.Config{})
	return a, b, ns
}

func TestRoomMessageReachesEveryMemberOnEveryNodeOnceInOrder(t *testing.T) {
	a, b, _ := twoNodes(t)
	ann := join(t, a, "lobby")
	amy := join(t, a, "lobby")
	bob := join(t, b, "lobby") // the sender
	ben := join(t, b, "lobby")
	kim := join(t, b, "kitchen")

	const n = 200
	for i := range n {
		bob.send(t, fmt.Sprintf("m%03d", i))
	}
	for name, c := range map[string]*client{"ann": ann, "amy": amy, "ben": ben} {
		for i := range n {
			c.expect(t, name, fmt.Sprintf("m%03d", i))
		}
	}

	// A broadcast from each node ends every stream: what a client reads
	// next shows it got nothing more, no echo, no copy, nothing from
	// another room.
	ann.send(t, "all from a")
	kim.send(t, "all from b")
	ann.expect(t, "ann", "from b")
	kim.expect(t, "kim", "from a")
	for name, c := range map[string]*client{"amy": amy, "bob": bob, "ben": ben} {
		c.expectAll(t, name, "from a", "from b")
	}
}

func TestMessageToOneConnectionReachesItOnAnotherNode(t *testing.T) {
	a, b, _ := twoNodes(t)
	ann := join(t, a, "lobby")
	amy := join(t, a, "lobby")
	bob := join(t, b, "lobby")

	bob.send(t, "to "+ann.id+" psst")
	ann.expect(t, "ann", "psst")
	amy.send(t, "to "+bob.id+" hey bob")
	bob.expect(t, "bob", "hey bob")

	bob.send(t, "all end")
	amy.expect(t, "amy", "end") // not the whisper meant for ann
	ann.expect(t, "ann", "end") // the whisper came once
}

func TestHubsOnDifferentSubjectsShareNothing(t *testing.T) {
	ns := startNATS(t, -1)
	shared := connect(t, ns.ClientURL()) // one process serving two apps
	chat := startNode(t, shared, wsgateway.Config{}, natsbroker.WithSubject("chat.hub"))
	game := startNode(t, shared, wsgateway.Config{}, natsbroker.WithSubject("game.hub"))
	other := startNode(t, connect(t, ns.ClientURL()), wsgateway.Config{}, natsbroker.WithSubject("game.hub"))
	ann := join(t, chat, "lobby")
	gus := join(t, game, "lobby")
	gil := join(t, other, "lobby")

	ann.send(t, "chat only")
	gus.send(t, "game only") // published after "chat only" on the same connection
	gil.expect(t, "gil", "game only")
}

func TestAProcessWithoutAHubReachesMembersOnEveryNode(t *testing.T) {
	a, b, ns := twoNodes(t)
	ann := join(t, a, "lobby")
	bob := join(t, b, "lobby")
	worker := natsbroker.New(connect(t, ns.ClientURL()))
	m := wsgateway.BrokerMessage{Target: wsgateway.ToRoom("lobby"), Type: wsgateway.MessageText, Data: []byte("from the worker")}
	if err := worker.Publish(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	ann.expect(t, "ann", "from the worker")
	bob.expect(t, "bob", "from the worker")
}
