package resolve

import (
	"context"
	"testing"
)

type benchConfig struct{ name string }

type benchStore interface{ Name() string }

func (c *benchConfig) Name() string { return c.name }

type benchKey struct{}

// benchResolver registers a few types, as an app would.
func benchResolver() *Resolver {
	r := New()
	Register(r, &benchConfig{name: "a"})
	Register[benchStore](r, &benchConfig{name: "b"})
	Register(r, 42)
	Register(r, "s")
	return r
}

// BenchmarkResolve is Get on a context that carries the resolver directly.
func BenchmarkResolve(b *testing.B) {
	ctx := WithResolver(context.Background(), benchResolver())
	b.ReportAllocs()
	for b.Loop() {
		if v, err := Get[*benchConfig](ctx); err != nil || v.name != "a" {
			b.Fatal(v, err)
		}
	}
}

// BenchmarkResolveInterface resolves an interface type.
func BenchmarkResolveInterface(b *testing.B) {
	ctx := WithResolver(context.Background(), benchResolver())
	b.ReportAllocs()
	for b.Loop() {
		if v, err := Get[benchStore](ctx); err != nil || v.Name() != "b" {
			b.Fatal(v, err)
		}
	}
}

// BenchmarkResolveDeepContext is Get from a handler-like context: the
// resolver sits under a cancel context and a few values, as it does under
// a gateway Context and a registry handler context.
func BenchmarkResolveDeepContext(b *testing.B) {
	ctx := WithResolver(context.Background(), benchResolver())
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for i := range 3 {
		ctx = context.WithValue(ctx, benchKey{}, i)
	}
	b.ReportAllocs()
	for b.Loop() {
		if v, err := Get[*benchConfig](ctx); err != nil || v.name != "a" {
			b.Fatal(v, err)
		}
	}
}

// BenchmarkResolveMissing is the error path: a type never registered.
func BenchmarkResolveMissing(b *testing.B) {
	ctx := WithResolver(context.Background(), benchResolver())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Get[*benchKey](ctx); err == nil {
			b.Fatal("resolved an unregistered type")
		}
	}
}
