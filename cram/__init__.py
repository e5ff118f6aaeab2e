"""cram."""
