module github.com/seed-fc4a2f4b/goipc

go 1.26.8

require github.com/klauspost/compress v1.20.3
