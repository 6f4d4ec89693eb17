module mantis.dev/mantis

go 1.19
