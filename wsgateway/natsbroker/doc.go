// Package natsbroker lets the wsgateway Hubs of several processes share
// rooms and broadcast over NATS (github.com/nats-io/nats.go). It is a
// wsgateway.Broker: give one to each process's Hub, on that process's
// NATS connection, and a message sent to a room on any node reaches the
// room's members on every node.
//
//	nc, err := nats.Connect(os.Getenv("NATS_URL"), nats.MaxReconnects(-1))
//	if err != nil {
//		return err
//	}
//	defer nc.Drain()
//	hub := wsgateway.NewHub(wsgateway.HubConfig{Broker: natsbroker.New(nc)})
//	if err := hub.Start(ctx); err != nil { // subscribes
//		return err
//	}
//	defer hub.Close() // unsubscribes, before the connection drains
//	srv := wsgateway.NewServer(gateway, wsgateway.Config{Hub: hub})
//
// The package lives apart from wsgateway so that an app without NATS links
// none of it.
//
// # Subject and wire format
//
// Every hub of an app publishes on one subject, DefaultSubject
// ("fxforge.hub") unless WithSubject sets another, and subscribes to it.
// One subject keeps the broker as simple as the Hub's contract: every node
// gets every message and delivers it to its own members of the target, a
// map lookup when it has none. A subject per room would spare nodes the
// messages of rooms they have no member in, at the price of a subscription
// per room and node kept in step with joins and leaves; it pays off only
// with many nodes and rooms that live on few of them.
//
// A hub message is one NATS message whose body is the WebSocket message
// as the Hub sent it, unchanged, and whose headers say the rest:
//
//	Fxforge-Node:   the publishing hub's node id, empty from a process without one
//	Fxforge-Target: all | room/<room> | conn/<connection id>
//	Fxforge-Except: the connection id left out (absent for none)
//	Fxforge-Type:   text | binary
//
// Rooms and ids are path-escaped (url.PathEscape), so a room's name may be
// any string; `nats sub fxforge.hub` shows the traffic, headers and all.
// Messages on the subject without these headers are logged and dropped.
//
// # Guarantees
//
// A Broker delivers each message to every subscribed node once, in the
// order its publishing connection sent it; the publishing node gets its
// own messages back and its Hub skips them, having delivered them to its
// own members already. So a member gets a message once, and a sender's
// messages in the order sent. There is no order between two senders.
//
// NATS core delivers at most once: a node that is not connected when a
// message passes misses it, and nothing is replayed. While a node's own
// connection is down, nats.go keeps what the node publishes in its
// reconnect buffer (nats.ReconnectBufSize, 8 MiB by default) and sends it,
// in order, after the connection's subscriptions, once it reconnects; the
// nodes connected at that moment get it. Once the buffer is full, Publish
// (and so Hub.Send) fails with an error matching
// nats.ErrReconnectBufExceeded; the sending node's own members got the
// message all the same. A message already written to a connection that
// then breaks may be lost without an error. Local delivery never waits
// for NATS: a node keeps serving its own clients while NATS is away.
//
// Connect with the reconnect options that suit you; nats.MaxReconnects(-1)
// keeps a node trying for ever. docs/scaling.md has the whole picture.
//
// # Metrics
//
// WithObserver gives a Broker a wsgateway.BrokerObserver, told about each
// message it publishes (handed to nats.go, the reconnect buffer included),
// delivers (handed to a subscribed hub, once per message and hub) and
// drops (wsgateway.BrokerPublishFailed when Publish fails,
// wsgateway.BrokerDecodeFailed for a message on the subject that no Broker
// published, wsgateway.BrokerSlowConsumer for one nats.go dropped because
// the hub fell behind the subscription's pending limits, which
// WithPendingLimits sets). fxforge/fxmetrics implements it with Prometheus and
// fxnats.HubBroker wires it in; this package links no Prometheus code.
package natsbroker
