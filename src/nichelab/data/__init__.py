"""Built-in datasets and loaders."""
from .base import Dataset
from .blobs import LAB_CENTERS, load_blobs
from .digits import load_digits
from .faces import load_faces

__all__ = ["Dataset", "LAB_CENTERS", "load_blobs", "load_digits", "load_faces"]
