"""The core: encoders, the contrastive loss, distances, miners, thresholds and metrics.

It knows nothing of the command line. Modules that need torch import it themselves,
so thresholds and metrics stay usable (and fast to import) without it.
"""
