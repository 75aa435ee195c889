"""Models shipped with cxtext (the default model lives in models/default)."""
