"""The security guarantees of issue 7, each shown against the sim or a misbehaving peer:
tokens never leak, cluster text never acts on the terminal, cp never interpolates, read-only
holds below the UI, production actions need the name typed, secrets on disk are warned
about, tunnels stay on loopback, every change is in the audit log."""
