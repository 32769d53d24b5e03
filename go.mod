module github.com/syncsim/syncsim

go 1.26

require (
	codeberg.org/go-fonts/liberation v0.5.0
	github.com/coder/websocket v1.8.15
	github.com/klauspost/crc32 v1.3.0
	github.com/vmihailenco/msgpack/v5 v5.4.1
	golang.org/x/sys v0.34.0
	gonum.org/v1/plot v0.17.0
	pgregory.net/rapid v1.3.0
)

require (
	codeberg.org/go-latex/latex v0.2.0 // indirect
	codeberg.org/go-pdf/fpdf v0.11.1 // indirect
	git.sr.ht/~sbinet/gg v0.7.0 // indirect
	github.com/ajstarks/svgo v0.0.0-20211024235047-1546f124cd8b // indirect
	github.com/golang/freetype v0.0.0-20170609003504-e2365dfdc4a0 // indirect
	github.com/vmihailenco/tagparser/v2 v2.0.0 // indirect
	golang.org/x/image v0.30.0 // indirect
	golang.org/x/text v0.28.0 // indirect
)
