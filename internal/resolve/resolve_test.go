package resolve

import (
	"context"
	"errors"
	"reflect"
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

func TestGetMissingTypeNamesTypeAndBothFixes(t *testing.T) {
	for _, ctx := range []context.Context{context.Background(), WithResolver(context.Background(), New())} {
		_, err := Get[*service](ctx)
		if !errors.Is(err, ErrNotRegistered) {
			t.Fatalf("err = %v, want ErrNotRegistered", err)
		}
		var nre *NotRegisteredError
		if !errors.As(err, &nre) || nre.Type != reflect.TypeFor[*service]() {
			t.Fatalf("err = %#v, want a *NotRegisteredError for *resolve.service", err)
		}
		for _, want := range []string{"*resolve.service", "fxforge.Provide(", "fxforge.Resolvable(new(*resolve.service))"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not mention %q", err, want)
			}
		}
	}
}

func TestNilInterfaceResolvesToZero(t *testing.T) {
	r := New()
	Register[greeter](r, nil)
	g, err := Get[greeter](WithResolver(context.Background(), r))
	if err != nil || g != nil {
		t.Fatalf("Get[greeter] = %v, %v; want nil, nil", g, err)
	}
}

func TestAddRefusesAValueOfAnotherType(t *testing.T) {
	r := New()
	if err := Add(r, reflect.TypeFor[*service](), "oops"); err == nil {
		t.Fatal("Add stored a string as *service")
	}
	if err := Add(r, reflect.TypeFor[greeter](), &service{name: "c"}); err != nil {
		t.Fatalf("Add of an implementation under its interface: %v", err)
	}
	if _, err := Get[*service](WithResolver(context.Background(), r)); !errors.Is(err, ErrNotRegistered) {
		t.Fatalf("refused value is resolvable: %v", err)
	}
}
