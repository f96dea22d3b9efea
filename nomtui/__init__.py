"""nomtui: a terminal cockpit for Nomad + Consul operators."""

__version__ = "0.1.0"
