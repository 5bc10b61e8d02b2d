// Package web holds the embedded templates and static assets of the login,
// account and demo pages and of the messages twofold sends, and the message
// catalogues (locales/<tag>.toml) their words come from. It holds no logic.
package web

import "embed"

// FS holds templates/ (html/template and text/template sources), static/
// and locales/.
//
//go:embed templates static locales
var FS embed.FS
