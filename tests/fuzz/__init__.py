"""Property-based fuzzing (hypothesis) of what reads untrusted input: the model decoders,
the stream frame decoder and the settings parsers."""
