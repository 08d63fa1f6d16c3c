"""The ``bokvar`` subcommands, one module each; every module offers ``register(subparsers)``."""
