// The peer benchmark is a module of its own so that the binding's `go vet ./...` and `go test ./...`
// never see it: the binding stays standard-library only. run.sh builds it in GOPATH mode against the
// Debian packages under /usr/share/gocode (Go 1.19, no module proxy), where this file only marks the
// package as module code, so that `github.com/dgraph-io/badger/v2` resolves to the package's
// github.com/dgraph-io/badger directory (Go's minimal module compatibility).
module mantis.dev/mantis/peerbench

go 1.19
