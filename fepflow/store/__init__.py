"""Where fepflow keeps things: the MongoDB index and the content-addressed object store."""
