module nhitrace.local/goverify

go 1.19

require golang.org/x/mod v0.0.0-00010101000000-000000000000

// Debian's golang-golang-x-mod-dev package; offline builds use it in place of the module proxy
// (GOPROXY=off). Elsewhere: go mod edit -dropreplace golang.org/x/mod && go get golang.org/x/mod
replace golang.org/x/mod => /usr/share/gocode/src/golang.org/x/mod
