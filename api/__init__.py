"""The fepflow hub: a FastAPI app that takes submissions and serves status, estimates and DRS links."""
