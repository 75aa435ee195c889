"""cxtext: Russian customer feedback to decisions."""
__version__ = "0.1.0"
