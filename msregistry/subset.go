package msregistry

import (
	"errors"
	"slices"
	"strings"
)

// ErrOutsideSubset is wrapped by the error Message and Event return when a
// pattern is registered on a Subset that does not serve it.
var ErrOutsideSubset = errors.New("pattern is outside this subset; register it on the registry or a subset that lists it")

// Subset returns a view of r that serves only the listed patterns, so that
// one gateway serves its own patterns and not another's. A pattern that ends
// in "*" stands for every pattern with that prefix ("chat.*"; "*" alone is
// every pattern); any other is matched exactly. The view shares r's
// handlers, guards, logger and resolver: handlers registered on r later,
// before or after the view was made, are served by it when they match, and
// handlers registered on the view are registered on r. A pattern outside the
// view is answered as unknown (CodeNotFound), never revealing that r has it.
//
// Subset of a view narrows it further. Calling Subset again with the same
// patterns returns the same view; still, make views once, at startup (in a
// gateway's constructor), not per connection.
//
//	chat := reg.Subset("chat.*")       // in NewChatGateway
//	wsgateway.Serve(ctx, conn, chat)   // in OnConnect: no "admin.*" here
func (r *Registry) Subset(patterns ...string) *Registry {
	root, key, match := r, strings.Join(sortedCopy(patterns), "\x00"), matchPatterns(patterns)
	if r.root != nil {
		outer, inner := r.match, match
		root, key, match = r.root, r.key+"\x01"+key, func(p string) bool { return outer(p) && inner(p) }
	}
	root.mu.Lock()
	defer root.mu.Unlock()
	if v, ok := root.views[key]; ok {
		return v
	}
	v := &Registry{log: root.log, resolver: root.resolver, root: root, match: match, key: key}
	v.encoders.New = func() any { return newEncoder() }
	v.table.Store(root.table.Load().filter(match))
	if root.views == nil {
		root.views = make(map[string]*Registry)
	}
	root.views[key] = v
	return v
}

// matchPatterns returns the matcher of a Subset's patterns.
func matchPatterns(patterns []string) func(string) bool {
	exact := make(map[string]bool, len(patterns))
	var prefixes []string
	for _, p := range patterns {
		if prefix, ok := strings.CutSuffix(p, "*"); ok {
			prefixes = append(prefixes, prefix)
		} else {
			exact[p] = true
		}
	}
	return func(p string) bool {
		if exact[p] {
			return true
		}
		for _, prefix := range prefixes {
			if strings.HasPrefix(p, prefix) {
				return true
			}
		}
		return false
	}
}

// filter returns the part of t that match selects.
func (t *table) filter(match func(string) bool) *table {
	f := &table{messages: map[string]*messageEntry{}, events: map[string][]*eventEntry{}}
	for p, e := range t.messages {
		if match(p) {
			f.messages[p] = e
		}
	}
	for p, hs := range t.events {
		if match(p) {
			f.events[p] = hs
		}
	}
	return f
}

func sortedCopy(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}
