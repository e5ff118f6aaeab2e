"""AttentionRNN: structured spatial attention (Khandelwal & Sigal 2019)."""

from attention_rnn.attention import AttentionRNN, BlockAttentionRNN, product_of_gaussians
from attention_rnn.diagonal_bilstm import DiagonalBiLSTM, DiagonalLSTM, skew, unskew

__all__ = ["AttentionRNN", "BlockAttentionRNN", "DiagonalBiLSTM", "DiagonalLSTM", "product_of_gaussians",
           "skew", "unskew"]
from attention_rnn import baselines  # noqa: E402  (attention_rnn.baselines.SoftAttention, LocalAttention)
from attention_rnn.model import ATTENTIONS, AttributeNetwork, combined_mask, mask_correctness, target_box  # noqa: E402
