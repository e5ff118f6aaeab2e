"""CRAM: the Clued Recurrent Attention Model (Chung & Cho 2018)."""

from cram.spatial_transformer import SpatialTransformer, affine_grid, bilinear_sample

__all__ = ["SpatialTransformer", "affine_grid", "bilinear_sample"]
