"""AttentionRNN: structured spatial attention (Khandelwal & Sigal 2019)."""

from attention_rnn.diagonal_bilstm import DiagonalBiLSTM, DiagonalLSTM, skew, unskew

__all__ = ["DiagonalBiLSTM", "DiagonalLSTM", "skew", "unskew"]
