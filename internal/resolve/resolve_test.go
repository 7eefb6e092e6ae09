package resolve

import (
	"context"
	"errors"
	"strings"
	"testing"
)

type service struct{ name string }

type greeter interface{ Greet() string }

func (s *service) Greet() string { return "hi " + s.name }

func TestGetReturnsRegisteredValue(t *testing.T) {
	r := New()
	Register(r, &service{name: "a"})
	Register[greeter](r, &service{name: "b"})
	ctx := WithResolver(context.Background(), r)

	s, err := Get[*service](ctx)
	if err != nil || s.name != "a" {
		t.Fatalf("Get[*service] = %v, %v", s, err)
	}
	g, err := Get[greeter](ctx)
	if err != nil || g.Greet() != "hi b" {
		t.Fatalf("Get[greeter] = %v, %v", g, err)
	}
}

func TestGetMissingTypeNamesTypeAndFix(t *testing.T) {
	for _, ctx := range []context.Context{context.Background(), WithResolver(context.Background(), New())} {
		_, err := Get[*service](ctx)
		if !errors.Is(err, ErrNotRegistered) {
			t.Fatalf("err = %v, want ErrNotRegistered", err)
		}
		for _, want := range []string{"*resolve.service", "fxforge.Provide"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not mention %q", err, want)
			}
		}
	}
}
