"""Built-in search spaces (TOML files), found with ``importlib.resources``."""
