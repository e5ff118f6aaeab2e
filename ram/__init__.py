"""RAM: the Recurrent Attention Model (Mnih et al. 2014)."""

from ram.glimpse import GlimpseSensor
from ram.model import RecurrentAttentionModel
from ram.networks import ActionNetwork, BaselineNetwork, CoreNetwork, GlimpseNetwork, LocationNetwork
from ram.training import load_pretrained as pretrained  # ram.pretrained("translate") -> (model, config)

__all__ = ["ActionNetwork", "BaselineNetwork", "CoreNetwork", "GlimpseNetwork", "GlimpseSensor",
           "LocationNetwork", "RecurrentAttentionModel", "pretrained"]
