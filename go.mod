module github.com/syncsim/syncsim

go 1.26

require (
	github.com/klauspost/crc32 v1.3.0
	github.com/vmihailenco/msgpack/v5 v5.4.1
	pgregory.net/rapid v1.3.0
)

require (
	github.com/vmihailenco/tagparser/v2 v2.0.0 // indirect
	golang.org/x/sys v0.34.0 // indirect
)
