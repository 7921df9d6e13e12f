"""nichelab: see and measure what the hidden units of a neural network learn."""
from .capture import capture
from .errors import NichelabError

__version__ = "0.1.0"
__all__ = ["capture", "NichelabError", "__version__"]
