// lmdbg: see README.md.
