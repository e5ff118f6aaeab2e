"""attention_rnn."""
