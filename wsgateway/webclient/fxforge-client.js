// fxforge-client.js: a dependency-free browser client for fxforge gateways.
//
//   const client = new FxforgeClient("/ws");
//   client.on("chat.message", (payload) => show(payload));
//   client.onOpen(() => client.request("chat.join", { room: "lobby", name: "ann" }));
//   await client.request("chat.send", { room: "lobby", text: "hi" });
//
// Requests are matched to replies by id, so several can be in flight.
// Server pushes ({"kind":"event",...}) go to the listeners of their pattern.
// The client reconnects with exponential backoff and calls the onOpen
// callbacks again, so re-joining rooms lives in one place. It asks the
// server for batched frames (subprotocol fxforge.batch.v1): a text message
// may hold several frames, one per line.
(function (global) {
  "use strict";

  const BATCH = "fxforge.batch.v1";

  class RequestError extends Error {
    constructor(pattern, error) {
      super((error && error.message) || "request failed");
      this.name = "RequestError";
      this.pattern = pattern;
      this.code = error && error.code;
    }
  }

  class FxforgeClient {
    // url: a ws:// or wss:// URL, or a path on this page's host ("/ws").
    // options.timeout: ms before a request fails (default 10000).
    // options.minDelay / options.maxDelay: reconnect backoff bounds in ms
    // (default 250 / 10000). options.batch: ask for batches (default true).
    constructor(url, options) {
      const o = options || {};
      this.url = FxforgeClient.resolve(url);
      this.timeout = o.timeout || 10000;
      this.minDelay = o.minDelay || 250;
      this.maxDelay = o.maxDelay || 10000;
      this.protocols = o.batch === false ? [] : [BATCH];
      this.listeners = new Map();
      this.openCallbacks = [];
      this.stateCallbacks = [];
      this.pending = new Map();
      this.nextId = 1;
      this.delay = this.minDelay;
      this.closed = false;
      this.ws = null;
      this.connect();
    }

    static resolve(url) {
      if (/^wss?:\/\//.test(url)) return url;
      const scheme = global.location.protocol === "https:" ? "wss://" : "ws://";
      return scheme + global.location.host + url;
    }

    connect() {
      const ws = new WebSocket(this.url, this.protocols);
      this.ws = ws;
      this.setState("connecting");
      ws.onopen = () => {
        this.delay = this.minDelay;
        this.setState("open");
        for (const cb of this.openCallbacks) cb(this);
      };
      ws.onmessage = (ev) => {
        if (typeof ev.data !== "string") return;
        for (const line of ev.data.split("\n")) {
          if (line) this.dispatch(line);
        }
      };
      ws.onclose = () => {
        this.failPending("connection closed");
        if (this.closed) {
          this.setState("closed");
          return;
        }
        this.setState("reconnecting");
        const wait = this.delay * (0.5 + Math.random() / 2);
        this.delay = Math.min(this.delay * 2, this.maxDelay);
        setTimeout(() => this.connect(), wait);
      };
    }

    dispatch(line) {
      let frame;
      try {
        frame = JSON.parse(line);
      } catch (e) {
        return; // not a frame: ignore, as a greeting line is
      }
      if (frame.kind === "event") {
        for (const fn of this.listeners.get(frame.pattern) || []) fn(frame.payload, frame);
        return;
      }
      const p = this.pending.get(frame.id);
      if (!p) return;
      this.pending.delete(frame.id);
      clearTimeout(p.timer);
      if (frame.kind === "response") p.resolve(frame.payload);
      else p.reject(new RequestError(frame.pattern, frame.error));
    }

    failPending(message) {
      for (const [id, p] of this.pending) {
        clearTimeout(p.timer);
        p.reject(new RequestError(p.pattern, { code: "disconnected", message }));
        this.pending.delete(id);
      }
    }

    setState(state) {
      this.state = state;
      for (const cb of this.stateCallbacks) cb(state);
    }

    // request sends a message and resolves with the reply's payload, or
    // rejects with a RequestError carrying the error frame's code.
    request(pattern, payload, metadata) {
      return new Promise((resolve, reject) => {
        if (!this.ws || this.ws.readyState !== WebSocket.OPEN) {
          reject(new RequestError(pattern, { code: "disconnected", message: "not connected" }));
          return;
        }
        const id = String(this.nextId++);
        const timer = setTimeout(() => {
          this.pending.delete(id);
          reject(new RequestError(pattern, { code: "timeout", message: "no reply in " + this.timeout + " ms" }));
        }, this.timeout);
        this.pending.set(id, { resolve, reject, timer, pattern });
        this.send({ kind: "message", pattern, payload: payload === undefined ? null : payload, metadata: metadata || {}, id });
      });
    }

    // emit sends an event: no reply comes back.
    emit(pattern, payload, metadata) {
      if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
      this.send({ kind: "event", pattern, payload: payload === undefined ? null : payload, metadata: metadata || {} });
      return true;
    }

    send(frame) {
      this.ws.send(JSON.stringify(frame));
    }

    // on calls fn(payload, frame) for every server event with pattern; it
    // returns a function that removes the listener.
    on(pattern, fn) {
      if (!this.listeners.has(pattern)) this.listeners.set(pattern, []);
      this.listeners.get(pattern).push(fn);
      return () => {
        const list = this.listeners.get(pattern) || [];
        const i = list.indexOf(fn);
        if (i >= 0) list.splice(i, 1);
      };
    }

    // onOpen calls fn on every (re)connect; re-join rooms there.
    onOpen(fn) {
      this.openCallbacks.push(fn);
      if (this.state === "open") fn(this);
    }

    // onState calls fn with "connecting", "open", "reconnecting" or "closed".
    onState(fn) {
      this.stateCallbacks.push(fn);
    }

    close() {
      this.closed = true;
      if (this.ws) this.ws.close(1000);
    }
  }

  FxforgeClient.RequestError = RequestError;
  global.FxforgeClient = FxforgeClient;
})(typeof window !== "undefined" ? window : globalThis);
