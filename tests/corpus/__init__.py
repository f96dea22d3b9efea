"""The bad-input corpus: every case, through the client API and the one-shot commands."""
