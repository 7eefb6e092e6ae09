// Package webclient serves fxforge-client.js, a dependency-free browser
// client for fxforge gateways: requests matched to replies by id, event
// listeners by pattern, reconnect with backoff and re-join, and batched
// frames (wsgateway.SubprotocolBatch).
//
//	mux.Handle("GET /fxforge-client.js", webclient.Handler())
//
// In the page:
//
//	<script src="/fxforge-client.js"></script>
//	<script>
//	  const client = new FxforgeClient("/ws");
//	  client.on("chat.message", (m) => console.log(m.name, m.text));
//	  client.onOpen(() => client.request("chat.join", {room: "lobby", name: "ann"}));
//	</script>
//
// Copy the file into your own assets if you prefer; it has no dependencies.
package webclient

import (
	"bytes"
	_ "embed"
	"net/http"
	"time"
)

// Script is the source of fxforge-client.js.
//
//go:embed fxforge-client.js
var Script []byte

// Handler serves Script as JavaScript; range requests work, and the
// response carries no Last-Modified (the file is part of the binary).
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		http.ServeContent(w, r, "fxforge-client.js", time.Time{}, bytes.NewReader(Script))
	})
}
