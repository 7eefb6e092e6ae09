package fxnats

import "strings"

// redactURLs returns urls (one NATS URL or a comma-separated list) with the
// user information of each replaced by "***", so user names, passwords and
// tokens stay out of logs and error messages.
func redactURLs(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		p = strings.TrimSpace(p)
		host := 0
		if j := strings.Index(p, "://"); j >= 0 {
			host = j + len("://")
		}
		if at := strings.LastIndex(p[host:], "@"); at >= 0 {
			p = p[:host] + "***" + p[host+at:]
		}
		parts[i] = p
	}
	return strings.Join(parts, ",")
}
